#include "merit/util/backoff.h"

#include <thread>

#include <doctest/doctest.h>

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

}  // namespace
}  // namespace merit
