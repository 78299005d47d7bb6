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
      axon,
      AddStake{keyOf(3).publicKey().accountId(), 100},
      RemoveStake{keyOf(3).publicKey().accountId(), 50},
      SetWeights{1, {0, 1, 2}, {65535, 100, 0}, 4},
      CommitWeights{1, crypto::blake2b256(asBytes("c"))},
      RevealWeights{1, {0, 1}, {1, 2}, {9, 9, 9}, 4},
      RootRegister{keyOf(3).publicKey()},
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

TEST_CASE("signed extrinsics round-trip and verify; tampering and replay fail") {
  auto key = keyOf(1);
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
  }
  // Any flipped byte in the encoding either fails to decode or fails to verify.
  Extrinsic xt = signExtrinsic(key, genesisA(), 1, 10, SetWeights{1, {0, 1}, {1, 2}, 0});
  Bytes enc = encodeExtrinsic(xt);
  for (std::size_t i = 0; i < enc.size(); ++i) {
    Bytes bad = enc;
    bad[i] ^= std::byte{0x01};
    auto dec = decodeExtrinsic(bad);
    CAPTURE(i);
    CHECK((!dec || !verifyExtrinsic(*dec, genesisA())));
  }
}

TEST_CASE("a message signature over an extrinsic's signing bytes is not an extrinsic signature") {
  const auto key = keyOf(1);
  const Call call = Transfer{keyOf(2).publicKey().accountId(), 5};
  const Bytes payload = signingPayload(genesisA(), key.publicKey(), 0, 100, call);
  Extrinsic forged{key.publicKey(), 0, 100, call, crypto::signMessage(key, payload)};
  auto v = verifyExtrinsic(forged, genesisA());
  REQUIRE_FALSE(v);
  CHECK(v.error().code() == ErrorCode::kUnauthorized);
  CHECK(verifyExtrinsic(signExtrinsic(key, genesisA(), 0, 100, call), genesisA()));
  CHECK(payload[0] == std::byte{'m'});  // "meritnet/extrinsic/v1", never "<Bytes>"
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
  version[0] = std::byte{2};
  CHECK(decodeExtrinsic(version).error().message().find("version") != std::string::npos);

  Bytes badKey = enc;
  badKey[1] = std::byte{0x05};  // not a compressed-point prefix
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
