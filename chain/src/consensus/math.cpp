#include "merit/consensus/math.h"

#include <algorithm>
#include <numeric>

#include "merit/util/assert.h"

namespace merit::consensus {

namespace {

const I32F32 kU16MaxFixed = I32F32::fromInt(kU16Max);

}  // namespace

I32F32 u16ProportionToFixed(uint16_t x) {
  return I32F32::fromInt(x).safeDiv(kU16MaxFixed);
}

uint16_t fixedProportionToU16(I32F32 x) {
  return x.saturatingMul(kU16MaxFixed).toU16Saturating();
}

I32F32 sum(std::span<const I32F32> x) {
  I32F32 s;
  for (I32F32 v : x) s = s.saturatingAdd(v);
  return s;
}

bool isZero(std::span<const I32F32> x) {
  return sum(x) == I32F32::zero();
}

void inplaceNormalize(std::span<I32F32> x) {
  inplaceNormalizeUsingSum(x, sum(x));
}

void inplaceNormalizeUsingSum(std::span<I32F32> x, I32F32 xSum) {
  if (xSum == I32F32::zero()) return;
  const I32F32Divisor divisor(xSum);
  for (I32F32& v : x) v = divisor.safeDivide(v);
}

void inplaceMaskVector(const std::vector<bool>& mask, std::span<I32F32> v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i >= mask.size() || mask[i]) v[i] = I32F32::zero();  // missing mask entries count as set
  }
}

std::vector<I32F32> vecMul(std::span<const I32F32> a, std::span<const I32F32> b) {
  std::size_t n = std::min(a.size(), b.size());
  std::vector<I32F32> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = a[i].checkedMul(b[i]).value_or(I32F32::zero());
  return out;
}

std::vector<bool> isTopkNonzero(std::span<const I32F32> v, std::size_t k) {
  std::size_t n = v.size();
  std::vector<bool> result(n);
  for (std::size_t i = 0; i < n; ++i) result[i] = v[i] != I32F32::zero();
  if (n < k) return result;
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  for (std::size_t i = 0; i < n - k; ++i) result[idx[i]] = false;
  return result;
}

void inplaceRowNormalizeSparse(SparseMatrix& m) {
  for (SparseRow& row : m) {
    I32F32 s;
    for (const SparseEntry& e : row) s = s.saturatingAdd(e.value);
    if (s > I32F32::zero()) {
      const I32F32Divisor divisor(s);
      for (SparseEntry& e : row) e.value = divisor.safeDivide(e.value);
    }
  }
}

void inplaceColNormalizeSparse(SparseMatrix& m, std::size_t columns) {
  std::vector<I32F32> colSum(columns);
  for (const SparseRow& row : m) {
    for (const SparseEntry& e : row) {
      if (e.col < columns) colSum[e.col] = colSum[e.col].saturatingAdd(e.value);
    }
  }
  std::vector<I32F32Divisor> divisors(columns);
  for (std::size_t j = 0; j < columns; ++j) divisors[j] = I32F32Divisor(colSum[j]);
  for (SparseRow& row : m) {
    for (SparseEntry& e : row) {
      if (e.col < columns && colSum[e.col] != I32F32::zero()) e.value = divisors[e.col].safeDivide(e.value);
    }
  }
}

void inplaceColMaxUpscaleSparse(SparseMatrix& m, std::size_t columns) {
  std::vector<I32F32> colMax(columns);
  for (const SparseRow& row : m) {
    for (const SparseEntry& e : row) {
      if (e.col < columns && colMax[e.col] < e.value) colMax[e.col] = e.value;
    }
  }
  std::vector<I32F32Divisor> divisors(columns);
  for (std::size_t j = 0; j < columns; ++j) divisors[j] = I32F32Divisor(colMax[j]);
  for (SparseRow& row : m) {
    for (SparseEntry& e : row) {
      if (e.col < columns && colMax[e.col] != I32F32::zero()) e.value = divisors[e.col].safeDivide(e.value);
    }
  }
}

