#include "merit/crypto/keys.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <secp256k1_recovery.h>

#include "merit/crypto/domains.h"
#include "merit/util/assert.h"

namespace merit::crypto {

namespace {

// The one signing/verification context: created and randomised (side-channel blinding) on first
// use, immutable afterwards, so concurrent use is safe (libsecp256k1 guarantees this for const
// contexts).
const secp256k1_context* context() {
  static const secp256k1_context* ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    ByteArray<32> seed;
    randomBytes(seed);
    if (c == nullptr || !secp256k1_context_randomize(c, u8(ByteView(seed)))) {
      std::fprintf(stderr, "fatal: cannot create secp256k1 context\n");
      std::abort();
    }
    secureZero(seed.data(), seed.size());
    return c;
  }();
  return ctx;
}

}  // namespace

Result<PublicKey> PublicKey::fromBytes(ByteView bytes) {
  if (bytes.size() != kSize) {
    return fail(ErrorCode::kInvalidArgument,
                "public key must be 33 bytes (compressed), got " + std::to_string(bytes.size()));
  }
  if (bytes[0] != std::byte{0x02} && bytes[0] != std::byte{0x03}) {
    return fail(ErrorCode::kInvalidArgument, "public key is not in compressed form (first byte 02 or 03)");
  }
  secp256k1_pubkey parsed;
  if (!secp256k1_ec_pubkey_parse(context(), &parsed, u8(bytes), bytes.size())) {
    return fail(ErrorCode::kInvalidArgument, "public key is not a point on secp256k1");
  }
  ByteArray<kSize> out;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return PublicKey(out);
}

Result<PublicKey> PublicKey::fromHex(std::string_view hex) {
  MERIT_ASSIGN_OR_RETURN(Bytes bytes, merit::fromHex(hex));
  return fromBytes(bytes);
}

Result<Signature> Signature::fromBytes(ByteView bytes) {
  if (bytes.size() != kSize) {
    return fail(ErrorCode::kInvalidArgument,
                "signature must be 65 bytes (r||s||v), got " + std::to_string(bytes.size()));
  }
  ByteArray<kSize> out;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return Signature(out);
}

Result<Signature> Signature::fromHex(std::string_view hex) {
  MERIT_ASSIGN_OR_RETURN(Bytes bytes, merit::fromHex(hex));
  return fromBytes(bytes);
}

PrivateKey PrivateKey::generate() {
  while (true) {
    SecretArray<kSize> secret;
    randomBytes(secret.mutableBytes());
    // Fails only for 0 or ≥ n: probability about 2^-128.
    if (auto key = fromBytes(secret.reveal())) return std::move(*key);
  }
}

Result<PrivateKey> PrivateKey::fromBytes(ByteView secret) {
  if (secret.size() != kSize) {
    return fail(ErrorCode::kInvalidArgument,
                "private key must be 32 bytes, got " + std::to_string(secret.size()));
  }
  if (!secp256k1_ec_seckey_verify(context(), u8(secret))) {
    return fail(ErrorCode::kInvalidArgument, "private key is zero or not below the secp256k1 group order");
  }
  secp256k1_pubkey pub;
  MERIT_ASSERT(secp256k1_ec_pubkey_create(context(), &pub, u8(secret)) == 1);
  ByteArray<PublicKey::kSize> compressed;
  std::size_t len = compressed.size();
  secp256k1_ec_pubkey_serialize(context(), u8(MutableByteView(compressed)), &len, &pub,
                                SECP256K1_EC_COMPRESSED);
  MERIT_ASSERT(len == PublicKey::kSize, len);
  auto pk = PublicKey::fromBytes(compressed);
  MERIT_ASSERT(pk.has_value());
  return PrivateKey(SecretArray<kSize>(secret), *pk);
}

Signature PrivateKey::sign(ByteView message) const {
  return signDigest(blake2b256(message));
}

Signature PrivateKey::signDigest(const Hash256& digest) const {
  secp256k1_ecdsa_recoverable_signature sig;
  // nullptr nonce function = RFC 6979 with HMAC-SHA256; libsecp256k1 always emits low S.
  MERIT_ASSERT(secp256k1_ecdsa_sign_recoverable(context(), &sig, u8(ByteView(digest)), u8(m_secret.reveal()),
                                                nullptr, nullptr) == 1);
  ByteArray<Signature::kSize> out;
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), u8(MutableByteView(out)), &recid, &sig);
  out[64] = static_cast<std::byte>(recid);
  return Signature(out);
}

