// Fixed-point numbers with the exact semantics of substrate-fixed 0.6 (the `fixed` crate API),
// so that Yuma Consensus computed here is bit-identical with subtensor's.
//
// Thread-safety: values; no shared state.
//
// Each type stores its raw two's-complement `bits`; value = bits / 2^kFracBits.
//   I32F32: int64 bits, 32 fraction bits (the epoch's working type).
//   I64F64: int128 bits, 64 fraction bits (stake normalisation, bonds moving average, root epoch).
//   I96F32: int128 bits, 32 fraction bits (emission amounts).
// Semantics shared by all three (spec yuma.md §1):
//   - add/sub are exact; saturating* clamp at the type's range.
//   - mul is floor((a.bits * b.bits) / 2^frac) in a double-width integer (arithmetic shift,
//     i.e. toward -inf), then saturate (saturating*) or fail (checked*).
//   - div is trunc((a.bits * 2^frac) / b.bits) (toward zero); checked* fails on a zero divisor
//     and on overflow; safeDiv returns 0 in both cases (subtensor's safe-math, NOT saturating).
//   - narrowing to fewer fraction bits floors; to integers floors and saturates.
// No floating point anywhere: literals are built from exact rationals (fromRatio).
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <type_traits>

namespace merit::consensus {

using Int128 = __int128;
using UInt128 = unsigned __int128;

namespace detail {

inline constexpr Int128 kInt128Max = static_cast<Int128>(~UInt128{0} >> 1);
inline constexpr Int128 kInt128Min = -kInt128Max - 1;

// Signed (a*b) >> frac with floor, saturated to int128; `overflowed` reports saturation.
Int128 mulShiftFloor128(Int128 a, Int128 b, int frac, bool& overflowed);
// Signed trunc((a << frac) / b); nullopt on b == 0 or when the quotient does not fit int128.
std::optional<Int128> shiftDivTrunc128(Int128 a, Int128 b, int frac);

}  // namespace detail

class I32F32 {
 public:
  static constexpr int kFracBits = 32;

  constexpr I32F32() = default;
  static constexpr I32F32 fromBits(int64_t bits) { return I32F32(bits); }
  // Exact for |v| < 2^31, saturating beyond.
  static constexpr I32F32 fromInt(int64_t v) {
    if (v > (std::numeric_limits<int64_t>::max() >> kFracBits)) return max();
    if (v < (std::numeric_limits<int64_t>::min() >> kFracBits)) return min();
    return I32F32(static_cast<int64_t>(static_cast<uint64_t>(v) << kFracBits));
  }
  // num/den rounded to nearest, ties to even: what `from_num(<decimal literal>)` yields when
  // the literal is exactly num/den. den > 0.
  static constexpr I32F32 fromRatio(int64_t num, int64_t den) {
    Int128 scaled = static_cast<Int128>(num) * (Int128{1} << kFracBits);
    Int128 q = scaled / den;
    Int128 r = scaled % den;
    if (r < 0) {  // make r non-negative so q is the floor
      r += den;
      q -= 1;
    }
    if (2 * r > den || (2 * r == den && (q & 1) != 0)) q += 1;
    return I32F32(static_cast<int64_t>(q));
  }
  static constexpr I32F32 zero() { return I32F32(0); }
  static constexpr I32F32 one() { return I32F32(int64_t{1} << kFracBits); }
  static constexpr I32F32 max() { return I32F32(std::numeric_limits<int64_t>::max()); }
  static constexpr I32F32 min() { return I32F32(std::numeric_limits<int64_t>::min()); }

  constexpr int64_t bits() const { return m_bits; }
  // clang-tidy 14 reports the `0` of the comparison the compiler synthesises for a defaulted
  // operator<=> as a null pointer constant; there is no pointer here (llvm-project#53961).
  // NOLINTNEXTLINE(modernize-use-nullptr): false positive, see above
  friend constexpr auto operator<=>(I32F32, I32F32) = default;

