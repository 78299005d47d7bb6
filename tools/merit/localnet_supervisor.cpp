#include "localnet_supervisor.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <signal.h>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <vector>

#include "merit/consensus/math.h"
#include "merit/crypto/hash.h"
#include "merit/crypto/ss58.h"
#include "merit/crypto/wallet.h"
#include "merit/rpc/client.h"
#include "merit/subnet_host/plugin.h"
#include "merit/util/bytes.h"
#include "merit/util/file.h"
#include "merit/validator/config.h"

#include "chain_util.h"
#include "commands.h"
#include "localnet_process.h"

namespace merit::cli::localnet {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// Set by SIGINT/SIGTERM: the first asks for the summary and a clean stop, a second one skips
// the summary. (A signal handler can only talk through a flag like this.)
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

namespace {

bool stopRequested() {
  return g_stopRequests > 0;
}

// Sleeps up to `d`, waking early when a stop is requested.
void nap(std::chrono::milliseconds d) {
  auto end = Clock::now() + d;
  while (!stopRequested() && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

std::string u64s(std::uint64_t v) {
  return std::to_string(v);
}

// The last `n` lines of a file, for error messages about a process that failed.
std::string tail(const fs::path& file, std::size_t n) {
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

fs::path exeDir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : self.parent_path();
}

std::optional<fs::path> findBinary(const std::string& name, const std::string& buildSubdir) {
  fs::path dir = exeDir();
  std::vector<fs::path> candidates;
  if (!dir.empty()) {
    candidates.push_back(dir / name);                                            // installed: one bin dir
    candidates.push_back(dir.parent_path().parent_path() / buildSubdir / name);  // <build>/tools/merit
  }
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string item;
    while (std::getline(ss, item, ':')) {
      if (!item.empty()) candidates.push_back(fs::path(item) / name);
    }
  }
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return fs::absolute(c).lexically_normal();
  }
  return std::nullopt;
}

// A key derived from a public string: deterministic, and therefore for development only.
crypto::PrivateKey devKey(const std::string& what) {
  for (int i = 0;; ++i) {
    std::string seed = "meritnet/localnet/dev-only/" + what + (i == 0 ? "" : "/" + std::to_string(i));
    if (auto k = crypto::PrivateKey::fromBytes(crypto::blake2b256(asBytes(seed)))) return std::move(*k);
  }
}

fs::path modelCacheDir(const Config& config, const fs::path& dataDir) {
  if (!config.modelCache.empty()) {
    fs::path p = config.modelCache;
    return p.is_absolute() ? p : dataDir / p;
  }
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && x[0] == '/') {
    return fs::path(x) / "meritnet" / "models";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] != '\0') {
    return fs::path(h) / ".cache" / "meritnet" / "models";
  }
  return dataDir / "models";
}

fs::path modelPath(const Config& config, const fs::path& dataDir, const ModelSpec& m) {
  return modelCacheDir(config, dataDir) / (m.trainer + "-" + m.cacheKey() + ".pt");
}

// One process of the network, and what the state file says about it.
struct Member {
  std::string subnet;  // empty for the chain
  std::string name;    // "chain", or the entry's name
  std::string role;    // chain | miner | validator
  std::string tier;
  std::string hotkeyName;
  std::string hotkey;  // SS58
  pid_t pid = 0;
  fs::path binary;
  fs::path log;
  std::uint64_t baseline = 0;  // stake (rao) when measurement started
  // Stake when its subnet completed the requested epochs: later epochs (while other subnets
  // catch up) do not count, so every subnet is measured over the same number of epochs.
  std::optional<std::uint64_t> finalStake;
  int metricsPort = -1;
  std::string axon;
};

struct SubnetState {
  std::string name, plugin;
  std::uint16_t netuid = 0;
  std::uint64_t epochsSeen = 0;  // epochs since measurement started
  std::uint64_t lastEpochBlock = 0;
};

struct State {
  fs::path dataDir;
  std::string chainUrl;
  std::string phase = "starting";  // starting | warming | running | stopping | stopped
  pid_t supervisor = 0;
  std::uint64_t epochs = 0;
  std::uint64_t measureStartBlock = 0;
  std::uint64_t blockTimeMs = 0;
  std::vector<Member> members;
  std::vector<SubnetState> subnets;
};

json toJson(const State& s) {
  json j = {{"version", 1},
            {"data_dir", s.dataDir.string()},
            {"chain_url", s.chainUrl},
            {"phase", s.phase},
            {"supervisor_pid", s.supervisor},
            {"epochs", s.epochs},
            {"measure_start_block", s.measureStartBlock},
            {"block_time_ms", s.blockTimeMs},
            {"dev_wallet", kDevWallet},
            {"dev_password", kDevPassword},
            {"processes", json::array()},
            {"subnets", json::array()}};
  for (const auto& m : s.members) {
    j["processes"].push_back({{"subnet", m.subnet},
                              {"name", m.name},
                              {"role", m.role},
                              {"tier", m.tier},
                              {"hotkey_name", m.hotkeyName},
                              {"hotkey", m.hotkey},
                              {"pid", m.pid},
                              {"binary", m.binary.string()},
                              {"log", m.log.string()},
                              {"baseline", m.baseline},
                              {"final_stake", m.finalStake ? json(*m.finalStake) : json(nullptr)},
                              {"metrics_port", m.metricsPort},
                              {"axon", m.axon}});
  }
  for (const auto& n : s.subnets) {
    j["subnets"].push_back({{"name", n.name},
                            {"plugin", n.plugin},
                            {"netuid", n.netuid},
                            {"epochs_seen", n.epochsSeen},
                            {"last_epoch_block", n.lastEpochBlock}});
  }
  return j;
}

