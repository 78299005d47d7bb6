// The executable spec of the Yuma epoch: spec yuma.md §4 written as a plain composition, one
// whole-vector or whole-matrix step after another in the order the spec lists them, with no
// fused passes, no workspace and no fast path.
//
// It exists to be read next to the spec and to check merit_consensus's optimised runEpoch
// (the differential tests in tests/unit/consensus compare every output field on random inputs
// and on the spec's test vectors). To be able to catch a bug in the fast code it shares none of
// it: no stage function and no emission tail. It uses the fixed-point types of fixed.h (the
// numeric model of spec §1), the shared input contract (validateEpochInput), and the sparse
// matrix helpers of math.h that the fast epoch never calls, each the definition of the math.rs
// function of the same name (spec §2, tested against its vectors in math_test.cpp). The vector
// helpers the fast epoch does call (normalisation, sums, top-k, u16 and amount conversions) and
// the liquid-alpha sigmoid are written again here from spec §1, §2 and §4.9, with plain safe_div
// and no reciprocal tricks.
//
// Slow on purpose: O(n^2) memory for the liquid-alpha matrix, several copies of each matrix.
// Not for the chain's runtime.
//
// Thread-safety: a pure function on values; no shared state.
#pragma once

#include <vector>

#include "merit/consensus/epoch.h"
#include "merit/consensus/fixed.h"
#include "merit/consensus/math.h"
#include "merit/util/result.h"

namespace merit::consensus_spec {

// Same contract and results as consensus::runEpoch: the validation error of validateEpochInput
// for inputs it rejects, else the epoch's outputs in stored units.
Result<consensus::EpochOutput> specEpoch(const consensus::EpochInput& input);

// The epoch's intermediate quantities, in the spec's own fixed-point values (spec §4 names), for
// tools that explain an epoch (merit_explain). Computing them does not change any result:
// `output` is exactly specEpoch's.
struct EpochTrace {
  consensus::EpochOutput output;
  std::vector<bool> permit;                       // 4.3: the stored permits that gate this epoch
  std::vector<consensus::I32F32> stake;           // 4.2: S, normalised total stake
  std::vector<consensus::I32F32> activeStake;     // 4.4: A
  consensus::SparseMatrix weights;                // 4.5: W, the rows the epoch used, normalised
  std::vector<consensus::I32F32> consensus;       // 4.6: C, the stake-weighted median per column
  consensus::SparseMatrix clipped;                // 4.6: Wc = min(W, C) per entry
  std::vector<consensus::I32F32> validatorTrust;  // row sums of Wc
  std::vector<consensus::I32F32> rank;            // 4.7: R = Wc^T A, before normalisation
  std::vector<consensus::I32F32> incentive;       // 4.7: I = R normalised
  std::vector<consensus::I32F32> dividends;       // 4.8: D
};

// specEpoch, keeping the intermediates. Same validation error for rejected inputs.
Result<EpochTrace> specEpochTrace(const consensus::EpochInput& input);

}  // namespace merit::consensus_spec