  // The exact sum clamped to the range; on overflow both operands have the sign of the bound.
  constexpr I32F32 saturatingAdd(I32F32 o) const {
    int64_t r;
    if (__builtin_add_overflow(m_bits, o.m_bits, &r)) return o.m_bits > 0 ? max() : min();
    return I32F32(r);
  }
  constexpr I32F32 saturatingSub(I32F32 o) const {
    int64_t r;
    if (__builtin_sub_overflow(m_bits, o.m_bits, &r)) return o.m_bits < 0 ? max() : min();
    return I32F32(r);
  }
  constexpr I32F32 saturatingNeg() const { return saturate(-Int128{m_bits}); }
  constexpr I32F32 saturatingMul(I32F32 o) const {
    return saturateShifted(Int128{m_bits} * o.m_bits);  // floor(a * b / 2^32), clamped
  }
  constexpr std::optional<I32F32> checkedAdd(I32F32 o) const { return checked(Int128{m_bits} + o.m_bits); }
  constexpr std::optional<I32F32> checkedMul(I32F32 o) const {
    return checked((Int128{m_bits} * o.m_bits) >> kFracBits);
  }
  constexpr std::optional<I32F32> checkedDiv(I32F32 o) const {
    if (o.m_bits == 0) return std::nullopt;
#if defined(__x86_64__)
    // The epoch divides non-negative values millions of times: one 128/64 `div` instead of a
    // libgcc __divti3 call. Same quotient (floor == trunc for non-negative operands).
    if (!std::is_constant_evaluated() && m_bits >= 0 && o.m_bits > 0) {
      uint64_t hi = static_cast<uint64_t>(m_bits) >> (64 - kFracBits);
      uint64_t lo = static_cast<uint64_t>(m_bits) << kFracBits;
      uint64_t d = static_cast<uint64_t>(o.m_bits);
      if (hi >= d) return std::nullopt;  // quotient >= 2^64
      uint64_t q;
      uint64_t r;
      __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d) : "cc");
      if (q > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return I32F32(static_cast<int64_t>(q));
    }
#endif
    return checked((Int128{m_bits} << kFracBits) / o.m_bits);  // C++ '/' truncates toward zero
  }
  // subtensor safe_div: 0 on division by zero and on overflow.
  constexpr I32F32 safeDiv(I32F32 o) const {
    return checkedDiv(o).value_or(zero());
  }
  // The fixed crate's saturating_div; the divisor must be non-zero (a zero divisor panics in
  // Rust, and no caller here can produce one; here x / 0 gives max() for x >= 0, else min()).
  // checkedDiv's quotient where it has one (so its 128/64 fast path), else the bound of the
  // true quotient's sign.
  constexpr I32F32 saturatingDiv(I32F32 o) const {
    if (auto q = checkedDiv(o)) return *q;
    return (m_bits >= 0) == (o.m_bits >= 0) ? max() : min();
  }
  // Round half away from zero.
  constexpr I32F32 round() const {
    constexpr Int128 kHalf = Int128{1} << (kFracBits - 1);
    constexpr Int128 kOne = Int128{1} << kFracBits;
    Int128 b = m_bits;
    Int128 r = b >= 0 ? ((b + kHalf) / kOne) * kOne : -(((-b) + kHalf) / kOne) * kOne;
    return saturate(r);
  }
  // Floor, clamped to [0, 65535] / [0, 2^64-1].
  constexpr uint16_t toU16Saturating() const {
    if (m_bits <= 0) return 0;
    int64_t v = m_bits >> kFracBits;
    return v > 65535 ? uint16_t{65535} : static_cast<uint16_t>(v);
  }
  constexpr uint64_t toU64Saturating() const {
    return m_bits <= 0 ? 0 : static_cast<uint64_t>(m_bits >> kFracBits);
  }

 private:
  constexpr explicit I32F32(int64_t bits) : m_bits(bits) {}
  static constexpr I32F32 saturate(Int128 v) {
    if (v > std::numeric_limits<int64_t>::max()) return max();
    if (v < std::numeric_limits<int64_t>::min()) return min();
    return I32F32(static_cast<int64_t>(v));
  }
  // saturate(p >> 32) for a product p of two int64 values, without 128-bit compares: p >> 32
  // fits int64 exactly when bits 95..127 of p are all equal, i.e. when the high word's bits
  // 31..63 are.
  static constexpr I32F32 saturateShifted(Int128 p) {
    const int64_t hi = static_cast<int64_t>(p >> 64);
    const uint64_t lo = static_cast<uint64_t>(p);
    if ((hi >> 31) != (hi >> 63)) return hi < 0 ? min() : max();
    return I32F32(static_cast<int64_t>((static_cast<uint64_t>(hi) << 32) | (lo >> 32)));
  }
  static constexpr std::optional<I32F32> checked(Int128 v) {
    if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min()) {
      return std::nullopt;
    }
    return I32F32(static_cast<int64_t>(v));
  }

  int64_t m_bits = 0;
};

