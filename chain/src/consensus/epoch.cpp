#include "merit/consensus/epoch.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "merit/consensus/fixed.h"
#include "merit/consensus/math.h"

namespace merit::consensus {

namespace {

uint64_t saturatingAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<uint64_t>::max() : r;
}

uint64_t saturatingSub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

Result<void> validateRow(const std::vector<UidValue>& row, std::size_t n, const std::string& path,
                         std::vector<bool>& seen) {
  std::fill(seen.begin(), seen.end(), false);
  for (std::size_t k = 0; k < row.size(); ++k) {
    uint16_t uid = row[k].uid;
    if (uid >= n) {
      return fail(ErrorCode::kInvalidArgument, path + "[" + std::to_string(k) + "]: uid " + std::to_string(uid) +
                                                   " >= n " + std::to_string(n));
    }
    if (seen[uid]) {
      return fail(ErrorCode::kInvalidArgument,
                  path + "[" + std::to_string(k) + "]: duplicate uid " + std::to_string(uid));
    }
    seen[uid] = true;
  }
  return {};
}

// I64F64(bonds_moving_average) / I64F64(1e6), narrowed to I32F32, subtracted from 1.
I32F32 emaAlpha(uint64_t bondsMovingAverage) {
  I64F64 bma = I64F64::fromU64(bondsMovingAverage).safeDiv(I64F64::fromU64(kBondsMovingAverageScale));
  return I32F32::one().saturatingSub(bma.toI32F32());
}

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

uint64_t activityCutoffBlocks(uint64_t factorMilli, uint16_t tempo) {
  uint64_t blocks = static_cast<uint64_t>((static_cast<UInt128>(factorMilli) * tempo) / 1000);
  return std::max<uint64_t>(1, blocks);
}

Result<void> validateEpochInput(const EpochInput& input) {
  const std::size_t n = input.neurons.size();
  const Hyperparameters& hp = input.hyperparameters;
  if (n > kMaxNeurons) {
    return fail(ErrorCode::kInvalidArgument,
                "neurons: " + std::to_string(n) + " neurons, at most " + std::to_string(kMaxNeurons));
  }
  if (input.ownerUid && *input.ownerUid >= n) {
    return fail(ErrorCode::kInvalidArgument,
                "owner_uid: " + std::to_string(*input.ownerUid) + " >= n " + std::to_string(n));
  }
  if (hp.bondsMovingAverage > kBondsMovingAverageScale) {
    return fail(ErrorCode::kInvalidArgument, "hyperparameters.bonds_moving_average: " +
                                                 std::to_string(hp.bondsMovingAverage) + " > 1000000");
  }
  if (hp.alphaLow > hp.alphaHigh) {
    return fail(ErrorCode::kInvalidArgument, "hyperparameters.alpha_low: " + std::to_string(hp.alphaLow) +
                                                 " > alpha_high " + std::to_string(hp.alphaHigh));
  }
  uint64_t totalStake = 0;
  std::vector<bool> seen(n);
  for (std::size_t i = 0; i < n; ++i) {
    const NeuronInput& neuron = input.neurons[i];
    const std::string path = "neurons[" + std::to_string(i) + "]";
    if (__builtin_add_overflow(totalStake, neuron.stake, &totalStake) || totalStake >= kMaxTotalStake) {
      return fail(ErrorCode::kInvalidArgument, path + ".stake: total stake reaches 2^63");
    }
    MERIT_TRY(validateRow(neuron.weights, n, path + ".weights", seen));
    MERIT_TRY(validateRow(neuron.bonds, n, path + ".bonds", seen));
  }
  return {};
}

Result<EpochOutput> runEpoch(const EpochInput& input) {
  MERIT_TRY(validateEpochInput(input));
  const Hyperparameters& hp = input.hyperparameters;
  const std::vector<NeuronInput>& neurons = input.neurons;
  const std::size_t n = neurons.size();
  // The owner's uid, or a value no uid equals.
  const std::size_t owner = input.ownerUid ? *input.ownerUid : std::numeric_limits<std::size_t>::max();
  const bool hasOwner = input.ownerUid.has_value();

  // ---- activity ----
  std::vector<bool> inactive(n);
  for (std::size_t i = 0; i < n; ++i) {
    inactive[i] = saturatingAdd(neurons[i].lastUpdate, hp.activityCutoff) < input.currentBlock;
  }

  // ---- stake: filter by threshold (owner exempt), normalise in I64F64, narrow to I32F32 ----
  // Stakes are integers, so I64F64 safe_div(f<<64, T<<64) equals floor((f << 64) / T) exactly.
  std::vector<uint64_t> filtered(n);
  UInt128 total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    bool exempt = owner == i;
    filtered[i] = (!exempt && neurons[i].stake < hp.stakeThreshold) ? 0 : neurons[i].stake;
    total += filtered[i];
  }
  std::vector<I32F32> stake(n);
  for (std::size_t i = 0; i < n; ++i) {
    Int128 bits64 = total == 0 ? static_cast<Int128>(static_cast<UInt128>(filtered[i]) << 64)
                               : static_cast<Int128>((static_cast<UInt128>(filtered[i]) << 64) / total);
    stake[i] = I64F64::fromBits(bits64).toI32F32();
  }

