#include "merit/util/signals.h"

#include <ctime>
#include <pthread.h>

namespace merit {

SyncSignal::SyncSignal(int signo) : m_signo(signo) {
  sigemptyset(&m_set);
  sigaddset(&m_set, signo);
  pthread_sigmask(SIG_BLOCK, &m_set, nullptr);
}

bool SyncSignal::wait(std::chrono::milliseconds timeout) const {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  const timespec limit{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  return sigtimedwait(&m_set, nullptr, &limit) == m_signo;
}

}  // namespace merit
