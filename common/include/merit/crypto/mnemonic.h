// BIP39 mnemonics (English word list) and the mnemonic → key derivation.
//
// Thread-safety: pure functions.
//
// Derivation of a meritnet key from a mnemonic (the same as Substrate's for `ecdsa` keys, so a
// phrase gives the same account in both):
//   entropy = the BIP39 entropy the phrase encodes (checksum verified)
//   seed    = PBKDF2-HMAC-SHA512(password = entropy, salt = "mnemonic" ‖ passphrase, 2048, 64 bytes)
//   secret  = seed[0..32], a secp256k1 private key
// Note the password is the entropy, not the phrase text as in BIP39's own seed (bip39Seed
// below); both are provided and tested.
#pragma once

#include <cstddef>
#include <string_view>

#include "merit/crypto/keys.h"
#include "merit/crypto/secret.h"
#include "merit/util/result.h"

namespace merit::crypto {

// Words in a phrase: 12, 15, 18, 21 or 24 (entropy of 16..32 bytes in steps of 4).
inline constexpr std::size_t kDefaultMnemonicWords = 24;

// The phrase for `entropy` (16..32 bytes, a multiple of 4), words separated by single spaces.
Result<SecretBytes> entropyToMnemonic(ByteView entropy);

// A new phrase from OS randomness.
Result<SecretBytes> generateMnemonic(std::size_t words = kDefaultMnemonicWords);

// Parses a phrase (any whitespace between words, any ASCII case) back to its entropy. Errors
// name the problem: wrong word count, an unknown word (with its position), a bad checksum.
Result<SecretBytes> mnemonicToEntropy(std::string_view phrase);

// The standard BIP39 seed: PBKDF2-HMAC-SHA512(phrase, "mnemonic" ‖ passphrase, 2048). The phrase
// is validated and normalised to single spaces and lower case first. The passphrase must be
// ASCII (so no Unicode normalisation question arises).
Result<SecretArray<64>> bip39Seed(std::string_view phrase, std::string_view passphrase);

// Substrate's seed from entropy (see the derivation above).
Result<SecretArray<64>> substrateSeed(ByteView entropy, std::string_view passphrase);

// The key a phrase backs up.
Result<PrivateKey> keyFromMnemonic(std::string_view phrase, std::string_view passphrase = {});

// PBKDF2 with HMAC-SHA512 (RFC 8018), exposed for tests.
void pbkdf2HmacSha512(ByteView password, ByteView salt, unsigned iterations, MutableByteView out);

}  // namespace merit::crypto
