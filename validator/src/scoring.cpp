#include "merit/validator/scoring.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace merit::validator {

Measurement classify(const net::QueryResult& r, std::chrono::nanoseconds queryTimeout) {
  using wire::Status;
  if (r.status == Status::kOk && r.authenticated) return Measurement::kAnswered;
  if (r.origin == net::Origin::kDendrite) {
    if (r.status == Status::kInternal) return Measurement::kOurFailure;
    // Sent, and the round ended before the miner had half the time we promise: our lateness.
    if (r.status == Status::kTimeout && r.budget > std::chrono::nanoseconds::zero() &&
        r.budget * 2 < queryTimeout) {
      return Measurement::kOurFailure;
    }
    return Measurement::kFailed;
  }
  if (r.status == Status::kRateLimited || r.status == Status::kOverloaded) return Measurement::kUnmeasured;
  return Measurement::kFailed;
}

double latencyFactor(double latency, double timeout, const LatencyModel& model) {
  double w = std::clamp(model.weight, 0.0, 1.0);
  if (!(timeout > 0)) return 1.0 - w;
  return 1.0 - w * std::clamp(latency / timeout, 0.0, 1.0);
}

void ScoreBoard::sync(const std::vector<crypto::AccountId>& hotkeys) {
  m_entries.resize(hotkeys.size());
  for (std::size_t uid = 0; uid < hotkeys.size(); ++uid) {
    auto& e = m_entries[uid];
    if (!e.known || e.hotkey != hotkeys[uid]) e = Entry{hotkeys[uid], 0, true};
  }
}

void ScoreBoard::observe(std::uint16_t uid, const crypto::AccountId& hotkey, double score, double alpha) {
  if (uid >= m_entries.size()) m_entries.resize(uid + 1);
  auto& e = m_entries[uid];
  if (!e.known || e.hotkey != hotkey) e = Entry{hotkey, 0, true};
  double s = std::isfinite(score) ? std::clamp(score, 0.0, 1.0) : 0.0;
  e.score = (1 - alpha) * e.score + alpha * s;
}

std::vector<double> ScoreBoard::scores() const {
  std::vector<double> out;
  out.reserve(m_entries.size());
  for (const auto& e : m_entries) out.push_back(e.score);
  return out;
}

Result<WeightRow> weightsFromScores(const std::vector<double>& scores, double sharpen,
                                    std::uint16_t minAllowedWeights, std::uint16_t maxWeightLimit,
                                    std::optional<std::uint16_t> self) {
  const std::size_t n = scores.size();
  if (n == 0) return fail(ErrorCode::kInvalidArgument, "no uids to weight");
  std::vector<double> w(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    double s = std::isfinite(scores[i]) ? std::max(0.0, scores[i]) : 0.0;
    if (self && i == *self && n > 1) s = 0;
    w[i] = std::pow(s, sharpen > 0 ? sharpen : 1.0);
  }
  double total = std::accumulate(w.begin(), w.end(), 0.0);
  std::size_t nonZero =
      static_cast<std::size_t>(std::count_if(w.begin(), w.end(), [](double v) { return v > 0; }));
  std::size_t needed = std::min<std::size_t>(minAllowedWeights, n);
  if (total <= 0 || nonZero < needed) {
    // Too few miners earned anything: a small uniform floor keeps the row valid without
    // meaningfully changing who gets what.
    double floor = total > 0 ? total * 1e-4 / static_cast<double>(n) : 1.0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!(self && i == *self && n > 1)) w[i] += floor;
    }
    total = std::accumulate(w.begin(), w.end(), 0.0);
  }
  for (auto& v : w) v /= total;
  // Cap at maxWeightLimit/65535 of the total, redistributing the excess among the rest.
  double cap = static_cast<double>(maxWeightLimit) / 65535.0;
  if (cap < 1.0) {
    for (int iter = 0; iter < 64; ++iter) {
      double excess = 0, freeMass = 0;
      for (double v : w) {
        if (v > cap)
          excess += v - cap;
        else
          freeMass += v;
      }
      if (excess <= 1e-15 || freeMass <= 0) break;
      for (auto& v : w) v = v > cap ? cap : v + excess * v / freeMass;
    }
  }
  double maxV = *std::max_element(w.begin(), w.end());
  WeightRow row;
  for (std::size_t i = 0; i < n; ++i) {
    auto v = static_cast<std::uint16_t>(std::lround(w[i] / maxV * 65535.0));
    if (v == 0) continue;
    row.uids.push_back(static_cast<std::uint16_t>(i));
    row.values.push_back(v);
  }
  return row;
}

std::vector<std::uint16_t> MinerSampler::next(const std::vector<std::uint16_t>& eligible, std::size_t count) {
  std::set<std::uint16_t> allowed(eligible.begin(), eligible.end());
  std::vector<std::uint16_t> out;
  std::set<std::uint16_t> taken;
  count = std::min(count, allowed.size());
  int reshuffles = 0;
  while (out.size() < count && reshuffles < 2) {
    if (m_pos >= m_order.size()) {
      m_order.assign(allowed.begin(), allowed.end());
      std::shuffle(m_order.begin(), m_order.end(), m_rng);
      m_pos = 0;
      ++reshuffles;
    }
    std::uint16_t uid = m_order[m_pos++];
    if (allowed.count(uid) && taken.insert(uid).second) out.push_back(uid);
  }
  return out;
}

}  // namespace merit::validator
