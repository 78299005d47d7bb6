// Differential test: the optimised runEpoch (fused passes, fast paths, reused workspace) against
// consensus_spec::specEpoch, the executable spec (merit_consensus_spec), which shares none of
// runEpoch's code, its emission tail included. Every
// output field must be identical, on random inputs of several sizes and on the edge cases where
// the fast paths branch: zero stake, empty rows, all-equal weights, kappa and bonds-penalty
// extremes, Yuma 2 / Yuma 3, liquid alpha on and off, unsorted rows, and bonds fed back from
// one epoch to the next.
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "merit/consensus/epoch.h"
#include "merit/consensus/math.h"
#include "merit/consensus_spec/epoch.h"

#include "spec_compare.h"

namespace merit::consensus::test {
namespace {

using Rng = std::mt19937_64;

uint64_t uniform(Rng& rng, uint64_t lo, uint64_t hi) {
  return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
}
bool coin(Rng& rng, int percent) {
  return uniform(rng, 0, 99) < static_cast<uint64_t>(percent);
}

// What a random input looks like; each knob exercises one branch of the optimised epoch.
struct Shape {
  std::size_t n = 0;
  std::size_t validators = 0;  // neurons that hold stake, permits and weight rows
  int density = 100;           // percent of columns present in a weight row
  bool sorted = true;          // uid-sorted rows (the merge path) or shuffled (the dense path)
  bool equalWeights = false;   // every weight the same value
  bool zeroStake = false;      // nobody holds stake
};

std::vector<UidValue> randomRow(Rng& rng, std::size_t n, int density, bool sorted, bool equal,
                                uint16_t value) {
  std::vector<UidValue> row;
  for (std::size_t j = 0; j < n; ++j) {
    if (!coin(rng, density)) continue;
    const uint16_t v = equal ? value : static_cast<uint16_t>(coin(rng, 5) ? 0 : uniform(rng, 0, 65535));
    row.push_back({static_cast<uint16_t>(j), v});
  }
  if (!sorted) std::shuffle(row.begin(), row.end(), rng);
  return row;
}

uint16_t pick16(Rng& rng, std::initializer_list<uint16_t> edges) {
  if (coin(rng, 50)) return *(edges.begin() + uniform(rng, 0, edges.size() - 1));
  return static_cast<uint16_t>(uniform(rng, 0, 65535));
}

EpochInput randomInput(Rng& rng, const Shape& shape) {
  EpochInput in;
  const std::size_t n = shape.n;
  in.currentBlock = uniform(rng, 100, 300);
  in.tempo = static_cast<uint16_t>(uniform(rng, 0, 50));
  in.raoEmission = coin(rng, 50) ? 1'000'000'000 : uniform(rng, 0, uint64_t{1} << 50);
  in.lastMechanismStepBlock = coin(rng, 50) ? 0 : uniform(rng, 0, in.currentBlock);
  if (coin(rng, 20)) in.ownerUid = static_cast<uint16_t>(uniform(rng, 0, n - 1));
  Hyperparameters& hp = in.hyperparameters;
  hp.kappa = pick16(rng, {0, 1, 32767, 65534, 65535});
  hp.bondsPenalty = pick16(rng, {0, 1, 65535});
  hp.bondsMovingAverage = coin(rng, 20) ? (coin(rng, 50) ? 0 : 1'000'000) : uniform(rng, 0, 1'000'000);
  hp.yuma3 = coin(rng, 50);
  hp.liquidAlpha = coin(rng, 50);
  hp.alphaLow = static_cast<uint16_t>(uniform(rng, 0, 60000));
  hp.alphaHigh = static_cast<uint16_t>(uniform(rng, hp.alphaLow, 65535));
  hp.alphaSigmoidSteepness = static_cast<int16_t>(static_cast<int64_t>(uniform(rng, 0, 4000)) - 1000);
  hp.activityCutoff = coin(rng, 70) ? 5000 : uniform(rng, 0, 200);
  hp.maxAllowedValidators = static_cast<uint16_t>(uniform(rng, 0, shape.validators + 2));
  hp.stakeThreshold = coin(rng, 80) ? 0 : uniform(rng, 0, 2'000'000);
  hp.commitReveal = coin(rng, 20);
  const uint16_t equalValue = static_cast<uint16_t>(uniform(rng, 0, 65535));
  for (std::size_t i = 0; i < n; ++i) {
    NeuronInput neuron;
    const bool validator = i < shape.validators || coin(rng, 3);
    if (!shape.zeroStake && validator && !coin(rng, 10)) neuron.stake = uniform(rng, 1, 1'000'000'000'000);
    neuron.blockAtRegistration = coin(rng, 90) ? uniform(rng, 0, 50) : uniform(rng, 0, in.currentBlock);
    neuron.lastUpdate = coin(rng, 90) ? in.currentBlock - 1 : uniform(rng, 0, in.currentBlock);
    neuron.validatorPermit = validator ? coin(rng, 90) : coin(rng, 5);
    if (validator && !coin(rng, 5)) {  // some validators leave their row empty
      neuron.weights = randomRow(rng, n, shape.density, shape.sorted, shape.equalWeights, equalValue);
    }
    if (validator && coin(rng, 70)) {
      if (coin(rng, 40)) {
        // Bonds on exactly the weighted uids, in the same order (the EMA's equal-columns path).
        neuron.bonds = neuron.weights;
        for (UidValue& b : neuron.bonds) b.value = static_cast<uint16_t>(uniform(rng, 0, 65535));
      } else {
        neuron.bonds = randomRow(rng, n, shape.density, shape.sorted, false, 0);
      }
    }
    if (coin(rng, 20)) neuron.commitBlock = uniform(rng, 0, in.currentBlock);
    in.neurons.push_back(std::move(neuron));
  }
  return in;
}

// With a workspace, runEpoch(in, *workspace) (whatever earlier epochs left in it); else runEpoch(in).
void checkSame(const EpochInput& in, const char* what, EpochWorkspace* workspace = nullptr) {
  auto fast = workspace != nullptr ? runEpoch(in, *workspace) : runEpoch(in);
  auto ref = consensus_spec::specEpoch(in);
  REQUIRE(fast.has_value() == ref.has_value());
  if (!fast) return;
  INFO(what);
  CAPTURE(in.neurons.size());
  CAPTURE(in.hyperparameters.yuma3);
  CAPTURE(in.hyperparameters.liquidAlpha);
  CAPTURE(in.hyperparameters.kappa);
  CAPTURE(in.hyperparameters.bondsPenalty);
  checkSameOutput(*fast, *ref);
}

// Runs `epochs` epochs, feeding each epoch's bonds and permits into the next (from the spec,
// so both sides always see the same input), and compares every epoch.
void checkEpochs(EpochInput in, int epochs, const char* what, EpochWorkspace* workspace = nullptr) {
  for (int e = 0; e < epochs; ++e) {
    checkSame(in, what, workspace);
    auto ref = consensus_spec::specEpoch(in);
    REQUIRE(ref.has_value());
    for (std::size_t i = 0; i < in.neurons.size(); ++i) {
      in.neurons[i].bonds = ref->bonds[i];
      in.neurons[i].validatorPermit = ref->validatorPermit[i];
    }
    in.lastMechanismStepBlock = in.currentBlock;
    in.currentBlock += 1 + in.tempo;
    for (NeuronInput& neuron : in.neurons) neuron.lastUpdate = in.currentBlock - 1;
  }
}

// `count` small random inputs of every kind (sizes up to 48, any density, sorted or not, equal
// weights, zero stake), each run for 1 or 3 epochs against the spec.
void checkSmallRandom(uint64_t seed, int count, const char* what) {
  Rng rng(seed);
  for (int t = 0; t < count; ++t) {
    Shape shape;
    shape.n = uniform(rng, 1, 48);
    shape.validators = uniform(rng, 0, shape.n);
    shape.density = static_cast<int>(coin(rng, 30) ? 100 : uniform(rng, 0, 100));
    shape.sorted = coin(rng, 70);
    shape.equalWeights = coin(rng, 15);
    shape.zeroStake = coin(rng, 5);
    CAPTURE(t);
    checkEpochs(randomInput(rng, shape), coin(rng, 30) ? 3 : 1, what);
  }
}

TEST_CASE("reference: optimised epoch equals the executable spec on small random inputs") {
  checkSmallRandom(101, 400, "small");
}

TEST_CASE("reference: optimised epoch equals the executable spec on medium and large inputs") {
  Rng rng(202);
  // n, validators, density: dense rows like the bench (every validator weights every uid),
  // sparse rows, and many validators (the column-median histogram's buckets fill differently).
  const Shape shapes[] = {
      {200, 32, 100, true, false, false},   {300, 64, 30, true, false, false},
      {257, 100, 100, false, false, false}, {512, 64, 100, true, true, false},
      {640, 16, 5, true, false, false},     {300, 300, 60, true, false, false},
      {128, 40, 100, true, false, true},    {1500, 96, 100, true, false, false},
      {2048, 24, 100, false, false, false},
  };
  int t = 0;
  for (const Shape& shape : shapes) {
    for (int variant = 0; variant < 3; ++variant) {
      EpochInput in = randomInput(rng, shape);
      in.hyperparameters.yuma3 = variant != 0;
      in.hyperparameters.liquidAlpha = variant == 2;
      for (std::size_t i = 0; i < shape.validators && i < in.neurons.size(); ++i)
        in.neurons[i].validatorPermit = true;
      CAPTURE(t++);
      checkEpochs(std::move(in), 2, "medium/large");
    }
  }
}

TEST_CASE("reference: the portable code (vector units off) equals the executable spec") {
  // On a CPU with AVX2 the cases above run the medians' AVX2 scans; these run the portable ones
  // on the same kinds of input (and on a CPU without AVX2 both run the portable code).
  struct Restore {
    ~Restore() { setVectorUnitsAllowed(true); }
  } restore;
  setVectorUnitsAllowed(false);
  checkSmallRandom(404, 150, "small, portable");
  Rng rng(405);
  const Shape shapes[] = {{300, 64, 30, true, false, false},
                          {257, 100, 100, false, false, false},
                          {512, 64, 100, true, true, false}};
  for (const Shape& shape : shapes) {
    for (int variant = 0; variant < 2; ++variant) {
      EpochInput in = randomInput(rng, shape);
      in.hyperparameters.yuma3 = variant != 0;
      for (std::size_t i = 0; i < shape.validators && i < in.neurons.size(); ++i)
        in.neurons[i].validatorPermit = true;
      checkEpochs(std::move(in), 2, "medium, portable");
    }
  }
}

TEST_CASE("reference: one workspace shared by epochs of different sizes and variants") {
  // As the chain's Runtime uses it: one workspace for every subnet, so each epoch finds the
  // arrays of a larger or smaller, sorted or unsorted, Yuma 2 or 3 epoch before it (entries past
  // what it writes hold the earlier epoch's values, never zeroes).
  Rng rng(404);
  EpochWorkspace workspace;
  const Shape shapes[] = {
      {1500, 96, 100, true, false, false}, {40, 12, 100, true, false, false},
      {640, 64, 100, false, false, false}, {5, 5, 100, true, true, false},
      {900, 200, 50, true, false, false},  {300, 300, 100, false, false, false},
      {1, 1, 100, true, false, false},     {1024, 128, 100, true, false, false},
  };
  int t = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (const Shape& shape : shapes) {
      EpochInput in = randomInput(rng, shape);
      in.hyperparameters.yuma3 = (t % 3) != 0;
      in.hyperparameters.liquidAlpha = (t % 3) == 2;
      for (std::size_t i = 0; i < shape.validators && i < in.neurons.size(); ++i)
        in.neurons[i].validatorPermit = true;
      CAPTURE(t++);
      checkEpochs(std::move(in), 2, "shared workspace", &workspace);
    }
  }
}

TEST_CASE("reference: liquid alpha epochs of subnets with different hyperparameters share a workspace") {
  // The workspace keeps liquid alpha's proven brackets for a few hyperparameter sets: epochs of
  // five subnets (more sets than it keeps), each with its own alpha bounds and steepness,
  // alternate in it with their bonds carried on, and every epoch must equal the spec.
  Rng rng(505);
  EpochWorkspace workspace;
  std::vector<EpochInput> subnets;
  for (int k = 0; k < 5; ++k) {
    EpochInput in = randomInput(rng, Shape{300, 32, 100, true, false, false});
    in.hyperparameters.yuma3 = true;
    in.hyperparameters.liquidAlpha = true;
    in.hyperparameters.bondsPenalty = 0;
    for (std::size_t i = 0; i < 32; ++i) in.neurons[i].validatorPermit = true;
    subnets.push_back(std::move(in));
  }
  subnets[3].hyperparameters.alphaLow = subnets[0].hyperparameters.alphaLow;    // one shares all but
  subnets[3].hyperparameters.alphaHigh = subnets[0].hyperparameters.alphaHigh;  // the steepness
  for (int round = 0; round < 3; ++round) {
    for (std::size_t k = 0; k < subnets.size(); ++k) {
      EpochInput& in = subnets[(k * 2 + static_cast<std::size_t>(round)) % subnets.size()];
      CAPTURE(round);
      CAPTURE(k);
      checkSame(in, "alternating subnets", &workspace);
      auto ref = consensus_spec::specEpoch(in);
      REQUIRE(ref.has_value());
      for (std::size_t i = 0; i < in.neurons.size(); ++i) in.neurons[i].bonds = ref->bonds[i];
    }
  }
}

TEST_CASE("reference: the bench's dense 4096-neuron shape") {
  // The shape bench_yuma times (4096 neurons, dense rows), with fewer validators to keep the
  // spec fast; the bonds of the first epoch feed the second. Yuma 2 and Yuma 3 only: the
  // spec's dense liquid-alpha matrix would take n^2 sigmoids (liquid alpha is compared up
  // to n = 2048 above).
  Rng rng(303);
  for (int variant = 0; variant < 2; ++variant) {
    Shape shape{kMaxNeurons, 16, 100, true, false, false};
    EpochInput in = randomInput(rng, shape);
    in.hyperparameters.kappa = 32767;
    in.hyperparameters.yuma3 = variant != 0;
    in.hyperparameters.liquidAlpha = variant == 2;
    in.hyperparameters.bondsPenalty = variant == 2 ? 0 : 65535;
    in.hyperparameters.maxAllowedValidators = 16;
    for (std::size_t i = 0; i < shape.validators; ++i) in.neurons[i].validatorPermit = true;
    CAPTURE(variant);
    checkEpochs(std::move(in), 2, "4096 dense");
  }
}

}  // namespace
}  // namespace merit::consensus::test