Result<State> stateFromJson(const json& j) {
  try {
    State s;
    s.dataDir = j.at("data_dir").get<std::string>();
    s.chainUrl = j.at("chain_url").get<std::string>();
    s.phase = j.at("phase").get<std::string>();
    s.supervisor = j.at("supervisor_pid").get<pid_t>();
    s.epochs = j.at("epochs").get<std::uint64_t>();
    s.measureStartBlock = j.at("measure_start_block").get<std::uint64_t>();
    s.blockTimeMs = j.at("block_time_ms").get<std::uint64_t>();
    for (const auto& p : j.at("processes")) {
      Member m;
      m.subnet = p.at("subnet").get<std::string>();
      m.name = p.at("name").get<std::string>();
      m.role = p.at("role").get<std::string>();
      m.tier = p.at("tier").get<std::string>();
      m.hotkeyName = p.at("hotkey_name").get<std::string>();
      m.hotkey = p.at("hotkey").get<std::string>();
      m.pid = p.at("pid").get<pid_t>();
      m.binary = p.at("binary").get<std::string>();
      m.log = p.at("log").get<std::string>();
      m.baseline = p.at("baseline").get<std::uint64_t>();
      if (p.contains("final_stake") && p["final_stake"].is_number()) {
        m.finalStake = p["final_stake"].get<std::uint64_t>();
      }
      m.metricsPort = p.at("metrics_port").get<int>();
      m.axon = p.at("axon").get<std::string>();
      s.members.push_back(std::move(m));
    }
    for (const auto& n : j.at("subnets")) {
      SubnetState sn;
      sn.name = n.at("name").get<std::string>();
      sn.plugin = n.at("plugin").get<std::string>();
      sn.netuid = n.at("netuid").get<std::uint16_t>();
      sn.epochsSeen = n.at("epochs_seen").get<std::uint64_t>();
      sn.lastEpochBlock = n.at("last_epoch_block").get<std::uint64_t>();
      s.subnets.push_back(std::move(sn));
    }
    return s;
  } catch (const json::exception& e) {
    return fail(ErrorCode::kCorruption, std::string("localnet.json: ") + e.what());
  }
}

Result<void> writeJsonFile(const fs::path& path, const json& j) {
  std::string text = j.dump(2) + "\n";
  return writeFileAtomic(path, asBytes(text), 0644, true);
}

Result<State> loadState(const fs::path& dir) {
  auto text = readFile(dir / "localnet.json", 16 << 20);
  if (!text) return fail(text.error());
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return fail(ErrorCode::kCorruption, (dir / "localnet.json").string() + ": not JSON");
  return stateFromJson(j);
}

// What the chain says, read once per refresh.
struct NeuronView {
  std::uint64_t uid = 0, stake = 0, incentive = 0, dividends = 0, consensus = 0, vtrust = 0, emission = 0;
  bool permit = false;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> weights;
};
struct SubnetView {
  std::uint16_t netuid = 0;
  std::uint64_t tempo = 0, blocksUntilNext = 0, lastEpochBlock = 0, emissionPerBlock = 0;
  std::map<std::string, NeuronView> byHotkey;
};
struct Snapshot {
  std::uint64_t block = 0;
  std::vector<SubnetView> subnets;  // in State::subnets order
};

Result<Snapshot> snapshot(rpc::ChainClient& client, const State& state) {
  Snapshot snap;
  MERIT_ASSIGN_OR_RETURN(json head, client.call("chain_getHead"));
  snap.block = head.value("number", std::uint64_t{0});
  try {
    for (const auto& sn : state.subnets) {
      MERIT_ASSIGN_OR_RETURN(json info, client.call("subnet_get", json::array({sn.netuid})));
      MERIT_ASSIGN_OR_RETURN(json mg, client.call("metagraph_get", json::array({sn.netuid, true, false})));
      SubnetView v;
      v.netuid = sn.netuid;
      v.tempo = info.at("tempo").get<std::uint64_t>();
      v.blocksUntilNext = info.at("blocks_until_next_epoch").get<std::uint64_t>();
      v.lastEpochBlock = info.at("last_epoch_block").get<std::uint64_t>();
      v.emissionPerBlock = info.at("emission_per_block").get<std::uint64_t>();
      for (const auto& n : mg.at("neurons")) {
        NeuronView nv;
        nv.uid = n.at("uid").get<std::uint64_t>();
        nv.stake = n.at("stake").get<std::uint64_t>();
        nv.incentive = n.at("incentive").get<std::uint64_t>();
        nv.dividends = n.at("dividends").get<std::uint64_t>();
        nv.consensus = n.at("consensus").get<std::uint64_t>();
        nv.vtrust = n.at("validator_trust").get<std::uint64_t>();
        nv.emission = n.at("emission").get<std::uint64_t>();
        nv.permit = n.at("validator_permit").get<bool>();
        if (n.contains("weights")) {
          for (const auto& w : n.at("weights")) {
            nv.weights.emplace_back(w.at(0).get<std::uint64_t>(), w.at(1).get<std::uint64_t>());
          }
        }
        v.byHotkey[n.at("hotkey").get<std::string>()] = std::move(nv);
      }
      snap.subnets.push_back(std::move(v));
    }
  } catch (const json::exception& e) {
    return fail(ErrorCode::kCorruption, std::string("unexpected reply from the chain: ") + e.what());
  }
  return snap;
}

const NeuronView* neuronOf(const SubnetView& v, const Member& m) {
  auto it = v.byHotkey.find(m.hotkey);
  return it == v.byHotkey.end() ? nullptr : &it->second;
}

std::uint64_t earned(const SubnetView& v, const Member& m) {
  const NeuronView* n = neuronOf(v, m);
  if (n == nullptr) return 0;
  std::uint64_t stake = m.finalStake ? *m.finalStake : n->stake;
  return stake > m.baseline ? stake - m.baseline : 0;
}

