// The child processes of a `merit localnet` supervisor. Every child runs in one process group
// (led by the first child), gets PR_SET_PDEATHSIG(SIGTERM) so it cannot outlive the supervisor
// even if the supervisor is killed, and writes its stdout and stderr to its own log file.
// stopAll() sends SIGTERM to every child, waits up to a grace period, then SIGKILLs what is left
// (and the group) and reaps everything: no orphans, no zombies.
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
};

class ProcessGroup {
 public:
  ProcessGroup() = default;
  // Stops whatever is still running (stopAll with the default grace).
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

  // SIGTERM to every running child, wait up to `grace`, then SIGKILL the rest and reap them.
  void stopAll(std::chrono::milliseconds grace = std::chrono::milliseconds(10'000));
  // The same for one child.
  void stop(pid_t pid, std::chrono::milliseconds grace = std::chrono::milliseconds(10'000));

 private:
  struct Child {
    std::string name;
    pid_t pid;
    bool running;
  };
  Child* find(pid_t pid);
  void reapBlocking(std::chrono::milliseconds grace);

  std::vector<Child> m_children;
  pid_t m_group = 0;
};

// "exited with code N" / "killed by signal N" for a waitpid() status.
std::string describeStatus(int status);

// True when `pid` is a live (not zombie) process.
bool processAlive(pid_t pid);
// The process's command line (arguments joined by spaces), empty if it is gone.
std::string processCommandLine(pid_t pid);

}  // namespace merit::cli::localnet
