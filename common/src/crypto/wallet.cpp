#include "merit/crypto/wallet.h"

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "merit/crypto/ss58.h"
#include "merit/util/file.h"

namespace merit::crypto {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kFormat = "meritnet-keyfile";
constexpr int kVersion = 1;
constexpr std::string_view kKdfName = "argon2id13";
constexpr std::string_view kCipherName = "xchacha20poly1305-ietf";
constexpr std::size_t kMaxKeyfileBytes = 64 * 1024;
// Bounds on the cost a key file may ask for, so a hostile file cannot make us allocate or spin
// without limit.
constexpr std::uint64_t kMaxMemLimit = 4ULL << 30;
constexpr std::uint64_t kMaxOpsLimit = 64;
constexpr mode_t kFileMode = 0600;
constexpr mode_t kDirMode = 0700;

Error corrupt(const std::string& why) {
  return Error(ErrorCode::kCorruption, "key file is damaged: " + why);
}

// The associated data: everything in the header that the ciphertext must be bound to. ECDSA
// files keep the tag they always had; sr25519 files bind their scheme in the tag too.
Bytes associatedData(const AnyPublicKey& pub, const KdfParams& kdf, ByteView salt, ByteView nonce) {
  Bytes ad = toBytes(pub.scheme() == KeyScheme::kEcdsa ? "meritnet-keyfile/1" : "meritnet-keyfile/1/sr25519");
  append(ad, pub.bytes());
  appendU64Le(ad, kdf.opsLimit);
  appendU64Le(ad, kdf.memLimitBytes);
  append(ad, salt);
  append(ad, nonce);
  return ad;
}

// The secret's size in a key file: the 32-byte secp256k1 scalar, or sr25519's 64-byte
// schnorrkel form scalar ‖ nonce.
std::size_t secretSize(KeyScheme scheme) {
  return scheme == KeyScheme::kEcdsa ? PrivateKey::kSize : sr25519::Keypair::kSecretSize;
}

Result<SecretArray<crypto_aead_xchacha20poly1305_ietf_KEYBYTES>> deriveKey(const SecretBytes& password,
                                                                           ByteView salt,
                                                                           const KdfParams& kdf) {
  SecretArray<crypto_aead_xchacha20poly1305_ietf_KEYBYTES> key;
  auto pw = password.reveal();
  if (crypto_pwhash(u8(key.mutableBytes()), key.size(), reinterpret_cast<const char*>(pw.data()), pw.size(),
                    u8(salt), kdf.opsLimit, static_cast<std::size_t>(kdf.memLimitBytes),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return fail(ErrorCode::kInternal, "Argon2id failed (out of memory?)");
  }
  return key;
}

// Reads a string field that must be present.
Result<std::string> stringField(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fail(corrupt(std::string("missing field '") + key + "'"));
  return it->get<std::string>();
}

Result<std::uint64_t> uintField(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned())
    return fail(corrupt(std::string("missing field '") + key + "'"));
  return it->get<std::uint64_t>();
}

struct ParsedHeader {
  json doc;
  AnyPublicKey pub;
};

Result<ParsedHeader> parseHeader(std::string_view content) {
  json doc = json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return fail(corrupt("not valid JSON"));
  MERIT_ASSIGN_OR_RETURN(std::string format, stringField(doc, "format"));
  if (format != kFormat) return fail(corrupt("not a meritnet key file"));
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() || version->get<int>() != kVersion) {
    return fail(corrupt("unsupported key file version"));
  }
  // Files written before sr25519 have no scheme: they are ecdsa.
  KeyScheme scheme = KeyScheme::kEcdsa;
  if (auto it = doc.find("scheme"); it != doc.end()) {
    if (!it->is_string()) return fail(corrupt("bad 'scheme'"));
    auto parsed = parseScheme(it->get<std::string>());
    if (!parsed) return fail(corrupt(parsed.error().message()));
    scheme = *parsed;
  }
  MERIT_ASSIGN_OR_RETURN(std::string pubHex, stringField(doc, "publicKey"));
  auto pub = AnyPublicKey::fromHex(scheme, pubHex);
  if (!pub)
    return fail(corrupt("bad " + std::string(schemeName(scheme)) + " publicKey: " + pub.error().message()));
  if (auto addr = doc.find("ss58Address"); addr != doc.end()) {
    if (!addr->is_string() || addr->get<std::string>() != pub->ss58Address()) {
      return fail(corrupt("ss58Address does not match publicKey"));
    }
  }
  return ParsedHeader{std::move(doc), *pub};
}

