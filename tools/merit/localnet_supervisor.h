// `merit localnet`: the supervisor that brings up a whole network on this machine (a dev chain,
// subnets, dev wallets, miners with trained or cached models, staked validators, root weights),
// watches it, and takes it down; plus the state file that `status` and `down` read.
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

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "merit/util/result.h"

#include "localnet_config.h"

namespace merit::cli::localnet {

// The dev coldkey's password. Dev-only: every localnet key is derived from public strings, so
// anyone can recompute them; never send real funds to a localnet address.
inline constexpr const char* kDevPassword = "localnet-dev-only-not-a-secret";
inline constexpr const char* kDevWallet = "localnet";

// Where the other binaries are.
struct Binaries {
  std::filesystem::path chain, miner, validator;
  std::filesystem::path train;  // empty when not found (only needed for `model:` entries)
};
// Looks next to the running `merit` (an install's bin directory), then in the build tree
// (<build>/chain/merit-chain ...), then on PATH.
Result<Binaries> findBinaries();

struct UpOptions {
  std::filesystem::path configPath;
  std::filesystem::path dataDir;
  std::uint64_t epochs = 0;  // 0: run until stopped
  int notifyFd = -1;         // --detach: write "up" or "error: ..." here once known
};

// SIGINT, SIGTERM and SIGHUP ask the supervisor (and a model being trained) to stop cleanly; a
// second one skips the final summary.
void installStopHandlers();

// Checks everything that can be checked before starting anything: the config, the binaries, the
// plugins (they load, their configs are accepted) and the models (trained into the cache when
// missing). Prints progress on stdout.
Result<void> preflight(const Config& config, const UpOptions& options, const Binaries& bins, bool quiet);

// Refuses a directory that is not empty and not a localnet's, or whose localnet is running.
Result<void> checkDataDir(const std::filesystem::path& dir);

// Runs the network in the foreground until `epochs` measured epochs have passed or a SIGINT or
// SIGTERM arrives; prints the live view, then the final metagraph and the summary; stops every
// child. Returns the process exit code.
int runSupervisor(const Config& config, const UpOptions& options, const Binaries& bins);

// The default data directory: $MERIT_HOME/localnet (~/.meritnet/localnet).
std::filesystem::path defaultDataDir();

// `merit localnet status`: prints the state of the localnet in `dir` (live from the chain when
// it runs). Returns the exit code (1 when nothing runs there).
int printStatus(const std::filesystem::path& dir, bool json);

// `merit localnet down`: stops the supervisor and waits until every process is gone.
int stopLocalnet(const std::filesystem::path& dir, std::uint64_t timeoutS);

}  // namespace merit::cli::localnet
