// The miner's caller policy, backed by the subnet's metagraph: only hotkeys registered on the
// netuid may call, optionally only those holding a validator permit and a minimum stake. Queue
// priority is the caller's stake.
//
// Callers are looked up by account id (wire::Hotkey::accountId: an sr25519 key itself, or
// BLAKE2b-256 of an ecdsa key; so callers of both schemes are accepted), which is what every
// chain stores: merit-chain also keeps public keys, a subtensor chain only ids.
//
// Thread-safety: check() runs on the axon's I/O thread; update() may run on any other thread.
// The lookup table is replaced whole under a mutex, so check() never sees a half-built table.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "merit/net/caller_policy.h"
#include "merit/rpc/metagraph.h"

namespace merit::miner {

struct PolicyOptions {
  bool requireValidatorPermit = true;
  std::uint64_t minStake = 0;  // rao
};

class MetagraphCallerPolicy final : public net::CallerPolicy {
 public:
  MetagraphCallerPolicy(std::uint16_t netuid, PolicyOptions options) : m_netuid(netuid), m_options(options) {}

  // Rebuilds the lookup table from a new metagraph snapshot.
  void update(const rpc::Metagraph& metagraph);
  net::CallerDecision check(std::uint16_t netuid, const wire::Hotkey& caller) const override;

 private:
  struct Entry {
    std::uint64_t stake;
    bool permit;
  };
  const std::uint16_t m_netuid;
  const PolicyOptions m_options;
  mutable std::mutex m_mutex;
  std::shared_ptr<const std::map<crypto::AccountId, Entry>> m_table;  // guarded by m_mutex
};

}  // namespace merit::miner
