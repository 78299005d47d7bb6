// What a validator must not forget across restarts: its scores (and the hotkeys they belong to,
// so a replaced UID starts from zero) and the salts of weight commits not yet revealed. Saved
// atomically (write, fsync, rename) every step; a damaged file is an error, never silently reset.
//
// Thread-safety: values; load/save are plain file operations by the caller's thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "merit/validator/scoring.h"

namespace merit::validator {

struct PendingCommit {
  std::uint64_t commitBlock = 0;
  std::vector<std::uint16_t> uids;
  std::vector<std::uint16_t> values;
  std::vector<std::uint16_t> salt;
  std::uint64_t versionKey = 0;
};

struct ValidatorState {
  std::uint16_t netuid = 0;
  crypto::AccountId hotkey{};  // the validator's own hotkey: a file for another key is refused
  std::vector<ScoreBoard::Entry> scores;
  std::vector<PendingCommit> pendingCommits;
  std::uint64_t lastWeightsBlock = 0;
  std::uint64_t steps = 0;
};

Result<void> saveState(const std::string& path, const ValidatorState& state);
// A missing file is kNotFound (a first start); anything unreadable or inconsistent is
// kCorruption naming the problem.
Result<ValidatorState> loadState(const std::string& path);

}  // namespace merit::validator
