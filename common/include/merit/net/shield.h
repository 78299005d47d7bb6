// Shield mode: a miner's axon completes CurveZMQ handshakes only with the current validators of
// its subnet, so a stranger's connection is refused by the transport before any of its messages
// is read (docs/PROTOCOL.md, "Shield mode").
//
// Each (validator V, miner M) pair has its own CURVE client key pair that only V and M can
// compute, with no chain change and no extra registration:
//
//   shared  = ECDH(V, M)   (secp256k1, BLAKE2b-256 of the compressed point; crypto::ecdh)
//   secret  = clamp(BLAKE2b-256(key = shared, 0x1d "meritnet/v1/shield-client-key" ‖ V[33] ‖ M[33]))
//   public  = X25519(secret, 9)
//
// V[33] and M[33] are the compressed secp256k1 keys (untagged). The derivation is an ECDH of the
// two hotkeys, so shield mode needs ecdsa hotkeys on both sides: a miner with an sr25519 hotkey
// cannot run shielded, and validators with sr25519 hotkeys are not in a shielded miner's set.
//
// V uses (public, secret) as its CURVE client key towards M (the dendrite does so for targets
// with AxonTarget::shield); M admits exactly the public keys it computes for the validator-permit
// holders of its subnet (ShieldAllowlist, refreshed on every metagraph update).
//
// Thread-safety: the free functions are pure. ShieldAllowlist::allows() may be called from any
// thread (the transport's) while another thread runs update(); the allowed set is replaced whole
// under a mutex.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string_view>

#include "merit/crypto/keys.h"
#include "merit/net/context.h"
#include "merit/wire/envelope.h"

namespace merit::net {

inline constexpr std::string_view kShieldKeyTag = "meritnet/v1/shield-client-key";

// The CURVE client key pair of `validator` towards shielded miner `miner`. `ours` is either
// side's hotkey and `theirs` the other side's public key (the validator and the miner get the
// same pair).
CurveKeyPair shieldClientKeyPair(const crypto::PrivateKey& ours, const crypto::PublicKey& theirs,
                                 const crypto::PublicKey& validator, const crypto::PublicKey& miner);

// The set of CURVE client keys a shielded miner admits.
class ShieldAllowlist {
 public:
  explicit ShieldAllowlist(crypto::PrivateKey minerHotkey);
  ShieldAllowlist(const ShieldAllowlist&) = delete;
  ShieldAllowlist& operator=(const ShieldAllowlist&) = delete;

  // Admits exactly the keys derived for `validators` from now on (the miner's own hotkey is
  // skipped). Keys derived by an earlier update are reused, so a refresh with an unchanged
  // validator set costs no ECDH. Connections already open stay open (their requests still pass
  // the caller policy, which refuses a validator that lost its permit).
  void update(std::span<const crypto::PublicKey> validators);
  // Whether a CURVE client with this long-term public key may connect.
  bool allows(const ByteArray<32>& clientKey) const;
  std::size_t size() const;

  // An AxonConfig::curveClientAuthorizer backed by `allowlist`.
  static std::function<bool(const ByteArray<32>&)> authorizer(
      std::shared_ptr<const ShieldAllowlist> allowlist);

 private:
  const crypto::PrivateKey m_miner;
  const crypto::PublicKey m_minerHotkey;
  std::map<crypto::PublicKey, ByteArray<32>>
      m_derived;             // validator → client public key; update()'s thread only
  std::mutex m_updateMutex;  // serialises update()
  mutable std::mutex m_mutex;
  std::shared_ptr<const std::set<ByteArray<32>>> m_allowed;  // guarded by m_mutex
};

}  // namespace merit::net
