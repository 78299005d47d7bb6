// `merit localnet`: the supervisor that brings up a whole network on this machine (a dev chain,
// subnets, dev wallets, miners with trained or cached models, staked validators, root weights),
// watches it, and takes it down. Its pieces: localnet_config (the YAML), localnet_preflight
// (checks before anything starts), localnet_chain_setup (keys and on-chain setup),
// localnet_process (the children), localnet_state (the state file), localnet_view (tables and
// summary), localnet_control (`status` and `down`, from another process).
//
// Data directory layout (everything a localnet writes lives here):
//   .merit-localnet            marker: this directory may be wiped by the next `up`
//   localnet.pid               the supervisor's pid while it runs
//   localnet.json              state: processes, subnets, members, baselines (rewritten each second)
//   summary.json               the final metagraph and emission by tier (written at the end)
//   supervisor.log             the supervisor's own output with --detach
//   home/                      MERIT_HOME of every process: the dev-only wallets
//   chain/                     the chain's blocks and state
//   config/<subnet>.<name>.yaml   each miner's and validator's generated config
//   logs/<name>.log            each process's stdout and stderr
//   validators/<subnet>.<name>.json  validator score state
//
// Thread-safety: single-threaded (the supervisor forks its children from its one thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "merit/util/clock.h"
#include "merit/util/result.h"

#include "localnet_config.h"
#include "localnet_preflight.h"
#include "localnet_signals.h"
#include "localnet_state.h"

namespace merit::cli::localnet {

struct UpOptions {
  std::filesystem::path configPath;
  std::filesystem::path dataDir;
  std::uint64_t epochs = 0;  // 0: run until stopped
  int notifyFd = -1;         // --detach: write "up" or "error: ..." here once known
};

// How long the children get between SIGTERM and SIGKILL when the network is taken down.
inline constexpr std::chrono::milliseconds kStopGrace{10'000};

// Runs the network in the foreground until `epochs` measured epochs have passed or a SIGINT or
// SIGTERM arrives; prints the live view, then the final metagraph and the summary; stops every
// child (SIGTERM, then SIGKILL after kStopGrace, reporting each child that had to be killed).
// Deadlines (readiness, warm-up, the stop grace) are measured on `clock`. Returns the process
// exit code.
int runSupervisor(const Config& config, const UpOptions& options, const Binaries& bins, const Clock& clock);

}  // namespace merit::cli::localnet