// The share of the validators' weight a uid gets, averaged over validators that set weights.
std::optional<double> validatorScore(const SubnetView& v, const State& state, const std::string& subnet,
                                     std::uint64_t uid) {
  double sum = 0;
  int count = 0;
  for (const auto& m : state.members) {
    if (m.subnet != subnet || m.role != "validator") continue;
    const NeuronView* n = neuronOf(v, m);
    if (n == nullptr || n->weights.empty()) continue;
    double total = 0, mine = 0;
    for (auto [u, w] : n->weights) {
      total += static_cast<double>(w);
      if (u == uid) mine = static_cast<double>(w);
    }
    if (total > 0) {
      sum += mine / total;
      ++count;
    }
  }
  if (count == 0) return std::nullopt;
  return sum / count;
}

std::string fixed4(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

// Tiers in the order they first appear in the config.
std::vector<std::string> tierOrder(const State& state) {
  std::vector<std::string> out;
  for (const auto& m : state.members) {
    if (m.role == "miner" && std::find(out.begin(), out.end(), m.tier) == out.end()) out.push_back(m.tier);
  }
  return out;
}

// The table of one subnet; `full` adds stake, consensus and validator trust (final metagraph).
std::string subnetTable(const State& state, const SubnetState& sn, const SubnetView& v,
                        const std::set<pid_t>& alive, bool full) {
  std::string out;
  char line[512];
  std::snprintf(
      line, sizeof line,
      "subnet %u %s (plugin %s): tempo %s, next epoch in %s blocks, %s MERIT/block, epochs measured %s\n",
      sn.netuid, sn.name.c_str(), sn.plugin.c_str(), u64s(v.tempo).c_str(), u64s(v.blocksUntilNext).c_str(),
      formatMerit(v.emissionPerBlock).c_str(), u64s(sn.epochsSeen).c_str());
  out += line;
  if (full) {
    std::snprintf(line, sizeof line, "  %-14s %-10s %4s %-5s %14s %9s %9s %9s %9s %9s %14s\n", "NAME", "TIER",
                  "UID", "PROC", "STAKE", "V-SCORE", "CONSENSUS", "INCENTIVE", "DIVIDENDS", "VTRUST",
                  "EARNED");
  } else {
    std::snprintf(line, sizeof line, "  %-14s %-10s %4s %-5s %9s %9s %9s %14s\n", "NAME", "TIER", "UID",
                  "PROC", "V-SCORE", "INCENTIVE", "DIVIDENDS", "EARNED");
  }
  out += line;
  for (const char* role : {"validator", "miner"}) {
    for (const auto& m : state.members) {
      if (m.subnet != sn.name || m.role != role) continue;
      const NeuronView* n = neuronOf(v, m);
      std::string uid = n ? u64s(n->uid) : "-";
      std::string proc = alive.count(m.pid) ? "up" : "down";
      std::string vscore = "-";
      if (n && m.role == "miner") {
        if (auto s = validatorScore(v, state, sn.name, n->uid)) vscore = fixed4(*s);
      }
      std::string tier = m.role == "validator" ? "validator" : m.tier;
      std::string inc = n ? formatProportion(n->incentive) : "-";
      std::string div = n ? formatProportion(n->dividends) : "-";
      std::string earn = n ? formatMerit(earned(v, m)) : "-";
      if (full) {
        std::snprintf(line, sizeof line, "  %-14s %-10s %4s %-5s %14s %9s %9s %9s %9s %9s %14s\n",
                      m.name.c_str(), tier.c_str(), uid.c_str(), proc.c_str(),
                      n ? formatMerit(n->stake).c_str() : "-", vscore.c_str(),
                      n ? formatProportion(n->consensus).c_str() : "-", inc.c_str(), div.c_str(),
                      n ? formatProportion(n->vtrust).c_str() : "-", earn.c_str());
      } else {
        std::snprintf(line, sizeof line, "  %-14s %-10s %4s %-5s %9s %9s %9s %14s\n", m.name.c_str(),
                      tier.c_str(), uid.c_str(), proc.c_str(), vscore.c_str(), inc.c_str(), div.c_str(),
                      earn.c_str());
      }
      out += line;
    }
  }
  return out;
}

struct TierTotal {
  std::string tier;
  std::size_t miners = 0;
  std::uint64_t earned = 0;
};

std::vector<TierTotal> tierTotals(const State& state, const Snapshot& snap) {
  std::vector<TierTotal> out;
  for (const auto& t : tierOrder(state)) out.push_back(TierTotal{t, 0, 0});
  for (std::size_t i = 0; i < state.subnets.size() && i < snap.subnets.size(); ++i) {
    for (const auto& m : state.members) {
      if (m.role != "miner" || m.subnet != state.subnets[i].name) continue;
      for (auto& t : out) {
        if (t.tier != m.tier) continue;
        t.miners += 1;
        t.earned += earned(snap.subnets[i], m);
      }
    }
  }
  return out;
}

std::string tierTable(const State& state, const Snapshot& snap) {
  auto totals = tierTotals(state, snap);
  std::uint64_t all = 0;
  for (const auto& t : totals) all += t.earned;
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "  %-12s %6s %16s %16s %7s\n", "TIER", "MINERS", "EARNED (MERIT)",
                "PER MINER", "SHARE");
  out += line;
  for (const auto& t : totals) {
    std::snprintf(line, sizeof line, "  %-12s %6zu %16s %16s %6.1f%%\n", t.tier.c_str(), t.miners,
                  formatMerit(t.earned).c_str(), formatMerit(t.miners ? t.earned / t.miners : 0).c_str(),
                  all ? 100.0 * static_cast<double>(t.earned) / static_cast<double>(all) : 0.0);
    out += line;
  }
  return out;
}

std::set<pid_t> alivePids(const State& state) {
  std::set<pid_t> out;
  for (const auto& m : state.members) {
    if (processAlive(m.pid)) out.insert(m.pid);
  }
  return out;
}

