// root_register and set_root_weights: the root network, whose weights split emission between subnets.
#include <optional>
#include <set>
#include <utility>

#include "merit/util/assert.h"

#include "calls.h"

namespace merit::chain::calls {

Outcome handle(const CallContext& ctx, const tx::RootRegister& c) {
  StateView& s = ctx.state;
  const AccountId& signer = ctx.signer;
  const std::uint64_t block = ctx.block;
  const RuntimeConfig& config = ctx.config;
  AccountId hotkey = c.hotkey.accountId();
  auto owner = s.hotkeyOwner(hotkey);
  if (owner && *owner != signer) return err(E::kNonAssociatedColdKey);
  if (s.uidOf(kRootNetUid, hotkey)) return err(E::kHotKeyAlreadyRegisteredInSubNet);
  auto root = s.subnet(kRootNetUid);
  if (!root) return err(E::kRootNetworkDoesNotExist);
  Uid uid = root->n;
  if (root->n >= config.maxRootValidators) {
    // Full: replace the root validator with the least stake if this hotkey has more.
    std::optional<std::pair<Balance, Uid>> lowest;
    for (Uid u = 0; u < root->n; ++u) {
      auto n = s.neuron(kRootNetUid, u);
      MERIT_ASSERT(n.has_value());
      auto key = std::make_pair(s.totalHotkeyStake(n->hotkey), u);
      if (!lowest || key < *lowest) lowest = key;
    }
    if (!lowest || s.totalHotkeyStake(hotkey) <= lowest->first) return err(E::kStakeTooLowForRoot);
    uid = lowest->second;
    auto old = s.neuron(kRootNetUid, uid);
    s.setUidOf(kRootNetUid, old->hotkey, std::nullopt);
    s.setRootWeights(uid, {});
  } else {
    root->n += 1;
    s.setSubnet(kRootNetUid, *root);
  }
  if (!owner) s.setHotkeyOwner(hotkey, signer);
  seatNeuron(s, kRootNetUid, uid, c.hotkey, signer, block, 0);
  return ok();
}

Outcome handle(const CallContext& ctx, const tx::SetRootWeights& c) {
  StateView& s = ctx.state;
  const AccountId& signer = ctx.signer;
  const std::uint64_t block = ctx.block;
  const RuntimeConfig& config = ctx.config;
  if (c.netuids.size() != c.values.size()) return err(E::kWeightVecNotEqualSize);
  auto uid = s.uidOf(kRootNetUid, signer);
  if (!uid) return err(E::kHotKeyNotRegisteredInSubNet, "not a root validator");
  std::set<NetUid> seen;
  for (NetUid k : c.netuids) {
    if (!seen.insert(k).second) return err(E::kDuplicateUids);
    if (k == kRootNetUid || !s.subnet(k))
      return err(E::kUidVecContainInvalidOne, "no subnet " + std::to_string(k));
  }
  auto n = s.neuron(kRootNetUid, *uid);
  MERIT_ASSERT(n.has_value());
  if (n->lastUpdate != 0 && block - n->lastUpdate < config.rootWeightsRateLimit) {
    return err(E::kSettingWeightsTooFast,
               "next allowed at block " + std::to_string(n->lastUpdate + config.rootWeightsRateLimit));
  }
  std::vector<std::pair<NetUid, std::uint16_t>> row;
  for (std::size_t i = 0; i < c.netuids.size(); ++i) row.emplace_back(c.netuids[i], c.values[i]);
  s.setRootWeights(*uid, row);
  n->lastUpdate = block;
  s.setNeuron(kRootNetUid, *uid, *n);
  return ok();
}

}  // namespace merit::chain::calls
