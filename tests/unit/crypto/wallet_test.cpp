#include "merit/crypto/wallet.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "merit/crypto/ss58.h"
#include "merit/util/file.h"

#include "test_support.h"

namespace merit::crypto {
namespace {

namespace fs = std::filesystem;

using TempHome = test::TempDir;

mode_t modeOf(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

std::string slurp(const fs::path& p) {
  return readFile(p, 1 << 20).value();
}

void overwriteFile(const fs::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::trunc);
  out << content;
}

const SecretBytes kPassword{std::string_view("correct horse battery staple")};

TEST_CASE("key files round trip, encrypted and plain") {
  PrivateKey key = PrivateKey::generate();
  auto plain = encodeKeyfile(key, nullptr, KdfParams::interactive());
  REQUIRE(plain);
  auto back = decodeKeyfile(*plain, nullptr);
  REQUIRE(back);
  CHECK(back->publicKey() == key.publicKey());
  CHECK(inspectKeyfile(*plain)->encrypted == false);

  auto enc = encodeKeyfile(key, &kPassword, KdfParams::interactive());
  REQUIRE(enc);
  CHECK(enc->find(toHex(key.revealSecret())) == std::string::npos);  // the secret is not in the file
  CHECK(inspectKeyfile(*enc)->encrypted == true);
  CHECK(inspectKeyfile(*enc)->publicKey == key.publicKey());
  auto dec = decodeKeyfile(*enc, &kPassword);
  REQUIRE(dec);
  CHECK(toHex(dec->revealSecret()) == toHex(key.revealSecret()));
}

TEST_CASE("encrypted key file: wrong password, missing password, tampering") {
  PrivateKey key = PrivateKey::generate();
  std::string enc = encodeKeyfile(key, &kPassword, KdfParams::interactive()).value();

  SUBCASE("wrong password") {
    SecretBytes wrong{std::string_view("Correct horse battery staple")};
    auto r = decodeKeyfile(enc, &wrong);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::kUnauthorized);
    CHECK(r.error().message().find("wrong password") != std::string::npos);
  }
  SUBCASE("no password") {
    auto r = decodeKeyfile(enc, nullptr);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  }
  SUBCASE("a flipped ciphertext character") {
    auto pos = enc.find("\"ciphertext\": \"") + 15;
    enc[pos] = enc[pos] == '0' ? '1' : '0';
    auto r = decodeKeyfile(enc, &kPassword);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::kUnauthorized);
  }
  SUBCASE("header swapped to another public key (bound as associated data)") {
    PrivateKey other = PrivateKey::generate();
    auto pos = enc.find(key.publicKey().toHex());
    REQUIRE(pos != std::string::npos);
    enc.replace(pos, 66, other.publicKey().toHex());
    // ss58Address no longer matches either: damage is reported before decryption.
    auto r = decodeKeyfile(enc, &kPassword);
    REQUIRE_FALSE(r);
    auto addr = enc.find(ss58Address(key.publicKey()));
    enc.replace(addr, ss58Address(key.publicKey()).size(), ss58Address(other.publicKey()));
    r = decodeKeyfile(enc, &kPassword);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::kUnauthorized);
  }
  SUBCASE("truncated file") {
    auto r = decodeKeyfile(enc.substr(0, enc.size() / 2), &kPassword);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::kCorruption);
  }
  SUBCASE("absurd Argon2 cost is refused, not attempted") {
    auto pos = enc.find("\"memLimit\": ");
    auto end = enc.find(',', pos);
    enc.replace(pos, end - pos, "\"memLimit\": 1099511627776");
    auto r = decodeKeyfile(enc, &kPassword);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::kCorruption);
  }
}

TEST_CASE("plain key file whose secret does not match its public key is corruption") {
  PrivateKey key = PrivateKey::generate();
  PrivateKey other = PrivateKey::generate();
  std::string plain = encodeKeyfile(key, nullptr, KdfParams::interactive()).value();
  auto pos = plain.find(toHex(key.revealSecret()));
  plain.replace(pos, 64, toHex(other.revealSecret()));
  auto r = decodeKeyfile(plain, nullptr);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ErrorCode::kCorruption);
  CHECK_FALSE(decodeKeyfile("{not json", nullptr));
  CHECK_FALSE(decodeKeyfile("", nullptr));
  CHECK_FALSE(decodeKeyfile("[]", nullptr));
}

