// A signal that one thread takes synchronously (sigtimedwait) instead of a handler, for the
// daemons' SIGHUP (plugin reload): a handler runs in whichever thread the kernel picks, and a
// poll() that fails with EINTR in the middle of a query would drop it.
//
// Thread-safety: construct before any thread is started (threads inherit the signal mask of the
// thread that creates them, so the signal stays blocked in all of them); wait() from one thread.
#pragma once

#include <chrono>
#include <csignal>

namespace merit {

class SyncSignal {
 public:
  // Blocks `signo` in the calling thread.
  explicit SyncSignal(int signo);

  // Waits up to `timeout` for the signal; true when it came.
  bool wait(std::chrono::milliseconds timeout) const;

 private:
  sigset_t m_set;
  int m_signo;
};

}  // namespace merit