Result<AnyPrivateKey> checkedKey(ByteView secret, const AnyPublicKey& expected) {
  if (expected.scheme() == KeyScheme::kEcdsa) {
    auto key = PrivateKey::fromBytes(secret);
    if (!key) return fail(corrupt("secret is not a valid key"));
    if (key->publicKey() != expected) return fail(corrupt("secret does not match publicKey"));
    return AnyPrivateKey(std::move(*key));
  }
  auto key = sr25519::Keypair::fromSchnorrkelBytes(secret);
  if (!key) return fail(corrupt("secret is not a valid sr25519 key"));
  if (AnyPublicKey(key->publicKey()) != expected) return fail(corrupt("secret does not match publicKey"));
  return AnyPrivateKey(std::move(*key));
}

Result<std::string> encodeImpl(const AnyPublicKey& pub, ByteView secret, const SecretBytes* password,
                               const KdfParams& kdf) {
  ensureSodium();
  json doc;
  doc["format"] = kFormat;
  doc["version"] = kVersion;
  doc["scheme"] = schemeName(pub.scheme());
  doc["publicKey"] = pub.toHex();
  doc["ss58Address"] = pub.ss58Address();
  if (password == nullptr) {
    // Build the secret's hex in a string we wipe, and splice it into the serialised text.
    doc["secretKey"] = "";
    std::string text = doc.dump(2);
    std::string secretHex = toHex(secret);
    auto pos = text.find("\"secretKey\": \"\"");
    text.insert(pos + std::string_view("\"secretKey\": \"").size(), secretHex);
    secureZero(secretHex.data(), secretHex.size());
    return text + "\n";
  }
  if (password->empty()) return fail(ErrorCode::kInvalidArgument, "the coldkey password must not be empty");

  ByteArray<crypto_pwhash_SALTBYTES> salt;
  ByteArray<crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce;
  randomBytes(salt);
  randomBytes(nonce);
  MERIT_ASSIGN_OR_RETURN(auto aeadKey, deriveKey(*password, salt, kdf));
  Bytes ad = associatedData(pub, kdf, salt, nonce);
  Bytes ciphertext(secret.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(u8(MutableByteView(ciphertext)), &clen, u8(secret),
                                             secret.size(), u8(ByteView(ad)), ad.size(), nullptr,
                                             u8(ByteView(nonce)), u8(aeadKey.reveal()));
  ciphertext.resize(clen);
  doc["encryption"] = {{"kdf", kKdfName},     {"opsLimit", kdf.opsLimit}, {"memLimit", kdf.memLimitBytes},
                       {"salt", toHex(salt)}, {"cipher", kCipherName},    {"nonce", toHex(nonce)}};
  doc["ciphertext"] = toHex(ciphertext);
  return doc.dump(2) + "\n";
}

}  // namespace

KdfParams KdfParams::moderate() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}
KdfParams KdfParams::interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}
Result<KdfParams> KdfParams::byName(std::string_view name) {
  if (name == "moderate") return moderate();
  if (name == "interactive") return interactive();
  return fail(ErrorCode::kInvalidArgument,
              "unknown KDF profile '" + std::string(name) + "' (moderate or interactive)");
}

Result<std::string> encodeKeyfile(const PrivateKey& key, const SecretBytes* password, const KdfParams& kdf) {
  return encodeImpl(key.publicKey(), key.revealSecret(), password, kdf);
}

Result<std::string> encodeKeyfile(const AnyPrivateKey& key, const SecretBytes* password,
                                  const KdfParams& kdf) {
  if (const auto* k = key.ecdsa()) return encodeKeyfile(*k, password, kdf);
  auto secret = key.sr25519()->toSchnorrkelBytes();
  return encodeImpl(key.publicKey(), secret.reveal(), password, kdf);
}

