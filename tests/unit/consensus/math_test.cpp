// Fixed-point semantics (spec §1), the math.rs helpers (§2) and TC10: the weighted-median
// tables of §2.1 and test_math_sparse_mat_ema_alpha.
#include "merit/consensus/math.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <optional>
#include <random>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "merit/consensus/fixed.h"

namespace merit::consensus {
namespace {

// I32F32::from_num(f32): the f32 value, exactly scaled, rounded to nearest (ties to even). Tests
// may use floating point; the library never does.
I32F32 fx(float v) {
  return I32F32::fromBits(static_cast<int64_t>(std::nearbyint(static_cast<double>(v) * 4294967296.0)));
}

std::vector<I32F32> fxv(std::initializer_list<float> values) {
  std::vector<I32F32> out;
  for (float v : values) out.push_back(fx(v));
  return out;
}

double toDouble(I32F32 x) {
  return static_cast<double>(x.bits()) / 4294967296.0;
}

// vec_to_sparse_mat_fixed(v, rows, false): row-major, non-zero entries only.
SparseMatrix sparse(std::initializer_list<float> values, std::size_t rows) {
  std::vector<float> v(values);
  std::size_t cols = v.size() / rows;
  SparseMatrix m(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      if (v[i * cols + j] != 0.0f) m[i].push_back({static_cast<uint16_t>(j), fx(v[i * cols + j])});
    }
  }
  return m;
}

I32F32 median(const std::vector<I32F32>& stake, const std::vector<I32F32>& score, float majority) {
  std::vector<std::size_t> idx(stake.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  I32F32 minority = I32F32::one().saturatingSub(fx(majority));
  return weightedMedian(stake, score, idx, minority, I32F32::zero(), sum(stake));
}

TEST_CASE("fixed point: floor multiplication, truncating division, safe_div") {
  const I32F32 a = I32F32::fromBits(3);
  const I32F32 half = I32F32::fromRatio(1, 2);
  CHECK(a.saturatingMul(half).bits() == 1);                                      // 1.5 ulp floors to 1
  CHECK(a.saturatingNeg().saturatingMul(half).bits() == -2);                     // -1.5 ulp floors to -2
  CHECK(I32F32::fromInt(1).safeDiv(I32F32::fromInt(3)).bits() == 1431655765);    // trunc(2^32/3)
  CHECK(I32F32::fromInt(-1).safeDiv(I32F32::fromInt(3)).bits() == -1431655765);  // toward zero
  CHECK(I32F32::fromInt(5).safeDiv(I32F32::zero()) == I32F32::zero());
  CHECK(I32F32::max().safeDiv(I32F32::fromBits(1)) == I32F32::zero());  // overflow -> 0, not saturated
  CHECK(I32F32::max().saturatingMul(I32F32::fromInt(2)) == I32F32::max());
  CHECK(I32F32::fromInt(1000).saturatingDiv(I32F32::fromInt(-100)) == I32F32::fromInt(-10));
  CHECK(I32F32::fromRatio(5, 2).round() == I32F32::fromInt(3));  // half away from zero
  CHECK(I32F32::fromRatio(-5, 2).round() == I32F32::fromInt(-3));
  CHECK(I32F32::fromRatio(1, 3).bits() == 1431655765);
  CHECK(I32F32::fromRatio(2, 3).bits() == 2863311531);  // rounded to nearest
  CHECK(fx(0.1f).bits() == 429496736);                  // f32 0.1 = 0.100000001490116...

  // Narrowing I64F64 -> I32F32 floors; I96F32 amount products floor.
  CHECK(I64F64::fromBits((Int128{5} << 64) + (Int128{1} << 31)).toI32F32().bits() == (int64_t{5} << 32));
  CHECK(I96F32::fromI32F32(fx(0.1f)).saturatingMul(I96F32::fromU64(1'000'000'000)).toU64Saturating() ==
        100000001);
  CHECK(I96F32::fromI32F32(I32F32::fromBits(429496729))
            .saturatingMul(I96F32::fromU64(1'000'000'000))
            .toU64Saturating() == 99999999);
  CHECK(I64F64::fromU64(1).safeDiv(I64F64::fromU64(3)).bits() == (((Int128{1} << 64) - 1) / 3));
  CHECK(I64F64::fromU64(uint64_t{1} << 63) == I64F64::max());  // saturating_from_num
}

// ProportionDivisor against 128-bit division, for dividends 0 <= a <= min(d, 2^32). Besides
// edges and random values, each divisor is tried at the dividends whose quotient has the
// largest fraction (a * 2^32 = -1 mod d, where the error bound has the least room) and just
// below each of a few quotient steps.
TEST_CASE("ProportionDivisor equals floor(a * 2^32 / d) for proportions of d") {
  const auto expected = [](uint64_t a, uint64_t d) {
    return static_cast<int64_t>((static_cast<UInt128>(a) << 32) / d);
  };
  std::mt19937_64 rng(20261205);
  std::vector<uint64_t> divisors;
  for (uint64_t d = 1; d <= 3000; ++d) divisors.push_back(d);
  for (int bits = 1; bits <= 62; ++bits) {
    const uint64_t p = uint64_t{1} << bits;
    for (uint64_t d : {p - 1, p, p + 1, p + p / 2, p + p - 1}) divisors.push_back(d);
    for (int k = 0; k < 40; ++k) divisors.push_back(p + (rng() & (p - 1)));
  }
  constexpr uint64_t kOne = uint64_t{1} << 32;
  std::size_t checked = 0;
  for (uint64_t d : divisors) {
    if (d >= (uint64_t{1} << 63)) continue;
    const ProportionDivisor divisor(I32F32::fromBits(static_cast<int64_t>(d)));
    const uint64_t top = std::min(d, kOne);
    std::vector<uint64_t> dividends = {0, 1, 2, top, top - 1, top / 2, top / 3};
    for (int k = 0; k < 30; ++k) dividends.push_back(rng() % (top + 1));
    // a * 2^32 = -1 (mod d) for odd d: a = -(2^32)^-1 mod d, the largest fraction (d - 1) / d.
    if (d % 2 == 1 && d > 1) {
      const uint64_t twoTo32 = static_cast<uint64_t>(static_cast<UInt128>(kOne) % d);
      // (2^32)^-1 mod d by the extended Euclidean algorithm.
      Int128 r0 = static_cast<Int128>(d);
      Int128 r1 = static_cast<Int128>(twoTo32);
      Int128 t0 = 0;
      Int128 t1 = 1;
      while (r1 != 0) {
        const Int128 q = r0 / r1;
        std::tie(r0, r1) = std::make_tuple(r1, r0 - q * r1);
        std::tie(t0, t1) = std::make_tuple(t1, t0 - q * t1);
      }
      if (r0 == 1) {
        const Int128 inverse =
            (t0 % static_cast<Int128>(d) + static_cast<Int128>(d)) % static_cast<Int128>(d);
        const uint64_t a = static_cast<uint64_t>((static_cast<Int128>(d) - inverse) % static_cast<Int128>(d));
        CHECK(static_cast<uint64_t>((static_cast<UInt128>(a) << 32) % d) == d - 1);
        if (a <= top) dividends.push_back(a);
      }
    }
    // The smallest dividend of a few quotients q, and the one below it.
    for (int k = 0; k < 8; ++k) {
      const uint64_t q = rng() % (kOne + 1);
      const uint64_t a = static_cast<uint64_t>((static_cast<UInt128>(q) * d + kOne - 1) >> 32);
      for (uint64_t x : {a, a - 1}) {
        if (a > 0 && x <= top) dividends.push_back(x);
      }
    }
    for (uint64_t a : dividends) {
      const int64_t got = divisor.divide(I32F32::fromBits(static_cast<int64_t>(a))).bits();
      if (got != expected(a, d)) {
        FAIL_CHECK("a = " << a << ", d = " << d << ": " << got << " != " << expected(a, d));
      }
      ++checked;
    }
  }
  CHECK(checked > 100000);
  // A zero divisor (an empty column) gives 0 for its only dividend, 0.
  CHECK(ProportionDivisor(I32F32::zero()).divide(I32F32::zero()) == I32F32::zero());
}

TEST_CASE("u16 proportion conversions floor") {
  CHECK(fixedProportionToU16(I32F32::fromRatio(1, 4)) == 16383);
  CHECK(fixedProportionToU16(I32F32::fromRatio(1, 2)) == 32767);
  CHECK(fixedProportionToU16(I32F32::fromRatio(3, 4)) == 49151);
  CHECK(fixedProportionToU16(I32F32::one()) == 65535);
  CHECK(fixedProportionToU16(I32F32::fromInt(2)) == 65535);
  CHECK(fixedProportionToU16(I32F32::fromInt(-1)) == 0);
  CHECK(u16ProportionToFixed(32767).bits() == 2147450879);  // kappa default: 0.49999237...
  CHECK(u16ProportionToFixed(65535) == I32F32::one());
}

TEST_CASE("exp: Taylor series, stored E at 1.0, exp_safe clamping") {
  // Expected bits from an independent integer model of substrate-fixed's series.
  CHECK(fixedExp(I32F32::zero()) == I32F32::one());
  CHECK(fixedExp(I32F32::one())->bits() == 11674931200);  // I9F23 E widened, not the Taylor value
  CHECK(fixedExp(I32F32::fromInt(2))->bits() == 31735754285);
  CHECK(fixedExp(I32F32::fromInt(-1))->bits() == 1580030169);
  // Compare with e^x to the series' precision over the liquid-alpha range.
  for (int i = -50; i <= 50; ++i) {
    I32F32 x = I32F32::fromRatio(i, 10);
    CAPTURE(i);
    CHECK(std::abs(toDouble(*fixedExp(x)) - std::exp(i / 10.0)) < 1e-6 * std::exp(i / 10.0) + 1e-8);
  }
  CHECK(expSafe(I32F32::fromInt(100)) == *fixedExp(I32F32::fromInt(20)));
  CHECK(expSafe(I32F32::fromInt(-100)) == *fixedExp(I32F32::fromInt(-20)));
  // 30 Taylor terms are far from e^20 (4.85e8): subtensor uses the truncated series as is.
  CHECK(expSafe(I32F32::fromInt(20)).bits() == 2066907302758576256);
  CHECK(fixedExp(I64F64::one())->bits() == (Int128{11674931200} << 32));
  CHECK(fixedExp(I64F64::fromU64(3))->bits() == ((Int128{20} << 64) | Int128{1577877730895459013}));
}

// expSafeMany (liquid alpha's exp) runs fixedExp's steps without its checks, several arguments
// at once; expSafe, i.e. fixedExp, is its reference. Every argument in the clamp range [-20, 20]
// is reachable from alpha_sigmoid (steepness is any i16), so the sample covers all of it: every
// value within 2^12 of each integer in [-21, 21] (0, 1.0 with its stored E, the clamp bounds),
// a stride across the range, random values, the type's extremes, and the argument range of the
// default steepness 1000 near combined = 0 (x just below 5). Beyond the sample the two agree by
// construction: the same integer steps in the same order, minus checks that cannot fire there.
TEST_CASE("expSafeMany equals expSafe (fixedExp) bit for bit") {
  std::vector<I32F32> xs;
  for (int64_t k = -21; k <= 21; ++k) {
    for (int64_t d = -4096; d <= 4096; ++d) xs.push_back(I32F32::fromBits(k * (int64_t{1} << 32) + d));
  }
  const int64_t kRange = int64_t{41} << 31;  // 20.5
  for (int64_t bits = -kRange; bits <= kRange; bits += 88007) xs.push_back(I32F32::fromBits(bits));
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> anyInRange(-kRange, kRange);
  for (int k = 0; k < (1 << 19); ++k) xs.push_back(I32F32::fromBits(anyInRange(rng)));
  const int64_t kFive = int64_t{5} << 32;
  for (int64_t d = 0; d < (int64_t{1} << 18); ++d) xs.push_back(I32F32::fromBits(kFive - 10 * d));
  for (I32F32 x : {I32F32::min(), I32F32::max(), I32F32::fromBits(I32F32::min().bits() + 1),
                   I32F32::fromBits(I32F32::max().bits() - 1)}) {
    xs.push_back(x);
  }
  std::vector<I32F32> out(xs.size());
  expSafeMany(xs, out);
  std::size_t mismatches = 0;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    if (out[k] != expSafe(xs[k])) {
      if (mismatches == 0) {
        CAPTURE(xs[k].bits());
        CHECK(out[k].bits() == expSafe(xs[k]).bits());
      }
      ++mismatches;
    }
  }
  CHECK(mismatches == 0);
  // Lengths that are not a multiple of the lanes (the remainder goes through expSafe).
  for (std::size_t len = 0; len <= 19; ++len) {
    std::vector<I32F32> part(len, I32F32::fromBits(-1));
    expSafeMany(std::span(xs).subspan(4000, len), part);
    for (std::size_t k = 0; k < len; ++k) CHECK(part[k] == expSafe(xs[4000 + k]));
  }
}

// LiquidAlphaGrid (liquid alpha from bracket ends) against alpha computed for each value alone.
// Hyperparameters: the defaults, their mirror images (negative steepness, alphaLow > alphaHigh),
// flat and extreme steepness, and every steepness for which some combined value puts the
// exponent at exactly 1.0 (fixedExp's stored E, where alpha is not monotone) inside a bracket
// rather than on its end. Values: all of [0, 2^16) (where the bench's and real epochs' values
// lie), windows around 1/2, 1, and each exponent-1.0 point, and random values over [0, 1]; fed in
// row-sized batches through one grid per epoch, so brackets computed by earlier batches and
// table slots taken over by far-apart values are both exercised.
namespace {

I32F32 alphaAlone(I32F32 c, I32F32 scale, I32F32 lo, I32F32 hi) {
  return alphaFromExp(expSafe(alphaSigmoidExponent(c, scale)), lo, hi);
}

// The combined value whose exponent is exactly 1.0 under scale, if any (the exponent is monotone
// in combined, so a binary search finds where it crosses 1.0).
std::optional<int64_t> exponentOneAt(I32F32 scale) {
  const auto x = [&](int64_t c) { return alphaSigmoidExponent(I32F32::fromBits(c), scale); };
  const bool rising = x(0) < x(int64_t{1} << 32);
  int64_t lo = 0;
  int64_t hi = int64_t{1} << 32;
  while (lo < hi) {  // the first c whose exponent is >= 1.0 (rising) or <= 1.0 (falling)
    const int64_t mid = lo + (hi - lo) / 2;
    const bool past = rising ? x(mid) >= I32F32::one() : x(mid) <= I32F32::one();
    if (past) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  if (lo <= (int64_t{1} << 32) && x(lo) == I32F32::one()) return lo;
  return std::nullopt;
}

}  // namespace

TEST_CASE("LiquidAlphaGrid gives each combined value the alpha computed for it alone") {
  struct Params {
    int steepness;
    uint16_t low;
    uint16_t high;
  };
  std::vector<Params> params = {{1000, 45875, 58982}, {-1000, 45875, 58982}, {1000, 58982, 45875},
                                {10, 0, 65535},       {0, 45875, 58982},     {32767, 45875, 58982},
                                {-32768, 0, 65535},   {400, 45875, 58982},   {-400, 45875, 58982}};
  // Steepnesses whose exponent-1.0 point lies strictly inside a bracket whose two ends have the
  // same alpha while the point itself has another: there only the exponent's side of 1.0 at the
  // ends keeps the grid from handing out the ends' alpha. With the default alphas none exists
  // (alpha moves more within a bracket than E's dip moves it); with a narrow alphaHigh -
  // alphaLow (1000 / 65535) 112 steepnesses have one; six are taken.
  constexpr uint16_t kTrapLow = 45875;
  constexpr uint16_t kTrapHigh = 46875;
  int traps = 0;
  for (int steep = -32768; steep <= 32767 && traps < 6; ++steep) {
    const I32F32 scale = alphaSigmoidScale(I32F32::fromInt(steep));
    auto at = exponentOneAt(scale);
    const int64_t bracket = int64_t{1} << LiquidAlphaGrid::kBracketBits;
    if (!at || *at % bracket == 0) continue;
    const I32F32 lo = u16ProportionToFixed(kTrapLow);
    const I32F32 hi = u16ProportionToFixed(kTrapHigh);
    const I32F32 start = alphaAlone(I32F32::fromBits(*at / bracket * bracket), scale, lo, hi);
    const I32F32 end = alphaAlone(I32F32::fromBits(*at / bracket * bracket + bracket), scale, lo, hi);
    if (start == end && alphaAlone(I32F32::fromBits(*at), scale, lo, hi) != start) {
      params.push_back({steep, kTrapLow, kTrapHigh});
      ++traps;
    }
  }
  REQUIRE(traps == 6);

  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int64_t> anyCombined(0, int64_t{1} << 32);
  LiquidAlphaGrid grid;
  for (const Params& p : params) {
    CAPTURE(p.steepness);
    CAPTURE(p.low);
    CAPTURE(p.high);
    const I32F32 scale = alphaSigmoidScale(I32F32::fromInt(p.steepness));
    const I32F32 lo = u16ProportionToFixed(p.low);
    const I32F32 hi = u16ProportionToFixed(p.high);
    std::vector<I32F32> cs;
    for (int64_t c = 0; c < (int64_t{1} << 16); ++c) cs.push_back(I32F32::fromBits(c));
    std::vector<int64_t> centres = {int64_t{1} << 31, int64_t{1} << 32};
    if (auto at = exponentOneAt(scale)) centres.push_back(*at);
    for (int64_t centre : centres) {
      for (int64_t d = -1024; d <= 1024; ++d) {
        if (centre + d >= 0 && centre + d <= (int64_t{1} << 32)) cs.push_back(I32F32::fromBits(centre + d));
      }
    }
    for (int k = 0; k < (1 << 14); ++k) cs.push_back(I32F32::fromBits(anyCombined(rng)));
    std::shuffle(cs.begin() + (1 << 16), cs.end(), rng);  // far-apart values in one batch

    grid.reset(scale, lo, hi);
    std::vector<I32F32> out(cs.size());
    constexpr std::size_t kRow = 1900;
    for (std::size_t b = 0; b < cs.size(); b += kRow) {
      const std::size_t len = std::min(kRow, cs.size() - b);
      grid.compute(std::span(cs).subspan(b, len), std::span(out).subspan(b, len));
    }
    // A second epoch of the same values, in another order and other batches: brackets proven
    // in the first, and those met once there (searched now), answer.
    grid.reset(scale, lo, hi);
    std::vector<std::size_t> order(cs.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<I32F32> again(cs.size());
    for (std::size_t k = 0; k < cs.size(); ++k) again[k] = cs[order[k]];
    std::vector<I32F32> out2(cs.size());
    for (std::size_t b = 0; b < again.size(); b += kRow) {
      const std::size_t len = std::min(kRow, again.size() - b);
      grid.compute(std::span(again).subspan(b, len), std::span(out2).subspan(b, len));
    }
    std::vector<I32F32> back(cs.size());  // the second pass's alpha for cs[k]
    for (std::size_t k = 0; k < cs.size(); ++k) back[order[k]] = out2[k];
    std::size_t mismatches = 0;
    for (std::size_t k = 0; k < cs.size(); ++k) {
      const I32F32 want = alphaAlone(cs[k], scale, lo, hi);
      if (out[k] != want && ++mismatches <= 5) {
        FAIL_CHECK("combined bits " << cs[k].bits() << ": grid " << out[k].bits() << ", alone "
                                    << want.bits());
      }
      if (back[k] != want && ++mismatches <= 5) {
        FAIL_CHECK("second pass, combined bits " << cs[k].bits() << ": grid " << back[k].bits() << ", alone "
                                                 << want.bits());
      }
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("LiquidAlphaGrid keeps its brackets while the hyperparameters stay, and only then") {
  const I32F32 scale = alphaSigmoidScale(I32F32::fromInt(1000));
  const I32F32 lo = u16ProportionToFixed(45875);
  const I32F32 hi = u16ProportionToFixed(58982);
  std::vector<I32F32> cs;
  for (int64_t c = 1; c < (int64_t{1} << 14); c += 3) cs.push_back(I32F32::fromBits(c));
  std::vector<I32F32> out(cs.size());
  LiquidAlphaGrid grid;
  grid.reset(scale, lo, hi);
  grid.compute(cs, out);
  const std::size_t proven = grid.provenBrackets();
  CHECK(proven > 0);
  CHECK(grid.usesParameters(scale, lo, hi));
  grid.reset(scale, lo, hi);  // the same hyperparameters: kept
  CHECK(grid.provenBrackets() == proven);
  // Other hyperparameters: every bracket is forgotten, and each value gets the new alpha.
  for (const auto& [s, l, h] : {std::tuple{alphaSigmoidScale(I32F32::fromInt(900)), lo, hi},
                                std::tuple{scale, u16ProportionToFixed(45000), hi},
                                std::tuple{scale, lo, u16ProportionToFixed(60000)}}) {
    grid.reset(scale, lo, hi);
    grid.compute(cs, out);
    grid.reset(s, l, h);
    CHECK_FALSE(grid.usesParameters(scale, lo, hi));
    CHECK(grid.provenBrackets() == 0);
    grid.compute(cs, out);
    std::size_t mismatches = 0;
    for (std::size_t k = 0; k < cs.size(); ++k) mismatches += out[k] != alphaAlone(cs[k], s, l, h) ? 1 : 0;
    CHECK(mismatches == 0);
  }
}

TEST_CASE("TC10 weighted median tables (test_math_weighted_median)") {
  const I32F32 one = I32F32::one();
  CHECK(median({}, {}, 0.51f) == I32F32::zero());
  std::vector<I32F32> s1 = fxv({0.51f});
  inplaceNormalize(s1);
  CHECK(median(s1, fxv({1.f}), 0.51f) == one);
  CHECK(median(fxv({0.49f, 0.51f}), fxv({0.5f, 1.f}), 0.51f) == one);
  CHECK(median(fxv({0.51f, 0.49f}), fxv({0.5f, 1.f}), 0.51f) == fx(0.5f));
  CHECK(median(fxv({0.49f, 0.f, 0.51f}), fxv({0.5f, 0.7f, 1.f}), 0.51f) == one);
  CHECK(median(fxv({0.49f, 0.01f, 0.5f}), fxv({0.5f, 0.7f, 1.f}), 0.51f) == fx(0.7f));
  CHECK(median(fxv({0.49f, 0.51f, 0.0f}), fxv({0.5f, 0.7f, 1.f}), 0.51f) == fx(0.7f));
  CHECK(median(fxv({0.0f, 0.49f, 0.51f}), fxv({0.5f, 0.7f, 1.f}), 0.51f) == one);
  CHECK(median(fxv({0.0f, 0.49f, 0.0f, 0.51f}), fxv({0.5f, 0.5f, 1.f, 1.f}), 0.51f) == one);
  CHECK(median(fxv({0.0f, 0.49f, 0.0f, 0.51f, 0.0f}), fxv({0.5f, 0.5f, 1.f, 1.f, 0.5f}), 0.51f) == one);
  CHECK(median(fxv({0.2f, 0.2f, 0.2f, 0.2f, 0.2f}), fxv({0.8f, 0.2f, 1.f, 0.6f, 0.4f}), 0.51f) == fx(0.6f));
  CHECK(median(std::vector<I32F32>(10, fx(0.1f)),
               fxv({0.8f, 0.8f, 0.2f, 0.2f, 1.0f, 1.0f, 0.6f, 0.6f, 0.4f, 0.4f}), 0.51f) == fx(0.6f));
}

TEST_CASE("TC10 weighted median by column (test_math_weighted_median_col_sparse)") {
  SparseMatrix w = sparse({0.f, 0.1f, 0.f, 0.f, 0.2f, 0.4f, 0.f, 0.3f, 0.1f, 0.f, 0.4f, 0.5f}, 4);
  std::vector<I32F32> stake = fxv({0.f, 0.75f, 0.25f, 0.f});
  CHECK(weightedMedianColSparse(stake, w, 3, fx(0.24f)) == fxv({0.f, 0.3f, 0.4f}));
  CHECK(weightedMedianColSparse(stake, w, 3, fx(0.26f)) == fxv({0.f, 0.2f, 0.4f}));
  CHECK(weightedMedianColSparse(stake, w, 3, fx(0.76f)) == fxv({0.f, 0.2f, 0.1f}));
  SparseMatrix w2 = sparse({0.f, 0.1f, 0.f, 0.f, 0.2f, 0.4f, 0.f, 0.3f, 0.1f, 0.f, 0.f, 0.5f}, 4);
  CHECK(weightedMedianColSparse(fxv({0.f, 0.3f, 0.2f, 0.5f}), w2, 3, fx(0.51f)) == fxv({0.f, 0.f, 0.4f}));
}

TEST_CASE("TC10 mat_ema_alpha_sparse (test_math_sparse_mat_ema_alpha)") {
  std::vector<std::vector<I32F32>> alpha(4, std::vector<I32F32>(3, fx(0.1f)));
  SparseMatrix oldM =
      sparse({0.1f, 0.2f, 3.f, 0.04f, 0.05f, 0.06f, 0.07f, 0.08f, 0.09f, 0.10f, 0.11f, 0.12f}, 4);
  SparseMatrix newM = sparse({1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f, 9.f, 10.f, 11.f, 12.f}, 4);
  std::vector<float> target{0.19f,  0.38f,    1.f,    0.43599f, 0.545f, 0.65399f,
                            0.763f, 0.87199f, 0.981f, 1.f,      1.f,    1.f};
  SparseMatrix r = matEmaAlphaSparse(newM, oldM, alpha);
  for (std::size_t i = 0; i < 4; ++i) {
    REQUIRE(r[i].size() == 3);
    for (std::size_t j = 0; j < 3; ++j) CHECK(std::abs(toDouble(r[i][j].value) - target[i * 3 + j]) <= 1e-4);
  }

  SparseMatrix zeros(4);
  SparseMatrix small =
      sparse({0.1f, 0.2f, 3.f, 0.04f, 0.05f, 0.06f, 0.07f, 0.08f, 0.09f, 0.10f, 0.11f, 0.12f}, 4);
  r = matEmaAlphaSparse(small, zeros, alpha);
  CHECK(std::abs(toDouble(r[0][0].value) - 0.01) <= 1e-4);
  CHECK(std::abs(toDouble(r[0][2].value) - 0.3) <= 1e-4);
  CHECK(std::abs(toDouble(r[1][0].value) - 0.00399) <= 1e-4);

  // An old bond whose column has no entry in the new row is dropped.
  SparseMatrix onlyOld(4);
  onlyOld[0].push_back({0, I32F32::one()});
  SparseMatrix onlyNew(4);
  onlyNew[1].push_back({1, I32F32::fromInt(2)});
  r = matEmaAlphaSparse(onlyNew, onlyOld, alpha);
  CHECK(r[0].empty());
  REQUIRE(r[1].size() == 1);
  CHECK(r[1][0].col == 1);
  CHECK(std::abs(toDouble(r[1][0].value) - 0.2) <= 1e-4);
}

TEST_CASE("vec_max_upscale_to_u16 and check_vec_max_limited") {
  std::vector<uint16_t> a{43690, 21845};
  CHECK(vecU16MaxUpscaleToU16(a) == std::vector<uint16_t>{65535, 32768});
  std::vector<uint16_t> b{32767, 32767};
  CHECK(vecU16MaxUpscaleToU16(b) == std::vector<uint16_t>{65535, 65535});
  std::vector<uint16_t> c{16383, 32767, 49149, 65535};
  CHECK(vecU16MaxUpscaleToU16(c) == c);
  std::vector<uint16_t> d{0, 0};
  CHECK(vecU16MaxUpscaleToU16(d) == d);
  std::vector<uint16_t> e{kU16Max / 512};
  CHECK(vecU16MaxUpscaleToU16(e) == std::vector<uint16_t>{65535});
  CHECK(checkVecMaxLimited(std::vector<uint16_t>{1, 1}, 32768));
  CHECK_FALSE(checkVecMaxLimited(std::vector<uint16_t>{2, 1}, 32768));
  CHECK(checkVecMaxLimited(std::vector<uint16_t>{}, 0));
}

TEST_CASE("is_topk_nonzero: zero stake never gets a permit; ties go to the higher uid") {
  std::vector<I32F32> v = fxv({0.f, 0.5f, 0.5f, 0.25f});
  CHECK(isTopkNonzero(v, 2) == std::vector<bool>{false, true, true, false});
  CHECK(isTopkNonzero(v, 10) == std::vector<bool>{false, true, true, true});
  std::vector<I32F32> ties = fxv({0.5f, 0.5f, 0.5f});
  CHECK(isTopkNonzero(ties, 2) == std::vector<bool>{false, true, true});
}

TEST_CASE("col_clip_sparse, interpolate_sparse and mat_ema_sparse edge rules") {
  SparseMatrix w(2);
  w[0] = {{0, fx(0.5f)}, {1, fx(0.5f)}, {2, I32F32::zero()}};
  w[1] = {{1, fx(0.25f)}};
  SparseMatrix clipped = colClipSparse(w, fxv({0.25f, 0.f, 0.f}));
  CHECK(clipped[0] == SparseRow{{0, fx(0.25f)}, {2, I32F32::zero()}});  // zero entries survive
  CHECK(clipped[1].empty());                                            // consensus 0 drops
  CHECK(interpolateSparse(w, clipped, 3, I32F32::zero()) == w);
  CHECK(interpolateSparse(w, clipped, 3, I32F32::one()) == clipped);
  SparseMatrix mid = interpolateSparse(w, clipped, 3, fx(0.5f));
  CHECK(mid[0] == SparseRow{{0, fx(0.375f)}, {1, fx(0.25f)}});
  CHECK(mid[1] == SparseRow{{1, fx(0.125f)}});
  // mat_ema_sparse keeps old-only entries, decayed.
  SparseMatrix oldM(2);
  oldM[1] = {{0, I32F32::one()}};
  SparseMatrix ema = matEmaSparse(SparseMatrix(2), oldM, fx(0.25f));
  CHECK(ema[1] == SparseRow{{0, fx(0.75f)}});
}

TEST_CASE("liquid alpha walks rows as if uid-sorted (unsorted entries count as 0)") {
  const I32F32 lo = u16ProportionToFixed(6553);
  const I32F32 hi = u16ProportionToFixed(19660);
  const I32F32 steep = I32F32::fromInt(1000);
  std::vector<I32F32> consensus = fxv({0.f, 0.5f, 0.5f});
  SparseMatrix sorted(1);
  sorted[0] = {{1, fx(0.9f)}, {2, fx(0.9f)}};
  SparseMatrix unsorted(1);
  unsorted[0] = {{2, fx(0.9f)}, {1, fx(0.9f)}};
  SparseMatrix noBonds(1);
  auto a = liquidAlphaValuesSparse(sorted, noBonds, consensus, lo, hi, steep);
  auto b = liquidAlphaValuesSparse(unsorted, noBonds, consensus, lo, hi, steep);
  CHECK(a[0][2] == b[0][2]);
  CHECK(a[0][1] != b[0][1]);
  CHECK(b[0][1] == alphaSigmoid(consensus[1], I32F32::zero(), I32F32::zero(), lo, hi, steep));
  // The epoch's sparse path equals the dense definition, for both orders.
  for (const SparseMatrix* w : {&sorted, &unsorted}) {
    auto alpha = liquidAlphaValuesSparse(*w, noBonds, consensus, lo, hi, steep);
    CHECK(matEmaLiquidAlphaSparse(*w, noBonds, consensus, lo, hi, steep) ==
          matEmaAlphaSparse(*w, noBonds, alpha));
  }
  // alpha stays within [low, high].
  for (int d = 0; d <= 20; ++d) {
    I32F32 al = alphaSigmoid(I32F32::zero(), I32F32::fromRatio(d, 20), I32F32::zero(), lo, hi, steep);
    CHECK(al >= lo);
    CHECK(al <= hi);
  }
}

}  // namespace
}  // namespace merit::consensus
