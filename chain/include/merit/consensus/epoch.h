// The Yuma Consensus epoch of one subnet: subtensor's HEAD sparse `epoch_mechanism`
// (spec yuma.md §4), bit-exact, in stored units (u16 proportions, u64 amounts).
//
// Thread-safety: pure functions on values; no shared state. Safe to call from any thread.
//
// The caller (the chain, or `merit yuma epoch`) gathers one epoch's state into an EpochInput,
// calls runEpoch, and persists the EpochOutput: `validatorPermit` becomes the stored permits and
// `bonds` the stored bond rows for the next epoch. Multi-epoch behaviour therefore only needs the
// caller to carry those two fields (and last_update / registration blocks) forward.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "merit/util/result.h"

namespace merit::consensus {

// Upper bound on neurons per subnet. It keeps every intermediate sum of u16 weights and bonds
// inside I32F32 (4096 * 65535 < 2^31), and it is subtensor's historical MaxAllowedUids.
inline constexpr std::size_t kMaxNeurons = 4096;
// Inputs with total stake at or above this are rejected (I64F64 holds integers below 2^63).
inline constexpr uint64_t kMaxTotalStake = uint64_t{1} << 63;
inline constexpr uint64_t kBondsMovingAverageScale = 1'000'000;

// One (uid, value) pair of a stored weight or bond row.
struct UidValue {
  uint16_t uid = 0;
  uint16_t value = 0;
  friend bool operator==(const UidValue&, const UidValue&) = default;
};

struct Hyperparameters {
  uint16_t kappa = 32767;                 // consensus majority, u16 proportion
  uint16_t bondsPenalty = 65535;          // 0: bonds follow raw weights, 65535: clipped weights
  uint64_t bondsMovingAverage = 900'000;  // per million; EMA alpha = 1 - this/1e6
  bool yuma3 = false;                     // Yuma 3 bonds (Yuma3On)
  bool liquidAlpha = false;               // per-(i,j) alpha (Yuma 3 only here, as in HEAD)
  uint16_t alphaLow = 45875;              // u16 proportion
  uint16_t alphaHigh = 58982;             // u16 proportion
  int16_t alphaSigmoidSteepness = 1000;
  uint64_t activityCutoff = 5000;  // blocks
  uint16_t maxAllowedValidators = 64;
  uint64_t stakeThreshold = 0;  // raw stake below this gets no stake weight
  bool commitReveal = false;    // apply the commit-block column mask
};

struct NeuronInput {
  uint64_t stake = 0;       // total stake (RAO), integer valued
  uint64_t lastUpdate = 0;  // block of the last set_weights (or commit)
  uint64_t blockAtRegistration = 0;
  bool validatorPermit = false;         // stored permit from the previous epoch
  std::vector<UidValue> weights;        // stored, max-upscaled, caller order, zeros kept
  std::vector<UidValue> bonds;          // stored bond row
  std::optional<uint64_t> commitBlock;  // earliest live commit block (commit-reveal only)
};

struct EpochInput {
  uint64_t currentBlock = 0;
  uint16_t tempo = 0;
  uint64_t raoEmission = 0;             // amount distributed by this epoch
  uint64_t lastMechanismStepBlock = 0;  // 0 = no epoch recorded yet
  std::optional<uint16_t> ownerUid;     // uid of the subnet owner's hotkey, if registered
  Hyperparameters hyperparameters;
  std::vector<NeuronInput> neurons;  // uid = index
};

struct EpochOutput {
  std::vector<bool> active;
  std::vector<uint16_t> stakeWeight;
  std::vector<uint16_t> consensus;
  std::vector<uint16_t> incentive;
  std::vector<uint16_t> dividends;
  std::vector<uint16_t> validatorTrust;
  std::vector<uint64_t> emission;            // combined, as stored in `Emission`
  std::vector<uint64_t> serverEmission;      // miners' share, paid as incentive
  std::vector<uint64_t> validatorEmission;   // validators' share, paid as dividends
  std::vector<bool> validatorPermit;         // new permits, for the next epoch
  std::vector<std::vector<UidValue>> bonds;  // new stored bond rows (empty without a new permit)
};

// Checks the contracts runEpoch relies on; the error names the offending field with the JSON
// path used by `merit yuma epoch` (e.g. "neurons[3].weights[1]: uid 9 >= n 5"). Rejected: more
// than kMaxNeurons neurons, uids >= n, duplicate uids within a row, owner uid >= n,
// bonds_moving_average > 1e6, kappa/penalty/alpha order (alpha_low > alpha_high), total stake >= 2^63.
Result<void> validateEpochInput(const EpochInput& input);

// Runs one epoch. Returns the validation error for inputs validateEpochInput rejects.
Result<EpochOutput> runEpoch(const EpochInput& input);

// Reusable working memory for runEpoch: the epoch's intermediate matrices, about 10 bytes per
// weight entry (normalised weights, EMA) plus 4 per old bond entry, so ~24 MB at 4096 neurons
// with 256 dense validator rows, below 1 GB in the worst case (kMaxNeurons neurons, every one a
// validator with a dense row). It grows to the largest epoch it has run and keeps that size. Keeping one
// between epochs avoids mapping fresh memory, and a page fault per 4 KiB page written, on every call
// (runEpoch(input) pays them: docs/PERFORMANCE.md). The one thing it carries from one epoch to the next
// is liquid alpha's proven brackets (LiquidAlphaGrid, math.h) for the last few hyperparameter sets, a
// cache of exact values, so results never depend on it. Not thread-safe: one epoch at a time per
// workspace.
class EpochWorkspace {
 public:
  EpochWorkspace();
  ~EpochWorkspace();
  EpochWorkspace(EpochWorkspace&&) noexcept;
  EpochWorkspace& operator=(EpochWorkspace&&) noexcept;
  EpochWorkspace(const EpochWorkspace&) = delete;
  EpochWorkspace& operator=(const EpochWorkspace&) = delete;

  struct Buffers;  // defined in epoch.cpp

 private:
  friend Result<EpochOutput> runEpoch(const EpochInput& input, EpochWorkspace& workspace);
  std::unique_ptr<Buffers> m_buffers;
};

// runEpoch(input) with caller-owned working memory; same results.
Result<EpochOutput> runEpoch(const EpochInput& input, EpochWorkspace& workspace);

// Whether runEpoch may use the CPU's vector units where it has them (AVX2 on x86-64, for the
// medians' scans); allowed by default. Results are the same either way: tests turn it off to run
// the portable code on the same inputs. Affects epochs started afterwards, in every thread.
void setVectorUnitsAllowed(bool allowed);

// HEAD activity cutoff in blocks: max(1, floor(factorMilli * tempo / 1000)); factor default 13889.
uint64_t activityCutoffBlocks(uint64_t factorMilli, uint16_t tempo);

}  // namespace merit::consensus
