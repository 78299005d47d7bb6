// How a validator turns answers into scores and scores into weights.
//
// Thread-safety: ScoreBoard and MinerSampler belong to the validator loop's thread; the free
// functions are pure.
//
// Score of one answer = quality × latency factor, with quality in [0, 1] from the subnet plugin
// and, by default, latency factor = 1 − w · min(1, latency / timeout) with w = 0.3: an instant
// perfect answer scores 1, a perfect answer at the deadline 0.7. Failures, timeouts and bad
// authenticators score 0. Each queried miner's score is an exponential moving average
// (α = 0.1 by default); miners not queried in a step keep theirs. A query that could not
// measure the miner (classify() → kUnmeasured: rate limited or overloaded, or our own failure
// or lateness) leaves its average alone, as if it had not been queried.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "merit/crypto/keys.h"
#include "merit/net/dendrite.h"
#include "merit/util/result.h"

namespace merit::validator {

struct LatencyModel {
  double weight = 0.3;  // w in [0, 1]: how much of the score speed can take away
};

// 1 − w · min(1, latency / timeout); latency and timeout in the same unit, timeout > 0.
double latencyFactor(double latency, double timeout, const LatencyModel& model);

// What one query result says about the miner (docs/PROTOCOL.md, "Scoring a result").
enum class Measurement : std::uint8_t {
  kAnswered,  // an authenticated OK: score its quality and latency
  kFailed,    // the miner's failure (wrong answer, refused us, silent, unreachable, bad auth): 0
  // Could not measure: the miner said RATE_LIMITED or OVERLOADED (which strangers and other
  // validators can cause), or the failure was ours (origin dendrite INTERNAL: we could not
  // build or send), or we sent so late that the miner had under half the query timeout. Such a
  // result does not move the miner's average.
  kUnmeasured,
  // Unmeasured by our own failure; never counts towards maxConsecutiveUnmeasured.
  kOurFailure,
};
Measurement classify(const net::QueryResult& result, std::chrono::nanoseconds queryTimeout);

// Per-UID moving averages, tied to the hotkey that held the UID when it was scored: a UID whose
// hotkey changed (deregistered and replaced) starts again from zero.
class ScoreBoard {
 public:
  struct Entry {
    crypto::AccountId hotkey{};
    double score = 0;
    bool known = false;
  };

  // Keeps entries for uids 0..n-1; entries whose hotkey no longer matches `hotkeys` reset to 0.
  void sync(const std::vector<crypto::AccountId>& hotkeys);
  // Moves uid's average toward `score` by alpha (the first observation starts from 0).
  void observe(std::uint16_t uid, const crypto::AccountId& hotkey, double score, double alpha);

  const std::vector<Entry>& entries() const { return m_entries; }
  std::vector<double> scores() const;
  void restore(std::vector<Entry> entries) { m_entries = std::move(entries); }

 private:
  std::vector<Entry> m_entries;
};

// Scores -> the (uids, u16 values) to submit, following the subnet's rules: normalise, raise to
// `sharpen` (1 = as is), keep non-zero entries, and when fewer than `minAllowedWeights` remain,
// spread a small uniform weight over every uid so the row is valid; cap each weight at
// `maxWeightLimit`/65535 of the total (redistributing the excess); max-upscale so the largest is
// 65535. `self` (the validator's own uid) is never weighted unless it is the only uid.
// Errors: nothing to weight (all scores zero and n == 0).
struct WeightRow {
  std::vector<std::uint16_t> uids;
  std::vector<std::uint16_t> values;
};
Result<WeightRow> weightsFromScores(const std::vector<double>& scores, double sharpen,
                                    std::uint16_t minAllowedWeights, std::uint16_t maxWeightLimit,
                                    std::optional<std::uint16_t> self);

// Picks miners to query: a shuffled round-robin over the eligible uids, so every miner is
// covered once per pass before any is asked twice; the order is reshuffled every pass.
class MinerSampler {
 public:
  explicit MinerSampler(std::uint64_t seed) : m_rng(seed) {}
  // Up to `count` uids from `eligible` (the set may change between calls).
  std::vector<std::uint16_t> next(const std::vector<std::uint16_t>& eligible, std::size_t count);

 private:
  std::mt19937_64 m_rng;
  std::vector<std::uint16_t> m_order;
  std::size_t m_pos = 0;
};

}  // namespace merit::validator
