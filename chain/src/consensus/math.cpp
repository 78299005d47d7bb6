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
  const bool same = usesParameters(scale, alphaLow, alphaHigh);
  m_scale = scale;
  m_low = alphaLow;
  m_high = alphaHigh;
  if (same) return;
  m_slots.assign(std::size_t{1} << kSlotBits, kEmpty);
  m_slotJob.assign(std::size_t{1} << kSlotBits, kNone);
}

std::size_t LiquidAlphaGrid::provenBrackets() const {
  return static_cast<std::size_t>(
      std::count_if(m_slots.begin(), m_slots.end(), [](uint64_t w) { return kindOf(w) == kProven; }));
}

uint64_t LiquidAlphaGrid::makeWord(uint32_t key, uint64_t kind, I32F32 a, uint64_t p, int64_t delta) {
  return (uint64_t{key >> kSlotBits} << kTagShift) | (kind << kKindShift) | (p << kStepShift) |
         (static_cast<uint64_t>(delta + kDeltaBias) << kDeltaShift) | static_cast<uint64_t>(a.bits());
}

void LiquidAlphaGrid::want(uint32_t key, uint64_t word) {
  uint32_t& job = m_slotJob[key & kSlotMask];
  if (job != kNone && m_jobs[job].key == key) {
    ++m_jobs[job].hits;
    return;
  }
  // A later bracket of this batch may take the slot over; the earlier job's result is dropped.
  job = static_cast<uint32_t>(m_jobs.size());
  Job j{key, 1, kEmpty, I32F32::zero(), I32F32::zero(), 0, 0, I32F32::zero()};
  if ((word >> kTagShift) == (key >> kSlotBits) && kindOf(word) == kStepped) {
    j.kind = kStepped;
    j.a = I32F32::fromBits(static_cast<int64_t>(word & ((uint64_t{1} << 33) - 1)));
    j.b = I32F32::fromBits(j.a.bits() + static_cast<int64_t>((word >> kDeltaShift) & 0x1fff) - kDeltaBias);
  }
  m_jobs.push_back(j);
}

inline bool LiquidAlphaGrid::resolve(std::size_t k, I32F32 c, std::span<I32F32> out) {
  const uint32_t key = keyOf(c);
  const uint64_t w = m_slots[key & kSlotMask];
  if ((w >> kTagShift) != (key >> kSlotBits)) return false;
  const uint64_t kind = kindOf(w);
  if (kind == kProven) {
    const uint64_t r = static_cast<uint64_t>(c.bits()) & ((uint64_t{1} << kBracketBits) - 1);
    const uint64_t p = (w >> kStepShift) & 15;
    const int64_t delta = static_cast<int64_t>((w >> kDeltaShift) & 0x1fff) - kDeltaBias;
    out[k] = I32F32::fromBits(static_cast<int64_t>(w & ((uint64_t{1} << 33) - 1)) + (r >= p ? delta : 0));
    return true;
  }
  if (kind == kDirect) {
    m_directIndex.push_back(static_cast<uint32_t>(k));
    m_directArg.push_back(alphaSigmoidExponent(c, m_scale));
    return true;
  }
  return false;  // kEmpty, or kStepped: not searched yet
}

void LiquidAlphaGrid::alphasAt(std::span<const I32F32> c, std::span<I32F32> alpha, std::span<uint8_t> side) {
  m_args.resize(c.size());
  m_exps.resize(c.size());
  for (std::size_t k = 0; k < c.size(); ++k) m_args[k] = alphaSigmoidExponent(c[k], m_scale);
  expSafeMany(m_args, m_exps);
  for (std::size_t k = 0; k < c.size(); ++k) {
    alpha[k] = alphaFromExp(m_exps[k], m_low, m_high);
    side[k] = m_args[k] < I32F32::one() ? 1 : m_args[k] == I32F32::one() ? 0 : 2;
  }
}

void LiquidAlphaGrid::store(std::size_t job, uint64_t word) {
  const uint32_t key = m_jobs[job].key;
  uint32_t& slotJob = m_slotJob[key & kSlotMask];
  if (slotJob != job) return;  // the slot went to a later bracket of this batch
  m_slots[key & kSlotMask] = word;
  slotJob = kNone;
}

