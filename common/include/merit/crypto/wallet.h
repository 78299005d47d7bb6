// Wallets on disk: a coldkey (encrypted) and named hotkeys (plain) per wallet.
//
//   $MERIT_HOME/wallets/<wallet>/coldkey            encrypted key file   (0600)
//   $MERIT_HOME/wallets/<wallet>/coldkeypub.txt     public part, JSON    (0600)
//   $MERIT_HOME/wallets/<wallet>/hotkeys/<hotkey>   plain key file       (0600)
//   folders 0700; MERIT_HOME defaults to ~/.meritnet
//
// The coldkey holds funds and stake and is encrypted at rest: Argon2id derives a key from the
// password, XChaCha20-Poly1305 encrypts the secret with the file's header as associated data (so
// the header cannot be altered either). Hotkeys sign network traffic and weights and are kept
// plain so miners and validators can start unattended. docs/WALLETS.md has the format.
//
// A key file records its scheme ("scheme": "ecdsa" | "sr25519"; a file without the field is
// ecdsa, as all files were before sr25519). The *Any functions read and write either scheme.
// The older functions (decodeKeyfile, loadHotkey, unlockColdkey, ...) return ECDSA keys for the
// callers that only handle ECDSA (chain, wire, miner, validator) and fail with kInvalidArgument
// naming the scheme when the file holds an sr25519 key.
//
// Thread-safety: a Wallet is a value naming a folder; concurrent writers race like files do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "merit/crypto/any_key.h"
#include "merit/crypto/keys.h"
#include "merit/crypto/secret.h"
#include "merit/util/result.h"

namespace merit::crypto {

// Argon2id cost. Stored in each key file, so files made with other settings still open.
struct KdfParams {
  std::uint64_t opsLimit;
  std::uint64_t memLimitBytes;

  static KdfParams moderate();     // the default for coldkeys: ~1 s, 256 MiB
  static KdfParams interactive();  // ~0.1 s, 64 MiB: for throwaway dev and test wallets
  static Result<KdfParams> byName(std::string_view name);  // "moderate" | "interactive"
};

// What a key file says about itself without unlocking it.
struct KeyfileInfo {
  PublicKey publicKey;
  bool encrypted;
};

// Serialises a key file: encrypted with `password` when given, plain otherwise.
Result<std::string> encodeKeyfile(const PrivateKey& key, const SecretBytes* password, const KdfParams& kdf);
// Parses and, if encrypted, decrypts a key file. A missing password for an encrypted file is
// kInvalidArgument; a wrong password is kUnauthorized; damage is kCorruption.
Result<PrivateKey> decodeKeyfile(std::string_view content, const SecretBytes* password);
Result<KeyfileInfo> inspectKeyfile(std::string_view content);

// Either scheme. sr25519 secrets are stored in the schnorrkel form scalar ‖ nonce (64 bytes).
struct AnyKeyfileInfo {
  AnyPublicKey publicKey;
  bool encrypted;
};
Result<std::string> encodeKeyfile(const AnyPrivateKey& key, const SecretBytes* password,
                                  const KdfParams& kdf);
Result<AnyPrivateKey> decodeAnyKeyfile(std::string_view content, const SecretBytes* password);
Result<AnyKeyfileInfo> inspectAnyKeyfile(std::string_view content);

// `name` may be used as a wallet or hotkey name: 1..64 of [A-Za-z0-9_.-], not starting with '.'.
Result<void> validateKeyName(std::string_view kind, std::string_view name);

// $MERIT_HOME, else $HOME/.meritnet.
std::filesystem::path defaultMeritHome();

class Wallet {
 public:
  Wallet(std::filesystem::path home, std::string name);

  const std::string& name() const { return m_name; }
  std::filesystem::path dir() const;
  std::filesystem::path coldkeyPath() const;
  std::filesystem::path coldkeyPubPath() const;
  std::filesystem::path hotkeyPath(std::string_view hotkey) const;

  bool hasColdkey() const;
  bool hasHotkey(std::string_view hotkey) const;

  // Writes the encrypted coldkey and coldkeypub.txt. Without `overwrite`, an existing coldkey is
  // kAlreadyExists and nothing is written. An empty password is kInvalidArgument.
  Result<void> writeColdkey(const PrivateKey& key, const SecretBytes& password, const KdfParams& kdf,
                            bool overwrite);
  Result<void> writeHotkey(std::string_view hotkey, const PrivateKey& key, bool overwrite);
  Result<void> writeColdkey(const AnyPrivateKey& key, const SecretBytes& password, const KdfParams& kdf,
                            bool overwrite);
  Result<void> writeHotkey(std::string_view hotkey, const AnyPrivateKey& key, bool overwrite);

  Result<PublicKey> coldkeyPublic() const;  // from coldkeypub.txt; no password needed
  Result<PrivateKey> unlockColdkey(const SecretBytes& password) const;
  Result<PublicKey> hotkeyPublic(std::string_view hotkey) const;
  Result<PrivateKey> loadHotkey(std::string_view hotkey) const;
  Result<std::vector<std::string>> hotkeyNames() const;  // sorted

  // Either scheme (the functions above are ECDSA-only and refuse an sr25519 key by name).
  Result<AnyPublicKey> coldkeyPublicAny() const;
  Result<AnyPrivateKey> unlockColdkeyAny(const SecretBytes& password) const;
  Result<AnyPublicKey> hotkeyPublicAny(std::string_view hotkey) const;
  Result<AnyPrivateKey> loadHotkeyAny(std::string_view hotkey) const;

  // Wallet names under `home` (folders with a coldkey or hotkeys), sorted.
  static Result<std::vector<std::string>> list(const std::filesystem::path& home);

 private:
  Result<void> writeColdkeyFiles(const AnyPublicKey& pub, std::string_view content, bool overwrite);
  Result<void> checkHotkeyWritable(std::string_view hotkey, bool overwrite) const;
  Result<void> writeHotkeyFile(std::string_view hotkey, std::string& content, bool overwrite);

  std::filesystem::path m_home;
  std::string m_name;
};

}  // namespace merit::crypto
