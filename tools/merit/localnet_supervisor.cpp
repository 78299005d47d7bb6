#include "localnet_supervisor.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "merit/crypto/ss58.h"
#include "merit/rpc/client.h"
#include "merit/subnet_host/plugin.h"
#include "merit/util/bytes.h"
#include "merit/util/file.h"

#include "chain_util.h"
#include "commands.h"
#include "localnet_chain_setup.h"
#include "localnet_process.h"
#include "localnet_view.h"

namespace merit::cli::localnet {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The first JSON "ready" line a process printed to its log, if any yet.
std::optional<json> readyLine(const fs::path& log) {
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("{\"event\":\"ready\"", 0) != 0) continue;
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded()) return j;
  }
  return std::nullopt;
}

// Waits until the process prints its ready line; fails if it exits first or takes too long.
Result<json> waitReady(ProcessGroup& group, const Member& m, std::chrono::seconds timeout,
                       const Clock& clock) {
  auto deadline = clock.monotonicNow() + timeout;
  while (clock.monotonicNow() < deadline) {
    if (auto j = readyLine(m.log)) return *j;
    if (!group.running(m.pid)) {
      for (const auto& e : group.reap()) {
        if (e.pid == m.pid) break;
      }
      if (!group.running(m.pid)) {
        return fail(ErrorCode::kUnavailable, m.name + " (" + m.binary.filename().string() +
                                                 ") stopped before it was ready; " + m.log.string() +
                                                 " ends with:" + logTail(m.log, 8));
      }
    }
    if (stopRequested()) return fail(ErrorCode::kUnavailable, "interrupted");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    group.reap();
  }
  return fail(ErrorCode::kDeadlineExceeded, m.name + " not ready after " + std::to_string(timeout.count()) +
                                                " s; see " + m.log.string() + ":" + logTail(m.log, 8));
}

class Supervisor {
 public:
  Supervisor(const Config& config, const UpOptions& options, const Binaries& bins, const Clock& clock)
      : m_config(config), m_options(options), m_bins(bins), m_clock(clock), m_group(clock) {}

  int run();

 private:
  Result<void> prepareDir();
  Result<void> startChain();
  Result<void> startDaemons();
  void startDashboard();
  Result<void> saveState();
  void notify(const std::string& message);
  int loop();
  void finish(bool interrupted);
  void reportStopped(const std::vector<ProcessExit>& exits) const;

  fs::path dir(const std::string& sub) const { return m_options.dataDir / sub; }

  const Config& m_config;
  const UpOptions& m_options;
  const Binaries& m_bins;
  const Clock& m_clock;
  ProcessGroup m_group;
  State m_state;
  std::unique_ptr<rpc::ChainClient> m_client;
  std::optional<crypto::AnyPrivateKey> m_coldkey;         // the dev coldkey, once the wallets exist
  std::map<std::string, fs::path> m_pluginDirs;           // plugin -> directory
  std::map<std::string, std::uint32_t> m_pluginVersions;  // plugin -> version
  std::optional<Snapshot> m_last;
  bool m_tty = false;
};

Result<void> Supervisor::prepareDir() {
  MERIT_TRY(checkDataDir(m_options.dataDir));
  std::error_code ec;
  fs::create_directories(m_options.dataDir, ec);
  if (ec) return fail(ErrorCode::kUnavailable, m_options.dataDir.string() + ": " + ec.message());
  // A fresh network every time: the previous run's chain, keys, logs and state go.
  for (const char* sub : {"chain", "home", "logs", "config", "validators", "summary.json", "localnet.json"}) {
    fs::remove_all(dir(sub), ec);
  }
  for (const char* sub : {"logs", "config", "validators", "home"}) {
    fs::create_directories(dir(sub), ec);
    if (ec) return fail(ErrorCode::kUnavailable, dir(sub).string() + ": " + ec.message());
  }
  std::string marker =
      "This directory belongs to `merit localnet`; `merit localnet up` wipes and recreates it.\n"
      "The wallets under home/ are DEV-ONLY: derived from public strings, password '" +
      std::string(kDevPassword) + "'. Never use them for anything of value.\n";
  MERIT_TRY(writeFileAtomic(dir(".merit-localnet"), asBytes(marker), 0644, true));
  std::string pid = std::to_string(static_cast<std::uint64_t>(::getpid())) + "\n";
  MERIT_TRY(writeFileAtomic(dir("localnet.pid"), asBytes(pid), 0644, true));
  m_state.dataDir = m_options.dataDir;
  m_state.supervisor = ::getpid();
  m_state.epochs = m_options.epochs;
  m_state.blockTimeMs = m_config.blockTimeMs;
  return {};
}

