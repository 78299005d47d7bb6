// Vector and sparse-matrix helpers of the Yuma epoch, each with the exact semantics of the
// subtensor function named in its comment (spec yuma.md §2). They are public because tests,
// the chain's weight checks and tools share them.
//
// Thread-safety: pure functions on values; no shared state.
//
// Conventions: a SparseMatrix has one row per uid; a row lists (column uid, value) entries in
// insertion order and may contain explicit zeros. Functions that take a column count ignore
// entries whose column is >= that count, as the Rust code does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "merit/consensus/fixed.h"

namespace merit::consensus {

struct SparseEntry {
  uint16_t col = 0;
  I32F32 value;
  friend bool operator==(const SparseEntry&, const SparseEntry&) = default;
};
using SparseRow = std::vector<SparseEntry>;
using SparseMatrix = std::vector<SparseRow>;

inline constexpr uint16_t kU16Max = 65535;

// ---- conversions (math.rs) ----
// u16_proportion_to_fixed: I32F32(x).safe_div(I32F32(65535)).
I32F32 u16ProportionToFixed(uint16_t x);
// fixed_proportion_to_u16: floor(x * 65535), clamped to [0, 65535].
uint16_t fixedProportionToU16(I32F32 x);

// ---- vectors ----
I32F32 sum(std::span<const I32F32> x);  // saturating; exact for the bounded epoch inputs
bool isZero(std::span<const I32F32> x);
// inplace_normalize: x_i /= sum(x) (safe_div); unchanged when the sum is 0.
void inplaceNormalize(std::span<I32F32> x);
// inplace_normalize_using_sum: as above with a given sum.
void inplaceNormalizeUsingSum(std::span<I32F32> x, I32F32 xSum);
// inplace_mask_vector: zero v_i where mask_i.
void inplaceMaskVector(const std::vector<bool>& mask, std::span<I32F32> v);
// vec_mul: a_i * b_i, 0 on overflow.
std::vector<I32F32> vecMul(std::span<const I32F32> a, std::span<const I32F32> b);
// is_topk_nonzero: true for non-zero entries among the k largest (stable ascending sort, so on
// ties the lower index loses).
std::vector<bool> isTopkNonzero(std::span<const I32F32> v, std::size_t k);

// ---- sparse matrices ----
// inplace_row_normalize_sparse: rows with a positive sum are divided by it.
void inplaceRowNormalizeSparse(SparseMatrix& m);
// inplace_col_normalize_sparse: entries divided by their column sum where it is non-zero.
void inplaceColNormalizeSparse(SparseMatrix& m, std::size_t columns);
// inplace_col_max_upscale_sparse: entries divided by their column max where it is non-zero.
void inplaceColMaxUpscaleSparse(SparseMatrix& m, std::size_t columns);
std::vector<I32F32> rowSumSparse(const SparseMatrix& m);
// row_hadamard_sparse: m_ij * v_i.
SparseMatrix rowHadamardSparse(const SparseMatrix& m, std::span<const I32F32> v);
// mat_vec_mul_sparse: m_ij * v_j, keeping non-zero products.
SparseMatrix matVecMulSparse(const SparseMatrix& m, std::span<const I32F32> v);
// matmul_sparse: r_j = sum_i v_i * m_ij.
std::vector<I32F32> matmulSparse(const SparseMatrix& m, std::span<const I32F32> v, std::size_t columns);
// matmul_transpose_sparse: d_i = sum_j v_j * m_ij.
std::vector<I32F32> matmulTransposeSparse(const SparseMatrix& m, std::span<const I32F32> v);
// col_clip_sparse: w -> min(w, c_j); a positive entry in a column with c_j <= 0 is dropped.
SparseMatrix colClipSparse(const SparseMatrix& m, std::span<const I32F32> colThreshold);
// interpolate_sparse: ratio 0 -> a, ratio 1 -> b, else per row a + ratio*(b - a) over all
// `columns`, keeping entries > 0 in column order.
SparseMatrix interpolateSparse(const SparseMatrix& a, const SparseMatrix& b, std::size_t columns,
                               I32F32 ratio);
// mat_ema_sparse: per row alpha*new + (1-alpha)*old over n = new.size() columns, keeping > 0.
SparseMatrix matEmaSparse(const SparseMatrix& newM, const SparseMatrix& oldM, I32F32 alpha);
// mat_ema_alpha_sparse with a dense alpha matrix: per row v = min(1, (1-a)*old + max(0, a*new))
// for the entries of the `new` row only (old entries absent from it are dropped), in the new
// row's order; keeps v > 0.
SparseMatrix matEmaAlphaSparse(const SparseMatrix& newM, const SparseMatrix& oldM,
                               const std::vector<std::vector<I32F32>>& alpha);
// One row of matEmaAlphaSparse. alphaRow and scratch have at least as many entries as the
// largest column used; scratch must be all zero on entry and is all zero again on return.
SparseRow matEmaAlphaRow(const SparseRow& newRow, const SparseRow& oldRow, std::span<const I32F32> alphaRow,
                         std::span<I32F32> scratch);

// ---- consensus ----
// weighted_median: the deterministic mid-pivot partition search of spec §2.1.
I32F32 weightedMedian(std::span<const I32F32> stake, std::span<const I32F32> score,
                      std::span<const std::size_t> partitionIdx, I32F32 minority, I32F32 partitionLo,
                      I32F32 partitionHi);
// weighted_median_col_sparse: per column, the stake-weighted median of the positive-stake
// rows' scores (missing entries score 0); `majority` is kappa.
std::vector<I32F32> weightedMedianColSparse(std::span<const I32F32> stake, const SparseMatrix& score,
                                            std::size_t columns, I32F32 majority);

// ---- liquid alpha (run_epoch.rs) ----
// alpha_sigmoid: alpha for one (validator, miner) pair from consensus, weight and bond.
I32F32 alphaSigmoid(I32F32 consensus, I32F32 weight, I32F32 bond, I32F32 alphaLow, I32F32 alphaHigh,
                    I32F32 steepness);
// alpha_sigmoid in stages, for callers computing exp for many pairs at once (expSafeMany):
//   alphaSigmoid(c, w, b, lo, hi, s) == alphaFromExp(expSafe(alphaSigmoidExponent(
//       alphaSigmoidCombined(c, w, b), alphaSigmoidScale(s))), lo, hi).
// The pair enters only through `combined`, in [0, 1].
// (Inline: the epoch calls them once per weight.)
inline I32F32 alphaSigmoidCombined(I32F32 consensus, I32F32 weight, I32F32 bond) {
  const I32F32 zero = I32F32::zero();
  const I32F32 one = I32F32::one();
  const I32F32 diffBuy = std::max(std::min(weight.saturatingSub(consensus), one), zero);
  const I32F32 diffSell = std::max(std::min(bond.saturatingSub(weight), one), zero);
  return weight >= bond ? diffBuy : diffSell;
}
// steepness / -100, the same for every pair of an epoch.
I32F32 alphaSigmoidScale(I32F32 steepness);
// The argument of exp: scale * (combined - 1/2).
inline I32F32 alphaSigmoidExponent(I32F32 combined, I32F32 scale) {
  return scale.saturatingMul(combined.saturatingSub(I32F32::fromRatio(1, 2)));
}
// alpha from e = expSafe(exponent): clamp(lo + (hi - lo) / (1 + e), lo, hi), the clamp as
// max(min(alpha, hi), lo).
inline I32F32 alphaFromExp(I32F32 e, I32F32 alphaLow, I32F32 alphaHigh) {
  const I32F32 one = I32F32::one();
  const I32F32 sigmoid = one.saturatingDiv(one.saturatingAdd(e));
  const I32F32 alpha = alphaLow.saturatingAdd(sigmoid.saturatingMul(alphaHigh.saturatingSub(alphaLow)));
  return std::max(std::min(alpha, alphaHigh), alphaLow);
}
// Liquid alpha for many values of `combined` under one epoch's (scale, alphaLow, alphaHigh),
// each exactly alphaFromExp(expSafe(alphaSigmoidExponent(c, scale)), alphaLow, alphaHigh), with
// far fewer exps than one per value.
//
// Why that is exact: as a function of c, alpha is monotone, except where the exponent is exactly
// 1.0. Each stage is monotone: the exponent is a floor of scale * (c - 1/2) (non-increasing in c
// for scale < 0, non-decreasing otherwise); the clamp to [-20, 20]; fixedExp's series, every
// term a floor of non-decreasing terms of |x| (1 / the series for x < 0, a floored division,
// non-increasing in it); then 1 / (1 + e) (a floored division by a growing divisor), the floored
// product by hi - lo (of one sign for the epoch) plus lo, and the clamp. The one exception:
// fixedExp returns its stored constant E at exactly 1.0, below its neighbours' series values.
// So on an interval of c whose two ends put the exponent strictly on one side of 1.0 (then no
// point inside is at 1.0), alpha is monotone.
//
// The values of c are cut into brackets of kBracket ulps, [s, s + kBracket). For a bracket the
// grid computes alpha A at s and B at the next bracket's start s + kBracket; when the exponent
// is on one side of 1.0 at both, alpha is monotone on [s, s + kBracket], so:
//  - A == B: every value of the bracket has alpha A;
//  - A != B: a binary search finds the first p with alpha(s + p) != A; if alpha(s + p) == B,
//    alpha is A below s + p and B from it (alpha cannot leave [A, B] and reaches B at p);
// otherwise (two steps in the bracket, or the exponent at or across 1.0) each value of the
// bracket is computed itself. The ends cost 2 exps; the search, 4 more, is made only for a
// bracket met a second time (until then a value in a bracket with a step is computed itself), so
// values that never share a bracket cost no more than 3 exps each.
// What a bracket proves is kept in a direct-mapped table of 2^kSlotBits words, tagged with the
// bracket, for as long as (scale, alphaLow, alphaHigh) stay the same: the epochs of a subnet
// whose hyperparameters do not change find their brackets already proven. Nothing here assumes
// how the values are distributed: a value is only ever given an alpha its bracket proves, and a
// table word is only read under its own tag.
class LiquidAlphaGrid {
 public:
  static constexpr int kBracketBits = 4;  // 16 ulps of c
  static constexpr std::size_t kSlotBits = 17;

