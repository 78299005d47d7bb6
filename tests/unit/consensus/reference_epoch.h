// A test-only reference of the Yuma epoch: spec yuma.md §4 written as a plain composition of the
// math.h functions, one whole-matrix step after another, exactly as the spec lists them (no fused
// passes, no workspace, no fast paths of its own). The optimised runEpoch must produce the same
// EpochOutput for every input; reference_test.cpp checks that on random inputs.
//
// Thread-safety: pure function on values.
#pragma once

#include "merit/consensus/epoch.h"

namespace merit::consensus::test {

// Same contract as runEpoch: validation errors for inputs validateEpochInput rejects.
Result<EpochOutput> referenceEpoch(const EpochInput& input);

}  // namespace merit::consensus::test
