#include "merit/consensus/epoch.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
// The AVX2 scans of the medians: compiled for x86-64 with GCC or Clang (target attribute) and used
// when the CPU has AVX2 (checked at run time).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MERIT_CONSENSUS_AVX2 1
#include <immintrin.h>
#else
#define MERIT_CONSENSUS_AVX2 0
#endif

#include "merit/consensus/fixed.h"
#include "merit/consensus/math.h"
#include "merit/util/assert.h"

namespace merit::consensus {

namespace {

uint64_t saturatingAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<uint64_t>::max() : r;
}

uint64_t saturatingSub(uint64_t a, uint64_t b) {
  return a > b ? a - b : 0;
}

// ---- arithmetic on proportions ----
//
// Most of the epoch's values are proportions in [0, 1], i.e. I32F32 bits in [0, 2^32]: row- or
// column-normalised matrices (each entry divided by a sum or maximum of non-negative entries
// it belongs to, so the quotient is at most 1), normalised stake, consensus (a weight), clipped
// weights, the EMA alphas and the Yuma 3 bonds. On them the saturating operations never
// saturate, and these do the same arithmetic without the checks:
//  - the product of two proportions is at most 2^64 before the shift, so the 128-bit product
//    shifted right by 32 is floor(a * b / 2^32) <= 2^32 exactly as saturatingMul computes it;
//  - a sum of at most kMaxNeurons values, each at most 2^48 bits (a proportion, or a product of
//    one with something below 65536), stays below 2^60 and never reaches int64's limit, so a
//    plain sum equals the saturating one.
// Each use below says why its operands are in range.
//
// mulProportions forms that product in 64 bits: for a, b in [0, 2^32], a * b <= 2^64, and it
// reaches 2^64 only when a = b = 2^32 (the only value in range with bit 32 set), where the
// 64-bit product wraps to 0. So floor(a * b / 2^32) is the wrapped product shifted right by 32,
// plus 2^32 exactly when both have bit 32 set, which is (a & b & 2^32). A 64-bit multiply is
// cheaper than a widening 64x64->128 one, and the EMA and dividends passes do several an entry.
inline I32F32 mulProportions(I32F32 a, I32F32 b) {
  const uint64_t au = static_cast<uint64_t>(a.bits());
  const uint64_t bu = static_cast<uint64_t>(b.bits());
  return I32F32::fromBits(static_cast<int64_t>(((au * bu) >> 32) | (au & bu & (uint64_t{1} << 32))));
}
// mulProportions(factor, b) where, with kBelowOne, the factor is known to be below one (bit 32
// clear): then factor * b < 2^64 and the correction term is 0, so a multiply and a shift do.
// Callers choose kBelowOne from a check made once per epoch or row (withFlag), not per
// entry: the EMA's alpha and 1 - alpha, a validator's active stake, the incentive vector.
template <bool kBelowOne>
inline I32F32 mulProportionsBy(I32F32 factor, I32F32 b) {
  if constexpr (kBelowOne) {
    return I32F32::fromBits(
        static_cast<int64_t>((static_cast<uint64_t>(factor.bits()) * static_cast<uint64_t>(b.bits())) >> 32));
  } else {
    return mulProportions(factor, b);
  }
}
// Calls f(std::true_type) when flag holds, else f(std::false_type): f instantiates its loop for
// both (e.g. with mulProportionsBy<decltype(tag)::value>), so that a condition fixed for a whole
// loop is not tested, or made to wait on, at every entry.
template <typename F>
void withFlag(bool flag, F&& f) {
  if (flag) {
    f(std::true_type{});
  } else {
    f(std::false_type{});
  }
}
inline I32F32 addBounded(I32F32 a, I32F32 b) {
  return I32F32::fromBits(a.bits() + b.bits());
}
// fixed_proportion_to_u16 of a proportion: floor(x * 65535) without saturation (<= 65535).
inline uint16_t proportionToU16(I32F32 x) {
  return static_cast<uint16_t>((static_cast<uint64_t>(x.bits()) * kU16Max) >> 32);
}

std::string rowEntryPath(std::size_t neuron, const char* field, std::size_t k) {
  return "neurons[" + std::to_string(neuron) + "]." + field + "[" + std::to_string(k) + "]";
}

// Whether the uids of a row strictly increase. With SSE2 (every x86-64) four neighbouring pairs
// are compared at once: an entry is 4 bytes with the uid in its low half (the first member, and
// x86 is little-endian), so masking each 32-bit lane to 16 bits leaves the uids, which compare
// correctly as signed 32-bit values.
bool uidsIncrease(const std::vector<UidValue>& row) {
  static_assert(sizeof(UidValue) == 4 && offsetof(UidValue, uid) == 0);
  const std::size_t m = row.size();
  std::size_t k = 1;
#if defined(__SSE2__)
  if (m >= 5) {
    const auto* base = reinterpret_cast<const unsigned char*>(row.data());
    const __m128i mask = _mm_set1_epi32(0xFFFF);
    __m128i increasing = _mm_set1_epi32(-1);
    for (; k + 4 <= m; k += 4) {  // pairs (k - 1, k) to (k + 2, k + 3)
      const __m128i before = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + 4 * (k - 1)));
      const __m128i after = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + 4 * k));
      increasing =
          _mm_and_si128(increasing, _mm_cmpgt_epi32(_mm_and_si128(after, mask), _mm_and_si128(before, mask)));
    }
    if (_mm_movemask_epi8(increasing) != 0xFFFF) return false;
  }
#endif
  for (; k < m; ++k) {
    if (!(row[k - 1].uid < row[k].uid)) return false;
  }
  return true;
}

// The sum of the values of [from, to). With SSE2, four entries at a time: each 4-byte entry holds
// its value in the high half (the second member; x86 is little-endian), which a 16-bit shift
// brings down into a 32-bit lane. A lane sums at most kMaxNeurons / 4 values below 2^16, so it
// cannot overflow 32 bits.
uint64_t sumOfValues(const UidValue* from, const UidValue* to) {
  static_assert(sizeof(UidValue) == 4 && offsetof(UidValue, value) == 2);
  uint64_t sum = 0;
#if defined(__SSE2__)
  static_assert(kMaxNeurons / 4 * uint64_t{65535} < (uint64_t{1} << 32));
  __m128i lanes = _mm_setzero_si128();
  for (; to - from >= 4; from += 4) {
    const __m128i entries = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from));
    lanes = _mm_add_epi32(lanes, _mm_srli_epi32(entries, 16));
  }
  alignas(16) std::array<uint32_t, 4> lane;
  _mm_store_si128(reinterpret_cast<__m128i*>(lane.data()), lanes);
  sum = uint64_t{lane[0]} + lane[1] + lane[2] + lane[3];
#endif
  for (; from != to; ++from) sum += from->value;
  return sum;
}

// Whether a row's uids are all below n and distinct. `seen[uid] == stamp` marks uids already met
// in this row; each row gets a fresh stamp, so nothing is cleared between rows. `sorted` receives
// whether the uids strictly increase (the epoch's fast paths use it). A row whose uids strictly
// increase has no duplicate, and its last uid is its largest, so that check alone (no table)
// proves it valid.
bool rowValid(const std::vector<UidValue>& row, std::size_t n, std::vector<uint32_t>& seen, uint32_t stamp,
              uint8_t& sorted) {
  const bool increasing = uidsIncrease(row);
  sorted = increasing ? 1 : 0;
  if (increasing) return row.empty() || row.back().uid < n;
  for (const UidValue& entry : row) {
    if (entry.uid >= n || seen[entry.uid] == stamp) return false;
    seen[entry.uid] = stamp;
  }
  return true;
}

// rowValid, with an error naming the first offending entry (built only on failure).
Result<void> validateRow(const std::vector<UidValue>& row, std::size_t n, std::size_t neuron,
                         const char* field, std::vector<uint32_t>& seen, uint32_t stamp, uint8_t& sorted) {
  if (rowValid(row, n, seen, stamp, sorted)) return {};
  std::vector<uint8_t> met(n);
  for (std::size_t k = 0; k < row.size(); ++k) {
    const uint16_t uid = row[k].uid;
    if (uid >= n) {
      return fail(ErrorCode::kInvalidArgument, rowEntryPath(neuron, field, k) + ": uid " +
                                                   std::to_string(uid) + " >= n " + std::to_string(n));
    }
    if (met[uid] != 0) {
      return fail(ErrorCode::kInvalidArgument,
                  rowEntryPath(neuron, field, k) + ": duplicate uid " + std::to_string(uid));
    }
    met[uid] = 1;
  }
  MERIT_ASSERT(false, neuron);  // rowValid found a fault the walk above did not
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

// ---- working representation of the epoch's matrices ----
//
// The epoch runs on a few large matrices (at kMaxNeurons, up to ~16M entries each). They are held
// in compressed sparse rows, one allocation per array rather than one per row, and the passes the
// reference functions of math.h make one after another over the same rows are fused where the
// result is provably the same: every value keeps the operations, the operands and the order of
// summation of its math.h definition (the references are kept, and tested, in math.cpp).

// An array of trivially copyable values whose elements are not initialised when it grows: the
// matrices' entry arrays are written entry by entry before they are read, so zero-filling them
// first (as std::vector::resize does) would only cost a pass over memory and, for memory fresh
// from the system, a page fault for every page of the capacity, written or not. Growing discards
// the contents (every user resets its matrix first). Owns its storage; not copyable.
template <typename T>
class UninitializedArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  UninitializedArray() = default;
  ~UninitializedArray() { release(); }
  UninitializedArray(UninitializedArray&& other) noexcept
      : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)) {}
  UninitializedArray& operator=(UninitializedArray&& other) noexcept {
    if (this != &other) {
      release();
      m_data = std::exchange(other.m_data, nullptr);
      m_size = std::exchange(other.m_size, 0);
    }
    return *this;
  }
  UninitializedArray(const UninitializedArray&) = delete;
  UninitializedArray& operator=(const UninitializedArray&) = delete;

  // Makes room for at least `count` elements; their values are unspecified until written.
  void growDiscarding(std::size_t count) {
    if (count <= m_size) return;
    release();
    // T is an implicit-lifetime type (trivially copyable), so allocating the storage creates
    // its elements; each is written before it is read.
    m_data = std::allocator<T>().allocate(count);
    m_size = count;
  }
  std::size_t size() const { return m_size; }
  T* data() { return m_data; }
  const T* data() const { return m_data; }
  T& operator[](std::size_t k) { return m_data[k]; }
  const T& operator[](std::size_t k) const { return m_data[k]; }

 private:
  void release() {
    if (m_data != nullptr) std::allocator<T>().deallocate(m_data, m_size);
    m_data = nullptr;
    m_size = 0;
  }
  T* m_data = nullptr;
  std::size_t m_size = 0;
};

