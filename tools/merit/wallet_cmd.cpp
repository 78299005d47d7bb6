// `merit wallet ...`: create and inspect wallets, regenerate keys from mnemonics, sign and
// verify messages. Secrets are printed only where the user must see them once (a new key's
// mnemonic); `show` and `list` never print one.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "merit/crypto/mnemonic.h"
#include "merit/crypto/prompt.h"
#include "merit/crypto/ss58.h"
#include "merit/crypto/wallet.h"
#include "merit/util/file.h"

#include "commands.h"

namespace merit::cli {

namespace {

using crypto::PasswordSource;
using crypto::PrivateKey;
using crypto::PublicKey;
using crypto::readMnemonic;
using crypto::readPassword;
using crypto::SecretBytes;
using crypto::Wallet;
using nlohmann::json;

constexpr std::size_t kMaxMessageFile = 64 * 1024 * 1024;

json keyJson(const PublicKey& pub) {
  return {{"ss58Address", crypto::ss58Address(pub)},
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
  std::size_t words = crypto::kDefaultMnemonicWords;
  bool overwrite = false;
  std::string kdf = "moderate";
  PasswordSource password;
};

void addNewKeyOptions(CLI::App* cmd, NewKeyOptions& o, bool withPassword) {
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

Result<void> makeColdkey(const WalletOptions& w, const NewKeyOptions& o, const PrivateKey& key) {
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
void printNewKey(json& out, const std::string& role, const PublicKey& pub, const SecretBytes* mnemonic,
                 bool asJson) {
  json k = keyJson(pub);
  if (mnemonic != nullptr) k["mnemonic"] = std::string(mnemonic->revealText());
  if (asJson) {
    out[role] = std::move(k);
    return;
  }
  std::printf("%s: %s\n", role.c_str(), crypto::ss58Address(pub).c_str());
  if (mnemonic != nullptr) {
    std::printf("  mnemonic (write it down and keep it offline; it restores this key):\n    %.*s\n",
                static_cast<int>(mnemonic->size()), mnemonic->revealText().data());
  }
}

int runCreate(const WalletOptions& w, const NewKeyOptions& o, bool withHotkey) {
  Wallet wallet(crypto::defaultMeritHome(), w.wallet);
  if (withHotkey && !o.overwrite && wallet.hasHotkey(w.hotkey)) {
    // Check before asking for a password, so nothing is half-created.
    return report(Error(ErrorCode::kAlreadyExists, "hotkey '" + w.hotkey + "' of wallet '" + w.wallet +
                                                       "' already exists (use --overwrite to replace it)"));
  }
  auto coldPhrase = crypto::generateMnemonic(o.words);
  if (!coldPhrase) return report(coldPhrase.error());
  auto cold = crypto::keyFromMnemonic(coldPhrase->revealText());
  if (!cold) return report(cold.error());
  if (auto ok = makeColdkey(w, o, *cold); !ok) return report(ok.error());

  json out = {{"wallet", w.wallet}, {"path", wallet.dir().string()}};
  if (!w.json) std::printf("wallet '%s' at %s\n", w.wallet.c_str(), wallet.dir().string().c_str());
  printNewKey(out, "coldkey", cold->publicKey(), &*coldPhrase, w.json);
  if (withHotkey) {
    auto hotPhrase = crypto::generateMnemonic(o.words);
    if (!hotPhrase) return report(hotPhrase.error());
    auto hot = crypto::keyFromMnemonic(hotPhrase->revealText());
    if (!hot) return report(hot.error());
    if (auto ok = wallet.writeHotkey(w.hotkey, *hot, o.overwrite); !ok) return report(ok.error());
    out["hotkeyName"] = w.hotkey;
    printNewKey(out, "hotkey", hot->publicKey(), &*hotPhrase, w.json);
  }
  if (w.json) std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

int runNewHotkey(const WalletOptions& w, const NewKeyOptions& o) {
  Wallet wallet(crypto::defaultMeritHome(), w.wallet);
  auto phrase = crypto::generateMnemonic(o.words);
  if (!phrase) return report(phrase.error());
  auto key = crypto::keyFromMnemonic(phrase->revealText());
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
  auto phrase = readMnemonic(mnemonicFile);
  if (!phrase) return report(phrase.error());
  auto key = crypto::keyFromMnemonic(phrase->revealText());
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
  if (auto pub = wallet.coldkeyPublic()) {
    j["coldkey"] = keyJson(*pub);
    j["coldkey"]["encrypted"] = true;
  } else if (pub.error().code() != ErrorCode::kNotFound) {
    problems.push_back(pub.error().message());
  }
  json hotkeys = json::array();
  if (auto names = wallet.hotkeyNames()) {
    for (const auto& n : *names) {
      if (auto pub = wallet.hotkeyPublic(n)) {
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
    std::printf("  coldkey  %s  (encrypted)\n", j["coldkey"]["ss58Address"].get<std::string>().c_str());
  } else {
    std::printf("  coldkey  none\n");
  }
  for (const auto& h : j["hotkeys"]) {
    std::printf("  hotkey   %-16s %s\n", h["name"].get<std::string>().c_str(),
                h["ss58Address"].get<std::string>().c_str());
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
  Result<PrivateKey> key = fail(ErrorCode::kInternal, "no key");
  if (useColdkey) {
    auto password = readPassword(pw, "Password of the coldkey of '" + w.wallet + "': ", false);
    if (!password) return report(password.error());
    key = wallet.unlockColdkey(*password);
  } else {
    key = wallet.loadHotkey(w.hotkey);
  }
  if (!key) return report(key.error());
  // Wrapped ("<Bytes>" ... "</Bytes>"): whatever bytes the user is asked to sign, the result
  // can never authorise an extrinsic, a wire request or a handshake (crypto/domains.h).
  crypto::Signature sig = crypto::signMessage(*key, *msg);
  if (w.json) {
    json out = {{"signature", sig.toHex()}, {"signer", keyJson(key->publicKey())}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s\n", sig.toHex().c_str());
    std::fprintf(stderr, "signed by %s\n", crypto::ss58Address(key->publicKey()).c_str());
  }
  return kExitOk;
}

int runVerify(const WalletOptions& w, const MessageOptions& m, const std::string& sigHex,
              const std::string& address, const std::string& pubHex) {
  auto msg = messageBytes(m);
  if (!msg) return report(msg.error());
  auto sig = crypto::Signature::fromHex(sigHex);
  if (!sig) return report(sig.error().withContext("--signature"));

  // The signer is named by public key or by address; with an address, the key recovered from the
  // signature must hash to the address's account id.
  Result<void> verdict;
  std::string signer;
  if (!pubHex.empty()) {
    auto pub = PublicKey::fromHex(pubHex);
    if (!pub) return report(pub.error().withContext("--public-key"));
    verdict = crypto::verifyMessage(*pub, *msg, *sig);
    signer = crypto::ss58Address(*pub);
  } else {
    auto account = crypto::ss58Decode(address);
    if (!account) return report(account.error().withContext("--address"));
    auto recovered = crypto::recoverMessageSigner(*msg, *sig);
    if (!recovered) {
      verdict = fail(recovered.error());
    } else if (recovered->accountId() != *account) {
      verdict = fail(ErrorCode::kUnauthorized, "signature was not made by this address");
    }
    signer = address;
  }
  if (w.json) {
    json out = {{"valid", verdict.has_value()}, {"signer", signer}};
    if (!verdict) out["reason"] = verdict.error().message();
    std::printf("%s\n", out.dump(2).c_str());
  } else if (verdict) {
    std::printf("valid: signed by %s\n", signer.c_str());
  } else {
    std::printf("invalid: %s\n", verdict.error().message().c_str());
  }
  return verdict ? kExitOk : kExitFailure;
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
  verify->add_option("-s,--signature", *sigHex, "The 65-byte signature, hex")->required();
  auto* addr = verify->add_option("-a,--address", *address, "The signer's SS58 address");
  auto* pub = verify->add_option("--public-key", *pubHex, "The signer's compressed public key, hex");
  addr->excludes(pub);
  verify->callback([&exitCode, w, msg, sigHex, address, pubHex] {
    if (address->empty() && pubHex->empty()) {
      throw CLI::RequiredError("--address or --public-key");
    }
    exitCode = runVerify(*w, *msg, *sigHex, *address, *pubHex);
  });
  addJsonFlag(verify, *w);
}

}  // namespace merit::cli
