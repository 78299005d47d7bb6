// An injectable clock, so tests can control time (LevelDB's Env idea, for time only).
//
// Thread-safety: SystemClock is stateless. ManualClock is safe to read and advance from any
// thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace merit {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch (for timestamps that cross machines).
  virtual std::int64_t nowUnixMs() const = 0;
  // Monotonic time, for measuring durations and deadlines; never goes backwards.
  virtual std::chrono::steady_clock::time_point monotonicNow() const = 0;
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

}  // namespace merit
