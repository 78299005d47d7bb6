#include "merit/validator/weights.h"

#include <algorithm>

#include "merit/consensus/weights.h"
#include "merit/crypto/hash.h"
#include "merit/util/log.h"

namespace merit::validator {

namespace {

std::uint64_t epochIndex(std::uint64_t block, std::uint16_t netuid, std::uint64_t tempo) {
  return (block + netuid + 1) / (tempo + 1);
}

}  // namespace

const char* weightOutcomeName(WeightOutcome::Kind k) {
  switch (k) {
    case WeightOutcome::Kind::kNotDue: return "not_due";
    case WeightOutcome::Kind::kSet: return "set";
    case WeightOutcome::Kind::kCommitted: return "committed";
    case WeightOutcome::Kind::kRevealed: return "revealed";
    case WeightOutcome::Kind::kFailed: return "failed";
  }
  return "unknown";
}

WeightOutcome WeightSetter::submit(tx::Call call, WeightOutcome::Kind success, std::uint64_t head) {
  ++m_attempts;
  WeightOutcome out;
  auto sub = m_client.submit(m_hotkey, std::move(call));
  if (sub && sub->included && sub->success) {
    out.kind = success;
    out.block = sub->block;
    m_backoff.reset();
    return out;
  }
  ++m_failures;
  out.kind = WeightOutcome::Kind::kFailed;
  if (!sub) {
    out.error = sub.error().message();
  } else if (sub->error) {  // rejected, or included and failed
    out.error = std::string(sub->error->name());
    out.detail = sub->error->detail();
    out.chainError = sub->error->code();
  } else {
    out.error = "NotIncluded";
    out.detail = "still pending when the wait ended";
  }
  // Bounded exponential backoff, in blocks.
  m_retryAfterBlock = head + m_backoff.next();
  return out;
}

WeightOutcome WeightSetter::step(const rpc::Metagraph& mg, const std::vector<double>& scores,
                                 ValidatorState& state) {
  const std::uint64_t head = mg.block;
  const std::uint64_t next = head + 1;  // the block our extrinsic can land in
  if (next < m_retryAfterBlock) return {};
  const auto* me = mg.byHotkey(m_hotkey.publicKey().accountId());
  if (me == nullptr)
    return {WeightOutcome::Kind::kFailed, 0, "HotKeyNotRegisteredInSubNet", "not in the metagraph",
            std::nullopt};
  const std::uint64_t tempo = std::max<std::uint64_t>(mg.tempo, 1);
  const bool commitReveal = mg.params.commitReveal;
  const std::uint64_t period = mg.params.revealPeriodEpochs;
  const std::uint64_t versionKey = mg.params.weightsVersionKey;

  // 1. Reveal a commit whose reveal epoch is now; drop the ones that expired.
  if (commitReveal) {
    std::uint64_t epoch = epochIndex(next, m_netuid, mg.tempo);
    auto& pending = state.pendingCommits;
    pending.erase(std::remove_if(pending.begin(), pending.end(),
                                 [&](const PendingCommit& c) {
                                   return epoch > epochIndex(c.commitBlock, m_netuid, mg.tempo) + period;
                                 }),
                  pending.end());
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      if (epochIndex(it->commitBlock, m_netuid, mg.tempo) + period != epoch) continue;
      auto out = submit(tx::RevealWeights{m_netuid, it->uids, it->values, it->salt, it->versionKey},
                        WeightOutcome::Kind::kRevealed, head);
      if (out.kind == WeightOutcome::Kind::kRevealed ||
          out.chainError == tx::ChainErrorCode::kExpiredWeightCommit ||
          out.chainError == tx::ChainErrorCode::kNoWeightsCommitFound) {
        pending.erase(pending.begin(), it + 1);
      }
      return out;
    }
    if (!pending.empty()) return {};  // wait for the reveal before committing again
  }

  // 2. Is it time to set weights? A permit (the chain refuses weights on others without one),
  // the chain's rate limit, and at most once per tempo.
  if (!me->validatorPermit) return {};
  const std::uint64_t rateLimit = mg.params.weightsRateLimit;
  const std::uint64_t interval = m_policy.minIntervalBlocks > 0 ? m_policy.minIntervalBlocks : tempo;
  if (me->lastUpdate != 0 && next - me->lastUpdate < rateLimit) return {};
  if (state.lastWeightsBlock != 0 && next - state.lastWeightsBlock < interval) return {};

  auto row = weightsFromScores(scores, m_policy.sharpen, mg.params.minAllowedWeights,
                               mg.params.maxWeightLimit, me->uid);
  if (!row) return {WeightOutcome::Kind::kFailed, 0, "NoWeights", row.error().message(), std::nullopt};

  if (!commitReveal) {
    auto out =
        submit(tx::SetWeights{m_netuid, row->uids, row->values, versionKey}, WeightOutcome::Kind::kSet, head);
    if (out.kind == WeightOutcome::Kind::kSet) state.lastWeightsBlock = out.block;
    return out;
  }
  PendingCommit c;
  c.uids = row->uids;
  c.values = row->values;
  c.versionKey = versionKey;
  c.salt.resize(8);
  ByteArray<16> random;
  crypto::randomBytes(random);
  for (std::size_t i = 0; i < 8; ++i) {
    c.salt[i] = static_cast<std::uint16_t>((std::to_integer<unsigned>(random[2 * i]) << 8) |
                                           std::to_integer<unsigned>(random[2 * i + 1]));
  }
  auto preimage = consensus::weightsCommitPreimage(m_hotkey.publicKey().accountId(), m_netuid, c.uids,
                                                   c.values, c.salt, c.versionKey);
  auto out = submit(tx::CommitWeights{m_netuid, crypto::blake2b256(preimage)},
                    WeightOutcome::Kind::kCommitted, head);
  if (out.kind == WeightOutcome::Kind::kCommitted) {
    c.commitBlock = out.block;
    state.pendingCommits.push_back(std::move(c));
    state.lastWeightsBlock = out.block;
  }
  return out;
}

}  // namespace merit::validator