Result<void> Supervisor::startChain() {
  Member chain;
  chain.name = "chain";
  chain.role = "chain";
  chain.binary = m_bins.chain;
  chain.log = dir("logs") / "chain.log";
  ProcessSpec spec;
  spec.name = "chain";
  spec.binary = m_bins.chain;
  spec.args = {"--dev",
               "--data-dir",
               dir("chain").string(),
               "--rpc-port",
               "0",
               "--feed",
               "tcp://127.0.0.1:0",
               "--block-time-ms",
               std::to_string(m_config.blockTimeMs),
               "--fund",
               m_coldkey->publicKey().ss58Address() + "=" + std::to_string(m_config.fund),
               "--log-level",
               m_config.chainLogLevel};
  spec.log = chain.log;
  MERIT_ASSIGN_OR_RETURN(chain.pid, m_group.spawn(spec));
  m_state.members.insert(m_state.members.begin(), chain);
  MERIT_ASSIGN_OR_RETURN(json ready, waitReady(m_group, m_state.members.front(),
                                               std::chrono::seconds(m_config.startupTimeoutS), m_clock));
  m_state.chainUrl = ready.value("rpc", std::string());
  rpc::ClientOptions options;
  options.retries = 2;
  MERIT_ASSIGN_OR_RETURN(m_client, rpc::ChainClient::connect(m_state.chainUrl, options));
  return {};
}

Result<void> Supervisor::startDaemons() {
  std::vector<std::string> env = {"MERIT_HOME=" + dir("home").string()};
  std::vector<std::string> unset = {"MERIT_CHAIN_URL", "MERIT_PASSWORD", "MERIT_SUBNET_PATH"};
  for (const auto& s : m_state.subnets) {
    for (const auto* cs = &m_config.subnets.front(); cs <= &m_config.subnets.back(); ++cs) {
      if (cs->name != s.name) continue;
      auto base = [&](const std::string& hk) {
        return std::map<std::string, std::string>{{"wallet", kDevWallet},
                                                  {"hotkey", hk},
                                                  {"chain_url", m_state.chainUrl},
                                                  {"netuid", std::to_string(s.netuid)},
                                                  {"plugin", s.plugin},
                                                  {"metrics_port", "0"},
                                                  {"log_level", m_config.logLevel}};
      };
      std::vector<std::string> subnetPath = {m_pluginDirs.at(s.plugin).string()};
      for (const auto& mi : cs->miners) {
        std::string hk = hotkeyName(s.name, mi.name);
        auto values = base(hk);
        values["bind"] = "tcp://127.0.0.1:*";
        for (const auto& [k, v] : m_config.minerDefaults) values[k] = v;
        for (const auto& [k, v] : mi.settings) values[k] = v;
        std::string pc = mi.pluginConfig;
        if (mi.model) {
          MERIT_ASSIGN_OR_RETURN(pc,
                                 withModel(pc, modelPath(m_config, m_options.dataDir, *mi.model).string()));
        }
        fs::path file = dir("config") / (hk + ".yaml");
        std::string yaml = daemonYaml(values, subnetPath, pc);
        MERIT_TRY(writeFileAtomic(file, asBytes(yaml), 0644, true));
        for (auto& m : m_state.members) {
          if (m.hotkeyName != hk) continue;
          ProcessSpec spec{hk, m.binary, {"--config", file.string()}, m.log, env, unset};
          MERIT_ASSIGN_OR_RETURN(m.pid, m_group.spawn(spec));
        }
      }
    }
  }
  for (auto& m : m_state.members) {
    if (m.role != "miner") continue;
    MERIT_ASSIGN_OR_RETURN(json ready,
                           waitReady(m_group, m, std::chrono::seconds(m_config.startupTimeoutS), m_clock));
    m.axon = ready.value("axon", std::string());
    m.metricsPort = ready.value("metrics_port", -1);
  }
  for (const auto& s : m_state.subnets) {
    for (const auto& cs : m_config.subnets) {
      if (cs.name != s.name) continue;
      std::vector<std::string> subnetPath = {m_pluginDirs.at(s.plugin).string()};
      for (const auto& v : cs.validators) {
        std::string hk = hotkeyName(s.name, v.name);
        std::map<std::string, std::string> values = {
            {"wallet", kDevWallet},
            {"hotkey", hk},
            {"chain_url", m_state.chainUrl},
            {"netuid", std::to_string(s.netuid)},
            {"plugin", s.plugin},
            {"metrics_port", "0"},
            {"log_level", m_config.logLevel},
            {"state_file", (dir("validators") / (hk + ".json")).string()}};
        for (const auto& [k, val] : m_config.validatorDefaults) values[k] = val;
        for (const auto& [k, val] : v.settings) values[k] = val;
        fs::path file = dir("config") / (hk + ".yaml");
        MERIT_TRY(writeFileAtomic(file, asBytes(daemonYaml(values, subnetPath, v.pluginConfig)), 0644, true));
        for (auto& m : m_state.members) {
          if (m.hotkeyName != hk) continue;
          ProcessSpec spec{hk, m.binary, {"--config", file.string()}, m.log, env, unset};
          MERIT_ASSIGN_OR_RETURN(m.pid, m_group.spawn(spec));
        }
      }
    }
  }
  for (auto& m : m_state.members) {
    if (m.role != "validator") continue;
    MERIT_ASSIGN_OR_RETURN(json ready,
                           waitReady(m_group, m, std::chrono::seconds(m_config.startupTimeoutS), m_clock));
    m.metricsPort = ready.value("metrics_port", -1);
  }
  return {};
}

