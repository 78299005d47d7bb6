// A subnet's hyperparameters as a client sees them, typed: what the miner, the validator and the
// CLI read from rpc::Metagraph, whichever backend filled it (merit-chain's metagraph_get JSON, or
// subtensor's storage items, docs/SUBTENSOR.md).
//
// Names are merit-chain's (docs/RPC.md subnet_get). A field the chain does not report keeps the
// default written here, which is merit-chain's own default (configs/chain.yaml subnet_defaults),
// so every reader of a parameter uses one default from one place.
//
// Thread-safety: a value.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "merit/tx/extrinsic.h"
#include "merit/util/result.h"

namespace merit::rpc {

struct SubnetParams {
  // Epochs and consensus.
  std::uint16_t tempo = 360;  // blocks between epochs
  std::uint16_t kappa = 32767;
  std::uint16_t rho = 10;  // subtensor only
  std::uint64_t bondsMovingAverage = 900'000;
  std::uint16_t bondsPenalty = 65535;
  bool yuma3 = false;
  bool liquidAlpha = false;
  std::uint16_t alphaLow = 45875;
  std::uint16_t alphaHigh = 58982;
  std::uint64_t activityCutoff = 5000;  // blocks
  std::uint16_t maxAllowedValidators = 64;
  // Membership and registration.
  std::uint16_t maxAllowedUids = 256;
  std::uint64_t immunityPeriod = 5000;  // blocks
  std::uint64_t targetRegistrationsPerInterval = 2;
  std::uint64_t adjustmentInterval = 100;  // blocks
  tx::Balance minBurn = 500'000;
  tx::Balance maxBurn = 100 * tx::kRaoPerMerit;
  bool registrationAllowed = true;
  // Weights.
  std::uint64_t weightsRateLimit = 100;  // blocks between a neuron's weights
  std::uint16_t minAllowedWeights = 1;
  std::uint16_t maxWeightLimit = 65535;
  std::uint64_t weightsVersionKey = 0;
  bool commitReveal = false;
  std::uint64_t revealPeriodEpochs = 1;
  tx::Balance stakeThreshold = 0;  // rao of stake needed to set weights
  // Serving.
  std::uint64_t servingRateLimit = 50;  // blocks between a neuron's serve_axon calls

  // Sets the parameter called `name` (merit-chain's name) from a chain's integer. Returns false
  // for a name this struct does not have (a chain may expose more); kInvalidArgument when the
  // value does not fit the parameter's type (a u16 above 65535, a flag other than 0 or 1).
  Result<bool> set(std::string_view name, std::uint64_t value);
  // Every parameter as (name, value) in the order above, for printing.
  void forEach(const std::function<void(std::string_view name, std::uint64_t value)>& f) const;

  friend bool operator==(const SubnetParams&, const SubnetParams&) = default;
};

}  // namespace merit::rpc
