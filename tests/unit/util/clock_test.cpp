#include "merit/util/clock.h"

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

}  // namespace
}  // namespace merit
