#include "merit/net/shield.h"

#include <zmq.h>

#include "merit/crypto/hash.h"
#include "merit/util/assert.h"

namespace merit::net {

CurveKeyPair shieldClientKeyPair(const crypto::PrivateKey& ours, const crypto::PublicKey& theirs,
                                 const crypto::PublicKey& validator, const crypto::PublicKey& miner) {
  crypto::SecretArray<32> shared = crypto::ecdh(ours, theirs);
  Bytes input;
  input.reserve(1 + kShieldKeyTag.size() + 2 * crypto::PublicKey::kSize);
  input.push_back(static_cast<std::byte>(kShieldKeyTag.size()));
  const ByteView tag = asBytes(kShieldKeyTag);
  input.insert(input.end(), tag.begin(), tag.end());
  append(input, validator.bytes());
  append(input, miner.bytes());
  crypto::Hash256 secret = crypto::blake2b256Keyed(shared.reveal(), input);
  // X25519 clamping (RFC 7748): the scalar libsodium would use anyway, made explicit so the
  // stored secret is canonical.
  secret[0] &= std::byte{248};
  secret[31] &= std::byte{127};
  secret[31] |= std::byte{64};

  // libzmq's zmq_curve_public computes X25519(secret, 9) on Z85 text.
  char secretZ85[41];
  char publicZ85[41];
  MERIT_ASSERT(zmq_z85_encode(secretZ85, u8(ByteView(secret)), secret.size()) != nullptr);
  MERIT_ASSERT(zmq_curve_public(publicZ85, secretZ85) == 0, zmq_strerror(zmq_errno()));
  CurveKeyPair pair;
  MERIT_ASSERT(zmq_z85_decode(u8(MutableByteView(pair.publicKey)), publicZ85) != nullptr);
  pair.secretKey = crypto::SecretArray<32>(secret);
  crypto::secureZero(secret.data(), secret.size());
  crypto::secureZero(secretZ85, sizeof secretZ85);
  return pair;
}

ShieldAllowlist::ShieldAllowlist(crypto::PrivateKey minerHotkey)
    : m_miner(std::move(minerHotkey)),
      m_minerHotkey(m_miner.publicKey()),
      m_allowed(std::make_shared<const std::set<ByteArray<32>>>()) {}

void ShieldAllowlist::update(std::span<const crypto::PublicKey> validators) {
  std::lock_guard updating(m_updateMutex);
  std::map<crypto::PublicKey, ByteArray<32>> derived;
  auto allowed = std::make_shared<std::set<ByteArray<32>>>();
  for (const auto& v : validators) {
    if (v == m_minerHotkey) continue;
    auto known = m_derived.find(v);
    ByteArray<32> pub = known != m_derived.end()
                            ? known->second
                            : shieldClientKeyPair(m_miner, v, v, m_minerHotkey).publicKey;
    derived.emplace(v, pub);
    allowed->insert(pub);
  }
  m_derived = std::move(derived);
  std::lock_guard lock(m_mutex);
  m_allowed = std::move(allowed);
}

bool ShieldAllowlist::allows(const ByteArray<32>& clientKey) const {
  std::shared_ptr<const std::set<ByteArray<32>>> allowed;
  {
    std::lock_guard lock(m_mutex);
    allowed = m_allowed;
  }
  return allowed->contains(clientKey);
}

std::size_t ShieldAllowlist::size() const {
  std::lock_guard lock(m_mutex);
  return m_allowed->size();
}

std::function<bool(const ByteArray<32>&)> ShieldAllowlist::authorizer(
    std::shared_ptr<const ShieldAllowlist> allowlist) {
  MERIT_ASSERT(allowlist != nullptr);
  return [allowlist = std::move(allowlist)](const ByteArray<32>& key) { return allowlist->allows(key); };
}

}  // namespace merit::net
