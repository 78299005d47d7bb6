#include "progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace merit::train {

std::string formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto total = static_cast<std::uint64_t>(seconds + 0.5);
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%llu:%02llu:%02llu", static_cast<unsigned long long>(total / 3600),
                  static_cast<unsigned long long>(total / 60 % 60),
                  static_cast<unsigned long long>(total % 60));
  } else {
    std::snprintf(text, sizeof text, "%llu:%02llu", static_cast<unsigned long long>(total / 60),
                  static_cast<unsigned long long>(total % 60));
  }
  return text;
}

Progress::Progress(std::string label, std::uint64_t total)
    : m_label(std::move(label)),
      m_total(total),
      m_tty(::isatty(STDERR_FILENO) == 1),
      m_start(std::chrono::steady_clock::now()),
      m_lastPrint(m_start) {}

std::chrono::duration<double> Progress::elapsed() const {
  return std::chrono::steady_clock::now() - m_start;
}

double Progress::rate() const {
  double seconds = elapsed().count();
  return seconds > 0 ? static_cast<double>(m_done) / seconds : 0.0;
}

void Progress::update(std::uint64_t done, double loss) {
  m_done = done;
  auto now = std::chrono::steady_clock::now();
  auto interval = m_tty ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (now - m_lastPrint < interval) return;
  m_lastPrint = now;
  print(done, loss, false);
}

void Progress::finish(double loss) {
  print(m_done, loss, true);
}

void Progress::print(std::uint64_t done, double loss, bool final) {
  constexpr int kWidth = 24;
  double fraction =
      m_total > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(m_total)) : 1.0;
  int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(kWidth - filled), '.');
  double r = rate();
  double eta = r > 0 ? static_cast<double>(m_total > done ? m_total - done : 0) / r : NAN;
  std::fprintf(stderr, "%s%s [%s] %3.0f%% %llu/%llu  %.0f samples/s  loss %.4f  %s %s%s", m_tty ? "\r" : "",
               m_label.c_str(), bar.c_str(), fraction * 100, static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(m_total), r, loss, final ? "took" : "ETA",
               formatDuration(final ? elapsed().count() : eta).c_str(), m_tty && !final ? "\x1b[K" : "\n");
  std::fflush(stderr);
}

}  // namespace merit::train
