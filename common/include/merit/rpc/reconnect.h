// Waiting for the chain: miners and validators start before the chain node (a localnet, a
// reboot, a node upgrade) or lose it for a while, and must retry rather than exit. This wraps any
// chain-facing step in the shared backoff schedule (merit/util/backoff.h) and prints the one log
// line an operator needs: "chain unreachable at URL (reason); retrying in Ns".
//
// Transient errors (the node is down, not answering, overloaded) are retried until `stop` is set
// or `giveUpAfter` passes; anything else (a bad URL, an unregistered key, a missing subnet) is
// returned at once, because waiting will not fix it.
//
// Thread-safety: retryChain runs on the caller's thread; `stop` may be set from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "merit/util/backoff.h"
#include "merit/util/log.h"
#include "merit/util/result.h"

namespace merit::rpc {

struct RetryOptions {
  // Milliseconds. The cap is short: an overloaded node that refuses a start-up call has room
  // again within seconds, and a long wait would leave it idle while peers sleep.
  BackoffPolicy backoff{.initial = 250, .cap = 5'000, .jitterPercent = 25};
  std::chrono::milliseconds giveUpAfter{0};  // 0 = never (until stopped)
};

// kUnavailable, kDeadlineExceeded, kOverloaded and kRateLimited: worth another try later.
bool isTransient(const Error& error);

// Calls `attempt` until it returns a value or a non-transient error. Returns kUnavailable
// ("stopped while waiting for the chain ...") when `stop` is set, or the last error when
// giveUpAfter passes.
template <typename T>
Result<T> retryChain(const std::string& url, log::Category category, const RetryOptions& options,
                     const std::atomic<bool>* stop, const std::function<Result<T>()>& attempt) {
  Backoff backoff(options.backoff);
  const auto started = std::chrono::steady_clock::now();
  RetryHooks hooks;
  hooks.retryable = [&](const Error& e) {
    return isTransient(e) && !(options.giveUpAfter.count() > 0 &&
                               std::chrono::steady_clock::now() - started >= options.giveUpAfter);
  };
  hooks.sleep = sleeper(stop);
  hooks.onRetry = [&](const Error& e, std::chrono::milliseconds delay) {
    log::log(category, log::Level::kWarn, "chain unreachable at {} ({}); retrying in {:.1f}s", url,
             e.message(), static_cast<double>(delay.count()) / 1000.0);
  };
  bool stopped = false;
  Result<T> r = retryWithBackoff<T>(backoff, hooks, attempt, &stopped);
  if (stopped) {
    return fail(ErrorCode::kUnavailable,
                "stopped while waiting for the chain at " + url + " (" + r.error().message() + ")");
  }
  if (r && backoff.failures() > 0) log::log(category, log::Level::kInfo, "chain at {} reachable again", url);
  return r;
}

}  // namespace merit::rpc
