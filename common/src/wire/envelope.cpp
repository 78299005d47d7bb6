#include "merit/wire/envelope.h"

#include <cstring>
#include <string>

#include "merit/util/assert.h"

namespace merit::wire {

namespace {

// The tagged length of each scheme's keys and signatures.
std::size_t taggedKeySize(crypto::KeyScheme scheme) {
  return 1 +
         (scheme == crypto::KeyScheme::kEcdsa ? crypto::PublicKey::kSize : crypto::sr25519::PublicKey::kSize);
}
std::size_t taggedSignatureSize(crypto::KeyScheme scheme) {
  return 1 +
         (scheme == crypto::KeyScheme::kEcdsa ? crypto::Signature::kSize : crypto::sr25519::Signature::kSize);
}

// The scheme of `tagged`'s first byte when its length is that scheme's, else kInvalidArgument
// naming the tag (`what` is "hotkey" or "signature").
Result<crypto::KeyScheme> checkTagged(ByteView tagged, bool isKey) {
  const char* what = isKey ? "hotkey" : "signature";
  if (tagged.empty()) return fail(ErrorCode::kInvalidArgument, std::string("empty ") + what);
  const auto tag = std::to_integer<std::uint8_t>(tagged[0]);
  auto scheme = crypto::schemeFromTag(tag);
  if (!scheme) {
    return fail(ErrorCode::kInvalidArgument, std::string(what) + " of unsupported signature scheme " +
                                                 std::string(tagName(tag)) + " (tag " + std::to_string(tag) +
                                                 "): meritnet accepts sr25519 (tag 1) and ecdsa (tag 2)");
  }
  const std::size_t want = isKey ? taggedKeySize(*scheme) : taggedSignatureSize(*scheme);
  if (tagged.size() != want) {
    return fail(ErrorCode::kInvalidArgument, "tagged " + std::string(crypto::schemeName(*scheme)) + " " +
                                                 what + " must be " + std::to_string(want) + " bytes, got " +
                                                 std::to_string(tagged.size()));
  }
  return *scheme;
}

template <std::size_t N>
void copyInto(std::array<std::byte, N>& out, std::uint8_t& size, ByteView tagged) {
  MERIT_ASSERT(tagged.size() <= N, tagged.size(), N);
  out.fill(std::byte{0});
  std::memcpy(out.data(), tagged.data(), tagged.size());
  size = static_cast<std::uint8_t>(tagged.size());
}

}  // namespace

std::string_view tagName(std::uint8_t tag) {
  switch (tag) {
    case 0: return "ed25519";
    case crypto::kSr25519Tag: return "sr25519";
    case crypto::kEcdsaTag: return "ecdsa";
    default: return "unknown";
  }
}

Hotkey::Hotkey(const crypto::AnyPublicKey& key) {
  const Bytes t = key.tagged();
  copyInto(m_bytes, m_size, t);
}

Hotkey::Hotkey(const crypto::PublicKey& key) : Hotkey(crypto::AnyPublicKey(key)) {}

Hotkey::Hotkey(const crypto::sr25519::PublicKey& key) : Hotkey(crypto::AnyPublicKey(key)) {}

Result<Hotkey> Hotkey::fromTagged(ByteView tagged) {
  MERIT_TRY(checkTagged(tagged, true));
  Hotkey out;
  copyInto(out.m_bytes, out.m_size, tagged);
  return out;
}

crypto::KeyScheme Hotkey::scheme() const {
  MERIT_ASSERT(m_size != 0);
  return std::to_integer<std::uint8_t>(m_bytes[0]) == crypto::kEcdsaTag ? crypto::KeyScheme::kEcdsa
                                                                        : crypto::KeyScheme::kSr25519;
}

Result<crypto::AnyPublicKey> Hotkey::toPublicKey() const {
  if (m_size == 0) return fail(ErrorCode::kInvalidArgument, "empty hotkey");
  return crypto::AnyPublicKey::fromTagged(tagged());
}

crypto::AccountId Hotkey::accountId() const {
  if (scheme() == crypto::KeyScheme::kEcdsa) return crypto::blake2b256(keyBytes());
  crypto::AccountId id;
  MERIT_ASSERT(keyBytes().size() == id.size(), keyBytes().size());
  std::memcpy(id.data(), keyBytes().data(), id.size());
  return id;
}

SignatureBytes::SignatureBytes(const crypto::AnySignature& signature) {
  const Bytes t = signature.tagged();
  copyInto(m_bytes, m_size, t);
}

Result<SignatureBytes> SignatureBytes::fromTagged(ByteView tagged) {
  MERIT_TRY(checkTagged(tagged, false));
  SignatureBytes out;
  copyInto(out.m_bytes, out.m_size, tagged);
  return out;
}

crypto::KeyScheme SignatureBytes::scheme() const {
  MERIT_ASSERT(m_size != 0);
  return std::to_integer<std::uint8_t>(m_bytes[0]) == crypto::kEcdsaTag ? crypto::KeyScheme::kEcdsa
                                                                        : crypto::KeyScheme::kSr25519;
}

crypto::AnySignature SignatureBytes::toSignature() const {
  MERIT_ASSERT(m_size != 0);
  auto sig = crypto::AnySignature::fromTagged(tagged());
  // Only fromTagged() and AnySignature build a non-empty value: tag and length are checked.
  MERIT_ASSERT(sig.has_value());
  return *sig;
}

}  // namespace merit::wire

std::size_t std::hash<merit::wire::Hotkey>::operator()(const merit::wire::Hotkey& key) const noexcept {
  return std::hash<std::string_view>{}(merit::asChars(key.tagged()));
}