// a.safeDiv(d) for one divisor d and many dividends, as used by the normalisations: the same
// quotients, computed with a precomputed reciprocal (Moller & Granlund, "Improved division by
// invariant integers", 2011, algorithm 4) instead of a hardware or libgcc division each time.
class I32F32Divisor {
 public:
  I32F32Divisor() = default;
  explicit I32F32Divisor(I32F32 d) : m_d(d) {
    if (d.bits() <= 0) return;  // zero or negative divisors take the generic path
    m_shift = __builtin_clzll(static_cast<uint64_t>(d.bits()));
    m_norm = static_cast<uint64_t>(d.bits()) << m_shift;
    m_inv = static_cast<uint64_t>(~UInt128{0} / m_norm);  // floor((2^128 - 1) / d) - 2^64
    // Reciprocal for dividends 0 <= a <= d: with 2^L <= d < 2^(L+1), r = floor((2^(64+L') - 1) / d)
    // where L' = min(L, 32) keeps r below 2^64, and a is pre-shifted by 32 - L'.
    const int log2d = 63 - m_shift;
    const int scale = log2d < 32 ? log2d : 32;
    m_preShift = 32 - scale;
    m_recip = static_cast<uint64_t>(((UInt128{1} << (64 + scale)) - 1) / static_cast<uint64_t>(d.bits()));
    m_fast = true;
  }
  I32F32 divisor() const { return m_d; }
  I32F32 safeDivide(I32F32 a) const {
    const uint64_t d = static_cast<uint64_t>(m_d.bits());
    if (m_fast && a.bits() >= 0 && static_cast<uint64_t>(a.bits()) <= d) {
      // Normalisations divide entries by a sum or maximum they belong to: 0 <= a <= d, so the
      // quotient q = floor(a * 2^32 / d) is at most 2^32. The estimate
      // e = floor((a << (32 - L')) * r / 2^64) is q or q - 1: (a << (32 - L')) < 2^34 when L < 32
      // (a <= d < 2^(L+1)) and a < 2^63 otherwise, and r is below 2^(64+L') / d by less than 2,
      // so e undershoots a * 2^32 / d by less than 2 * (a << (32 - L')) / 2^64 < 1. The
      // remainder a * 2^32 - e * d lies in [0, 2d), fits 64 bits, and decides the last unit.
      const uint64_t au = static_cast<uint64_t>(a.bits());
      uint64_t q = static_cast<uint64_t>((static_cast<UInt128>(au << m_preShift) * m_recip) >> 64);
      const uint64_t rem = (au << 32) - q * d;  // exact: the true value is below 2^64
      q += rem >= d ? 1 : 0;
      return I32F32::fromBits(static_cast<int64_t>(q));
    }
    return safeDivideGeneral(a);
  }

