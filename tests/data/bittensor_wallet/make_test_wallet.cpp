// Writes the checked-in btcli-format test wallet (tests/data/bittensor_wallet/devwallet/) from
// Substrate's public development phrase. Build and run:
//   cmake --build build --target make_bittensor_test_wallet
//   build/tests/unit/crypto/make_bittensor_test_wallet tests/data/bittensor_wallet/devwallet
//
// The $NACL coldkey is sealed here with libsodium directly (crypto_pwhash with Argon2i and
// crypto_secretbox_easy), not with meritnet's import code (crypto/bittensor.h), so the import
// is tested against bytes it did not make. The key material comes from meritnet's sr25519
// (checked against Substrate's vectors in sr25519_test.cpp). The nonce is fixed so the files
// are reproducible; never do that for a real key.
//
// The keys are public: never send funds to them.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "merit/crypto/mnemonic.h"
#include "merit/crypto/sr25519.h"
#include "merit/crypto/ss58.h"
#include "merit/crypto/suri.h"

namespace {

using merit::crypto::sr25519::Keypair;
using nlohmann::json;

// The test password of the coldkey (tests/data/bittensor_wallet/README.md).
constexpr const char* kPassword = "merit-test-password";
// bittensor-wallet's fixed Argon2i salt, written out here on purpose (not taken from bittensor.h).
constexpr unsigned char kSalt[crypto_pwhash_argon2i_SALTBYTES] = {
    0x13, 0x71, 0x83, 0xdf, 0xf1, 0x5a, 0x09, 0xbc, 0x9c, 0x90, 0xb5, 0x51, 0x87, 0x39, 0xe9, 0xb1};

std::string hex0x(merit::ByteView b) {
  return "0x" + merit::toHex(b);
}

json keyJson(const Keypair& kp, const std::string* phrase, const std::string* seedHex) {
  json j;
  j["accountId"] = hex0x(kp.publicKey().bytes());
  j["publicKey"] = hex0x(kp.publicKey().bytes());
  j["privateKey"] = hex0x(kp.toSchnorrkelBytes().reveal());
  j["secretPhrase"] = phrase != nullptr ? json(*phrase) : json(nullptr);
  j["secretSeed"] = seedHex != nullptr ? json(*seedHex) : json(nullptr);
  j["ss58Address"] = merit::crypto::ss58Encode(kp.publicKey().accountId());
  return j;
}

void writeFile(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", p.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  if (sodium_init() < 0) return 1;
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir / "hotkeys");

  // Coldkey: the dev phrase itself (no junctions), as `btcli wallet regen-coldkey` would store it.
  const std::string phrase(merit::crypto::kDevPhrase);
  auto entropy = merit::crypto::mnemonicToEntropy(phrase).value();
  auto seed = merit::crypto::substrateSeed(entropy.reveal(), "").value();
  const std::string seedHex = hex0x(seed.reveal().first(32));
  auto cold = Keypair::fromMiniSecret(seed.reveal().first(32)).value();
  const std::string coldJson = keyJson(cold, &phrase, &seedHex).dump();

  // Hotkey "alice": //Alice of the dev phrase, stored as a key from a URI (no phrase, no seed).
  auto alice = merit::crypto::sr25519::keypairFromSuri("//Alice").value();
  writeFile(dir / "hotkeys" / "alice", keyJson(alice, nullptr, nullptr).dump());

  // Hotkeys "validator" and "miner": each from a phrase of its own, stored with phrase and seed as
  // `btcli wallet new-hotkey` stores them. The phrases come from fixed entropy (16 bytes of 0x11
  // and of 0x22) so the files are reproducible; they are as public as the dev phrase.
  std::vector<std::pair<std::string, Keypair>> phraseHotkeys;
  for (const auto& [name, fill] : {std::pair<const char*, unsigned char>{"validator", 0x11},
                                   std::pair<const char*, unsigned char>{"miner", 0x22}}) {
    std::array<std::byte, 16> fixed{};
    fixed.fill(std::byte{fill});
    auto words = merit::crypto::entropyToMnemonic(fixed).value();
    const std::string hotPhrase(words.revealText());
    auto hotSeed = merit::crypto::substrateSeed(fixed, "").value();
    const std::string hotSeedHex = hex0x(hotSeed.reveal().first(32));
    auto kp = Keypair::fromMiniSecret(hotSeed.reveal().first(32)).value();
    writeFile(dir / "hotkeys" / name, keyJson(kp, &hotPhrase, &hotSeedHex).dump());
    phraseHotkeys.emplace_back(name, std::move(kp));
  }

  json pub;
  pub["accountId"] = hex0x(cold.publicKey().bytes());
  pub["publicKey"] = hex0x(cold.publicKey().bytes());
  pub["ss58Address"] = merit::crypto::ss58Encode(cold.publicKey().accountId());
  writeFile(dir / "coldkeypub.txt", pub.dump());

  unsigned char key[crypto_secretbox_KEYBYTES];
  if (crypto_pwhash(key, sizeof key, kPassword, std::char_traits<char>::length(kPassword), kSalt,
                    crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE, crypto_pwhash_argon2i_MEMLIMIT_SENSITIVE,
                    crypto_pwhash_ALG_ARGON2I13) != 0) {
    std::fprintf(stderr, "Argon2i failed\n");
    return 1;
  }
  unsigned char nonce[crypto_secretbox_NONCEBYTES];
  for (unsigned i = 0; i < sizeof nonce; ++i) nonce[i] = static_cast<unsigned char>(0xa0 + i);
  std::string box(crypto_secretbox_MACBYTES + coldJson.size(), '\0');
  crypto_secretbox_easy(reinterpret_cast<unsigned char*>(box.data()),
                        reinterpret_cast<const unsigned char*>(coldJson.data()), coldJson.size(), nonce, key);
  writeFile(dir / "coldkey",
            std::string("$NACL") + std::string(reinterpret_cast<char*>(nonce), sizeof nonce) + box);

  std::printf("coldkey %s\nhotkey alice %s\n", pub["ss58Address"].get<std::string>().c_str(),
              merit::crypto::ss58Encode(alice.publicKey().accountId()).c_str());
  for (const auto& [name, kp] : phraseHotkeys)
    std::printf("hotkey %s %s\n", name.c_str(),
                merit::crypto::ss58Encode(kp.publicKey().accountId()).c_str());
  return 0;
}
