#include "merit/substrate/hashing.h"

#include <doctest/doctest.h>

namespace merit::substrate {
namespace {

// Expected values from Substrate's documentation (System, Account, Sudo.Key) and from
// @polkadot/util-crypto's xxhashAsHex / blake2AsHex (an independent implementation).
TEST_CASE("twox128 of pallet and item names") {
  CHECK(toHex(twox128(asBytes("System"))) == "26aa394eea5630e07c48ae0c9558cef7");
  CHECK(toHex(twox128(asBytes("Account"))) == "b99d880ec681799c0cf30e8886371da9");
  CHECK(toHex(storagePrefix("Sudo", "Key")) ==
        "5c0d1176a568c1f92944340dbfed9e9c530ebca703c85910e7164cb7d1c9e47b");
  CHECK(toHex(twox128(asBytes("SubtensorModule"))) == "658faa385070e074c85bf6b568cf0555");
  CHECK(toHex(twox128(asBytes("Keys"))) == "9f99a2ce711f3a31b2fc05604c93f179");
}

TEST_CASE("twox64 and twox256") {
  CHECK(toHex(twox64(asBytes("Balances"))) == "c2261276cc9d1f85");
  CHECK(toHex(twox256(asBytes("abc"))) == "990977adf52cbc440889329981caa9bef7da5770b2b8a05303b75d95360dd62b");
}

TEST_CASE("blake2_128") {
  CHECK(toHex(blake2_128(asBytes("abc"))) == "cf4ab791c62b8d2b2109c90275287816");
  CHECK(toHex(blake2_128(ByteView{})) == "cae66941d9efbd404e4d88758ea67670");
}

TEST_CASE("storage hashers") {
  Bytes key = toBytes(std::string_view("\x01\x02", 2));
  CHECK(hashKey(Hasher::kIdentity, key) == key);
  auto b = hashKey(Hasher::kBlake2_128Concat, key);
  CHECK(b.size() == 18);
  CHECK(ByteView(b).first(16).size() == 16);
  CHECK(Bytes(b.begin() + 16, b.end()) == key);
  auto t = hashKey(Hasher::kTwox64Concat, key);
  CHECK(t.size() == 10);
  CHECK(toHex(ByteView(t).first(8)) == toHex(twox64(key)));
  CHECK(hashKey(Hasher::kTwox128, key).size() == 16);
  CHECK(hashKey(Hasher::kTwox256, key).size() == 32);
  CHECK(hashKey(Hasher::kBlake2_256, key).size() == 32);
  CHECK(hasherFromIndex(2) == Hasher::kBlake2_128Concat);
  CHECK_FALSE(hasherFromIndex(7).has_value());
  CHECK(hasherIsConcat(Hasher::kTwox64Concat));
  CHECK_FALSE(hasherIsConcat(Hasher::kTwox128));
}

}  // namespace
}  // namespace merit::substrate
