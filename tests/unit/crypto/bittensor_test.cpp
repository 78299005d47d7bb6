#include "merit/crypto/bittensor.h"

#include <filesystem>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include "merit/crypto/hash.h"
#include "merit/crypto/ss58.h"
#include "merit/util/file.h"

namespace merit::crypto::bittensor {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// tests/data/bittensor_wallet/README.md: made by make_test_wallet.cpp with libsodium directly.
const fs::path kWalletDir = fs::path(MERIT_SOURCE_DIR) / "tests/data/bittensor_wallet/devwallet";
constexpr std::string_view kTestPassword = "merit-test-password";
// The sr25519 account of the dev phrase without junctions, and of its //Alice.
constexpr std::string_view kDevRootAddress = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";
constexpr std::string_view kAliceAddress = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

std::string slurp(const fs::path& p) {
  return readFile(p, 1 << 20).value();
}

std::string address(const sr25519::Keypair& kp) {
  return ss58Encode(kp.publicKey().accountId());
}

// A cheap Argon2i cost for files the tests seal themselves (the format's own cost is 512 MiB).
const NaclKdf kCheap{crypto_pwhash_argon2i_OPSLIMIT_MIN + 2, crypto_pwhash_argon2i_MEMLIMIT_MIN * 8};

// Seals `plain` like bittensor-wallet does, with libsodium directly (not through openNacl).
std::string sealCheap(std::string_view plain, std::string_view password) {
  ensureSodium();
  unsigned char key[crypto_secretbox_KEYBYTES];
  REQUIRE(crypto_pwhash(key, sizeof key, password.data(), password.size(), kNaclSalt, kCheap.opsLimit,
                        kCheap.memLimitBytes, crypto_pwhash_ALG_ARGON2I13) == 0);
  unsigned char nonce[crypto_secretbox_NONCEBYTES];
  randombytes_buf(nonce, sizeof nonce);
  std::string box(crypto_secretbox_MACBYTES + plain.size(), '\0');
  crypto_secretbox_easy(reinterpret_cast<unsigned char*>(box.data()),
                        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), nonce, key);
  return "$NACL" + std::string(reinterpret_cast<char*>(nonce), sizeof nonce) + box;
}

json aliceJson() {
  auto alice = sr25519::keypairFromSuri("//Alice").value();
  const std::string pub = "0x" + alice.publicKey().toHex();
  return {{"accountId", pub},
          {"publicKey", pub},
          {"privateKey", "0x" + toHex(alice.toSchnorrkelBytes().reveal())},
          {"secretPhrase", nullptr},
          {"secretSeed", nullptr},
          {"ss58Address", address(alice)}};
}

TEST_CASE("the checked-in btcli test wallet imports with the expected addresses (Argon2i SENSITIVE)") {
  CHECK(NaclKdf::sensitive().opsLimit == 8);
  CHECK(NaclKdf::sensitive().memLimitBytes == 512ULL * 1024 * 1024);
  const std::string coldFile = slurp(kWalletDir / "coldkey");
  CHECK(detectEncoding(asBytes(coldFile)) == KeyfileEncoding::kNacl);
  const SecretBytes password{kTestPassword};
  auto cold = readKeyfile(asBytes(coldFile), &password);
  REQUIRE(cold);
  CHECK(address(*cold) == kDevRootAddress);
  CHECK(parsePublicJson(slurp(kWalletDir / "coldkeypub.txt")).value() == cold->publicKey());

  auto hot = readKeyfile(asBytes(slurp(kWalletDir / "hotkeys/alice")), nullptr);
  REQUIRE(hot);
  CHECK(address(*hot) == kAliceAddress);
  // The key is usable, not just its address: it signs for its public key.
  auto sig = hot->sign(asBytes("hi"));
  CHECK(sr25519::verify(hot->publicKey(), asBytes("hi"), sig));
}

TEST_CASE("$NACL: a wrong password is unauthorized, a missing one is asked for, damage is caught") {
  const std::string plain = aliceJson().dump();
  const std::string sealed = sealCheap(plain, "right");
  const SecretBytes right{std::string_view("right")};
  const SecretBytes wrong{std::string_view("wrong")};
  CHECK(address(readKeyfile(asBytes(sealed), &right, kCheap).value()) == kAliceAddress);

  auto r = readKeyfile(asBytes(sealed), &wrong, kCheap);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ErrorCode::kUnauthorized);
  CHECK(r.error().message().find("wrong password") != std::string::npos);
  // The file's own cost is used unless told otherwise: the right password at the wrong cost fails.
  CHECK(openNacl(asBytes(sealed), right, NaclKdf{kCheap.opsLimit + 1, kCheap.memLimitBytes}).error().code() ==
        ErrorCode::kUnauthorized);
  CHECK(readKeyfile(asBytes(sealed), nullptr, kCheap).error().code() == ErrorCode::kInvalidArgument);

  std::string flipped = sealed;
  flipped[40] = static_cast<char>(flipped[40] ^ 1);
  CHECK(readKeyfile(asBytes(flipped), &right, kCheap).error().code() == ErrorCode::kUnauthorized);
  CHECK(readKeyfile(asBytes(sealed.substr(0, 30)), &right, kCheap).error().code() == ErrorCode::kCorruption);
}