// `merit dashboard` against the chain, with this network's processes and scores. It is a
// window on the network, not part of it: when it cannot start (its port is taken), the network
// runs without it and says why.
void Supervisor::startDashboard() {
  if (!m_config.dashboard) return;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    std::printf("dashboard not started: cannot find the merit binary (%s)\n", ec.message().c_str());
    return;
  }
  Member d;
  d.name = "dashboard";
  d.role = "dashboard";
  d.binary = self;
  d.log = dir("logs") / "dashboard.log";
  ProcessSpec spec;
  spec.name = "dashboard";
  spec.binary = self;
  spec.args = {"dashboard",
               "--url",
               m_state.chainUrl,
               "--listen",
               "127.0.0.1:" + std::to_string(m_config.dashboardPort),
               "--localnet",
               m_options.dataDir.string(),
               "--history-file",
               dir("dashboard-history.json").string(),
               "--log-level",
               m_config.logLevel};
  spec.log = d.log;
  auto pid = m_group.spawn(spec);
  if (!pid) {
    std::printf("dashboard not started: %s\n", pid.error().message().c_str());
    return;
  }
  d.pid = *pid;
  m_state.members.push_back(d);
  auto ready = waitReady(m_group, m_state.members.back(), std::chrono::seconds(30), m_clock);
  if (!ready) {
    std::printf("dashboard not started (the network runs without it): %s\n", ready.error().message().c_str());
    m_group.reap();
    m_state.members.pop_back();
    return;
  }
  m_state.dashboardUrl = ready->value("url", std::string());
}

Result<void> Supervisor::saveState() {
  return writeJsonFile(dir("localnet.json"), toJson(m_state));
}

void Supervisor::notify(const std::string& message) {
  if (m_options.notifyFd < 0) return;
  std::string line = message + "\n";
  ssize_t ignored = ::write(m_options.notifyFd, line.data(), line.size());
  (void)ignored;
  ::close(m_options.notifyFd);
  const_cast<UpOptions&>(m_options).notifyFd = -1;
}

