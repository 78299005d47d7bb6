// The state of a running `merit localnet`: its processes (the chain, miners and validators),
// subnets and measurement baselines, as kept by the supervisor and written to
// DATA_DIR/localnet.json (rewritten each second) for `status` and `down` to read.
//
// Thread-safety: plain values and pure functions; the file is replaced atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "merit/util/result.h"

namespace merit::cli::localnet {

// The dev coldkey's password. Dev-only: every localnet key is derived from public strings, so
// anyone can recompute them; never send real funds to a localnet address.
inline constexpr const char* kDevPassword = "localnet-dev-only-not-a-secret";
inline constexpr const char* kDevWallet = "localnet";

// One process of the network, and what the state file says about it.
struct Member {
  std::string subnet;  // empty for the chain
  std::string name;    // "chain", or the entry's name
  std::string role;    // chain | miner | validator
  std::string tier;
  std::string hotkeyName;
  std::string hotkey;  // SS58
  pid_t pid = 0;
  std::filesystem::path binary;
  std::filesystem::path log;
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
  std::filesystem::path dataDir;
  std::string chainUrl;
  std::string dashboardUrl;  // empty when the dashboard is off or did not start
  // starting | warming | running | interrupted | finished | failed | stopping | stopped
  std::string phase = "starting";
  pid_t supervisor = 0;
  std::uint64_t epochs = 0;
  std::uint64_t measureStartBlock = 0;
  std::uint64_t blockTimeMs = 0;
  std::vector<Member> members;
  std::vector<SubnetState> subnets;
};

nlohmann::json toJson(const State& s);
// Errors: kCorruption naming the missing or mistyped field.
Result<State> stateFromJson(const nlohmann::json& j);

// Writes `j` (indented) to `path` atomically.
Result<void> writeJsonFile(const std::filesystem::path& path, const nlohmann::json& j);
// Reads DIR/localnet.json.
Result<State> loadState(const std::filesystem::path& dir);

}  // namespace merit::cli::localnet
