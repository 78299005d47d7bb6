// The JSON form of one Yuma epoch, as read and written by `merit yuma epoch` (format in
// docs/CONSENSUS.md). Kept out of the pure merit_consensus library: it parses untrusted text.
//
// Thread-safety: pure functions on values; no shared state.
//
// Limits on untrusted input: at most kMaxEpochJsonBytes of text and kMaxEpochJsonDepth levels of
// nesting (checked before parsing, so a deep `[[[[...` cannot exhaust the stack), and the
// consensus limits of validateEpochInput (neurons, uids, stake).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "merit/consensus/epoch.h"
#include "merit/util/result.h"

namespace merit::consensus {

inline constexpr std::size_t kMaxEpochJsonBytes = std::size_t{64} << 20;
inline constexpr std::size_t kMaxEpochJsonDepth = 8;

// Parses and validates one epoch's state. Every key of the format is required (`owner_uid` and
// `commit_block` may be null), unknown keys are rejected, integers must be integers in range.
// Errors are kInvalidArgument and name the field by its path, e.g.
// "neurons[2].weights[0]: uid 7 >= n 5" or "hyperparameters.kappa: missing".
Result<EpochInput> parseEpochInput(std::string_view text);

// The output object on one line (no trailing newline), keys in the documented order.
std::string formatEpochOutput(const EpochOutput& output);

// The same forms as JSON values, for epoch_get (docs/RPC.md): the input object that
// parseEpochInput reads back to an equal EpochInput, and the output object formatEpochOutput
// prints.
nlohmann::ordered_json epochInputJson(const EpochInput& input);
nlohmann::ordered_json epochOutputJson(const EpochOutput& output);

// parseEpochInput on an already parsed value (same checks and error paths).
Result<EpochInput> parseEpochInputJson(const nlohmann::json& root);
// Reads an output object; every key required, one entry per uid in each array (n = the length
// of `active`), unknown keys rejected. Errors name the field, e.g. "output.incentive[2]: ...".
Result<EpochOutput> parseEpochOutputJson(const nlohmann::json& root);

}  // namespace merit::consensus
