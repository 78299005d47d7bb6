// secp256k1 keys and ECDSA signatures (libsecp256k1).
//
// Thread-safety: PublicKey and Signature are values. PrivateKey is a secret owned by one thread
// at a time (signing is const and may run concurrently). The library's secp256k1 context is
// created once, randomised, and only read afterwards.
//
// Scheme (Substrate's `ecdsa`): a message is signed as its BLAKE2b-256 digest; the signature is
// 65 bytes r‖s‖v with v the recovery id (0..3); nonces are RFC 6979 (HMAC-SHA256), and only
// low-S signatures are produced or accepted, so a signature cannot be malleated into another
// valid one.
#pragma once

#include <string>

#include "merit/crypto/hash.h"
#include "merit/crypto/secret.h"
#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::crypto {

using AccountId = Hash256;

// A 33-byte compressed public key, always a valid curve point.
class PublicKey {
 public:
  static constexpr std::size_t kSize = 33;

  // Parses a compressed key; an invalid encoding or a point off the curve is kInvalidArgument.
  static Result<PublicKey> fromBytes(ByteView bytes);
  static Result<PublicKey> fromHex(std::string_view hex);

  const ByteArray<kSize>& bytes() const { return m_bytes; }
  std::string toHex() const { return merit::toHex(m_bytes); }
  // BLAKE2b-256 of the compressed key: the account id an SS58 address encodes.
  AccountId accountId() const { return blake2b256(m_bytes); }

  friend bool operator==(const PublicKey&, const PublicKey&) = default;
  friend auto operator<=>(const PublicKey&, const PublicKey&) = default;

 private:
  explicit PublicKey(const ByteArray<kSize>& bytes) : m_bytes(bytes) {}
  ByteArray<kSize> m_bytes;
};

// A 65-byte recoverable signature r‖s‖v. Parsing only checks the length; verification checks
// everything else (range of r and s, low S, recovery id).
class Signature {
 public:
  static constexpr std::size_t kSize = 65;

  static Result<Signature> fromBytes(ByteView bytes);
  static Result<Signature> fromHex(std::string_view hex);
  explicit Signature(const ByteArray<kSize>& bytes) : m_bytes(bytes) {}

  const ByteArray<kSize>& bytes() const { return m_bytes; }
  std::string toHex() const { return merit::toHex(m_bytes); }

  friend bool operator==(const Signature&, const Signature&) = default;

 private:
  ByteArray<kSize> m_bytes;
};

class PrivateKey {
 public:
  static constexpr std::size_t kSize = 32;

  // A fresh key from the operating system's CSPRNG.
  static PrivateKey generate();
  // A key from 32 secret bytes; zero or ≥ the curve order is kInvalidArgument.
  static Result<PrivateKey> fromBytes(ByteView secret);

  PrivateKey(PrivateKey&&) noexcept = default;
  PrivateKey& operator=(PrivateKey&&) noexcept = default;

  const PublicKey& publicKey() const { return m_public; }

  // Signs BLAKE2b-256(message) as is: the primitive under every domain of domains.h, for
  // preimages that already start with their domain tag (extrinsics, wire messages). Bytes chosen
  // by a user or a peer must go through signMessage() instead, never straight here.
  Signature sign(ByteView message) const;
  // Signs a 32-byte digest as is (for callers that hash themselves, and for digest-level tests).
  Signature signDigest(const Hash256& digest) const;

  // The raw secret, for storage in a key file. Never log it.
  ByteView revealSecret() const { return m_secret.reveal(); }

 private:
  PrivateKey(SecretArray<kSize> secret, PublicKey pub) : m_secret(std::move(secret)), m_public(pub) {}
  SecretArray<kSize> m_secret;
  PublicKey m_public;
};

// Recovers the signer's public key from a digest and signature. Fails with kUnauthorized for a
// malformed or high-S signature or a bad recovery id, naming which.
Result<PublicKey> recoverDigest(const Hash256& digest, const Signature& signature);

// Verifies that `signature` over BLAKE2b-256(message) was made by `key`: recovers the signer and
// compares. Returns kUnauthorized with the reason when it was not.
Result<void> verify(const PublicKey& key, ByteView message, const Signature& signature);
Result<void> verifyDigest(const PublicKey& key, const Hash256& digest, const Signature& signature);

// The fast path when the signer's key is known (the wire protocol): plain ECDSA verification of
// r‖s against `key`, no recovery. Rejects high-S and a recovery id above 3, but does not check
// that v is the right one of 0..3: two encodings differing only in v both pass. Where the
// signature bytes must be unique (they feed an id, such as an extrinsic hash), use verifyDigest.
Result<void> verifyDigestKnownKey(const PublicKey& key, const Hash256& digest, const Signature& signature);

// Message signing (`merit wallet sign` / `verify`): the signature is over
// BLAKE2b-256("<Bytes>" ‖ message ‖ "</Bytes>") (domains.h), so no message, whatever its bytes,
// signs as an extrinsic, a wire message or a handshake. The wrapping is always applied, also to
// a message that already looks wrapped.
Bytes wrapMessage(ByteView message);
Signature signMessage(const PrivateKey& key, ByteView message);
Result<void> verifyMessage(const PublicKey& key, ByteView message, const Signature& signature);
// The key that signed `message` (wrapped as above); kUnauthorized when none recovers.
Result<PublicKey> recoverMessageSigner(ByteView message, const Signature& signature);

// secp256k1 ECDH: BLAKE2b-256 of the compressed shared point (ours × theirs). Both sides of a
// pair get the same 32 bytes.
SecretArray<32> ecdh(const PrivateKey& ours, const PublicKey& theirs);

}  // namespace merit::crypto