  // Computes under (scale, alphaLow, alphaHigh) from now on; forgets every bracket unless they
  // are the ones already in use.
  void reset(I32F32 scale, I32F32 alphaLow, I32F32 alphaHigh);
  // out[k] = alpha for combined[k], each in [0, 1]. out may not alias combined.
  void compute(std::span<const I32F32> combined, std::span<I32F32> out);
  // True when the grid computes under these hyperparameters (reset with them last).
  bool usesParameters(I32F32 scale, I32F32 alphaLow, I32F32 alphaHigh) const {
    return !m_slots.empty() && scale == m_scale && alphaLow == m_low && alphaHigh == m_high;
  }
  // Brackets proven so far (for tests).
  std::size_t provenBrackets() const;

 private:
  // A table word: alpha A at the bracket start (bits 0-32; alpha is in [0, 1]), B - A plus
  // kDeltaBias (bits 33-45), the step position p in 1..15 (bits 46-49), the kind (bits 50-51),
  // the bracket index >> kSlotBits as tag (bits 52-63; an index is at most 2^28 for c <= 1). A
  // proven bracket gives value s + r the alpha A + (r >= p ? B - A : 0) (a bracket without a step
  // has B - A = 0).
  static constexpr uint64_t kEmpty = 0;
  static constexpr uint64_t kProven = 1;
  static constexpr uint64_t kStepped = 2;  // A != B known, p not searched yet
  static constexpr uint64_t kDirect = 3;   // no proof: each value of the bracket computed itself
  static constexpr int kDeltaShift = 33;
  static constexpr int kStepShift = 46;
  static constexpr int kKindShift = 50;
  static constexpr int kTagShift = 52;
  static constexpr int64_t kDeltaBias = 4096;  // B - A in [-4096, 4095] fits the 13 bits
  static constexpr uint32_t kNone = 0xffffffffu;
  static constexpr std::size_t kSlotMask = (std::size_t{1} << kSlotBits) - 1;
  static uint32_t keyOf(I32F32 c) { return static_cast<uint32_t>(c.bits() >> kBracketBits); }
  static uint64_t kindOf(uint64_t word) { return (word >> kKindShift) & 3; }
  static uint64_t makeWord(uint32_t key, uint64_t kind, I32F32 a, uint64_t p, int64_t delta);

