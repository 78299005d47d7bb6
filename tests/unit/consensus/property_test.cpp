// Properties of the epoch on random inputs from a seeded PRNG (the randomness lives here, never
// in the library): emission conservation, UID-permutation equivariance, determinism, and the
// equivalence of the optimised paths with their reference definitions.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "merit/consensus/epoch.h"
#include "merit/consensus/math.h"

#include "spec_compare.h"

namespace merit::consensus {
namespace {

using Rng = std::mt19937_64;

uint64_t uniform(Rng& rng, uint64_t lo, uint64_t hi) {
  return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
}
bool coin(Rng& rng, int percent) {
  return uniform(rng, 0, 99) < static_cast<uint64_t>(percent);
}

std::vector<UidValue> randomRow(Rng& rng, std::size_t n, int density, bool sorted) {
  std::vector<UidValue> row;
  for (std::size_t j = 0; j < n; ++j) {
    if (coin(rng, density))
      row.push_back({static_cast<uint16_t>(j), static_cast<uint16_t>(uniform(rng, 0, 65535))});
  }
  if (!sorted) std::shuffle(row.begin(), row.end(), rng);
  return row;
}

// Distinct non-zero stakes (or zero), so top-k permits have no ties to break by uid.
EpochInput randomInput(Rng& rng, bool sortedRows) {
  EpochInput in;
  std::size_t n = uniform(rng, 1, 40);
  in.currentBlock = uniform(rng, 0, 200);
  in.tempo = static_cast<uint16_t>(uniform(rng, 0, 20));
  in.raoEmission = coin(rng, 50) ? 1'000'000'000 : uniform(rng, 0, uint64_t{1} << 40);
  in.lastMechanismStepBlock = coin(rng, 50) ? 0 : uniform(rng, 0, in.currentBlock);
  if (coin(rng, 30)) in.ownerUid = static_cast<uint16_t>(uniform(rng, 0, n - 1));
  Hyperparameters& hp = in.hyperparameters;
  hp.kappa = static_cast<uint16_t>(coin(rng, 50) ? 32767 : uniform(rng, 0, 65535));
  hp.bondsPenalty = static_cast<uint16_t>(coin(rng, 30) ? 65535 : coin(rng, 30) ? 0 : uniform(rng, 0, 65535));
  hp.bondsMovingAverage = uniform(rng, 0, 1'000'000);
  hp.yuma3 = coin(rng, 50);
  hp.liquidAlpha = coin(rng, 50);
  hp.alphaLow = static_cast<uint16_t>(uniform(rng, 0, 40000));
  hp.alphaHigh = static_cast<uint16_t>(uniform(rng, hp.alphaLow, 65535));
  hp.alphaSigmoidSteepness = static_cast<int16_t>(uniform(rng, 0, 4000)) - 1000;
  hp.activityCutoff = uniform(rng, 0, 100);
  hp.maxAllowedValidators = static_cast<uint16_t>(uniform(rng, 0, n + 2));
  hp.stakeThreshold = coin(rng, 70) ? 0 : uniform(rng, 0, 1'000'000);
  hp.commitReveal = coin(rng, 30);
  std::vector<uint64_t> stakes(n);
  for (std::size_t i = 0; i < n; ++i)
    stakes[i] = coin(rng, 25) ? 0 : uniform(rng, 1, 1'000'000'000'000) * 64 + i;
  int density = static_cast<int>(uniform(rng, 5, 100));
  for (std::size_t i = 0; i < n; ++i) {
    NeuronInput neuron;
    neuron.stake = stakes[i];
    neuron.blockAtRegistration = uniform(rng, 0, in.currentBlock);
    neuron.lastUpdate = uniform(rng, neuron.blockAtRegistration, in.currentBlock + 1);
    neuron.validatorPermit = coin(rng, 60);
    neuron.weights = randomRow(rng, n, density, sortedRows);
    neuron.bonds = randomRow(rng, n, density / 2, sortedRows);
    if (coin(rng, 30)) neuron.commitBlock = uniform(rng, 0, in.currentBlock);
    in.neurons.push_back(std::move(neuron));
  }
  return in;
}

uint64_t total(const std::vector<uint64_t>& v) {
  return std::accumulate(v.begin(), v.end(), uint64_t{0});
}

TEST_CASE("property: emissions never exceed rao_emission and lose only flooring units") {
  // Checked on runEpoch; the executable spec must give the same output, so the properties hold
  // for both.
  Rng rng(20240601);
  for (int t = 0; t < 2000; ++t) {
    EpochInput in = randomInput(rng, coin(rng, 50));
    auto out = runEpoch(in);
    REQUIRE(out.has_value());
    const uint64_t n = in.neurons.size();
    const uint64_t rao = in.raoEmission;
    CAPTURE(t);
    test::checkAgainstSpec(in, out);
    CHECK(total(out->emission) <= rao);
    CHECK(total(out->serverEmission) + total(out->validatorEmission) <= rao);
    // Each share is floored to 2^-32 and each amount to 1 unit: at most n * (1 + rao / 2^32).
    const uint64_t bound = n + (n * rao + ((uint64_t{1} << 32) - 1)) / (uint64_t{1} << 32);
    bool anyStake = std::any_of(in.neurons.begin(), in.neurons.end(), [&](const NeuronInput& x) {
      return x.stake >= in.hyperparameters.stakeThreshold && x.stake > 0;
    });
    bool ownerStake = in.ownerUid && in.neurons[*in.ownerUid].stake > 0;
    if (anyStake || ownerStake) CHECK(rao - total(out->emission) <= bound);
    for (std::size_t i = 0; i < n; ++i) {
      if (!out->validatorPermit[i]) CHECK(out->bonds[i].empty());
    }
  }
}

TEST_CASE("property: a 1e9 emission loses fewer than 2n units") {
  Rng rng(7);
  for (int t = 0; t < 500; ++t) {
    EpochInput in = randomInput(rng, true);
    in.raoEmission = 1'000'000'000;
    in.hyperparameters.stakeThreshold = 0;
    auto out = runEpoch(in);
    REQUIRE(out.has_value());
    if (total(out->emission) == 0) continue;  // no stake at all
    CAPTURE(t);
    CHECK(in.raoEmission - total(out->emission) < 2 * in.neurons.size());
  }
}

EpochInput permuted(const EpochInput& in, const std::vector<uint16_t>& perm) {
  // perm[old uid] = new uid; rows re-sorted so uid-sorted rows stay sorted.
  EpochInput out = in;
  for (std::size_t i = 0; i < in.neurons.size(); ++i) {
    NeuronInput neuron = in.neurons[i];
    for (UidValue& w : neuron.weights) w.uid = perm[w.uid];
    for (UidValue& b : neuron.bonds) b.uid = perm[b.uid];
    auto byUid = [](const UidValue& a, const UidValue& b) { return a.uid < b.uid; };
    std::sort(neuron.weights.begin(), neuron.weights.end(), byUid);
    std::sort(neuron.bonds.begin(), neuron.bonds.end(), byUid);
    out.neurons[perm[i]] = std::move(neuron);
  }
  if (in.ownerUid) out.ownerUid = perm[*in.ownerUid];
  return out;
}

TEST_CASE("property: permuting UIDs permutes every output") {
  Rng rng(99);
  for (int t = 0; t < 1000; ++t) {
    EpochInput in = randomInput(rng, true);
    const std::size_t n = in.neurons.size();
    std::vector<uint16_t> perm(n);
    std::iota(perm.begin(), perm.end(), uint16_t{0});
    std::shuffle(perm.begin(), perm.end(), rng);
    auto a = runEpoch(in);
    auto b = runEpoch(permuted(in, perm));
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CAPTURE(t);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t k = perm[i];
      CHECK(a->active[i] == b->active[k]);
      CHECK(a->stakeWeight[i] == b->stakeWeight[k]);
      CHECK(a->consensus[i] == b->consensus[k]);
      CHECK(a->incentive[i] == b->incentive[k]);
      CHECK(a->dividends[i] == b->dividends[k]);
      CHECK(a->validatorTrust[i] == b->validatorTrust[k]);
      CHECK(a->emission[i] == b->emission[k]);
      CHECK(a->serverEmission[i] == b->serverEmission[k]);
      CHECK(a->validatorEmission[i] == b->validatorEmission[k]);
      CHECK(a->validatorPermit[i] == b->validatorPermit[k]);
      std::vector<UidValue> mapped = a->bonds[i];
      for (UidValue& x : mapped) x.uid = perm[x.uid];
      auto byUid = [](const UidValue& x, const UidValue& y) { return x.uid < y.uid; };
      std::sort(mapped.begin(), mapped.end(), byUid);
      std::vector<UidValue> other = b->bonds[k];
      std::sort(other.begin(), other.end(), byUid);
      CHECK(mapped == other);
    }
  }
}

TEST_CASE("property: the epoch is deterministic") {
  Rng rng(5);
  for (int t = 0; t < 300; ++t) {
    EpochInput in = randomInput(rng, coin(rng, 50));
    // The copy is the point: the second run gets an equal but distinct input, so a result that
    // depended on the object (its address, state left behind in it) would show.
    // NOLINTNEXTLINE(performance-unnecessary-copy-initialization): deliberate, see above
    EpochInput copy = in;
    auto a = runEpoch(in);
    auto b = runEpoch(copy);
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(a->emission == b->emission);
    CHECK(a->dividends == b->dividends);
    CHECK(a->incentive == b->incentive);
    CHECK(a->consensus == b->consensus);
    CHECK(a->validatorPermit == b->validatorPermit);
    CHECK(a->bonds == b->bonds);
  }
}

TEST_CASE("property: weighted median equals the closed form of spec 2.1") {
  Rng rng(11);
  for (int t = 0; t < 3000; ++t) {
    std::size_t m = uniform(rng, 0, 12);
    std::vector<I32F32> stake(m);
    SparseMatrix w(m);
    for (std::size_t i = 0; i < m; ++i) {
      stake[i] =
          coin(rng, 20) ? I32F32::zero() : I32F32::fromBits(static_cast<int64_t>(uniform(rng, 1, 1u << 30)));
      if (coin(rng, 80))
        w[i].push_back({0, I32F32::fromBits(static_cast<int64_t>(uniform(rng, 0, 4) << 30))});
    }
    I32F32 kappa = I32F32::fromBits(static_cast<int64_t>(uniform(rng, 0, uint64_t{1} << 32)));
    I32F32 c = weightedMedianColSparse(stake, w, 1, kappa)[0];
    // Closed form: smallest score s with sum(stake of scores <= s) > minority.
    std::vector<I32F32> use;
    std::vector<I32F32> score;
    for (std::size_t i = 0; i < m; ++i) {
      if (stake[i] > I32F32::zero()) {
        use.push_back(stake[i]);
        score.push_back(w[i].empty() ? I32F32::zero() : w[i][0].value);
      }
    }
    inplaceNormalize(use);
    I32F32 minority = sum(use).saturatingSub(kappa);
    std::vector<I32F32> sortedScores = score;
    std::sort(sortedScores.begin(), sortedScores.end());
    I32F32 expected = sortedScores.empty() ? I32F32::zero() : sortedScores.back();
    for (I32F32 s : sortedScores) {
      I32F32 below;
      for (std::size_t k = 0; k < score.size(); ++k) {
        if (score[k] <= s) below = below.saturatingAdd(use[k]);
      }
      if (below > minority) {
        expected = s;
        break;
      }
    }
    CAPTURE(t);
    CHECK(c == expected);
  }
}

TEST_CASE("property: sparse liquid-alpha EMA equals the dense alpha definition") {
  Rng rng(3);
  for (int t = 0; t < 300; ++t) {
    std::size_t n = uniform(rng, 1, 12);
    SparseMatrix w(n);
    SparseMatrix b(n);
    for (std::size_t i = 0; i < n; ++i) {
      for (const UidValue& x : randomRow(rng, n, 50, coin(rng, 50))) {
        w[i].push_back({x.uid, u16ProportionToFixed(x.value)});
      }
      for (const UidValue& x : randomRow(rng, n, 40, coin(rng, 50))) {
        b[i].push_back({x.uid, u16ProportionToFixed(x.value)});
      }
    }
    std::vector<I32F32> c(n);
    for (I32F32& x : c) x = u16ProportionToFixed(static_cast<uint16_t>(uniform(rng, 0, 65535)));
    I32F32 lo = u16ProportionToFixed(6553);
    I32F32 hi = u16ProportionToFixed(58982);
    I32F32 steep = I32F32::fromInt(static_cast<int64_t>(uniform(rng, 0, 3000)) - 500);
    auto alpha = liquidAlphaValuesSparse(w, b, c, lo, hi, steep);
    CHECK(matEmaLiquidAlphaSparse(w, b, c, lo, hi, steep) == matEmaAlphaSparse(w, b, alpha));
  }
}

}  // namespace
}  // namespace merit::consensus

