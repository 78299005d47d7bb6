// `merit wallet ...`: create and inspect wallets (ecdsa or sr25519 keys), regenerate keys from
// mnemonics, import btcli wallets, sign and verify messages. Secrets are printed only where the user must see
// them once (a new key's mnemonic); `show` and `list` never print one.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "merit/crypto/any_key.h"
#include "merit/crypto/bittensor.h"
#include "merit/crypto/mnemonic.h"
#include "merit/crypto/prompt.h"
#include "merit/crypto/ss58.h"
#include "merit/crypto/wallet.h"
#include "merit/util/file.h"

#include "commands.h"

namespace merit::cli {

namespace {

using crypto::AnyPrivateKey;
using crypto::AnyPublicKey;
using crypto::KeyScheme;
using crypto::PasswordSource;
using crypto::readMnemonic;
using crypto::readPassword;
using crypto::SecretBytes;
using crypto::Wallet;
using nlohmann::json;

constexpr std::size_t kMaxMessageFile = 64 * 1024 * 1024;

json keyJson(const AnyPublicKey& pub) {
  return {{"scheme", crypto::schemeName(pub.scheme())},
          {"ss58Address", pub.ss58Address()},
          {"publicKey", pub.toHex()},
          {"accountId", toHex(pub.accountId())}};
}

// Options every wallet command shares.
struct WalletOptions {
  std::string wallet = "default";
  std::string hotkey = "default";
  bool json = false;
};

void addWalletOption(CLI::App* cmd, WalletOptions& o) {
  cmd->add_option("-w,--wallet", o.wallet, "Wallet name")->capture_default_str();
}
void addHotkeyOption(CLI::App* cmd, WalletOptions& o) {
  cmd->add_option("-k,--hotkey", o.hotkey, "Hotkey name")->capture_default_str();
}
void addJsonFlag(CLI::App* cmd, WalletOptions& o) {
  cmd->add_flag("--json", o.json, "Print JSON");
}

struct NewKeyOptions {
  std::string scheme = "ecdsa";
  std::size_t words = crypto::kDefaultMnemonicWords;
  bool overwrite = false;
  std::string kdf = "moderate";
  PasswordSource password;
};

void addNewKeyOptions(CLI::App* cmd, NewKeyOptions& o, bool withPassword) {
  cmd->add_option("--scheme", o.scheme,
                  "Key scheme: ecdsa (secp256k1) or sr25519; merit-chain accepts either")
      ->capture_default_str();
  cmd->add_option("--words", o.words, "Mnemonic length: 12, 15, 18, 21 or 24 words")->capture_default_str();
  cmd->add_flag("--overwrite", o.overwrite, "Replace an existing key of the same name");
  if (withPassword) {
    cmd->add_option(
        "--password-file", o.password.passwordFile,
        "Read the coldkey password from the first line of FILE (else MERIT_PASSWORD, else a prompt)");
    cmd->add_option("--kdf", o.kdf,
                    "Argon2id cost: moderate (default, ~1 s) or interactive (fast, for dev wallets)")
        ->capture_default_str();
  }
}

// The key a phrase gives in the chosen scheme: ecdsa from a BIP39 mnemonic (mnemonic.h); sr25519
// from a Substrate secret URI, i.e. a mnemonic optionally followed by //hard and /soft junctions.
Result<AnyPrivateKey> keyFromPhrase(KeyScheme scheme, std::string_view phrase) {
  if (scheme == KeyScheme::kEcdsa) {
    MERIT_ASSIGN_OR_RETURN(auto key, crypto::keyFromMnemonic(phrase));
    return AnyPrivateKey(std::move(key));
  }
  MERIT_ASSIGN_OR_RETURN(auto key, crypto::sr25519::keypairFromSuri(phrase));
  return AnyPrivateKey(std::move(key));
}

Result<void> makeColdkey(const WalletOptions& w, const NewKeyOptions& o, const AnyPrivateKey& key) {
  MERIT_ASSIGN_OR_RETURN(auto kdf, crypto::KdfParams::byName(o.kdf));
  Wallet wallet(crypto::defaultMeritHome(), w.wallet);
  MERIT_TRY(crypto::validateKeyName("wallet", w.wallet));
  if (!o.overwrite && wallet.hasColdkey()) {
    return fail(ErrorCode::kAlreadyExists, "wallet '" + w.wallet + "' already has a coldkey at " +
                                               wallet.coldkeyPath().string() +
                                               " (use --overwrite to replace it)");
  }
  MERIT_ASSIGN_OR_RETURN(
      SecretBytes password,
      readPassword(o.password, "Password to encrypt the coldkey of '" + w.wallet + "': ", true));
  return wallet.writeColdkey(key, password, kdf, o.overwrite);
}

// Prints a new key, with its mnemonic when there is one.
void printNewKey(json& out, const std::string& role, const AnyPublicKey& pub, const SecretBytes* mnemonic,
                 bool asJson) {
  json k = keyJson(pub);
  if (mnemonic != nullptr) k["mnemonic"] = std::string(mnemonic->revealText());
  if (asJson) {
    out[role] = std::move(k);
    return;
  }
  std::printf("%s: %s\n", role.c_str(), pub.ss58Address().c_str());
  if (mnemonic != nullptr) {
    std::printf("  mnemonic (write it down and keep it offline; it restores this key):\n    %.*s\n",
                static_cast<int>(mnemonic->size()), mnemonic->revealText().data());
  }
}

int runCreate(const WalletOptions& w, const NewKeyOptions& o, bool withHotkey) {
  auto scheme = crypto::parseScheme(o.scheme);
  if (!scheme) return report(scheme.error().withContext("--scheme"));
  Wallet wallet(crypto::defaultMeritHome(), w.wallet);
  if (withHotkey && !o.overwrite && wallet.hasHotkey(w.hotkey)) {
    // Check before asking for a password, so nothing is half-created.
    return report(Error(ErrorCode::kAlreadyExists, "hotkey '" + w.hotkey + "' of wallet '" + w.wallet +
                                                       "' already exists (use --overwrite to replace it)"));
  }
  auto coldPhrase = crypto::generateMnemonic(o.words);
  if (!coldPhrase) return report(coldPhrase.error());
  auto cold = keyFromPhrase(*scheme, coldPhrase->revealText());
  if (!cold) return report(cold.error());
  if (auto ok = makeColdkey(w, o, *cold); !ok) return report(ok.error());

  json out = {{"wallet", w.wallet}, {"path", wallet.dir().string()}};
  if (!w.json) std::printf("wallet '%s' at %s\n", w.wallet.c_str(), wallet.dir().string().c_str());
  printNewKey(out, "coldkey", cold->publicKey(), &*coldPhrase, w.json);
  if (withHotkey) {
    auto hotPhrase = crypto::generateMnemonic(o.words);
    if (!hotPhrase) return report(hotPhrase.error());
    auto hot = keyFromPhrase(*scheme, hotPhrase->revealText());
    if (!hot) return report(hot.error());
    if (auto ok = wallet.writeHotkey(w.hotkey, *hot, o.overwrite); !ok) return report(ok.error());
    out["hotkeyName"] = w.hotkey;
    printNewKey(out, "hotkey", hot->publicKey(), &*hotPhrase, w.json);
  }
  if (w.json) std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

int runNewHotkey(const WalletOptions& w, const NewKeyOptions& o) {
  auto scheme = crypto::parseScheme(o.scheme);
  if (!scheme) return report(scheme.error().withContext("--scheme"));
  Wallet wallet(crypto::defaultMeritHome(), w.wallet);
  auto phrase = crypto::generateMnemonic(o.words);
  if (!phrase) return report(phrase.error());
  auto key = keyFromPhrase(*scheme, phrase->revealText());
  if (!key) return report(key.error());
  if (auto ok = wallet.writeHotkey(w.hotkey, *key, o.overwrite); !ok) return report(ok.error());
  json out = {{"wallet", w.wallet}, {"hotkeyName", w.hotkey}};
  printNewKey(out, "hotkey", key->publicKey(), &*phrase, w.json);
  if (w.json) std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

int runRegen(const WalletOptions& w, const NewKeyOptions& o, bool coldkey, std::string& mnemonicText,
             const std::string& mnemonicFile) {
  if (!mnemonicText.empty()) {
    crypto::secureZero(mnemonicText.data(), mnemonicText.size());
    return report(
        Error(ErrorCode::kInvalidArgument,
              "--mnemonic is refused: words on the command line are visible to every user of this machine "
              "(ps, /proc) and stay in the shell's history. Use --mnemonic-file FILE, pipe the words on "
              "standard input, or type them at the prompt"));
  }
  auto scheme = crypto::parseScheme(o.scheme);
  if (!scheme) return report(scheme.error().withContext("--scheme"));
  auto phrase = readMnemonic(mnemonicFile);
  if (!phrase) return report(phrase.error());
  auto key = keyFromPhrase(*scheme, phrase->revealText());
  if (!key) return report(key.error().withContext("invalid mnemonic"));
  Wallet wallet(crypto::defaultMeritHome(), w.wallet);
  auto ok = coldkey ? makeColdkey(w, o, *key) : wallet.writeHotkey(w.hotkey, *key, o.overwrite);
  if (!ok) return report(ok.error());
  json out = {{"wallet", w.wallet}};
  if (!coldkey) out["hotkeyName"] = w.hotkey;
  printNewKey(out, coldkey ? "coldkey" : "hotkey", key->publicKey(), nullptr, w.json);
  if (w.json) std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

json describeWallet(const Wallet& wallet, std::vector<std::string>& problems) {
  json j = {{"name", wallet.name()}, {"path", wallet.dir().string()}};
  if (auto pub = wallet.coldkeyPublicAny()) {
    j["coldkey"] = keyJson(*pub);
    j["coldkey"]["encrypted"] = true;
  } else if (pub.error().code() != ErrorCode::kNotFound) {
    problems.push_back(pub.error().message());
  }
  json hotkeys = json::array();
  if (auto names = wallet.hotkeyNames()) {
    for (const auto& n : *names) {
      if (auto pub = wallet.hotkeyPublicAny(n)) {
        json h = keyJson(*pub);
        h["name"] = n;
        hotkeys.push_back(std::move(h));
      } else {
        problems.push_back(pub.error().message());
      }
    }
  } else {
    problems.push_back(names.error().message());
  }
  j["hotkeys"] = std::move(hotkeys);
  return j;
}

void printWalletHuman(const json& j) {
  std::printf("wallet %s  (%s)\n", j["name"].get<std::string>().c_str(),
              j["path"].get<std::string>().c_str());
  if (j.contains("coldkey")) {
    std::printf("  coldkey  %s  (%s, encrypted)\n", j["coldkey"]["ss58Address"].get<std::string>().c_str(),
                j["coldkey"]["scheme"].get<std::string>().c_str());
  } else {
    std::printf("  coldkey  none\n");
  }
  for (const auto& h : j["hotkeys"]) {
    std::printf("  hotkey   %-16s %s  (%s)\n", h["name"].get<std::string>().c_str(),
                h["ss58Address"].get<std::string>().c_str(), h["scheme"].get<std::string>().c_str());
  }
}

int runList(const WalletOptions& w) {
  auto home = crypto::defaultMeritHome();
  auto names = Wallet::list(home);
  if (!names) return report(names.error());
  json all = json::array();
  std::vector<std::string> problems;
  for (const auto& n : *names) all.push_back(describeWallet(Wallet(home, n), problems));
  if (w.json) {
    std::printf("%s\n", json({{"home", home.string()}, {"wallets", all}}).dump(2).c_str());
  } else if (all.empty()) {
    std::printf("no wallets in %s (create one with: merit wallet create)\n", home.string().c_str());
  } else {
    for (const auto& j : all) printWalletHuman(j);
  }
  for (const auto& p : problems) std::fprintf(stderr, "warning: %s\n", p.c_str());
  return kExitOk;
}

int runShow(const WalletOptions& w) {
  auto ok = crypto::validateKeyName("wallet", w.wallet);
  if (!ok) return report(ok.error());
  Wallet wallet(crypto::defaultMeritHome(), w.wallet);
  std::error_code ec;
  if (!std::filesystem::exists(wallet.dir(), ec)) {
    return report(Error(ErrorCode::kNotFound, "no wallet '" + w.wallet + "' at " + wallet.dir().string()));
  }
  std::vector<std::string> problems;
  json j = describeWallet(wallet, problems);
  if (w.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    printWalletHuman(j);
  }
  for (const auto& p : problems) std::fprintf(stderr, "warning: %s\n", p.c_str());
  return problems.empty() ? kExitOk : kExitError;
}

struct MessageOptions {
  std::string text;
  std::string file;
  std::string hex;
};

void addMessageOptions(CLI::App* cmd, MessageOptions& m) {
  auto* t = cmd->add_option("-m,--message", m.text, "The message, as text");
  auto* f = cmd->add_option("--file", m.file, "Read the message from FILE (bytes as they are)");
  auto* h = cmd->add_option("--hex", m.hex, "The message, as hex bytes");
  t->excludes(f)->excludes(h);
  f->excludes(h);
}

Result<Bytes> messageBytes(const MessageOptions& m) {
  if (!m.file.empty()) {
    MERIT_ASSIGN_OR_RETURN(std::string content, readFile(m.file, kMaxMessageFile));
    return toBytes(content);
  }
  if (!m.hex.empty()) return fromHex(m.hex);
  return toBytes(m.text);
}

int runSign(const WalletOptions& w, const MessageOptions& m, bool useColdkey, const PasswordSource& pw) {
  auto msg = messageBytes(m);
  if (!msg) return report(msg.error());
  Wallet wallet(crypto::defaultMeritHome(), w.wallet);
  Result<AnyPrivateKey> key = fail(ErrorCode::kInternal, "no key");
  if (useColdkey) {
    auto password = readPassword(pw, "Password of the coldkey of '" + w.wallet + "': ", false);
    if (!password) return report(password.error());
    key = wallet.unlockColdkeyAny(*password);
  } else {
    key = wallet.loadHotkeyAny(w.hotkey);
  }
  if (!key) return report(key.error());
  // Wrapped ("<Bytes>" ... "</Bytes>"): whatever bytes the user is asked to sign, the result
  // can never authorise an extrinsic, a wire request or a handshake (crypto/domains.h), in
  // either scheme (sr25519 signs the wrapped bytes with context "substrate").
  crypto::AnySignature sig = key->signMessage(*msg);
  if (w.json) {
    json out = {{"signature", sig.toHex()}, {"signer", keyJson(key->publicKey())}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s\n", sig.toHex().c_str());
    std::fprintf(stderr, "signed by %s (%s)\n", key->publicKey().ss58Address().c_str(),
                 std::string(crypto::schemeName(key->scheme())).c_str());
  }
  return kExitOk;
}

int runVerify(const WalletOptions& w, const MessageOptions& m, const std::string& sigHex,
              const std::string& address, const std::string& pubHex) {
  auto msg = messageBytes(m);
  if (!msg) return report(msg.error());
  // The scheme follows from the signature's length (65 bytes ecdsa, 64 sr25519).
  auto sig = crypto::AnySignature::fromHexAnyScheme(sigHex);
  if (!sig) return report(sig.error().withContext("--signature"));

  // The signer is named by public key or by address. With an address: ecdsa recovers the key
  // from the signature and compares its account id; sr25519's account id is the key itself.
  Result<void> verdict;
  std::string signer;
  if (!pubHex.empty()) {
    auto bytes = fromHex(pubHex);
    if (!bytes) return report(bytes.error().withContext("--public-key"));
    auto pub = AnyPublicKey::fromBytes(
        bytes->size() == crypto::sr25519::PublicKey::kSize ? KeyScheme::kSr25519 : KeyScheme::kEcdsa, *bytes);
    if (!pub) return report(pub.error().withContext("--public-key (33 bytes ecdsa or 32 bytes sr25519)"));
    verdict = crypto::verifyAnyMessage(*pub, *msg, *sig);
    signer = pub->ss58Address();
  } else {
    auto account = crypto::ss58Decode(address);
    if (!account) return report(account.error().withContext("--address"));
    auto who = crypto::verifyAnyMessageByAccount(*account, *msg, *sig);
    if (!who) verdict = fail(who.error());
    signer = address;
  }
  if (w.json) {
    json out = {
        {"valid", verdict.has_value()}, {"signer", signer}, {"scheme", crypto::schemeName(sig->scheme())}};
    if (!verdict) out["reason"] = verdict.error().message();
    std::printf("%s\n", out.dump(2).c_str());
  } else if (verdict) {
    std::printf("valid: signed by %s (%s)\n", signer.c_str(),
                std::string(crypto::schemeName(sig->scheme())).c_str());
  } else {
    std::printf("invalid: %s\n", verdict.error().message().c_str());
  }
  return verdict ? kExitOk : kExitFailure;
}

struct ImportOptions {
  std::string path;
  std::string hotkey;  // empty: every file in DIR/hotkeys
  std::string name;    // empty: the folder's name
  bool overwrite = false;
  bool noColdkey = false;  // hotkeys only (a miner or validator host needs no coldkey)
  std::string kdf = "moderate";
  PasswordSource password;    // meritnet's new coldkey password
  PasswordSource btPassword;  // the btcli wallet's password
};

constexpr std::size_t kMaxBittensorKeyfile = 64 * 1024;

// Reads one btcli key file, asking for the btcli password (once) when the file is encrypted.
Result<crypto::sr25519::Keypair> readBittensorKey(const std::filesystem::path& file, const ImportOptions& o,
                                                  std::optional<SecretBytes>& btPassword) {
  auto text = readFile(file, kMaxBittensorKeyfile);
  if (!text) return fail(text.error());
  SecretBytes content = SecretBytes::takeString(*text);
  const SecretBytes* pw = nullptr;
  if (crypto::bittensor::detectEncoding(content.reveal()) == crypto::bittensor::KeyfileEncoding::kNacl) {
    if (!btPassword) {
      MERIT_ASSIGN_OR_RETURN(
          SecretBytes p,
          readPassword(o.btPassword, "Password of the btcli key " + file.string() + ": ", false));
      btPassword.emplace(std::move(p));
      std::fprintf(stderr, "decrypting %s (Argon2i, 512 MiB: a few seconds)\n", file.string().c_str());
    }
    pw = &*btPassword;
  }
  auto key = crypto::bittensor::readKeyfile(content.reveal(), pw);
  if (!key) return fail(key.error().withContext(file.string()));
  return key;
}

int runImportBittensor(const WalletOptions& w, const ImportOptions& o) {
  namespace fs = std::filesystem;
  const fs::path dir(o.path);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return report(Error(ErrorCode::kNotFound, "no btcli wallet folder at " + dir.string()));
  }
  std::string name = o.name.empty() ? fs::absolute(dir, ec).lexically_normal().filename().string() : o.name;
  if (name.empty()) name = fs::absolute(dir, ec).lexically_normal().parent_path().filename().string();
  if (auto ok = crypto::validateKeyName("wallet", name); !ok) return report(ok.error().withContext("--name"));
  auto kdf = crypto::KdfParams::byName(o.kdf);
  if (!kdf) return report(kdf.error());

  std::vector<std::string> hotkeyNames;
  if (!o.hotkey.empty()) {
    hotkeyNames.push_back(o.hotkey);
  } else if (fs::is_directory(dir / "hotkeys", ec)) {
    for (const auto& entry : fs::directory_iterator(dir / "hotkeys", ec)) {
      if (entry.is_regular_file()) hotkeyNames.push_back(entry.path().filename().string());
    }
    std::sort(hotkeyNames.begin(), hotkeyNames.end());
  }
  for (const auto& h : hotkeyNames) {
    if (auto ok = crypto::validateKeyName("hotkey", h); !ok) return report(ok.error());
  }
  const bool hasColdkey = !o.noColdkey && fs::exists(dir / "coldkey", ec);
  if (!hasColdkey && hotkeyNames.empty()) {
    return report(Error(ErrorCode::kNotFound, dir.string() + " has neither a coldkey nor hotkeys to import"));
  }

  // Nothing is written unless everything reads and checks out, and nothing is replaced without
  // --overwrite.
  Wallet wallet(crypto::defaultMeritHome(), name);
  if (!o.overwrite) {
    if (hasColdkey && wallet.hasColdkey()) {
      return report(Error(ErrorCode::kAlreadyExists, "wallet '" + name + "' already has a coldkey at " +
                                                         wallet.coldkeyPath().string() +
                                                         " (use --overwrite, or --name for another wallet)"));
    }
    for (const auto& h : hotkeyNames) {
      if (wallet.hasHotkey(h)) {
        std::string message = "hotkey '";
        message.append(h).append("' of wallet '").append(name).append("' already exists (use --overwrite)");
        return report(Error(ErrorCode::kAlreadyExists, message));
      }
    }
  }

  std::optional<SecretBytes> btPassword;
  std::optional<AnyPrivateKey> cold;
  if (hasColdkey) {
    auto key = readBittensorKey(dir / "coldkey", o, btPassword);
    if (!key) return report(key.error());
    // coldkeypub.txt, when there, must state the same key.
    if (auto pubText = readFile(dir / "coldkeypub.txt", kMaxBittensorKeyfile)) {
      auto stated = crypto::bittensor::parsePublicJson(*pubText);
      if (!stated) return report(stated.error().withContext((dir / "coldkeypub.txt").string()));
      if (*stated != key->publicKey()) {
        return report(Error(ErrorCode::kInvalidArgument, (dir / "coldkeypub.txt").string() +
                                                             " states another key than the coldkey holds"));
      }
    } else if (pubText.error().code() != ErrorCode::kNotFound) {
      return report(pubText.error());
    }
    cold.emplace(std::move(*key));
  }
  std::vector<AnyPrivateKey> hots;
  for (const auto& h : hotkeyNames) {
    auto key = readBittensorKey(dir / "hotkeys" / h, o, btPassword);
    if (!key) return report(key.error());
    hots.emplace_back(std::move(*key));
  }

  if (cold) {
    auto password = readPassword(
        o.password, "New password to encrypt the coldkey in meritnet wallet '" + name + "': ", true);
    if (!password) return report(password.error());
    if (auto ok = wallet.writeColdkey(*cold, *password, *kdf, o.overwrite); !ok) return report(ok.error());
  }
  for (std::size_t i = 0; i < hots.size(); ++i) {
    if (auto ok = wallet.writeHotkey(hotkeyNames[i], hots[i], o.overwrite); !ok) return report(ok.error());
  }

  json out = {{"wallet", name}, {"path", wallet.dir().string()}, {"from", dir.string()}};
  if (!w.json)
    std::printf("imported %s into wallet '%s' at %s\n", dir.string().c_str(), name.c_str(),
                wallet.dir().string().c_str());
  if (cold) {
    if (w.json) {
      out["coldkey"] = keyJson(cold->publicKey());
    } else {
      std::printf("coldkey: %s  (sr25519)\n", cold->publicKey().ss58Address().c_str());
    }
  }
  json hk = json::array();
  for (std::size_t i = 0; i < hots.size(); ++i) {
    json k = keyJson(hots[i].publicKey());
    k["name"] = hotkeyNames[i];
    hk.push_back(std::move(k));
    if (!w.json) {
      std::printf("hotkey %s: %s  (sr25519)\n", hotkeyNames[i].c_str(),
                  hots[i].publicKey().ss58Address().c_str());
    }
  }
  out["hotkeys"] = std::move(hk);
  if (w.json) std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

}  // namespace

void addWalletCommands(CLI::App& app, int& exitCode) {
  auto* wallet = app.add_subcommand("wallet", "Create and use wallets (coldkey + hotkeys) in $MERIT_HOME");
  wallet->require_subcommand(1);

  // Each command's options live as long as the app (callbacks run during parse).
  auto w = std::make_shared<WalletOptions>();
  auto nk = std::make_shared<NewKeyOptions>();
  auto mnemonicText = std::make_shared<std::string>();
  auto mnemonicFile = std::make_shared<std::string>();
  auto msg = std::make_shared<MessageOptions>();
  auto useColdkey = std::make_shared<bool>(false);
  auto sigHex = std::make_shared<std::string>();
  auto address = std::make_shared<std::string>();
  auto pubHex = std::make_shared<std::string>();
  auto noHotkey = std::make_shared<bool>(false);

  auto* create = wallet->add_subcommand(
      "create", "Create a wallet: an encrypted coldkey and a hotkey, each with a mnemonic");
  addWalletOption(create, *w);
  addHotkeyOption(create, *w);
  addNewKeyOptions(create, *nk, true);
  create->add_flag("--no-hotkey", *noHotkey, "Create only the coldkey");
  addJsonFlag(create, *w);
  create->callback([&exitCode, w, nk, noHotkey] { exitCode = runCreate(*w, *nk, !*noHotkey); });

  auto* newHotkey = wallet->add_subcommand("new-hotkey", "Add a hotkey to a wallet");
  addWalletOption(newHotkey, *w);
  addHotkeyOption(newHotkey, *w);
  addNewKeyOptions(newHotkey, *nk, false);
  addJsonFlag(newHotkey, *w);
  newHotkey->callback([&exitCode, w, nk] { exitCode = runNewHotkey(*w, *nk); });

  auto* list = wallet->add_subcommand("list", "List wallets and their addresses");
  addJsonFlag(list, *w);
  list->callback([&exitCode, w] { exitCode = runList(*w); });

  auto* show = wallet->add_subcommand("show", "Show a wallet's addresses and files (never its secrets)");
  addWalletOption(show, *w);
  addJsonFlag(show, *w);
  show->callback([&exitCode, w] { exitCode = runShow(*w); });

  for (bool cold : {true, false}) {
    auto* regen = wallet->add_subcommand(
        cold ? "regen-coldkey" : "regen-hotkey",
        cold ? "Restore a coldkey from its mnemonic" : "Restore a hotkey from its mnemonic");
    addWalletOption(regen, *w);
    if (!cold) addHotkeyOption(regen, *w);
    addNewKeyOptions(regen, *nk, cold);
    // Kept only to refuse it with a useful message (hidden from --help).
    regen->add_option("--mnemonic", *mnemonicText)->group("");
    regen->add_option("--mnemonic-file", *mnemonicFile,
                      "Read the mnemonic from the first line of FILE (else standard input when piped, else a "
                      "no-echo prompt)");
    addJsonFlag(regen, *w);
    regen->callback([&exitCode, w, nk, cold, mnemonicText, mnemonicFile] {
      exitCode = runRegen(*w, *nk, cold, *mnemonicText, *mnemonicFile);
    });
  }

  auto* sign = wallet->add_subcommand("sign",
                                      "Sign a message (as <Bytes>MESSAGE</Bytes>, never a transaction) with "
                                      "a hotkey (default) or the coldkey");
  addWalletOption(sign, *w);
  addHotkeyOption(sign, *w);
  addMessageOptions(sign, *msg);
  sign->add_flag("--use-coldkey", *useColdkey, "Sign with the coldkey (asks for its password)");
  sign->add_option("--password-file", nk->password.passwordFile,
                   "Coldkey password file (with --use-coldkey)");
  addJsonFlag(sign, *w);
  sign->callback(
      [&exitCode, w, msg, useColdkey, nk] { exitCode = runSign(*w, *msg, *useColdkey, nk->password); });

  auto* verify = wallet->add_subcommand("verify", "Verify a signature; exit code 0 if valid, 1 if not");
  addMessageOptions(verify, *msg);
  verify->add_option("-s,--signature", *sigHex, "The signature, hex: 65 bytes ecdsa or 64 bytes sr25519")
      ->required();
  auto* addr = verify->add_option("-a,--address", *address, "The signer's SS58 address");
  auto* pub = verify->add_option(
      "--public-key", *pubHex, "The signer's public key, hex (33-byte compressed ecdsa or 32-byte sr25519)");
  addr->excludes(pub);
  verify->callback([&exitCode, w, msg, sigHex, address, pubHex] {
    if (address->empty() && pubHex->empty()) {
      throw CLI::RequiredError("--address or --public-key");
    }
    exitCode = runVerify(*w, *msg, *sigHex, *address, *pubHex);
  });
  addJsonFlag(verify, *w);

  auto imp = std::make_shared<ImportOptions>();
  imp->btPassword.envVar = "MERIT_BITTENSOR_PASSWORD";
  imp->btPassword.fileOption = "--bittensor-password-file";
  auto* importBt = wallet->add_subcommand(
      "import-bittensor",
      "Import a btcli wallet folder (coldkey, coldkeypub.txt, hotkeys/) as sr25519 keys; the coldkey is "
      "re-encrypted with a new password");
  importBt->add_option("--path", imp->path, "The btcli wallet folder, e.g. ~/.bittensor/wallets/NAME")
      ->required();
  importBt->add_option("-k,--hotkey", imp->hotkey, "Import only this hotkey (default: every hotkey)");
  importBt->add_option("--name", imp->name, "The meritnet wallet to create (default: the folder's name)");
  importBt->add_option("--bittensor-password-file", imp->btPassword.passwordFile,
                       "Read the btcli wallet's password from the first line of FILE (else "
                       "MERIT_BITTENSOR_PASSWORD, else a prompt)");
  importBt->add_option(
      "--password-file", imp->password.passwordFile,
      "Read the new coldkey password from the first line of FILE (else MERIT_PASSWORD, else a "
      "prompt)");
  importBt->add_option("--kdf", imp->kdf, "Argon2id cost of the new coldkey file: moderate or interactive")
      ->capture_default_str();
  importBt->add_flag("--overwrite", imp->overwrite, "Replace keys of the same names");
  importBt->add_flag("--no-coldkey", imp->noColdkey,
                     "Import hotkeys only (no btcli password needed for them)");
  addJsonFlag(importBt, *w);
  importBt->callback([&exitCode, w, imp] { exitCode = runImportBittensor(*w, *imp); });
}

}  // namespace merit::cli
