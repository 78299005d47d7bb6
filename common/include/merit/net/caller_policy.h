// Who may call an axon, and how much their requests count (queue priority).
//
// Thread-safety: check() is called on the axon's I/O thread while other threads may update the
// policy (e.g. on a metagraph refresh); implementations synchronise themselves. StaticCallerPolicy
// guards its table with a mutex.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "merit/wire/envelope.h"

namespace merit::net {

struct CallerDecision {
  bool allowed = false;
  std::string reason;       // why not (sent to the caller in the FORBIDDEN message)
  std::uint64_t stake = 0;  // default queue priority: higher is served first
};

// The miner passes a policy backed by the metagraph (registered on the netuid, validator permit,
// minimum stake). check() must be fast (it runs before authentication, for every request), must
// not block on I/O and must not throw.
// The netuid check() sees for a session handshake: the handshake names no subnet, so a policy
// answers for the caller in general; each request in the session is checked again with its own
// netuid.
inline constexpr std::uint16_t kHandshakeNetuid = 0;

class CallerPolicy {
 public:
  virtual ~CallerPolicy() = default;
  virtual CallerDecision check(std::uint16_t netuid, const wire::Hotkey& caller) const = 0;
};

// A fixed allow-list with stakes: for tests, local networks and private deployments.
class StaticCallerPolicy final : public CallerPolicy {
 public:
  // Allows `caller` on every netuid with the given stake (replaces an earlier entry).
  void allow(const wire::Hotkey& caller, std::uint64_t stake);
  void remove(const wire::Hotkey& caller);
  CallerDecision check(std::uint16_t netuid, const wire::Hotkey& caller) const override;

 private:
  mutable std::mutex m_mutex;
  std::map<wire::Hotkey, std::uint64_t> m_stakes;  // guarded by m_mutex
};

}  // namespace merit::net