 private:
  // Any other dividend (kept out of line so that the common case above inlines).
  [[gnu::noinline]] I32F32 safeDivideGeneral(I32F32 a) const {
    if (!m_fast || a.bits() < 0) return a.safeDiv(m_d);
    const uint64_t d = static_cast<uint64_t>(m_d.bits());
    if ((static_cast<uint64_t>(a.bits()) >> 32) >= d) return I32F32::zero();  // quotient >= 2^64
    // Numerator a << 32, normalised like the divisor; fits 128 bits because the quotient fits 64.
    const UInt128 n = (static_cast<UInt128>(static_cast<uint64_t>(a.bits())) << 32) << m_shift;
    const uint64_t u1 = static_cast<uint64_t>(n >> 64);
    const uint64_t u0 = static_cast<uint64_t>(n);
    UInt128 q = static_cast<UInt128>(m_inv) * u1;
    q += (static_cast<UInt128>(u1 + 1) << 64) | u0;
    uint64_t q1 = static_cast<uint64_t>(q >> 64);
    const uint64_t q0 = static_cast<uint64_t>(q);
    uint64_t r = u0 - q1 * m_norm;
    if (r > q0) {
      q1 -= 1;
      r += m_norm;
    }
    if (r >= m_norm) q1 += 1;
    if (q1 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return I32F32::zero();  // overflow
    return I32F32::fromBits(static_cast<int64_t>(q1));
  }

  I32F32 m_d;
  uint64_t m_norm = 0;
  uint64_t m_inv = 0;
  uint64_t m_recip = 0;
  int m_shift = 0;
  int m_preShift = 0;
  bool m_fast = false;
};

// a.safeDiv(d) = floor(a * 2^32 / d) for a proportion of its divisor: 0 <= a <= d and a <= 2^32
// (one), as where a normalisation divides an entry by its column's sum or maximum. One multiply
// and no correction step (I32F32Divisor's fast path needs a second multiply for its remainder).
//
// Why it is exact. Let 2^L <= d < 2^(L+1) and F = 33 + L, and c = ceil(2^(F+32) / d). Then
// a * c / 2^F = a * 2^32 / d + a * e / 2^F with 0 <= e < 1, and the added error is below
// 2^32 / 2^(33+L) = 1 / 2^(L+1) < 1 / d. The fraction of a * 2^32 / d is a multiple of 1 / d
// below 1, so it is at most 1 - 1 / d, and the error cannot carry it past the next integer:
// floor(a * c / 2^F) = floor(a * 2^32 / d). (A power of two d = 2^L divides exactly with
// c = 2^64 and F = 32 + L.) c lies in (2^64, 2^65), so it is stored as c - 2^64, and
// a * c / 2^64 = a + a * (c - 2^64) / 2^64: one 64x64 -> 128 multiply and an add. Where F < 64
// the dividend is shifted left by 64 - F first (it then stays below 2^33: a <= d < 2^(L+1) and
// 64 - F <= 32 - L), otherwise the sum is shifted right by F - 64. A zero divisor gives 0 for
// a = 0, the only dividend its precondition allows.
class ProportionDivisor {
 public:
  ProportionDivisor() = default;
  explicit ProportionDivisor(I32F32 d) {
    if (d.bits() <= 0) return;  // 0 (a sum or maximum of non-negative values is never negative)
    const uint64_t du = static_cast<uint64_t>(d.bits());
    const int log2d = 63 - __builtin_clzll(du);
    int f = 0;
    if ((du & (du - 1)) == 0) {
      f = 32 + log2d;  // c = 2^64: m_cLow stays 0
    } else {
      f = 33 + log2d;  // 65 + log2d <= 127: 2^(F+32) fits 128 bits
      const UInt128 c = ((UInt128{1} << (f + 32)) + (du - 1)) / du;
      m_cLow = static_cast<uint64_t>(c);  // c - 2^64
    }
    m_preShift = f < 64 ? 64 - f : 0;
    m_postShift = f < 64 ? 0 : f - 64;
  }
  // Precondition: 0 <= a <= d and a <= 2^32.
  I32F32 divide(I32F32 a) const {
    const uint64_t x = static_cast<uint64_t>(a.bits()) << m_preShift;
    const uint64_t high = static_cast<uint64_t>((static_cast<UInt128>(x) * m_cLow) >> 64);
    return I32F32::fromBits(static_cast<int64_t>((x + high) >> m_postShift));
  }

 private:
  uint64_t m_cLow = 0;
  uint32_t m_preShift = 0;
  uint32_t m_postShift = 0;
};

// A 128-bit fixed-point number with kFrac fraction bits: I64F64 (kFrac 64) and I96F32 (kFrac 32).
template <int kFrac>
class Fixed128 {
 public:
  static constexpr int kFracBits = kFrac;

  constexpr Fixed128() = default;
  static constexpr Fixed128 fromBits(Int128 bits) { return Fixed128(bits); }
  static constexpr Fixed128 fromU64(uint64_t v) {
    if constexpr (kFrac >= 64) {
      // I64F64 holds integers below 2^63 only.
      if (v > (static_cast<UInt128>(detail::kInt128Max) >> kFrac)) return max();
    }
    return Fixed128(static_cast<Int128>(static_cast<UInt128>(v) << kFrac));
  }
  // Exact widening (or floor-narrowing) of an I32F32.
  static constexpr Fixed128 fromI32F32(I32F32 x) {
    if constexpr (kFrac >= 32) {
      return Fixed128(static_cast<Int128>(x.bits()) * (Int128{1} << (kFrac - 32)));
    } else {
      return Fixed128(static_cast<Int128>(x.bits()) >> (32 - kFrac));
    }
  }
  static constexpr Fixed128 zero() { return Fixed128(0); }
  static constexpr Fixed128 one() { return Fixed128(Int128{1} << kFrac); }
  static constexpr Fixed128 max() { return Fixed128(detail::kInt128Max); }
  static constexpr Fixed128 min() { return Fixed128(detail::kInt128Min); }