Result<AnyKeyfileInfo> inspectAnyKeyfile(std::string_view content) {
  MERIT_ASSIGN_OR_RETURN(ParsedHeader h, parseHeader(content));
  return AnyKeyfileInfo{h.pub, h.doc.contains("encryption")};
}

Result<KeyfileInfo> inspectKeyfile(std::string_view content) {
  MERIT_ASSIGN_OR_RETURN(AnyKeyfileInfo info, inspectAnyKeyfile(content));
  MERIT_ASSIGN_OR_RETURN(PublicKey pub, info.publicKey.requireEcdsa("the key file"));
  return KeyfileInfo{pub, info.encrypted};
}

Result<PrivateKey> decodeKeyfile(std::string_view content, const SecretBytes* password) {
  // The scheme is checked before any decryption: no Argon2 cost, and a clear error.
  MERIT_ASSIGN_OR_RETURN(ParsedHeader h, parseHeader(content));
  if (h.pub.scheme() != KeyScheme::kEcdsa) return fail(wrongSchemeError("the key file", h.pub.scheme()));
  MERIT_ASSIGN_OR_RETURN(AnyPrivateKey key, decodeAnyKeyfile(content, password));
  return std::move(key).takeEcdsa("the key file");
}

Result<AnyPrivateKey> decodeAnyKeyfile(std::string_view content, const SecretBytes* password) {
  ensureSodium();
  MERIT_ASSIGN_OR_RETURN(ParsedHeader h, parseHeader(content));
  json& doc = h.doc;
  const std::size_t size = secretSize(h.pub.scheme());
  auto enc = doc.find("encryption");
  if (enc == doc.end()) {
    auto it = doc.find("secretKey");
    if (it == doc.end() || !it->is_string()) return fail(corrupt("missing field 'secretKey'"));
    std::string& hex = it->get_ref<std::string&>();
    auto secret = fromHex(hex);
    secureZero(hex.data(), hex.size());
    if (!secret || secret->size() != size) {
      if (secret) secureZero(secret->data(), secret->size());
      return fail(corrupt("bad secretKey (an " + std::string(schemeName(h.pub.scheme())) + " secret is " +
                          std::to_string(size) + " bytes)"));
    }
    SecretBytes s{ByteView(*secret)};
    secureZero(secret->data(), secret->size());
    return checkedKey(s.reveal(), h.pub);
  }

  if (!enc->is_object()) return fail(corrupt("bad 'encryption'"));
  MERIT_ASSIGN_OR_RETURN(std::string kdfName, stringField(*enc, "kdf"));
  MERIT_ASSIGN_OR_RETURN(std::string cipherName, stringField(*enc, "cipher"));
  if (kdfName != kKdfName || cipherName != kCipherName) return fail(corrupt("unsupported kdf or cipher"));
  KdfParams kdf{};
  MERIT_ASSIGN_OR_RETURN(kdf.opsLimit, uintField(*enc, "opsLimit"));
  MERIT_ASSIGN_OR_RETURN(kdf.memLimitBytes, uintField(*enc, "memLimit"));
  if (kdf.opsLimit < crypto_pwhash_OPSLIMIT_MIN || kdf.opsLimit > kMaxOpsLimit ||
      kdf.memLimitBytes < crypto_pwhash_MEMLIMIT_MIN || kdf.memLimitBytes > kMaxMemLimit) {
    return fail(corrupt("Argon2id parameters out of range"));
  }
  MERIT_ASSIGN_OR_RETURN(std::string saltHex, stringField(*enc, "salt"));
  MERIT_ASSIGN_OR_RETURN(std::string nonceHex, stringField(*enc, "nonce"));
  MERIT_ASSIGN_OR_RETURN(std::string ctHex, stringField(doc, "ciphertext"));
  auto salt = fromHexFixed<crypto_pwhash_SALTBYTES>(saltHex);
  auto nonce = fromHexFixed<crypto_aead_xchacha20poly1305_ietf_NPUBBYTES>(nonceHex);
  auto ct = fromHex(ctHex);
  if (!salt || !nonce || !ct || ct->size() != size + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return fail(corrupt("bad salt, nonce or ciphertext"));
  }

  if (password == nullptr) {
    return fail(ErrorCode::kInvalidArgument, "this key is encrypted: a password is needed");
  }
  MERIT_ASSIGN_OR_RETURN(auto aeadKey, deriveKey(*password, *salt, kdf));
  Bytes ad = associatedData(h.pub, kdf, *salt, *nonce);
  SecretArray<sr25519::Keypair::kSecretSize> buffer;  // the larger of the two secret sizes
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(u8(buffer.mutableBytes()), &mlen, nullptr, u8(ByteView(*ct)),
                                                 ct->size(), u8(ByteView(ad)), ad.size(),
                                                 u8(ByteView(*nonce)), u8(aeadKey.reveal())) != 0 ||
      mlen != size) {
    return fail(ErrorCode::kUnauthorized, "cannot decrypt the key: wrong password, or the file was altered");
  }
  return checkedKey(buffer.reveal().first(size), h.pub);
}

