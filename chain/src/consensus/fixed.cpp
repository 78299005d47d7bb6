#include "merit/consensus/fixed.h"

#include <array>
#include <utility>

namespace merit::consensus {
namespace detail {
namespace {

// Unsigned 256-bit integer, just enough for 128x128 products and their division.
struct U256 {
  UInt128 hi = 0;
  UInt128 lo = 0;
};

UInt128 unsignedAbs(Int128 v) {
  return v < 0 ? UInt128{0} - static_cast<UInt128>(v) : static_cast<UInt128>(v);
}

U256 mulFull(UInt128 a, UInt128 b) {
  const UInt128 kMask = (UInt128{1} << 64) - 1;
  UInt128 a0 = a & kMask, a1 = a >> 64, b0 = b & kMask, b1 = b >> 64;
  UInt128 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  UInt128 mid = (p00 >> 64) + (p01 & kMask) + (p10 & kMask);
  U256 r;
  r.lo = (p00 & kMask) | (mid << 64);
  r.hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
  return r;
}

U256 shiftRight(U256 v, int s) {
  if (s == 0) return v;
  if (s >= 128) return U256{0, v.hi >> (s - 128)};
  return U256{v.hi >> s, (v.lo >> s) | (v.hi << (128 - s))};
}

U256 shiftLeft(U256 v, int s) {
  if (s == 0) return v;
  if (s >= 128) return U256{v.lo << (s - 128), 0};
  return U256{(v.hi << s) | (v.lo >> (128 - s)), v.lo << s};
}

U256 addSmall(U256 v, UInt128 x) {
  U256 r{v.hi, v.lo + x};
  if (r.lo < v.lo) r.hi += 1;
  return r;
}

int bitLength(U256 v) {
  auto len128 = [](UInt128 x) {
    uint64_t hi = static_cast<uint64_t>(x >> 64);
    if (hi != 0) return 128 - __builtin_clzll(hi);
    uint64_t lo = static_cast<uint64_t>(x);
    return lo == 0 ? 0 : 64 - __builtin_clzll(lo);
  };
  return v.hi != 0 ? 128 + len128(v.hi) : len128(v.lo);
}

// floor(num / den) if it fits 128 bits; den != 0. Binary long division over the significant
// bits of num: only used on the small root-epoch and emission paths.
std::optional<UInt128> divFull(U256 num, UInt128 den) {
  if (num.hi >= den) return std::nullopt;  // quotient >= 2^128
  UInt128 rem = 0;
  UInt128 quot = 0;
  for (int i = bitLength(num) - 1; i >= 0; --i) {
    UInt128 bit = i >= 128 ? (num.hi >> (i - 128)) & 1 : (num.lo >> i) & 1;
    bool carry = (rem >> 127) != 0;
    rem = (rem << 1) | bit;
    quot <<= 1;
    if (carry || rem >= den) {
      rem -= den;
      quot |= 1;
    }
  }
  return quot;
}

}  // namespace

Int128 mulShiftFloor128(Int128 a, Int128 b, int frac, bool& overflowed) {
  bool negative = (a < 0) != (b < 0) && a != 0 && b != 0;
  U256 p = mulFull(unsignedAbs(a), unsignedAbs(b));
  if (negative) p = addSmall(p, (UInt128{1} << frac) - 1);  // floor of a negative = -ceil(|x|)
  U256 q = shiftRight(p, frac);
  const UInt128 kLimit = negative ? UInt128{1} << 127 : (UInt128{1} << 127) - 1;
  if (q.hi != 0 || q.lo > kLimit) {
    overflowed = true;
    return negative ? kInt128Min : kInt128Max;
  }
  overflowed = false;
  return negative ? static_cast<Int128>(UInt128{0} - q.lo) : static_cast<Int128>(q.lo);
}

std::optional<Int128> shiftDivTrunc128(Int128 a, Int128 b, int frac) {
  if (b == 0) return std::nullopt;
  bool negative = (a < 0) != (b < 0) && a != 0;
  U256 num = shiftLeft(U256{0, unsignedAbs(a)}, frac);
  auto q = divFull(num, unsignedAbs(b));
  if (!q) return std::nullopt;
  const UInt128 kLimit = negative ? UInt128{1} << 127 : (UInt128{1} << 127) - 1;
  if (*q > kLimit) return std::nullopt;
  return negative ? static_cast<Int128>(UInt128{0} - *q) : static_cast<Int128>(*q);
}

}  // namespace detail

namespace {

// substrate-fixed's E is an I9F23 constant: trunc(e * 2^23) = 22802600.
constexpr int64_t kEBitsI9F23 = 22802600;

// One Taylor step for a non-negative I32F32 term: term = trunc(floor(term * y) / I).
// The divisor is a compile-time constant so the compiler replaces the division by a multiply.
template <uint64_t I>
inline bool expStep(uint64_t& term, uint64_t y, uint64_t& result) {
  // Once a term is 0 every later term is 0 and adds nothing: stopping there is the same result
  // (the Rust loop runs on, but can no longer fail or change the sum).
  if (term == 0) return true;
  UInt128 product = (static_cast<UInt128>(term) * y) >> 32;
  if (product > static_cast<UInt128>(std::numeric_limits<int64_t>::max())) return false;
  term = static_cast<uint64_t>(product) / I;
  result += term;
  return result <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

template <uint64_t... Is>
inline bool expSteps(uint64_t& term, uint64_t y, uint64_t& result, std::integer_sequence<uint64_t, Is...>) {
  return (expStep<Is + 2>(term, y, result) && ...);
}

}  // namespace

std::optional<I32F32> fixedExp(I32F32 x) {
  if (x == I32F32::zero()) return I32F32::one();
  if (x == I32F32::one()) return I32F32::fromBits(kEBitsI9F23 << (32 - 23));
  bool negative = x < I32F32::zero();
  if (x == I32F32::min()) return std::nullopt;  // checked_neg fails
  uint64_t y = static_cast<uint64_t>(negative ? -x.bits() : x.bits());
  uint64_t result = y + (uint64_t{1} << 32);
  if (result > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  uint64_t term = y;
  // Rust: for i in 2..frac_nbits, i.e. i = 2..=31 (30 steps).
  if (!expSteps(term, y, result, std::make_integer_sequence<uint64_t, 30>{})) return std::nullopt;
  I32F32 r = I32F32::fromBits(static_cast<int64_t>(result));
  if (negative) return I32F32::one().checkedDiv(r);
  return r;
}

std::optional<I64F64> fixedExp(I64F64 x) {
  if (x == I64F64::zero()) return I64F64::one();
  if (x == I64F64::one()) return I64F64::fromBits(static_cast<Int128>(kEBitsI9F23) << (64 - 23));
  bool negative = x < I64F64::zero();
  if (x == I64F64::min()) return std::nullopt;
  I64F64 y = negative ? I64F64::fromBits(-x.bits()) : x;
  I64F64 result = y.saturatingAdd(I64F64::one());
  if (y.bits() > detail::kInt128Max - I64F64::one().bits()) return std::nullopt;
  I64F64 term = y;
  for (int i = 2; i < I64F64::kFracBits; ++i) {
    auto product = term.checkedMul(y);
    if (!product) return std::nullopt;
    // checked_div by from_num(i): trunc((t << 64) / (i << 64)) == trunc(t / i).
    term = I64F64::fromBits(product->bits() / i);
    if (result.bits() > detail::kInt128Max - term.bits()) return std::nullopt;
    result = I64F64::fromBits(result.bits() + term.bits());
  }
  if (negative) return I64F64::one().checkedDiv(result);
  return result;
}

namespace {

// exp_safe's clamp range.
constexpr I32F32 kExpSafeMin = I32F32::fromInt(-20);
constexpr I32F32 kExpSafeMax = I32F32::fromInt(20);

I32F32 clampToExpSafe(I32F32 x) {
  if (x < kExpSafeMin) return kExpSafeMin;
  if (kExpSafeMax < x) return kExpSafeMax;
  return x;
}

// Independent arguments computed together by expSafeMany (8 measured faster than 4 and 16;
// the unroll pragma below matches it).
constexpr std::size_t kExpLanes = 8;
using ExpLanes = std::array<uint64_t, kExpLanes>;

// expStep for every lane, without its checks (see expSafeLanes for why none can fire).
template <uint64_t I>
inline void expLaneStep(ExpLanes& term, const ExpLanes& y, ExpLanes& result) {
#pragma GCC unroll 8
  for (std::size_t l = 0; l < kExpLanes; ++l) {
    term[l] = static_cast<uint64_t>((static_cast<UInt128>(term[l]) * y[l]) >> 32) / I;
    result[l] += term[l];
  }
}

template <uint64_t... Is>
inline void expLaneSteps(ExpLanes& term, const ExpLanes& y, ExpLanes& result,
                         std::integer_sequence<uint64_t, Is...>) {
  (expLaneStep<Is + 2>(term, y, result), ...);
}

// out[l] = expSafe(x[l]) for kExpLanes arguments. After the clamp |x| <= 20, where fixedExp
// cannot fail, so its checks and its stop at a zero term are left out:
//  - by induction every term is at most the exact y^i / i! (each step floors), so the sum is
//    at most 2^32 * e^20 < 2^61 and every product floor(term * y / 2^32) at most
//    2^32 * 20^20 / 19! < 2^62, both below fixedExp's int64 limit;
//  - a zero term stays zero (floor(0 * y) / i = 0), so running all 30 steps adds nothing;
//  - for x < 0 the quotient 1 / result has result >= 1, so it fits.
// Exactly 1.0 takes fixedExp's stored constant; 0 needs no case (the sum is then 1.0).
void expSafeLanes(const I32F32* x, I32F32* out) {
  ExpLanes y{};
  ExpLanes term{};
  ExpLanes result{};
  for (std::size_t l = 0; l < kExpLanes; ++l) {
    const int64_t bits = clampToExpSafe(x[l]).bits();
    y[l] = static_cast<uint64_t>(bits < 0 ? -bits : bits);
    term[l] = y[l];
    result[l] = y[l] + (uint64_t{1} << 32);
  }
  expLaneSteps(term, y, result, std::make_integer_sequence<uint64_t, 30>{});
  for (std::size_t l = 0; l < kExpLanes; ++l) {
    const I32F32 safe = clampToExpSafe(x[l]);
    const I32F32 r = I32F32::fromBits(static_cast<int64_t>(result[l]));
    if (safe == I32F32::one()) {
      out[l] = I32F32::fromBits(kEBitsI9F23 << (32 - 23));
    } else {
      out[l] = safe < I32F32::zero() ? I32F32::one().safeDiv(r) : r;
    }
  }
}

}  // namespace

void expSafeMany(std::span<const I32F32> x, std::span<I32F32> out) {
  std::size_t k = 0;
  for (; k + kExpLanes <= x.size(); k += kExpLanes) expSafeLanes(&x[k], &out[k]);
  for (; k < x.size(); ++k) out[k] = expSafe(x[k]);
}

I32F32 expSafe(I32F32 x) {
  const I32F32 safe = clampToExpSafe(x);
  auto r = fixedExp(safe);
  if (r) return *r;
  return safe <= I32F32::zero() ? I32F32::zero() : I32F32::max();
}

}  // namespace merit::consensus
