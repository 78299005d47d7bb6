// Keys of either signature scheme meritnet knows: secp256k1 ECDSA (keys.h) and sr25519
// (sr25519.h), each value tagged with its scheme, so wallets can hold either and later layers
// (wire protocol, chain) can accept either without guessing from byte lengths.
//
// Thread-safety: AnyPublicKey and AnySignature are values. AnyPrivateKey is a secret owned by
// one thread at a time (signing is const and may run concurrently).
//
// Per scheme:
//   ecdsa    public key 33 bytes (compressed), signature 65 bytes r‖s‖v over BLAKE2b-256 of the
//            preimage; account id = BLAKE2b-256(compressed key), as Substrate's ecdsa accounts.
//   sr25519  public key 32 bytes (Ristretto), signature 64 bytes, signing context "substrate";
//            account id = the public key itself.
// Tagged forms: where a key or signature travels with its scheme (wire protocol, extrinsics) it
// is one tag byte, Substrate's MultiSigner / MultiSignature variant index (1 sr25519, 2 ecdsa),
// followed by the scheme's bytes: a tagged key is 33 (sr25519) or 34 (ecdsa) bytes, a tagged
// signature 65 or 66.
// Messages (`merit wallet sign`) are wrapped "<Bytes>" ‖ message ‖ "</Bytes>" in both schemes
// (domains.h), so a message signature never authorises anything else.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "merit/crypto/keys.h"
#include "merit/crypto/sr25519.h"
#include "merit/crypto/ss58.h"
#include "merit/util/result.h"

namespace merit::crypto {

enum class KeyScheme { kEcdsa, kSr25519 };

inline constexpr std::uint8_t kSr25519Tag = 1;
inline constexpr std::uint8_t kEcdsaTag = 2;
inline constexpr std::size_t kMaxTaggedKeySize = 1 + PublicKey::kSize;        // 34
inline constexpr std::size_t kMaxTaggedSignatureSize = 1 + Signature::kSize;  // 66

std::uint8_t schemeTag(KeyScheme scheme);
// The scheme of a tag byte; any other value is kInvalidArgument "unknown signature scheme".
Result<KeyScheme> schemeFromTag(std::uint8_t tag);

// "ecdsa" / "sr25519": the names used in key files and on the command line.
std::string_view schemeName(KeyScheme scheme);
// Parses a scheme name; anything else is kInvalidArgument naming the two accepted.
Result<KeyScheme> parseScheme(std::string_view name);

class AnyPublicKey {
 public:
  AnyPublicKey(const PublicKey& key) : m_key(key) {}           // NOLINT: implicit on purpose
  AnyPublicKey(const sr25519::PublicKey& key) : m_key(key) {}  // NOLINT: implicit on purpose

  // Parses the scheme's encoding (33 or 32 bytes); invalid points are kInvalidArgument.
  static Result<AnyPublicKey> fromBytes(KeyScheme scheme, ByteView bytes);
  static Result<AnyPublicKey> fromHex(KeyScheme scheme, std::string_view hex);
  // Parses tag ‖ key bytes (see the top of this file): an unknown tag, a length that is not the
  // tag's, or an invalid point is kInvalidArgument.
  static Result<AnyPublicKey> fromTagged(ByteView tagged);

  KeyScheme scheme() const { return m_key.index() == 0 ? KeyScheme::kEcdsa : KeyScheme::kSr25519; }
  Bytes bytes() const;
  Bytes tagged() const;
  std::string toHex() const { return merit::toHex(bytes()); }
  AccountId accountId() const;
  std::string ss58Address(std::uint16_t prefix = kSs58Prefix) const {
    return ss58Encode(accountId(), prefix);
  }

  // The key of one scheme, or null when it is of the other.
  const PublicKey* ecdsa() const { return std::get_if<PublicKey>(&m_key); }
  const sr25519::PublicKey* sr25519() const { return std::get_if<sr25519::PublicKey>(&m_key); }
  // The ECDSA key, or kInvalidArgument naming the scheme for a caller that only handles ECDSA.
  Result<PublicKey> requireEcdsa(std::string_view what) const;

  friend bool operator==(const AnyPublicKey&, const AnyPublicKey&) = default;

 private:
  std::variant<PublicKey, sr25519::PublicKey> m_key;
};

class AnySignature {
 public:
  AnySignature(const Signature& sig) : m_sig(sig) {}           // NOLINT: implicit on purpose
  AnySignature(const sr25519::Signature& sig) : m_sig(sig) {}  // NOLINT: implicit on purpose