Result<void> validateKeyName(std::string_view kind, std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && name.front() != '.';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '-' || c == '.');
  }
  if (!ok) {
    return fail(ErrorCode::kInvalidArgument,
                std::string(kind) + " name '" + std::string(name) +
                    "' is invalid: use 1-64 of A-Z a-z 0-9 _ . - (not starting with .)");
  }
  return {};
}

fs::path defaultMeritHome() {
  if (const char* home = std::getenv("MERIT_HOME"); home != nullptr && home[0] != '\0') return home;
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0')
    return fs::path(home) / ".meritnet";
  return fs::path(".meritnet");
}

Wallet::Wallet(fs::path home, std::string name) : m_home(std::move(home)), m_name(std::move(name)) {}

fs::path Wallet::dir() const {
  return m_home / "wallets" / m_name;
}
fs::path Wallet::coldkeyPath() const {
  return dir() / "coldkey";
}
fs::path Wallet::coldkeyPubPath() const {
  return dir() / "coldkeypub.txt";
}
fs::path Wallet::hotkeyPath(std::string_view hotkey) const {
  return dir() / "hotkeys" / std::string(hotkey);
}

bool Wallet::hasColdkey() const {
  std::error_code ec;
  return fs::exists(coldkeyPath(), ec);
}

bool Wallet::hasHotkey(std::string_view hotkey) const {
  std::error_code ec;
  return fs::exists(hotkeyPath(hotkey), ec);
}

Result<void> Wallet::writeColdkey(const PrivateKey& key, const SecretBytes& password, const KdfParams& kdf,
                                  bool overwrite) {
  MERIT_ASSIGN_OR_RETURN(std::string content, encodeKeyfile(key, &password, kdf));
  return writeColdkeyFiles(key.publicKey(), content, overwrite);
}

Result<void> Wallet::writeColdkey(const AnyPrivateKey& key, const SecretBytes& password, const KdfParams& kdf,
                                  bool overwrite) {
  MERIT_ASSIGN_OR_RETURN(std::string content, encodeKeyfile(key, &password, kdf));
  return writeColdkeyFiles(key.publicKey(), content, overwrite);
}

Result<void> Wallet::writeColdkeyFiles(const AnyPublicKey& pub, std::string_view content, bool overwrite) {
  MERIT_TRY(validateKeyName("wallet", m_name));
  if (!overwrite && hasColdkey()) {
    return fail(ErrorCode::kAlreadyExists, "wallet '" + m_name + "' already has a coldkey at " +
                                               coldkeyPath().string() + " (use --overwrite to replace it)");
  }
  MERIT_TRY(createDirectories(m_home, kDirMode));
  MERIT_TRY(createDirectories(m_home / "wallets", kDirMode));
  MERIT_TRY(createDirectories(dir(), kDirMode));
  json pubDoc = {{"scheme", schemeName(pub.scheme())},
                 {"publicKey", pub.toHex()},
                 {"accountId", toHex(pub.accountId())},
                 {"ss58Address", pub.ss58Address()}};
  MERIT_TRY(writeFileAtomic(coldkeyPath(), asBytes(content), kFileMode, overwrite));
  return writeFileAtomic(coldkeyPubPath(), asBytes(pubDoc.dump(2) + "\n"), kFileMode, /*overwrite=*/true);
}