std::string phaseText(const State& state) {
  if (state.phase == "warming") return "warming up (validators getting permits and setting weights)";
  if (state.phase == "running") {
    std::uint64_t done = UINT64_MAX;
    for (const auto& s : state.subnets) done = std::min(done, s.epochsSeen);
    if (done == UINT64_MAX) done = 0;
    return "measuring, epoch " + u64s(done) + (state.epochs ? " of " + u64s(state.epochs) : "") + " done";
  }
  return state.phase;
}

std::string fullView(const State& state, const Snapshot& snap, const std::set<pid_t>& alive, bool final) {
  std::string out = "meritnet localnet: block " + u64s(snap.block) + " (" + u64s(state.blockTimeMs) +
                    " ms blocks), " + phaseText(state) + ", " + u64s(alive.size()) + "/" +
                    u64s(state.members.size()) + " processes up\n";
  for (std::size_t i = 0; i < state.subnets.size() && i < snap.subnets.size(); ++i) {
    out += subnetTable(state, state.subnets[i], snap.subnets[i], alive, final);
  }
  out += "emission earned by miner tier since measurement started (block " + u64s(state.measureStartBlock) +
         "):\n";
  out += tierTable(state, snap);
  return out;
}

// One plain line for logs and non-terminals.
std::string plainLine(const State& state, const Snapshot& snap) {
  std::string out = "block " + u64s(snap.block) + " [" + phaseText(state) + "]";
  for (std::size_t i = 0; i < state.subnets.size() && i < snap.subnets.size(); ++i) {
    out += " | " + state.subnets[i].name + ": next epoch in " + u64s(snap.subnets[i].blocksUntilNext);
    for (const auto& m : state.members) {
      if (m.subnet != state.subnets[i].name || m.role != "miner") continue;
      out += " " + m.name + "=" + formatMerit(earned(snap.subnets[i], m));
    }
  }
  return out;
}

json summaryJson(const State& state, const Snapshot& snap, bool interrupted) {
  json j = {{"epochs", state.epochs},  {"interrupted", interrupted}, {"start_block", state.measureStartBlock},
            {"end_block", snap.block}, {"subnets", json::array()},   {"tiers", json::array()}};
  for (std::size_t i = 0; i < state.subnets.size() && i < snap.subnets.size(); ++i) {
    const auto& sn = state.subnets[i];
    const auto& v = snap.subnets[i];
    json s = {{"name", sn.name},         {"plugin", sn.plugin},
              {"netuid", sn.netuid},     {"epochs_measured", sn.epochsSeen},
              {"miners", json::array()}, {"validators", json::array()}};
    for (const auto& m : state.members) {
      if (m.subnet != sn.name) continue;
      const NeuronView* n = neuronOf(v, m);
      json e = {{"name", m.name}, {"hotkey", m.hotkey}, {"earned_rao", earned(v, m)}};
      if (n) {
        e["uid"] = n->uid;
        e["stake"] = n->stake;
        e["incentive"] = n->incentive;
        e["dividends"] = n->dividends;
        e["consensus"] = n->consensus;
        e["validator_trust"] = n->vtrust;
        json w = json::array();
        for (auto [u, x] : n->weights) w.push_back({u, x});
        e["weights"] = w;
      }
      if (m.role == "miner") {
        e["tier"] = m.tier;
        if (n) {
          if (auto sc = validatorScore(v, state, sn.name, n->uid)) e["validator_score"] = *sc;
        }
        s["miners"].push_back(std::move(e));
      } else {
        s["validators"].push_back(std::move(e));
      }
    }
    j["subnets"].push_back(std::move(s));
  }
  for (const auto& t : tierTotals(state, snap)) {
    j["tiers"].push_back({{"tier", t.tier}, {"miners", t.miners}, {"earned_rao", t.earned}});
  }
  return j;
}

