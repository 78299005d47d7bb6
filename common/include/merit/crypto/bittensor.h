// Reading Bittensor (btcli / bittensor-wallet) key files, for `merit wallet import-bittensor`.
// Read-only: meritnet never writes this format.
//
// Thread-safety: pure functions.
//
// A btcli wallet folder holds `coldkey`, `coldkeypub.txt` and `hotkeys/<name>`. A key file is
// JSON with (each optional) "secretPhrase" (BIP39 words), "secretSeed" (0x + 32-byte sr25519
// mini secret), "privateKey" (0x + the 64-byte schnorrkel form scalar ‖ nonce, sr25519.h),
// "publicKey" and "accountId" (0x + 32 bytes) and "ss58Address". The coldkey is usually
// encrypted: "$NACL" ‖ nonce (24) ‖ NaCl secretbox (XSalsa20-Poly1305, tag first) of that JSON,
// under a key from Argon2i (libsodium crypto_pwhash, ALG_ARGON2I13) of the password with a fixed
// 16-byte salt and argon2i's SENSITIVE cost (8 passes, 512 MiB). Older encodings (Ansible Vault,
// "$ANSIBLE_VAULT..."; Fernet, "gAAAAA...") are refused with how to re-save the key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "merit/crypto/secret.h"
#include "merit/crypto/sr25519.h"
#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::crypto::bittensor {

// bittensor-wallet's fixed Argon2i salt for $NACL files.
inline constexpr std::uint8_t kNaclSalt[16] = {0x13, 0x71, 0x83, 0xdf, 0xf1, 0x5a, 0x09, 0xbc,
                                               0x9c, 0x90, 0xb5, 0x51, 0x87, 0x39, 0xe9, 0xb1};
inline constexpr std::string_view kNaclMagic = "$NACL";

// The Argon2i cost of the key derivation. Files always use sensitive(); tests pass a cheaper
// one for files they seal themselves.
struct NaclKdf {
  std::uint64_t opsLimit;
  std::uint64_t memLimitBytes;
  static NaclKdf sensitive();  // crypto_pwhash_argon2i_{OPS,MEM}LIMIT_SENSITIVE: 8, 512 MiB
};

enum class KeyfileEncoding { kPlainJson, kNacl, kAnsibleVault, kFernet, kUnknown };
KeyfileEncoding detectEncoding(ByteView content);

// Decrypts a $NACL file. A wrong password (or an altered file) is kUnauthorized; a file too
// short to hold a secretbox is kCorruption; Ansible Vault / Fernet content is kInvalidArgument
// saying how to re-save it.
Result<SecretBytes> openNacl(ByteView content, const SecretBytes& password,
                             const NaclKdf& kdf = NaclKdf::sensitive());

// The key of a decrypted (or plain) key file's JSON. The secret is taken from privateKey, else
// secretSeed, else secretPhrase; every secret present must give the same public key, and it must
// equal the file's publicKey / accountId / ss58Address (at least one is required). Mismatches
// are kInvalidArgument and name the field; a privateKey in the ed25519 (polkadot-js) form rather
// than the schnorrkel form is refused as such, never read as the other.
Result<sr25519::Keypair> parseKeyJson(std::string_view json);

// A key file as found on disk: plain JSON, or $NACL (then `password` is needed; null is
// kInvalidArgument). Legacy encodings are refused.
Result<sr25519::Keypair> readKeyfile(ByteView content, const SecretBytes* password,
                                     const NaclKdf& kdf = NaclKdf::sensitive());

// The public key stated by coldkeypub.txt (publicKey / accountId / ss58Address, which must agree).
Result<sr25519::PublicKey> parsePublicJson(std::string_view json);

}  // namespace merit::crypto::bittensor
