#include "merit/consensus/emission.h"

#include <string>

#include "merit/consensus/fixed.h"

namespace merit::consensus {

namespace {

// Divisor of the halving formula: 2 * 10.5e15 (written that way in subtensor).
constexpr uint64_t kHalvingDenominator = 2 * 10'500'000'000'000'000ULL;

void normalize64(std::vector<I64F64>& x) {
  I64F64 total;
  for (const I64F64& v : x) total = total.saturatingAdd(v);
  if (total == I64F64::zero()) return;
  for (I64F64& v : x) v = v.saturatingDiv(total);
}

}  // namespace

uint64_t blockEmission(uint64_t totalIssuance, uint64_t base) {
  if (totalIssuance >= kTotalSupply) return 0;
  // ratio = 1 / (1 - issuance / 21e15), every step an I96F32 checked division.
  const I96F32 one = I96F32::one();
  auto fraction = I96F32::fromU64(totalIssuance).checkedDiv(I96F32::fromU64(kHalvingDenominator));
  if (!fraction) return 0;  // unreachable for u64 inputs; the chain treats Err as no emission
  auto ratio = one.checkedDiv(one.saturatingSub(*fraction));
  if (!ratio) return 0;
  // substrate-fixed log2 (operand >= 1): the integer part counts halvings while x >= 2, where
  // each halving rounds half up: x = (x >> 1) + (x & lsb). floor() of the result is that count.
  UInt128 x = static_cast<UInt128>(ratio->bits());
  const UInt128 two = UInt128{2} << I96F32::kFracBits;
  uint64_t halvings = 0;
  while (x >= two) {
    x = (x >> 1) + (x & 1);
    ++halvings;
  }
  I96F32 multiplier = one;
  for (uint64_t i = 0; i < halvings; ++i) multiplier = multiplier.saturatingMul(I96F32::fromU64(2));
  I96F32 percentage = one.safeDiv(multiplier);
  return percentage.saturatingMul(I96F32::fromU64(base)).toU64Saturating();
}

uint64_t ownerCut(uint64_t emission, uint16_t cut) {
  I96F32 fraction = I96F32::fromU64(cut).saturatingDiv(I96F32::fromU64(65535));
  return I96F32::fromU64(emission).saturatingMul(fraction).toU64Saturating();
}

Result<std::vector<uint64_t>> rootEpoch(const RootEpochInput& input) {
  const std::size_t n = input.stake.size();
  if (n == 0)
    return fail(ErrorCode::kInvalidArgument, "root epoch: no validators to validate emission values");
  if (input.weights.size() != n) {
    return fail(ErrorCode::kInvalidArgument, "root epoch: " + std::to_string(input.weights.size()) +
                                                 " weight rows for " + std::to_string(n) + " validators");
  }
  const std::size_t k = input.weights[0].size();
  if (k == 0) return fail(ErrorCode::kInvalidArgument, "root epoch: no networks to validate emission values");
  uint64_t totalRaw = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (input.weights[i].size() != k) {
      return fail(ErrorCode::kInvalidArgument, "root epoch: weights[" + std::to_string(i) + "] has " +
                                                   std::to_string(input.weights[i].size()) +
                                                   " entries, expected " + std::to_string(k));
    }
    if (__builtin_add_overflow(totalRaw, input.stake[i], &totalRaw) || totalRaw >= (uint64_t{1} << 63)) {
      return fail(ErrorCode::kInvalidArgument, "root epoch: total stake reaches 2^63");
    }
  }

  std::vector<I64F64> stake(n);
  for (std::size_t i = 0; i < n; ++i) stake[i] = I64F64::fromU64(input.stake[i]);
  normalize64(stake);

  std::vector<std::vector<I64F64>> weights(n, std::vector<I64F64>(k));
  for (std::size_t i = 0; i < n; ++i) {
    I64F64 rowSum;
    for (std::size_t j = 0; j < k; ++j) {
      weights[i][j] = I64F64::fromU64(input.weights[i][j]);
      rowSum = rowSum.saturatingAdd(weights[i][j]);
    }
    if (rowSum > I64F64::zero()) {
      for (I64F64& w : weights[i]) w = w.saturatingDiv(rowSum);
    }
  }

  // rank_j = sum_i s_i * w_ij ; trust_j = stake of validators with w_ij > 0.
  std::vector<I64F64> ranks(k);
  std::vector<I64F64> trust(k);
  I64F64 totalStake;
  for (std::size_t i = 0; i < n; ++i) {
    totalStake = totalStake.saturatingAdd(stake[i]);
    for (std::size_t j = 0; j < k; ++j) {
      ranks[j] = ranks[j].saturatingAdd(stake[i].saturatingMul(weights[i][j]));
      if (weights[i][j] > I64F64::zero()) trust[j] = trust[j].saturatingAdd(stake[i]);
    }
  }
  if (totalStake == I64F64::zero())
    return fail(ErrorCode::kInvalidArgument, "root epoch: no stake on network");
  for (I64F64& t : trust) {
    if (auto q = t.checkedDiv(totalStake)) t = *q;
  }

  // get_float_kappa: I32F32(kappa).saturating_div(I32F32(65535)), widened.
  const I64F64 kappa = I64F64::fromI32F32(I32F32::fromInt(input.kappa).saturatingDiv(I32F32::fromInt(65535)));
  const I64F64 rho = I64F64::fromU64(input.rho);
  const I64F64 one = I64F64::one();
  std::vector<I64F64> weighted(k);
  for (std::size_t j = 0; j < k; ++j) {
    I64F64 temperatured = trust[j].saturatingSub(kappa).saturatingMul(rho);
    auto e = fixedExp(temperatured.saturatingNeg());
    if (!e) return fail(ErrorCode::kInternal, "root epoch: exp overflow (rho too large)");
    I64F64 consensus = one.saturatingDiv(one.saturatingAdd(*e));
    weighted[j] = consensus.saturatingMul(ranks[j]);
  }
  normalize64(weighted);

  const I64F64 emission = I64F64::fromU64(input.blockEmission);
  std::vector<uint64_t> out(k);
  for (std::size_t j = 0; j < k; ++j) out[j] = weighted[j].saturatingMul(emission).toU64Saturating();
  return out;
}

}  // namespace merit::consensus