// Submits and waits for inclusion; a failed or dropped call is an error naming `what`.
Result<rpc::Submission> submitOk(rpc::ChainClient& client, const crypto::PrivateKey& key, tx::Call call,
                                 const std::string& what) {
  if (stopRequested()) return fail(ErrorCode::kUnavailable, "interrupted");
  auto s = client.submit(key, std::move(call), std::chrono::milliseconds(60'000));
  if (!s) return fail(s.error().withContext(what));
  if (s->rejected)
    return fail(ErrorCode::kInvalidArgument, what + ": rejected by the chain: " + s->errorText());
  if (!s->included) return fail(ErrorCode::kDeadlineExceeded, what + ": not included within 60 s");
  if (!s->success) return fail(ErrorCode::kInternal, what + ": " + s->errorText());
  return s;
}

// Waits until the process prints its ready line; fails if it exits first or takes too long.
Result<json> waitReady(ProcessGroup& group, const Member& m, std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (auto j = readyLine(m.log)) return *j;
    if (!group.running(m.pid)) {
      for (const auto& e : group.reap()) {
        if (e.pid == m.pid) break;
      }
      if (!group.running(m.pid)) {
        return fail(ErrorCode::kUnavailable, m.name + " (" + m.binary.filename().string() +
                                                 ") stopped before it was ready; " + m.log.string() +
                                                 " ends with:" + tail(m.log, 8));
      }
    }
    if (stopRequested()) return fail(ErrorCode::kUnavailable, "interrupted");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    group.reap();
  }
  return fail(ErrorCode::kDeadlineExceeded, m.name + " not ready after " + u64s(timeout.count()) +
                                                " s; see " + m.log.string() + ":" + tail(m.log, 8));
}

class Supervisor {
 public:
  Supervisor(const Config& config, const UpOptions& options, const Binaries& bins)
      : m_config(config), m_options(options), m_bins(bins) {}

  int run();

 private:
  Result<void> prepareDir();
  Result<void> makeWallets();
  Result<void> startChain();
  Result<void> setupChain();
  Result<void> startDaemons();
  Result<void> saveState();
  void notify(const std::string& message);
  int loop();
  void finish(bool interrupted);

  fs::path dir(const std::string& sub) const { return m_options.dataDir / sub; }
  std::string hotkeyName(const std::string& subnet, const std::string& name) const {
    return subnet + "." + name;
  }

  const Config& m_config;
  const UpOptions& m_options;
  const Binaries& m_bins;
  ProcessGroup m_group;
  State m_state;
  std::unique_ptr<rpc::ChainClient> m_client;
  std::optional<crypto::PrivateKey> m_coldkey;
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
  std::string pid = u64s(static_cast<std::uint64_t>(::getpid())) + "\n";
  MERIT_TRY(writeFileAtomic(dir("localnet.pid"), asBytes(pid), 0644, true));
  m_state.dataDir = m_options.dataDir;
  m_state.supervisor = ::getpid();
  m_state.epochs = m_options.epochs;
  m_state.blockTimeMs = m_config.blockTimeMs;
  return {};
}

Result<void> Supervisor::makeWallets() {
  crypto::Wallet wallet(dir("home"), kDevWallet);
  m_coldkey.emplace(devKey("coldkey"));
  crypto::SecretBytes password{std::string_view(kDevPassword)};
  MERIT_TRY(wallet.writeColdkey(*m_coldkey, password, crypto::KdfParams::interactive(), true));
  auto addHotkey = [&](const std::string& name) -> Result<std::string> {
    auto key = devKey("hotkey/" + name);
    std::string address = crypto::ss58Address(key.publicKey());
    MERIT_TRY(wallet.writeHotkey(name, key, true));
    return address;
  };
  MERIT_ASSIGN_OR_RETURN(std::string root, addHotkey("root"));
  (void)root;
  for (const auto& s : m_config.subnets) {
    for (const auto& v : s.validators) {
      Member m;
      m.subnet = s.name;
      m.name = v.name;
      m.role = "validator";
      m.hotkeyName = hotkeyName(s.name, v.name);
      MERIT_ASSIGN_OR_RETURN(m.hotkey, addHotkey(m.hotkeyName));
      m.binary = m_bins.validator;
      m.log = dir("logs") / (m.hotkeyName + ".log");
      m_state.members.push_back(std::move(m));
    }
    for (const auto& mi : s.miners) {
      Member m;
      m.subnet = s.name;
      m.name = mi.name;
      m.role = "miner";
      m.tier = mi.tier;
      m.hotkeyName = hotkeyName(s.name, mi.name);
      MERIT_ASSIGN_OR_RETURN(m.hotkey, addHotkey(m.hotkeyName));
      m.binary = m_bins.miner;
      m.log = dir("logs") / (m.hotkeyName + ".log");
      m_state.members.push_back(std::move(m));
    }
  }
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
               u64s(m_config.blockTimeMs),
               "--fund",
               crypto::ss58Address(m_coldkey->publicKey()) + "=" + u64s(m_config.fund),
               "--log-level",
               m_config.chainLogLevel};
  spec.log = chain.log;
  MERIT_ASSIGN_OR_RETURN(chain.pid, m_group.spawn(spec));
  m_state.members.insert(m_state.members.begin(), chain);
  MERIT_ASSIGN_OR_RETURN(json ready, waitReady(m_group, m_state.members.front(),
                                               std::chrono::seconds(m_config.startupTimeoutS)));
  m_state.chainUrl = ready.value("rpc", std::string());
  rpc::ClientOptions options;
  options.retries = 2;
  MERIT_ASSIGN_OR_RETURN(m_client, rpc::ChainClient::connect(m_state.chainUrl, options));
  return {};
}

Result<void> Supervisor::setupChain() {
  rpc::ChainClient& c = *m_client;
  // Subnets, in config order; the chain picks the netuid.
  for (const auto& s : m_config.subnets) {
    auto out =
        submitOk(c, *m_coldkey, tx::CreateSubnet{s.plugin, m_pluginVersions.at(s.plugin), s.hyperparameters},
                 "create subnet " + s.name);
    if (!out) return fail(out.error());
    MERIT_ASSIGN_OR_RETURN(json list, c.call("subnet_list"));
    std::optional<std::uint16_t> netuid;
    std::string owner = crypto::ss58Address(m_coldkey->publicKey());
    for (const auto& e : list) {
      std::uint16_t id = e.value("netuid", std::uint16_t{0});
      if (id == 0 || !e["owner"].is_string() || e["owner"].get<std::string>() != owner) continue;
      bool taken = false;
      for (const auto& known : m_state.subnets) taken = taken || known.netuid == id;
      if (!taken) netuid = id;
    }
    if (!netuid)
      return fail(ErrorCode::kInternal, "subnet " + s.name + " created but not found in subnet_list");
    m_state.subnets.push_back(SubnetState{s.name, s.plugin, *netuid, 0, 0});
    std::printf("  subnet %-14s netuid %u (plugin %s)\n", s.name.c_str(), *netuid, s.plugin.c_str());
  }
  crypto::Wallet wallet(dir("home"), kDevWallet);
  auto netuidOf = [&](const std::string& subnet) {
    for (const auto& s : m_state.subnets) {
      if (s.name == subnet) return s.netuid;
    }
    return std::uint16_t{0};
  };
  // Validators first, so they hold the low uids; then miners.
  for (const char* role : {"validator", "miner"}) {
    for (auto& m : m_state.members) {
      if (m.role != role) continue;
      MERIT_ASSIGN_OR_RETURN(auto hot, wallet.hotkeyPublic(m.hotkeyName));
      MERIT_TRY(
          submitOk(c, *m_coldkey, tx::BurnedRegister{netuidOf(m.subnet), hot}, "register " + m.hotkeyName));
    }
  }
  for (const auto& s : m_config.subnets) {
    for (const auto& v : s.validators) {
      MERIT_ASSIGN_OR_RETURN(auto hot, wallet.hotkeyPublic(hotkeyName(s.name, v.name)));
      MERIT_TRY(submitOk(c, *m_coldkey, tx::AddStake{hot.accountId(), v.stake},
                         "stake " + hotkeyName(s.name, v.name)));
      for (auto& m : m_state.members) {
        if (m.hotkeyName == hotkeyName(s.name, v.name)) m.baseline = v.stake;
      }
    }
  }
  // The root network: one staked root validator whose weights give every subnet its share.
  MERIT_ASSIGN_OR_RETURN(auto rootKey, wallet.loadHotkey("root"));
  MERIT_TRY(submitOk(c, *m_coldkey, tx::RootRegister{rootKey.publicKey()}, "root register"));
  MERIT_TRY(submitOk(c, *m_coldkey, tx::AddStake{rootKey.publicKey().accountId(), m_config.rootStake},
                     "root stake"));
  std::vector<std::uint16_t> netuids, values;
  for (std::size_t i = 0; i < m_config.subnets.size(); ++i) {
    if (m_config.subnets[i].rootWeight == 0) continue;
    netuids.push_back(m_state.subnets[i].netuid);
    values.push_back(m_config.subnets[i].rootWeight);
  }
  if (!netuids.empty()) {
    auto scaled = consensus::vecU16MaxUpscaleToU16(values);
    MERIT_TRY(submitOk(c, rootKey, tx::SetRootWeights{netuids, scaled, 0}, "root weights"));
  }
  return {};
}

