#include "merit/crypto/suri.h"

#include <algorithm>
#include <string>

#include "merit/crypto/hash.h"

namespace merit::crypto {

namespace {

bool phraseChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ' ';
}

// Rust's u64 parsing, as Substrate uses it: an optional '+' then decimal digits, no overflow.
std::optional<std::uint64_t> parseU64(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

DeriveJunction fromEncoded(ByteView encoded, bool hard) {
  DeriveJunction j;
  j.hard = hard;
  if (encoded.size() > j.chainCode.size()) {
    j.chainCode = blake2b256(encoded);
  } else {
    std::copy(encoded.begin(), encoded.end(), j.chainCode.begin());
  }
  return j;
}

}  // namespace

Bytes scaleCompact(std::uint64_t value) {
  Bytes out;
  if (value < (1u << 6)) {
    out.push_back(std::byte(static_cast<std::uint8_t>(value << 2)));
  } else if (value < (1u << 14)) {
    appendU16Le(out, static_cast<std::uint16_t>((value << 2) | 1));
  } else if (value < (1u << 30)) {
    appendU32Le(out, static_cast<std::uint32_t>((value << 2) | 2));
  } else {
    std::size_t n = 4;
    while (n < 8 && (value >> (8 * n)) != 0) ++n;
    out.push_back(std::byte(static_cast<std::uint8_t>(((n - 4) << 2) | 3)));
    for (std::size_t i = 0; i < n; ++i) out.push_back(std::byte(static_cast<std::uint8_t>(value >> (8 * i))));
  }
  return out;
}

DeriveJunction DeriveJunction::fromIndex(std::uint64_t index, bool hard) {
  Bytes le;
  appendU64Le(le, index);
  return fromEncoded(le, hard);
}

DeriveJunction DeriveJunction::fromText(std::string_view text, bool hard) {
  if (auto n = parseU64(text)) return fromIndex(*n, hard);
  Bytes encoded = scaleCompact(text.size());
  append(encoded, asBytes(text));
  return fromEncoded(encoded, hard);
}

Result<SecretUri> parseSecretUri(std::string_view uri) {
  SecretUri out;
  std::size_t slash = uri.find('/');
  std::string_view phrase = uri.substr(0, slash);
  for (std::size_t i = 0; i < phrase.size(); ++i) {
    if (!phraseChar(phrase[i])) {
      return fail(ErrorCode::kInvalidArgument,
                  "secret URI: invalid character in the phrase at position " + std::to_string(i));
    }
  }
  out.phrase = SecretBytes(phrase.empty() ? kDevPhrase : phrase);
  std::size_t i = phrase.size();
  while (i < uri.size()) {
    std::string_view rest = uri.substr(i);
    if (rest.starts_with("///")) {
      out.password = SecretBytes(rest.substr(3));
      break;
    }
    const bool hard = rest.starts_with("//");
    const std::size_t start = i + (hard ? 2 : 1);
    std::size_t end = uri.find('/', start);
    if (end == std::string_view::npos) end = uri.size();
    if (end == start) {
      return fail(ErrorCode::kInvalidArgument,
                  "secret URI: empty derivation junction at position " + std::to_string(i));
    }
    out.path.push_back(DeriveJunction::fromText(uri.substr(start, end - start), hard));
    i = end;
  }
  return out;
}

}  // namespace merit::crypto
