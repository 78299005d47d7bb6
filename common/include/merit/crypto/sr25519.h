// sr25519: Schnorr signatures on Ristretto255 with Merlin transcripts, exactly as schnorrkel
// 0.11 and Substrate's sp_core::sr25519 compute them, on libsodium's ristretto255 primitives.
// These are the primitives only: wallets, the wire protocol and the chain still use the
// secp256k1 keys of keys.h.
//
// Thread-safety: PublicKey and Signature are values. Keypair is a secret owned by one thread at
// a time (signing is const and may run concurrently).
//
// Keys. A 32-byte mini secret expands in schnorrkel's Ed25519 mode (Substrate's choice):
//   h = SHA-512(mini); scalar = clamp(h[0..32]) / 8 (the cofactor); nonce = h[32..64]
//   public key = scalar · B, 32 bytes of Ristretto encoding; the account id is the key itself.
// Signing (context "substrate" unless given):
//   t = Transcript("SigningContext"); t.append("", context); t.append("sign-bytes", message)
//   t.append("proto-name", "Schnorr-sig"); t.append("sign:pk", A)
//   r = wide-reduce(t.rng.rekey("signing", nonce).finalize(32 random bytes).fill(64))
//   R = r · B; t.append("sign:R", R); k = wide-reduce(t.challenge("sign:c", 64))
//   signature = R ‖ (k · scalar + r), with bit 7 of the last byte set (the schnorrkel marker)
// Verification recomputes R from s · B − k · A; it rejects a signature without the marker bit,
// a non-canonical s, and (by construction of PublicKey) the identity as public key.
//
// Two 64-byte secret key encodings exist in the ecosystem, and mixing them up derives a
// different key silently, so each has its own named functions:
//   schnorrkel form = scalar ‖ nonce (SecretKey::to_bytes). sp_core's `Pair::to_raw_vec`,
//                     which bittensor-wallet (btcli) returns as `Keypair.private_key` and
//                     writes, hex, into key files; its polkadot-js JSON import converts the
//                     ed25519 form into this one.
//   ed25519 form    = (8 · scalar) ‖ nonce (SecretKey::to_ed25519_bytes). polkadot-js
//                     (@polkadot/wasm-crypto, @scure/sr25519) secret keys.
#pragma once

#include <string>
#include <string_view>

#include "merit/crypto/hash.h"
#include "merit/crypto/secret.h"
#include "merit/crypto/suri.h"
#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::crypto::sr25519 {

inline constexpr std::string_view kSubstrateContext = "substrate";

// A 32-byte Ristretto255 public key: always a canonical encoding of a non-identity point.
class PublicKey {
 public:
  static constexpr std::size_t kSize = 32;

  static Result<PublicKey> fromBytes(ByteView bytes);
  static Result<PublicKey> fromHex(std::string_view hex);

  const ByteArray<kSize>& bytes() const { return m_bytes; }
  std::string toHex() const { return merit::toHex(m_bytes); }
  // sr25519 account ids are the public key itself (no hashing, unlike ecdsa).
  const Hash256& accountId() const { return m_bytes; }

  friend bool operator==(const PublicKey&, const PublicKey&) = default;
  friend auto operator<=>(const PublicKey&, const PublicKey&) = default;

 private:
  explicit PublicKey(const ByteArray<kSize>& bytes) : m_bytes(bytes) {}
  ByteArray<kSize> m_bytes;
};

// A 64-byte signature R ‖ s. Parsing checks only the length; verify() checks the rest.
class Signature {
 public:
  static constexpr std::size_t kSize = 64;

  static Result<Signature> fromBytes(ByteView bytes);
  static Result<Signature> fromHex(std::string_view hex);
  explicit Signature(const ByteArray<kSize>& bytes) : m_bytes(bytes) {}

  const ByteArray<kSize>& bytes() const { return m_bytes; }
  std::string toHex() const { return merit::toHex(m_bytes); }

  friend bool operator==(const Signature&, const Signature&) = default;

 private:
  ByteArray<kSize> m_bytes;
};

class Keypair {
 public:
  static constexpr std::size_t kMiniSecretSize = 32;
  static constexpr std::size_t kSecretSize = 64;

  // Ed25519-mode expansion of a 32-byte mini secret (Substrate's `Pair::from_seed`).
  static Result<Keypair> fromMiniSecret(ByteView miniSecret);
  // A fresh key pair from a random mini secret.
  static Keypair generate();

  // The schnorrkel form scalar ‖ nonce (bittensor-wallet keyfiles). The scalar must be canonical
  // and non-zero.
  static Result<Keypair> fromSchnorrkelBytes(ByteView secret64);
  SecretArray<kSecretSize> toSchnorrkelBytes() const;
  // The polkadot-js / @scure form (8 · scalar) ‖ nonce.
  static Result<Keypair> fromEd25519Bytes(ByteView secret64);
  SecretArray<kSecretSize> toEd25519Bytes() const;

  Keypair(Keypair&&) noexcept = default;
  Keypair& operator=(Keypair&&) noexcept = default;

  const PublicKey& publicKey() const { return m_public; }

  // Signs with 32 bytes of fresh OS randomness mixed into the nonce (as schnorrkel does).
  Signature sign(ByteView message, std::string_view context = kSubstrateContext) const;
  // Signs with caller-chosen randomness: deterministic, for tests and interop only. Reusing
  // `random32` across messages is safe (the nonce also depends on the key and the message) but
  // gives up schnorrkel's protection against fault attacks.
  Signature signWithRandomness(ByteView message, ByteView random32,
                               std::string_view context = kSubstrateContext) const;

  // HDKD (schnorrkel "SchnorrRistrettoHDKD"). Hard: a new mini secret from the secret scalar
  // and the chain code. Soft: scalar + delta, the public key A + delta · B, which
  // deriveSoftPublic computes without the secret; the derived nonce is fresh randomness, as in
  // schnorrkel, so only the scalar and public key are reproducible.
  Keypair deriveHard(const ChainCode& chainCode) const;
  Keypair deriveSoft(const ChainCode& chainCode) const;
  Keypair derive(const DeriveJunction& junction) const;

 private:
  Keypair(SecretArray<32> scalar, SecretArray<32> nonce, PublicKey pub)
      : m_scalar(std::move(scalar)), m_nonce(std::move(nonce)), m_public(pub) {}
  SecretArray<32> m_scalar;  // canonical, little-endian
  SecretArray<32> m_nonce;
  PublicKey m_public;
};

// Public-only soft derivation: the same public key as Keypair::deriveSoft on the secret.
PublicKey deriveSoftPublic(const PublicKey& key, const ChainCode& chainCode);

// Verifies a schnorrkel signature. kUnauthorized with the reason when it does not verify.
Result<void> verify(const PublicKey& key, ByteView message, const Signature& signature,
                    std::string_view context = kSubstrateContext);

// A key pair from a secret URI (suri.h): a BIP39 phrase (mini secret = the first 32 bytes of
// substrateSeed(entropy, password), mnemonic.h) or a 0x-prefixed 32-byte hex mini secret (the
// password is then ignored, as in Substrate), followed by the URI's junctions.
Result<Keypair> keypairFromSuri(std::string_view uri);

}  // namespace merit::crypto::sr25519