TEST_CASE("wallet layout, permissions and refusal to overwrite") {
  TempHome home;
  Wallet w(home.path(), "alice");
  PrivateKey cold = PrivateKey::generate();
  PrivateKey hot = PrivateKey::generate();
  REQUIRE(w.writeColdkey(cold, kPassword, KdfParams::interactive(), false));
  REQUIRE(w.writeHotkey("miner1", hot, false));

  CHECK(modeOf(home.path() / "wallets") == 0700);
  CHECK(modeOf(w.dir()) == 0700);
  CHECK(modeOf(w.dir() / "hotkeys") == 0700);
  CHECK(modeOf(w.coldkeyPath()) == 0600);
  CHECK(modeOf(w.coldkeyPubPath()) == 0600);
  CHECK(modeOf(w.hotkeyPath("miner1")) == 0600);

  CHECK(w.coldkeyPublic().value() == cold.publicKey());
  CHECK(slurp(w.coldkeyPubPath()).find(ss58Address(cold.publicKey())) != std::string::npos);
  CHECK(w.unlockColdkey(kPassword)->publicKey() == cold.publicKey());
  CHECK(w.loadHotkey("miner1")->publicKey() == hot.publicKey());
  CHECK(w.hotkeyPublic("miner1").value() == hot.publicKey());
  CHECK(w.hotkeyNames().value() == std::vector<std::string>{"miner1"});
  CHECK(Wallet::list(home.path()).value() == std::vector<std::string>{"alice"});

  // No silent overwrite: the old keys stay.
  std::string before = slurp(w.coldkeyPath());
  auto again = w.writeColdkey(PrivateKey::generate(), kPassword, KdfParams::interactive(), false);
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == ErrorCode::kAlreadyExists);
  CHECK(slurp(w.coldkeyPath()) == before);
  auto hotAgain = w.writeHotkey("miner1", PrivateKey::generate(), false);
  REQUIRE_FALSE(hotAgain);
  CHECK(w.loadHotkey("miner1")->publicKey() == hot.publicKey());

  // With overwrite it is replaced.
  PrivateKey cold2 = PrivateKey::generate();
  REQUIRE(w.writeColdkey(cold2, kPassword, KdfParams::interactive(), true));
  CHECK(w.coldkeyPublic().value() == cold2.publicKey());
  CHECK(modeOf(w.coldkeyPath()) == 0600);
}

TEST_CASE("damaged and missing wallet files give clear errors") {
  TempHome home;
  Wallet w(home.path(), "bob");
  auto missing = w.loadHotkey("default");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kNotFound);
  CHECK(w.coldkeyPublic().error().code() == ErrorCode::kNotFound);

  REQUIRE(w.writeHotkey("default", PrivateKey::generate(), false));
  overwriteFile(w.hotkeyPath("default"),
                "{\"format\":\"meritnet-keyfile\",\"version\":1,\"publicKey\":\"02zz\"}");
  auto damaged = w.loadHotkey("default");
  REQUIRE_FALSE(damaged);
  CHECK(damaged.error().code() == ErrorCode::kCorruption);
  CHECK(damaged.error().message().find(w.hotkeyPath("default").string()) != std::string::npos);

  REQUIRE(w.writeColdkey(PrivateKey::generate(), kPassword, KdfParams::interactive(), false));
  std::string content = slurp(w.coldkeyPath());
  overwriteFile(w.coldkeyPath(), content.substr(0, 40));
  auto cold = w.unlockColdkey(kPassword);
  REQUIRE_FALSE(cold);
  CHECK(cold.error().code() == ErrorCode::kCorruption);
}