namespace merit::consensus {
namespace {

TEST_CASE("property: I32F32Divisor equals safe_div") {
  Rng rng(17);
  auto randomBits = [&](void) -> int64_t {
    switch (uniform(rng, 0, 3)) {
      case 0: return static_cast<int64_t>(uniform(rng, 0, 1u << 20));
      case 1: return static_cast<int64_t>(uniform(rng, 0, uint64_t{1} << 33));
      case 2: return static_cast<int64_t>(uniform(rng, 0, uint64_t{1} << 62)) - (int64_t{1} << 40);
      default: return static_cast<int64_t>(uniform(rng, 0, ~uint64_t{0} >> 1));
    }
  };
  for (int t = 0; t < 200000; ++t) {
    I32F32 d = I32F32::fromBits(randomBits());
    I32F32 a = I32F32::fromBits(randomBits());
    CAPTURE(d.bits());
    CAPTURE(a.bits());
    REQUIRE(I32F32Divisor(d).safeDivide(a) == a.safeDiv(d));
  }
  // Edges: quotient just fitting and just overflowing, divisor 1 and max.
  for (int64_t d :
       {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{65535} << 32, std::numeric_limits<int64_t>::max()}) {
    for (int64_t a : {int64_t{0}, int64_t{1}, (d << 1) >> 1, std::numeric_limits<int64_t>::max(),
                      int64_t{1} << 31, (int64_t{1} << 31) - 1, int64_t{-5}}) {
      CHECK(I32F32Divisor(I32F32::fromBits(d)).safeDivide(I32F32::fromBits(a)) ==
            I32F32::fromBits(a).safeDiv(I32F32::fromBits(d)));
    }
  }
}

}  // namespace
}  // namespace merit::consensus