// Compressed sparse rows: row i is [start[i], start[i + 1]) of col / val, in the row's own order
// (insertion order for weights and bonds, column order for matrices built column by column).
// Each row also records whether its columns strictly increase (uid-sorted rows take the merge
// and block paths below). The builder states it at endRow from what it knows: validation finds
// which input rows are sorted, a row built from a subsequence of a sorted row is sorted, and a
// row emitted in column order is sorted; no pass re-reads a row to find out.
// V is I32F32 for the matrices the epoch computes, and uint16_t for the old bonds, which keep
// their stored u16 values (4 bytes an entry instead of 10; see bondProportion and bondUnits).
template <typename V>
struct SparseRows {
  std::vector<uint32_t> start;
  UninitializedArray<uint16_t> col;  // entries [0, size) are live; the arrays only ever grow
  UninitializedArray<V> val;
  std::vector<uint8_t> sortedRow;  // 1 when row i's columns strictly increase
  std::size_t size = 0;
  std::size_t rows = 0;

  // Starts an empty matrix with room for maxEntries entries. The arrays keep their length from
  // one epoch to the next (a workspace), so their memory is mapped and touched once; push then
  // writes in place with no capacity check. Entries beyond those pushed are never initialised,
  // so a bound larger than the entries written costs address space but no memory.
  void reset(std::size_t rowCount, std::size_t maxEntries) {
    start.resize(rowCount + 1);
    sortedRow.resize(rowCount);
    col.growDiscarding(maxEntries);
    val.growDiscarding(maxEntries);
    start[0] = 0;
    size = 0;
    rows = 0;
  }
  // The caller guarantees at most maxEntries pushes in all (each reset states its bound).
  void push(uint16_t c, V v) {
    col[size] = c;
    val[size] = v;
    ++size;
  }
  // For a loop that appends many entries: it writes them at colTail() / valTail() through local
  // pointers, then states their count. (push stores `size` after every entry: a store of an
  // int64 value may alias a size_t, so the compiler cannot keep it in a register.)
  uint16_t* colTail() { return col.data() + size; }
  V* valTail() { return val.data() + size; }
  void appended(std::size_t count) { size += count; }
  void endRow(bool sorted) {
    sortedRow[rows] = sorted || start[rows] == size ? 1 : 0;  // an empty row is sorted
    start[++rows] = static_cast<uint32_t>(size);
  }
  std::size_t begin(std::size_t row) const { return start[row]; }
  std::size_t end(std::size_t row) const { return start[row + 1]; }
  bool rowEmpty(std::size_t row) const { return start[row] == start[row + 1]; }
  bool isSortedRow(std::size_t row) const { return sortedRow[row] != 0; }
};
using Csr = SparseRows<I32F32>;
using BondRows = SparseRows<uint16_t>;

// A stored bond as Yuma 3 reads it, a proportion: u16Max.safeDivide(b) = floor(b * 2^32 / 65535)
// = 65537 b + [b == 65535], because 2^32 = 65535 * 65537 + 1.
inline I32F32 bondProportion(uint16_t b) {
  return I32F32::fromBits(int64_t{65537} * b + (b == kU16Max ? 1 : 0));
}
// A stored bond as Yuma 2 reads it: the raw value.
inline I32F32 bondUnits(uint16_t b) {
  return I32F32::fromInt(b);
}

// The column rule of inplace_col_normalize_sparse and inplace_col_max_upscale_sparse: an entry
// of column j is safe_div'ed by by[j] where by[j] != 0 and left as is where by[j] == 0.
//
// Every caller divides a proportion by its own column's sum or maximum of non-negative entries,
// so 0 <= a <= by[j] and a <= 1, and where by[j] == 0 the entry is 0 and stays 0: the case
// ProportionDivisor (fixed.h) computes with one multiply.
class ColumnDivisors {
 public:
  explicit ColumnDivisors(const std::vector<I32F32>& by) : m_divisors(by.size()) {
    for (std::size_t j = 0; j < by.size(); ++j) m_divisors[j] = ProportionDivisor(by[j]);
  }
  // Precondition: 0 <= a <= the divisor of column j and a <= 1 (a == 0 where the divisor is 0).
  I32F32 apply(std::size_t j, I32F32 a) const { return m_divisors[j].divide(a); }
  const ProportionDivisor* data() const { return m_divisors.data(); }

 private:
  std::vector<ProportionDivisor> m_divisors;
};

// safe_div of a whole number of units by a whole-unit sum, as the weights' row normalisation
// and Yuma 2's bond column normalisation divide: I32F32 bits w * 2^32 by s * 2^32, i.e.
// q = floor(w * 2^32 / s), for integers 0 <= w < 2^16 and 0 <= s < 2^48 (a zero divisor, a
// column holding only zeros, gives 0, as safe_div's zero rule does there).
//
// Exact with one multiply and no correction step. With k the bit length of s
// (2^(k-1) <= s < 2^k) and F = 48 + k, let c = ceil(2^F / s); then c * s - 2^F < s <= 2^(F-48),
// so for every numerator n < 2^48, floor(n * c / 2^F) = floor(n / s) (the round-up
// reciprocal bound: Granlund and Montgomery 1994, Lemire et al. 2019, theorem 1). The
// numerators here are n = w * 2^32 < 2^48, so q = floor(w * c / 2^(16 + k)), computed as the
// high half of (w << (48 - k)) * c: w << (48 - k) < 2^(64 - k) and c <= 2^49 + 1 both fit 64
// bits, and the shift only moves the binary point (2^(48-k) / 2^64 = 1 / 2^(16+k)).
class UnitsDivisor {
 public:
  UnitsDivisor() = default;
  explicit UnitsDivisor(uint64_t s) {
    if (s == 0) return;  // c = 0: every quotient is 0
    const int k = 64 - __builtin_clzll(s);
    m_c = static_cast<uint64_t>(((UInt128{1} << (48 + k)) + (s - 1)) / s);
    m_preShift = 48 - k;
  }
  // Precondition: w < 2^16.
  I32F32 divide(uint64_t w) const {
    return I32F32::fromBits(static_cast<int64_t>((static_cast<UInt128>(w << m_preShift) * m_c) >> 64));
  }

 private:
  uint64_t m_c = 0;
  int m_preShift = 0;
};

// One dense row of n accumulators (zero between rows) that records which columns were written,
// so that its non-zero entries can be visited in column order in O(touched log touched) for a
// sparse row and O(n) for a dense one. Columns never written hold zero, which none of the
// callers keeps, so visiting only the written ones yields the same entries as a full scan.
template <typename T>
class DenseRow {
 public:
  explicit DenseRow(std::size_t n) : m_value(n), m_touched(n) { m_cols.reserve(n); }
  T& at(uint16_t j) {
    if (m_touched[j] == 0) {
      m_touched[j] = 1;
      m_cols.push_back(j);
    }
    return m_value[j];
  }
  // Calls visit(column, value) for each written column in increasing order, then clears.
  template <typename Visit>
  void drain(Visit&& visit) {
    const std::size_t n = m_value.size();
    if (m_cols.size() * 16 < n) {
      std::sort(m_cols.begin(), m_cols.end());
      for (uint16_t j : m_cols) {
        visit(j, m_value[j]);
        m_value[j] = T{};
        m_touched[j] = 0;
      }
    } else {
      for (std::size_t j = 0; j < n; ++j) {
        if (m_touched[j] == 0) continue;
        visit(static_cast<uint16_t>(j), m_value[j]);
        m_value[j] = T{};
        m_touched[j] = 0;
      }
    }
    m_cols.clear();
  }

 private:
  std::vector<T> m_value;
  std::vector<uint8_t> m_touched;
  std::vector<uint16_t> m_cols;
};

// ---- consensus: the stake-weighted median of every column ----

struct ScoreStake {
  int64_t score;  // I32F32 bits
  int64_t stake;  // I32F32 bits, >= 0
};

// weighted_median (spec §2.1) as the Rust partition search computes it with partition_lo = 0 and
// partition_hi = the stake total. With S(< s) and S(<= s) the stake of the scores below / not
// above s, that search returns the unique score T with S(< T) <= minority < S(<= T), i.e. the
// smallest score with S(<= s) > minority; when minority < 0 that is the smallest score, and when
// no score qualifies (minority >= the total) the largest. (Its ranges are always value intervals,
// lo and hi are exactly S(< range) and S(<= range), and the checks on empty sides only fire in
// those two edge cases.) The property test "weighted median equals the closed form of spec 2.1"
// states the same. Here T is found by a selection with any pivots.
//
// weightedQuantile finishes the search in v, a value interval of the column that contains T,
// with `below` = S(< v); it reorders v. Stakes are normalised (each <= 1, total <= 1,
// m <= 4096), so the int64 sums of their bits are exact and equal the Rust saturating sums.
I32F32 weightedQuantile(std::span<ScoreStake> v, int64_t minority, int64_t below) {
  if (v.empty()) return I32F32::zero();
  std::size_t b = 0;
  std::size_t e = v.size();
  for (int round = 0;; ++round) {
    if (round == 64) {
      // Pathological pivots: finish by sorting what is left (same T, O(m log m) worst case).
      std::sort(v.begin() + b, v.begin() + e,
                [](const ScoreStake& x, const ScoreStake& y) { return x.score < y.score; });
      for (std::size_t k = b; k < e; ++k) {
        below += v[k].stake;
        if ((k + 1 == e || v[k + 1].score != v[k].score) && minority < below)
          return I32F32::fromBits(v[k].score);
      }
      return I32F32::fromBits(v[e - 1].score);
    }
    const int64_t pivot = v[b + (e - b) / 2].score;
    int64_t lessStake = 0;
    int64_t equalStake = 0;
    std::size_t less = 0;
    std::size_t greater = 0;
    for (std::size_t k = b; k < e; ++k) {
      const ScoreStake x = v[k];
      const bool lt = x.score < pivot;
      const bool gt = x.score > pivot;
      lessStake += lt ? x.stake : 0;
      equalStake += (!lt && !gt) ? x.stake : 0;
      less += lt;
      greater += gt;
    }
    const int64_t belowPivot = below + lessStake;
    if (less > 0 && minority < belowPivot) {
      std::size_t w = b;
      for (std::size_t k = b; k < e; ++k) {
        v[w] = v[k];
        w += v[k].score < pivot ? 1 : 0;
      }
      e = w;
      continue;
    }
    const int64_t throughPivot = belowPivot + equalStake;
    if (minority < throughPivot || greater == 0) return I32F32::fromBits(pivot);
    std::size_t w = b;
    for (std::size_t k = b; k < e; ++k) {
      v[w] = v[k];
      w += v[k].score > pivot ? 1 : 0;
    }
    e = w;
    below = throughPivot;
  }
}

