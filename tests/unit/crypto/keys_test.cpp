#include "merit/crypto/keys.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include "merit/crypto/domains.h"

namespace merit::crypto {
namespace {

Hash256 sha256(std::string_view msg) {
  ensureSodium();
  Hash256 out;
  crypto_hash_sha256(u8(MutableByteView(out)), u8(asBytes(msg)), msg.size());
  return out;
}

PrivateKey keyFromHex(std::string_view hex) {
  auto bytes = fromHex(hex);
  REQUIRE(bytes);
  auto key = PrivateKey::fromBytes(*bytes);
  REQUIRE(key);
  return std::move(*key);
}

// Deterministic ECDSA (RFC 6979, HMAC-SHA256 nonces) on secp256k1 at the digest level:
// digest = SHA-256(message), signature r‖s in low-S form. Source: the public secp256k1 RFC 6979
// vector set first posted on bitcointalk.org (topic 285142) and reproduced in many wallet test
// suites, e.g. btcsuite/btcd btcec `TestRFC6979` and python-ecdsa.
struct Rfc6979Vector {
  const char* key;
  const char* message;
  const char* rs;
};
const Rfc6979Vector kRfc6979[] = {
    {"0000000000000000000000000000000000000000000000000000000000000001", "Satoshi Nakamoto",
     "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8"
     "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5"},
    {"0000000000000000000000000000000000000000000000000000000000000001",
     "All those moments will be lost in time, like tears in rain. Time to die...",
     "8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b"
     "547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21"},
    {"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "Satoshi Nakamoto",
     "fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d0"
     "6b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5"},
    {"f8b8af8ce3c7cca5e300d33939540c10d45ce001b8f252bfbc57ba0342904181", "Alan Turing",
     "7063ae83e7f62bbb171798131b4a0564b956930092b33b07b395615d9ec7e15c"
     "58dfcc1e00a35e1572f366ffe34ba0fc47db1e7189759b9fb233c5b05ab388ea"},
};

TEST_CASE("RFC 6979 deterministic signatures match the published secp256k1 vectors") {
  for (const auto& v : kRfc6979) {
    CAPTURE(v.message);
    PrivateKey key = keyFromHex(v.key);
    Hash256 digest = sha256(v.message);
    Signature sig = key.signDigest(digest);
    CHECK(toHex(ByteView(sig.bytes()).first(64)) == v.rs);
    CHECK(verifyDigest(key.publicKey(), digest, sig));
    CHECK(key.signDigest(digest) == sig);  // deterministic
  }
}

TEST_CASE("Substrate ecdsa scheme: the sp-core known-answer vector") {
  // sp-core's `ecdsa::test_vector_should_work` (substrate, primitives/core/src/ecdsa.rs): seed
  // 9d61…7f60 gives this compressed public key, and signing the empty message (its BLAKE2b-256
  // digest) gives this exact 65-byte signature.
  PrivateKey key = keyFromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  CHECK(key.publicKey().toHex() == "028db55b05db86c0b1786ca49f095d76344c9e6056b2f02701a7e7f3c20aabfd91");
  Signature sig = key.sign(asBytes(""));
  CHECK(sig.toHex() ==
        "3dde91174bd9359027be59a428b8146513df80a2a3c7eda2194f64de04a69ab9"
        "7b753169e94db6ffd50921a2668a48b94ca11e3d32c1ff19cfe88890aa7e8f3c00");
  CHECK(verify(key.publicKey(), asBytes(""), sig));
}

TEST_CASE("sign and verify round trip; any tampering fails") {
  PrivateKey key = PrivateKey::generate();
  PrivateKey other = PrivateKey::generate();
  Bytes msg = toBytes("transfer 5 merit to bob");
  Signature sig = key.sign(msg);
  REQUIRE(verify(key.publicKey(), msg, sig));

  SUBCASE("wrong key") {
    auto r = verify(other.publicKey(), msg, sig);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::kUnauthorized);
  }
  SUBCASE("message changed by one byte") {
    msg[0] = std::byte{'T'};
    CHECK_FALSE(verify(key.publicKey(), msg, sig));
  }
  SUBCASE("every single flipped signature byte is rejected") {
    for (std::size_t i = 0; i < Signature::kSize; ++i) {
      auto bytes = sig.bytes();
      bytes[i] ^= std::byte{0x01};
      CAPTURE(i);
      CHECK_FALSE(verify(key.publicKey(), msg, Signature(bytes)));
    }
  }
  SUBCASE("recovery id out of range") {
    auto bytes = sig.bytes();
    bytes[64] = std::byte{27};  // Ethereum-style v is not accepted
    auto r = verify(key.publicKey(), msg, Signature(bytes));
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("recovery id") != std::string::npos);
  }
}

TEST_CASE("high-S (malleated) signatures are rejected") {
  // (r, n − s, v ^ 1) is the mathematically valid twin of a low-S signature; it must not verify.
  PrivateKey key = PrivateKey::generate();
  Bytes msg = toBytes("weights");
  Signature sig = key.sign(msg);
  const unsigned char n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                               0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
  auto bytes = sig.bytes();
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = n[i] - std::to_integer<int>(bytes[32 + i]) - borrow;
    borrow = d < 0 ? 1 : 0;
    bytes[32 + i] = static_cast<std::byte>(d & 0xff);
  }
  bytes[64] ^= std::byte{1};
  auto r = verify(key.publicKey(), msg, Signature(bytes));
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("low-S") != std::string::npos);
}

