// Emission: the per-block TAO emission with halvings, the classic (pre-dTAO) root-network epoch
// that turns root validators' weights into each subnet's per-block emission, and the subnet
// owner's cut (spec yuma.md §8.1, §8.3), bit-exact with subtensor.
//
// Thread-safety: pure functions on values; no shared state.
#pragma once

#include <cstdint>
#include <vector>

#include "merit/util/result.h"

namespace merit::consensus {

inline constexpr uint64_t kDefaultBlockEmission = 1'000'000'000;  // 1 TAO per block, in RAO
inline constexpr uint64_t kTotalSupply = 21'000'000'000'000'000;  // 21M TAO, in RAO
inline constexpr uint16_t kDefaultSubnetOwnerCut = 11'796;        // u16 proportion, ~18%

// get_block_emission_for_issuance: floor(base / 2^k) with k = floor(log2(1 / (1 - issuance /
// 21e15))) computed in I96F32 with substrate-fixed's log2; 0 once issuance >= kTotalSupply.
// So `base` until 10.5M TAO are issued, base/2 after, and so on.
uint64_t blockEmission(uint64_t totalIssuance, uint64_t base = kDefaultBlockEmission);

// The subnet owner's part of an epoch's emission: floor(emission * (cut / 65535)) in I96F32.
// The epoch then distributes emission - ownerCut(...).
uint64_t ownerCut(uint64_t emission, uint16_t cut = kDefaultSubnetOwnerCut);

struct RootEpochInput {
  // Total stake of each root validator (RAO); sum below 2^63.
  std::vector<uint64_t> stake;
  // weights[i][k]: root validator i's u16 weight on the k-th subnet (0 = none); every row has
  // one entry per subnet.
  std::vector<std::vector<uint16_t>> weights;
  uint16_t kappa = 32767;  // Kappa of the root network
  uint16_t rho = 10;       // Rho of the root network
  uint64_t blockEmission = kDefaultBlockEmission;
};

// root_epoch: per-block emission (RAO) of each subnet, in subnet order:
//   S = normalise(stake) (I64F64), W = row-normalised weights, rank_k = sum_i W_ik S_i,
//   trust_k = sum_{i: W_ik > 0} S_i / sum S, consensus_k = 1 / (1 + exp(-rho (trust_k - kappa))),
//   E = normalise(consensus * rank) * blockEmission.
// Errors (as the chain's): no validators, no subnets, rows of the wrong length, no stake.
Result<std::vector<uint64_t>> rootEpoch(const RootEpochInput& input);

}  // namespace merit::consensus
