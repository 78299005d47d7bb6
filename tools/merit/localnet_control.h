// `merit localnet status` and `merit localnet down`: they read the state file of the localnet in
// a data directory (and the chain, while it runs) from another process than its supervisor.
//
// Thread-safety: single-threaded CLI.
#pragma once

#include <cstdint>
#include <filesystem>

#include "merit/util/clock.h"

namespace merit::cli::localnet {

// Prints the state of the localnet in `dir` (live from the chain when it runs). Returns the exit
// code (1 when nothing runs there).
int printStatus(const std::filesystem::path& dir, bool json);

// Stops the supervisor (SIGTERM; SIGKILL after `timeoutS` on `clock`) and then whatever of its
// children is left (SIGTERM; SIGKILL after 10 s), waiting until every process is gone.
int stopLocalnet(const std::filesystem::path& dir, std::uint64_t timeoutS, const Clock& clock);

}  // namespace merit::cli::localnet
