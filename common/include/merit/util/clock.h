// An injectable clock, so tests can control time (LevelDB's Env idea, for time only).
//
// Components read time through a Clock (wall time for timestamps, monotonic time for deadlines,
// timeouts and idle limits) and block through waitUntil() below, so a test with a ManualClock
// decides when a deadline passes instead of sleeping past it. Waits that bound real I/O (a
// socket poll's deadline given by a caller) stay on std::chrono::steady_clock: a manual clock
// cannot make a peer answer sooner.
//
// Thread-safety: SystemClock is stateless. ManualClock is safe to read and advance from any
// thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace merit {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch (for timestamps that cross machines).
  virtual std::int64_t nowUnixMs() const = 0;
  // Monotonic time, for measuring durations and deadlines; never goes backwards.
  virtual std::chrono::steady_clock::time_point monotonicNow() const = 0;
  // The longest a thread waiting for a time on this clock blocks before it reads the clock
  // again. The system clock is waited on exactly; a manual clock moves by advance(), which
  // wakes no one, so its waiters look again every few milliseconds.
  virtual std::chrono::milliseconds waitSlice() const { return std::chrono::hours(24); }
};

// The real clocks of the operating system.
class SystemClock final : public Clock {
 public:
  std::int64_t nowUnixMs() const override;
  std::chrono::steady_clock::time_point monotonicNow() const override;
};

// A clock that moves only when told to. Wall and monotonic time advance together.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t startUnixMs = 1'700'000'000'000) : m_unixMs(startUnixMs) {}

  std::int64_t nowUnixMs() const override { return m_unixMs.load(); }
  std::chrono::steady_clock::time_point monotonicNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(m_monoMs.load()));
  }

  std::chrono::milliseconds waitSlice() const override { return std::chrono::milliseconds(2); }

  void advance(std::chrono::milliseconds d) {
    m_unixMs += d.count();
    m_monoMs += d.count();
  }
  // Sets wall-clock time only (simulates a skewed or corrected clock); monotonic time stays.
  void setUnixMs(std::int64_t ms) { m_unixMs = ms; }

 private:
  std::atomic<std::int64_t> m_unixMs;
  std::atomic<std::int64_t> m_monoMs{0};
};

// Waits on `cv` (with `lock` held, as for condition_variable::wait) until `done()` holds or
// `clock` reaches `until`; returns done(). With the system clock this is one wait_until; with a
// manual clock the thread wakes every waitSlice() to see whether the test advanced time.
template <class Predicate>
bool waitUntil(const Clock& clock, std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
               std::chrono::steady_clock::time_point until, Predicate done) {
  for (;;) {
    if (done()) return true;
    const auto now = clock.monotonicNow();
    if (now >= until) return false;
    const std::chrono::steady_clock::duration slice = clock.waitSlice();
    if (cv.wait_for(lock, std::min(until - now, slice), done)) return true;
  }
}

}  // namespace merit
