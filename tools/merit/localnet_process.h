// The child processes of a `merit localnet` supervisor. Every child runs in one process group
// (led by the first child), gets PR_SET_PDEATHSIG(SIGTERM) so it cannot outlive the supervisor
// even if the supervisor is killed, and writes its stdout and stderr to its own log file.
// stopAll() sends SIGTERM to every child, waits up to a grace period (on an injected clock), then
// SIGKILLs what is left (and the group) and reaps everything: no orphans, no zombies.
//
// Thread-safety: one thread only, and the same thread for the whole life of the children
// (PR_SET_PDEATHSIG fires when the thread that forked a child exits).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "merit/util/clock.h"
#include "merit/util/result.h"

namespace merit::cli::localnet {

struct ProcessSpec {
  std::string name;  // for messages, e.g. "chain" or "hash.gold"
  std::filesystem::path binary;
  std::vector<std::string> args;    // without argv[0]
  std::filesystem::path log;        // stdout and stderr, appended
  std::vector<std::string> setEnv;  // NAME=VALUE added to (or replacing in) the environment
  std::vector<std::string> unsetEnv;
};

struct ProcessExit {
  std::string name;
  pid_t pid = 0;
  std::string how;  // "exited with code 1", "killed by signal 9"
  // It did not end within the grace period after SIGTERM and was sent SIGKILL.
  bool escalated = false;
};

class ProcessGroup {
 public:
  // Deadlines (the stop grace period) are measured on `clock`, borrowed: it must outlive the
  // group. The default is the system clock.
  ProcessGroup();
  explicit ProcessGroup(const Clock& clock);
  // Stops whatever is still running (stopAll with the default grace, on the group's clock: a
  // manual clock must be advanced, or the children stopped, before the group is destroyed).
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  // Starts a child. Errors: the log cannot be opened, fork fails. A binary that cannot be
  // executed shows up as an exit with code 127 and the reason in its log.
  Result<pid_t> spawn(const ProcessSpec& spec);

  // Reaps children that have ended since the last call, without blocking.
  std::vector<ProcessExit> reap();
  bool running(pid_t pid) const;
  std::size_t runningCount() const;
  pid_t groupId() const { return m_group; }

  // Stopping, in two non-blocking steps so a test can drive it with a manual clock:
  // beginStop() sends SIGTERM to every running child (newest first: validators and miners before
  // the chain they talk to) and sets a deadline `grace` from now on the clock; pollStop() reaps
  // what has ended and, once the clock has passed the deadline, sends SIGKILL to every child
  // still running (and to the group, for what they started). It returns the exits it reaped;
  // the stop is complete when runningCount() is 0.
  void beginStop(std::chrono::milliseconds grace);
  std::vector<ProcessExit> pollStop();

  // beginStop, then pollStop every 50 ms (real time) until every child is reaped. Returns every
  // exit reaped on the way, the ones that needed SIGKILL marked `escalated`.
  std::vector<ProcessExit> stopAll(std::chrono::milliseconds grace = std::chrono::milliseconds(10'000));

 private:
  struct Child {
    std::string name;
    pid_t pid;
    bool running;
    bool killSent = false;  // SIGKILL sent after the grace period
  };

  SystemClock m_systemClock;
  const Clock& m_clock;
  std::vector<Child> m_children;
  pid_t m_group = 0;
  std::optional<std::chrono::steady_clock::time_point> m_killAt;  // set by beginStop()
};

// "exited with code N" / "killed by signal N" for a waitpid() status.
std::string describeStatus(int status);

// True when `pid` is a live (not zombie) process.
bool processAlive(pid_t pid);
// The process's command line (arguments joined by spaces), empty if it is gone.
std::string processCommandLine(pid_t pid);

// The last `n` lines of a (log) file, each on its own indented line, for error messages about a
// process that failed.
std::string logTail(const std::filesystem::path& file, std::size_t n);

}  // namespace merit::cli::localnet
