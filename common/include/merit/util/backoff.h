// Bounded, jittered exponential backoff: the one retry schedule of meritnet (the JSON-RPC
// client's transport retries, miners and validators waiting for the chain, the validator's
// weight submissions, which count in blocks rather than milliseconds), and retryWithBackoff, the
// one retry loop over it for callers that wait in time:
//
//   Backoff b({.initial = 500, .cap = 30'000, .jitterPercent = 20});
//   auto r = retryWithBackoff<Reply>(b, {.retryable = isTransient, .sleep = sleeper(stop)}, fetch);
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
#include <functional>
#include <random>

#include "merit/util/result.h"

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

// How retryWithBackoff waits: true after waiting `d`, false when the caller was stopped first.
// Production passes sleeper(stop) (real time); tests pass a function that records the delays and
// advances a ManualClock, so they never sleep.
using SleepFn = std::function<bool(std::chrono::milliseconds)>;
SleepFn sleeper(const std::atomic<bool>* stop = nullptr);

struct RetryHooks {
  // Whether a failure is worth another attempt; a failure it refuses is returned at once.
  std::function<bool(const Error&)> retryable;
  SleepFn sleep = sleeper();
  // Called before each wait (logging); may be empty.
  std::function<void(const Error&, std::chrono::milliseconds delay)> onRetry;
  // Attempts in all, the first included (> 0); 0 = until success, a refusal or a stop.
  int maxAttempts = 0;
};

// Calls `attempt` until it succeeds, fails with an error hooks.retryable refuses, or has been
// tried hooks.maxAttempts times; waits backoff.nextMs() between attempts through hooks.sleep.
// Returns the value, or the last error. When the sleep reports a stop, returns the last error
// and sets *stopped (if given). The backoff is the caller's, so its failures() count is left for
// the caller to read; it is not reset on success.
template <typename T>
Result<T> retryWithBackoff(Backoff& backoff, const RetryHooks& hooks,
                           const std::function<Result<T>()>& attempt, bool* stopped = nullptr) {
  if (stopped != nullptr) *stopped = false;
  for (int tries = 1;; ++tries) {
    Result<T> r = attempt();
    if (r) return r;
    if (!hooks.retryable || !hooks.retryable(r.error())) return r;
    if (hooks.maxAttempts > 0 && tries >= hooks.maxAttempts) return r;
    const auto delay = backoff.nextMs();
    if (hooks.onRetry) hooks.onRetry(r.error(), delay);
    if (!hooks.sleep(delay)) {
      if (stopped != nullptr) *stopped = true;
      return r;
    }
  }
}

}  // namespace merit