std::vector<I32F32> rowSumSparse(const SparseMatrix& m) {
  std::vector<I32F32> out(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    for (const SparseEntry& e : m[i]) out[i] = out[i].saturatingAdd(e.value);
  }
  return out;
}

SparseMatrix rowHadamardSparse(const SparseMatrix& m, std::span<const I32F32> v) {
  SparseMatrix out;
  out.reserve(m.size());
  for (std::size_t i = 0; i < m.size() && i < v.size(); ++i) {
    SparseRow row;
    row.reserve(m[i].size());
    for (const SparseEntry& e : m[i]) row.push_back({e.col, e.value.saturatingMul(v[i])});
    out.push_back(std::move(row));
  }
  return out;
}

SparseMatrix matVecMulSparse(const SparseMatrix& m, std::span<const I32F32> v) {
  SparseMatrix out(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    for (const SparseEntry& e : m[i]) {
      if (e.col >= v.size()) continue;
      I32F32 p = e.value.saturatingMul(v[e.col]);
      if (p != I32F32::zero()) out[i].push_back({e.col, p});
    }
  }
  return out;
}

std::vector<I32F32> matmulSparse(const SparseMatrix& m, std::span<const I32F32> v, std::size_t columns) {
  std::vector<I32F32> out(columns);
  for (std::size_t i = 0; i < m.size(); ++i) {
    I32F32 scale = i < v.size() ? v[i] : I32F32::zero();
    for (const SparseEntry& e : m[i]) {
      if (e.col < columns) out[e.col] = out[e.col].saturatingAdd(scale.saturatingMul(e.value));
    }
  }
  return out;
}

std::vector<I32F32> matmulTransposeSparse(const SparseMatrix& m, std::span<const I32F32> v) {
  std::vector<I32F32> out(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    I32F32 acc;
    for (const SparseEntry& e : m[i]) {
      I32F32 x = e.col < v.size() ? v[e.col] : I32F32::zero();
      acc = acc.saturatingAdd(x.saturatingMul(e.value));
    }
    out[i] = acc;
  }
  return out;
}