Result<void> Supervisor::startDaemons() {
  std::vector<std::string> env = {"MERIT_HOME=" + dir("home").string()};
  std::vector<std::string> unset = {"MERIT_CHAIN_URL", "MERIT_PASSWORD", "MERIT_SUBNET_PATH"};
  for (const auto& s : m_state.subnets) {
    for (const auto* cs = &m_config.subnets.front(); cs <= &m_config.subnets.back(); ++cs) {
      if (cs->name != s.name) continue;
      auto base = [&](const std::string& hk) {
        return std::map<std::string, std::string>{
            {"wallet", kDevWallet},          {"hotkey", hk},       {"chain_url", m_state.chainUrl},
            {"netuid", u64s(s.netuid)},      {"plugin", s.plugin}, {"metrics_port", "0"},
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
    MERIT_ASSIGN_OR_RETURN(json ready, waitReady(m_group, m, std::chrono::seconds(m_config.startupTimeoutS)));
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
            {"netuid", u64s(s.netuid)},
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
    MERIT_ASSIGN_OR_RETURN(json ready, waitReady(m_group, m, std::chrono::seconds(m_config.startupTimeoutS)));
    m.metricsPort = ready.value("metrics_port", -1);
  }
  return {};
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
  auto warmDeadline = Clock::now() + std::chrono::seconds(m_config.startupTimeoutS);
  auto lastPlain = Clock::now() - std::chrono::hours(1);
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
                    u64s(snap->block).c_str(),
                    m_state.epochs ? (" " + u64s(m_state.epochs) + " epochs").c_str() : "");
        std::fflush(stdout);
      } else if (Clock::now() > warmDeadline) {
        std::fprintf(
            stderr,
            "error: validators have not set weights after %s s (startup_timeout_s); see their logs in %s\n",
            u64s(m_config.startupTimeoutS).c_str(), dir("logs").c_str());
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
    } else if (Clock::now() - lastPlain >= std::chrono::seconds(5)) {
      std::string text = plainLine(m_state, *snap);
      std::printf("%s\n", text.c_str());
      std::fflush(stdout);
      lastPlain = Clock::now();
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
  if (!m_client || g_stopRequests > 1) return;
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
              u64s(m_state.measureStartBlock).c_str(), u64s(snap->block).c_str(), dir("logs").c_str());
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
    m_group.stopAll();
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
  if (auto ok = makeWallets(); !ok) return fatal(ok.error());
  std::printf("dev wallet '%s' in %s (DEV ONLY: keys derived from public strings)\n", kDevWallet,
              dir("home").c_str());
  if (auto ok = startChain(); !ok) return fatal(ok.error());
  (void)saveState();
  std::printf("chain up at %s (%s ms blocks); creating subnets, registering, staking\n",
              m_state.chainUrl.c_str(), u64s(m_config.blockTimeMs).c_str());
  std::fflush(stdout);
  if (auto ok = setupChain(); !ok) return fatal(ok.error());
  (void)saveState();
  std::printf("starting %zu miners and validators\n", m_state.members.size() - 1);
  std::fflush(stdout);
  if (auto ok = startDaemons(); !ok) return fatal(ok.error());
  m_state.phase = "warming";
  if (auto ok = saveState(); !ok) return fatal(ok.error());
  std::printf("network up: %zu processes; state in %s\n", m_state.members.size(),
              dir("localnet.json").c_str());
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
  m_group.stopAll();
  m_state.phase = "stopped";
  (void)saveState();
  std::error_code ec;
  fs::remove(dir("localnet.pid"), ec);
  std::printf("localnet stopped\n");
  return rc;
}

}  // namespace

namespace {

// Runs `f` with stderr sent to /dev/null: a plugin instance made only to check its config may
// log (model loaded, CUDA missing) as if it were serving; the real daemons log that to their own
// files. Refusals come back as errors, not on stderr.
template <typename F>
auto quietly(F&& f) {
  std::fflush(stderr);
  int saved = ::dup(2);
  int devNull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (saved >= 0 && devNull >= 0) ::dup2(devNull, 2);
  auto result = f();
  std::fflush(stderr);
  if (saved >= 0) {
    ::dup2(saved, 2);
    ::close(saved);
  }
  if (devNull >= 0) ::close(devNull);
  return result;
}

}  // namespace

fs::path defaultDataDir() {
  return crypto::defaultMeritHome() / "localnet";
}

