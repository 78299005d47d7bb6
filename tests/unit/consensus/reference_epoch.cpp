#include "reference_epoch.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "merit/consensus/fixed.h"
#include "merit/consensus/math.h"

namespace merit::consensus::test {

namespace {

uint64_t saturatingAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<uint64_t>::max() : r;
}

uint64_t saturatingSub(uint64_t a, uint64_t b) {
  return a > b ? a - b : 0;
}

// 1 - I32F32(I64F64(bonds_moving_average) / I64F64(1e6)).
I32F32 emaAlpha(uint64_t bondsMovingAverage) {
  I64F64 bma = I64F64::fromU64(bondsMovingAverage).safeDiv(I64F64::fromU64(kBondsMovingAverageScale));
  return I32F32::one().saturatingSub(bma.toI32F32());
}

// floor(I96F32(share) * I96F32(rao)).
std::vector<uint64_t> toAmounts(const std::vector<I32F32>& shares, uint64_t raoEmission) {
  const I96F32 rao = I96F32::fromU64(raoEmission);
  std::vector<uint64_t> out(shares.size());
  for (std::size_t i = 0; i < shares.size(); ++i) {
    out[i] = I96F32::fromI32F32(shares[i]).saturatingMul(rao).toU64Saturating();
  }
  return out;
}

std::vector<uint16_t> toU16(const std::vector<I32F32>& v) {
  std::vector<uint16_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = fixedProportionToU16(v[i]);
  return out;
}

}  // namespace

