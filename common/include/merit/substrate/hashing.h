// Substrate's hashes and storage-key hashers.
//
// Thread-safety: pure functions.
//
// twox64/128/256 are xxHash64 of the data with seeds 0, 1, 2, 3 (as many as needed), each
// digest little-endian, concatenated. blake2_128/256 are unkeyed BLAKE2b with 16/32-byte digests.
// A storage key is twox128(pallet prefix) ‖ twox128(item name) ‖ hashKey(hasher_i, key_i)...
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "merit/crypto/hash.h"
#include "merit/util/bytes.h"

namespace merit::substrate {

ByteArray<8> twox64(ByteView data);
ByteArray<16> twox128(ByteView data);
ByteArray<32> twox256(ByteView data);
ByteArray<16> blake2_128(ByteView data);
crypto::Hash256 blake2_256(ByteView data);

// The metadata's StorageHasher enum, in its SCALE index order.
enum class Hasher : std::uint8_t {
  kBlake2_128 = 0,
  kBlake2_256 = 1,
  kBlake2_128Concat = 2,
  kTwox128 = 3,
  kTwox256 = 4,
  kTwox64Concat = 5,
  kIdentity = 6,
};

// The hasher for a metadata enum index (0..6), or nullopt.
std::optional<Hasher> hasherFromIndex(std::uint8_t index);
std::string_view hasherName(Hasher h);
// True for the hashers whose output ends with the key itself (so keys can be read back from
// storage keys): Blake2_128Concat, Twox64Concat, Identity.
bool hasherIsConcat(Hasher h);
// Hash length the hasher prepends (0 for Identity; for Concat hashers, the part before the key).
std::size_t hasherPrefixSize(Hasher h);

// The hashed form of an already SCALE-encoded key.
Bytes hashKey(Hasher h, ByteView encodedKey);

// twox128(pallet) ‖ twox128(item): the prefix of every key of a storage item.
Bytes storagePrefix(std::string_view pallet, std::string_view item);

}  // namespace merit::substrate
