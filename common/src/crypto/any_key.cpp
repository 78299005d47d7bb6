#include "merit/crypto/any_key.h"

namespace merit::crypto {

std::string_view schemeName(KeyScheme scheme) {
  return scheme == KeyScheme::kEcdsa ? "ecdsa" : "sr25519";
}

Result<KeyScheme> parseScheme(std::string_view name) {
  if (name == "ecdsa") return KeyScheme::kEcdsa;
  if (name == "sr25519") return KeyScheme::kSr25519;
  return fail(ErrorCode::kInvalidArgument,
              "unknown key scheme '" + std::string(name) + "' (ecdsa or sr25519)");
}

std::uint8_t schemeTag(KeyScheme scheme) {
  return scheme == KeyScheme::kEcdsa ? kEcdsaTag : kSr25519Tag;
}

Result<KeyScheme> schemeFromTag(std::uint8_t tag) {
  if (tag == kEcdsaTag) return KeyScheme::kEcdsa;
  if (tag == kSr25519Tag) return KeyScheme::kSr25519;
  return fail(ErrorCode::kInvalidArgument, "unknown signature scheme " + std::to_string(tag) +
                                               " (meritnet knows 1 = sr25519 and 2 = ecdsa)");
}

namespace {

Bytes withTag(KeyScheme scheme, const Bytes& body) {
  Bytes out;
  out.reserve(1 + body.size());
  out.push_back(static_cast<std::byte>(schemeTag(scheme)));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace

Error wrongSchemeError(std::string_view what, KeyScheme found) {
  return Error(ErrorCode::kInvalidArgument, std::string(what) + " holds an " +
                                                std::string(schemeName(found)) +
                                                " key, but this needs an ecdsa (secp256k1) key");
}

Result<AnyPublicKey> AnyPublicKey::fromBytes(KeyScheme scheme, ByteView bytes) {
  if (scheme == KeyScheme::kEcdsa) {
    MERIT_ASSIGN_OR_RETURN(PublicKey k, PublicKey::fromBytes(bytes));
    return AnyPublicKey(k);
  }
  MERIT_ASSIGN_OR_RETURN(sr25519::PublicKey k, sr25519::PublicKey::fromBytes(bytes));
  return AnyPublicKey(k);
}

Result<AnyPublicKey> AnyPublicKey::fromHex(KeyScheme scheme, std::string_view hex) {
  MERIT_ASSIGN_OR_RETURN(Bytes bytes, merit::fromHex(hex));
  return fromBytes(scheme, bytes);
}

Result<AnyPublicKey> AnyPublicKey::fromTagged(ByteView tagged) {
  if (tagged.empty()) return fail(ErrorCode::kInvalidArgument, "empty tagged public key");
  MERIT_ASSIGN_OR_RETURN(KeyScheme scheme, schemeFromTag(std::to_integer<std::uint8_t>(tagged[0])));
  return fromBytes(scheme, tagged.subspan(1));
}

Bytes AnyPublicKey::tagged() const {
  return withTag(scheme(), bytes());
}

Bytes AnyPublicKey::bytes() const {
  if (const auto* k = ecdsa()) return Bytes(k->bytes().begin(), k->bytes().end());
  const auto& b = sr25519()->bytes();
  return Bytes(b.begin(), b.end());
}

AccountId AnyPublicKey::accountId() const {
  if (const auto* k = ecdsa()) return k->accountId();
  return sr25519()->accountId();
}

Result<PublicKey> AnyPublicKey::requireEcdsa(std::string_view what) const {
  if (const auto* k = ecdsa()) return *k;
  return fail(wrongSchemeError(what, scheme()));
}

Result<AnySignature> AnySignature::fromBytes(KeyScheme scheme, ByteView bytes) {
  if (scheme == KeyScheme::kEcdsa) {
    MERIT_ASSIGN_OR_RETURN(Signature s, Signature::fromBytes(bytes));
    return AnySignature(s);
  }
  MERIT_ASSIGN_OR_RETURN(sr25519::Signature s, sr25519::Signature::fromBytes(bytes));
  return AnySignature(s);
}

Result<AnySignature> AnySignature::fromBytesAnyScheme(ByteView bytes) {
  if (bytes.size() == Signature::kSize) return fromBytes(KeyScheme::kEcdsa, bytes);
  if (bytes.size() == sr25519::Signature::kSize) return fromBytes(KeyScheme::kSr25519, bytes);
  return fail(ErrorCode::kInvalidArgument,
              "a signature is 65 bytes (ecdsa) or 64 bytes (sr25519), not " + std::to_string(bytes.size()));
}

Result<AnySignature> AnySignature::fromHexAnyScheme(std::string_view hex) {
  MERIT_ASSIGN_OR_RETURN(Bytes bytes, merit::fromHex(hex));
  return fromBytesAnyScheme(bytes);
}

Result<AnySignature> AnySignature::fromTagged(ByteView tagged) {
  if (tagged.empty()) return fail(ErrorCode::kInvalidArgument, "empty tagged signature");
  MERIT_ASSIGN_OR_RETURN(KeyScheme scheme, schemeFromTag(std::to_integer<std::uint8_t>(tagged[0])));
  return fromBytes(scheme, tagged.subspan(1));
}

Bytes AnySignature::tagged() const {
  return withTag(scheme(), bytes());
}

Bytes AnySignature::bytes() const {
  if (const auto* s = ecdsa()) return Bytes(s->bytes().begin(), s->bytes().end());
  const auto& b = sr25519()->bytes();
  return Bytes(b.begin(), b.end());
}

AnyPrivateKey AnyPrivateKey::generate(KeyScheme scheme) {
  if (scheme == KeyScheme::kEcdsa) return AnyPrivateKey(PrivateKey::generate());
  return AnyPrivateKey(sr25519::Keypair::generate());
}

AnyPrivateKey AnyPrivateKey::clone() const {
  if (const auto* k = ecdsa()) return AnyPrivateKey(PrivateKey::fromBytes(k->revealSecret()).value());
  return AnyPrivateKey(
      sr25519::Keypair::fromSchnorrkelBytes(sr25519()->toSchnorrkelBytes().reveal()).value());
}

AnyPublicKey AnyPrivateKey::publicKey() const {
  return SignerRef(*this).publicKey();
}

AnySignature AnyPrivateKey::sign(ByteView preimage) const {
  return SignerRef(*this).sign(preimage);
}

AnySignature AnyPrivateKey::signMessage(ByteView message) const {
  return sign(wrapMessage(message));
}

Result<PrivateKey> AnyPrivateKey::takeEcdsa(std::string_view what) && {
  if (auto* k = std::get_if<PrivateKey>(&m_key)) return std::move(*k);
  return fail(wrongSchemeError(what, scheme()));
}

SignerRef::SignerRef(const AnyPrivateKey& key) {
  if (const auto* k = key.ecdsa()) {
    m_key = k;
  } else {
    m_key = key.sr25519();
  }
}

const PrivateKey* SignerRef::ecdsa() const {
  const auto* k = std::get_if<const PrivateKey*>(&m_key);
  return k != nullptr ? *k : nullptr;
}

const sr25519::Keypair* SignerRef::sr25519() const {
  const auto* k = std::get_if<const sr25519::Keypair*>(&m_key);
  return k != nullptr ? *k : nullptr;
}

AnyPublicKey SignerRef::publicKey() const {
  if (const auto* k = ecdsa()) return k->publicKey();
  return sr25519()->publicKey();
}

AnySignature SignerRef::sign(ByteView preimage) const {
  if (const auto* k = ecdsa()) return k->sign(preimage);
  return sr25519()->sign(preimage, sr25519::kSubstrateContext);
}

Result<void> verifyAny(const AnyPublicKey& key, ByteView preimage, const AnySignature& signature) {
  if (key.scheme() != signature.scheme()) {
    return fail(ErrorCode::kUnauthorized, "the signature is " + std::string(schemeName(signature.scheme())) +
                                              " but the key is " + std::string(schemeName(key.scheme())));
  }
  if (const auto* k = key.ecdsa()) return verify(*k, preimage, *signature.ecdsa());
  return sr25519::verify(*key.sr25519(), preimage, *signature.sr25519(), sr25519::kSubstrateContext);
}

Result<void> verifyAnyMessage(const AnyPublicKey& key, ByteView message, const AnySignature& signature) {
  return verifyAny(key, wrapMessage(message), signature);
}

Result<AnyPublicKey> verifyAnyMessageByAccount(const AccountId& account, ByteView message,
                                               const AnySignature& signature) {
  if (const auto* sig = signature.ecdsa()) {
    MERIT_ASSIGN_OR_RETURN(PublicKey signer, recoverMessageSigner(message, *sig));
    if (signer.accountId() != account) {
      return fail(ErrorCode::kUnauthorized, "signature was not made by this address");
    }
    return AnyPublicKey(signer);
  }
  auto key = sr25519::PublicKey::fromBytes(account);
  if (!key) return fail(ErrorCode::kUnauthorized, "the address is not an sr25519 public key");
  MERIT_TRY(verifyAnyMessage(*key, message, signature));
  return AnyPublicKey(*key);
}

}  // namespace merit::crypto