Result<EpochOutput> referenceEpoch(const EpochInput& input) {
  MERIT_TRY(validateEpochInput(input));
  const Hyperparameters& hp = input.hyperparameters;
  const std::vector<NeuronInput>& neurons = input.neurons;
  const std::size_t n = neurons.size();
  const std::size_t owner = input.ownerUid ? *input.ownerUid : std::numeric_limits<std::size_t>::max();
  const bool hasOwner = input.ownerUid.has_value();

  // 4.1 activity
  std::vector<bool> inactive(n);
  for (std::size_t i = 0; i < n; ++i) {
    inactive[i] = saturatingAdd(neurons[i].lastUpdate, hp.activityCutoff) < input.currentBlock;
  }

  // 4.2 stake: threshold (owner exempt), inplace_normalize_64, narrow. Stakes are integers, so
  // I64F64 (f << 64).safe_div(T << 64) is floor((f << 64) / T).
  std::vector<uint64_t> filtered(n);
  UInt128 total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    filtered[i] = (owner != i && neurons[i].stake < hp.stakeThreshold) ? 0 : neurons[i].stake;
    total += filtered[i];
  }
  std::vector<I32F32> stake(n);
  for (std::size_t i = 0; i < n; ++i) {
    const UInt128 shifted = static_cast<UInt128>(filtered[i]) << 64;
    stake[i] = I64F64::fromBits(static_cast<Int128>(total == 0 ? shifted : shifted / total)).toI32F32();
  }

  // 4.3 permits (the stored ones gate this epoch)
  std::vector<bool> permit(n);
  for (std::size_t i = 0; i < n; ++i) permit[i] = neurons[i].validatorPermit;
  if (hasOwner) permit[owner] = true;
  std::vector<bool> newPermit = isTopkNonzero(stake, hp.maxAllowedValidators);
  if (hasOwner) newPermit[owner] = true;

  // 4.4 active stake
  std::vector<I32F32> activeStake = stake;
  for (std::size_t i = 0; i < n; ++i) {
    if (inactive[i] || !permit[i]) activeStake[i] = I32F32::zero();
  }
  inplaceNormalize(activeStake);

  // 4.5 weights
  SparseMatrix weights(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!permit[i]) continue;
    const NeuronInput& neuron = neurons[i];
    const uint64_t commitBlock =
        hp.commitReveal && neuron.commitBlock ? *neuron.commitBlock : std::numeric_limits<uint64_t>::max();
    for (const UidValue& w : neuron.weights) {
      const std::size_t j = w.uid;
      if (j == i && owner != i) continue;
      const uint64_t registered = neurons[j].blockAtRegistration;
      if (neuron.lastUpdate <= registered) continue;
      if (hp.commitReveal && commitBlock < registered) continue;
      weights[i].push_back({w.uid, I32F32::fromInt(w.value)});
    }
  }
  inplaceRowNormalizeSparse(weights);

  // 4.6 / 4.7 consensus, clipping, validator trust, incentive
  const I32F32 kappa = u16ProportionToFixed(hp.kappa);
  std::vector<I32F32> consensus = weightedMedianColSparse(activeStake, weights, n, kappa);
  SparseMatrix clipped = colClipSparse(weights, consensus);
  std::vector<I32F32> validatorTrust = rowSumSparse(clipped);
  std::vector<I32F32> incentive = matmulSparse(clipped, activeStake, n);
  inplaceNormalize(incentive);

  // 4.8 / 4.9 bonds and dividends
  SparseMatrix weightsForBonds =
      interpolateSparse(weights, clipped, n, u16ProportionToFixed(hp.bondsPenalty));
  const uint64_t lastTempo = input.lastMechanismStepBlock == 0
                                 ? saturatingSub(input.currentBlock, input.tempo)
                                 : saturatingAdd(input.lastMechanismStepBlock, 1);
  auto loadBonds = [&](bool proportion) {
    SparseMatrix bonds(n);
    for (std::size_t i = 0; i < n; ++i) {
      for (const UidValue& b : neurons[i].bonds) {
        if (lastTempo <= neurons[b.uid].blockAtRegistration) continue;
        const I32F32 v = I32F32::fromInt(b.value);
        bonds[i].push_back({b.uid, proportion ? v.safeDiv(I32F32::fromInt(kU16Max)) : v});
      }
    }
    return bonds;
  };

  std::vector<I32F32> dividends;
  SparseMatrix storedBonds;
  if (hp.yuma3) {
    SparseMatrix bonds = loadBonds(true);
    const bool anyConsensus =
        std::any_of(consensus.begin(), consensus.end(), [](I32F32 c) { return c != I32F32::zero(); });
    SparseMatrix ema;
    if (hp.liquidAlpha && anyConsensus) {
      // The dense alpha matrix of compute_liquid_alpha_values_sparse, then mat_ema_alpha_sparse.
      const auto alpha = liquidAlphaValuesSparse(
          weightsForBonds, bonds, consensus, u16ProportionToFixed(hp.alphaLow),
          u16ProportionToFixed(hp.alphaHigh), I32F32::fromInt(hp.alphaSigmoidSteepness));
      ema = matEmaAlphaSparse(weightsForBonds, bonds, alpha);
    } else {
      ema = matEmaSparse(weightsForBonds, bonds, emaAlpha(hp.bondsMovingAverage));
    }
    SparseMatrix emaNorm = ema;
    inplaceColNormalizeSparse(emaNorm, n);
    std::vector<I32F32> bondsPerValidator = rowSumSparse(matVecMulSparse(emaNorm, incentive));
    dividends = vecMul(bondsPerValidator, activeStake);
    inplaceNormalize(dividends);
    storedBonds = std::move(ema);
  } else {
    SparseMatrix bonds = loadBonds(false);
    inplaceColNormalizeSparse(bonds, n);
    SparseMatrix delta = rowHadamardSparse(weightsForBonds, activeStake);
    inplaceColNormalizeSparse(delta, n);
    SparseMatrix ema = matEmaSparse(delta, bonds, emaAlpha(hp.bondsMovingAverage));
    inplaceColNormalizeSparse(ema, n);
    dividends = matmulTransposeSparse(ema, incentive);
    inplaceNormalize(dividends);
    inplaceColMaxUpscaleSparse(ema, n);
    storedBonds = std::move(ema);
  }

  // 4.8b emission split
  std::vector<I32F32> combined(n);
  for (std::size_t i = 0; i < n; ++i) combined[i] = incentive[i].saturatingAdd(dividends[i]);
  const I32F32 emissionSum = sum(combined);
  std::vector<I32F32> serverShare = incentive;
  std::vector<I32F32> validatorShare = dividends;
  std::vector<I32F32> combinedShare = combined;
  inplaceNormalizeUsingSum(serverShare, emissionSum);
  inplaceNormalizeUsingSum(validatorShare, emissionSum);
  inplaceNormalize(combinedShare);
  if (emissionSum == I32F32::zero()) {
    const std::vector<I32F32>& fallback = isZero(activeStake) ? stake : activeStake;
    validatorShare = fallback;
    combinedShare = fallback;
  }

  // 4.10 outputs
  EpochOutput out;
  out.active.resize(n);
  for (std::size_t i = 0; i < n; ++i) out.active[i] = !inactive[i];
  out.stakeWeight = toU16(stake);
  out.consensus = toU16(consensus);
  out.incentive = toU16(incentive);
  out.dividends = toU16(dividends);
  out.validatorTrust = toU16(validatorTrust);
  out.emission = toAmounts(combinedShare, input.raoEmission);
  out.serverEmission = toAmounts(serverShare, input.raoEmission);
  out.validatorEmission = toAmounts(validatorShare, input.raoEmission);
  out.validatorPermit = newPermit;
  out.bonds.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!newPermit[i]) continue;
    for (const SparseEntry& e : storedBonds[i])
      out.bonds[i].push_back({e.col, fixedProportionToU16(e.value)});
  }
  return out;
}

}  // namespace merit::consensus::test