// Copies the entries of score/stake whose score satisfies keep into out; returns their count.
template <typename Keep>
std::size_t copyKept(const int64_t* score, const int64_t* stake, std::size_t m, ScoreStake* out,
                     Keep&& keep) {
  std::size_t w = 0;
  for (std::size_t k = 0; k < m; ++k) {
    out[w] = {score[k], stake[k]};
    w += keep(score[k]) ? 1 : 0;
  }
  return w;
}

// The two scans of a column's scores that read every score: their extremes, and the entries whose
// score lies in [first, first + width]. Both have a portable version and, on x86-64 CPUs with
// AVX2, one that looks at four scores at a time; the results are the same integers.
struct Extremes {
  int64_t lo;
  int64_t hi;
};

// m >= 1. Two independent chains each (a compare and a conditional move per score): one chain
// would make every score wait for the previous one's.
Extremes scoreExtremesPortable(const int64_t* score, std::size_t m) {
  int64_t lo = score[0];
  int64_t hi = score[0];
  int64_t lo2 = score[0];
  int64_t hi2 = score[0];
  std::size_t t = 1;
  for (; t + 2 <= m; t += 2) {
    const int64_t x = score[t];
    const int64_t y = score[t + 1];
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
    lo2 = y < lo2 ? y : lo2;
    hi2 = y > hi2 ? y : hi2;
  }
  if (t < m) {
    lo = std::min(lo, score[t]);
    hi = std::max(hi, score[t]);
  }
  return {std::min(lo, lo2), std::max(hi, hi2)};
}

// Copies the entries with first <= score <= first + width, in order, to out; returns their count.
// The bucket holding the median is typically m / 64 of them, so a predictable branch copies them.
std::size_t copyInRangePortable(const int64_t* score, const int64_t* stake, std::size_t m, uint64_t first,
                                uint64_t width, ScoreStake* out) {
  std::size_t w = 0;
  for (std::size_t k = 0; k < m; ++k) {
    if (static_cast<uint64_t>(score[k]) - first <= width) out[w++] = {score[k], stake[k]};
  }
  return w;
}

#if MERIT_CONSENSUS_AVX2
[[gnu::target("avx2")]] Extremes scoreExtremesAvx2(const int64_t* score, std::size_t m) {
  __m256i lo = _mm256_set1_epi64x(score[0]);
  __m256i hi = lo;
  std::size_t t = 0;
  for (; t + 4 <= m; t += 4) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(score + t));
    lo = _mm256_blendv_epi8(lo, v, _mm256_cmpgt_epi64(lo, v));  // v where v < lo
    hi = _mm256_blendv_epi8(hi, v, _mm256_cmpgt_epi64(v, hi));  // v where v > hi
  }
  alignas(32) std::array<int64_t, 4> los;
  alignas(32) std::array<int64_t, 4> his;
  _mm256_store_si256(reinterpret_cast<__m256i*>(los.data()), lo);
  _mm256_store_si256(reinterpret_cast<__m256i*>(his.data()), hi);
  Extremes e{std::min(std::min(los[0], los[1]), std::min(los[2], los[3])),
             std::max(std::max(his[0], his[1]), std::max(his[2], his[3]))};
  for (; t < m; ++t) {
    e.lo = std::min(e.lo, score[t]);
    e.hi = std::max(e.hi, score[t]);
  }
  return e;
}

[[gnu::target("avx2")]] std::size_t copyInRangeAvx2(const int64_t* score, const int64_t* stake, std::size_t m,
                                                    uint64_t first, uint64_t width, ScoreStake* out) {
  // score - first <= width as unsigned 64-bit values, with the signed compare AVX2 has: flipping
  // the top bit of both sides maps unsigned order onto signed order.
  const __m256i flip = _mm256_set1_epi64x(std::numeric_limits<int64_t>::min());
  const __m256i base = _mm256_set1_epi64x(static_cast<int64_t>(first));
  const __m256i limit = _mm256_xor_si256(_mm256_set1_epi64x(static_cast<int64_t>(width)), flip);
  std::size_t w = 0;
  std::size_t t = 0;
  for (; t + 4 <= m; t += 4) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(score + t));
    const __m256i above = _mm256_cmpgt_epi64(_mm256_xor_si256(_mm256_sub_epi64(v, base), flip), limit);
    unsigned in = ~static_cast<unsigned>(_mm256_movemask_pd(_mm256_castsi256_pd(above))) & 0xFu;
    while (in != 0) {  // in order: lowest lane first
      const std::size_t k = t + static_cast<std::size_t>(__builtin_ctz(in));
      out[w++] = {score[k], stake[k]};
      in &= in - 1;
    }
  }
  return w + copyInRangePortable(score + t, stake + t, m - t, first, width, out + w);
}
#endif

std::atomic<bool> g_vectorUnitsAllowed{true};

// Whether the AVX2 scans run: the CPU has AVX2 and setVectorUnitsAllowed did not turn them off.
bool useAvx2() {
#if MERIT_CONSENSUS_AVX2
  static const bool cpuHasAvx2 = __builtin_cpu_supports("avx2") != 0;
  return cpuHasAvx2 && g_vectorUnitsAllowed.load(std::memory_order_relaxed);
#else
  return false;
#endif
}

Extremes scoreExtremes(const int64_t* score, std::size_t m, bool avx2) {
#if MERIT_CONSENSUS_AVX2
  if (avx2) return scoreExtremesAvx2(score, m);
#endif
  (void)avx2;
  return scoreExtremesPortable(score, m);
}

std::size_t copyInRange(const int64_t* score, const int64_t* stake, std::size_t m, uint64_t first,
                        uint64_t width, ScoreStake* out, bool avx2) {
#if MERIT_CONSENSUS_AVX2
  if (avx2) return copyInRangeAvx2(score, stake, m, first, width, out);
#endif
  (void)avx2;
  return copyInRangePortable(score, stake, m, first, width, out);
}

// T of one column: m scores and their stakes; scratch holds m entries. One pass buckets the
// scores by their high bits above the column minimum and sums each bucket's stake; the first
// non-empty bucket whose cumulative stake exceeds minority is the value interval that holds T
// (every score in an earlier bucket has S(<= s) <= minority), and only its scores are copied
// out and searched further. When no bucket qualifies (minority >= the total), T is the largest.
I32F32 columnQuantile(const int64_t* score, const int64_t* stake, std::size_t m, int64_t minority,
                      ScoreStake* scratch, bool avx2) {
  constexpr int kBucketBits = 6;
  constexpr std::size_t kBuckets = std::size_t{1} << kBucketBits;
  if (m == 0) return I32F32::zero();
  const Extremes extremes = scoreExtremes(score, m, avx2);
  const int64_t lo = extremes.lo;  // (not a structured binding: a lambda below reads it)
  const int64_t hi = extremes.hi;
  if (lo < 0) {  // not produced by the epoch (weights are non-negative); keep the plain search
    for (std::size_t k = 0; k < m; ++k) scratch[k] = {score[k], stake[k]};
    return weightedQuantile({scratch, m}, minority, 0);
  }
  if (lo == hi) return I32F32::fromBits(lo);  // one distinct score: T is it either way
  const uint64_t range = static_cast<uint64_t>(hi - lo);
  const int rangeBits = 64 - __builtin_clzll(range);
  const int shift = rangeBits > kBucketBits ? rangeBits - kBucketBits : 0;
  // minority < 0: every score s has S(<= s) >= 0 > minority, so T is the smallest.
  if (minority < 0) return I32F32::fromBits(lo);
  // Two tables, for even and odd k: neighbouring scores often fall in one bucket, and with a
  // single table each such add would wait for the previous one's store.
  std::array<int64_t, kBuckets> bucketStake{};
  std::array<int64_t, kBuckets> oddStake{};
  const auto bucketOf = [&](std::size_t at) {
    return static_cast<std::size_t>(static_cast<uint64_t>(score[at] - lo) >> shift);
  };
  std::size_t t = 0;
  for (; t + 2 <= m; t += 2) {
    bucketStake[bucketOf(t)] += stake[t];
    oddStake[bucketOf(t + 1)] += stake[t + 1];
  }
  if (t < m) bucketStake[bucketOf(t)] += stake[t];
  for (std::size_t b = 0; b < kBuckets; ++b) bucketStake[b] += oddStake[b];
  // With minority >= 0 an empty bucket never qualifies (minority < below would have returned
  // at an earlier bucket, and below starts at 0), so buckets need no counts.
  int64_t below = 0;
  for (std::size_t bucket = 0; bucket < kBuckets; ++bucket) {
    if (minority < below + bucketStake[bucket]) {
      // The bucket's scores are those in [first, first + 2^shift - 1].
      const uint64_t first = static_cast<uint64_t>(lo) + (static_cast<uint64_t>(bucket) << shift);
      const uint64_t width = (uint64_t{1} << shift) - 1;
      const std::size_t w = copyInRange(score, stake, m, first, width, scratch, avx2);
      return weightedQuantile({scratch, w}, minority, below);
    }
    below += bucketStake[bucket];
  }
  return I32F32::fromBits(hi);  // no score reaches past minority: the largest
}