Result<void> Wallet::writeHotkey(std::string_view hotkey, const PrivateKey& key, bool overwrite) {
  MERIT_TRY(checkHotkeyWritable(hotkey, overwrite));
  MERIT_ASSIGN_OR_RETURN(std::string content, encodeKeyfile(key, nullptr, KdfParams::interactive()));
  return writeHotkeyFile(hotkey, content, overwrite);
}

Result<void> Wallet::writeHotkey(std::string_view hotkey, const AnyPrivateKey& key, bool overwrite) {
  MERIT_TRY(checkHotkeyWritable(hotkey, overwrite));
  MERIT_ASSIGN_OR_RETURN(std::string content, encodeKeyfile(key, nullptr, KdfParams::interactive()));
  return writeHotkeyFile(hotkey, content, overwrite);
}

Result<void> Wallet::checkHotkeyWritable(std::string_view hotkey, bool overwrite) const {
  MERIT_TRY(validateKeyName("wallet", m_name));
  MERIT_TRY(validateKeyName("hotkey", hotkey));
  if (!overwrite && hasHotkey(hotkey)) {
    return fail(ErrorCode::kAlreadyExists, "hotkey '" + std::string(hotkey) + "' of wallet '" + m_name +
                                               "' already exists at " + hotkeyPath(hotkey).string() +
                                               " (use --overwrite to replace it)");
  }
  return {};
}

// Takes the plain key file's text and wipes it.
Result<void> Wallet::writeHotkeyFile(std::string_view hotkey, std::string& content, bool overwrite) {
  SecretBytes secretContent = SecretBytes::takeString(content);
  MERIT_TRY(createDirectories(m_home, kDirMode));
  MERIT_TRY(createDirectories(m_home / "wallets", kDirMode));
  MERIT_TRY(createDirectories(dir(), kDirMode));
  MERIT_TRY(createDirectories(dir() / "hotkeys", kDirMode));
  return writeFileAtomic(hotkeyPath(hotkey), secretContent.reveal(), kFileMode, overwrite);
}

Result<AnyPublicKey> Wallet::coldkeyPublicAny() const {
  auto text = readFile(coldkeyPubPath(), kMaxKeyfileBytes);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) {
      return fail(ErrorCode::kNotFound,
                  "wallet '" + m_name + "' has no coldkey (" + coldkeyPubPath().string() + ")");
    }
    return fail(text.error());
  }
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("publicKey") || !doc["publicKey"].is_string()) {
    return fail(ErrorCode::kCorruption, coldkeyPubPath().string() + " is damaged: no publicKey");
  }
  KeyScheme scheme = KeyScheme::kEcdsa;  // files written before sr25519 have no scheme
  if (auto it = doc.find("scheme"); it != doc.end()) {
    auto parsed = it->is_string() ? parseScheme(it->get<std::string>())
                                  : Result<KeyScheme>(fail(ErrorCode::kInvalidArgument, "bad scheme"));
    if (!parsed)
      return fail(ErrorCode::kCorruption,
                  coldkeyPubPath().string() + " is damaged: " + parsed.error().message());
    scheme = *parsed;
  }
  auto pub = AnyPublicKey::fromHex(scheme, doc["publicKey"].get<std::string>());
  if (!pub)
    return fail(ErrorCode::kCorruption, coldkeyPubPath().string() + " is damaged: " + pub.error().message());
  return *pub;
}

Result<PublicKey> Wallet::coldkeyPublic() const {
  MERIT_ASSIGN_OR_RETURN(AnyPublicKey pub, coldkeyPublicAny());
  return pub.requireEcdsa("the coldkey of wallet '" + m_name + "'");
}