Result<PublicKey> recoverDigest(const Hash256& digest, const Signature& signature) {
  const auto& b = signature.bytes();
  int recid = std::to_integer<int>(b[64]);
  if (recid > 3) {
    return fail(ErrorCode::kUnauthorized, "signature recovery id must be 0..3, got " + std::to_string(recid));
  }
  secp256k1_ecdsa_recoverable_signature rsig;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &rsig, u8(ByteView(b).first(64)),
                                                           recid)) {
    return fail(ErrorCode::kUnauthorized, "signature r or s is out of range");
  }
  secp256k1_ecdsa_signature plain;
  secp256k1_ecdsa_recoverable_signature_convert(context(), &plain, &rsig);
  // normalize() returns 1 when it had to lower S, i.e. the input was high-S (malleated).
  if (secp256k1_ecdsa_signature_normalize(context(), nullptr, &plain)) {
    return fail(ErrorCode::kUnauthorized, "signature is not low-S (malleated)");
  }
  secp256k1_pubkey pub;
  if (!secp256k1_ecdsa_recover(context(), &pub, &rsig, u8(ByteView(digest)))) {
    return fail(ErrorCode::kUnauthorized, "no public key recovers from this signature");
  }
  ByteArray<PublicKey::kSize> compressed;
  std::size_t len = compressed.size();
  secp256k1_ec_pubkey_serialize(context(), u8(MutableByteView(compressed)), &len, &pub,
                                SECP256K1_EC_COMPRESSED);
  return PublicKey::fromBytes(compressed);
}

Result<void> verifyDigest(const PublicKey& key, const Hash256& digest, const Signature& signature) {
  MERIT_ASSIGN_OR_RETURN(PublicKey signer, recoverDigest(digest, signature));
  if (signer != key) return fail(ErrorCode::kUnauthorized, "signature was not made by this key");
  return {};
}

Result<void> verifyDigestKnownKey(const PublicKey& key, const Hash256& digest, const Signature& signature) {
  const auto& b = signature.bytes();
  if (std::to_integer<int>(b[64]) > 3) {
    return fail(ErrorCode::kUnauthorized, "signature recovery id must be 0..3");
  }
  secp256k1_ecdsa_signature sig;
  if (!secp256k1_ecdsa_signature_parse_compact(context(), &sig, u8(ByteView(b).first(64)))) {
    return fail(ErrorCode::kUnauthorized, "signature r or s is out of range");
  }
  // Checked explicitly for a precise reason; secp256k1_ecdsa_verify would also refuse high S.
  if (secp256k1_ecdsa_signature_normalize(context(), nullptr, &sig)) {
    return fail(ErrorCode::kUnauthorized, "signature is not low-S (malleated)");
  }
  secp256k1_pubkey pub;
  MERIT_ASSERT(secp256k1_ec_pubkey_parse(context(), &pub, u8(ByteView(key.bytes())), PublicKey::kSize) == 1);
  if (!secp256k1_ecdsa_verify(context(), &sig, u8(ByteView(digest)), &pub)) {
    return fail(ErrorCode::kUnauthorized, "signature was not made by this key");
  }
  return {};
}

namespace {

// ECDH hash: BLAKE2b-256 over the compressed shared point (libsecp256k1's default hashes with
// SHA-256; we keep BLAKE2b as the one hash of the protocol).
int blake2bEcdhHash(unsigned char* output, const unsigned char* x32, const unsigned char* y32, void*) {
  unsigned char point[33];
  point[0] = static_cast<unsigned char>(0x02 | (y32[31] & 1));
  std::memcpy(point + 1, x32, 32);
  Hash256 h = blake2b256(ByteView(reinterpret_cast<const std::byte*>(point), sizeof point));
  std::memcpy(output, h.data(), h.size());
  secureZero(point, sizeof point);
  secureZero(h.data(), h.size());
  return 1;
}

}  // namespace

SecretArray<32> ecdh(const PrivateKey& ours, const PublicKey& theirs) {
  secp256k1_pubkey pub;
  MERIT_ASSERT(secp256k1_ec_pubkey_parse(context(), &pub, u8(ByteView(theirs.bytes())), PublicKey::kSize) ==
               1);
  SecretArray<32> out;
  MERIT_ASSERT(secp256k1_ecdh(context(), u8(out.mutableBytes()), &pub, u8(ours.revealSecret()),
                              blake2bEcdhHash, nullptr) == 1);
  return out;
}

Result<void> verify(const PublicKey& key, ByteView message, const Signature& signature) {
  return verifyDigest(key, blake2b256(message), signature);
}

Bytes wrapMessage(ByteView message) {
  Bytes out;
  out.reserve(domain::kMessagePrefix.size() + message.size() + domain::kMessageSuffix.size());
  append(out, asBytes(domain::kMessagePrefix));
  append(out, message);
  append(out, asBytes(domain::kMessageSuffix));
  return out;
}

Signature signMessage(const PrivateKey& key, ByteView message) {
  return key.sign(wrapMessage(message));
}

Result<void> verifyMessage(const PublicKey& key, ByteView message, const Signature& signature) {
  return verifyDigest(key, blake2b256(wrapMessage(message)), signature);
}

Result<PublicKey> recoverMessageSigner(ByteView message, const Signature& signature) {
  return recoverDigest(blake2b256(wrapMessage(message)), signature);
}

}  // namespace merit::crypto
