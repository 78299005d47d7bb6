// create_subnet and set_hyperparameter: a subnet's creation and its owner's administration.
#include <set>

#include "calls.h"

namespace merit::chain::calls {

Outcome handle(const CallContext& ctx, const tx::CreateSubnet& c) {
  StateView& s = ctx.state;
  const AccountId& signer = ctx.signer;
  const std::uint64_t block = ctx.block;
  const RuntimeConfig& config = ctx.config;
  Totals totals = s.totals();
  auto netuids = s.netuids();
  auto nonRoot = std::count_if(netuids.begin(), netuids.end(), [](NetUid n) { return n != kRootNetUid; });
  if (nonRoot >= config.subnetLimit) return err(E::kSubnetLimitReached);
  if (!validPluginName(c.plugin)) return err(E::kInvalidPluginName, "use 1-64 of a-z 0-9 _");
  SubnetInfo info;
  info.params = config.defaultParams;
  for (const auto& [h, v] : c.overrides) {
    auto r = hyperRange(h);
    if (v < r.min || v > r.max) return err(E::kInvalidHyperparameterValue, std::string(tx::hyperName(h)));
    info.params.set(h, v);
  }
  if (info.params.get(Hyper::kAlphaLow) > info.params.get(Hyper::kAlphaHigh) ||
      info.params.get(Hyper::kMinBurn) > info.params.get(Hyper::kMaxBurn)) {
    return err(E::kInvalidHyperparameterValue, "alpha_low > alpha_high or min_burn > max_burn");
  }
  Account owner = s.account(signer);
  if (owner.free < config.subnetLockCost) {
    return err(E::kNotEnoughBalanceToLock, "lock cost " + std::to_string(config.subnetLockCost));
  }
  owner.free -= config.subnetLockCost;
  s.setAccount(signer, owner);
  NetUid netuid = 1;
  std::set<NetUid> used(netuids.begin(), netuids.end());
  while (used.count(netuid)) ++netuid;
  info.owner = signer;
  info.plugin = c.plugin;
  info.pluginVersion = c.pluginVersion;
  info.locked = config.subnetLockCost;
  info.burn =
      std::clamp(config.initialBurn, info.params.get(Hyper::kMinBurn), info.params.get(Hyper::kMaxBurn));
  info.createdBlock = block;
  info.lastEpochBlock = block;
  info.lastAdjustmentBlock = block;
  s.setSubnet(netuid, info);
  netuids.push_back(netuid);
  std::sort(netuids.begin(), netuids.end());
  s.setNetuids(netuids);
  totals.locked += config.subnetLockCost;
  s.setTotals(totals);
  return ok();
}

Outcome handle(const CallContext& ctx, const tx::SetHyperparameter& c) {
  StateView& s = ctx.state;
  const AccountId& signer = ctx.signer;
  auto info = s.subnet(c.netuid);
  if (!info || c.netuid == kRootNetUid) return err(E::kSubNetworkDoesNotExist);
  if (info->owner != signer) return err(E::kNotSubnetOwner);
  auto r = hyperRange(c.param);
  if (c.value < r.min || c.value > r.max)
    return err(E::kInvalidHyperparameterValue, std::string(tx::hyperName(c.param)));
  SubnetParams next = info->params;
  next.set(c.param, c.value);
  if (next.get(Hyper::kAlphaLow) > next.get(Hyper::kAlphaHigh))
    return err(E::kInvalidHyperparameterValue, "alpha_low > alpha_high");
  if (next.get(Hyper::kMinBurn) > next.get(Hyper::kMaxBurn))
    return err(E::kInvalidHyperparameterValue, "min_burn > max_burn");
  if (next.get(Hyper::kMaxAllowedUids) < info->n) return err(E::kMaxAllowedUIdsLessThanCurrentUIds);
  info->params = next;
  info->burn = std::clamp(info->burn, next.get(Hyper::kMinBurn), next.get(Hyper::kMaxBurn));
  s.setSubnet(c.netuid, *info);
  return ok();
}

}  // namespace merit::chain::calls
