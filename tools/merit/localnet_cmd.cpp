// `merit localnet up|down|status`: a whole network (dev chain, subnets, miners, validators) on
// this machine from one config file. The orchestration lives in localnet_supervisor.cpp; this
// file is the command line and --detach (re-executing `merit` as a daemon and waiting until the
// network is up).
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "merit/util/bytes.h"
#include "merit/util/file.h"

#include "commands.h"
#include "localnet_config.h"
#include "localnet_control.h"
#include "localnet_preflight.h"
#include "localnet_supervisor.h"

namespace merit::cli {

namespace {

namespace fs = std::filesystem;

struct LocalnetOptions {
  std::string config = "configs/localnet.yaml";
  std::string dataDir;
  std::uint64_t epochs = 0;
  bool detach = false;
  int supervisorFd = -1;
  bool json = false;
  std::uint64_t timeoutS = 60;
};

fs::path dataDirOf(const LocalnetOptions& o) {
  fs::path dir = o.dataDir.empty() ? localnet::defaultDataDir() : fs::path(o.dataDir);
  std::error_code ec;
  fs::path abs = fs::absolute(dir, ec);
  return ec ? dir : abs.lexically_normal();
}

// --detach: start `merit localnet up ... --supervisor-fd N` in its own session with its output in
// DIR/supervisor.log, and wait for it to report "up" (or an error) on the pipe.
int detach(const LocalnetOptions& o, const fs::path& configPath, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return report(Error(ErrorCode::kUnavailable, dir.string() + ": " + ec.message()));
  std::string marker =
      "This directory belongs to `merit localnet`; `merit localnet up` wipes and recreates it.\n";
  if (!fs::exists(dir / ".merit-localnet", ec)) {
    if (auto ok = writeFileAtomic(dir / ".merit-localnet", asBytes(marker), 0644, true); !ok)
      return report(ok.error());
  }
  fs::path logPath = dir / "supervisor.log";
  int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log < 0) return report(Error(ErrorCode::kUnavailable, logPath.string() + ": " + std::strerror(errno)));
  int devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int fds[2];
  if (devNull < 0 || ::pipe2(fds, O_CLOEXEC) != 0) {
    return report(Error(ErrorCode::kUnavailable, std::string("pipe: ") + std::strerror(errno)));
  }
  std::vector<std::string> args = {"merit",
                                   "localnet",
                                   "up",
                                   "--config",
                                   configPath.string(),
                                   "--data-dir",
                                   dir.string(),
                                   "--epochs",
                                   std::to_string(o.epochs),
                                   "--supervisor-fd",
                                   std::to_string(fds[1])};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  // While waiting, Ctrl-C ends only this command: the daemon runs in its own session.
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  pid_t pid = ::fork();
  if (pid < 0) return report(Error(ErrorCode::kUnavailable, std::string("fork: ") + std::strerror(errno)));
  if (pid == 0) {
    ::setsid();  // no controlling terminal: Ctrl-C in this shell no longer reaches it
    ::dup2(devNull, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    int flags = ::fcntl(fds[1], F_GETFD);
    ::fcntl(fds[1], F_SETFD, flags & ~FD_CLOEXEC);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  ::close(log);
  ::close(devNull);
  std::string message;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      message.append(buf, static_cast<std::size_t>(n));
      if (message.find('\n') != std::string::npos) break;  // one line is the whole answer
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  ::close(fds[0]);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (message.rfind("up ", 0) == 0) {
    std::printf("localnet up in the background (supervisor pid %d), chain at %s\n", static_cast<int>(pid),
                message.substr(3).c_str());
    std::printf("  merit localnet status --data-dir %s\n  merit localnet down --data-dir %s\n", dir.c_str(),
                dir.c_str());
    std::printf("  supervisor log: %s\n", logPath.c_str());
    return kExitOk;
  }
  std::string why = message.rfind("error: ", 0) == 0 ? message.substr(7)
                                                     : "the supervisor stopped before the network was up";
  return report(Error(ErrorCode::kUnavailable, why + " (see " + logPath.string() + ")"));
}

int runUp(const LocalnetOptions& o) {
  fs::path configPath = o.config;
  std::error_code ec;
  configPath = fs::absolute(configPath, ec).lexically_normal();
  auto config = localnet::loadConfig(configPath);
  if (!config) return report(config.error());
  auto bins = localnet::findBinaries();
  if (!bins) return report(bins.error());
  localnet::UpOptions up;
  up.configPath = configPath;
  up.dataDir = dataDirOf(o);
  up.epochs = o.epochs;
  up.notifyFd = o.supervisorFd;
  // The daemon's status pipe must not leak into the network's processes (the waiting `up --detach`
  // reads it to its end).
  if (up.notifyFd >= 0) ::fcntl(up.notifyFd, F_SETFD, FD_CLOEXEC);
  auto notifyError = [&](const Error& e) {
    if (up.notifyFd >= 0) {
      std::string line = "error: " + e.message() + "\n";
      ssize_t ignored = ::write(up.notifyFd, line.data(), line.size());
      (void)ignored;
    }
    return report(e);
  };
  localnet::installStopHandlers();  // Ctrl-C while a model trains stops the trainer too
  if (auto ok = localnet::checkDataDir(up.dataDir); !ok) return notifyError(ok.error());
  if (auto ok = localnet::preflight(*config, up.dataDir, *bins, up.notifyFd >= 0); !ok)
    return notifyError(ok.error());
  if (o.detach && o.supervisorFd < 0) return detach(o, configPath, up.dataDir);
  SystemClock clock;
  return localnet::runSupervisor(*config, up, *bins, clock);
}

}  // namespace

void addLocalnetCommands(CLI::App& app, int& exitCode) {
  auto o = std::make_shared<LocalnetOptions>();
  auto* localnet = app.add_subcommand(
      "localnet",
      "A whole network on this machine: dev chain, subnets, miners and validators from one config");
  localnet->require_subcommand(1);

  auto* up = localnet->add_subcommand(
      "up", "Start the network of a config (configs/localnet.yaml); live view, then a summary by miner tier");
  up->add_option("-c,--config", o->config, "Localnet config (YAML)")->capture_default_str();
  up->add_option("-d,--data-dir", o->dataDir,
                 "Where everything lives (wiped and recreated; default $MERIT_HOME/localnet)");
  up->add_option("-e,--epochs", o->epochs,
                 "Stop after this many epochs of every subnet once validators set weights (0 = until Ctrl-C)")
      ->capture_default_str();
  up->add_flag("--detach", o->detach, "Run in the background and return once the network is up");
  up->add_option("--supervisor-fd", o->supervisorFd, "(internal: the daemon's status pipe)")->group("");
  up->callback([&exitCode, o] { exitCode = runUp(*o); });

  auto* down =
      localnet->add_subcommand("down", "Stop a detached localnet and wait until every process is gone");
  down->add_option("-d,--data-dir", o->dataDir,
                   "The localnet's data directory (default $MERIT_HOME/localnet)");
  down->add_option("--timeout-s", o->timeoutS, "Wait this long for a clean stop, then kill")
      ->capture_default_str();
  down->callback(
      [&exitCode, o] { exitCode = localnet::stopLocalnet(dataDirOf(*o), o->timeoutS, SystemClock()); });

  auto* status = localnet->add_subcommand(
      "status", "Processes, block, subnets and per-miner incentive and emission of a localnet");
  status->add_option("-d,--data-dir", o->dataDir,
                     "The localnet's data directory (default $MERIT_HOME/localnet)");
  status->add_flag("--json", o->json, "Print JSON");
  status->callback([&exitCode, o] { exitCode = localnet::printStatus(dataDirOf(*o), o->json); });
}

}  // namespace merit::cli