Result<AnyPrivateKey> Wallet::unlockColdkeyAny(const SecretBytes& password) const {
  auto text = readFile(coldkeyPath(), kMaxKeyfileBytes);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) {
      return fail(ErrorCode::kNotFound,
                  "wallet '" + m_name + "' has no coldkey (" + coldkeyPath().string() + ")");
    }
    return fail(text.error());
  }
  auto key = decodeAnyKeyfile(*text, &password);
  if (!key) return fail(key.error().withContext(coldkeyPath().string()));
  return key;
}

Result<PrivateKey> Wallet::unlockColdkey(const SecretBytes& password) const {
  // The scheme first, from the file's header: no Argon2 cost for a key the caller cannot use.
  auto text = readFile(coldkeyPath(), kMaxKeyfileBytes);
  if (text) {
    auto info = inspectAnyKeyfile(*text);
    if (info && info->publicKey.scheme() != KeyScheme::kEcdsa) {
      return fail(wrongSchemeError("the coldkey of wallet '" + m_name + "' (" + coldkeyPath().string() + ")",
                                   info->publicKey.scheme()));
    }
  }
  MERIT_ASSIGN_OR_RETURN(AnyPrivateKey key, unlockColdkeyAny(password));
  return std::move(key).takeEcdsa("the coldkey of wallet '" + m_name + "'");
}

Result<AnyPublicKey> Wallet::hotkeyPublicAny(std::string_view hotkey) const {
  MERIT_TRY(validateKeyName("hotkey", hotkey));
  auto text = readFile(hotkeyPath(hotkey), kMaxKeyfileBytes);
  if (!text) return fail(text.error());
  SecretBytes content = SecretBytes::takeString(*text);
  auto info = inspectAnyKeyfile(content.revealText());
  if (!info) return fail(info.error().withContext(hotkeyPath(hotkey).string()));
  return info->publicKey;
}

Result<PublicKey> Wallet::hotkeyPublic(std::string_view hotkey) const {
  MERIT_ASSIGN_OR_RETURN(AnyPublicKey pub, hotkeyPublicAny(hotkey));
  return pub.requireEcdsa("hotkey '" + std::string(hotkey) + "' of wallet '" + m_name + "'");
}

Result<AnyPrivateKey> Wallet::loadHotkeyAny(std::string_view hotkey) const {
  MERIT_TRY(validateKeyName("hotkey", hotkey));
  auto text = readFile(hotkeyPath(hotkey), kMaxKeyfileBytes);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) {
      return fail(ErrorCode::kNotFound, "wallet '" + m_name + "' has no hotkey '" + std::string(hotkey) +
                                            "' (" + hotkeyPath(hotkey).string() + ")");
    }
    return fail(text.error());
  }
  SecretBytes content = SecretBytes::takeString(*text);
  auto key = decodeAnyKeyfile(content.revealText(), nullptr);
  if (!key) return fail(key.error().withContext(hotkeyPath(hotkey).string()));
  return key;
}

Result<PrivateKey> Wallet::loadHotkey(std::string_view hotkey) const {
  MERIT_ASSIGN_OR_RETURN(AnyPrivateKey key, loadHotkeyAny(hotkey));
  return std::move(key).takeEcdsa("hotkey '" + std::string(hotkey) + "' of wallet '" + m_name + "' (" +
                                  hotkeyPath(hotkey).string() + ")");
}

Result<std::vector<std::string>> Wallet::hotkeyNames() const {
  std::vector<std::string> names;
  std::error_code ec;
  fs::path hk = dir() / "hotkeys";
  if (!fs::exists(hk, ec)) return names;
  for (const auto& entry : fs::directory_iterator(hk, ec)) {
    auto n = entry.path().filename().string();
    if (entry.is_regular_file() && validateKeyName("hotkey", n)) names.push_back(n);
  }
  if (ec) return fail(ErrorCode::kUnavailable, "cannot list " + hk.string() + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<std::string>> Wallet::list(const fs::path& home) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::path root = home / "wallets";
  if (!fs::exists(root, ec)) return names;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    auto n = entry.path().filename().string();
    if (entry.is_directory() && validateKeyName("wallet", n)) names.push_back(n);
  }
  if (ec) return fail(ErrorCode::kUnavailable, "cannot list " + root.string() + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace merit::crypto
