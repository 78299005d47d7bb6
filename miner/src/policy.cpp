#include "merit/miner/policy.h"

#include "merit/crypto/hash.h"

namespace merit::miner {

void MetagraphCallerPolicy::update(const rpc::Metagraph& metagraph) {
  auto table = std::make_shared<std::map<crypto::AccountId, Entry>>();
  for (const auto& n : metagraph.neurons) (*table)[n.hotkey] = Entry{n.stake, n.validatorPermit};
  std::lock_guard lock(m_mutex);
  m_table = std::move(table);
}

net::CallerDecision MetagraphCallerPolicy::check(std::uint16_t netuid, const wire::Hotkey& caller) const {
  net::CallerDecision d;
  // A session handshake names no subnet; the requests in the session are checked with theirs.
  if (netuid != m_netuid && netuid != net::kHandshakeNetuid) {
    d.reason = "this miner serves subnet " + std::to_string(m_netuid);
    return d;
  }
  std::shared_ptr<const std::map<crypto::AccountId, Entry>> table;
  {
    std::lock_guard lock(m_mutex);
    table = m_table;
  }
  if (!table) {
    d.reason = "metagraph not loaded yet";
    return d;
  }
  auto it = table->find(caller.accountId());
  if (it == table->end()) {
    d.reason = "caller is not registered on subnet " + std::to_string(m_netuid);
    return d;
  }
  if (m_options.requireValidatorPermit && !it->second.permit) {
    d.reason = "caller has no validator permit";
    return d;
  }
  if (it->second.stake < m_options.minStake) {
    d.reason = "caller stake " + std::to_string(it->second.stake) + " is below the minimum " +
               std::to_string(m_options.minStake);
    return d;
  }
  d.allowed = true;
  d.stake = it->second.stake;
  return d;
}

}  // namespace merit::miner
