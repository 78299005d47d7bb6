#include "merit/crypto/sr25519.h"

#include <array>
#include <cstdint>

#include <doctest/doctest.h>
#include <sodium.h>

#include "merit/crypto/merlin.h"
#include "merit/crypto/ss58.h"
#include "merit/crypto/suri.h"

namespace merit::crypto {
namespace {

std::string hex(ByteView b) {
  return toHex(b);
}

// Keccak-f[1600] applied once to the all-zero state: the first permutation output of the
// Keccak team's KeccakF-1600-IntermediateValues known-answer file (lanes in index x + 5y).
TEST_CASE("keccakF1600 matches the known answer for the zero state") {
  std::array<std::uint64_t, 25> lanes{};
  keccakF1600(lanes);
  const std::array<std::uint64_t, 25> expected = {
      0xF1258F7940E1DDE7ULL, 0x84D5CCF933C0478AULL, 0xD598261EA65AA9EEULL, 0xBD1547306F80494DULL,
      0x8B284E056253D057ULL, 0xFF97A42D7F8E6FD4ULL, 0x90FEE5A0A44647C4ULL, 0x8C5BDA0CD6192E76ULL,
      0xAD30A6F71B19059CULL, 0x30935AB7D08FFC64ULL, 0xEB5AA93F2317D635ULL, 0xA9A6E6260D712103ULL,
      0x81A57C16DBCF555FULL, 0x43B831CD0347C826ULL, 0x01F22F1A11A5569FULL, 0x05E5635A21D9AE61ULL,
      0x64BEFEF28CC970F2ULL, 0x613670957BC46611ULL, 0xB87C5A554FD00ECBULL, 0x8C3EE88A1CCF32C8ULL,
      0x940C7922AE3A2614ULL, 0x1841F924A2C509E4ULL, 0x16F53526E70465C2ULL, 0x75F644E97F30A13BULL,
      0xEAF1FF7B5CECA249ULL};
  CHECK(lanes == expected);
}

// SHA3-256 (FIPS 202) built on the permutation: a second, independent check of it.
TEST_CASE("keccakF1600 gives FIPS 202 SHA3-256 digests") {
  auto sha3 = [](std::string_view msg) {
    std::array<std::uint8_t, 136> block{};
    REQUIRE(msg.size() < block.size());
    std::copy(msg.begin(), msg.end(), block.begin());
    block[msg.size()] ^= 0x06;
    block[135] ^= 0x80;
    std::array<std::uint64_t, 25> lanes{};
    for (std::size_t i = 0; i < block.size(); ++i) lanes[i / 8] |= std::uint64_t{block[i]} << (8 * (i % 8));
    keccakF1600(lanes);
    Bytes out;
    for (std::size_t i = 0; i < 32; ++i)
      out.push_back(std::byte(static_cast<std::uint8_t>(lanes[i / 8] >> (8 * (i % 8)))));
    return hex(out);
  };
  CHECK(sha3("") == "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
  CHECK(sha3("abc") == "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
}

// merlin's published tests (transcript::tests::equivalence_simple / equivalence_complex).
TEST_CASE("Merlin transcript: published simple and complex vectors") {
  Transcript t("test protocol");
  t.appendMessage("some label", asBytes("some data"));
  ByteArray<32> challenge;
  t.challengeBytes("challenge", challenge);
  CHECK(hex(challenge) == "d5a21972d0d5fe320c0d263fac7fffb8145aa640af6e9bca177c03c7efcf0615");

  Transcript c("test protocol");
  c.appendMessage("step1", asBytes("some data"));
  Bytes data(1024, std::byte{99});
  for (int i = 0; i < 32; ++i) {
    c.challengeBytes("challenge", challenge);
    c.appendMessage("bigdata", data);
    c.appendMessage("challengedata", challenge);
  }
  CHECK(hex(challenge) == "a8c933f54fae76e3f9bea93648c1308e7dfa2152dd51674ff3ca438351cf003c");
}

TEST_CASE("Merlin transcript: appendU64, forks and the RNG") {
  Transcript a("p"), b("p");
  a.appendU64("n", 0x0102030405060708ULL);
  const std::array<std::byte, 8> le = {std::byte{8}, std::byte{7}, std::byte{6}, std::byte{5},
                                       std::byte{4}, std::byte{3}, std::byte{2}, std::byte{1}};
  b.appendMessage("n", le);
  ByteArray<16> ca, cb;
  Transcript fork = a;
  a.challengeBytes("c", ca);
  b.challengeBytes("c", cb);
  CHECK(ca == cb);

  // The RNG depends on the witness and the randomness, and does not change the transcript.
  const ByteArray<32> r0{};
  ByteArray<32> r1{};
  r1[0] = std::byte{1};
  auto draw = [&](std::string_view witness, const ByteArray<32>& rnd) {
    auto builder = fork.buildRng();
    builder.rekeyWithWitnessBytes("w", asBytes(witness));
    auto rng = std::move(builder).finalize(rnd);
    ByteArray<32> out;
    rng.fillBytes(out);
    return out;
  };
  CHECK(draw("x", r0) == draw("x", r0));
  CHECK(draw("x", r0) != draw("y", r0));
  CHECK(draw("x", r0) != draw("x", r1));
  ByteArray<16> cf;
  fork.challengeBytes("c", cf);
  CHECK(cf == ca);
}

TEST_CASE("secret URI junctions are SCALE-encoded chain codes") {
  CHECK(hex(DeriveJunction::fromText("1", true).chainCode) ==
        "0100000000000000000000000000000000000000000000000000000000000000");
  // "Alice": compact length 5 (0x14) then the bytes.
  CHECK(hex(DeriveJunction::fromText("Alice", true).chainCode) ==
        "14416c6963650000000000000000000000000000000000000000000000000000");
  const std::string longName(40, 'a');
  Bytes encoded = scaleCompact(40);
  append(encoded, asBytes(longName));
  CHECK(DeriveJunction::fromText(longName, false).chainCode == blake2b256(encoded));
  CHECK(hex(scaleCompact(63)) == "fc");
  CHECK(hex(scaleCompact(64)) == "0101");
  CHECK(hex(scaleCompact(16384)) == "02000100");
  CHECK(hex(scaleCompact(1ULL << 30)) == "0300000040");

  auto uri = parseSecretUri("//Alice/5//stash///pass word");
  REQUIRE(uri);
  CHECK(uri->phrase.revealText() == kDevPhrase);
  REQUIRE(uri->path.size() == 3);
  CHECK(uri->path[0].hard);
  CHECK_FALSE(uri->path[1].hard);
  CHECK(uri->path[1].chainCode == DeriveJunction::fromIndex(5, false).chainCode);
  REQUIRE(uri->password);
  CHECK(uri->password->revealText() == "pass word");
  CHECK_FALSE(parseSecretUri("phrase//"));
  CHECK_FALSE(parseSecretUri("phrase//a//"));
  CHECK_FALSE(parseSecretUri("bad-phrase//a"));
}

namespace sr = sr25519;

sr::Keypair fromMini(std::string_view hexSeed) {
  auto seed = fromHex(hexSeed);
  REQUIRE(seed);
  auto kp = sr::Keypair::fromMiniSecret(*seed);
  REQUIRE(kp);
  return std::move(*kp);
}

sr::Keypair fromUri(std::string_view uri) {
  auto kp = sr::keypairFromSuri(uri);
  REQUIRE_MESSAGE(kp.has_value(), std::string(uri));
  return std::move(*kp);
}

// Public keys from sp_core::sr25519's tests (sr_test_vector_should_work, seeded_pair_should_work,
// derive_{hard,soft}_known_pair_should_work) and Substrate's well-known dev accounts.
TEST_CASE("sr25519 key expansion and derivation match Substrate") {
  CHECK(fromMini("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").publicKey().toHex() ==
        "44a996beb1eef7bdcab976ab6d2ca26104834164ecf28fb375600576fcc6eb0f");
  auto seeded = sr::Keypair::fromMiniSecret(asBytes("12345678901234567890123456789012"));
  REQUIRE(seeded);
  CHECK(seeded->publicKey().toHex() == "741c08a06f41c596608f6774259bd9043304adfa5d3eea62760bd9be97634d63");

  const std::string dev(kDevPhrase);
  sr::Keypair alice = fromUri(dev + "//Alice");
  CHECK(alice.publicKey().toHex() == "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
  CHECK(ss58Encode(alice.publicKey().accountId(), 42) == "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
  CHECK(fromUri("//Alice").publicKey() == alice.publicKey());
  CHECK(fromUri("//Bob").publicKey().toHex() ==
        "8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48");
  CHECK(fromUri("//Alice//stash").publicKey().toHex() ==
        "be5ddb1579b72e84524fc29e78609e3caf42e85aa118ebfe0b0ad404b5bdd25f");
  // Soft derivation (the secret's nonce is random; the public key is not).
  CHECK(fromUri(dev + "/Alice").publicKey().toHex() ==
        "d6c71059dbbe9ad2b0ed3f289738b800836eb425544ce694825285b958ca755e");
  // default_phrase_should_be_used: the password goes to the seed, not the junctions.
  CHECK(fromUri("//Alice///password").publicKey() == fromUri(dev + "//Alice///password").publicKey());
  CHECK(fromUri("//Alice///password").publicKey() != alice.publicKey());
  // A 0x seed is a mini secret.
  CHECK(fromUri("0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").publicKey().toHex() ==
        "44a996beb1eef7bdcab976ab6d2ca26104834164ecf28fb375600576fcc6eb0f");
  CHECK_FALSE(sr::keypairFromSuri("0x1234//a"));
  CHECK_FALSE(sr::keypairFromSuri("bottom drive obey lake curtain smoke basket hold race lonely fit fit"));
}

TEST_CASE("sr25519 soft derivation: secret and public-only paths agree") {
  sr::Keypair root = fromMini("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  for (std::uint64_t i : {1ULL, 2ULL, 1ULL << 40}) {
    const auto j = DeriveJunction::fromIndex(i, false);
    sr::Keypair child = root.deriveSoft(j.chainCode);
    CHECK(child.publicKey() == sr::deriveSoftPublic(root.publicKey(), j.chainCode));
    CHECK(child.publicKey() != root.publicKey());
    auto sig = child.sign(asBytes("child"));
    CHECK(sr::verify(child.publicKey(), asBytes("child"), sig));
  }
  CHECK(root.deriveHard(DeriveJunction::fromIndex(1, true).chainCode).publicKey() ==
        root.deriveHard(DeriveJunction::fromIndex(1, true).chainCode).publicKey());
  CHECK(root.deriveHard(DeriveJunction::fromIndex(1, true).chainCode).publicKey() !=
        root.deriveHard(DeriveJunction::fromIndex(2, true).chainCode).publicKey());
}

sr::Signature sigFromHex(std::string_view h) {
  auto s = sr::Signature::fromHex(h);
  REQUIRE(s);
  return *s;
}

// Alice's signature of "<Bytes>0x46fb7408d4f285228f4af516ea25851b</Bytes>", published in ink!'s
// sr25519_verification example (made with polkadot-js), context "substrate".
TEST_CASE("sr25519 verifies a published signature and rejects every tampering") {
  auto alice = sr::PublicKey::fromHex("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
  REQUIRE(alice);
  const std::string message = "<Bytes>0x46fb7408d4f285228f4af516ea25851b</Bytes>";
  const sr::Signature sig = sigFromHex(
      "0a7da2b631704cdcfe93c740e41217b9ac667a0c8755d8da1a8232db527f487c87e780d2edc1896aeb6b1bef0bc7c38d9df213"
      "5b63"
      "3eab8bfb1777e82fad3a8f");
  CHECK(sr::verify(*alice, asBytes(message), sig));

  std::string badMessage = message;
  badMessage[0] = '=';
  CHECK_FALSE(sr::verify(*alice, asBytes(badMessage), sig));
  CHECK_FALSE(sr::verify(*alice, asBytes(message), sig, "not-substrate"));
  auto flipped = [&](std::size_t at) {
    auto bytes = sig.bytes();
    bytes[at] ^= std::byte{0x01};
    return sr::Signature(bytes);
  };
  CHECK_FALSE(sr::verify(*alice, asBytes(message), flipped(0)));   // R
  CHECK_FALSE(sr::verify(*alice, asBytes(message), flipped(40)));  // s
  auto bob = sr::PublicKey::fromHex("8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48");
  REQUIRE(bob);
  CHECK_FALSE(sr::verify(*bob, asBytes(message), sig));

  // Without the marker bit (also how pre-0.8 schnorrkel signatures look).
  auto unmarked = sig.bytes();
  unmarked[63] &= std::byte{0x7F};
  auto r = sr::verify(*alice, asBytes(message), sr::Signature(unmarked));
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("marker") != std::string::npos);

  // sp_core verify_known_old_message_should_work: a 1.1-era signature that `verify` rejects.
  auto oldKey = sr::PublicKey::fromHex("b4bfa1f7a5166695eb75299fd1c4c03ea212871c342f2c5dfea0902b2c246918");
  REQUIRE(oldKey);
  CHECK_FALSE(sr::verify(
      *oldKey,
      asBytes("Verifying that I am the owner of 5G9hQLdsKQswNPgB499DeA5PkFBbgkLPJWkkS6FAM6xGQ8xD. "
              "Hash: 221455a3\n"),
      sigFromHex("5a9755f069939f45d96aaf125cf5ce7ba1db998686f87f2fb3cbdea922078741a73891ba265f70c31"
                 "436e18a9acd14d189d73c12317ab6c313285cd938453202")));

  // A non-canonical s (s + ℓ, which also satisfies the equation mod ℓ) is rejected.
  static constexpr std::array<std::uint8_t, 32> kOrder = {
      0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
  auto big = sig.bytes();
  big[63] &= std::byte{0x7F};
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned v = std::to_integer<unsigned>(big[32 + i]) + kOrder[i] + carry;
    big[32 + i] = std::byte(static_cast<std::uint8_t>(v));
    carry = v >> 8;
  }
  big[63] |= std::byte{0x80};
  auto nc = sr::verify(*alice, asBytes(message), sr::Signature(big));
  REQUIRE_FALSE(nc);
  CHECK(nc.error().message().find("canonical") != std::string::npos);

  // The identity and non-canonical encodings are not public keys.
  CHECK_FALSE(sr::PublicKey::fromBytes(ByteArray<32>{}));
  ByteArray<32> ff;
  ff.fill(std::byte{0xFF});
  CHECK_FALSE(sr::PublicKey::fromBytes(ff));
  CHECK_FALSE(sr::Signature::fromBytes(ByteArray<65>{}));
}

TEST_CASE("sr25519 sign and verify round trips; fixed randomness is deterministic") {
  sr::Keypair kp = sr::Keypair::generate();
  for (std::string_view msg : {"", "a", "a longer message that spans more than one thing"}) {
    auto sig = kp.sign(asBytes(msg));
    CHECK(sr::verify(kp.publicKey(), asBytes(msg), sig));
    CHECK((sig.bytes()[63] & std::byte{0x80}) == std::byte{0x80});
  }
  CHECK(kp.sign(asBytes("m")) != kp.sign(asBytes("m")));  // fresh randomness each time

  ByteArray<32> rnd{};
  rnd[5] = std::byte{42};
  sr::Keypair alice = fromUri("//Alice");
  auto s1 = alice.signWithRandomness(asBytes("m"), rnd);
  auto s2 = alice.signWithRandomness(asBytes("m"), rnd);
  CHECK(s1 == s2);
  CHECK(sr::verify(alice.publicKey(), asBytes("m"), s1));
  rnd[5] = std::byte{43};
  CHECK(alice.signWithRandomness(asBytes("m"), rnd) != s1);
  CHECK_FALSE(sr::verify(alice.publicKey(), asBytes("m"), kp.sign(asBytes("m"), "other"), "other"));
  CHECK(sr::verify(kp.publicKey(), asBytes("m"), kp.sign(asBytes("m"), "other"), "other"));
}

TEST_CASE("sr25519 secret formats: schnorrkel and ed25519 forms are distinct and round trip") {
  const auto mini = fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  REQUIRE(mini);
  sr::Keypair kp = fromMini(toHex(*mini));
  // The ed25519 form's scalar half is the clamped SHA-512 half, as polkadot-js stores it.
  ByteArray<64> h;
  crypto_hash_sha512(u8(MutableByteView(h)), u8(*mini), mini->size());
  h[0] &= std::byte{248};
  h[31] &= std::byte{63};
  h[31] |= std::byte{64};
  auto ed = kp.toEd25519Bytes();
  CHECK(hex(ed.reveal()) == hex(h));

  auto raw = kp.toSchnorrkelBytes();
  CHECK(hex(raw.reveal()) != hex(ed.reveal()));
  CHECK(hex(raw.reveal().subspan(32)) == hex(ed.reveal().subspan(32)));  // same nonce

  auto back = sr::Keypair::fromSchnorrkelBytes(raw.reveal());
  REQUIRE(back);
  CHECK(back->publicKey() == kp.publicKey());
  auto backEd = sr::Keypair::fromEd25519Bytes(ed.reveal());
  REQUIRE(backEd);
  CHECK(backEd->publicKey() == kp.publicKey());
  // Reading one form as the other is caught here (the clamped value is ≥ ℓ).
  CHECK_FALSE(sr::Keypair::fromSchnorrkelBytes(ed.reveal()));
  CHECK_FALSE(sr::Keypair::fromSchnorrkelBytes(ByteArray<64>{}));
  CHECK_FALSE(sr::Keypair::fromSchnorrkelBytes(ByteArray<32>{}));

  // A soft-derived key has an arbitrary scalar: both forms still round trip.
  sr::Keypair child = kp.deriveSoft(DeriveJunction::fromIndex(7, false).chainCode);
  auto childEd = sr::Keypair::fromEd25519Bytes(child.toEd25519Bytes().reveal());
  REQUIRE(childEd);
  CHECK(childEd->publicKey() == child.publicKey());
  auto sig = childEd->sign(asBytes("x"));
  CHECK(sr::verify(child.publicKey(), asBytes("x"), sig));
}

}  // namespace
}  // namespace merit::crypto
