// Progress: a training progress bar on stderr (samples/s, loss, ETA). On a terminal it redraws
// one line at most 10 times a second; otherwise (logs, CI) it prints a full line every few
// seconds, so a captured log still shows the run's pace.
//
// Thread-safety: one thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace merit::train {

class Progress {
 public:
  // `label` starts every line (e.g. "epoch 1/2"); `total` is the number of samples expected.
  Progress(std::string label, std::uint64_t total);

  // `done` samples so far (cumulative), with the latest (smoothed) loss.
  void update(std::uint64_t done, double loss);
  // Prints the final line (always) and ends it with a newline.
  void finish(double loss);

  // Samples per second since construction.
  double rate() const;
  std::chrono::duration<double> elapsed() const;

 private:
  void print(std::uint64_t done, double loss, bool final);

  std::string m_label;
  std::uint64_t m_total;
  std::uint64_t m_done = 0;
  bool m_tty;
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_lastPrint;
};

// "1:05" or "1:02:05".
std::string formatDuration(double seconds);

}  // namespace merit::train
