// What the call families share: plugin names and seating a neuron at a uid.
#include "merit/util/assert.h"

#include "calls.h"

namespace merit::chain::calls {

bool validPluginName(const std::string& name) {
  if (name.empty() || name.size() > tx::kMaxNameLen) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

void clearUid(StateView& s, NetUid netuid, const SubnetInfo& info, Uid uid) {
  auto old = s.neuron(netuid, uid);
  MERIT_ASSERT(old.has_value(), netuid, uid);
  s.setUidOf(netuid, old->hotkey, std::nullopt);
  s.setCommits(netuid, old->hotkey, {});
  s.setWeights(netuid, uid, {});
  s.setBonds(netuid, uid, {});
  // Other validators' weights *to* this uid are zeroed (the entry is kept).
  for (Uid u = 0; u < info.n; ++u) {
    if (u == uid) continue;
    auto row = s.weights(netuid, u);
    bool changed = false;
    for (auto& e : row) {
      if (e.uid == uid && e.value != 0) {
        e.value = 0;
        changed = true;
      }
    }
    if (changed) s.setWeights(netuid, u, row);
  }
}

void seatNeuron(StateView& s, NetUid netuid, Uid uid, const crypto::AnyPublicKey& hotkey,
                const AccountId& coldkey, std::uint64_t block, std::uint64_t lastUpdate) {
  Neuron n(hotkey);
  n.coldkey = coldkey;
  n.blockAtRegistration = block;
  n.lastUpdate = lastUpdate;
  s.setNeuron(netuid, uid, n);
  s.setUidOf(netuid, n.hotkey, uid);
}

}  // namespace merit::chain::calls