// weighted_median_col_sparse(stake, score, n, majority): equal to weightedMedianColSparse.
// byColumn and scratch are working memory.
//
// Each column's scores (one per positive-stake row, 0 where the row has no entry) are gathered
// column-major into byColumn. When every positive-stake row is uid-sorted they are gathered a
// block of columns at a time, with one cursor per row, into a buffer small enough to stay in
// cache, and each column's median is taken while its scores are still there; otherwise the whole
// matrix is transposed first. Both hand columnQuantile the same scores in the same row order.
std::vector<I32F32> columnMedians(const std::vector<I32F32>& stake, const Csr& score, std::size_t n,
                                  I32F32 majority, std::vector<int64_t>& byColumn,
                                  std::vector<ScoreStake>& scratch) {
  std::vector<I32F32> useStake;
  std::vector<uint32_t> useRow;
  for (std::size_t i = 0; i < n; ++i) {
    if (stake[i] > I32F32::zero()) {
      useStake.push_back(stake[i]);
      useRow.push_back(static_cast<uint32_t>(i));
    }
  }
  inplaceNormalize(useStake);
  const I32F32 minority = sum(useStake).saturatingSub(majority);
  const std::size_t m = useStake.size();
  const bool avx2 = useAvx2();
  std::vector<I32F32> median(n);
  if (m == 0) return median;
  std::vector<int64_t> stakeBits(m);
  for (std::size_t k = 0; k < m; ++k) stakeBits[k] = useStake[k].bits();
  if (scratch.size() < m) scratch.resize(m);
  const bool sorted =
      std::all_of(useRow.begin(), useRow.end(), [&](uint32_t row) { return score.isSortedRow(row); });
  if (!sorted) {
    byColumn.assign(n * m, 0);
    for (std::size_t k = 0; k < m; ++k) {
      const std::size_t row = useRow[k];
      for (std::size_t p = score.begin(row); p < score.end(row); ++p)
        byColumn[score.col[p] * m + k] = score.val[p].bits();
    }
    for (std::size_t j = 0; j < n; ++j) {
      median[j] =
          columnQuantile(byColumn.data() + j * m, stakeBits.data(), m, minority.bits(), scratch.data(), avx2);
    }
    return median;
  }
  // About 16 KiB of scores per block (at least one column), so the scattered writes of the
  // gather hit the L1 cache.
  const std::size_t blockColumns = std::max<std::size_t>(1, (std::size_t{1} << 11) / m);
  if (byColumn.size() < blockColumns * m) byColumn.resize(blockColumns * m);
  std::vector<uint32_t> cursor(m);
  for (std::size_t k = 0; k < m; ++k) cursor[k] = static_cast<uint32_t>(score.begin(useRow[k]));
  for (std::size_t first = 0; first < n; first += blockColumns) {
    const std::size_t last = std::min(n, first + blockColumns);
    std::fill(byColumn.begin(), byColumn.begin() + static_cast<std::ptrdiff_t>((last - first) * m), 0);
    for (std::size_t k = 0; k < m; ++k) {
      const std::size_t end = score.end(useRow[k]);
      std::size_t p = cursor[k];
      for (; p < end && score.col[p] < last; ++p)
        byColumn[(score.col[p] - first) * m + k] = score.val[p].bits();
      cursor[k] = static_cast<uint32_t>(p);
      // Each row is read a few entries at a time, one block after another: as many streams as
      // rows, more than the hardware prefetcher follows. Ask for the row's entries two blocks
      // ahead (in a dense row; further in a sparse one), which arrive while the other rows and
      // this block's medians are processed.
      const std::size_t ahead = std::min(p + 2 * blockColumns, score.size);  // stays in the arrays
      __builtin_prefetch(score.val.data() + ahead);
      __builtin_prefetch(score.col.data() + ahead);
    }
    for (std::size_t j = first; j < last; ++j) {
      median[j] = columnQuantile(byColumn.data() + (j - first) * m, stakeBits.data(), m, minority.bits(),
                                 scratch.data(), avx2);
    }
  }
  return median;
}

// The Rust peekable walk of liquid alpha over row [begin, end) for j = 0..n-1 (see
// liquidAlphaValuesSparse): out[j] is the entry with column j if the walk meets it, else 0.
// value(v) converts a stored entry to I32F32. In a row whose columns strictly increase the
// walk meets every entry (each entry's column is reached with all earlier entries, of smaller
// columns, already passed), so there out is the entries scattered over zeros.
template <typename V, typename Value>
void walkRow(const SparseRows<V>& m, std::size_t row, std::vector<I32F32>& out, Value&& value) {
  std::size_t p = m.begin(row);
  const std::size_t end = m.end(row);
  if (m.isSortedRow(row)) {
    std::fill(out.begin(), out.end(), I32F32::zero());
    for (; p < end; ++p) out[m.col[p]] = value(m.val[p]);
    return;
  }
  for (std::size_t j = 0; j < out.size(); ++j) {
    I32F32 v;
    while (p < end) {
      if (m.col[p] < j) {
        ++p;
      } else {
        if (m.col[p] == j) v = value(m.val[p]);
        break;
      }
    }
    out[j] = v;
  }
}

// alphaSigmoidCombined (math.h) for proportions, as the epoch's consensus, weights and bonds all
// are (in [0, 1]): their differences lie in [-1, 1], so the saturating subtractions and the clamp
// to one change nothing, and what is left compiles to conditional moves (the general version
// branched on each clamp, half of them mispredicted).
inline I32F32 combinedOfProportions(I32F32 consensus, I32F32 weight, I32F32 bond) {
  const int64_t buy = weight.bits() - consensus.bits();
  const int64_t sell = bond.bits() - weight.bits();
  const int64_t pick = weight >= bond ? buy : sell;
  return I32F32::fromBits(pick > 0 ? pick : 0);
}

// Liquid alpha's grids (math.h) for the last few hyperparameter sets a workspace's epochs used:
// the chain runs every subnet's epoch in one workspace, and subnets may set liquid alpha
// differently. The least recently used grid goes to a new set. A grid allocates its table (1.5
// MiB) on first use.
struct LiquidAlphaGrids {
  static constexpr std::size_t kSets = 4;
  std::array<LiquidAlphaGrid, kSets> grids;
  std::array<uint64_t, kSets> lastUse{};
  uint64_t uses = 0;

  LiquidAlphaGrid& forParameters(I32F32 scale, I32F32 alphaLow, I32F32 alphaHigh) {
    std::size_t pick = 0;
    for (std::size_t k = 0; k < kSets; ++k) {
      if (grids[k].usesParameters(scale, alphaLow, alphaHigh)) {
        pick = k;
        break;
      }
      if (lastUse[k] < lastUse[pick]) pick = k;
    }
    lastUse[pick] = ++uses;
    grids[pick].reset(scale, alphaLow, alphaHigh);  // keeps the grid's brackets if it matched
    return grids[pick];
  }
};

// ---- the epoch state ----
//
// Every value one epoch computes and a later stage reads: the stages below take it in order,
// each filling its part, so what flows between them is named here rather than in one long
// function's locals. It lives in the EpochWorkspace, so its vectors and matrices keep their
// capacity (and their memory stays mapped) from one epoch to the next; each stage overwrites
// its part in full before reading it, so nothing carries over between epochs but liquid alpha's
// grids, which hold exact values only.
struct EpochState {
  // Set by runEpoch from the input.
  std::size_t n = 0;
  std::size_t owner = 0;  // the owner's uid, or a value no uid equals
  bool hasOwner = false;
  std::vector<uint8_t> weightsSorted;  // per input row: uids strictly increase (from rowValid)
  std::vector<uint8_t> bondsSorted;
  std::vector<uint32_t> seen;  // rowValid's table (n entries, zeroed each epoch) and last stamp
  uint32_t stamp = 0;

  // stakeAndPermits
  std::vector<bool> inactive;
  std::vector<I32F32> stake;  // S
  std::vector<bool> permit;   // the stored permits (and the owner's): they gate this epoch
  std::vector<bool> newPermit;
  std::vector<I32F32> activeStake;   // A
  std::vector<uint64_t> registered;  // block at registration, per uid
  uint64_t lastRegistration = 0;     // the latest of them

  // weightsStage: W, row-normalised
  Csr weights;

  // consensusStage
  std::vector<I32F32> consensus;  // C
  bool liquidAlpha = false;       // Yuma 3 with liquid alpha and some consensus
  I32F32 bondsPenalty;
  // With bonds_penalty 1 and no liquid alpha the clipped matrix is not built: the bonds read the
  // weights through clipOf (clippedView). Otherwise, unless the penalty is 0, it is (buildClipped).
  bool clippedView = false;
  bool buildClipped = false;
  Csr clipped;                         // Wc, when buildClipped
  std::vector<I32F32> validatorTrust;  // row_sum_sparse(Wc)
  std::vector<I32F32> incentive;       // I
  // Yuma 2 with clippedView: the consensus pass stores its delta (clipped weight * active stake)
  // in place of each weight, and the column sums of it here.
  bool deltaHere = false;
  std::vector<I32F32> deltaColSum;

  // bondsStage
  Csr interpolated;                // interpolate_sparse(W, Wc, β) for 0 < β < 1
  Csr* weightsForBonds = nullptr;  // Wb: weights, clipped or interpolated
  BondRows bonds;                  // B: the old bonds kept, as stored u16
  std::vector<I32F32> bondColSum;  // Yuma 2: column sums of B in units
  Csr ema;                         // E
  std::vector<I32F32> emaColSum;
  LiquidAlphaGrids liquidAlphaGrids;  // liquid alpha's proven brackets, kept across epochs
  std::vector<I32F32> emaColMax;      // Yuma 2: each column's largest E entry

  // dividendsStage
  std::vector<I32F32> dividends;    // D
  std::vector<UidValue> storedRow;  // one stored bond row, before it is copied out

  // Working memory of the consensus stage.
  std::vector<int64_t> byColumn;
  std::vector<ScoreStake> scratch;

  // col_clip_sparse(weights, consensus) as a value of each weight entry (w >= 0): min(w, c_j),
  // and 0 where the Rust code drops the entry (c_j <= 0 < w). Reading a dropped entry as an
  // explicit 0 changes nothing where the bonds use the clipped weights through mat_ema_sparse
  // (Yuma 2's delta and Yuma 3 with a fixed alpha): a 0 adds nothing to any sum and alpha * 0
  // = 0, so every EMA value is the same and only values > 0 are kept. (Liquid alpha keeps
  // exactly the new matrix's entries, so there a 0 is not absence.)
  // As min(w, max(c_j, 0)), which is that value for w >= 0, it compiles to conditional moves:
  // about half the weights are clipped, a branch there mispredicts half the time.
  I32F32 clipOf(uint16_t j, I32F32 w) const { return std::min(w, std::max(consensus[j], I32F32::zero())); }
};

}  // namespace

// The working memory of runEpoch, kept between calls so that the large matrices reuse memory
// that is already mapped (first-touch page faults cost as much as the epoch's arithmetic).
struct EpochWorkspace::Buffers {
  EpochState state;
};

EpochWorkspace::EpochWorkspace() : m_buffers(std::make_unique<Buffers>()) {}
EpochWorkspace::~EpochWorkspace() = default;
EpochWorkspace::EpochWorkspace(EpochWorkspace&&) noexcept = default;
EpochWorkspace& EpochWorkspace::operator=(EpochWorkspace&&) noexcept = default;

