#include "merit/crypto/bittensor.h"

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "merit/crypto/hash.h"
#include "merit/crypto/ss58.h"

namespace merit::crypto::bittensor {

namespace {

using nlohmann::json;

// Key files are a few hundred bytes; anything much larger is not one.
constexpr std::size_t kMaxKeyfileBytes = 64 * 1024;

constexpr std::string_view kResave =
    "re-save it with btcli: `btcli wallet regen-coldkey` (or regen-hotkey) with its mnemonic writes the "
    "current $NACL format, which `merit wallet import-bittensor` reads";

bool startsWith(ByteView content, std::string_view prefix) {
  return asChars(content).starts_with(prefix);
}

Error invalid(const std::string& why) {
  return Error(ErrorCode::kInvalidArgument, "bittensor key file: " + why);
}

// A string field, absent when missing or JSON null; a field of another type is an error.
Result<std::optional<std::string>> optionalString(const json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return std::optional<std::string>{};
  if (!it->is_string()) return fail(invalid(std::string("field '") + key + "' is not a string"));
  return std::optional<std::string>(it->get<std::string>());
}

// Wipes a secret string read from the JSON document in place.
void wipeField(json& doc, const char* key) {
  auto it = doc.find(key);
  if (it != doc.end() && it->is_string()) {
    std::string& s = it->get_ref<std::string&>();
    secureZero(s.data(), s.size());
  }
}

// The public key a file states, from publicKey, accountId and ss58Address (all must agree).
Result<sr25519::PublicKey> statedPublicKey(const json& doc) {
  std::optional<sr25519::PublicKey> stated;
  std::string statedBy;
  auto agree = [&](const char* field, ByteView bytes) -> Result<void> {
    auto key = sr25519::PublicKey::fromBytes(bytes);
    if (!key)
      return fail(invalid(std::string(field) + " is not a valid sr25519 public key (" +
                          key.error().message() + "); refusing it"));
    if (stated && *stated != *key) {
      return fail(invalid(std::string(field) + " does not match " + statedBy));
    }
    if (!stated) {
      stated = *key;
      statedBy = field;
    }
    return {};
  };
  for (const char* field : {"publicKey", "accountId"}) {
    MERIT_ASSIGN_OR_RETURN(auto hex, optionalString(doc, field));
    if (!hex) continue;
    auto bytes = fromHexFixed<32>(*hex);
    if (!bytes) return fail(invalid(std::string(field) + " is not 32 bytes of hex"));
    MERIT_TRY(agree(field, *bytes));
  }
  MERIT_ASSIGN_OR_RETURN(auto address, optionalString(doc, "ss58Address"));
  if (address) {
    auto decoded = ss58DecodeAnyPrefix(*address);
    if (!decoded) return fail(invalid("ss58Address: " + decoded.error().message()));
    MERIT_TRY(agree("ss58Address", decoded->account));
  }
  if (!stated) {
    return fail(invalid("no publicKey, accountId or ss58Address to check the secret against; refusing it"));
  }
  return *stated;
}

// The key of a 64-byte privateKey in the schnorrkel form, told apart from the ed25519 form by
// which one gives the stated public key.
Result<sr25519::Keypair> keyFromPrivateKey(ByteView secret, const sr25519::PublicKey& stated) {
  if (secret.size() != sr25519::Keypair::kSecretSize) {
    return fail(invalid("privateKey is " + std::to_string(secret.size()) +
                        " bytes; an sr25519 secret key is 64 (scalar ‖ nonce)"));
  }
  auto key = sr25519::Keypair::fromSchnorrkelBytes(secret);
  if (key && key->publicKey() == stated) return std::move(*key);
  if (auto other = sr25519::Keypair::fromEd25519Bytes(secret); other && other->publicKey() == stated) {
    return fail(
        invalid("privateKey is in the ed25519 (polkadot-js) form, not the schnorrkel form bittensor "
                "key files hold; refusing to read one as the other"));
  }
  if (!key) return fail(invalid("privateKey is not a valid sr25519 secret key: " + key.error().message()));
  return fail(invalid("the public key of privateKey does not match the stated public key"));
}

}  // namespace

NaclKdf NaclKdf::sensitive() {
  return {crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE, crypto_pwhash_argon2i_MEMLIMIT_SENSITIVE};
}

KeyfileEncoding detectEncoding(ByteView content) {
  if (startsWith(content, kNaclMagic)) return KeyfileEncoding::kNacl;
  if (startsWith(content, "$ANSIBLE_VAULT")) return KeyfileEncoding::kAnsibleVault;
  if (startsWith(content, "gAAAAA")) return KeyfileEncoding::kFernet;
  std::string_view text = asChars(content);
  auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') return KeyfileEncoding::kPlainJson;
  return KeyfileEncoding::kUnknown;
}

Result<SecretBytes> openNacl(ByteView content, const SecretBytes& password, const NaclKdf& kdf) {
  ensureSodium();
  switch (detectEncoding(content)) {
    case KeyfileEncoding::kNacl: break;
    case KeyfileEncoding::kAnsibleVault:
      return fail(invalid("this key is in the old Ansible Vault encoding, which meritnet does not read; " +
                          std::string(kResave)));
    case KeyfileEncoding::kFernet:
      return fail(invalid("this key is in the old Fernet (legacy) encoding, which meritnet does not read; " +
                          std::string(kResave)));
    default: return fail(invalid("not a $NACL-encrypted key file"));
  }
  if (content.size() > kMaxKeyfileBytes) return fail(invalid("file too large for a key file"));
  ByteView rest = content.subspan(kNaclMagic.size());
  if (rest.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return fail(ErrorCode::kCorruption, "bittensor key file: $NACL content too short for a secretbox");
  }
  ByteView nonce = rest.first(crypto_secretbox_NONCEBYTES);
  ByteView box = rest.subspan(crypto_secretbox_NONCEBYTES);

  SecretArray<crypto_secretbox_KEYBYTES> key;
  auto pw = password.reveal();
  static_assert(sizeof(kNaclSalt) == crypto_pwhash_argon2i_SALTBYTES);
  if (crypto_pwhash(u8(key.mutableBytes()), key.size(), reinterpret_cast<const char*>(pw.data()), pw.size(),
                    kNaclSalt, kdf.opsLimit, static_cast<std::size_t>(kdf.memLimitBytes),
                    crypto_pwhash_ALG_ARGON2I13) != 0) {
    return fail(ErrorCode::kInternal, "Argon2i failed (out of memory? bittensor's cost needs 512 MiB)");
  }
  std::vector<std::byte> plain(box.size() - crypto_secretbox_MACBYTES);
  if (crypto_secretbox_open_easy(u8(MutableByteView(plain)), u8(box), box.size(), u8(nonce),
                                 u8(key.reveal())) != 0) {
    return fail(ErrorCode::kUnauthorized,
                "cannot decrypt the bittensor key: wrong password, or the file was altered");
  }
  SecretBytes out{ByteView(plain)};
  secureZero(plain.data(), plain.size());
  return out;
}

Result<sr25519::Keypair> parseKeyJson(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return fail(invalid("not valid JSON"));
  struct Wipe {
    json& d;
    ~Wipe() {
      for (const char* f : {"privateKey", "secretSeed", "secretPhrase"}) wipeField(d, f);
    }
  } wipe{doc};

  MERIT_ASSIGN_OR_RETURN(sr25519::PublicKey stated, statedPublicKey(doc));
  std::optional<sr25519::Keypair> chosen;
  auto check = [&](Result<sr25519::Keypair> key, const char* field) -> Result<void> {
    if (!key) return fail(key.error());
    if (key->publicKey() != stated) {
      return fail(
          invalid("the public key of " + std::string(field) + " does not match the stated public key"));
    }
    if (!chosen) chosen.emplace(std::move(*key));
    return {};
  };

  MERIT_ASSIGN_OR_RETURN(auto privateHex, optionalString(doc, "privateKey"));
  if (privateHex) {
    auto bytes = fromHex(*privateHex);
    secureZero(privateHex->data(), privateHex->size());
    if (!bytes) return fail(invalid("privateKey is not hex"));
    SecretBytes secret{ByteView(*bytes)};
    secureZero(bytes->data(), bytes->size());
    MERIT_TRY(check(keyFromPrivateKey(secret.reveal(), stated), "privateKey"));
  }
  MERIT_ASSIGN_OR_RETURN(auto seedHex, optionalString(doc, "secretSeed"));
  if (seedHex) {
    auto bytes = fromHex(*seedHex);
    secureZero(seedHex->data(), seedHex->size());
    if (!bytes || bytes->size() != sr25519::Keypair::kMiniSecretSize) {
      if (bytes) secureZero(bytes->data(), bytes->size());
      return fail(invalid("secretSeed is not 32 bytes of hex"));
    }
    SecretBytes seed{ByteView(*bytes)};
    secureZero(bytes->data(), bytes->size());
    MERIT_TRY(check(sr25519::Keypair::fromMiniSecret(seed.reveal()), "secretSeed"));
  }
  MERIT_ASSIGN_OR_RETURN(auto phrase, optionalString(doc, "secretPhrase"));
  if (phrase) {
    SecretBytes words = SecretBytes::takeString(*phrase);
    auto key = sr25519::keypairFromSuri(words.revealText());
    if (!key) return fail(invalid("secretPhrase: " + key.error().message()));
    MERIT_TRY(check(std::move(key), "secretPhrase"));
  }
  if (!chosen) return fail(invalid("no privateKey, secretSeed or secretPhrase: this file holds no secret"));
  return std::move(*chosen);
}

Result<sr25519::Keypair> readKeyfile(ByteView content, const SecretBytes* password, const NaclKdf& kdf) {
  if (content.size() > kMaxKeyfileBytes) return fail(invalid("file too large for a key file"));
  switch (detectEncoding(content)) {
    case KeyfileEncoding::kPlainJson: return parseKeyJson(asChars(content));
    case KeyfileEncoding::kUnknown: return fail(invalid("neither JSON nor a known encryption ($NACL)"));
    default: break;
  }
  if (detectEncoding(content) == KeyfileEncoding::kNacl && password == nullptr) {
    return fail(ErrorCode::kInvalidArgument, "this bittensor key is encrypted: a password is needed");
  }
  // Legacy encodings are refused by openNacl before the password is used.
  SecretBytes none;
  MERIT_ASSIGN_OR_RETURN(SecretBytes plain, openNacl(content, password != nullptr ? *password : none, kdf));
  return parseKeyJson(plain.revealText());
}

Result<sr25519::PublicKey> parsePublicJson(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return fail(invalid("coldkeypub.txt is not valid JSON"));
  return statedPublicKey(doc);
}

}  // namespace merit::crypto::bittensor
