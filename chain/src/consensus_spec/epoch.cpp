#include "merit/consensus_spec/epoch.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <vector>

#include "merit/consensus/fixed.h"
#include "merit/consensus/math.h"

namespace merit::consensus_spec {

using consensus::EpochInput;
using consensus::EpochOutput;
using consensus::Hyperparameters;
using consensus::I32F32;
using consensus::I64F64;
using consensus::I96F32;
using consensus::Int128;
using consensus::NeuronInput;
using consensus::SparseEntry;
using consensus::SparseMatrix;
using consensus::UidValue;
using consensus::UInt128;
using Vector = std::vector<I32F32>;

namespace {

// ---- spec §1 and §2 vector helpers, written from the spec's text ----

constexpr int64_t kU16Max = 65535;

uint64_t saturatingAddU64(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<uint64_t>::max() : r;
}

uint64_t saturatingSubU64(uint64_t a, uint64_t b) {
  return a > b ? a - b : 0;
}

// `iter().sum()` of I32F32 values, saturating (exact for the epoch's bounded values).
I32F32 sumOf(const Vector& x) {
  I32F32 s;
  for (I32F32 v : x) s = s.saturatingAdd(v);
  return s;
}

// inplace_normalize_using_sum: x_i = x_i.safe_div(s), unchanged when s == 0.
void normalizeUsingSum(Vector& x, I32F32 s) {
  if (s == I32F32::zero()) return;
  for (I32F32& v : x) v = v.safeDiv(s);
}

// inplace_normalize.
void normalize(Vector& x) {
  normalizeUsingSum(x, sumOf(x));
}

// u16_proportion_to_fixed: I32F32(x).safe_div(I32F32(65535)).
I32F32 u16Proportion(uint16_t x) {
  return I32F32::fromInt(x).safeDiv(I32F32::fromInt(kU16Max));
}

// fixed_proportion_to_u16: floor(x * 65535), saturating to [0, 65535].
uint16_t proportionToU16(I32F32 x) {
  return x.saturatingMul(I32F32::fromInt(kU16Max)).toU16Saturating();
}

std::vector<uint16_t> toU16(const Vector& v) {
  std::vector<uint16_t> out;
  out.reserve(v.size());
  for (I32F32 x : v) out.push_back(proportionToU16(x));
  return out;
}

// floor(I96F32(share) * I96F32(rao_emission)).
std::vector<uint64_t> toAmounts(const Vector& shares, uint64_t raoEmission) {
  const I96F32 rao = I96F32::fromU64(raoEmission);
  std::vector<uint64_t> out;
  out.reserve(shares.size());
  for (I32F32 s : shares) out.push_back(I96F32::fromI32F32(s).saturatingMul(rao).toU64Saturating());
  return out;
}

// is_topk_nonzero: true for non-zero entries; when n >= k, a stable ascending sort of the
// indices by value, and the first n - k lose (on ties the lower uid sorts first and loses).
std::vector<bool> topkNonzero(const Vector& v, std::size_t k) {
  const std::size_t n = v.size();
  std::vector<bool> result(n);
  for (std::size_t i = 0; i < n; ++i) result[i] = v[i] != I32F32::zero();
  if (n < k) return result;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  for (std::size_t r = 0; r < n - k; ++r) result[order[r]] = false;
  return result;
}

// α = 1 − I32F32(I64F64(bonds_moving_average) / I64F64(1_000_000)).
I32F32 emaAlpha(uint64_t bondsMovingAverage) {
  const I64F64 bma =
      I64F64::fromU64(bondsMovingAverage).safeDiv(I64F64::fromU64(consensus::kBondsMovingAverageScale));
  return I32F32::one().saturatingSub(bma.toI32F32());
}

// ---- the epoch, section by section ----

// What every section reads: the input and the owner's uid.
struct Epoch {
  const EpochInput& input;
  const Hyperparameters& hp;
  const std::vector<NeuronInput>& neurons;
  std::size_t n;
  std::optional<std::size_t> owner;
  bool isOwner(std::size_t i) const { return owner && *owner == i; }
};

struct Stake {
  std::vector<bool> inactive;  // 4.1
  Vector stake;                // 4.2: S
  std::vector<bool> permit;    // 4.3: the stored permits (plus the owner's)
  std::vector<bool> newPermit;
  Vector activeStake;  // 4.4: A
};

// "4.1 activity" through "4.4 active stake".
Stake stakeAndPermits(const Epoch& e) {
  Stake s;
  // 4.1 activity
  s.inactive.resize(e.n);
  for (std::size_t i = 0; i < e.n; ++i) {
    s.inactive[i] = saturatingAddU64(e.neurons[i].lastUpdate, e.hp.activityCutoff) < e.input.currentBlock;
  }
  // 4.2 stake: threshold (owner exempt), inplace_normalize_64, narrow to I32F32. The raw stakes
  // are whole numbers, so I64F64 (f << 64).safe_div(T << 64) is floor((f << 64) / T).
  std::vector<uint64_t> filtered(e.n);
  UInt128 total = 0;
  for (std::size_t i = 0; i < e.n; ++i) {
    const uint64_t raw = e.neurons[i].stake;
    filtered[i] = (!e.isOwner(i) && raw < e.hp.stakeThreshold) ? 0 : raw;
    total += filtered[i];
  }
  s.stake.resize(e.n);
  for (std::size_t i = 0; i < e.n; ++i) {
    const UInt128 shifted = static_cast<UInt128>(filtered[i]) << 64;
    const UInt128 normalized = total == 0 ? shifted : shifted / total;  // x/Σ; unchanged when Σ = 0
    s.stake[i] = I64F64::fromBits(static_cast<Int128>(normalized)).toI32F32();
  }
  // 4.3 validator permits: the stored ones gate this epoch; the new ones are for the next.
  s.permit.resize(e.n);
  for (std::size_t i = 0; i < e.n; ++i) s.permit[i] = e.neurons[i].validatorPermit;
  if (e.owner) s.permit[*e.owner] = true;
  s.newPermit = topkNonzero(s.stake, e.hp.maxAllowedValidators);
  if (e.owner) s.newPermit[*e.owner] = true;
  // 4.4 active stake
  s.activeStake = s.stake;
  for (std::size_t i = 0; i < e.n; ++i) {
    if (s.inactive[i] || !s.permit[i]) s.activeStake[i] = I32F32::zero();
  }
  normalize(s.activeStake);
  return s;
}

// "4.5 weights": permitted rows, no self-weight (the owner's kept), no outdated entries, the
// commit-reveal mask, then each row normalised.
SparseMatrix weights(const Epoch& e, const Stake& s) {
  SparseMatrix w(e.n);
  for (std::size_t i = 0; i < e.n; ++i) {
    if (!s.permit[i]) continue;
    const NeuronInput& neuron = e.neurons[i];
    const uint64_t commitBlock =
        e.hp.commitReveal && neuron.commitBlock ? *neuron.commitBlock : std::numeric_limits<uint64_t>::max();
    for (const UidValue& entry : neuron.weights) {
      const std::size_t j = entry.uid;
      if (j == i && !e.isOwner(i)) continue;
      const uint64_t registered = e.neurons[j].blockAtRegistration;
      if (neuron.lastUpdate <= registered) continue;
      if (e.hp.commitReveal && commitBlock < registered) continue;
      w[i].push_back({entry.uid, I32F32::fromInt(entry.value)});
    }
  }
  consensus::inplaceRowNormalizeSparse(w);
  return w;
}

struct Consensus {
  Vector consensus;      // C
  SparseMatrix clipped;  // Wc
  Vector validatorTrust;
  Vector rank;       // R, before normalisation
  Vector incentive;  // I
};

// "4.6 consensus, clipping, validator trust" and "4.7 rank / incentive".
Consensus consensusAndIncentive(const Epoch& e, const Stake& s, const SparseMatrix& w) {
  Consensus c;
  c.consensus = consensus::weightedMedianColSparse(s.activeStake, w, e.n, u16Proportion(e.hp.kappa));
  c.clipped = consensus::colClipSparse(w, c.consensus);
  c.validatorTrust = consensus::rowSumSparse(c.clipped);
  c.rank = consensus::matmulSparse(c.clipped, s.activeStake, e.n);
  c.incentive = c.rank;
  normalize(c.incentive);
  return c;
}

struct Bonds {
  Vector dividends;          // D
  SparseMatrix storedBonds;  // B_store
};

// The stored bond rows as the epoch reads them: entries on a uid registered since the last
// epoch dropped; proportions (b / 65535) for Yuma 3, raw values for Yuma 2.
SparseMatrix oldBonds(const Epoch& e, bool asProportion) {
  const uint64_t lastTempo = e.input.lastMechanismStepBlock == 0
                                 ? saturatingSubU64(e.input.currentBlock, e.input.tempo)
                                 : saturatingAddU64(e.input.lastMechanismStepBlock, 1);
  SparseMatrix b(e.n);
  for (std::size_t i = 0; i < e.n; ++i) {
    for (const UidValue& entry : e.neurons[i].bonds) {
      if (lastTempo <= e.neurons[entry.uid].blockAtRegistration) continue;  // recently registered
      const I32F32 raw = I32F32::fromInt(entry.value);
      b[i].push_back({entry.uid, asProportion ? raw.safeDiv(I32F32::fromInt(kU16Max)) : raw});
    }
  }
  return b;
}

// "4.8 bonds & dividends", original Yuma (Yuma 2).
Bonds yuma2Bonds(const Epoch& e, const Stake& s, const Consensus& c, const SparseMatrix& weightsForBonds) {
  SparseMatrix b = oldBonds(e, false);
  consensus::inplaceColNormalizeSparse(b, e.n);
  SparseMatrix delta = consensus::rowHadamardSparse(weightsForBonds, s.activeStake);
  consensus::inplaceColNormalizeSparse(delta, e.n);
  SparseMatrix ema = consensus::matEmaSparse(delta, b, emaAlpha(e.hp.bondsMovingAverage));
  consensus::inplaceColNormalizeSparse(ema, e.n);
  Bonds out;
  out.dividends = consensus::matmulTransposeSparse(ema, c.incentive);
  normalize(out.dividends);
  consensus::inplaceColMaxUpscaleSparse(ema, e.n);
  out.storedBonds = std::move(ema);
  return out;
}

// The row's value at each column j = 0..n-1 as the Rust code reads it: a peekable walk that skips
// entries with a column below j and takes the one equal to j without consuming it. On a
// uid-sorted row that is the entry (0 when absent); in an unsorted row an entry the walk has
// passed over reads as 0.
Vector walkRow(const consensus::SparseRow& row, std::size_t n) {
  Vector out(n);
  std::size_t p = 0;
  for (std::size_t j = 0; j < n; ++j) {
    while (p < row.size() && row[p].col < j) ++p;
    if (p < row.size() && row[p].col == j) out[j] = row[p].value;
  }
  return out;
}

// clamp(x, lo, hi) for lo <= hi (validation rejects alpha_low > alpha_high).
I32F32 clamp(I32F32 x, I32F32 lo, I32F32 hi) {
  return std::max(std::min(x, hi), lo);
}

// The dense liquid-alpha matrix of spec 4.9 (compute_liquid_alpha_values_sparse): for every
// row i and column j, with w = Wb_ij and b = B_ij as walkRow reads them and c = C_j,
//   d = (w >= b) ? clamp(w - c, 0, 1) : clamp(b - w, 0, 1)
//   sig = 1 / (1 + exp_safe((s / -100) * (d - 0.5)))
//   alpha_ij = clamp(lo + sig * (hi - lo), lo, hi).
std::vector<Vector> liquidAlphas(const Epoch& e, const SparseMatrix& weightsForBonds, const SparseMatrix& b,
                                 const Vector& c) {
  const I32F32 zero = I32F32::zero();
  const I32F32 one = I32F32::one();
  const I32F32 half = I32F32::fromRatio(1, 2);
  const I32F32 lo = u16Proportion(e.hp.alphaLow);
  const I32F32 hi = u16Proportion(e.hp.alphaHigh);
  const I32F32 slope = I32F32::fromInt(e.hp.alphaSigmoidSteepness).saturatingDiv(I32F32::fromInt(-100));
  std::vector<Vector> alpha(e.n, Vector(e.n));
  for (std::size_t i = 0; i < e.n; ++i) {
    const Vector w = walkRow(weightsForBonds[i], e.n);
    const Vector bond = walkRow(b[i], e.n);
    for (std::size_t j = 0; j < e.n; ++j) {
      const I32F32 d = w[j] >= bond[j] ? clamp(w[j].saturatingSub(c[j]), zero, one)
                                       : clamp(bond[j].saturatingSub(w[j]), zero, one);
      const I32F32 sig = one.saturatingDiv(
          one.saturatingAdd(consensus::expSafe(slope.saturatingMul(d.saturatingSub(half)))));
      alpha[i][j] = clamp(lo.saturatingAdd(sig.saturatingMul(hi.saturatingSub(lo))), lo, hi);
    }
  }
  return alpha;
}

// "4.9 Yuma3 branch (`Yuma3On`)".
Bonds yuma3Bonds(const Epoch& e, const Stake& s, const Consensus& c, const SparseMatrix& weightsForBonds) {
  SparseMatrix b = oldBonds(e, true);
  const bool anyConsensus =
      std::any_of(c.consensus.begin(), c.consensus.end(), [](I32F32 v) { return v != I32F32::zero(); });
  SparseMatrix ema;
  if (e.hp.liquidAlpha && anyConsensus) {
    ema = consensus::matEmaAlphaSparse(weightsForBonds, b, liquidAlphas(e, weightsForBonds, b, c.consensus));
  } else {
    ema = consensus::matEmaSparse(weightsForBonds, b, emaAlpha(e.hp.bondsMovingAverage));
  }
  SparseMatrix emaNormalized = ema;
  consensus::inplaceColNormalizeSparse(emaNormalized, e.n);
  const Vector perValidator = consensus::rowSumSparse(consensus::matVecMulSparse(emaNormalized, c.incentive));
  Bonds out;
  out.dividends = consensus::vecMul(perValidator, s.activeStake);
  normalize(out.dividends);
  out.storedBonds = std::move(ema);  // not normalised or upscaled
  return out;
}

// "4.8 bonds & dividends": the weights the bonds follow, then either branch.
Bonds bondsAndDividends(const Epoch& e, const Stake& s, const SparseMatrix& w, const Consensus& c) {
  const SparseMatrix weightsForBonds =
      consensus::interpolateSparse(w, c.clipped, e.n, u16Proportion(e.hp.bondsPenalty));
  return e.hp.yuma3 ? yuma3Bonds(e, s, c, weightsForBonds) : yuma2Bonds(e, s, c, weightsForBonds);
}

struct Shares {
  Vector server;     // nSE
  Vector validator;  // nVE
  Vector combined;   // nCE
};

// "4.8b emission split (after either bonds branch)".
Shares emissionSplit(const Stake& s, const Consensus& c, const Bonds& b) {
  const std::size_t n = c.incentive.size();
  Vector combined(n);
  for (std::size_t i = 0; i < n; ++i) combined[i] = c.incentive[i].saturatingAdd(b.dividends[i]);
  const I32F32 emissionSum = sumOf(combined);
  Shares out{c.incentive, b.dividends, combined};
  normalizeUsingSum(out.server, emissionSum);
  normalizeUsingSum(out.validator, emissionSum);
  normalize(out.combined);
  if (emissionSum == I32F32::zero()) {  // no valid weights at all: pay by stake
    const Vector& byStake = sumOf(s.activeStake) == I32F32::zero() ? s.stake : s.activeStake;
    out.validator = byStake;
    out.combined = byStake;
  }
  return out;
}

// "4.10 Outputs / persistence (`persist_*_epoch_terms`)".
EpochOutput outputs(const Epoch& e, const Stake& s, const Consensus& c, const Bonds& b,
                    const Shares& shares) {
  EpochOutput out;
  out.active.resize(e.n);
  for (std::size_t i = 0; i < e.n; ++i) out.active[i] = !s.inactive[i];
  out.stakeWeight = toU16(s.stake);
  out.consensus = toU16(c.consensus);
  out.incentive = toU16(c.incentive);
  out.dividends = toU16(b.dividends);
  out.validatorTrust = toU16(c.validatorTrust);
  out.emission = toAmounts(shares.combined, e.input.raoEmission);
  out.serverEmission = toAmounts(shares.server, e.input.raoEmission);
  out.validatorEmission = toAmounts(shares.validator, e.input.raoEmission);
  out.validatorPermit = s.newPermit;
  out.bonds.resize(e.n);
  for (std::size_t i = 0; i < e.n; ++i) {
    if (!s.newPermit[i]) continue;  // rows without a new permit are stored empty
    for (const SparseEntry& entry : b.storedBonds[i])
      out.bonds[i].push_back({entry.col, proportionToU16(entry.value)});
  }
  return out;
}

}  // namespace

Result<EpochOutput> specEpoch(const EpochInput& input) {
  MERIT_TRY(consensus::validateEpochInput(input));
  const Epoch e{input, input.hyperparameters, input.neurons, input.neurons.size(),
                input.ownerUid ? std::optional<std::size_t>(*input.ownerUid) : std::nullopt};
  const Stake s = stakeAndPermits(e);
  const SparseMatrix w = weights(e, s);
  const Consensus c = consensusAndIncentive(e, s, w);
  const Bonds b = bondsAndDividends(e, s, w, c);
  const Shares shares = emissionSplit(s, c, b);
  return outputs(e, s, c, b, shares);
}

Result<EpochTrace> specEpochTrace(const EpochInput& input) {
  MERIT_TRY(consensus::validateEpochInput(input));
  const Epoch e{input, input.hyperparameters, input.neurons, input.neurons.size(),
                input.ownerUid ? std::optional<std::size_t>(*input.ownerUid) : std::nullopt};
  Stake s = stakeAndPermits(e);
  SparseMatrix w = weights(e, s);
  Consensus c = consensusAndIncentive(e, s, w);
  Bonds b = bondsAndDividends(e, s, w, c);
  const Shares shares = emissionSplit(s, c, b);
  EpochTrace t;
  t.output = outputs(e, s, c, b, shares);
  t.permit = std::move(s.permit);
  t.stake = std::move(s.stake);
  t.activeStake = std::move(s.activeStake);
  t.weights = std::move(w);
  t.consensus = std::move(c.consensus);
  t.clipped = std::move(c.clipped);
  t.validatorTrust = std::move(c.validatorTrust);
  t.rank = std::move(c.rank);
  t.incentive = std::move(c.incentive);
  t.dividends = std::move(b.dividends);
  return t;
}

}  // namespace merit::consensus_spec