void setVectorUnitsAllowed(bool allowed) {
  g_vectorUnitsAllowed.store(allowed, std::memory_order_relaxed);
}

uint64_t activityCutoffBlocks(uint64_t factorMilli, uint16_t tempo) {
  uint64_t blocks = static_cast<uint64_t>((static_cast<UInt128>(factorMilli) * tempo) / 1000);
  return std::max<uint64_t>(1, blocks);
}

namespace {

// The checks of validateEpochInput that come before the rows: the neuron count, the owner and the
// hyperparameters.
Result<void> validateHeader(const EpochInput& input) {
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
  return {};
}

// Whether the total stake stays below 2^63 (validateInput names where it does not).
bool totalStakeValid(const EpochInput& input) {
  uint64_t total = 0;
  for (const NeuronInput& neuron : input.neurons) {
    if (__builtin_add_overflow(total, neuron.stake, &total) || total >= kMaxTotalStake) return false;
  }
  return true;
}

// validateEpochInput, also recording which weight and bond rows are uid-sorted (one entry per
// neuron, filled when the input is valid).
//
// runEpoch does not call it: it checks the same things where it reads them (validateHeader, then
// each row as the weights and bonds stages take it, while it is in cache), and calls this only
// once something failed, for the first error in this order.
Result<void> validateInput(const EpochInput& input, std::vector<uint8_t>& weightsSorted,
                           std::vector<uint8_t>& bondsSorted) {
  MERIT_TRY(validateHeader(input));
  const std::size_t n = input.neurons.size();
  uint64_t totalStake = 0;
  std::vector<uint32_t> seen(n);
  uint32_t stamp = 0;
  weightsSorted.resize(n);
  bondsSorted.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const NeuronInput& neuron = input.neurons[i];
    if (__builtin_add_overflow(totalStake, neuron.stake, &totalStake) || totalStake >= kMaxTotalStake) {
      return fail(ErrorCode::kInvalidArgument,
                  "neurons[" + std::to_string(i) + "].stake: total stake reaches 2^63");
    }
    MERIT_TRY(validateRow(neuron.weights, n, i, "weights", seen, ++stamp, weightsSorted[i]));
    MERIT_TRY(validateRow(neuron.bonds, n, i, "bonds", seen, ++stamp, bondsSorted[i]));
  }
  return {};
}

// ---- the stages, in the order of spec yuma.md §4 ----

// Spec yuma.md: "4.1 activity", "4.2 stake", "4.3 validator permits", "4.4 active stake".
void stakeAndPermits(const EpochInput& input, EpochState& s) {
  const Hyperparameters& hp = input.hyperparameters;
  const std::vector<NeuronInput>& neurons = input.neurons;
  const std::size_t n = s.n;

  // activity
  s.inactive.assign(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    s.inactive[i] = saturatingAdd(neurons[i].lastUpdate, hp.activityCutoff) < input.currentBlock;
  }

  // stake: filter by threshold (owner exempt), normalise in I64F64, narrow to I32F32.
  // Stakes are integers, so I64F64 safe_div(f<<64, T<<64) equals floor((f << 64) / T) exactly.
  std::vector<uint64_t> filtered(n);
  UInt128 total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    bool exempt = s.owner == i;
    filtered[i] = (!exempt && neurons[i].stake < hp.stakeThreshold) ? 0 : neurons[i].stake;
    total += filtered[i];
  }
  s.stake.assign(n, I32F32::zero());
  for (std::size_t i = 0; i < n; ++i) {
    Int128 bits64 = total == 0 ? static_cast<Int128>(static_cast<UInt128>(filtered[i]) << 64)
                               : static_cast<Int128>((static_cast<UInt128>(filtered[i]) << 64) / total);
    s.stake[i] = I64F64::fromBits(bits64).toI32F32();
  }

  // validator permits: the stored (old) permits gate this epoch
  s.permit.assign(n, false);
  for (std::size_t i = 0; i < n; ++i) s.permit[i] = neurons[i].validatorPermit;
  if (s.hasOwner) s.permit[s.owner] = true;
  s.newPermit = isTopkNonzero(s.stake, hp.maxAllowedValidators);
  if (s.hasOwner) s.newPermit[s.owner] = true;

  // active stake
  s.activeStake = s.stake;
  for (std::size_t i = 0; i < n; ++i) {
    if (s.inactive[i] || !s.permit[i]) s.activeStake[i] = I32F32::zero();
  }
  inplaceNormalize(s.activeStake);

  // Registration blocks, for the weights' outdated mask and the bonds' recently-registered one.
  s.registered.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) s.registered[i] = neurons[i].blockAtRegistration;
  s.lastRegistration = n == 0 ? 0 : *std::max_element(s.registered.begin(), s.registered.end());
}

// Spec yuma.md: "4.5 weights". Permit rows, diagonal (owner's kept), outdated, commit-reveal;
// then each row normalised (inplace_row_normalize_sparse) as soon as it is complete.
//
// It also checks each neuron's weight row (rowValid) as it takes it, and returns false, having
// stopped, at the first invalid one.
bool weightsStage(const EpochInput& input, EpochState& s) {
  const Hyperparameters& hp = input.hyperparameters;
  const std::vector<NeuronInput>& neurons = input.neurons;
  const std::size_t n = s.n;
  const std::size_t owner = s.owner;
  const std::vector<uint64_t>& registered = s.registered;
  Csr& weights = s.weights;
  {
    std::size_t capacity = 0;
    for (std::size_t i = 0; i < n; ++i) capacity += s.permit[i] ? neurons[i].weights.size() : 0;
    weights.reset(n, capacity);
  }
  // The latest registration block: a row set after it (and committed no earlier) loses no entry
  // to the outdated or commit-reveal masks, so its loop only skips the diagonal.
  const uint64_t lastRegistration = s.lastRegistration;
  for (std::size_t i = 0; i < n; ++i) {
    if (!rowValid(neurons[i].weights, n, s.seen, ++s.stamp, s.weightsSorted[i])) return false;
    if (s.permit[i]) {
      const NeuronInput& neuron = neurons[i];
      const uint64_t commitBlock =
          hp.commitReveal && neuron.commitBlock ? *neuron.commitBlock : std::numeric_limits<uint64_t>::max();
      const std::size_t rowBegin = weights.size;
      // The row sum in whole units: at most kMaxNeurons * 65535 < 2^31, so I32F32::fromInt of
      // it is exact and equals the saturating I32F32 sum of the entries (which cannot saturate).
      uint64_t rowSumUnits = 0;
      const bool unmasked =
          neuron.lastUpdate > lastRegistration && (!hp.commitReveal || commitBlock >= lastRegistration);
      const uint16_t diagonal = static_cast<uint16_t>(i);  // i < kMaxNeurons
      const bool skipDiagonal = owner != i;
      if (unmasked) {
        // Only the diagonal is skipped (found once: by binary search in a uid-sorted row), so the
        // row is the entries before it and those after. The row sum comes first, from the input,
        // so that each entry is written once, already divided.
        const UidValue* first = neuron.weights.data();
        const UidValue* last = first + neuron.weights.size();
        const UidValue* skip = last;
        if (skipDiagonal) {
          if (s.weightsSorted[i] != 0) {
            skip = std::lower_bound(first, last, diagonal,
                                    [](const UidValue& w, uint16_t uid) { return w.uid < uid; });
          } else {
            skip = std::find_if(first, last, [&](const UidValue& w) { return w.uid == diagonal; });
          }
          if (skip != last && skip->uid != diagonal) skip = last;
        }
        const std::array<std::pair<const UidValue*, const UidValue*>, 2> parts = {
            {{first, skip}, {skip == last ? last : skip + 1, last}}};
        for (const auto& [from, to] : parts) rowSumUnits += sumOfValues(from, to);
        // inplace_row_normalize_sparse: each entry, fromInt(value), safe_div'ed by fromInt(the
        // row sum) where that is positive, which UnitsDivisor computes from the whole units
        // (values below 2^16, a sum below 2^31). A zero sum leaves the entries as they are,
        // all 0, which is also what UnitsDivisor(0) gives.
        const UnitsDivisor divisor(rowSumUnits);
        uint16_t* col = weights.colTail();
        I32F32* val = weights.valTail();
        std::size_t count = 0;
        for (const auto& [from, to] : parts) {
          for (const UidValue* w = from; w != to; ++w) {
            col[count] = w->uid;
            val[count] = divisor.divide(w->value);
            ++count;
          }
        }
        weights.appended(count);
      } else {
        for (const UidValue& w : neuron.weights) {
          const std::size_t j = w.uid;
          if (j == i && owner != i) continue;  // self-weight, except the owner's
          const uint64_t reg = registered[j];
          if (neuron.lastUpdate <= reg) continue;              // set before j (re)registered
          if (hp.commitReveal && commitBlock < reg) continue;  // committed before j registered
          weights.push(w.uid, I32F32::fromInt(w.value));
          rowSumUnits += w.value;
        }
        // As above, in place: the units are read back from the entry just stored.
        if (rowSumUnits > 0) {
          const UnitsDivisor divisor(rowSumUnits);
          for (std::size_t p = rowBegin; p < weights.size; ++p) {
            weights.val[p] = divisor.divide(static_cast<uint64_t>(weights.val[p].bits()) >> 32);
          }
        }
      }
    }
    weights.endRow(s.weightsSorted[i] != 0);  // a subsequence of input row i
  }
  return true;
}