TEST_CASE("names that could escape the wallet folder are refused") {
  TempHome home;
  CHECK_FALSE(validateKeyName("wallet", "../etc"));
  CHECK_FALSE(validateKeyName("wallet", ".hidden"));
  CHECK_FALSE(validateKeyName("wallet", ""));
  CHECK_FALSE(validateKeyName("wallet", "a/b"));
  CHECK_FALSE(validateKeyName("wallet", std::string(65, 'a')));
  CHECK(validateKeyName("wallet", "miner-1.gpu_0"));
  Wallet bad(home.path(), "..");
  CHECK_FALSE(bad.writeHotkey("x", PrivateKey::generate(), false));
  Wallet ok(home.path(), "w");
  CHECK_FALSE(ok.writeHotkey("../../x", PrivateKey::generate(), false));
}

TEST_CASE("empty coldkey password is refused") {
  TempHome home;
  Wallet w(home.path(), "w");
  auto r = w.writeColdkey(PrivateKey::generate(), SecretBytes{}, KdfParams::interactive(), false);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  CHECK_FALSE(w.hasColdkey());
}

TEST_CASE("MERIT_HOME overrides the default home") {
  ::setenv("MERIT_HOME", "/tmp/some-merit-home", 1);
  CHECK(defaultMeritHome() == fs::path("/tmp/some-merit-home"));
  ::unsetenv("MERIT_HOME");
  ::setenv("HOME", "/home/u", 1);
  CHECK(defaultMeritHome() == fs::path("/home/u/.meritnet"));
}

// --- schemes ------------------------------------------------------------------------------------

TEST_CASE("sr25519 key files round trip, plain and encrypted, and record their scheme") {
  AnyPrivateKey key(sr25519::Keypair::generate());
  auto secret = key.sr25519()->toSchnorrkelBytes();

  std::string plain = encodeKeyfile(key, nullptr, KdfParams::interactive()).value();
  CHECK(plain.find("\"scheme\": \"sr25519\"") != std::string::npos);
  CHECK(plain.find(toHex(secret.reveal())) != std::string::npos);  // the 64-byte schnorrkel form
  auto back = decodeAnyKeyfile(plain, nullptr);
  REQUIRE(back);
  CHECK(back->scheme() == KeyScheme::kSr25519);
  CHECK(back->publicKey() == key.publicKey());
  CHECK(toHex(back->sr25519()->toSchnorrkelBytes().reveal()) == toHex(secret.reveal()));
  CHECK(inspectAnyKeyfile(plain)->publicKey == key.publicKey());

  std::string enc = encodeKeyfile(key, &kPassword, KdfParams::interactive()).value();
  CHECK(enc.find(toHex(secret.reveal())) == std::string::npos);
  auto dec = decodeAnyKeyfile(enc, &kPassword);
  REQUIRE(dec);
  CHECK(dec->publicKey() == key.publicKey());
  SecretBytes wrong{std::string_view("wrong")};
  CHECK(decodeAnyKeyfile(enc, &wrong).error().code() == ErrorCode::kUnauthorized);

  // The scheme is part of the header: relabelling a file is caught.
  std::string relabelled = enc;
  relabelled.replace(relabelled.find("\"sr25519\""), 9, "\"ecdsa\"");
  CHECK(decodeAnyKeyfile(relabelled, &kPassword).error().code() == ErrorCode::kCorruption);
  std::string ecdsaFile = encodeKeyfile(PrivateKey::generate(), nullptr, KdfParams::interactive()).value();
  ecdsaFile.replace(ecdsaFile.find("\"ecdsa\""), 7, "\"sr25519\"");
  CHECK(decodeAnyKeyfile(ecdsaFile, nullptr).error().code() == ErrorCode::kCorruption);
  ecdsaFile.replace(ecdsaFile.find("\"sr25519\""), 9, "\"ed448\"");
  CHECK(decodeAnyKeyfile(ecdsaFile, nullptr).error().code() == ErrorCode::kCorruption);
}

