#include "merit/util/clock.h"

namespace merit {

std::int64_t SystemClock::nowUnixMs() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::chrono::steady_clock::time_point SystemClock::monotonicNow() const {
  return std::chrono::steady_clock::now();
}

}  // namespace merit
