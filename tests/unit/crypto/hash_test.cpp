#include "merit/crypto/hash.h"

#include <doctest/doctest.h>

namespace merit::crypto {
namespace {

TEST_CASE("BLAKE2b-512 known answer (RFC 7693, Appendix A: BLAKE2b-512(\"abc\"))") {
  CHECK(toHex(blake2b512(asBytes("abc"))) ==
        "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
        "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

TEST_CASE("BLAKE2b-256 known answer") {
  // BLAKE2b with a 32-byte digest of "abc"; the same value Python's hashlib.blake2b(b"abc",
  // digest_size=32) gives (an independent implementation).
  CHECK(toHex(blake2b256(asBytes("abc"))) ==
        "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST_CASE("incremental hashing equals one-shot") {
  Blake2b h(32);
  h.update(asBytes("a")).update(asBytes("bc"));
  CHECK(h.finish256() == blake2b256(asBytes("abc")));
  Blake2b h512(64);
  h512.update(asBytes("abc"));
  Hash512 out;
  h512.finish(out);
  CHECK(out == blake2b512(asBytes("abc")));
}

TEST_CASE("keyed BLAKE2b differs by key") {
  ByteArray<32> k1{}, k2{};
  k2[0] = std::byte{1};
  CHECK(blake2b256Keyed(k1, asBytes("m")) != blake2b256Keyed(k2, asBytes("m")));
  CHECK(blake2b256Keyed(k1, asBytes("m")) != blake2b256(asBytes("m")));
  Blake2b h(32, k1);
  h.update(asBytes("m"));
  CHECK(h.finish256() == blake2b256Keyed(k1, asBytes("m")));
}

TEST_CASE("random bytes are not constant") {
  ByteArray<32> a{}, b{};
  randomBytes(a);
  randomBytes(b);
  CHECK(a != b);
}

}  // namespace
}  // namespace merit::crypto
