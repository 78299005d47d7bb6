// How a `merit localnet` supervisor is asked to stop: SIGINT, SIGTERM and SIGHUP set a flag (a
// signal handler can only talk through a flag) that the supervisor's loops poll.
//
// Thread-safety: the flag is a sig_atomic_t written only by the handler; read it from the
// supervisor's one thread.
#pragma once

#include <chrono>

namespace merit::cli::localnet {

// SIGINT, SIGTERM and SIGHUP ask the supervisor (and a model being trained) to stop cleanly; a
// second one skips the final summary. SIGPIPE is ignored.
void installStopHandlers();

// How many stop signals arrived so far (0: none).
int stopRequests();
inline bool stopRequested() {
  return stopRequests() > 0;
}

// Sleeps up to `d` of real time, waking early when a stop is requested.
void nap(std::chrono::milliseconds d);

}  // namespace merit::cli::localnet