  static Result<AnySignature> fromBytes(KeyScheme scheme, ByteView bytes);
  // The scheme told by the length: 65 bytes ecdsa, 64 bytes sr25519; else kInvalidArgument.
  static Result<AnySignature> fromBytesAnyScheme(ByteView bytes);
  static Result<AnySignature> fromHexAnyScheme(std::string_view hex);
  // Parses tag ‖ signature bytes; an unknown tag or a wrong length is kInvalidArgument.
  static Result<AnySignature> fromTagged(ByteView tagged);

  KeyScheme scheme() const { return m_sig.index() == 0 ? KeyScheme::kEcdsa : KeyScheme::kSr25519; }
  Bytes bytes() const;
  Bytes tagged() const;
  std::string toHex() const { return merit::toHex(bytes()); }
  const Signature* ecdsa() const { return std::get_if<Signature>(&m_sig); }
  const sr25519::Signature* sr25519() const { return std::get_if<sr25519::Signature>(&m_sig); }

  friend bool operator==(const AnySignature&, const AnySignature&) = default;

 private:
  std::variant<Signature, sr25519::Signature> m_sig;
};

class AnyPrivateKey {
 public:
  explicit AnyPrivateKey(PrivateKey key) : m_key(std::move(key)) {}
  explicit AnyPrivateKey(sr25519::Keypair key) : m_key(std::move(key)) {}
  static AnyPrivateKey generate(KeyScheme scheme);

  AnyPrivateKey(AnyPrivateKey&&) noexcept = default;
  AnyPrivateKey& operator=(AnyPrivateKey&&) noexcept = default;
  // A second owner of the same secret (for a component that keeps its own copy, such as an axon
  // or a dendrite). Explicit, so that secrets are never copied by accident.
  AnyPrivateKey clone() const;

  KeyScheme scheme() const { return m_key.index() == 0 ? KeyScheme::kEcdsa : KeyScheme::kSr25519; }
  AnyPublicKey publicKey() const;

  // Signs a preimage that already starts with its domain tag (domains.h) as the scheme does:
  // ECDSA over BLAKE2b-256(preimage), sr25519 over the bytes with context "substrate". Bytes
  // chosen by a user or a peer go through signMessage() instead.
  AnySignature sign(ByteView preimage) const;
  // Signs "<Bytes>" ‖ message ‖ "</Bytes>" (wrapMessage, keys.h).
  AnySignature signMessage(ByteView message) const;

  const PrivateKey* ecdsa() const { return std::get_if<PrivateKey>(&m_key); }
  const sr25519::Keypair* sr25519() const { return std::get_if<sr25519::Keypair>(&m_key); }
  // Moves the ECDSA key out, or kInvalidArgument naming the scheme (`what` names the key).
  Result<PrivateKey> takeEcdsa(std::string_view what) &&;

 private:
  std::variant<PrivateKey, sr25519::Keypair> m_key;
};

// A borrowed signing key of either scheme: what signing functions take, so a caller may pass a
// PrivateKey, an sr25519::Keypair or an AnyPrivateKey without giving it up. The key must
// outlive the SignerRef.
class SignerRef {
 public:
  SignerRef(const PrivateKey& key) : m_key(&key) {}        // NOLINT: implicit on purpose
  SignerRef(const sr25519::Keypair& key) : m_key(&key) {}  // NOLINT: implicit on purpose
  SignerRef(const AnyPrivateKey& key);                     // NOLINT: implicit on purpose

  KeyScheme scheme() const { return m_key.index() == 0 ? KeyScheme::kEcdsa : KeyScheme::kSr25519; }
  AnyPublicKey publicKey() const;
  // As AnyPrivateKey::sign.
  AnySignature sign(ByteView preimage) const;
  const PrivateKey* ecdsa() const;
  const sr25519::Keypair* sr25519() const;

 private:
  std::variant<const PrivateKey*, const sr25519::Keypair*> m_key;
};

// Verifies `signature` over `preimage` by `key`. A signature of the other scheme, or one that
// does not verify, is kUnauthorized with the reason.
Result<void> verifyAny(const AnyPublicKey& key, ByteView preimage, const AnySignature& signature);
// The same for a message, wrapped as signMessage wraps it.
Result<void> verifyAnyMessage(const AnyPublicKey& key, ByteView message, const AnySignature& signature);
// Verifies a message signature against an account id (an SS58 address): sr25519 verifies
// against the key the account id is; ecdsa recovers the signer and compares its account id.
// Returns the signer's key.
Result<AnyPublicKey> verifyAnyMessageByAccount(const AccountId& account, ByteView message,
                                               const AnySignature& signature);

// The error an ECDSA-only caller returns for a key of another scheme.
Error wrongSchemeError(std::string_view what, KeyScheme found);

}  // namespace merit::crypto