void LiquidAlphaGrid::runJobs() {
  constexpr uint32_t kBracket = uint32_t{1} << kBracketBits;
  // 1. Both ends of every new bracket.
  m_points.clear();
  for (const Job& j : m_jobs) {
    if (j.kind != kEmpty) continue;
    const int64_t start = int64_t{j.key} << kBracketBits;
    m_points.push_back(I32F32::fromBits(start));
    m_points.push_back(I32F32::fromBits(start + kBracket));
  }
  m_pointAlpha.resize(m_points.size());
  m_pointSide.resize(m_points.size());
  alphasAt(m_points, m_pointAlpha, m_pointSide);
  m_searching.clear();
  std::size_t e = 0;
  for (std::size_t i = 0; i < m_jobs.size(); ++i) {
    Job& j = m_jobs[i];
    if (j.kind == kEmpty) {
      const I32F32 a = m_pointAlpha[e];
      const I32F32 b = m_pointAlpha[e + 1];
      const uint8_t side = m_pointSide[e];
      const bool monotone = side != 0 && side == m_pointSide[e + 1];
      e += 2;
      const int64_t delta = b.bits() - a.bits();
      if (!monotone || delta < -kDeltaBias || delta >= kDeltaBias) {
        store(i, makeWord(j.key, kDirect, I32F32::zero(), 0, 0));
        continue;
      }
      if (delta == 0) {
        store(i, makeWord(j.key, kProven, a, 1, 0));
        continue;
      }
      if (j.hits < 2) {  // met once so far: its value is computed itself, the search waits
        store(i, makeWord(j.key, kStepped, a, 0, delta));
        continue;
      }
      j.a = a;
      j.b = b;
    }
    j.lo = 0;
    j.hi = kBracket;
    j.hiAlpha = j.b;
    m_searching.push_back(static_cast<uint32_t>(i));
  }
  // 2. Binary search of the brackets alpha steps in, all together: the first p with
  // alpha(s + p) != A (alpha(s + lo) == A and alpha(s + hi) != A throughout).
  for (uint32_t width = kBracket; width > 1 && !m_searching.empty(); width /= 2) {
    m_points.resize(m_searching.size());
    for (std::size_t i = 0; i < m_searching.size(); ++i) {
      const Job& j = m_jobs[m_searching[i]];
      m_points[i] = I32F32::fromBits((int64_t{j.key} << kBracketBits) + (j.lo + j.hi) / 2);
    }
    m_pointAlpha.resize(m_points.size());
    m_pointSide.resize(m_points.size());
    alphasAt(m_points, m_pointAlpha, m_pointSide);
    for (std::size_t i = 0; i < m_searching.size(); ++i) {
      Job& j = m_jobs[m_searching[i]];
      const uint32_t mid = (j.lo + j.hi) / 2;
      if (m_pointAlpha[i] == j.a) {
        j.lo = mid;
      } else {
        j.hi = mid;
        j.hiAlpha = m_pointAlpha[i];
      }
    }
  }
  for (const uint32_t i : m_searching) {
    const Job& j = m_jobs[i];
    if (j.hi == kBracket) {  // the step is at the next bracket's start: no value here has it
      store(i, makeWord(j.key, kProven, j.a, 1, 0));
    } else if (j.hiAlpha == j.b) {
      store(i, makeWord(j.key, kProven, j.a, j.hi, j.b.bits() - j.a.bits()));
    } else {  // two steps or more in the bracket
      store(i, makeWord(j.key, kDirect, I32F32::zero(), 0, 0));
    }
  }
  // A job whose slot a later one took over left the slot to it; every slot's job is cleared.
  for (const Job& j : m_jobs) m_slotJob[j.key & kSlotMask] = kNone;
  m_jobs.clear();
}

void LiquidAlphaGrid::compute(std::span<const I32F32> combined, std::span<I32F32> out) {
  MERIT_ASSERT(out.size() == combined.size());
  MERIT_ASSERT(!m_slots.empty());  // reset first
  m_jobs.clear();
  m_pending.clear();
  m_directIndex.clear();
  m_directArg.clear();
  // 1. Each value whose bracket is proven (or known to need computing); the others' brackets
  // become jobs.
  // The values fall anywhere in the 1 MiB table, which is mostly out of cache when weights change
  // between epochs: each one's slot is asked for a few values ahead.
  constexpr std::size_t kAhead = 16;
  for (std::size_t k = 0; k < combined.size(); ++k) {
    if (k + kAhead < combined.size()) __builtin_prefetch(&m_slots[keyOf(combined[k + kAhead]) & kSlotMask]);
    if (resolve(k, combined[k], out)) continue;
    const uint32_t key = keyOf(combined[k]);  // c in [0, 1]: key <= 2^28
    want(key, m_slots[key & kSlotMask]);
    m_pending.push_back(static_cast<uint32_t>(k));
  }
  // 2. The jobs, exp for all at once.
  if (!m_jobs.empty()) runJobs();
  // 3. The waiting values (one whose bracket is still unsearched, or lost its slot to another,
  // is computed itself).
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