int Supervisor::loop() {
  auto warmDeadline = m_clock.monotonicNow() + std::chrono::seconds(m_config.startupTimeoutS);
  auto lastPlain = m_clock.monotonicNow() - std::chrono::hours(1);
  std::string lastPlainText;
  int chainFailures = 0;
  while (!stopRequested()) {
    for (const auto& e : m_group.reap()) {
      std::string log;
      for (const auto& m : m_state.members) {
        if (m.pid == e.pid) log = m.log.string();
      }
      std::printf("%s %s; see %s\n", e.name.c_str(), e.how.c_str(), log.c_str());
      std::fflush(stdout);
      if (e.name == "chain") {
        std::fprintf(stderr, "error: the chain stopped; shutting the network down\n");
        return kExitError;
      }
    }
    auto snap = snapshot(*m_client, m_state);
    if (!snap) {
      if (++chainFailures >= 10) {
        std::fprintf(stderr, "error: the chain does not answer: %s\n", snap.error().message().c_str());
        return kExitError;
      }
      nap(std::chrono::milliseconds(500));
      continue;
    }
    chainFailures = 0;
    if (m_state.phase == "warming") {
      // Measurement starts once every validator's weights are on chain: from then on, emission
      // follows the validators' scores (before, epochs pay without weights).
      bool all = true;
      for (std::size_t i = 0; i < m_state.subnets.size(); ++i) {
        for (const auto& m : m_state.members) {
          if (m.subnet != m_state.subnets[i].name || m.role != "validator") continue;
          const NeuronView* n = neuronOf(snap->subnets[i], m);
          all = all && n != nullptr && !n->weights.empty();
        }
      }
      if (all) {
        m_state.phase = "running";
        m_state.measureStartBlock = snap->block;
        for (std::size_t i = 0; i < m_state.subnets.size(); ++i) {
          m_state.subnets[i].lastEpochBlock = snap->subnets[i].lastEpochBlock;
          for (auto& m : m_state.members) {
            if (m.subnet != m_state.subnets[i].name) continue;
            if (const NeuronView* n = neuronOf(snap->subnets[i], m)) m.baseline = n->stake;
          }
        }
        std::printf("every validator has weights on chain at block %s: measuring%s\n",
                    std::to_string(snap->block).c_str(),
                    m_state.epochs ? (" " + std::to_string(m_state.epochs) + " epochs").c_str() : "");
        std::fflush(stdout);
      } else if (m_clock.monotonicNow() > warmDeadline) {
        std::fprintf(
            stderr,
            "error: validators have not set weights after %s s (startup_timeout_s); see their logs in %s\n",
            std::to_string(m_config.startupTimeoutS).c_str(), dir("logs").c_str());
        return kExitError;
      }
    } else if (m_state.phase == "running") {
      for (std::size_t i = 0; i < m_state.subnets.size(); ++i) {
        auto& sn = m_state.subnets[i];
        if (snap->subnets[i].lastEpochBlock == sn.lastEpochBlock) continue;
        sn.lastEpochBlock = snap->subnets[i].lastEpochBlock;
        if (m_state.epochs != 0 && sn.epochsSeen >= m_state.epochs) continue;
        sn.epochsSeen += 1;
        if (sn.epochsSeen == m_state.epochs) {
          for (auto& m : m_state.members) {
            if (m.subnet != sn.name) continue;
            if (const NeuronView* n = neuronOf(snap->subnets[i], m)) m.finalStake = n->stake;
          }
        }
      }
    }
    m_last = *snap;
    (void)saveState();
    auto alive = alivePids(m_state);
    if (m_tty) {
      std::string view = "\x1b[H\x1b[2J" + fullView(m_state, *snap, alive, false) +
                         "logs: " + dir("logs").string() + "   Ctrl-C: summary and clean stop\n";
      std::fputs(view.c_str(), stdout);
      std::fflush(stdout);
    } else if (m_clock.monotonicNow() - lastPlain >= std::chrono::seconds(5)) {
      std::string text = plainLine(m_state, *snap);
      std::printf("%s\n", text.c_str());
      std::fflush(stdout);
      lastPlain = m_clock.monotonicNow();
    }
    if (m_state.phase == "running" && m_state.epochs > 0) {
      bool done = true;
      for (const auto& s : m_state.subnets) done = done && s.epochsSeen >= m_state.epochs;
      if (done) return kExitOk;
    }
    nap(std::chrono::milliseconds(1000));
  }
  return kExitOk;
}

void Supervisor::finish(bool interrupted) {
  if (!m_client || stopRequests() > 1) return;
  auto snap = snapshot(*m_client, m_state);
  if (!snap) {
    if (!m_last) return;
    snap = *m_last;
  }
  auto alive = alivePids(m_state);
  std::printf("\n== final metagraph%s\n", interrupted ? " (interrupted)" : "");
  std::string text = fullView(m_state, *snap, alive, true);
  std::fputs(text.c_str(), stdout);
  auto summary = summaryJson(m_state, *snap, interrupted);
  (void)writeJsonFile(dir("summary.json"), summary);
  std::printf("summary: %s (blocks %s..%s); logs in %s\n", dir("summary.json").c_str(),
              std::to_string(m_state.measureStartBlock).c_str(), std::to_string(snap->block).c_str(),
              dir("logs").c_str());
  std::fflush(stdout);
}