  constexpr Int128 bits() const { return m_bits; }
  // NOLINTNEXTLINE(modernize-use-nullptr): false positive, as for I32F32's operator<=>
  friend constexpr auto operator<=>(Fixed128, Fixed128) = default;

  constexpr Fixed128 saturatingAdd(Fixed128 o) const {
    Int128 r;
    if (__builtin_add_overflow(m_bits, o.m_bits, &r)) return o.m_bits > 0 ? max() : min();
    return Fixed128(r);
  }
  constexpr Fixed128 saturatingSub(Fixed128 o) const {
    Int128 r;
    if (__builtin_sub_overflow(m_bits, o.m_bits, &r)) return o.m_bits < 0 ? max() : min();
    return Fixed128(r);
  }
  constexpr Fixed128 saturatingNeg() const {
    return m_bits == detail::kInt128Min ? max() : Fixed128(-m_bits);
  }
  Fixed128 saturatingMul(Fixed128 o) const {
    bool overflowed = false;
    return Fixed128(detail::mulShiftFloor128(m_bits, o.m_bits, kFrac, overflowed));
  }
  std::optional<Fixed128> checkedMul(Fixed128 o) const {
    bool overflowed = false;
    Int128 r = detail::mulShiftFloor128(m_bits, o.m_bits, kFrac, overflowed);
    if (overflowed) return std::nullopt;
    return Fixed128(r);
  }
  std::optional<Fixed128> checkedDiv(Fixed128 o) const {
    auto q = detail::shiftDivTrunc128(m_bits, o.m_bits, kFrac);
    if (!q) return std::nullopt;
    return Fixed128(*q);
  }
  Fixed128 safeDiv(Fixed128 o) const { return checkedDiv(o).value_or(zero()); }
  // The fixed crate's saturating_div (a zero divisor, a panic in Rust, saturates by sign here).
  Fixed128 saturatingDiv(Fixed128 o) const {
    if (auto q = checkedDiv(o)) return *q;
    return (m_bits >= 0) == (o.m_bits >= 0) ? max() : min();
  }
  // Floor to I32F32 (drops fraction bits beyond 32), saturating.
  constexpr I32F32 toI32F32() const {
    Int128 b = kFrac >= 32 ? (m_bits >> (kFrac - 32)) : m_bits * (Int128{1} << (32 - kFrac));
    if (b > std::numeric_limits<int64_t>::max()) return I32F32::max();
    if (b < std::numeric_limits<int64_t>::min()) return I32F32::min();
    return I32F32::fromBits(static_cast<int64_t>(b));
  }
  constexpr uint64_t toU64Saturating() const {
    if (m_bits <= 0) return 0;
    UInt128 v = static_cast<UInt128>(m_bits) >> kFrac;
    return v > std::numeric_limits<uint64_t>::max() ? std::numeric_limits<uint64_t>::max()
                                                    : static_cast<uint64_t>(v);
  }
  // floor(): integral part (toward -inf), as a value of the same type.
  constexpr Fixed128 floor() const {
    return Fixed128(static_cast<Int128>(static_cast<UInt128>(m_bits >> kFrac) << kFrac));
  }

 private:
  constexpr explicit Fixed128(Int128 bits) : m_bits(bits) {}
  Int128 m_bits = 0;
};

using I64F64 = Fixed128<64>;
using I96F32 = Fixed128<32>;

// substrate-fixed `transcendental::exp` (Taylor series to frac_nbits terms, no early exit;
// exactly 1.0 uses the stored I9F23 constant E). nullopt where the Rust code returns Err.
std::optional<I32F32> fixedExp(I32F32 x);
std::optional<I64F64> fixedExp(I64F64 x);

// subtensor `exp_safe`: clamps x to [-20, 20]; on Err returns 0 (x <= 0) or I32F32::max().
I32F32 expSafe(I32F32 x);
// out[k] = expSafe(x[k]) for every k (x.size() == out.size()): the same Taylor steps as
// fixedExp, run for several independent arguments at once so that their multiplications
// overlap (each argument alone is a chain of 30 dependent multiply-divide steps).
void expSafeMany(std::span<const I32F32> x, std::span<I32F32> out);

}  // namespace merit::consensus
