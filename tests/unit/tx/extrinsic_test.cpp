#include "merit/tx/extrinsic.h"

#include <random>

#include <doctest/doctest.h>

#include "merit/util/codec.h"

#include "test_support.h"

namespace merit::tx {
namespace {

crypto::PrivateKey keyOf(int n) {
  return test::testKey(n);
}

// Signing keys of both schemes, for tests that run over each.
struct Signers {
  crypto::AnyPrivateKey ecdsa{test::testKey(1)};
  crypto::AnyPrivateKey sr{test::testSrKey(1)};
  std::vector<const crypto::AnyPrivateKey*> all() const { return {&ecdsa, &sr}; }
};

Hash256 genesisA() {
  return crypto::blake2b256(asBytes("genesis A"));
}
Hash256 genesisB() {
  return crypto::blake2b256(asBytes("genesis B"));
}

std::vector<Call> everyCall() {
  ServeAxon axon{};
  axon.netuid = 1;
  axon.version = 7;
  axon.ip[15] = 9;
  axon.port = 8091;
  axon.ipType = 4;
  axon.protocol = 1;
  axon.curveKey[0] = 0xaa;
  return {
      Transfer{keyOf(2).publicKey().accountId(), 5 * kRaoPerMerit},
      CreateSubnet{"matmul", 3, {{Hyper::kTempo, 10}, {Hyper::kCommitReveal, 1}}},
      SetHyperparameter{1, Hyper::kKappa, 40000},
      BurnedRegister{1, keyOf(3).publicKey()},
      BurnedRegister{1, test::testSrKey(3).publicKey()},
      axon,
      AddStake{keyOf(3).publicKey().accountId(), 100},
      RemoveStake{keyOf(3).publicKey().accountId(), 50},
      SetWeights{1, {0, 1, 2}, {65535, 100, 0}, 4},
      CommitWeights{1, crypto::blake2b256(asBytes("c"))},
      RevealWeights{1, {0, 1}, {1, 2}, {9, 9, 9}, 4},
      RootRegister{keyOf(3).publicKey()},
      RootRegister{test::testSrKey(3).publicKey()},
      SetRootWeights{{1, 2}, {100, 200}, 0},
  };
}

TEST_CASE("every call round-trips through its canonical encoding") {
  for (const Call& call : everyCall()) {
    CAPTURE(callName(call));
    Bytes enc = encodeCall(call);
    auto dec = decodeCall(enc);
    REQUIRE(dec);
    CHECK(dec->index() == call.index());
    CHECK(encodeCall(*dec) == enc);  // one value, one encoding
  }
}

TEST_CASE("hotkeys in calls are tagged with their scheme") {
  Bytes ecdsa = encodeCall(BurnedRegister{1, keyOf(3).publicKey()});
  Bytes sr = encodeCall(BurnedRegister{1, test::testSrKey(3).publicKey()});
  REQUIRE(ecdsa.size() == 1 + 2 + 1 + 33);
  REQUIRE(sr.size() == 1 + 2 + 1 + 32);
  CHECK(ecdsa[3] == std::byte{crypto::kEcdsaTag});
  CHECK(sr[3] == std::byte{crypto::kSr25519Tag});
  auto dec = decodeCall(sr);
  REQUIRE(dec);
  CHECK(std::get<BurnedRegister>(*dec).hotkey == crypto::AnyPublicKey(test::testSrKey(3).publicKey()));
  Bytes unknown = sr;
  unknown[3] = std::byte{0};  // ed25519 in Substrate's MultiSigner: not a scheme meritnet knows
  auto u = decodeCall(unknown);
  REQUIRE_FALSE(u);
  CHECK(u.error().message().find("unknown signature scheme") != std::string::npos);
}

TEST_CASE("signed extrinsics round-trip and verify in both schemes; tampering and replay fail") {
  Signers signers;
  for (const auto* keyp : signers.all()) {
    const crypto::AnyPrivateKey& key = *keyp;
    CAPTURE(crypto::schemeName(key.scheme()));
    for (const Call& call : everyCall()) {
      CAPTURE(callName(call));
      Extrinsic xt = signExtrinsic(key, genesisA(), 7, 100, call);
      Bytes enc = encodeExtrinsic(xt);
      auto dec = decodeExtrinsic(enc);
      REQUIRE(dec);
      CHECK(encodeExtrinsic(*dec) == enc);
      CHECK(verifyExtrinsic(*dec, genesisA()));
      CHECK(dec->signerAccount() == key.publicKey().accountId());
      CHECK(extrinsicHash(*dec) == crypto::blake2b256(enc));

      CHECK_FALSE(verifyExtrinsic(*dec, genesisB()));  // another chain
      Extrinsic other = *dec;
      other.nonce = 8;
      CHECK_FALSE(verifyExtrinsic(other, genesisA()));
      other = *dec;
      other.validUntil = 101;
      CHECK_FALSE(verifyExtrinsic(other, genesisA()));
      other = *dec;
      other.signer = keyOf(2).publicKey();
      CHECK_FALSE(verifyExtrinsic(other, genesisA()));
      other.signer = test::testSrKey(2).publicKey();
      CHECK_FALSE(verifyExtrinsic(other, genesisA()));
      other = *dec;
      other.call = Transfer{keyOf(9).publicKey().accountId(), 1};  // a tampered payload
      CHECK_FALSE(verifyExtrinsic(other, genesisA()));
    }
    // Any flipped byte in the encoding either fails to decode or fails to verify.
    Extrinsic xt = signExtrinsic(key, genesisA(), 1, 10, SetWeights{1, {0, 1}, {1, 2}, 0});
    Bytes enc = encodeExtrinsic(xt);
    CHECK(enc[1] == std::byte{crypto::schemeTag(key.scheme())});
    for (std::size_t i = 0; i < enc.size(); ++i) {
      Bytes bad = enc;
      bad[i] ^= std::byte{0x01};
      auto dec = decodeExtrinsic(bad);
      CAPTURE(i);
      CHECK((!dec || !verifyExtrinsic(*dec, genesisA())));
    }
  }
}

TEST_CASE("the account of an extrinsic is the signer's account id in its scheme") {
  Signers signers;
  auto call = Transfer{keyOf(2).publicKey().accountId(), 1};
  auto e = signExtrinsic(signers.ecdsa, genesisA(), 0, 10, call);
  auto s = signExtrinsic(signers.sr, genesisA(), 0, 10, call);
  CHECK(e.signerAccount() == signers.ecdsa.ecdsa()->publicKey().accountId());  // BLAKE2b-256 of the key
  CHECK(s.signerAccount() == signers.sr.sr25519()->publicKey().bytes());       // the key itself
}

TEST_CASE("a signature of the other scheme is refused, at decoding and at verification") {
  Signers signers;
  const Call call = Transfer{keyOf(2).publicKey().accountId(), 5};
  Extrinsic sr = signExtrinsic(signers.sr, genesisA(), 0, 100, call);
  Extrinsic ec = signExtrinsic(signers.ecdsa, genesisA(), 0, 100, call);

  // An sr25519 signer carrying an ecdsa signature (by any key) never verifies...
  Extrinsic mixed = sr;
  mixed.signature = ec.signature;
  auto v = verifyExtrinsic(mixed, genesisA());
  REQUIRE_FALSE(v);
  CHECK(v.error().code() == ErrorCode::kUnauthorized);
  // ...and its encoding does not even decode: the scheme mismatch is found before any check.
  auto d = decodeExtrinsic(encodeExtrinsic(mixed));
  REQUIRE_FALSE(d);
  CHECK(d.error().message().find("the signature is ecdsa but the signer is sr25519") != std::string::npos);
  mixed = ec;
  mixed.signature = sr.signature;
  d = decodeExtrinsic(encodeExtrinsic(mixed));
  REQUIRE_FALSE(d);
  CHECK(d.error().message().find("the signature is sr25519 but the signer is ecdsa") != std::string::npos);
}

TEST_CASE("an unknown scheme tag is refused before any signature check") {
  Signers signers;
  Bytes enc = encodeExtrinsic(
      signExtrinsic(signers.sr, genesisA(), 0, 100, Transfer{keyOf(2).publicKey().accountId(), 5}));
  for (std::uint8_t tag : {0, 3, 255}) {
    CAPTURE(int(tag));
    Bytes signer = enc;
    signer[1] = std::byte{tag};
    auto d = decodeExtrinsic(signer);
    REQUIRE_FALSE(d);
    CHECK(d.error().message().find("signer: unknown signature scheme " + std::to_string(tag)) !=
          std::string::npos);
    Bytes sig = enc;
    sig[enc.size() - 65] = std::byte{tag};  // the signature's tag: 1 ‖ 64 bytes at the end
    d = decodeExtrinsic(sig);
    REQUIRE_FALSE(d);
    CHECK(d.error().message().find("signature: unknown signature scheme " + std::to_string(tag)) !=
          std::string::npos);
  }
}

TEST_CASE("a version-1 extrinsic is refused with a message naming the versions") {
  // Version 1's layout: version 1 ‖ 33-byte ecdsa key ‖ nonce ‖ valid_until ‖ call ‖ 65-byte sig.
  auto key = keyOf(1);
  ByteWriter w;
  w.u8(1)
      .raw(key.publicKey().bytes())
      .u64(0)
      .u64(100)
      .bytes(encodeCall(Transfer{keyOf(2).publicKey().accountId(), 5}));
  w.raw(Bytes(65));
  auto d = decodeExtrinsic(w.data());
  REQUIRE_FALSE(d);
  CHECK(d.error().code() == ErrorCode::kInvalidArgument);
  CHECK(d.error().message().find("extrinsic version 1") != std::string::npos);
  CHECK(d.error().message().find("accepts version 2") != std::string::npos);
  Bytes v3 = w.data();
  v3[0] = std::byte{3};
  CHECK(decodeExtrinsic(v3).error().message().find("unsupported extrinsic version 3") != std::string::npos);
}

TEST_CASE("a message signature over an extrinsic's signing bytes is not an extrinsic signature") {
  const auto key = keyOf(1);
  const Call call = Transfer{keyOf(2).publicKey().accountId(), 5};
  const Bytes payload = signingPayload(genesisA(), key.publicKey(), 0, 100, call);
  Extrinsic forged{key.publicKey(), 0, 100, call, crypto::signMessage(key, payload)};
  const auto sr = test::testSrKey(1);
  const Bytes srPayload = signingPayload(genesisA(), sr.publicKey(), 0, 100, call);
  Extrinsic srForged{sr.publicKey(), 0, 100, call,
                     crypto::AnyPrivateKey(test::testSrKey(1)).signMessage(srPayload)};
  CHECK_FALSE(verifyExtrinsic(srForged, genesisA()));
  auto v = verifyExtrinsic(forged, genesisA());
  REQUIRE_FALSE(v);
  CHECK(v.error().code() == ErrorCode::kUnauthorized);
  CHECK(verifyExtrinsic(signExtrinsic(key, genesisA(), 0, 100, call), genesisA()));
  CHECK(payload[0] == std::byte{'m'});  // "meritnet/extrinsic/v2", never "<Bytes>"
}

TEST_CASE("malformed extrinsics are rejected with a reason, never a crash") {
  auto key = keyOf(1);
  Bytes enc =
      encodeExtrinsic(signExtrinsic(key, genesisA(), 1, 10, Transfer{keyOf(2).publicKey().accountId(), 1}));

  CHECK_FALSE(decodeExtrinsic({}));
  for (std::size_t n = 0; n < enc.size(); ++n) {
    CHECK_FALSE(decodeExtrinsic(ByteView(enc).first(n)));  // every truncation
  }
  Bytes trailing = enc;
  trailing.push_back(std::byte{0});
  auto t = decodeExtrinsic(trailing);
  REQUIRE_FALSE(t);
  CHECK(t.error().message().find("trailing") != std::string::npos);

  Bytes version = enc;
  version[0] = std::byte{9};
  CHECK(decodeExtrinsic(version).error().message().find("version") != std::string::npos);

  Bytes badKey = enc;
  badKey[2] = std::byte{0x05};  // not a compressed-point prefix
  CHECK(decodeExtrinsic(badKey).error().message().find("public key") != std::string::npos);

  CHECK(decodeCall(Bytes{std::byte{200}}).error().message().find("unknown call") != std::string::npos);
  CHECK_FALSE(decodeExtrinsic(Bytes(kMaxExtrinsicBytes + 1)));

  // A weights vector claiming more entries than the limit is refused before allocation.
  ByteWriter w;
  w.u8(7).u16(1).u32(1u << 30);
  CHECK(decodeCall(w.data()).error().message().find("limit") != std::string::npos);

  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    Bytes junk(rng() % 300);
    for (auto& b : junk) b = static_cast<std::byte>(rng());
    (void)decodeExtrinsic(junk);
    (void)decodeCall(junk);
  }
}

TEST_CASE("hyperparameter names") {
  CHECK(hyperName(Hyper::kTempo) == "tempo");
  CHECK(parseHyper("weights_rate_limit").value() == Hyper::kWeightsRateLimit);
  CHECK(parseHyper(hyperName(Hyper::kStakeThreshold)).value() == Hyper::kStakeThreshold);
  CHECK_FALSE(parseHyper("nope"));
}

}  // namespace
}  // namespace merit::tx
