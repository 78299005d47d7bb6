#include "merit/util/backoff.h"

#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "merit/util/clock.h"

namespace merit {
namespace {

TEST_CASE("backoff doubles up to the cap and starts over after reset") {
  Backoff b({.initial = 100, .cap = 1000, .jitterPercent = 0});
  CHECK(b.next() == 100);
  CHECK(b.next() == 200);
  CHECK(b.next() == 400);
  CHECK(b.next() == 800);
  CHECK(b.next() == 1000);
  CHECK(b.next() == 1000);
  CHECK(b.failures() == 6);
  b.reset();
  CHECK(b.failures() == 0);
  CHECK(b.nextMs() == std::chrono::milliseconds(100));
}

TEST_CASE("backoff in blocks: 1, 2, 4 ... 64") {
  Backoff b({.initial = 1, .cap = 64, .jitterPercent = 0});
  std::uint64_t last = 0;
  for (int i = 0; i < 10; ++i) last = b.next();
  CHECK(last == 64);
}

TEST_CASE("a huge cap never overflows") {
  Backoff b({.initial = 1, .cap = UINT64_MAX, .jitterPercent = 0});
  std::uint64_t last = 0;
  for (int i = 0; i < 200; ++i) {
    auto d = b.next();
    CHECK(d >= last);
    last = d;
  }
  CHECK(last == UINT64_MAX);
}

TEST_CASE("jitter stays within [base - J%, base] and spreads peers apart") {
  Backoff a({.initial = 1000, .cap = 1000, .jitterPercent = 30}, 1);
  Backoff b({.initial = 1000, .cap = 1000, .jitterPercent = 30}, 2);
  int differ = 0;
  for (int i = 0; i < 50; ++i) {
    auto x = a.next();
    auto y = b.next();
    CHECK(x >= 700);
    CHECK(x <= 1000);
    CHECK(y >= 700);
    CHECK(y <= 1000);
    differ += x != y ? 1 : 0;
  }
  CHECK(differ > 25);
}

TEST_CASE("sleepFor wakes early when stopped") {
  std::atomic<bool> stop{false};
  CHECK(sleepFor(std::chrono::milliseconds(1), &stop));
  CHECK(sleepFor(std::chrono::milliseconds(1), nullptr));
  auto t0 = std::chrono::steady_clock::now();
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop = true;
  });
  CHECK_FALSE(sleepFor(std::chrono::seconds(30), &stop));
  stopper.join();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
}

// A sleep that never sleeps: it advances a manual clock and records each delay.
struct FakeSleep {
  ManualClock clock;
  std::vector<std::chrono::milliseconds> delays;
  int stopAfter = -1;  // return false (stopped) on this wait, counted from 0; -1 never

  SleepFn fn() {
    return [this](std::chrono::milliseconds d) {
      if (stopAfter >= 0 && static_cast<int>(delays.size()) == stopAfter) return false;
      delays.push_back(d);
      clock.advance(d);
      return true;
    };
  }
};

bool isUnavailable(const Error& e) {
  return e.code() == ErrorCode::kUnavailable;
}

TEST_CASE("retryWithBackoff waits on the backoff schedule until an attempt succeeds") {
  FakeSleep sleep;
  Backoff b({.initial = 100, .cap = 400, .jitterPercent = 0});
  int calls = 0;
  std::vector<std::string> logged;
  RetryHooks hooks{
      .retryable = isUnavailable,
      .sleep = sleep.fn(),
      .onRetry = [&](const Error& e, std::chrono::milliseconds) { logged.push_back(e.message()); }};
  auto r = retryWithBackoff<int>(b, hooks, [&]() -> Result<int> {
    if (++calls < 5) return fail(ErrorCode::kUnavailable, "down " + std::to_string(calls));
    return 42;
  });
  REQUIRE(r);
  CHECK(*r == 42);
  CHECK(calls == 5);
  using std::chrono::milliseconds;
  CHECK(sleep.delays == std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(400),
                                                  milliseconds(400)});
  CHECK(sleep.clock.monotonicNow().time_since_epoch() == milliseconds(1100));
  CHECK(logged == std::vector<std::string>{"down 1", "down 2", "down 3", "down 4"});
  CHECK(b.failures() == 4);
}

TEST_CASE("retryWithBackoff returns a refused error at once and stops after maxAttempts") {
  FakeSleep sleep;
  Backoff b({.initial = 10, .cap = 1000, .jitterPercent = 0});
  int calls = 0;
  auto refused = retryWithBackoff<int>(
      b, {.retryable = isUnavailable, .sleep = sleep.fn(), .onRetry = nullptr}, [&]() -> Result<int> {
        ++calls;
        return fail(ErrorCode::kInvalidArgument, "bad");
      });
  CHECK(calls == 1);
  CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
  CHECK(sleep.delays.empty());

  calls = 0;
  auto bounded = retryWithBackoff<int>(
      b, {.retryable = isUnavailable, .sleep = sleep.fn(), .onRetry = nullptr, .maxAttempts = 3},
      [&]() -> Result<int> {
        ++calls;
        return fail(ErrorCode::kUnavailable, "down");
      });
  CHECK(calls == 3);  // the first attempt and two retries
  CHECK(bounded.error().message() == "down");
  CHECK(sleep.delays.size() == 2);
}

TEST_CASE("retryWithBackoff reports a stop with the last error") {
  FakeSleep sleep;
  sleep.stopAfter = 2;
  Backoff b({.initial = 10, .cap = 1000, .jitterPercent = 0});
  int calls = 0;
  bool stopped = false;
  auto r = retryWithBackoff<int>(
      b, {.retryable = isUnavailable, .sleep = sleep.fn(), .onRetry = nullptr},
      [&]() -> Result<int> { return fail(ErrorCode::kUnavailable, "down " + std::to_string(++calls)); },
      &stopped);
  CHECK(stopped);
  CHECK(calls == 3);
  CHECK(r.error().message() == "down 3");
}

}  // namespace
}  // namespace merit
