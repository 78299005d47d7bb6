#include "localnet_process.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace merit::cli::localnet {

namespace {

// Closes a descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string describeStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended (status " + std::to_string(status) + ")";
}

bool processAlive(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

std::string processCommandLine(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : raw) {
    if (c == '\0') c = ' ';
  }
  while (!raw.empty() && raw.back() == ' ') raw.pop_back();
  return raw;
}

std::string logTail(const std::filesystem::path& file, std::size_t n) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > n) lines.erase(lines.begin());
  }
  std::string out;
  for (const auto& l : lines) out += "\n    " + l;
  return out;
}

ProcessGroup::ProcessGroup() : m_clock(m_systemClock) {}

ProcessGroup::ProcessGroup(const Clock& clock) : m_clock(clock) {}

ProcessGroup::~ProcessGroup() {
  stopAll();
}

Result<pid_t> ProcessGroup::spawn(const ProcessSpec& spec) {
  // Everything the child needs is prepared before fork(): after it, only async-signal-safe calls.
  Fd log{::open(spec.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)};
  if (log.fd < 0) {
    return fail(ErrorCode::kUnavailable, spec.log.string() + ": cannot open log: " + std::strerror(errno));
  }
  Fd devNull{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
  if (devNull.fd < 0) return fail(ErrorCode::kUnavailable, std::string("/dev/null: ") + std::strerror(errno));

  std::vector<std::string> argvStore;
  argvStore.push_back(spec.binary.string());
  argvStore.insert(argvStore.end(), spec.args.begin(), spec.args.end());
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& name : spec.unsetEnv) env.erase(name);
  for (const auto& kv : spec.setEnv) {
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::vector<std::string> envStore;
  envStore.reserve(env.size());
  for (const auto& [k, v] : env) {
    std::string& entry = envStore.emplace_back(k);
    entry += '=';
    entry += v;
  }
  std::vector<char*> argv;
  argv.reserve(argvStore.size() + 1);
  for (auto& a : argvStore) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(envStore.size() + 1);
  for (auto& e : envStore) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string execFailed = "merit localnet: cannot execute " + spec.binary.string() + "\n";

  pid_t parent = ::getpid();
  pid_t group = m_group;
  // Every signal stays blocked from fork() until the child has put back the default dispositions:
  // a SIGTERM that arrived in between would otherwise run the supervisor's own handler in the
  // child (seen under TSan, where that child then exited 66 instead of being killed by SIGTERM).
  sigset_t all, callerMask;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &callerMask);
  pid_t pid = ::fork();
  if (pid < 0) {
    const int forkErrno = errno;
    ::pthread_sigmask(SIG_SETMASK, &callerMask, nullptr);
    return fail(ErrorCode::kUnavailable, "fork: " + std::string(std::strerror(forkErrno)));
  }
  if (pid == 0) {
    // Child. Join the group (or lead a new one); if the group is gone, lead our own.
    if (::setpgid(0, group) != 0) ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(126);  // the supervisor died before prctl took effect
    for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2, SIGQUIT, SIGALRM}) {
      ::signal(sig, SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(devNull.fd, 0);
    ::dup2(log.fd, 1);
    ::dup2(log.fd, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ssize_t ignored = ::write(2, execFailed.data(), execFailed.size());
    (void)ignored;
    ::_exit(127);
  }
  ::pthread_sigmask(SIG_SETMASK, &callerMask, nullptr);
  // Parent: set the group here too so it is in place whichever of us runs first.
  if (::setpgid(pid, group == 0 ? pid : group) != 0 && group != 0) {
    // The group ended (all members reaped): this child leads a new one.
    ::setpgid(pid, pid);
  }
  if (m_group == 0) m_group = pid;
  m_children.push_back(Child{spec.name, pid, true});
  return pid;
}

std::vector<ProcessExit> ProcessGroup::reap() {
  std::vector<ProcessExit> out;
  for (auto& c : m_children) {
    if (!c.running) continue;
    int status = 0;
    pid_t r = ::waitpid(c.pid, &status, WNOHANG);
    if (r == c.pid || (r < 0 && errno == ECHILD)) {
      c.running = false;
      out.push_back(ProcessExit{c.name, c.pid, r == c.pid ? describeStatus(status) : "ended"});
    }
  }
  return out;
}

bool ProcessGroup::running(pid_t pid) const {
  for (const auto& c : m_children) {
    if (c.pid == pid) return c.running;
  }
  return false;
}

std::size_t ProcessGroup::runningCount() const {
  std::size_t n = 0;
  for (const auto& c : m_children) n += c.running ? 1 : 0;
  return n;
}

void ProcessGroup::beginStop(std::chrono::milliseconds grace) {
  for (auto it = m_children.rbegin(); it != m_children.rend(); ++it) {
    if (it->running) ::kill(it->pid, SIGTERM);
  }
  m_killAt = m_clock.monotonicNow() + grace;
}

std::vector<ProcessExit> ProcessGroup::pollStop() {
  if (m_killAt && runningCount() > 0 && m_clock.monotonicNow() >= *m_killAt) {
    bool first = true;
    for (auto& c : m_children) {
      if (!c.running || c.killSent) continue;
      // Some child is still a member, so the group id cannot have been reused yet.
      if (first && m_group != 0) ::kill(-m_group, SIGKILL);
      first = false;
      ::kill(c.pid, SIGKILL);
      c.killSent = true;
    }
  }
  auto exits = reap();
  for (auto& e : exits) {
    for (const auto& c : m_children) {
      if (c.pid == e.pid) e.escalated = c.killSent;
    }
  }
  if (runningCount() == 0) m_killAt.reset();
  return exits;
}

std::vector<ProcessExit> ProcessGroup::stopAll(std::chrono::milliseconds grace) {
  std::vector<ProcessExit> out = reap();
  beginStop(grace);
  while (true) {
    auto exits = pollStop();
    out.insert(out.end(), exits.begin(), exits.end());
    if (runningCount() == 0) return out;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace merit::cli::localnet
