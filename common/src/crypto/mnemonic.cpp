#include "merit/crypto/mnemonic.h"

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include <sodium.h>

#include "merit/util/assert.h"

#include "bip39_wordlist.h"

namespace merit::crypto {

namespace {

constexpr unsigned kPbkdf2Iterations = 2048;
constexpr std::size_t kMaxPhraseChars = 1024;  // 24 words of at most 8 letters fit many times over

bool validEntropySize(std::size_t n) {
  return n >= 16 && n <= 32 && n % 4 == 0;
}

int wordIndex(std::string_view word) {
  // The list is sorted; binary search.
  std::size_t lo = 0, hi = kBip39English.size();
  while (lo < hi) {
    std::size_t mid = (lo + hi) / 2;
    int c = word.compare(kBip39English[mid]);
    if (c == 0) return static_cast<int>(mid);
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return -1;
}

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Splits on whitespace and lower-cases ASCII; the words live in a secret buffer.
struct Words {
  SecretBytes text;  // words joined by single spaces
  std::vector<std::string_view> list;
};

Result<Words> splitWords(std::string_view phrase) {
  if (phrase.size() > kMaxPhraseChars) {
    return fail(ErrorCode::kInvalidArgument, "mnemonic is too long");
  }
  std::string joined;
  joined.reserve(phrase.size());
  std::size_t i = 0;
  while (i < phrase.size()) {
    while (i < phrase.size() && isSpace(phrase[i])) ++i;
    if (i == phrase.size()) break;
    if (!joined.empty()) joined.push_back(' ');
    while (i < phrase.size() && !isSpace(phrase[i])) {
      char c = phrase[i++];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      joined.push_back(c);
    }
  }
  Words w{SecretBytes::takeString(joined), {}};
  std::string_view t = w.text.revealText();
  while (!t.empty()) {
    auto sp = t.find(' ');
    w.list.push_back(t.substr(0, sp));
    if (sp == std::string_view::npos) break;
    t.remove_prefix(sp + 1);
  }
  return w;
}

void hmacSha512(ByteView key, ByteView a, ByteView b, unsigned char out[64]) {
  crypto_auth_hmacsha512_state st;
  crypto_auth_hmacsha512_init(&st, u8(key), key.size());
  crypto_auth_hmacsha512_update(&st, u8(a), a.size());
  crypto_auth_hmacsha512_update(&st, u8(b), b.size());
  crypto_auth_hmacsha512_final(&st, out);
  sodium_memzero(&st, sizeof st);
}

Result<void> checkAsciiPassphrase(std::string_view passphrase) {
  for (char c : passphrase) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return fail(ErrorCode::kInvalidArgument, "mnemonic passphrase must be ASCII");
    }
  }
  return {};
}

}  // namespace

void pbkdf2HmacSha512(ByteView password, ByteView salt, unsigned iterations, MutableByteView out) {
  ensureSodium();
  MERIT_ASSERT(iterations > 0, iterations);
  std::size_t offset = 0;
  for (std::uint32_t block = 1; offset < out.size(); ++block) {
    unsigned char be[4] = {static_cast<unsigned char>(block >> 24), static_cast<unsigned char>(block >> 16),
                           static_cast<unsigned char>(block >> 8), static_cast<unsigned char>(block)};
    unsigned char u[64], t[64];
    hmacSha512(password, salt, ByteView(reinterpret_cast<const std::byte*>(be), 4), u);
    std::memcpy(t, u, 64);
    for (unsigned i = 1; i < iterations; ++i) {
      hmacSha512(password, ByteView(reinterpret_cast<const std::byte*>(u), 64), {}, u);
      for (int j = 0; j < 64; ++j) t[j] ^= u[j];
    }
    std::size_t n = std::min<std::size_t>(64, out.size() - offset);
    std::memcpy(out.data() + offset, t, n);
    offset += n;
    sodium_memzero(u, sizeof u);
    sodium_memzero(t, sizeof t);
  }
}

Result<SecretBytes> entropyToMnemonic(ByteView entropy) {
  if (!validEntropySize(entropy.size())) {
    return fail(ErrorCode::kInvalidArgument,
                "mnemonic entropy must be 16..32 bytes in steps of 4, got " + std::to_string(entropy.size()));
  }
  ensureSodium();
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, u8(entropy), entropy.size());
  const std::size_t entBits = entropy.size() * 8;
  const std::size_t csBits = entBits / 32;
  const std::size_t words = (entBits + csBits) / 11;
  auto bitAt = [&](std::size_t i) -> unsigned {
    if (i < entBits) return (std::to_integer<unsigned>(entropy[i / 8]) >> (7 - i % 8)) & 1;
    std::size_t j = i - entBits;
    return (hash[j / 8] >> (7 - j % 8)) & 1;
  };
  std::string phrase;
  phrase.reserve(words * 9);
  for (std::size_t w = 0; w < words; ++w) {
    unsigned idx = 0;
    for (std::size_t b = 0; b < 11; ++b) idx = (idx << 1) | bitAt(w * 11 + b);
    if (w > 0) phrase.push_back(' ');
    phrase.append(kBip39English[idx]);
  }
  sodium_memzero(hash, sizeof hash);
  return SecretBytes::takeString(phrase);
}

