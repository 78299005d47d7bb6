#include "localnet_view.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "chain_util.h"
#include "localnet_process.h"

namespace merit::cli::localnet {

using nlohmann::json;

namespace {}  // namespace

Result<Snapshot> snapshot(rpc::ChainClient& client, const State& state) {
  Snapshot snap;
  MERIT_ASSIGN_OR_RETURN(snap.block, client.headNumber());
  try {
    for (const auto& sn : state.subnets) {
      MERIT_ASSIGN_OR_RETURN(rpc::SubnetInfo info, client.subnet(sn.netuid));
      MERIT_ASSIGN_OR_RETURN(json mg,
                             rpc_json::call(client, "metagraph_get", json::array({sn.netuid, true, false})));
      SubnetView v;
      v.netuid = sn.netuid;
      v.tempo = info.tempo;
      v.blocksUntilNext = info.blocksUntilNextEpoch;
      v.lastEpochBlock = info.lastEpochBlock.value_or(0);
      v.emissionPerBlock = info.emissionPerBlock.value_or(0);
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

namespace {

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
      sn.netuid, sn.name.c_str(), sn.plugin.c_str(), std::to_string(v.tempo).c_str(),
      std::to_string(v.blocksUntilNext).c_str(), formatMerit(v.emissionPerBlock).c_str(),
      std::to_string(sn.epochsSeen).c_str());
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
      std::string uid = n ? std::to_string(n->uid) : "-";
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

}  // namespace

std::set<pid_t> alivePids(const State& state) {
  std::set<pid_t> out;
  for (const auto& m : state.members) {
    if (processAlive(m.pid)) out.insert(m.pid);
  }
  return out;
}

namespace {

std::string phaseText(const State& state) {
  if (state.phase == "warming") return "warming up (validators getting permits and setting weights)";
  if (state.phase == "running") {
    std::uint64_t done = UINT64_MAX;
    for (const auto& s : state.subnets) done = std::min(done, s.epochsSeen);
    if (done == UINT64_MAX) done = 0;
    return "measuring, epoch " + std::to_string(done) +
           (state.epochs ? " of " + std::to_string(state.epochs) : "") + " done";
  }
  return state.phase;
}

}  // namespace

std::string fullView(const State& state, const Snapshot& snap, const std::set<pid_t>& alive, bool final) {
  std::string out = "meritnet localnet: block " + std::to_string(snap.block) + " (" +
                    std::to_string(state.blockTimeMs) + " ms blocks), " + phaseText(state) + ", " +
                    std::to_string(alive.size()) + "/" + std::to_string(state.members.size()) +
                    " processes up\n";
  if (!state.dashboardUrl.empty()) out += "dashboard: " + state.dashboardUrl + "\n";
  for (std::size_t i = 0; i < state.subnets.size() && i < snap.subnets.size(); ++i) {
    out += subnetTable(state, state.subnets[i], snap.subnets[i], alive, final);
  }
  out += "emission earned by miner tier since measurement started (block " +
         std::to_string(state.measureStartBlock) + "):\n";
  out += tierTable(state, snap);
  return out;
}

// One plain line for logs and non-terminals.
std::string plainLine(const State& state, const Snapshot& snap) {
  std::string out = "block " + std::to_string(snap.block) + " [" + phaseText(state) + "]";
  for (std::size_t i = 0; i < state.subnets.size() && i < snap.subnets.size(); ++i) {
    out +=
        " | " + state.subnets[i].name + ": next epoch in " + std::to_string(snap.subnets[i].blocksUntilNext);
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

}  // namespace merit::cli::localnet
