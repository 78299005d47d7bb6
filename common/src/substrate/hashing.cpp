#include "merit/substrate/hashing.h"

#include <xxhash.h>

namespace merit::substrate {

namespace {
template <std::size_t N>
ByteArray<N> twox(ByteView data) {
  static_assert(N % 8 == 0);
  ByteArray<N> out{};
  for (std::size_t i = 0; i < N / 8; ++i) {
    std::uint64_t h = XXH64(data.data(), data.size(), static_cast<XXH64_hash_t>(i));
    for (std::size_t b = 0; b < 8; ++b) out[i * 8 + b] = static_cast<std::byte>((h >> (8 * b)) & 0xff);
  }
  return out;
}
}  // namespace

ByteArray<8> twox64(ByteView data) {
  return twox<8>(data);
}
ByteArray<16> twox128(ByteView data) {
  return twox<16>(data);
}
ByteArray<32> twox256(ByteView data) {
  return twox<32>(data);
}

ByteArray<16> blake2_128(ByteView data) {
  ByteArray<16> out{};
  crypto::Blake2b h(16);
  h.update(data).finish(out);
  return out;
}

crypto::Hash256 blake2_256(ByteView data) {
  return crypto::blake2b256(data);
}

std::optional<Hasher> hasherFromIndex(std::uint8_t index) {
  if (index > 6) return std::nullopt;
  return static_cast<Hasher>(index);
}

std::string_view hasherName(Hasher h) {
  switch (h) {
    case Hasher::kBlake2_128: return "Blake2_128";
    case Hasher::kBlake2_256: return "Blake2_256";
    case Hasher::kBlake2_128Concat: return "Blake2_128Concat";
    case Hasher::kTwox128: return "Twox128";
    case Hasher::kTwox256: return "Twox256";
    case Hasher::kTwox64Concat: return "Twox64Concat";
    case Hasher::kIdentity: return "Identity";
  }
  return "?";
}

bool hasherIsConcat(Hasher h) {
  return h == Hasher::kBlake2_128Concat || h == Hasher::kTwox64Concat || h == Hasher::kIdentity;
}

std::size_t hasherPrefixSize(Hasher h) {
  switch (h) {
    case Hasher::kBlake2_128: return 16;
    case Hasher::kBlake2_256: return 32;
    case Hasher::kBlake2_128Concat: return 16;
    case Hasher::kTwox128: return 16;
    case Hasher::kTwox256: return 32;
    case Hasher::kTwox64Concat: return 8;
    case Hasher::kIdentity: return 0;
  }
  return 0;
}

Bytes hashKey(Hasher h, ByteView key) {
  Bytes out;
  switch (h) {
    case Hasher::kBlake2_128: append(out, blake2_128(key)); break;
    case Hasher::kBlake2_256: append(out, blake2_256(key)); break;
    case Hasher::kBlake2_128Concat:
      append(out, blake2_128(key));
      append(out, key);
      break;
    case Hasher::kTwox128: append(out, twox128(key)); break;
    case Hasher::kTwox256: append(out, twox256(key)); break;
    case Hasher::kTwox64Concat:
      append(out, twox64(key));
      append(out, key);
      break;
    case Hasher::kIdentity: append(out, key); break;
  }
  return out;
}

Bytes storagePrefix(std::string_view pallet, std::string_view item) {
  Bytes out;
  append(out, twox128(asBytes(pallet)));
  append(out, twox128(asBytes(item)));
  return out;
}

}  // namespace merit::substrate