// Spec yuma.md: "4.6 consensus, clipping, validator trust" and "4.7 rank / incentive".
// Consensus, then clipping, validator trust and incentive in one pass over the weight rows.
void consensusStage(const EpochInput& input, EpochState& s) {
  const Hyperparameters& hp = input.hyperparameters;
  const std::size_t n = s.n;
  Csr& weights = s.weights;
  const I32F32 kappa = u16ProportionToFixed(hp.kappa);
  s.consensus = columnMedians(s.activeStake, weights, n, kappa, s.byColumn, s.scratch);
  const std::vector<I32F32>& consensus = s.consensus;
  const bool anyConsensus =
      std::any_of(consensus.begin(), consensus.end(), [](I32F32 c) { return c != I32F32::zero(); });
  s.liquidAlpha = hp.yuma3 && hp.liquidAlpha && anyConsensus;
  s.bondsPenalty = u16ProportionToFixed(hp.bondsPenalty);
  s.clippedView = s.bondsPenalty == I32F32::one() && !s.liquidAlpha;
  s.buildClipped = s.bondsPenalty != I32F32::zero() && !s.clippedView;
  const bool buildClipped = s.buildClipped;
  Csr& clipped = s.clipped;
  clipped.reset(n, buildClipped ? weights.size : 0);
  std::vector<I32F32>& validatorTrust = s.validatorTrust;  // row_sum_sparse(clipped)
  std::vector<I32F32>& incentive = s.incentive;  // matmul_sparse(clipped, active_stake), then normalised
  validatorTrust.assign(n, I32F32::zero());
  incentive.assign(n, I32F32::zero());
  // Yuma 2 reading the clipped weights through clipOf: its delta, row_hadamard(clipped,
  // active_stake), is the very product the incentive sums (clipOf(w) * active_stake[i]), so this
  // pass stores it in place of the weight (which nothing reads afterwards), and its column sums
  // are the incentive before normalisation: the same products added in the same order.
  s.deltaHere = !hp.yuma3 && s.clippedView;
  const bool deltaHere = s.deltaHere;
  std::vector<I32F32>& deltaColSum = s.deltaColSum;
  deltaColSum.assign(n, I32F32::zero());
  const auto pass = [&](auto clipFlag, auto deltaFlag) {
    constexpr bool kBuildClipped = decltype(clipFlag)::value;
    constexpr bool kDeltaHere = decltype(deltaFlag)::value;
    for (std::size_t i = 0; i < n; ++i) {
      withFlag(s.activeStake[i] < I32F32::one(), [&](auto belowOne) {
        constexpr bool kBelowOne = decltype(belowOne)::value;
        const I32F32 scale = s.activeStake[i];  // a local of the loop (see emaRows on captures)
        I32F32 trust;
        for (std::size_t p = weights.begin(i); p < weights.end(i); ++p) {
          const uint16_t j = weights.col[p];
          // A dropped entry adds 0 to the trust and incentive sums, so clipOf serves for both.
          const I32F32 v = s.clipOf(j, weights.val[p]);
          if constexpr (kBuildClipped) {
            // col_clip_sparse keeps every entry except a positive weight in a column with c_j <= 0.
            const bool dropped = !(consensus[j] > I32F32::zero()) && consensus[j] < weights.val[p];
            if (!dropped) clipped.push(j, v);
          }
          // v, scale and their product are proportions; trust and incentive[j] sum at most n of them.
          const I32F32 product = mulProportionsBy<kBelowOne>(scale, v);
          trust = addBounded(trust, v);
          incentive[j] = addBounded(incentive[j], product);
          if constexpr (kDeltaHere) weights.val[p] = product;
        }
        validatorTrust[i] = trust;
      });
      if constexpr (kBuildClipped) clipped.endRow(weights.isSortedRow(i));  // a subsequence of weights row i
    }
  };
  withFlag(buildClipped,
           [&](auto clipFlag) { withFlag(deltaHere, [&](auto deltaFlag) { pass(clipFlag, deltaFlag); }); });
  if (deltaHere) deltaColSum = incentive;
  inplaceNormalize(incentive);
}

// mat_ema_sparse(newM, bonds, alpha) into s.ema, with alpha * newM's entries given by
// newTerm(p, j) for the entries p of `structure` and (1 - alpha) * the old bonds' by
// oldTerm(q, j), j being the entry's column: kept entries
// > 0 (their sum, or a term alone where only one side has the column), in column order, and
// their column sums in emaColSum (and, with TrackMax, their column maxima in emaColMax). Both
// values are proportions (Yuma 3: weights and bonds in [0, 1]; Yuma 2: column-normalised), as
// are alpha and 1 - alpha, so each product is a proportion, alpha*new + (1-alpha)*old <= alpha +
// (1 - alpha) = 1, and a column sums at most n of them: the unchecked operations are exact.
//
// newTerm and oldTerm are taken by value and should capture by value what they read (scalars,
// array bases): what they reach through a reference could be changed by the stores here as far
// as the compiler can tell, and would be reloaded for every entry.
template <bool TrackMax, typename NewTerm, typename OldTerm>
void emaRows(EpochState& s, const Csr& structure, NewTerm newTerm, OldTerm oldTerm) {
  const std::size_t n = s.n;
  const BondRows& bonds = s.bonds;
  Csr& ema = s.ema;
  std::vector<I32F32>& emaColSum = s.emaColSum;
  std::vector<I32F32>& emaColMax = s.emaColMax;
  DenseRow<I32F32> acc(n);
  ema.reset(n, structure.size + bonds.size);  // a row's entries are among its two inputs' columns
  // Written through local pointers that advance (see SparseRows::colTail): through ema and the
  // vectors, or with a size_t count, every store of a value (an int64, which may alias a size_t
  // but not a pointer) would make the compiler reload and store them.
  uint16_t* outCol = ema.col.data();
  I32F32* outVal = ema.val.data();
  I32F32* colSum = emaColSum.data();
  I32F32* colMax = emaColMax.data();
  auto emit = [&](uint16_t j, I32F32 v) {
    if (v > I32F32::zero()) {
      *outCol++ = j;
      *outVal++ = v;
      colSum[j] = addBounded(colSum[j], v);
      if constexpr (TrackMax) {
        // A branch, not std::max: that returns a reference, which kept v in memory and made
        // every entry wait on a store to the stack. A column's maximum rarely changes.
        if (colMax[j] < v) colMax[j] = v;
      }
    }
  };
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t pBegin = structure.begin(i);
    const std::size_t pEnd = structure.end(i);
    const std::size_t qBegin = bonds.begin(i);
    const std::size_t qEnd = bonds.end(i);
    const bool sorted = structure.isSortedRow(i) && bonds.isSortedRow(i);
    if (sorted && pEnd - pBegin == qEnd - qBegin &&
        std::equal(structure.col.data() + pBegin, structure.col.data() + pEnd, bonds.col.data() + qBegin)) {
      // The same columns on both sides (the common case: a validator keeps weighting the uids
      // it holds bonds on): the merge below would take its "both" branch for every entry.
      const uint16_t* col = structure.col.data() + pBegin;
      const std::size_t count = pEnd - pBegin;
      for (std::size_t k = 0; k < count; ++k) {
        const uint16_t j = col[k];
        emit(j, addBounded(newTerm(pBegin + k, j), oldTerm(qBegin + k, j)));
      }
    } else if (sorted) {
      // Both rows in column order: merge them (the same sums, 0 + alpha*new + (1-alpha)*old).
      std::size_t p = pBegin;
      std::size_t q = qBegin;
      while (p < pEnd && q < qEnd) {
        const uint16_t a = structure.col[p];
        const uint16_t b = bonds.col[q];
        if (a == b) {  // the common case first
          emit(a, addBounded(newTerm(p, a), oldTerm(q, a)));
          ++p;
          ++q;
        } else if (a < b) {
          emit(a, newTerm(p, a));
          ++p;
        } else {
          emit(b, oldTerm(q, b));
          ++q;
        }
      }
      for (; p < pEnd; ++p) emit(structure.col[p], newTerm(p, structure.col[p]));
      for (; q < qEnd; ++q) emit(bonds.col[q], oldTerm(q, bonds.col[q]));
    } else {
      for (std::size_t p = pBegin; p < pEnd; ++p) {
        I32F32& a = acc.at(structure.col[p]);
        a = addBounded(a, newTerm(p, structure.col[p]));
      }
      for (std::size_t q = qBegin; q < qEnd; ++q) {
        I32F32& a = acc.at(bonds.col[q]);
        a = addBounded(a, oldTerm(q, bonds.col[q]));
      }
      acc.drain(emit);
    }
    ema.appended(static_cast<std::size_t>(outCol - ema.colTail()));
    ema.endRow(true);  // merged or drained in column order
  }
}