Result<Binaries> findBinaries() {
  Binaries b;
  auto need = [](const std::string& name, const std::string& sub) -> Result<fs::path> {
    auto p = findBinary(name, sub);
    if (!p) {
      return fail(ErrorCode::kNotFound, name + " not found next to merit (" + exeDir().string() +
                                            "), in the build tree or on PATH; build it (ninja " + name + ")");
    }
    return *p;
  };
  MERIT_ASSIGN_OR_RETURN(b.chain, need("merit-chain", "chain"));
  MERIT_ASSIGN_OR_RETURN(b.miner, need("merit-miner", "miner"));
  MERIT_ASSIGN_OR_RETURN(b.validator, need("merit-validator", "validator"));
  if (auto t = findBinary("merit-train", "tools/train")) b.train = *t;
  return b;
}

Result<void> checkDataDir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return {};
  if (!fs::is_directory(dir, ec))
    return fail(ErrorCode::kInvalidArgument, dir.string() + " is not a directory");
  bool empty = fs::directory_iterator(dir, ec) == fs::directory_iterator();
  if (!empty && !fs::exists(dir / ".merit-localnet", ec)) {
    return fail(ErrorCode::kInvalidArgument,
                dir.string() +
                    " is not empty and not a localnet data directory (no "
                    ".merit-localnet); refusing to wipe it: pick another --data-dir");
  }
  if (auto pidText = readFile(dir / "localnet.pid", 64)) {
    pid_t pid = static_cast<pid_t>(std::strtol(pidText->c_str(), nullptr, 10));
    if (pid > 0 && pid != ::getpid() && processAlive(pid) &&
        processCommandLine(pid).find("localnet") != std::string::npos) {
      return fail(ErrorCode::kAlreadyExists, "a localnet is already running in " + dir.string() +
                                                 " (supervisor pid " + std::to_string(pid) +
                                                 "); stop it with: merit localnet down --data-dir " +
                                                 dir.string());
    }
  }
  return {};
}

