// Weight rules shared by validators (before submitting) and the chain (when applying
// set_weights): subtensor's pure checks and max-upscaling (spec yuma.md §9.4), and the canonical
// commit-reveal preimage (§9.5).
//
// Thread-safety: pure functions on values; no shared state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "merit/consensus/epoch.h"
#include "merit/util/result.h"

namespace merit::consensus {

struct SetWeightsRules {
  uint16_t callerUid = 0;           // uid of the hotkey setting weights
  std::size_t subnetN = 0;          // neurons registered on the subnet
  uint16_t minAllowedWeights = 0;   // effective minimum is min(subnetN, this); self-weight exempt
  uint16_t maxWeightLimit = 65535;  // u16 proportion; 65535 (HEAD) disables the check
  bool callerHasPermit = false;     // stored validator permit of the caller
  bool callerIsOwner = false;       // the subnet owner's hotkey needs no permit
};

// Applies set_weights' pure checks in subtensor's order and returns the row to store: the
// values max-upscaled (vec_u16_max_upscale_to_u16), caller order, zeros kept. Errors are
// kInvalidArgument (kUnauthorized for a missing permit) with subtensor's error name first:
// InputLengthsUnequal, UidsLengthExceedUidsInSubNet, NeuronNoValidatorPermit, DuplicateUids,
// UidVecContainInvalidOne, WeightVecLengthIsLow, MaxWeightExceeded.
Result<std::vector<UidValue>> checkAndUpscaleWeights(std::span<const uint16_t> uids,
                                                     std::span<const uint16_t> values,
                                                     const SetWeightsRules& rules);

// The SCALE encoding of (hotkey AccountId32, netuid_index u16, uids Vec<u16>, values Vec<u16>,
// salt Vec<u16>, version_key u64): the bytes whose BLAKE2b-256 digest (merit_crypto) is the
// commit hash of commit_weights / reveal_weights.
std::vector<std::byte> weightsCommitPreimage(const std::array<std::byte, 32>& hotkey, uint16_t netuidIndex,
                                             std::span<const uint16_t> uids, std::span<const uint16_t> values,
                                             std::span<const uint16_t> salt, uint64_t versionKey);

// SCALE compact encoding of a length (appended to out).
void appendScaleCompact(std::vector<std::byte>& out, uint64_t value);

}  // namespace merit::consensus
