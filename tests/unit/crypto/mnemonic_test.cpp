#include "merit/crypto/mnemonic.h"

#include <algorithm>

#include <doctest/doctest.h>

namespace merit::crypto {
namespace {

// BIP39 reference vectors, English, passphrase "TREZOR": trezor/python-mnemonic vectors.json
// (the vectors the BIP39 specification links to).
struct Bip39Vector {
  const char* entropy;
  const char* mnemonic;
  const char* seed;
};
const Bip39Vector kTrezor[] = {
    {"00000000000000000000000000000000",
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
     "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3"
     "c4ab7c81b2f001698e7463b04"},
    {"7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
     "legal winner thank year wave sausage worth useful legal winner thank yellow",
     "2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c1069be3a3a5b"
     "d381ee6260e8d9739fce1f607"},
    {"9e885d952ad362caeb4efe34a8e91bd2",
     "ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic",
     "274ddc525802f7c828d8ef7ddbcdc5304e87ac3535913611fbbfa986d0c9e5476c91689f9c8a54fd55bd38606aa6a8595ad213d"
     "4c9c9f9aca3fb217069a41028"},
    {"0000000000000000000000000000000000000000000000000000000000000000",
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art",
     "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4"
     "a10be8ed2a5e608d68f92fcc8"},
    {"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
     "dd48c104698c30cfe2b6142103248622fb7bb0ff692eebb00089b32d22484e1613912f0a5b694407be899ffd31ed3992c456cdf"
     "60f5d4564b8ba3f05a69890ad"},
    {"68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c",
     "hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy gospel "
     "tennis "
     "maple dilemma loan word shrug inflict delay length",
     "64c87cde7e12ecf6704ab95bb1408bef047c22db4cc7491c4271d170a1b213d20b385bc1588d9c7b38f1b39d415665b8a9030c9"
     "ec653d75e65f847d8fc1fc440"},
};

TEST_CASE("BIP39 reference vectors: entropy -> mnemonic -> seed (passphrase TREZOR)") {
  for (const auto& v : kTrezor) {
    CAPTURE(v.entropy);
    auto entropy = fromHex(v.entropy).value();
    auto phrase = entropyToMnemonic(entropy);
    REQUIRE(phrase);
    CHECK(phrase->revealText() == v.mnemonic);
    auto back = mnemonicToEntropy(v.mnemonic);
    REQUIRE(back);
    CHECK(toHex(back->reveal()) == v.entropy);
    auto seed = bip39Seed(v.mnemonic, "TREZOR");
    REQUIRE(seed);
    CHECK(toHex(seed->reveal()) == v.seed);
  }
}

// Substrate's seed-from-entropy vectors, passphrase "Substrate": paritytech/substrate-bip39
// src/lib.rs `vectors_are_correct`.
TEST_CASE("Substrate seed from mnemonic entropy (passphrase Substrate)") {
  struct V {
    const char* mnemonic;
    const char* seed;
  };
  const V vectors[] = {
      {"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
       "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art",
       "44e9d125f037ac1d51f0a7d3649689d422c2af8b1ec8e00d71db4d7bf6d127e33f50c3d5c84fa3e5399c72d6cbbbbc4a49bf7"
       "6f76d952f479d74655a2ef2d453"},
      {"legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful "
       "legal winner thank year wave sausage worth title",
       "3037276a5d05fcd7edf51869eb841bdde27c574dae01ac8cfb1ea476f6bea6ef57ab9afe14aea1df8a48f97ae25b37d7c8326"
       "e49289efb25af92ba5a25d09ed3"},
      {"hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy gospel "
       "tennis "
       "maple dilemma loan word shrug inflict delay length",
       "7c60c555126c297deddddd59f8cdcdc9e3608944455824dd604897984b5cc369cad749803bb36eb8b786b570c9cdc8db275db"
       "e841486676a6adf389f3be3f076"},
  };
  for (const auto& v : vectors) {
    CAPTURE(v.mnemonic);
    auto entropy = mnemonicToEntropy(v.mnemonic);
    REQUIRE(entropy);
    auto seed = substrateSeed(entropy->reveal(), "Substrate");
    REQUIRE(seed);
    CHECK(toHex(seed->reveal()) == v.seed);
  }
}

TEST_CASE("a mnemonic regenerates the same key") {
  auto phrase = generateMnemonic(24);
  REQUIRE(phrase);
  auto words = std::count(phrase->revealText().begin(), phrase->revealText().end(), ' ') + 1;
  CHECK(words == 24);
  auto a = keyFromMnemonic(phrase->revealText());
  auto b =
      keyFromMnemonic(std::string("  ") + std::string(phrase->revealText()) + "\n");  // whitespace tolerated
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->publicKey() == b->publicKey());
  // The key is seed[0..32] of the Substrate derivation with an empty passphrase.
  auto entropy = mnemonicToEntropy(phrase->revealText());
  auto seed = substrateSeed(entropy->reveal(), "");
  CHECK(toHex(a->revealSecret()) == toHex(seed->reveal().first(32)));
  // A passphrase gives another key.
  CHECK(keyFromMnemonic(phrase->revealText(), "extra")->publicKey() != a->publicKey());
  // Two fresh phrases differ.
  CHECK(generateMnemonic(24)->revealText() != phrase->revealText());
}

TEST_CASE("bad mnemonics are rejected with the reason") {
  auto count = mnemonicToEntropy("abandon abandon abandon");
  REQUIRE_FALSE(count);
  CHECK(count.error().message().find('3') != std::string::npos);

  auto unknown = mnemonicToEntropy(
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandonx about");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message().find("word 11") != std::string::npos);

  auto checksum = mnemonicToEntropy(
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon");
  REQUIRE_FALSE(checksum);
  CHECK(checksum.error().message().find("checksum") != std::string::npos);

  CHECK(
      mnemonicToEntropy("ABANDON abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                        "abandon About"));  // case-insensitive
  CHECK_FALSE(generateMnemonic(13));
  CHECK_FALSE(entropyToMnemonic(ByteArray<15>{}));
  CHECK_FALSE(bip39Seed(
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
      "p\xc3\xa4ss"));  // non-ASCII passphrase
}

TEST_CASE("PBKDF2-HMAC-SHA512 known answer") {
  // PBKDF2-HMAC-SHA512("passwd", "salt", 1, 64), the value OpenSSL and Python's
  // hashlib.pbkdf2_hmac('sha512', b'passwd', b'salt', 1) produce.
  ByteArray<64> out;
  pbkdf2HmacSha512(asBytes("passwd"), asBytes("salt"), 1, out);
  CHECK(toHex(out) ==
        "c74319d99499fc3e9013acff597c23c5baf0a0bec5634c46b8352b793e324723"
        "d55caa76b2b25c43402dcfdc06cdcf66f95b7d0429420b39520006749c51a04e");
}

}  // namespace
}  // namespace merit::crypto