TEST_CASE("known-key verification: right key, low S, recovery id in range") {
  PrivateKey key = PrivateKey::generate();
  PrivateKey other = PrivateKey::generate();
  Hash256 digest = blake2b256(asBytes("request"));
  Signature sig = key.signDigest(digest);
  CHECK(verifyDigestKnownKey(key.publicKey(), digest, sig));
  CHECK_FALSE(verifyDigestKnownKey(other.publicKey(), digest, sig));
  CHECK_FALSE(verifyDigestKnownKey(key.publicKey(), blake2b256(asBytes("requesT")), sig));
  for (std::size_t i = 0; i < 64; ++i) {
    auto bytes = sig.bytes();
    bytes[i] ^= std::byte{0x80};
    CAPTURE(i);
    CHECK_FALSE(verifyDigestKnownKey(key.publicKey(), digest, Signature(bytes)));
  }
  auto bytes = sig.bytes();
  bytes[64] = std::byte{4};
  CHECK_FALSE(verifyDigestKnownKey(key.publicKey(), digest, Signature(bytes)));
  // The sp-core vector verifies on the fast path too.
  PrivateKey v = keyFromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  CHECK(verifyDigestKnownKey(v.publicKey(), blake2b256(asBytes("")), v.sign(asBytes(""))));
}

TEST_CASE("ECDH gives both sides the same secret") {
  PrivateKey a = PrivateKey::generate();
  PrivateKey b = PrivateKey::generate();
  PrivateKey c = PrivateKey::generate();
  auto ab = ecdh(a, b.publicKey());
  auto ba = ecdh(b, a.publicKey());
  auto ac = ecdh(a, c.publicKey());
  CHECK(toHex(ab.reveal()) == toHex(ba.reveal()));
  CHECK(toHex(ab.reveal()) != toHex(ac.reveal()));
  // Scalar 1 times B is B itself: the secret is BLAKE2b-256 of B's compressed encoding.
  PrivateKey one = keyFromHex("0000000000000000000000000000000000000000000000000000000000000001");
  CHECK(toHex(ecdh(one, b.publicKey()).reveal()) == toHex(blake2b256(b.publicKey().bytes())));
}

TEST_CASE("recovery returns the signer") {
  PrivateKey key = PrivateKey::generate();
  Hash256 digest = blake2b256(asBytes("hello"));
  auto recovered = recoverDigest(digest, key.signDigest(digest));
  REQUIRE(recovered);
  CHECK(*recovered == key.publicKey());
}

TEST_CASE("message signing wraps the message; no protocol domain can start like a message") {
  PrivateKey key = PrivateKey::generate();
  const Bytes msg = toBytes("pay 10 merit to bob");
  Signature sig = signMessage(key, msg);
  CHECK(verifyMessage(key.publicKey(), msg, sig));
  CHECK(recoverMessageSigner(msg, sig).value() == key.publicKey());
  CHECK(toHex(wrapMessage(msg)) == toHex(asBytes("<Bytes>pay 10 merit to bob</Bytes>")));
  // Not a signature of the raw bytes, and the raw-bytes signature is not a message signature.
  CHECK_FALSE(verify(key.publicKey(), msg, sig));
  CHECK_FALSE(verifyMessage(key.publicKey(), msg, key.sign(msg)));
  // Always wrapped, even when the message already looks wrapped.
  const Bytes wrapped = wrapMessage(msg);
  CHECK_FALSE(verifyMessage(key.publicKey(), wrapped, sig));
  // Every protocol preimage starts with 'm' (a raw tag) or with a length byte and a tag; a
  // wrapped message starts with '<'. So no message signature is ever a protocol signature.
  for (std::string_view tag : domain::kProtocolTags) {
    CAPTURE(tag);
    CHECK(tag.starts_with("meritnet/"));
    CHECK(tag.size() != static_cast<unsigned char>(domain::kMessagePrefix[0]));
  }
}

TEST_CASE("invalid keys and encodings are rejected") {
  CHECK_FALSE(PrivateKey::fromBytes(ByteArray<32>{}));  // zero
  CHECK_FALSE(PrivateKey::fromBytes(
      fromHex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").value()));  // n
  CHECK_FALSE(PrivateKey::fromBytes(ByteArray<31>{}));
  CHECK_FALSE(PublicKey::fromHex("04" + std::string(64, '0')));
  CHECK_FALSE(PublicKey::fromHex("02" + std::string(64, '0')));  // x = 0 is not on the curve
  CHECK_FALSE(Signature::fromBytes(ByteArray<64>{}));
  auto pk = PublicKey::fromHex("028db55b05db86c0b1786ca49f095d76344c9e6056b2f02701a7e7f3c20aabfd91");
  CHECK(pk);
}

}  // namespace
}  // namespace merit::crypto