  // A bracket to work on in this batch: its ends to compute (kEmpty) or its step to find
  // (kStepped, ends known), and how many of the batch's values fall in it.
  struct Job {
    uint32_t key;
    uint32_t hits;
    uint64_t kind;
    I32F32 a;     // alpha at the start (kStepped)
    I32F32 b;     // alpha at the next start (kStepped)
    uint32_t lo;  // search: alpha(s + lo) == a
    uint32_t hi;  // search: alpha(s + hi) != a, and is hiAlpha
    I32F32 hiAlpha;
  };
  // Queues the bracket of value c (table word `word`) for this batch's jobs.
  void want(uint32_t key, uint64_t word);
  // Resolves value k from its bracket's word: out[k] when proven, k to the values computed
  // themselves when kDirect. False if the bracket is not in the table or not searched yet.
  [[gnu::always_inline]] bool resolve(std::size_t k, I32F32 c, std::span<I32F32> out);
  // Runs the batch's jobs and writes their words.
  void runJobs();
  void store(std::size_t job, uint64_t word);
  // alpha[k] = alpha at c[k], side[k] = the exponent's side of 1.0 there (1 below, 2 above, 0 at).
  void alphasAt(std::span<const I32F32> c, std::span<I32F32> alpha, std::span<uint8_t> side);

