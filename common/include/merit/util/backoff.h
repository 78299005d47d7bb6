// Bounded, jittered exponential backoff: the one retry schedule of meritnet (the JSON-RPC
// client's transport retries, miners and validators waiting for the chain, the validator's
// weight submissions, which count in blocks rather than milliseconds).
//
//   Backoff b({.initial = 500, .cap = 30'000, .jitterPercent = 20});
//   while (!tryIt()) sleepFor(b.nextMs(), stop);
//
// Delays are in the caller's unit (milliseconds or blocks). Each delay doubles the previous base
// up to `cap`; with jitter J% the delay handed out is drawn uniformly from [base·(1−J/100), base]
// so that many peers restarted together (a localnet, a subnet after a chain restart) do not retry
// in lock step. The cap bounds every wait; the number of attempts is the caller's decision.
//
// Thread-safety: a Backoff is a value used by one thread; sleepFor is reentrant.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>

namespace merit {

struct BackoffPolicy {
  std::uint64_t initial = 500;  // first delay (> 0)
  std::uint64_t cap = 30'000;   // no delay is longer (>= initial)
  unsigned jitterPercent = 20;  // 0..100; 0 = deterministic
};

class Backoff {
 public:
  // `seed` 0 seeds from the OS (production); tests pass a fixed seed.
  explicit Backoff(BackoffPolicy policy, std::uint64_t seed = 0);

  // The delay to wait before the next attempt; advances the schedule.
  std::uint64_t next();
  std::chrono::milliseconds nextMs() { return std::chrono::milliseconds(next()); }
  // After a success: the next failure starts from `initial` again.
  void reset();
  // Delays handed out since the last reset.
  std::uint32_t failures() const { return m_failures; }
  const BackoffPolicy& policy() const { return m_policy; }

 private:
  BackoffPolicy m_policy;
  std::uint64_t m_base;
  std::uint32_t m_failures = 0;
  std::mt19937_64 m_rng;
};

// Sleeps for `d`, waking early (returning false) once `stop` is set; checks every 50 ms.
bool sleepFor(std::chrono::milliseconds d, const std::atomic<bool>* stop);

}  // namespace merit