TEST_CASE("a key file without a scheme (written before sr25519) is read as ecdsa") {
  // A version-1 file exactly as meritnet wrote them before the scheme field existed.
  auto key = PrivateKey::fromBytes(ByteArray<32>{std::byte{0x11}, std::byte{0x22}, std::byte{0x33}}).value();
  nlohmann::json legacy = {{"format", "meritnet-keyfile"},
                           {"version", 1},
                           {"publicKey", key.publicKey().toHex()},
                           {"ss58Address", ss58Address(key.publicKey())},
                           {"secretKey", toHex(key.revealSecret())}};
  std::string text = legacy.dump(2);
  REQUIRE(text.find("scheme") == std::string::npos);
  auto any = decodeAnyKeyfile(text, nullptr);
  REQUIRE(any);
  CHECK(any->scheme() == KeyScheme::kEcdsa);
  CHECK(any->publicKey() == AnyPublicKey(key.publicKey()));
  CHECK(decodeKeyfile(text, nullptr)->publicKey() == key.publicKey());

  // An encrypted ecdsa file without the field decrypts too (its associated data never named it).
  std::string enc = encodeKeyfile(key, &kPassword, KdfParams::interactive()).value();
  auto pos = enc.find("\"scheme\": \"ecdsa\",");
  REQUIRE(pos != std::string::npos);
  enc.erase(pos, std::string_view("\"scheme\": \"ecdsa\",").size());
  CHECK(decodeKeyfile(enc, &kPassword)->publicKey() == key.publicKey());

  // And a coldkeypub.txt without it.
  TempHome home;
  Wallet w(home.path(), "old");
  REQUIRE(w.writeColdkey(key, kPassword, KdfParams::interactive(), false));
  overwriteFile(w.coldkeyPubPath(), nlohmann::json({{"publicKey", key.publicKey().toHex()}}).dump());
  CHECK(w.coldkeyPublicAny()->scheme() == KeyScheme::kEcdsa);
  CHECK(w.coldkeyPublic().value() == key.publicKey());
}

TEST_CASE("sr25519 wallet: sign and verify, and ECDSA-only callers refuse it by name") {
  TempHome home;
  Wallet w(home.path(), "sr");
  AnyPrivateKey cold(sr25519::Keypair::generate());
  AnyPrivateKey hot(sr25519::keypairFromSuri("//Alice").value());
  REQUIRE(w.writeColdkey(cold, kPassword, KdfParams::interactive(), false));
  REQUIRE(w.writeHotkey("default", hot, false));
  CHECK(slurp(w.coldkeyPubPath()).find("\"scheme\": \"sr25519\"") != std::string::npos);

  CHECK(w.coldkeyPublicAny().value() == cold.publicKey());
  CHECK(w.hotkeyPublicAny("default")->ss58Address() == "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
  auto loaded = w.loadHotkeyAny("default");
  REQUIRE(loaded);
  auto sig = loaded->signMessage(asBytes("hello"));
  CHECK(sig.scheme() == KeyScheme::kSr25519);
  CHECK(verifyAnyMessage(hot.publicKey(), asBytes("hello"), sig));
  CHECK_FALSE(verifyAnyMessage(hot.publicKey(), asBytes("hellp"), sig));
  CHECK(verifyAnyMessageByAccount(hot.publicKey().accountId(), asBytes("hello"), sig));
  auto unlocked = w.unlockColdkeyAny(kPassword);
  REQUIRE(unlocked);
  CHECK(unlocked->publicKey() == cold.publicKey());

  // The existing ECDSA-only API (miner, validator, chain tools) fails clearly, naming the scheme.
  for (const auto& code : {w.loadHotkey("default").error(), w.hotkeyPublic("default").error(),
                           w.unlockColdkey(kPassword).error(), w.coldkeyPublic().error()}) {
    CHECK(code.code() == ErrorCode::kInvalidArgument);
    CHECK(code.message().find("sr25519") != std::string::npos);
    CHECK(code.message().find("ecdsa") != std::string::npos);
  }
  std::string plain = slurp(w.hotkeyPath("default"));
  CHECK(decodeKeyfile(plain, nullptr).error().message().find("sr25519") != std::string::npos);
  CHECK(inspectKeyfile(plain).error().code() == ErrorCode::kInvalidArgument);
}
}  // namespace
}  // namespace merit::crypto