// Yuma 3 with liquid alpha: E = mat_ema_alpha_sparse(weights_for_bonds, bonds, liquid alphas)
// and its column sums, from s.weightsForBonds and s.bonds. Not inlined: inside bondsStage it
// made GCC move Yuma 2's EMA out of line (+8 M instructions, 3%, per Yuma 2 epoch).
[[gnu::noinline]] void emaLiquidAlpha(const Hyperparameters& hp, EpochState& s) {
  const std::size_t n = s.n;
  const Csr& wb = *s.weightsForBonds;
  const BondRows& bonds = s.bonds;
  const std::vector<I32F32>& consensus = s.consensus;
  Csr& ema = s.ema;
  std::vector<I32F32>& emaColSum = s.emaColSum;
  // As matEmaLiquidAlphaSparse: alpha only where the EMA reads it. alpha_sigmoid depends on
  // (consensus, weight, bond) only through `combined` in [0, 1]; its two clamped values are
  // computed once. For the others a row's values are gathered and given to the workspace's
  // LiquidAlphaGrid, which takes each value's alpha from the bracket it falls in, proven once
  // (exp at a few points of the bracket) and kept while the hyperparameters stay the same, and
  // computes only the values no bracket proves (math.h).
  const I32F32 alphaLow = u16ProportionToFixed(hp.alphaLow);
  const I32F32 alphaHigh = u16ProportionToFixed(hp.alphaHigh);
  const I32F32 scale = alphaSigmoidScale(I32F32::fromInt(hp.alphaSigmoidSteepness));
  const I32F32 zero = I32F32::zero();
  const I32F32 one = I32F32::one();
  const I32F32 alphaAtZero = alphaFromExp(expSafe(alphaSigmoidExponent(zero, scale)), alphaLow, alphaHigh);
  const I32F32 alphaAtOne = alphaFromExp(expSafe(alphaSigmoidExponent(one, scale)), alphaLow, alphaHigh);
  std::vector<I32F32> w(n);
  std::vector<I32F32> b(n);
  std::vector<I32F32> alphaRow(n);
  std::vector<I32F32> scratch(n);
  std::vector<uint16_t> expCol(n);  // the columns whose alpha needs exp, their combined values
  std::vector<I32F32> expCombined(n);
  std::vector<I32F32> expAlpha(n);
  std::vector<I32F32> entryBond(n);   // sorted rows: per entry of the weights row, its bond
  std::vector<I32F32> entryAlpha(n);  // and its alpha
  LiquidAlphaGrid& grid = s.liquidAlphaGrids.forParameters(scale, alphaLow, alphaHigh);
  ema.reset(n, wb.size);  // only the entries of the rows of wb survive
  // matEmaAlphaRow: only the new row's entries survive, in its order. Every factor is a
  // proportion (alpha in [alphaLow, alphaHigh] within [0, 1], 1 - alpha, the bond, the weight),
  // so the saturating operations are mulProportions and addBounded (a column sum of at most n
  // values <= 1 cannot saturate). An entry with no bond has (1 - alpha) * 0 = 0 as its old term.
  // Every alpha lies in [alphaLow, alphaHigh] (alphaFromExp clamps it there), so when alphaLow > 0
  // and alphaHigh < 1 both alpha and 1 - alpha are below one (mulProportionsBy). Entries are
  // written through local pointers, as in emaRows.
  uint16_t* outCol = ema.col.data();
  I32F32* outVal = ema.val.data();
  I32F32* colSum = emaColSum.data();
  const auto rows = [&](auto belowOne) {
    constexpr bool kBelowOne = decltype(belowOne)::value;
    auto emit = [&](uint16_t j, I32F32 alpha, I32F32 weight, I32F32 bond) {
      const I32F32 inc = mulProportionsBy<kBelowOne>(alpha, weight);  // >= 0: max(0, .) is itself
      const I32F32 v =
          std::min(addBounded(mulProportionsBy<kBelowOne>(one.saturatingSub(alpha), bond), inc), one);
      if (v > zero) {
        *outCol++ = j;
        *outVal++ = v;
        colSum[j] = addBounded(colSum[j], v);
      }
    };
    for (std::size_t i = 0; i < n; ++i) {
      if (wb.rowEmpty(i)) {
        ema.endRow(true);
        continue;
      }
      const std::size_t pBegin = wb.begin(i);
      const std::size_t pEnd = wb.end(i);
      if (wb.isSortedRow(i) && bonds.isSortedRow(i)) {
        // Both rows in column order: the walks meet every entry, so an entry's weight is its own
        // value and its bond the bonds row's entry of the same column (0 if none), found by
        // merging; no dense row is filled or cleared.
        std::size_t q = bonds.begin(i);
        const std::size_t qEnd = bonds.end(i);
        std::size_t expCount = 0;
        for (std::size_t p = pBegin; p < pEnd; ++p) {
          const uint16_t j = wb.col[p];
          while (q < qEnd && bonds.col[q] < j) ++q;
          const I32F32 bond = q < qEnd && bonds.col[q] == j ? bondProportion(bonds.val[q]) : zero;
          const std::size_t k = p - pBegin;
          entryBond[k] = bond;
          const I32F32 combined = combinedOfProportions(consensus[j], wb.val[p], bond);
          // Without branches (combined is 0 for about half the entries, at random): the clamped
          // alpha is stored either way and the entry is listed either way, but the list only
          // grows, and grid.compute's alpha replaces the stored one, for a value strictly inside.
          entryAlpha[k] = combined == zero ? alphaAtZero : alphaAtOne;
          expCol[expCount] = static_cast<uint16_t>(k);
          expCombined[expCount] = combined;
          expCount += (combined != zero && combined != one) ? 1 : 0;
        }
        grid.compute(std::span(expCombined.data(), expCount), std::span(expAlpha.data(), expCount));
        for (std::size_t e = 0; e < expCount; ++e) entryAlpha[expCol[e]] = expAlpha[e];
        for (std::size_t p = pBegin; p < pEnd; ++p) {
          const std::size_t k = p - pBegin;
          emit(wb.col[p], entryAlpha[k], wb.val[p], entryBond[k]);
        }
      } else {
        // The Rust peekable walks over dense rows (an unsorted row's entries passed over count as 0).
        walkRow(wb, i, w, [](I32F32 v) { return v; });
        walkRow(bonds, i, b, bondProportion);
        std::size_t expCount = 0;
        for (std::size_t p = pBegin; p < pEnd; ++p) {
          const uint16_t j = wb.col[p];
          const I32F32 combined = combinedOfProportions(consensus[j], w[j], b[j]);
          alphaRow[j] = combined == zero ? alphaAtZero : alphaAtOne;  // as above
          expCol[expCount] = j;
          expCombined[expCount] = combined;
          expCount += (combined != zero && combined != one) ? 1 : 0;
        }
        grid.compute(std::span(expCombined.data(), expCount), std::span(expAlpha.data(), expCount));
        for (std::size_t e = 0; e < expCount; ++e) alphaRow[expCol[e]] = expAlpha[e];
        // The old term of a column with a bond entry (the dense b holds what the walk met, the
        // bond entry itself is what the EMA reads).
        for (std::size_t q = bonds.begin(i); q < bonds.end(i); ++q)
          scratch[bonds.col[q]] = bondProportion(bonds.val[q]);
        for (std::size_t p = pBegin; p < pEnd; ++p) {
          const uint16_t j = wb.col[p];
          emit(j, alphaRow[j], wb.val[p], scratch[j]);
        }
        for (std::size_t q = bonds.begin(i); q < bonds.end(i); ++q) scratch[bonds.col[q]] = zero;
      }
      ema.appended(static_cast<std::size_t>(outCol - ema.colTail()));
      ema.endRow(wb.isSortedRow(i));  // in the order of wb row i
    }
  };
  withFlag(alphaLow > zero && alphaHigh < one, rows);
}

// Spec yuma.md: "4.8 bonds & dividends" and "4.9 Yuma3 branch (`Yuma3On`)", up to the EMA of
// the bonds (E); dividendsStage continues from it.
//
// It also checks each neuron's bond row as it loads it, and returns false, having stopped, at the
// first invalid one.
bool bondsStage(const EpochInput& input, EpochState& s) {
  const Hyperparameters& hp = input.hyperparameters;
  const std::vector<NeuronInput>& neurons = input.neurons;
  const std::size_t n = s.n;
  const std::vector<uint64_t>& registered = s.registered;
  const I32F32 bondsPenalty = s.bondsPenalty;
  Csr& weights = s.weights;
  Csr& clipped = s.clipped;

  // interpolate_sparse(weights, clipped, n, bonds_penalty): a copy-free choice at 0 and 1 (at 1
  // the weights read through clipOf when clippedView).
  Csr& interpolated = s.interpolated;
  s.weightsForBonds = &clipped;
  if (bondsPenalty == I32F32::zero() || s.clippedView) {
    s.weightsForBonds = &weights;
  } else if (bondsPenalty != I32F32::one()) {
    struct Pair {
      I32F32 a;
      I32F32 b;
    };
    DenseRow<Pair> row(n);
    interpolated.reset(n, weights.size);  // a row's entries are among its weights' columns
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t p = weights.begin(i); p < weights.end(i); ++p)
        row.at(weights.col[p]).a = weights.val[p];
      for (std::size_t p = clipped.begin(i); p < clipped.end(i); ++p)
        row.at(clipped.col[p]).b = clipped.val[p];
      row.drain([&](uint16_t j, const Pair& x) {
        const I32F32 v = x.a.saturatingAdd(bondsPenalty.saturatingMul(x.b.saturatingSub(x.a)));
        if (I32F32::zero() < v) interpolated.push(j, v);
      });
      interpolated.endRow(true);  // drained in column order
    }
    s.weightsForBonds = &interpolated;
  }
  Csr& wb = *s.weightsForBonds;

  const uint64_t lastTempo = input.lastMechanismStepBlock == 0
                                 ? saturatingSub(input.currentBlock, input.tempo)
                                 : saturatingAdd(input.lastMechanismStepBlock, 1);
  // Old bonds to a uid registered since the last epoch are dropped. They keep their stored u16
  // values; Yuma 3 reads them as proportions (bondProportion), Yuma 2 as raw values (bondUnits),
  // and bondColSum receives Yuma 2's column sums.
  BondRows& bonds = s.bonds;
  std::vector<I32F32>& bondColSum = s.bondColSum;
  bondColSum.assign(n, I32F32::zero());
  {
    std::size_t capacity = 0;
    for (std::size_t i = 0; i < n; ++i) capacity += neurons[i].bonds.size();
    bonds.reset(n, capacity);
    // When every uid registered before lastTempo, no bond is dropped and the check is skipped.
    const bool masked = lastTempo <= s.lastRegistration;
    const bool yuma3 = hp.yuma3;
    I32F32* colSum = bondColSum.data();
    for (std::size_t i = 0; i < n; ++i) {
      if (!rowValid(neurons[i].bonds, n, s.seen, ++s.stamp, s.bondsSorted[i])) return false;
      uint16_t* col = bonds.colTail();  // local pointers, as in emaRows
      uint16_t* val = bonds.valTail();
      std::size_t count = 0;
      withFlag(masked, [&](auto maskedFlag) {
        withFlag(yuma3, [&](auto yuma3Flag) {
          for (const UidValue& b : neurons[i].bonds) {
            if (decltype(maskedFlag)::value && lastTempo <= registered[b.uid]) continue;
            col[count] = b.uid;
            val[count] = b.value;
            ++count;
            // Yuma 2's column sums (Yuma 3 needs none). At most n values below 2^48 per column:
            // the sum cannot saturate.
            if (!decltype(yuma3Flag)::value) colSum[b.uid] = addBounded(colSum[b.uid], bondUnits(b.value));
          }
        });
      });
      bonds.appended(count);
      bonds.endRow(s.bondsSorted[i] != 0);  // a subsequence of input row i
    }
  }

  const I32F32 alpha = emaAlpha(hp.bondsMovingAverage);
  const I32F32 oneMinusAlpha = I32F32::one().saturatingSub(alpha);
  const bool alphasBelowOne = alpha < I32F32::one() && oneMinusAlpha < I32F32::one();
  std::vector<I32F32>& emaColSum = s.emaColSum;
  emaColSum.assign(n, I32F32::zero());
  // Yuma 2 only: the largest kept EMA entry of each column, before normalisation. Column
  // normalisation divides every entry of column j by the same emaColSum[j], and
  // floor(a * 2^32 / d) does not decrease as a grows, so the maximum of the normalised column
  // is the normalised maximum: colMax[j] = emaNorm(j, emaColMax[j]) exactly, with no pass over
  // the normalised matrix (an empty column gives 0 either way).
  s.emaColMax.assign(hp.yuma3 ? 0 : n, I32F32::zero());
  if (hp.yuma3) {
    if (s.liquidAlpha) {
      emaLiquidAlpha(input.hyperparameters, s);
    } else {
      withFlag(alphasBelowOne, [&](auto belowOne) {
        constexpr bool kBelowOne = decltype(belowOne)::value;
        const auto oldTerm = [oneMinusAlpha, bond = bonds.val.data()](std::size_t q, uint16_t) {
          return mulProportionsBy<kBelowOne>(oneMinusAlpha, bondProportion(bond[q]));
        };
        const I32F32* weight = wb.val.data();
        if (s.clippedView) {
          emaRows<false>(
              s, wb,
              [alpha, weight, &s](std::size_t p, uint16_t j) {
                return mulProportionsBy<kBelowOne>(alpha, s.clipOf(j, weight[p]));
              },
              oldTerm);
        } else {
          emaRows<false>(
              s, wb,
              [alpha, weight](std::size_t p, uint16_t) {
                return mulProportionsBy<kBelowOne>(alpha, weight[p]);
              },
              oldTerm);
        }
      });
    }
  } else {
    // bonds column-normalised; delta = col_normalize(row_hadamard(weights_for_bonds, active_stake)),
    // kept in place of weights_for_bonds' values, which nothing reads afterwards.
    // col_normalize(bonds): each raw bond, fromInt(b), safe_div'ed by its column's sum of them,
    // a whole number of units below 4096 * 65536 (bondColSum holds fromInt of it): UnitsDivisor.
    std::vector<UnitsDivisor> bondNorm(n);
    for (std::size_t j = 0; j < n; ++j)
      bondNorm[j] = UnitsDivisor(static_cast<uint64_t>(bondColSum[j].bits()) >> 32);
    UninitializedArray<I32F32>& delta = wb.val;
    std::vector<I32F32>& deltaColSum = s.deltaColSum;
    for (std::size_t i = 0; !s.deltaHere && i < n; ++i) {  // (else the consensus pass made delta)
      for (std::size_t p = wb.begin(i); p < wb.end(i); ++p) {
        // A proportion (weights, clipped or interpolated) times active stake; n per column.
        const I32F32 d = mulProportions(wb.val[p], s.activeStake[i]);
        delta[p] = d;
        deltaColSum[wb.col[p]] = addBounded(deltaColSum[wb.col[p]], d);
      }
    }
    const ColumnDivisors deltaNorm(deltaColSum);
    withFlag(alphasBelowOne, [&](auto belowOne) {
      constexpr bool kBelowOne = decltype(belowOne)::value;
      emaRows<true>(
          s, wb,
          [alpha, norm = deltaNorm.data(), d = delta.data()](std::size_t p, uint16_t j) {
            return mulProportionsBy<kBelowOne>(alpha, norm[j].divide(d[p]));
          },
          [oneMinusAlpha, norm = bondNorm.data(), b = bonds.val.data()](std::size_t q, uint16_t j) {
            return mulProportionsBy<kBelowOne>(oneMinusAlpha, norm[j].divide(b[q]));
          });
    });
  }
  return true;
}

