// merit_explain: why a uid earned what it earned in one Yuma epoch.
//
// The chain keeps the inputs and outputs of each subnet's last epochs (docs/RPC.md, epoch_get).
// The explainer fetches one stored epoch, recomputes it with the chain's own consensus::runEpoch,
// checks the result equals the stored outputs bit for bit, and then reads the epoch's
// intermediate quantities (normalised weights, the stake-weighted median consensus, the clipped
// weights, bonds before and after) from the executable spec (consensus_spec::specEpochTrace),
// whose outputs are also checked against the stored ones. Every number in an Explanation is
// therefore one the chain really used, not an estimate.
//
// Units: fields named *U16 are u16 proportions of 65535 exactly as stored; amounts are rao; the
// `double` fields are the exact I32F32 fixed-point values of the epoch converted for display
// (value = bits / 2^32), never fed back into consensus.
//
// Thread-safety: pure functions on values, except explainUid/fetchEpoch, which use the client
// passed in (a ChainClient serialises its own calls).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "merit/consensus/epoch.h"
#include "merit/rpc/client.h"
#include "merit/util/result.h"

namespace merit::explain {

// One stored epoch, as epoch_get returns it.
struct EpochRecord {
  std::uint16_t netuid = 0;
  std::uint64_t block = 0;           // the block the epoch ran in (= input.currentBlock)
  std::vector<std::string> hotkeys;  // SS58 address of each uid's hotkey at that block
  consensus::EpochInput input;       // exactly what runEpoch consumed
  consensus::EpochOutput output;     // exactly what the chain stored
};

// Reads an epoch_get result (docs/RPC.md). Errors name the field (kInvalidArgument).
Result<EpochRecord> parseEpochRecord(const nlohmann::json& epochGetResult);

// epoch_get: the stored epoch at or before `block` (nullopt: the latest one, which produced
// the uids' current values). kNotFound when the chain keeps none (e.g. the subnet has not run
// an epoch yet, or `block` is older than the retained history).
Result<EpochRecord> fetchEpoch(rpc::ChainClient& client, std::uint16_t netuid,
                               std::optional<std::uint64_t> block = std::nullopt);

// One output field whose recomputed value differs from the stored one.
struct Mismatch {
  std::string field;  // e.g. "incentive[3]", "bonds[1]", "emission[0]"
  std::string stored;
  std::string recomputed;
};

// Compares every field of two epoch outputs (active, stake_weight, consensus, incentive,
// dividends, validator_trust, emission, server_emission, validator_emission, validator_permit,
// bonds); empty when equal bit for bit. At most `limit` entries are listed.
std::vector<Mismatch> compareOutputs(const consensus::EpochOutput& stored,
                                     const consensus::EpochOutput& recomputed, std::size_t limit = 50);

// A validator's weight on the explained miner.
struct WeightOnMiner {
  std::uint16_t validator = 0;
  std::string hotkey;
  std::uint64_t stake = 0;      // the validator's total stake (rao)
  double activeStake = 0;       // its share of the active, permitted stake (sums to 1)
  std::uint16_t rawWeight = 0;  // its stored weight value on the miner (u16, max-upscaled)
  double weight = 0;            // the weight as the epoch used it: its row normalised to 1
  double clippedWeight = 0;     // min(weight, consensus): what counted
  double clippedAway = 0;       // weight - clippedWeight
};

struct MinerExplanation {
  std::vector<WeightOnMiner> weights;  // permitted, active validators with a weight on it, by uid
  double consensus = 0;                // the stake-weighted median (kappa) of those weights
  std::uint16_t consensusU16 = 0;      // as stored
  double clippedAway = 0;              // Σ activeStake × clippedAway: the stake-weighted loss
  double rank = 0;                     // Σ activeStake × clippedWeight (before normalisation)
  std::uint32_t rankAmongMiners = 0;   // 1 = highest incentive among uids with incentive or weight
  std::uint32_t miners = 0;            // how many such uids
  std::uint16_t incentive = 0;         // u16, as stored
  std::uint64_t serverEmission = 0;    // rao paid as incentive
};

// The explained validator's weight on one miner, next to that miner's consensus.
struct WeightVsConsensus {
  std::uint16_t miner = 0;
  std::string hotkey;
  double weight = 0;       // normalised weight of the validator on the miner
  double consensus = 0;    // the miner's consensus
  double clippedAway = 0;  // max(0, weight - consensus)
  std::uint16_t incentive = 0;
};

// A bond of the explained validator on one miner: before (the stored input) and after (stored
// output) this epoch, u16 as stored.
struct BondMove {
  std::uint16_t miner = 0;
  std::uint16_t before = 0;
  std::uint16_t after = 0;
};

struct ValidatorExplanation {
  bool permit = false;                     // the stored permit that gated this epoch
  bool newPermit = false;                  // the permit stored for the next epoch
  double activeStake = 0;                  // its share of the active, permitted stake
  double weightClipped = 0;                // share of its (normalised) weight clipped away
  std::uint16_t validatorTrust = 0;        // u16 as stored (≈ 1 - weightClipped)
  double medianValidatorTrust = 0;         // among permitted validators with weights, for context
  std::vector<WeightVsConsensus> weights;  // every miner it weighted, by uid
  std::vector<BondMove> bonds;             // every miner with a bond before or after, by uid
  std::uint16_t dividends = 0;             // u16, as stored
  std::uint64_t validatorEmission = 0;     // rao paid as dividends
  // Plain-language hints of what would have raised its dividends, most effective first (e.g.
  // "uid 4: 0.3125 of your weight was above consensus 0.1250; ...").
  std::vector<std::string> advice;
};

struct Explanation {
  std::uint16_t netuid = 0;
  std::uint16_t uid = 0;
  std::string hotkey;
  std::uint64_t block = 0;        // the epoch's block
  std::uint64_t raoEmission = 0;  // what the epoch distributed
  bool active = false;
  std::uint64_t stake = 0;
  std::uint64_t emission = 0;        // combined, as stored
  bool verified = false;             // runEpoch(input) == stored output, bit for bit
  std::vector<Mismatch> mismatches;  // non-empty: the check failed (verified = false)
  // Set when the uid received weight or incentive (a miner), when it held a permit or has
  // weights (a validator); both may be set.
  std::optional<MinerExplanation> miner;
  std::optional<ValidatorExplanation> validator;
  std::vector<std::string> summary;  // short sentences, the text form's first lines
};

// Explains `uid` in a fetched epoch. Recomputes with consensus::runEpoch and compares (the
// result's `verified` and `mismatches`), then traces the epoch with the executable spec for the
// intermediate quantities. kNotFound if uid >= n; kInvalidArgument if the stored input fails
// validateEpochInput.
Result<Explanation> explainRecord(const EpochRecord& record, std::uint16_t uid);

// fetchEpoch + explainRecord.
Result<Explanation> explainUid(rpc::ChainClient& client, std::uint16_t netuid, std::uint16_t uid,
                               std::optional<std::uint64_t> block = std::nullopt);

// The --json form (keys documented in docs/OPERATIONS.md, "Explaining an epoch"); stable: keys
// are only ever added.
nlohmann::ordered_json explanationJson(const Explanation& e);

// The text form `merit explain` prints: words and numbers, several lines, ending in a newline.
std::string explanationText(const Explanation& e);

}  // namespace merit::explain
