#include "localnet_signals.h"

#include <csignal>
#include <signal.h>
#include <thread>

namespace merit::cli::localnet {

namespace {

// The first asks for the summary and a clean stop, a second one skips the summary.
volatile std::sig_atomic_t g_stopRequests = 0;

extern "C" void onStopSignal(int) {
  g_stopRequests = g_stopRequests + 1;
}

}  // namespace

void installStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = onStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

int stopRequests() {
  return static_cast<int>(g_stopRequests);
}

void nap(std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (!stopRequested() && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

}  // namespace merit::cli::localnet