Result<void> preflight(const Config& config, const UpOptions& options, const Binaries& bins, bool quiet) {
  // Plugins exist, load, and accept every configured plugin_config.
  for (const auto& s : config.subnets) {
    auto plugin = subnet::SubnetPlugin::find(s.plugin, {});
    if (!plugin) return fail(plugin.error().withContext(config.source + ": subnet " + s.name));
    for (const auto& v : s.validators) {
      auto inst = quietly([&] { return (*plugin)->create(subnet::Role::kValidator, v.pluginConfig); });
      if (!inst) {
        return fail(inst.error().withContext(config.source + ": subnet " + s.name + ": validator " + v.name +
                                             ": plugin_config"));
      }
      // The generated validator config must be accepted too (values of `settings`).
      std::map<std::string, std::string> values = {{"plugin", s.plugin}};
      for (const auto& [k, val] : config.validatorDefaults) values[k] = val;
      for (const auto& [k, val] : v.settings) values[k] = val;
      auto parsed = validator::parseValidatorConfig(
          daemonYaml(values, {}, "{}"), config.source + ": subnet " + s.name + ": validator " + v.name,
          validator::ValidatorFileConfig{});
      if (!parsed) return fail(parsed.error());
    }
  }
  // Models: train the missing ones into the cache (atomically: a partial file never looks done).
  for (const auto& s : config.subnets) {
    for (const auto& m : s.miners) {
      if (!m.model) continue;
      fs::path out = modelPath(config, options.dataDir, *m.model);
      std::error_code ec;
      if (fs::exists(out, ec)) {
        if (!quiet) std::printf("model for %s.%s: cached %s\n", s.name.c_str(), m.name.c_str(), out.c_str());
        continue;
      }
      if (bins.train.empty()) {
        return fail(ErrorCode::kNotFound,
                    config.source + ": subnet " + s.name + ": miner " + m.name +
                        ": needs merit-train (not found next to merit, in the build tree or on PATH)");
      }
      fs::create_directories(out.parent_path(), ec);
      if (ec) return fail(ErrorCode::kUnavailable, out.parent_path().string() + ": " + ec.message());
      fs::path partial = out;
      partial += ".partial-" + std::to_string(::getpid()) + ".pt";
      fs::path log = out;
      log += ".log";
      ProcessSpec spec;
      spec.name = "merit-train";
      spec.binary = bins.train;
      spec.args.push_back(m.model->trainer);
      spec.args.insert(spec.args.end(), m.model->args.begin(), m.model->args.end());
      spec.args.push_back("--out");
      spec.args.push_back(partial.string());
      spec.log = log;
      std::string cmd = "merit-train";
      for (const auto& a : spec.args) cmd += " " + a;
      if (!quiet) {
        std::printf("training model for %s.%s: %s (log: %s)\n", s.name.c_str(), m.name.c_str(), cmd.c_str(),
                    log.c_str());
        std::fflush(stdout);
      }
      ProcessGroup trainer;
      MERIT_ASSIGN_OR_RETURN(pid_t pid, trainer.spawn(spec));
      std::string how;
      while (how.empty()) {
        for (const auto& e : trainer.reap()) how = e.how;
        if (!how.empty()) break;
        if (stopRequested()) {
          trainer.stopAll(std::chrono::milliseconds(3000));
          fs::remove(partial, ec);
          return fail(ErrorCode::kUnavailable, "interrupted while training");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      (void)pid;
      if (how != "exited with code 0" || !fs::exists(partial, ec)) {
        fs::remove(partial, ec);
        return fail(ErrorCode::kInternal,
                    cmd + " " + how + "; " + log.string() + " ends with:" + tail(log, 8));
      }
      fs::rename(partial, out, ec);
      if (ec) return fail(ErrorCode::kUnavailable, out.string() + ": " + ec.message());
    }
  }
  // Miner plugin configs, with the model path in place.
  for (const auto& s : config.subnets) {
    auto plugin = subnet::SubnetPlugin::find(s.plugin, {});
    if (!plugin) return fail(plugin.error());
    for (const auto& m : s.miners) {
      std::string pc = m.pluginConfig;
      if (m.model) {
        MERIT_ASSIGN_OR_RETURN(pc, withModel(pc, modelPath(config, options.dataDir, *m.model).string()));
      }
      auto inst = quietly([&] { return (*plugin)->create(subnet::Role::kMiner, pc); });
      if (!inst) {
        return fail(inst.error().withContext(config.source + ": subnet " + s.name + ": miner " + m.name +
                                             ": plugin_config"));
      }
    }
  }
  return {};
}

int runSupervisor(const Config& config, const UpOptions& options, const Binaries& bins) {
  Supervisor s(config, options, bins);
  return s.run();
}

int printStatus(const fs::path& dir, bool asJson) {
  auto state = loadState(dir);
  if (!state) {
    if (asJson) {
      std::printf("%s\n", json{{"running", false}, {"data_dir", dir.string()}}.dump(2).c_str());
    } else {
      std::printf("no localnet in %s\n", dir.c_str());
    }
    return kExitFailure;
  }
  bool running = processAlive(state->supervisor) && state->phase != "stopped";
  auto alive = alivePids(*state);
  std::optional<Snapshot> snap;
  if (running && alive.count(state->members.empty() ? 0 : state->members.front().pid)) {
    rpc::ClientOptions o;
    o.retries = 1;
    if (auto client = rpc::ChainClient::connect(state->chainUrl, o)) {
      if (auto s = snapshot(**client, *state)) snap = *s;
    }
  }
  if (asJson) {
    json j = {{"running", running},           {"data_dir", dir.string()},
              {"phase", state->phase},        {"supervisor_pid", state->supervisor},
              {"chain_url", state->chainUrl}, {"epochs", state->epochs},
              {"processes", json::array()}};
    for (const auto& m : state->members) {
      j["processes"].push_back({{"name", m.hotkeyName.empty() ? m.name : m.hotkeyName},
                                {"role", m.role},
                                {"pid", m.pid},
                                {"alive", alive.count(m.pid) > 0},
                                {"log", m.log.string()}});
    }
    if (snap) {
      j["block"] = snap->block;
      json summary = summaryJson(*state, *snap, false);
      j["subnets"] = summary["subnets"];
      j["tiers"] = summary["tiers"];
      for (std::size_t i = 0; i < state->subnets.size() && i < snap->subnets.size(); ++i) {
        j["subnets"][i]["blocks_until_next_epoch"] = snap->subnets[i].blocksUntilNext;
      }
    }
    std::printf("%s\n", j.dump(2).c_str());
    return running ? kExitOk : kExitFailure;
  }
  std::printf("localnet in %s: %s (supervisor pid %d, phase %s)\n", dir.c_str(),
              running ? "running" : "not running", static_cast<int>(state->supervisor), state->phase.c_str());
  std::printf("chain %s; dev wallet '%s' in %s/home (password '%s', DEV ONLY)\n", state->chainUrl.c_str(),
              kDevWallet, dir.c_str(), kDevPassword);
  std::printf("processes:\n");
  for (const auto& m : state->members) {
    std::string name = m.hotkeyName.empty() ? m.name : m.hotkeyName;
    std::printf("  %-24s %-9s pid %-8d %-5s %s\n", name.c_str(), m.role.c_str(), static_cast<int>(m.pid),
                alive.count(m.pid) ? "up" : "down", m.log.c_str());
  }
  if (snap) std::fputs(fullView(*state, *snap, alive, false).c_str(), stdout);
  return running ? kExitOk : kExitFailure;
}

int stopLocalnet(const fs::path& dir, std::uint64_t timeoutS) {
  auto state = loadState(dir);
  auto pidText = readFile(dir / "localnet.pid", 64);
  pid_t supervisor = 0;
  if (pidText)
    supervisor = static_cast<pid_t>(std::strtol(pidText->c_str(), nullptr, 10));
  else if (state)
    supervisor = state->supervisor;
  bool any = false;
  if (supervisor > 0 && processAlive(supervisor) &&
      processCommandLine(supervisor).find("localnet") != std::string::npos) {
    any = true;
    std::printf("stopping the localnet supervisor (pid %d)\n", static_cast<int>(supervisor));
    std::fflush(stdout);
    ::kill(supervisor, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(timeoutS);
    while (processAlive(supervisor) && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (processAlive(supervisor)) {
      std::fprintf(stderr, "supervisor still running after %s s: killing it\n", u64s(timeoutS).c_str());
      ::kill(supervisor, SIGKILL);
    }
  }
  // Whatever the supervisor left (it was killed, or crashed): its children by pid, if they are
  // still the processes we started (the pid was not reused by something else).
  std::size_t leftovers = 0;
  if (state) {
    auto ours = [](const Member& m) {
      return processAlive(m.pid) &&
             processCommandLine(m.pid).find(m.binary.filename().string()) != std::string::npos;
    };
    for (const auto& m : state->members) {
      if (ours(m)) {
        any = true;
        ::kill(m.pid, SIGTERM);
      }
    }
    auto deadline = Clock::now() + std::chrono::seconds(10);
    for (const auto& m : state->members) {
      while (ours(m) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (ours(m)) {
        ::kill(m.pid, SIGKILL);
        ++leftovers;
      }
    }
  }
  std::error_code ec;
  fs::remove(dir / "localnet.pid", ec);
  if (!any) {
    std::printf("no localnet running in %s\n", dir.c_str());
    return kExitFailure;
  }
  std::printf("localnet in %s stopped%s\n", dir.c_str(),
              leftovers ? (" (" + std::to_string(leftovers) + " processes had to be killed)").c_str() : "");
  return kExitOk;
}

}  // namespace merit::cli::localnet
