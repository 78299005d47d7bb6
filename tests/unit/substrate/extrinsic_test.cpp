#include "merit/substrate/extrinsic.h"

#include <doctest/doctest.h>

#include "merit/crypto/sr25519.h"
#include "merit/substrate/hashing.h"
#include "merit/substrate/scale.h"

#include "fixtures.h"

namespace merit::substrate {
namespace {

using nlohmann::json;
using testing::fixtureMetadata;

TEST_CASE("mortal era encoding") {
  // Values from Substrate's Era documentation and tests: period 64 at block 1000 -> phase 40.
  CHECK(toHex(encodeMortalEra(64, 1000)) == "8502");
  CHECK(toHex(encodeMortalEra(64, 42)) == "a502");
  CHECK(toHex(encodeMortalEra(32768, 20000)) == "4e9c");  // quantized phase
  CHECK(toHex(encodeMortalEra(1, 0)) == "0100");          // clamped to period 4
  CHECK(toHex(encodeMortalEra(100000, 5)) == "0f00");     // clamped to 65536, phase quantized to 0
  CHECK(mortalEraBirth(64, 1000) == 1000);
  CHECK(mortalEraBirth(32768, 20000) == 20000 / 8 * 8);
}

// Expected bytes computed once with @polkadot/api 16.5.6 (tests/unit/substrate/polkadot_vectors.js):
// the same metadata, an ECDSA keyring pair from the same 32-byte seed, the same call and
// signing options. libsecp256k1 and @polkadot both use RFC 6979 nonces, so signatures match.
struct Vector {
  const char* spec;
  int dests;
  bool mortal;
  const char* payload;  // "" when longer than 256 bytes (then hashed)
  const char* extrinsic;
  const char* hash;
};

const Vector kVectors[] = {
    Vector{"spec200", 2, true,
           "07000100080000010008ffff0100070000000000000085021400da000000010000001111111111111111111111111111"
           "111111111111111111111111111111111111222222222222222222222222222222222222222222222222222222222222"
           "2222",
           "f901840092069870c185d38acc5bc10768ff564e7676176ba6db19c08753fa9a16bb65f10277f7e82ae6f001ad31f91b"
           "e06bd12cfb7044564cc9cc67336eaa5fad10e19c9d162916e2d15ae671a3effc529c2a5a8ae1dfd18f20877052e21d7b"
           "58ff0c5c2e018502140007000100080000010008ffff01000700000000000000",
           "1ce49cfafa17ff0c69e9536caa405a252159b918d3bf1a8a382cbffb2c5b76cc"},
    Vector{"spec200", 2, false,
           "07000100080000010008ffff01000700000000000000001400da00000001000000111111111111111111111111111111"
           "111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
           "11",
           "f501840092069870c185d38acc5bc10768ff564e7676176ba6db19c08753fa9a16bb65f1020296fba563818565b405cc"
           "da52fbd2d842bc993621c9a6e331395ef3112b5a137192dfd949f0aa7a10973b13d670a03b3d52ef6ab8a3a1c279a7a1"
           "7610f5adc40100140007000100080000010008ffff01000700000000000000",
           "a3228d418300ef0fb0ebabab00968f7f6712e4f8c204051af07eb4fad0fb797b"},
    Vector{"spec200", 150, true, "",
           "410b840092069870c185d38acc5bc10768ff564e7676176ba6db19c08753fa9a16bb65f1024abc22f8e026bff8b1312d"
           "156e26b7e86503b2b83b5d29abd254b6de59aeca832b2c5f208d6754c2f577c9a6b5e74bf35f51ae3fa693b37699f790"
           "da3a5553da018502140007000100590200000100020003000400050006000700080009000a000b000c000d000e000f00"
           "10001100120013001400150016001700180019001a001b001c001d001e001f0020002100220023002400250026002700"
           "280029002a002b002c002d002e002f0030003100320033003400350036003700380039003a003b003c003d003e003f00"
           "40004100420043004400450046004700480049004a004b004c004d004e004f0050005100520053005400550056005700"
           "580059005a005b005c005d005e005f0060006100620063006400650066006700680069006a006b006c006d006e006f00"
           "70007100720073007400750076007700780079007a007b007c007d007e007f0080008100820083008400850086008700"
           "880089008a008b008c008d008e008f009000910092009300940095005902ffff01000200030004000500060007000800"
           "09000a000b000c000d000e000f0010001100120013001400150016001700180019001a001b001c001d001e001f002000"
           "2100220023002400250026002700280029002a002b002c002d002e002f00300031003200330034003500360037003800"
           "39003a003b003c003d003e003f0040004100420043004400450046004700480049004a004b004c004d004e004f005000"
           "5100520053005400550056005700580059005a005b005c005d005e005f00600061006200630064006500660067006800"
           "69006a006b006c006d006e006f0070007100720073007400750076007700780079007a007b007c007d007e007f008000"
           "8100820083008400850086008700880089008a008b008c008d008e008f00900091009200930094009500070000000000"
           "0000",
           "da8d4a4129ed7d4d3a8920c9b16a41b68e57cd78699be0d35c24fff58902090b"},
    Vector{"spec218", 2, true,
           "07000100080000010008ffff010007000000000000008502140000da0000000100000011111111111111111111111111"
           "111111111111111111111111111111111111112222222222222222222222222222222222222222222222222222222222"
           "22222200",
           "fd01840092069870c185d38acc5bc10768ff564e7676176ba6db19c08753fa9a16bb65f102a9590441cc63ec524b2997"
           "7feea8acf152b48ea59d6c112abda4945db8df35e2211e40a705224f8a1789924e6073cee94d13d8a721d49ecfc79e32"
           "58d940ce0200850214000007000100080000010008ffff01000700000000000000",
           "c92ff6262ace0e7774c8a7295b4ce0e371292f9bcdbc4ea461f9361a33880263"},
    Vector{"spec218", 2, false,
           "07000100080000010008ffff0100070000000000000000140000da000000010000001111111111111111111111111111"
           "111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
           "111100",
           "f901840092069870c185d38acc5bc10768ff564e7676176ba6db19c08753fa9a16bb65f102b46135006ff42c22a562bc"
           "aaba2e02780a2758ae5e017661759e5e7fa12f84a165ccf9d2cfd0024251aec890e170488522a21e3738b55c48c644fd"
           "b827cac1ae010014000007000100080000010008ffff01000700000000000000",
           "72dc8dd4f763bb70ad6c261be0928e278c1131a899d8f1e72c15527a4771eec5"},
    Vector{"spec218", 150, true, "",
           "450b840092069870c185d38acc5bc10768ff564e7676176ba6db19c08753fa9a16bb65f1021db2d6e3cf7ae31833146c"
           "8111977dcc3e9fd77d7499dfe9a47cbc5f56bb8bda786cc3fff853bd178afc96db3a4729f97cf66f2949e9a52778bf6b"
           "97e17570bd00850214000007000100590200000100020003000400050006000700080009000a000b000c000d000e000f"
           "0010001100120013001400150016001700180019001a001b001c001d001e001f00200021002200230024002500260027"
           "00280029002a002b002c002d002e002f0030003100320033003400350036003700380039003a003b003c003d003e003f"
           "0040004100420043004400450046004700480049004a004b004c004d004e004f00500051005200530054005500560057"
           "00580059005a005b005c005d005e005f0060006100620063006400650066006700680069006a006b006c006d006e006f"
           "0070007100720073007400750076007700780079007a007b007c007d007e007f00800081008200830084008500860087"
           "00880089008a008b008c008d008e008f009000910092009300940095005902ffff010002000300040005000600070008"
           "0009000a000b000c000d000e000f0010001100120013001400150016001700180019001a001b001c001d001e001f0020"
           "002100220023002400250026002700280029002a002b002c002d002e002f003000310032003300340035003600370038"
           "0039003a003b003c003d003e003f0040004100420043004400450046004700480049004a004b004c004d004e004f0050"
           "005100520053005400550056005700580059005a005b005c005d005e005f006000610062006300640065006600670068"
           "0069006a006b006c006d006e006f0070007100720073007400750076007700780079007a007b007c007d007e007f0080"
           "008100820083008400850086008700880089008a008b008c008d008e008f009000910092009300940095000700000000"
           "000000",
           "3179aa7aafda0e55daed5b9569cc10f9f4e4d36f8c21e2675f56f631172b3f6a"},
};

TEST_CASE("signed extrinsics match @polkadot/api byte for byte") {
  auto key = crypto::PrivateKey::fromBytes(
      fromHex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318").value());
  REQUIRE(key.has_value());
  CHECK(key->publicKey().toHex() == "024e3b81af9c2234cad09d679ce6035ed1392347ce64ce405f5dcd36228a25de6e");
  CHECK(toHex(key->publicKey().accountId()) ==
        "92069870c185d38acc5bc10768ff564e7676176ba6db19c08753fa9a16bb65f1");
  for (const Vector& v : kVectors) {
    CAPTURE(std::string(v.spec));
    CAPTURE(v.dests);
    CAPTURE(v.mortal);
    const Metadata& md = fixtureMetadata(std::string(v.spec) + "_state_getMetadata.hex");
    json dests = json::array(), weights = json::array();
    for (int i = 0; i < v.dests; ++i) {
      dests.push_back(i);
      weights.push_back(i == 0 ? 65535 : i);
    }
    auto call = encodeCall(md, "SubtensorModule", "set_weights",
                           {{"netuid", 1}, {"dests", dests}, {"weights", weights}, {"version_key", 7}});
    REQUIRE_MESSAGE(call.has_value(), call.error().toString());
    SigningParams p;
    p.specVersion = 218;
    p.txVersion = 1;
    p.genesisHash = fromHexFixed<32>(std::string(64, '1')).value();
    p.eraBlockHash = v.mortal ? fromHexFixed<32>(std::string(64, '2')).value() : p.genesisHash;
    if (v.mortal) p.mortalEra = std::pair<std::uint64_t, std::uint64_t>{64, 1000};
    p.nonce = 5;
    auto payload = signingPayload(md, *call, p);
    REQUIRE(payload.has_value());
    if (std::string_view(v.payload).empty()) {
      CHECK(payload->size() == 32);
    } else {
      CHECK(toHex(*payload) == v.payload);
    }
    auto xt = buildSignedExtrinsic(md, *call, p, *key);
    REQUIRE_MESSAGE(xt.has_value(), xt.error().toString());
    CHECK(toHex(*xt) == v.extrinsic);
    CHECK(toHex(extrinsicHash(*xt)) == v.hash);
  }
}

// The parts of a signed v4 extrinsic, read back from its bytes.
struct DecodedSigned {
  Bytes account;
  std::uint8_t signatureVariant = 0;
  Bytes signature;
  Bytes rest;  // extra ‖ call
};

DecodedSigned decodeSigned(ByteView xt) {
  ScaleReader r(xt);
  DecodedSigned d;
  auto len = r.compact();
  REQUIRE(len.has_value());
  REQUIRE(*len == r.remaining());
  REQUIRE(r.u8().value() == 0x84);  // signed, format v4
  REQUIRE(r.u8().value() == 0x00);  // MultiAddress::Id
  auto account = r.take(32);
  REQUIRE(account.has_value());
  d.account.assign(account->begin(), account->end());
  d.signatureVariant = r.u8().value();
  const std::size_t sigSize = d.signatureVariant == 1 ? 64 : d.signatureVariant == 2 ? 65 : 0;
  REQUIRE_MESSAGE(sigSize != 0, "MultiSignature variant " << int(d.signatureVariant));
  auto sig = r.take(sigSize);
  REQUIRE(sig.has_value());
  d.signature.assign(sig->begin(), sig->end());
  auto rest = r.take(r.remaining());
  d.rest.assign(rest->begin(), rest->end());
  return d;
}

TEST_CASE(
    "sr25519-signed extrinsics: MultiSignature::Sr25519 over the exact payload, hashed past 256 bytes") {
  auto alice = crypto::sr25519::keypairFromSuri("//Alice");
  REQUIRE(alice.has_value());
  // Substrate's well-known //Alice account (the sr25519 public key itself).
  CHECK(alice->publicKey().toHex() == "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
  auto ecdsa = crypto::PrivateKey::fromBytes(
      fromHex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318").value());
  REQUIRE(ecdsa.has_value());
  for (const char* spec : {"spec200", "spec218"}) {
    for (int dests : {2, 150}) {
      CAPTURE(std::string(spec));
      CAPTURE(dests);
      const Metadata& md = fixtureMetadata(std::string(spec) + "_state_getMetadata.hex");
      json d = json::array(), w = json::array();
      for (int i = 0; i < dests; ++i) {
        d.push_back(i);
        w.push_back(i + 1);
      }
      auto call = encodeCall(md, "SubtensorModule", "set_weights",
                             {{"netuid", 1}, {"dests", d}, {"weights", w}, {"version_key", 0}});
      REQUIRE(call.has_value());
      SigningParams p;
      p.specVersion = 200;
      p.txVersion = 1;
      p.genesisHash = fromHexFixed<32>(std::string(64, '1')).value();
      p.eraBlockHash = fromHexFixed<32>(std::string(64, '2')).value();
      p.mortalEra = std::pair<std::uint64_t, std::uint64_t>{64, 1000};
      p.nonce = 3;
      auto ext = encodeSignedExtensions(md, p);
      REQUIRE(ext.has_value());
      Bytes full;
      append(full, *call);
      append(full, ext->extra);
      append(full, ext->additional);
      CHECK((full.size() > 256) == (dests == 150));
      auto payload = signingPayload(md, *call, p);
      REQUIRE(payload.has_value());
      // The rule, computed here independently: the bytes themselves up to 256, else their hash.
      CHECK(*payload == (full.size() > 256 ? toBytes(blake2_256(full)) : full));

      auto xt = buildSignedExtrinsic(md, *call, p, *alice);
      REQUIRE_MESSAGE(xt.has_value(), xt.error().toString());
      DecodedSigned got = decodeSigned(*xt);
      CHECK(got.account == toBytes(alice->publicKey().bytes()));
      CHECK(got.signatureVariant == crypto::kSr25519Tag);
      Bytes rest = ext->extra;
      append(rest, *call);
      CHECK(got.rest == rest);
      auto sig = crypto::sr25519::Signature::fromBytes(got.signature);
      REQUIRE(sig.has_value());
      CHECK(crypto::sr25519::verify(alice->publicKey(), *payload, *sig, crypto::sr25519::kSubstrateContext)
                .has_value());
      // Not over anything else: the unhashed bytes of a long payload, another context, another nonce.
      if (full.size() > 256) CHECK_FALSE(crypto::sr25519::verify(alice->publicKey(), full, *sig).has_value());
      CHECK_FALSE(crypto::sr25519::verify(alice->publicKey(), *payload, *sig, "other").has_value());
      SigningParams p2 = p;
      p2.nonce = 4;
      CHECK_FALSE(crypto::sr25519::verify(alice->publicKey(), signingPayload(md, *call, p2).value(), *sig)
                      .has_value());

      // The same call signed by an ECDSA key: variant 2, its account id a hash, signature over
      // BLAKE2b-256 of the same payload.
      auto xe = buildSignedExtrinsic(md, *call, p, *ecdsa);
      REQUIRE(xe.has_value());
      DecodedSigned ge = decodeSigned(*xe);
      CHECK(ge.account == toBytes(ecdsa->publicKey().accountId()));
      CHECK(ge.signatureVariant == crypto::kEcdsaTag);
      CHECK(ge.rest == rest);
      auto esig = crypto::Signature::fromBytes(ge.signature);
      REQUIRE(esig.has_value());
      auto recovered = crypto::recoverDigest(blake2_256(*payload), *esig);
      REQUIRE(recovered.has_value());
      CHECK(*recovered == ecdsa->publicKey());
    }
  }
}

TEST_CASE("calls by name: errors, unsigned extrinsics") {
  const Metadata& md = fixtureMetadata("spec218_metadata_at_version_15.hex");
  CHECK(encodeCall(md, "Nope", "x", json::object()).error().code() == ErrorCode::kNotFound);
  CHECK(encodeCall(md, "SubtensorModule", "nope", json::object()).error().code() == ErrorCode::kNotFound);
  auto missing = encodeCall(md, "SubtensorModule", "set_weights", {{"netuid", 1}});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message().find("missing argument \"dests\"") != std::string::npos);
  auto unknown = encodeCall(md, "SubtensorModule", "set_weights", {{"netuid", 1}, {"bogus", 2}});
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message().find("unknown argument \"bogus\"") != std::string::npos);
  auto bad = encodeCall(md, "SubtensorModule", "set_weights",
                        {{"netuid", 1}, {"dests", {1, 2, 3, -1}}, {"weights", {1}}, {"version_key", 0}});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message() == "set_weights.dests[3]: expected u16, got -1");
  // An immortal era and the v15 metadata give the same bytes as v14 for the same inputs.
  auto call = encodeCall(md, "System", "remark", {{"remark", "0x6869"}});
  REQUIRE(call.has_value());
  auto bare = buildUnsignedExtrinsic(md, *call);
  REQUIRE(bare.has_value());
  CHECK(toHex(*call) == "0000086869");
  CHECK(toHex(*bare) == "18040000086869");
  // The runtime's own extensions are zero-sized and sign; the extras here are era, nonce, tip,
  // metadata-hash mode.
  SigningParams p;
  p.nonce = 1;
  auto ext = encodeSignedExtensions(md, p);
  REQUIRE(ext.has_value());
  CHECK(toHex(ext->extra) == "00040000");
}

}  // namespace
}  // namespace merit::substrate