Result<SecretBytes> generateMnemonic(std::size_t words) {
  if (words < 12 || words > 24 || words % 3 != 0) {
    return fail(ErrorCode::kInvalidArgument,
                "mnemonic word count must be 12, 15, 18, 21 or 24, got " + std::to_string(words));
  }
  SecretArray<32> entropy;
  randomBytes(entropy.mutableBytes());
  return entropyToMnemonic(entropy.reveal().first(words * 4 / 3));
}

Result<SecretBytes> mnemonicToEntropy(std::string_view phrase) {
  MERIT_ASSIGN_OR_RETURN(Words w, splitWords(phrase));
  const std::size_t n = w.list.size();
  if (n < 12 || n > 24 || n % 3 != 0) {
    return fail(ErrorCode::kInvalidArgument,
                "mnemonic must have 12, 15, 18, 21 or 24 words, got " + std::to_string(n));
  }
  const std::size_t totalBits = n * 11;
  const std::size_t csBits = totalBits / 33;
  const std::size_t entBytes = (totalBits - csBits) / 8;
  std::array<unsigned char, 33> bits{};  // entropy + checksum, at most 264 bits
  for (std::size_t i = 0; i < n; ++i) {
    int idx = wordIndex(w.list[i]);
    if (idx < 0) {
      return fail(ErrorCode::kInvalidArgument,
                  "mnemonic word " + std::to_string(i + 1) + " is not in the BIP39 English word list");
    }
    for (std::size_t b = 0; b < 11; ++b) {
      if ((static_cast<unsigned>(idx) >> (10 - b)) & 1) {
        std::size_t pos = i * 11 + b;
        bits[pos / 8] |= static_cast<unsigned char>(0x80 >> (pos % 8));
      }
    }
  }
  unsigned char hash[crypto_hash_sha256_BYTES];
  ensureSodium();
  crypto_hash_sha256(hash, bits.data(), entBytes);
  bool ok = true;
  for (std::size_t b = 0; b < csBits; ++b) {
    std::size_t pos = entBytes * 8 + b;
    unsigned have = (bits[pos / 8] >> (7 - pos % 8)) & 1;
    unsigned want = (hash[b / 8] >> (7 - b % 8)) & 1;
    ok = ok && have == want;
  }
  SecretBytes entropy(ByteView(reinterpret_cast<const std::byte*>(bits.data()), entBytes));
  sodium_memzero(bits.data(), bits.size());
  sodium_memzero(hash, sizeof hash);
  if (!ok) {
    return fail(ErrorCode::kInvalidArgument,
                "mnemonic checksum does not match (a word is wrong or out of order)");
  }
  return entropy;
}

Result<SecretArray<64>> bip39Seed(std::string_view phrase, std::string_view passphrase) {
  MERIT_TRY(checkAsciiPassphrase(passphrase));
  MERIT_TRY(mnemonicToEntropy(phrase));
  MERIT_ASSIGN_OR_RETURN(Words w, splitWords(phrase));
  std::string salt = "mnemonic";
  salt.append(passphrase);
  SecretBytes saltSecret = SecretBytes::takeString(salt);
  SecretArray<64> seed;
  pbkdf2HmacSha512(w.text.reveal(), saltSecret.reveal(), kPbkdf2Iterations, seed.mutableBytes());
  return seed;
}

Result<SecretArray<64>> substrateSeed(ByteView entropy, std::string_view passphrase) {
  MERIT_TRY(checkAsciiPassphrase(passphrase));
  if (!validEntropySize(entropy.size())) {
    return fail(ErrorCode::kInvalidArgument, "mnemonic entropy must be 16..32 bytes in steps of 4");
  }
  std::string salt = "mnemonic";
  salt.append(passphrase);
  SecretBytes saltSecret = SecretBytes::takeString(salt);
  SecretArray<64> seed;
  pbkdf2HmacSha512(entropy, saltSecret.reveal(), kPbkdf2Iterations, seed.mutableBytes());
  return seed;
}

Result<PrivateKey> keyFromMnemonic(std::string_view phrase, std::string_view passphrase) {
  MERIT_ASSIGN_OR_RETURN(SecretBytes entropy, mnemonicToEntropy(phrase));
  MERIT_ASSIGN_OR_RETURN(SecretArray<64> seed, substrateSeed(entropy.reveal(), passphrase));
  return PrivateKey::fromBytes(seed.reveal().first(32));
}

}  // namespace merit::crypto
