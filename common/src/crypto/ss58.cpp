#include "merit/crypto/ss58.h"

#include <algorithm>

#include "merit/util/assert.h"

namespace merit::crypto {

namespace {

constexpr std::string_view kAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr std::string_view kChecksumTag = "SS58PRE";
constexpr std::size_t kChecksumSize = 2;
// Longest text we try to decode: an SS58 address is at most ~50 characters; this bound keeps
// the quadratic base58 decoder cheap on hostile input.
constexpr std::size_t kMaxBase58Chars = 128;

int alphabetIndex(char c) {
  auto pos = kAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

ByteArray<kChecksumSize> checksum(ByteView prefixAndPayload) {
  Blake2b h(64);
  h.update(asBytes(kChecksumTag)).update(prefixAndPayload);
  Hash512 full;
  h.finish(full);
  return {full[0], full[1]};
}

Bytes encodePrefix(std::uint16_t prefix) {
  MERIT_ASSERT(prefix < 16384, prefix);
  if (prefix < 64) return {static_cast<std::byte>(prefix)};
  // Two-byte form: 14 bits spread as in the SS58 registry's encoding.
  std::uint8_t first = static_cast<std::uint8_t>(((prefix & 0x00fc) >> 2) | 0x40);
  std::uint8_t second = static_cast<std::uint8_t>((prefix >> 8) | ((prefix & 0x0003) << 6));
  return {static_cast<std::byte>(first), static_cast<std::byte>(second)};
}

}  // namespace

std::string base58Encode(ByteView bytes) {
  std::size_t zeros = 0;
  while (zeros < bytes.size() && bytes[zeros] == std::byte{0}) ++zeros;
  // Base-256 to base-58 by repeated division; digits little-endian.
  std::vector<std::uint8_t> digits;
  digits.reserve(bytes.size() * 138 / 100 + 1);
  for (std::size_t i = zeros; i < bytes.size(); ++i) {
    unsigned carry = std::to_integer<unsigned>(bytes[i]);
    for (auto& d : digits) {
      carry += static_cast<unsigned>(d) << 8;
      d = static_cast<std::uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<std::uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, '1');
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(kAlphabet[*it]);
  return out;
}

Result<Bytes> base58Decode(std::string_view text) {
  if (text.size() > kMaxBase58Chars) {
    return fail(ErrorCode::kInvalidArgument,
                "base58 text too long (" + std::to_string(text.size()) + " characters)");
  }
  std::size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  std::vector<std::uint8_t> bytes;  // little-endian base-256
  for (std::size_t i = ones; i < text.size(); ++i) {
    int v = alphabetIndex(text[i]);
    if (v < 0) {
      return fail(ErrorCode::kInvalidArgument, "invalid base58 character at position " + std::to_string(i));
    }
    unsigned carry = static_cast<unsigned>(v);
    for (auto& b : bytes) {
      carry += static_cast<unsigned>(b) * 58;
      b = static_cast<std::uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push_back(static_cast<std::uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  Bytes out(ones, std::byte{0});
  for (auto it = bytes.rbegin(); it != bytes.rend(); ++it) out.push_back(static_cast<std::byte>(*it));
  return out;
}

std::string ss58Encode(const AccountId& account, std::uint16_t prefix) {
  Bytes data = encodePrefix(prefix);
  append(data, account);
  auto sum = checksum(data);
  append(data, sum);
  return base58Encode(data);
}

Result<Ss58Decoded> ss58DecodeAnyPrefix(std::string_view address) {
  auto decoded = base58Decode(address);
  if (!decoded) return fail(decoded.error().withContext("invalid SS58 address"));
  const Bytes& data = *decoded;
  if (data.empty()) return fail(ErrorCode::kInvalidArgument, "invalid SS58 address: empty");

  std::uint8_t b0 = std::to_integer<std::uint8_t>(data[0]);
  std::size_t prefixLen = 0;
  std::uint16_t prefix = 0;
  if (b0 < 64) {
    prefixLen = 1;
    prefix = b0;
  } else if (b0 < 128 && data.size() >= 2) {
    std::uint8_t b1 = std::to_integer<std::uint8_t>(data[1]);
    prefixLen = 2;
    prefix = static_cast<std::uint16_t>(((b0 & 0x3f) << 2) | (b1 >> 6) | ((b1 & 0x3f) << 8));
  } else {
    return fail(ErrorCode::kInvalidArgument, "invalid SS58 address: unknown prefix format");
  }

  const std::size_t expectedLen = prefixLen + sizeof(AccountId) + kChecksumSize;
  if (data.size() != expectedLen) {
    return fail(ErrorCode::kInvalidArgument, "invalid SS58 address: decodes to " +
                                                 std::to_string(data.size()) + " bytes, expected " +
                                                 std::to_string(expectedLen) + " (a 32-byte account id)");
  }
  ByteView body = ByteView(data).first(data.size() - kChecksumSize);
  auto sum = checksum(body);
  if (!std::equal(sum.begin(), sum.end(), data.end() - kChecksumSize)) {
    return fail(ErrorCode::kInvalidArgument, "invalid SS58 address: bad checksum (mistyped?)");
  }
  Ss58Decoded out;
  out.prefix = prefix;
  std::copy(body.begin() + static_cast<std::ptrdiff_t>(prefixLen), body.end(), out.account.begin());
  return out;
}

Result<AccountId> ss58Decode(std::string_view address, std::uint16_t expectedPrefix) {
  MERIT_ASSIGN_OR_RETURN(Ss58Decoded d, ss58DecodeAnyPrefix(address));
  if (d.prefix != expectedPrefix) {
    return fail(ErrorCode::kInvalidArgument, "SS58 address has network prefix " + std::to_string(d.prefix) +
                                                 ", expected " + std::to_string(expectedPrefix));
  }
  return d.account;
}

}  // namespace merit::crypto