// Spec yuma.md: "4.8 bonds & dividends" and "4.9 Yuma3 branch (`Yuma3On`)", from the EMA of
// the bonds: dividends, and the bond rows stored for the next epoch (only rows with a new
// permit; each entry fixedProportionToU16 of a proportion: Yuma 3 the EMA, Yuma 2 the normalised
// EMA max-upscaled per column, inplace_col_max_upscale_sparse).
std::vector<std::vector<UidValue>> dividendsStage(const EpochInput& input, EpochState& s) {
  const std::size_t n = s.n;
  const Csr& ema = s.ema;
  const std::vector<I32F32>& incentive = s.incentive;
  std::vector<I32F32>& dividends = s.dividends;
  dividends.assign(n, I32F32::zero());
  std::vector<std::vector<UidValue>> storedBonds(n);
  // A stored row is written here first, then copied into a vector allocated to its size (resize
  // would first write every entry with zeros, UidValue having default member values).
  s.storedRow.resize(n);  // a row holds at most n entries
  const bool incentiveBelowOne =
      std::all_of(incentive.begin(), incentive.end(), [](I32F32 x) { return x < I32F32::one(); });
  if (input.hyperparameters.yuma3) {
    // bonds_per_validator = row_sum(mat_vec_mul(col_normalize(ema), incentive)); the products
    // mat_vec_mul drops are zeros, which do not change the row sums.
    const ColumnDivisors emaNorm(s.emaColSum);
    withFlag(incentiveBelowOne, [&](auto belowOne) {
      constexpr bool kBelowOne = decltype(belowOne)::value;
      for (std::size_t i = 0; i < n; ++i) {
        I32F32 perValidator;
        for (std::size_t p = ema.begin(i); p < ema.end(i); ++p) {
          const uint16_t j = ema.col[p];
          // Column-normalised EMA entries and incentives are proportions; n products at most.
          perValidator = addBounded(perValidator,
                                    mulProportionsBy<kBelowOne>(incentive[j], emaNorm.apply(j, ema.val[p])));
        }
        dividends[i] = perValidator.checkedMul(s.activeStake[i]).value_or(I32F32::zero());  // vec_mul
      }
    });
    inplaceNormalize(dividends);
    // The stored bonds are the EMA itself.
    for (std::size_t i = 0; i < n; ++i) {
      if (!s.newPermit[i]) continue;
      UidValue* stored = s.storedRow.data();
      for (std::size_t p = ema.begin(i); p < ema.end(i); ++p)
        *stored++ = {ema.col[p], proportionToU16(ema.val[p])};
      storedBonds[i].assign(s.storedRow.data(), stored);
    }
  } else {
    const std::vector<I32F32>& emaColSum = s.emaColSum;
    const std::vector<I32F32>& emaColMax = s.emaColMax;
    const std::vector<bool>& newPermit = s.newPermit;
    // One pass over the EMA rows for dividends = matmul_transpose(col_normalize(ema), incentive)
    // and the stored bonds, which need the normalised EMA's column maxima first: those come
    // from the raw maxima (see emaColMax), so the normalised matrix is never stored or re-read.
    const ColumnDivisors emaNorm(emaColSum);
    std::vector<I32F32> colMax(n);
    for (std::size_t j = 0; j < n; ++j) colMax[j] = emaNorm.apply(j, emaColMax[j]);  // max <= sum
    const ColumnDivisors maxUpscale(colMax);
    withFlag(incentiveBelowOne, [&](auto belowOne) {
      constexpr bool kBelowOne = decltype(belowOne)::value;
      for (std::size_t i = 0; i < n; ++i) {
        I32F32 acc;
        const std::size_t pBegin = ema.begin(i);
        const std::size_t pEnd = ema.end(i);
        if (newPermit[i]) {
          UidValue* stored = s.storedRow.data();
          for (std::size_t p = pBegin; p < pEnd; ++p) {
            const uint16_t j = ema.col[p];
            const I32F32 v = emaNorm.apply(j, ema.val[p]);
            acc = addBounded(acc, mulProportionsBy<kBelowOne>(incentive[j], v));  // n products at most
            *stored++ = {j, proportionToU16(maxUpscale.apply(j, v))};             // v <= colMax[j]
          }
          storedBonds[i].assign(s.storedRow.data(), stored);
        } else {
          for (std::size_t p = pBegin; p < pEnd; ++p) {
            const uint16_t j = ema.col[p];
            acc = addBounded(acc, mulProportionsBy<kBelowOne>(incentive[j], emaNorm.apply(j, ema.val[p])));
          }
        }
        dividends[i] = acc;
      }
    });
    inplaceNormalize(dividends);
  }
  return storedBonds;
}

// Spec yuma.md: "4.8b emission split (after either bonds branch)" and "4.10 Outputs /
// persistence (`persist_*_epoch_terms`)".
EpochOutput emissionStage(const EpochInput& input, const EpochState& s,
                          std::vector<std::vector<UidValue>> storedBonds) {
  const std::size_t n = s.n;
  const std::vector<I32F32>& incentive = s.incentive;
  const std::vector<I32F32>& dividends = s.dividends;
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
    const std::vector<I32F32>& fallback = isZero(s.activeStake) ? s.stake : s.activeStake;
    validatorShare = fallback;
    combinedShare = fallback;
  }

  EpochOutput out;
  out.active.resize(n);
  for (std::size_t i = 0; i < n; ++i) out.active[i] = !s.inactive[i];
  out.stakeWeight = toU16(s.stake);
  out.consensus = toU16(s.consensus);
  out.incentive = toU16(incentive);
  out.dividends = toU16(dividends);
  out.validatorTrust = toU16(s.validatorTrust);
  out.emission = toAmounts(combinedShare, input.raoEmission);
  out.serverEmission = toAmounts(serverShare, input.raoEmission);
  out.validatorEmission = toAmounts(validatorShare, input.raoEmission);
  out.validatorPermit = s.newPermit;
  out.bonds = std::move(storedBonds);
  return out;
}

}  // namespace

Result<void> validateEpochInput(const EpochInput& input) {
  std::vector<uint8_t> weightsSorted;
  std::vector<uint8_t> bondsSorted;
  return validateInput(input, weightsSorted, bondsSorted);
}

Result<EpochOutput> runEpoch(const EpochInput& input) {
  EpochWorkspace workspace;
  return runEpoch(input, workspace);
}

// The epoch as the spec's sequence of stages over one EpochState (each stage's comment names
// the sections of spec yuma.md it implements; consensus_spec::specEpoch is the same sequence
// written plainly).
Result<EpochOutput> runEpoch(const EpochInput& input, EpochWorkspace& workspace) {
  EpochState& s = workspace.m_buffers->state;
  MERIT_TRY(validateHeader(input));
  // The rows are checked as the stages read them; at the first fault, the full validation
  // (which nothing in the workspace depends on) names the first error in its order.
  const auto invalid = [&]() -> Result<EpochOutput> {
    MERIT_TRY(validateInput(input, s.weightsSorted, s.bondsSorted));
    MERIT_ASSERT(false);  // a stage found a fault that validateInput does not
    return fail(ErrorCode::kInternal, "epoch input check");
  };
  if (!totalStakeValid(input)) return invalid();
  s.n = input.neurons.size();
  s.hasOwner = input.ownerUid.has_value();
  s.owner = s.hasOwner ? *input.ownerUid : std::numeric_limits<std::size_t>::max();
  s.weightsSorted.resize(s.n);
  s.bondsSorted.resize(s.n);
  s.seen.assign(s.n, 0);
  s.stamp = 0;

  stakeAndPermits(input, s);
  if (!weightsStage(input, s)) return invalid();
  consensusStage(input, s);
  if (!bondsStage(input, s)) return invalid();
  std::vector<std::vector<UidValue>> storedBonds = dividendsStage(input, s);
  return emissionStage(input, s, std::move(storedBonds));
}

}  // namespace merit::consensus
