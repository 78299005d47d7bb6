// What `merit localnet up` checks before it starts anything: where the other binaries are, that
// the data directory may be used, that the plugins load and accept every plugin_config, and
// that the models exist (trained into the cache when missing).
//
// Thread-safety: single-threaded (run before the supervisor starts).
#pragma once

#include <filesystem>

#include "merit/util/result.h"

#include "localnet_config.h"

namespace merit::cli::localnet {

// Where the other binaries are.
struct Binaries {
  std::filesystem::path chain, miner, validator;
  std::filesystem::path train;  // empty when not found (only needed for `model:` entries)
};
// Looks next to the running `merit` (an install's bin directory), then in the build tree
// (<build>/chain/merit-chain ...), then on PATH.
Result<Binaries> findBinaries();

// The default data directory: $MERIT_HOME/localnet (~/.meritnet/localnet).
std::filesystem::path defaultDataDir();

// Refuses a directory that is not empty and not a localnet's, or whose localnet is running.
Result<void> checkDataDir(const std::filesystem::path& dir);

// Checks everything that can be checked before starting anything: the config, the binaries, the
// plugins (they load, their configs are accepted) and the models (trained into the cache when
// missing). Prints progress on stdout unless `quiet`.
Result<void> preflight(const Config& config, const std::filesystem::path& dataDir, const Binaries& bins,
                       bool quiet);

// Where the model of a `model:` entry is cached: `model_cache` (relative to the data directory),
// else $XDG_CACHE_HOME/meritnet/models, else ~/.cache/meritnet/models.
std::filesystem::path modelPath(const Config& config, const std::filesystem::path& dataDir,
                                const ModelSpec& m);

}  // namespace merit::cli::localnet
