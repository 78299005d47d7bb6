// set_weights, commit_weights, reveal_weights: a validator's weights on its subnet.
#include <vector>

#include "merit/consensus/weights.h"
#include "merit/crypto/hash.h"
#include "merit/util/assert.h"

#include "calls.h"

namespace merit::chain::calls {

namespace {

// merit_consensus reports a broken weight rule as "Name: detail" under the same names.
Outcome fromConsensusError(const Error& e) {
  return {tx::ChainError::parse(e.message())};
}

// set_weights and reveal_weights share subtensor's checks (docs/RPC.md); a reveal skips the
// rate limit and the commit-reveal check, and does not move last_update.
Outcome applyWeights(const CallContext& ctx, NetUid netuid, const std::vector<Uid>& uids,
                     const std::vector<std::uint16_t>& values, std::uint64_t versionKey, bool fromReveal) {
  StateView& s = ctx.state;
  const AccountId& signer = ctx.signer;
  const std::uint64_t block = ctx.block;
  if (netuid == kRootNetUid) return err(E::kCanNotSetRootNetworkWeights);
  if (uids.size() != values.size()) return err(E::kWeightVecNotEqualSize);
  auto info = s.subnet(netuid);
  if (!info) return err(E::kSubNetworkDoesNotExist);
  if (uids.size() > info->n) return err(E::kUidsLengthExceedUidsInSubNet);
  auto uid = s.uidOf(netuid, signer);
  if (!uid) return err(E::kHotKeyNotRegisteredInSubNet);
  if (s.totalHotkeyStake(signer) < paramOf(*info, Hyper::kStakeThreshold))
    return err(E::kNotEnoughStakeToSetWeights);
  std::uint64_t networkKey = paramOf(*info, Hyper::kWeightsVersionKey);
  if (networkKey != 0 && versionKey < networkKey) return err(E::kIncorrectWeightVersionKey);
  auto n = s.neuron(netuid, *uid);
  MERIT_ASSERT(n.has_value());
  bool cr = paramOf(*info, Hyper::kCommitReveal) != 0;
  if (!fromReveal) {
    if (cr) return err(E::kCommitRevealEnabled, "use commit_weights and reveal_weights");
    std::uint64_t limit = paramOf(*info, Hyper::kWeightsRateLimit);
    if (n->lastUpdate != 0 && block - n->lastUpdate < limit) {
      return err(E::kSettingWeightsTooFast, "next allowed at block " + std::to_string(n->lastUpdate + limit));
    }
  }
  consensus::SetWeightsRules rules;
  rules.callerUid = *uid;
  rules.subnetN = info->n;
  rules.minAllowedWeights = static_cast<std::uint16_t>(paramOf(*info, Hyper::kMinAllowedWeights));
  rules.maxWeightLimit = static_cast<std::uint16_t>(paramOf(*info, Hyper::kMaxWeightLimit));
  rules.callerHasPermit = n->validatorPermit;
  rules.callerIsOwner = false;
  auto row = consensus::checkAndUpscaleWeights(uids, values, rules);
  if (!row) return fromConsensusError(row.error());
  s.setWeights(netuid, *uid, *row);
  if (!fromReveal) {
    n->lastUpdate = block;
    s.setNeuron(netuid, *uid, *n);
  }
  return ok();
}

}  // namespace

Outcome handle(const CallContext& ctx, const tx::SetWeights& c) {
  return applyWeights(ctx, c.netuid, c.uids, c.values, c.versionKey, false);
}

Outcome handle(const CallContext& ctx, const tx::CommitWeights& c) {
  StateView& s = ctx.state;
  const AccountId& signer = ctx.signer;
  const std::uint64_t block = ctx.block;
  const RuntimeConfig& config = ctx.config;
  auto info = s.subnet(c.netuid);
  if (!info || c.netuid == kRootNetUid) return err(E::kSubNetworkDoesNotExist);
  if (paramOf(*info, Hyper::kCommitReveal) == 0) return err(E::kCommitRevealDisabled);
  auto uid = s.uidOf(c.netuid, signer);
  if (!uid) return err(E::kHotKeyNotRegisteredInSubNet);
  auto n = s.neuron(c.netuid, *uid);
  MERIT_ASSERT(n.has_value());
  std::uint64_t limit = paramOf(*info, Hyper::kWeightsRateLimit);
  if (n->lastUpdate != 0 && block - n->lastUpdate < limit) {
    return err(E::kSettingWeightsTooFast, "next allowed at block " + std::to_string(n->lastUpdate + limit));
  }
  std::uint64_t tempo = paramOf(*info, Hyper::kTempo);
  std::uint64_t period = paramOf(*info, Hyper::kRevealPeriodEpochs);
  std::uint64_t epoch = Runtime::epochIndex(block, c.netuid, tempo);
  auto commits = s.commits(c.netuid, signer);
  // Expired commits no longer count against the limit.
  commits.erase(std::remove_if(commits.begin(), commits.end(),
                               [&](const WeightCommit& w) { return epoch > w.epoch + period; }),
                commits.end());
  if (commits.size() >= config.maxUnrevealedCommits) return err(E::kTooManyUnrevealedCommits);
  commits.push_back(WeightCommit{c.commitHash, epoch, block});
  s.setCommits(c.netuid, signer, commits);
  n->lastUpdate = block;
  s.setNeuron(c.netuid, *uid, *n);
  return ok();
}

Outcome handle(const CallContext& ctx, const tx::RevealWeights& c) {
  StateView& s = ctx.state;
  const AccountId& signer = ctx.signer;
  const std::uint64_t block = ctx.block;
  auto info = s.subnet(c.netuid);
  if (!info || c.netuid == kRootNetUid) return err(E::kSubNetworkDoesNotExist);
  if (paramOf(*info, Hyper::kCommitReveal) == 0) return err(E::kCommitRevealDisabled);
  if (!s.uidOf(c.netuid, signer)) return err(E::kHotKeyNotRegisteredInSubNet);
  auto commits = s.commits(c.netuid, signer);
  if (commits.empty()) return err(E::kNoWeightsCommitFound);
  auto pre = consensus::weightsCommitPreimage(signer, c.netuid, c.uids, c.values, c.salt, c.versionKey);
  crypto::Hash256 hash = crypto::blake2b256(pre);
  auto it =
      std::find_if(commits.begin(), commits.end(), [&](const WeightCommit& w) { return w.hash == hash; });
  if (it == commits.end()) return err(E::kInvalidRevealCommitHashNotMatch);
  std::uint64_t tempo = paramOf(*info, Hyper::kTempo);
  std::uint64_t period = paramOf(*info, Hyper::kRevealPeriodEpochs);
  std::uint64_t epoch = Runtime::epochIndex(block, c.netuid, tempo);
  if (epoch < it->epoch + period)
    return err(E::kRevealTooEarly, "reveal in epoch " + std::to_string(it->epoch + period));
  if (epoch > it->epoch + period) return err(E::kExpiredWeightCommit);
  commits.erase(commits.begin(), it + 1);  // this commit and every earlier one
  s.setCommits(c.netuid, signer, commits);
  return applyWeights(ctx, c.netuid, c.uids, c.values, c.versionKey, true);
}

}  // namespace merit::chain::calls