SparseMatrix colClipSparse(const SparseMatrix& m, std::span<const I32F32> colThreshold) {
  SparseMatrix out;
  out.reserve(m.size());
  for (const SparseRow& row : m) {
    SparseRow r;
    r.reserve(row.size());
    for (const SparseEntry& e : row) {
      I32F32 th = e.col < colThreshold.size() ? colThreshold[e.col] : I32F32::zero();
      if (th < e.value) {
        if (th > I32F32::zero()) r.push_back({e.col, th});
      } else {
        r.push_back(e);
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

SparseMatrix interpolateSparse(const SparseMatrix& a, const SparseMatrix& b, std::size_t columns,
                               I32F32 ratio) {
  if (ratio == I32F32::zero()) return a;
  if (ratio == I32F32::one()) return b;
  if (a.size() != b.size()) return b;
  SparseMatrix out(a.size());
  std::vector<I32F32> row1(columns);
  std::vector<I32F32> row2(columns);
  for (std::size_t i = 0; i < a.size(); ++i) {
    // An all-empty row interpolates to all zeros, which are not kept: skip the dense pass.
    if (a[i].empty() && b[i].empty()) continue;
    std::fill(row1.begin(), row1.end(), I32F32::zero());
    std::fill(row2.begin(), row2.end(), I32F32::zero());
    for (const SparseEntry& e : a[i]) {
      if (e.col < columns) row1[e.col] = e.value;
    }
    for (const SparseEntry& e : b[i]) {
      if (e.col < columns) row2[e.col] = e.value;
    }
    for (std::size_t j = 0; j < columns; ++j) {
      I32F32 v = row1[j].saturatingAdd(ratio.saturatingMul(row2[j].saturatingSub(row1[j])));
      if (I32F32::zero() < v) out[i].push_back({static_cast<uint16_t>(j), v});
    }
  }
  return out;
}

SparseMatrix matEmaSparse(const SparseMatrix& newM, const SparseMatrix& oldM, I32F32 alpha) {
  const I32F32 oneMinusAlpha = I32F32::one().saturatingSub(alpha);
  const std::size_t n = newM.size();  // square: rows == columns
  SparseMatrix out(n);
  std::vector<I32F32> acc(n);
  for (std::size_t i = 0; i < n; ++i) {
    const SparseRow* oldRow = i < oldM.size() ? &oldM[i] : nullptr;
    if (newM[i].empty() && (oldRow == nullptr || oldRow->empty())) continue;  // stays empty
    for (const SparseEntry& e : newM[i]) {
      if (e.col < n) acc[e.col] = acc[e.col].saturatingAdd(alpha.saturatingMul(e.value));
    }
    if (oldRow != nullptr) {
      for (const SparseEntry& e : *oldRow) {
        if (e.col < n) acc[e.col] = acc[e.col].saturatingAdd(oneMinusAlpha.saturatingMul(e.value));
      }
    }
    for (std::size_t j = 0; j < n; ++j) {
      if (acc[j] > I32F32::zero()) out[i].push_back({static_cast<uint16_t>(j), acc[j]});
      acc[j] = I32F32::zero();
    }
  }
  return out;
}

SparseRow matEmaAlphaRow(const SparseRow& newRow, const SparseRow& oldRow, std::span<const I32F32> alphaRow,
                         std::span<I32F32> scratch) {
  const std::size_t width = std::min(alphaRow.size(), scratch.size());
  for (const SparseEntry& e : oldRow) {
    if (e.col < width) scratch[e.col] = I32F32::one().saturatingSub(alphaRow[e.col]).saturatingMul(e.value);
  }
  SparseRow out;
  out.reserve(newRow.size());
  for (const SparseEntry& e : newRow) {
    if (e.col >= width) continue;
    I32F32 inc = std::max(alphaRow[e.col].saturatingMul(e.value), I32F32::zero());
    I32F32 v = std::min(scratch[e.col].saturatingAdd(inc), I32F32::one());
    if (v > I32F32::zero()) out.push_back({e.col, v});
  }
  for (const SparseEntry& e : oldRow) {
    if (e.col < width) scratch[e.col] = I32F32::zero();
  }
  return out;
}

SparseMatrix matEmaAlphaSparse(const SparseMatrix& newM, const SparseMatrix& oldM,
                               const std::vector<std::vector<I32F32>>& alpha) {
  if (newM.size() != oldM.size() || newM.size() != alpha.size()) return newM;
  SparseMatrix out;
  out.reserve(newM.size());
  std::vector<I32F32> scratch;
  for (std::size_t i = 0; i < newM.size(); ++i) {
    scratch.assign(alpha[i].size(), I32F32::zero());
    out.push_back(matEmaAlphaRow(newM[i], oldM[i], alpha[i], scratch));
  }
  return out;
}

namespace {

// Reusable buffers of the partition search, so a median per column allocates nothing.
struct MedianWorkspace {
  std::vector<std::size_t> current;
  std::vector<std::size_t> lower;
  std::vector<std::size_t> upper;
};

I32F32 weightedMedianWith(std::span<const I32F32> stake, std::span<const I32F32> score,
                          std::span<const std::size_t> partitionIdx, I32F32 minority, I32F32 partitionLo,
                          I32F32 partitionHi, MedianWorkspace& ws) {
  if (stake.size() != score.size()) return I32F32::zero();
  auto scoreAt = [&](std::size_t i) { return i < score.size() ? score[i] : I32F32::zero(); };
  auto stakeAt = [&](std::size_t i) { return i < stake.size() ? stake[i] : I32F32::zero(); };
  ws.current.assign(partitionIdx.begin(), partitionIdx.end());
  const std::size_t iterationLimit = partitionIdx.size();
  std::size_t iteration = 0;
  for (;;) {
    std::size_t n = ws.current.size();
    if (n == 0) return I32F32::zero();
    if (n == 1) return scoreAt(ws.current[0]);
    I32F32 pivot = scoreAt(ws.current[n / 2]);
    I32F32 loStake;
    I32F32 hiStake;
    ws.lower.clear();
    ws.upper.clear();
    for (std::size_t idx : ws.current) {
      I32F32 s = scoreAt(idx);
      if (s == pivot) continue;  // ties with the pivot go to neither side
      if (s < pivot) {
        loStake = loStake.saturatingAdd(stakeAt(idx));
        ws.lower.push_back(idx);
      } else {
        hiStake = hiStake.saturatingAdd(stakeAt(idx));
        ws.upper.push_back(idx);
      }
    }
    if (minority < partitionLo.saturatingAdd(loStake) && !ws.lower.empty()) {
      ws.current.swap(ws.lower);
      partitionHi = partitionLo.saturatingAdd(loStake);
    } else if (partitionHi.saturatingSub(hiStake) <= minority && !ws.upper.empty()) {
      ws.current.swap(ws.upper);
      partitionLo = partitionHi.saturatingSub(hiStake);
    } else {
      return pivot;
    }
    if (++iteration > iterationLimit) return I32F32::zero();
  }
}

}  // namespace

I32F32 weightedMedian(std::span<const I32F32> stake, std::span<const I32F32> score,
                      std::span<const std::size_t> partitionIdx, I32F32 minority, I32F32 partitionLo,
                      I32F32 partitionHi) {
  MedianWorkspace ws;
  return weightedMedianWith(stake, score, partitionIdx, minority, partitionLo, partitionHi, ws);
}

std::vector<I32F32> weightedMedianColSparse(std::span<const I32F32> stake, const SparseMatrix& score,
                                            std::size_t columns, I32F32 majority) {
  std::vector<I32F32> useStake;
  for (I32F32 s : stake) {
    if (s > I32F32::zero()) useStake.push_back(s);
  }
  inplaceNormalize(useStake);
  const I32F32 stakeSum = sum(useStake);
  const I32F32 minority = stakeSum.saturatingSub(majority);
  const std::size_t m = useStake.size();
  std::vector<std::size_t> stakeIdx(m);
  std::iota(stakeIdx.begin(), stakeIdx.end(), std::size_t{0});

  // Column-major scores of the positive-stake rows; a missing entry scores 0.
  std::vector<I32F32> useScore(columns * m);
  std::size_t k = 0;
  for (std::size_t i = 0; i < stake.size() && i < score.size(); ++i) {
    if (!(stake[i] > I32F32::zero())) continue;
    for (const SparseEntry& e : score[i]) {
      if (e.col < columns) useScore[e.col * m + k] = e.value;
    }
    ++k;
  }

  std::vector<I32F32> median(columns);
  MedianWorkspace ws;
  ws.current.reserve(m);
  ws.lower.reserve(m);
  ws.upper.reserve(m);
  for (std::size_t j = 0; j < columns; ++j) {
    std::span<const I32F32> col(useScore.data() + j * m, m);
    median[j] = weightedMedianWith(useStake, col, stakeIdx, minority, I32F32::zero(), stakeSum, ws);
  }
  return median;
}

I32F32 alphaSigmoidScale(I32F32 steepness) {
  return steepness.saturatingDiv(I32F32::fromInt(-100));
}

I32F32 alphaSigmoid(I32F32 consensus, I32F32 weight, I32F32 bond, I32F32 alphaLow, I32F32 alphaHigh,
                    I32F32 steepness) {
  I32F32 combined = alphaSigmoidCombined(consensus, weight, bond);
  I32F32 x = alphaSigmoidExponent(combined, alphaSigmoidScale(steepness));
  return alphaFromExp(expSafe(x), alphaLow, alphaHigh);
}

void LiquidAlphaGrid::reset(I32F32 scale, I32F32 alphaLow, I32F32 alphaHigh) {
  m_scale = scale;
  m_low = alphaLow;
  m_high = alphaHigh;
  m_slots.assign(std::size_t{1} << kSlotBits, Slot{});
}

void LiquidAlphaGrid::want(uint32_t key) {
  Slot& s = slot(key);
  if (s.readyKey == key || s.queuedKey == key) return;
  s.queuedKey = key;
  m_queuedKey.push_back(key);
  m_queuedArg.push_back(alphaSigmoidExponent(I32F32::fromBits(int64_t{key} << kBracketBits), m_scale));
}

inline bool LiquidAlphaGrid::resolve(std::size_t k, I32F32 c, std::span<I32F32> out) {
  const uint32_t key = keyOf(c);
  const Slot& a = slot(key);
  const Slot& b = slot(key + 1);
  if (a.readyKey != key || b.readyKey != key + 1) return false;
  if (a.word == b.word && (a.word & 3) != 0) {
    out[k] = I32F32::fromBits(static_cast<int64_t>(a.word >> 2));
  } else {
    m_directIndex.push_back(static_cast<uint32_t>(k));
    m_directArg.push_back(alphaSigmoidExponent(c, m_scale));
  }
  return true;
}

void LiquidAlphaGrid::compute(std::span<const I32F32> combined, std::span<I32F32> out) {
  MERIT_ASSERT(out.size() == combined.size());
  m_queuedKey.clear();
  m_queuedArg.clear();
  m_pending.clear();
  m_directIndex.clear();
  m_directArg.clear();
  // 1. Each value whose bracket ends are in the table; the ends of the others are queued.
  for (std::size_t k = 0; k < combined.size(); ++k) {
    if (resolve(k, combined[k], out)) continue;
    const uint32_t key = keyOf(combined[k]);  // c in [0, 1]: key + 1 <= 2^28 + 1
    want(key);
    want(key + 1);
    m_pending.push_back(static_cast<uint32_t>(k));
  }
  // 2. The queued ends, exp for all at once.
  m_queuedExp.resize(m_queuedArg.size());
  expSafeMany(m_queuedArg, m_queuedExp);
  for (std::size_t q = 0; q < m_queuedKey.size(); ++q) {
    Slot& s = slot(m_queuedKey[q]);
    if (s.queuedKey != m_queuedKey[q]) continue;  // the slot was taken by a later key of this batch
    const I32F32 x = m_queuedArg[q];
    const uint64_t side = x < I32F32::one() ? 1 : x == I32F32::one() ? 0 : 2;
    const I32F32 alpha = alphaFromExp(m_queuedExp[q], m_low, m_high);
    s.word = (static_cast<uint64_t>(alpha.bits()) << 2) | side;
    s.readyKey = s.queuedKey;
    s.queuedKey = kNoKey;
  }
  // 3. The waiting values (one whose end lost its slot to another key is computed itself).
  for (const uint32_t k : m_pending) {
    if (!resolve(k, combined[k], out)) {
      m_directIndex.push_back(k);
      m_directArg.push_back(alphaSigmoidExponent(combined[k], m_scale));
    }
  }
  // 4. The values no bracket proves.
  m_directExp.resize(m_directArg.size());
  expSafeMany(m_directArg, m_directExp);
  for (std::size_t d = 0; d < m_directIndex.size(); ++d) {
    out[m_directIndex[d]] = alphaFromExp(m_directExp[d], m_low, m_high);
  }
}

namespace {

// The Rust peekable walk over one row for j = 0..n-1: skip entries with col < j, take the entry
// with col == j without consuming it. Writes the value seen at each j (0 when none).
void walkRow(const SparseRow& row, std::span<I32F32> out) {
  std::size_t p = 0;
  for (std::size_t j = 0; j < out.size(); ++j) {
    I32F32 v;
    while (p < row.size()) {
      if (row[p].col < j) {
        ++p;
      } else {
        if (row[p].col == j) v = row[p].value;
        break;
      }
    }
    out[j] = v;
  }
}

}  // namespace

std::vector<std::vector<I32F32>> liquidAlphaValuesSparse(const SparseMatrix& weights,
                                                         const SparseMatrix& bonds,
                                                         std::span<const I32F32> consensus, I32F32 alphaLow,
                                                         I32F32 alphaHigh, I32F32 steepness) {
  std::vector<std::vector<I32F32>> alphas;
  if (weights.size() != bonds.size()) return alphas;
  const std::size_t n = consensus.size();
  std::vector<I32F32> w(n);
  std::vector<I32F32> b(n);
  alphas.reserve(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) {
    walkRow(weights[i], w);
    walkRow(bonds[i], b);
    std::vector<I32F32> row(n);
    for (std::size_t j = 0; j < n; ++j)
      row[j] = alphaSigmoid(consensus[j], w[j], b[j], alphaLow, alphaHigh, steepness);
    alphas.push_back(std::move(row));
  }
  return alphas;
}

SparseMatrix matEmaLiquidAlphaSparse(const SparseMatrix& weights, const SparseMatrix& bonds,
                                     std::span<const I32F32> consensus, I32F32 alphaLow, I32F32 alphaHigh,
                                     I32F32 steepness) {
  if (weights.size() != bonds.size()) return weights;  // as mat_ema_alpha_sparse on a shape mismatch
  const std::size_t n = consensus.size();
  std::vector<I32F32> w(n);
  std::vector<I32F32> b(n);
  std::vector<I32F32> alphaRow(n);
  std::vector<I32F32> scratch(n);
  SparseMatrix out(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (weights[i].empty()) continue;  // only entries of the weight row survive
    walkRow(weights[i], w);
    walkRow(bonds[i], b);
    for (const SparseEntry& e : weights[i]) {
      if (e.col < n)
        alphaRow[e.col] = alphaSigmoid(consensus[e.col], w[e.col], b[e.col], alphaLow, alphaHigh, steepness);
    }
    out[i] = matEmaAlphaRow(weights[i], bonds[i], alphaRow, scratch);
  }
  return out;
}

std::vector<uint16_t> vecMaxUpscaleToU16(std::span<const I32F32> v) {
  std::vector<uint16_t> out;
  if (v.empty()) return out;
  out.reserve(v.size());
  const I32F32 threshold = I32F32::fromInt(32768);
  const I32F32 maxValue = *std::max_element(v.begin(), v.end());
  if (maxValue == I32F32::zero()) {
    for (I32F32 e : v) out.push_back(e.saturatingMul(kU16MaxFixed).toU16Saturating());
  } else if (maxValue > threshold) {
    const I32F32 scale = kU16MaxFixed.safeDiv(maxValue);
    for (I32F32 e : v) out.push_back(e.saturatingMul(scale).round().toU16Saturating());
  } else {
    for (I32F32 e : v)
      out.push_back(e.saturatingMul(kU16MaxFixed).safeDiv(maxValue).round().toU16Saturating());
  }
  return out;
}

std::vector<uint16_t> vecU16MaxUpscaleToU16(std::span<const uint16_t> v) {
  std::vector<I32F32> f;
  f.reserve(v.size());
  for (uint16_t x : v) f.push_back(I32F32::fromInt(x));
  return vecMaxUpscaleToU16(f);
}

bool checkVecMaxLimited(std::span<const uint16_t> v, uint16_t maxLimit) {
  const I32F32 limit = I32F32::fromInt(maxLimit).safeDiv(kU16MaxFixed);
  std::vector<I32F32> f;
  f.reserve(v.size());
  for (uint16_t x : v) f.push_back(I32F32::fromInt(x));
  inplaceNormalize(f);
  if (f.empty()) return true;
  return *std::max_element(f.begin(), f.end()) <= limit;
}

}  // namespace merit::consensus
