#include "localnet_state.h"

#include "merit/util/bytes.h"
#include "merit/util/file.h"

namespace merit::cli::localnet {

namespace fs = std::filesystem;
using nlohmann::json;

json toJson(const State& s) {
  json j = {{"version", 1},
            {"data_dir", s.dataDir.string()},
            {"chain_url", s.chainUrl},
            {"dashboard_url", s.dashboardUrl},
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
    s.dashboardUrl = j.value("dashboard_url", std::string());
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

}  // namespace merit::cli::localnet
