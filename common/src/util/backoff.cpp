#include "merit/util/backoff.h"

#include <algorithm>
#include <thread>

#include "merit/util/assert.h"

namespace merit {

Backoff::Backoff(BackoffPolicy policy, std::uint64_t seed)
    : m_policy(policy), m_base(policy.initial), m_rng(seed != 0 ? seed : std::random_device{}()) {
  MERIT_ASSERT(policy.initial > 0 && policy.cap >= policy.initial && policy.jitterPercent <= 100,
               policy.initial, policy.cap, policy.jitterPercent);
}

std::uint64_t Backoff::next() {
  const std::uint64_t base = m_base;
  m_base = base > m_policy.cap / 2 ? m_policy.cap : std::max<std::uint64_t>(base * 2, 1);
  ++m_failures;
  if (m_policy.jitterPercent == 0) return base;
  const std::uint64_t spread = base * m_policy.jitterPercent / 100;
  if (spread == 0) return base;
  std::uniform_int_distribution<std::uint64_t> pick(0, spread);
  return std::max<std::uint64_t>(base - pick(m_rng), 1);
}

void Backoff::reset() {
  m_base = m_policy.initial;
  m_failures = 0;
}

bool sleepFor(std::chrono::milliseconds d, const std::atomic<bool>* stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (true) {
    if (stop != nullptr && stop->load()) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(50)));
  }
}

SleepFn sleeper(const std::atomic<bool>* stop) {
  return [stop](std::chrono::milliseconds d) { return sleepFor(d, stop); };
}

}  // namespace merit