  // ---- validator permits: the stored (old) permits gate this epoch ----
  std::vector<bool> permit(n);
  for (std::size_t i = 0; i < n; ++i) permit[i] = neurons[i].validatorPermit;
  if (hasOwner) permit[owner] = true;
  std::vector<bool> newPermit = isTopkNonzero(stake, hp.maxAllowedValidators);
  if (hasOwner) newPermit[owner] = true;

  // ---- active stake ----
  std::vector<I32F32> activeStake = stake;
  for (std::size_t i = 0; i < n; ++i) {
    if (inactive[i] || !permit[i]) activeStake[i] = I32F32::zero();
  }
  inplaceNormalize(activeStake);

  // ---- weights: permit rows, diagonal (owner's kept), outdated, commit-reveal, normalise ----
  SparseMatrix weights(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!permit[i]) continue;
    const NeuronInput& neuron = neurons[i];
    const uint64_t commitBlock =
        hp.commitReveal && neuron.commitBlock ? *neuron.commitBlock : std::numeric_limits<uint64_t>::max();
    SparseRow& row = weights[i];
    row.reserve(neuron.weights.size());
    for (const UidValue& w : neuron.weights) {
      const std::size_t j = w.uid;
      if (j == i && owner != i) continue;  // self-weight, except the owner's
      const uint64_t registered = neurons[j].blockAtRegistration;
      if (neuron.lastUpdate <= registered) continue;           // set before j (re)registered
      if (hp.commitReveal && commitBlock < registered) continue;  // committed before j registered
      row.push_back({w.uid, I32F32::fromInt(w.value)});
    }
  }
  inplaceRowNormalizeSparse(weights);

  // ---- consensus, clipping, validator trust, incentive ----
  const I32F32 kappa = u16ProportionToFixed(hp.kappa);
  std::vector<I32F32> consensus = weightedMedianColSparse(activeStake, weights, n, kappa);
  SparseMatrix clipped = colClipSparse(weights, consensus);
  std::vector<I32F32> validatorTrust = rowSumSparse(clipped);
  std::vector<I32F32> incentive = matmulSparse(clipped, activeStake, n);
  inplaceNormalize(incentive);

  // ---- bonds and dividends ----
  const I32F32 bondsPenalty = u16ProportionToFixed(hp.bondsPenalty);
  SparseMatrix weightsForBonds = interpolateSparse(weights, clipped, n, bondsPenalty);
  const uint64_t lastTempo = input.lastMechanismStepBlock == 0
                                 ? saturatingSub(input.currentBlock, input.tempo)
                                 : saturatingAdd(input.lastMechanismStepBlock, 1);
  // Old bonds to a uid registered since the last epoch are dropped.
  const I32F32Divisor u16Max(I32F32::fromInt(kU16Max));
  auto loadBonds = [&](bool proportion) {
    SparseMatrix bonds(n);
    for (std::size_t i = 0; i < n; ++i) {
      for (const UidValue& b : neurons[i].bonds) {
        if (lastTempo <= neurons[b.uid].blockAtRegistration) continue;
        I32F32 v = I32F32::fromInt(b.value);
        bonds[i].push_back({b.uid, proportion ? u16Max.safeDivide(v) : v});
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
      ema = matEmaLiquidAlphaSparse(weightsForBonds, bonds, consensus, u16ProportionToFixed(hp.alphaLow),
                                    u16ProportionToFixed(hp.alphaHigh), I32F32::fromInt(hp.alphaSigmoidSteepness));
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

  // ---- emission split ----
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
    // No valid weights at all: pay by (active) stake so emission is never lost.
    const std::vector<I32F32>& fallback = isZero(activeStake) ? stake : activeStake;
    validatorShare = fallback;
    combinedShare = fallback;
  }

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
    out.bonds[i].reserve(storedBonds[i].size());
    for (const SparseEntry& e : storedBonds[i]) out.bonds[i].push_back({e.col, fixedProportionToU16(e.value)});
  }
  return out;
}

}  // namespace merit::consensus