// Names every child that ignored SIGTERM for the whole grace period and had to be killed.
void Supervisor::reportStopped(const std::vector<ProcessExit>& exits) const {
  for (const auto& e : exits) {
    if (!e.escalated) continue;
    std::printf("%s (pid %d) did not stop within %s ms of SIGTERM: sent SIGKILL, %s\n", e.name.c_str(),
                static_cast<int>(e.pid),
                std::to_string(static_cast<std::uint64_t>(kStopGrace.count())).c_str(), e.how.c_str());
  }
  std::fflush(stdout);
}

int Supervisor::run() {
  installStopHandlers();
  m_tty = ::isatty(1) == 1 && m_options.notifyFd < 0;
  auto fatal = [&](const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.message().c_str());
    notify("error: " + e.message());
    m_state.phase = "stopping";
    (void)saveState();
    reportStopped(m_group.stopAll(kStopGrace));
    m_state.phase = "stopped";
    (void)saveState();
    std::error_code ec;
    fs::remove(dir("localnet.pid"), ec);
    return report(e);
  };
  // Plugins: where they are and which version they speak (preflight checked they load).
  for (const auto& s : m_config.subnets) {
    auto plugin = subnet::SubnetPlugin::find(s.plugin, {});
    if (!plugin) return fatal(plugin.error());
    m_pluginDirs[s.plugin] = (*plugin)->path().parent_path();
    m_pluginVersions[s.plugin] = (*plugin)->version();
  }
  if (auto ok = prepareDir(); !ok) return fatal(ok.error());
  auto coldkey = makeWallets(m_config, m_bins, m_options.dataDir, m_state);
  if (!coldkey) return fatal(coldkey.error());
  m_coldkey.emplace(std::move(*coldkey));
  std::printf("dev wallet '%s' in %s (DEV ONLY: keys derived from public strings)\n", kDevWallet,
              dir("home").c_str());
  if (auto ok = startChain(); !ok) return fatal(ok.error());
  (void)saveState();
  std::printf("chain up at %s (%s ms blocks); creating subnets, registering, staking\n",
              m_state.chainUrl.c_str(), std::to_string(m_config.blockTimeMs).c_str());
  std::fflush(stdout);
  if (auto ok = setupChain(*m_client, *m_coldkey, m_config, m_pluginVersions, m_options.dataDir, m_state);
      !ok)
    return fatal(ok.error());
  (void)saveState();
  std::printf("starting %zu miners and validators\n", m_state.members.size() - 1);
  std::fflush(stdout);
  if (auto ok = startDaemons(); !ok) return fatal(ok.error());
  startDashboard();
  m_state.phase = "warming";
  if (auto ok = saveState(); !ok) return fatal(ok.error());
  std::printf("network up: %zu processes; state in %s\n", m_state.members.size(),
              dir("localnet.json").c_str());
  if (!m_state.dashboardUrl.empty()) std::printf("dashboard: %s\n", m_state.dashboardUrl.c_str());
  std::fflush(stdout);
  notify("up " + m_state.chainUrl);
  int rc = loop();
  bool interrupted = stopRequested();
  m_state.phase = interrupted ? "interrupted" : rc == kExitOk ? "finished" : "failed";
  finish(interrupted);
  m_state.phase = "stopping";
  (void)saveState();
  std::printf("stopping %zu processes\n", m_group.runningCount());
  std::fflush(stdout);
  reportStopped(m_group.stopAll(kStopGrace));
  m_state.phase = "stopped";
  (void)saveState();
  std::error_code ec;
  fs::remove(dir("localnet.pid"), ec);
  std::printf("localnet stopped\n");
  return rc;
}

}  // namespace

int runSupervisor(const Config& config, const UpOptions& options, const Binaries& bins, const Clock& clock) {
  Supervisor s(config, options, bins, clock);
  return s.run();
}

}  // namespace merit::cli::localnet