TEST_CASE("legacy Ansible Vault and Fernet key files are refused with how to re-save them") {
  const SecretBytes pw{std::string_view("x")};
  for (std::string_view content : {std::string_view("$ANSIBLE_VAULT;1.1;AES256\n6162636465"),
                                   std::string_view("gAAAAABkZXhhbXBsZQ==")}) {
    CAPTURE(content);
    CHECK(detectEncoding(asBytes(content)) != KeyfileEncoding::kNacl);
    for (const SecretBytes* p : {&pw, static_cast<const SecretBytes*>(nullptr)}) {
      auto r = readKeyfile(asBytes(content), p);
      REQUIRE_FALSE(r);
      CHECK(r.error().code() == ErrorCode::kInvalidArgument);
      CHECK(r.error().message().find("regen") != std::string::npos);
      CHECK(r.error().message().find("$NACL") != std::string::npos);
    }
  }
  CHECK(readKeyfile(asBytes("$ANSIBLE_VAULT;1.1"), &pw).error().message().find("Ansible") !=
        std::string::npos);
  CHECK(readKeyfile(asBytes("gAAAAAB"), &pw).error().message().find("Fernet") != std::string::npos);
  CHECK_FALSE(readKeyfile(asBytes("garbage"), &pw));
}

TEST_CASE("key JSON: the secret must give the stated public key") {
  CHECK(address(parseKeyJson(aliceJson().dump()).value()) == kAliceAddress);
  auto bob = sr25519::keypairFromSuri("//Bob").value();

  SUBCASE("publicKey of another key") {
    json j = aliceJson();
    j["publicKey"] = "0x" + bob.publicKey().toHex();
    auto r = parseKeyJson(j.dump());
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("does not match") != std::string::npos);
  }
  SUBCASE("all stated fields consistent, but the secret is another key's") {
    json j = aliceJson();
    j["privateKey"] = "0x" + toHex(bob.toSchnorrkelBytes().reveal());
    auto r = parseKeyJson(j.dump());
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("privateKey") != std::string::npos);
  }
  SUBCASE("ss58Address of another key") {
    json j = aliceJson();
    j["ss58Address"] = address(bob);
    CHECK_FALSE(parseKeyJson(j.dump()));
  }
  SUBCASE("a secretPhrase that gives another key than privateKey") {
    json j = aliceJson();
    j["secretPhrase"] = std::string(kDevPhrase);
    auto r = parseKeyJson(j.dump());
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("secretPhrase") != std::string::npos);
  }
  SUBCASE("the identity as public key is refused") {
    json j = aliceJson();
    const std::string zero = "0x" + std::string(64, '0');
    j["publicKey"] = zero;
    j["accountId"] = zero;
    j.erase("ss58Address");
    auto r = parseKeyJson(j.dump());
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("refusing") != std::string::npos);
  }
  SUBCASE("no stated public key: nothing to check the secret against") {
    json j = aliceJson();
    j.erase("publicKey");
    j.erase("accountId");
    j.erase("ss58Address");
    CHECK_FALSE(parseKeyJson(j.dump()));
  }
  SUBCASE("no secret") {
    json j = aliceJson();
    j.erase("privateKey");
    CHECK(parseKeyJson(j.dump()).error().message().find("no privateKey") != std::string::npos);
  }
}

TEST_CASE("a privateKey in the ed25519 (polkadot-js) form is refused, never read as schnorrkel") {
  auto alice = sr25519::keypairFromSuri("//Alice").value();
  json j = aliceJson();
  j["privateKey"] = "0x" + toHex(alice.toEd25519Bytes().reveal());
  auto r = parseKeyJson(j.dump());
  REQUIRE_FALSE(r);
  // Named as the other form, not just "invalid" or "does not match".
  CHECK(r.error().message().find("ed25519 (polkadot-js) form") != std::string::npos);
  CHECK(r.error().message().find("not the schnorrkel form") != std::string::npos);
  // A 32-byte mini secret in privateKey is not a 64-byte secret key either.
  j["privateKey"] = "0x" + std::string(64, '1');
  CHECK(parseKeyJson(j.dump()).error().message().find("64") != std::string::npos);
}

TEST_CASE("a key from secretPhrase or secretSeed alone, as btcli writes a regenerated coldkey") {
  auto root = sr25519::keypairFromSuri(kDevPhrase).value();
  const std::string pub = "0x" + root.publicKey().toHex();
  json j = {{"publicKey", pub}, {"secretPhrase", std::string(kDevPhrase)}};
  CHECK(address(parseKeyJson(j.dump()).value()) == kDevRootAddress);
  // secretSeed is the 32-byte mini secret; as the only secret it must also give the key.
  auto fromFile = parseKeyJson(slurp(kWalletDir / "hotkeys/alice"));
  REQUIRE(fromFile);
  j = {{"publicKey", pub}, {"secretSeed", "0x" + std::string(64, '2')}};
  CHECK(parseKeyJson(j.dump()).error().message().find("secretSeed") != std::string::npos);
}

}  // namespace
}  // namespace merit::crypto::bittensor
