// Starting and killing real meritnet processes from functional tests.
//
// Thread-safety: single-threaded test use.
#pragma once

#include <chrono>
#include <cstdio>
#include <signal.h>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

namespace merit::test {

// A child process whose stdout's first line is read back (merit-chain prints a JSON "ready"
// line there) and whose stderr goes to `logPath`.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& logPath) {
    int out[2];
    if (::pipe(out) != 0) return;
    m_pid = ::fork();
    if (m_pid == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      FILE* log = std::fopen(logPath.c_str(), "a");
      if (log != nullptr) ::dup2(::fileno(log), STDERR_FILENO);
      ::close(out[0]);
      std::vector<char*> args;
      args.reserve(argv.size() + 1);
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      std::_Exit(127);
    }
    ::close(out[1]);
    m_stdout = ::fdopen(out[0], "r");
  }
  ~ChildProcess() {
    kill(SIGKILL);
    if (m_stdout) std::fclose(m_stdout);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The first line of stdout as JSON (null on EOF or garbage).
  nlohmann::json readyLine() {
    char buf[4096];
    if (m_stdout == nullptr || std::fgets(buf, sizeof buf, m_stdout) == nullptr) return nullptr;
    return nlohmann::json::parse(buf, nullptr, false);
  }

  // Sends `sig` and reaps the process.
  void kill(int sig) {
    if (m_pid <= 0) return;
    ::kill(m_pid, sig);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
    m_pid = -1;
  }
  pid_t pid() const { return m_pid; }

 private:
  pid_t m_pid = -1;
  FILE* m_stdout = nullptr;
};

}  // namespace merit::test