  I32F32 m_scale;
  I32F32 m_low;
  I32F32 m_high;
  std::vector<uint64_t> m_slots;    // table words (empty until the first reset)
  std::vector<uint32_t> m_slotJob;  // per slot: the job of this batch for it, or kNone
  std::vector<Job> m_jobs;
  std::vector<uint32_t> m_pending;      // values waiting for their bracket
  std::vector<uint32_t> m_directIndex;  // values computed themselves (in batches)
  std::vector<I32F32> m_directArg;
  std::vector<I32F32> m_directExp;
  // Scratch of runJobs: points, their alpha and side; the jobs being searched.
  std::vector<I32F32> m_points;
  std::vector<I32F32> m_pointAlpha;
  std::vector<uint8_t> m_pointSide;
  std::vector<I32F32> m_args;
  std::vector<I32F32> m_exps;
  std::vector<uint32_t> m_searching;
};

// compute_liquid_alpha_values_sparse, dense n x n result. Rows are walked with the same
// peekable iterators as the Rust code, which assume uid-sorted rows: in an unsorted row an
// entry passed over counts as 0.
std::vector<std::vector<I32F32>> liquidAlphaValuesSparse(const SparseMatrix& weights,
                                                         const SparseMatrix& bonds,
                                                         std::span<const I32F32> consensus, I32F32 alphaLow,
                                                         I32F32 alphaHigh, I32F32 steepness);
// matEmaAlphaSparse(weights, bonds, liquidAlphaValuesSparse(...)) with n = consensus.size(),
// computing alpha only where the EMA reads it (the entries of each weight row): the epoch's path.
SparseMatrix matEmaLiquidAlphaSparse(const SparseMatrix& weights, const SparseMatrix& bonds,
                                     std::span<const I32F32> consensus, I32F32 alphaLow, I32F32 alphaHigh,
                                     I32F32 steepness);

// ---- weights (math.rs, used by set_weights) ----
// vec_max_upscale_to_u16 (input non-negative).
std::vector<uint16_t> vecMaxUpscaleToU16(std::span<const I32F32> v);
// vec_u16_max_upscale_to_u16.
std::vector<uint16_t> vecU16MaxUpscaleToU16(std::span<const uint16_t> v);
// check_vec_max_limited: the normalised maximum is <= maxLimit / 65535.
bool checkVecMaxLimited(std::span<const uint16_t> v, uint16_t maxLimit);

}  // namespace merit::consensus
