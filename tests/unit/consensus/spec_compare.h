// The differential check the consensus tests share: runEpoch's output against the executable
// spec's (merit_consensus_spec), field by field, so a failure names the field that differs.
//
// Thread-safety: single-threaded test helper (doctest assertions).
#pragma once

#include <doctest/doctest.h>

#include "merit/consensus/epoch.h"
#include "merit/consensus_spec/epoch.h"

namespace merit::consensus::test {

inline void checkSameOutput(const EpochOutput& fast, const EpochOutput& spec) {
  CHECK(fast.active == spec.active);
  CHECK(fast.stakeWeight == spec.stakeWeight);
  CHECK(fast.consensus == spec.consensus);
  CHECK(fast.incentive == spec.incentive);
  CHECK(fast.dividends == spec.dividends);
  CHECK(fast.validatorTrust == spec.validatorTrust);
  CHECK(fast.emission == spec.emission);
  CHECK(fast.serverEmission == spec.serverEmission);
  CHECK(fast.validatorEmission == spec.validatorEmission);
  CHECK(fast.validatorPermit == spec.validatorPermit);
  CHECK(fast.bonds == spec.bonds);
}

// runEpoch(in) against specEpoch(in): both fail alike or both produce the same output.
inline void checkAgainstSpec(const EpochInput& in, const Result<EpochOutput>& fast) {
  auto spec = consensus_spec::specEpoch(in);
  REQUIRE(fast.has_value() == spec.has_value());
  if (fast) checkSameOutput(*fast, *spec);
}

}  // namespace merit::consensus::test
