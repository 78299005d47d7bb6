#include "merit/util/clock.h"

#include <thread>

#include <doctest/doctest.h>

namespace merit {
namespace {

TEST_CASE("manual clock moves only when told") {
  ManualClock clock(1000);
  auto t0 = clock.monotonicNow();
  CHECK(clock.nowUnixMs() == 1000);
  clock.advance(std::chrono::milliseconds(250));
  CHECK(clock.nowUnixMs() == 1250);
  CHECK(clock.monotonicNow() - t0 == std::chrono::milliseconds(250));
  clock.setUnixMs(5);  // wall clock stepped back; monotonic time does not move
  CHECK(clock.nowUnixMs() == 5);
  CHECK(clock.monotonicNow() - t0 == std::chrono::milliseconds(250));
}

TEST_CASE("system clock is plausible") {
  SystemClock clock;
  CHECK(clock.nowUnixMs() > 1'600'000'000'000);  // after 2020
  auto a = clock.monotonicNow();
  CHECK(clock.monotonicNow() >= a);
}

TEST_CASE("waitUntil on a manual clock returns when the test advances time, not before") {
  ManualClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  const auto until = clock.monotonicNow() + std::chrono::seconds(10);
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    std::unique_lock lock(mutex);
    CHECK_FALSE(waitUntil(clock, cv, lock, until, [] { return false; }));
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // many wait slices, no time passed
  CHECK_FALSE(returned.load());
  clock.advance(std::chrono::seconds(10));
  waiter.join();
  CHECK(returned.load());
}

TEST_CASE("waitUntil returns true as soon as the condition holds") {
  SystemClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  bool ready = false;
  std::thread setter([&] {
    {
      std::lock_guard lock(mutex);
      ready = true;
    }
    cv.notify_all();
  });
  std::unique_lock lock(mutex);
  CHECK(waitUntil(clock, cv, lock, clock.monotonicNow() + std::chrono::minutes(5), [&] { return ready; }));
  lock.unlock();
  setter.join();
}

}  // namespace
}  // namespace merit
