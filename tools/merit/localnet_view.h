// What a running localnet looks like from the chain: one snapshot of every subnet's metagraph,
// and the views printed from it (the live table, the plain progress line, the final metagraph
// and summary.json, with emission earned by miner tier since measurement started).
//
// Thread-safety: plain values and pure functions (snapshot() makes RPC calls on the caller's
// client).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "merit/rpc/client.h"
#include "merit/util/result.h"

#include "localnet_state.h"

namespace merit::cli::localnet {

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

// Reads the head and every subnet of `state` from the chain.
Result<Snapshot> snapshot(rpc::ChainClient& client, const State& state);

// The member's neuron in the view, or null when it is not registered there.
const NeuronView* neuronOf(const SubnetView& v, const Member& m);

// The pids of `state` that are alive (not zombies).
std::set<pid_t> alivePids(const State& state);

// The live table (or, with `final`, the final metagraph with stake, consensus and trust).
std::string fullView(const State& state, const Snapshot& snap, const std::set<pid_t>& alive, bool final);
// One plain line for logs and non-terminals.
std::string plainLine(const State& state, const Snapshot& snap);
// summary.json: per subnet and member, and totals by miner tier.
nlohmann::json summaryJson(const State& state, const Snapshot& snap, bool interrupted);

}  // namespace merit::cli::localnet
