// Spec yuma.md §10 test vectors TC1–TC9 (subtensor's tests/epoch.rs and epoch_logs.rs), run
// through the same state transitions as the chain. Integer vectors are asserted exactly; the
// Yuma 3 tables within the tests' 1e-3.
#include "merit/consensus/epoch.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "spec_compare.h"
#include "subnet_sim.h"

namespace merit::consensus {
namespace {

using test::SubnetSim;

constexpr uint16_t kMax = 65535;

std::vector<uint16_t> range(uint16_t from, uint16_t to) {
  std::vector<uint16_t> v;
  for (uint16_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST_CASE("TC1 test_10_graph: self-weights only, no permits -> emission by stake") {
  SubnetSim sim(std::vector<uint64_t>(10, 1), 0, kMax - 1);
  sim.setBlock(1);
  for (uint16_t i = 0; i < 10; ++i) sim.setWeights(i, {i}, {kMax});
  EpochOutput out = sim.epoch();
  for (std::size_t i = 0; i < 10; ++i) {
    CHECK(out.consensus[i] == 0);
    CHECK(out.incentive[i] == 0);
    CHECK(out.dividends[i] == 0);
    CHECK(out.emission[i] == 99'999'999);
  }
}

TEST_CASE("TC2 test_512_graph: 64 validators weight 448 servers evenly") {
  std::vector<uint64_t> stakes(512, 0);
  for (std::size_t v = 0; v < 64; ++v) stakes[v] = 328'125'000'000'000;
  SubnetSim sim(stakes, 0, kMax - 1);
  sim.hyperparameters().maxAllowedValidators = 64;
  sim.epoch();  // sets permits
  sim.setBlock(1);
  std::vector<uint16_t> servers = range(64, 512);
  for (uint16_t v = 0; v < 64; ++v) sim.setWeights(v, servers, std::vector<uint16_t>(448, kMax / 512));
  for (uint16_t s = 64; s < 512; ++s) sim.setWeights(s, {s}, {kMax});  // server self-weights
  EpochOutput out;
  for (int e = 0; e < 3; ++e) out = sim.epoch();
  for (std::size_t v = 0; v < 64; ++v) {
    CHECK(out.consensus[v] == 0);
    CHECK(out.incentive[v] == 0);
    CHECK(out.dividends[v] == 1023);
    CHECK(out.emission[v] == 7'812'500);
    CHECK(sim.bond(v, 0) == 0);
    for (uint16_t s = 64; s < 512; ++s) REQUIRE(sim.bond(v, s) == 65535);
  }
  for (std::size_t s = 64; s < 512; ++s) {
    CHECK(out.consensus[s] == 146);
    CHECK(out.incentive[s] == 146);
    CHECK(out.dividends[s] == 0);
    CHECK(out.emission[s] == 1'116'071);
    CHECK(sim.neuron(s).bonds.empty());
  }
}

TEST_CASE("TC3 test_bonds: original Yuma bonds over 7 epochs") {
  SubnetSim sim({1, 2, 3, 4, 0, 0, 0, 0}, 1, 1);
  sim.hyperparameters().maxAllowedValidators = 8;
  sim.epoch();
  auto column = [&](uint16_t j) {
    return std::vector<uint16_t>{sim.bond(0, j), sim.bond(1, j), sim.bond(2, j), sim.bond(3, j)};
  };
  using E = std::vector<uint64_t>;

  sim.nextBlock();  // block 2
  for (uint16_t v = 0; v < 4; ++v)
    sim.setWeights(v, {4, 5, 6, 7}, {kMax / 4, kMax / 2, (kMax / 4) * 3, kMax}, 1);
  EpochOutput out = sim.epoch();
  CHECK(column(4) == std::vector<uint16_t>{16383, 32767, 49151, 65535});
  CHECK(out.emission ==
        E{49999998, 99999999, 150000000, 200000001, 49998779, 100000610, 149996337, 200004272});
  // §5 worked example.
  CHECK(out.incentive == std::vector<uint16_t>{0, 0, 0, 0, 6553, 13107, 19660, 26214});
  CHECK(out.dividends == std::vector<uint16_t>{6553, 13106, 19660, 26214, 0, 0, 0, 0});

  sim.setWeights(0, {0}, {kMax}, 1);
  sim.nextBlock();  // 3
  out = sim.epoch();
  CHECK(column(4) == std::vector<uint16_t>{14582, 32767, 49151, 65535});
  CHECK(out.emission ==
        E{44998351, 101110561, 151667215, 202223870, 49998779, 100000610, 149996337, 200004272});

  sim.setWeights(1, {1}, {kMax}, 1);
  sim.nextBlock();  // 4
  out = sim.epoch();
  CHECK(column(4) == std::vector<uint16_t>{12603, 28321, 49151, 65535});
  CHECK(out.emission ==
        E{40496805, 90999783, 157929636, 210573773, 49998779, 100000610, 149996337, 200004272});

  sim.setWeights(2, {2}, {kMax}, 1);
  sim.nextBlock();  // 5
  out = sim.epoch();
  CHECK(column(7) == std::vector<uint16_t>{12602, 28320, 49150, 65535});
  CHECK(out.emission == E{99999999, 199999999, 299999999, 399999999, 0, 0, 0, 0});

  sim.setWeights(2, {7}, {kMax}, 1);
  sim.nextBlock();  // 6
  out = sim.epoch();
  CHECK(column(7) == std::vector<uint16_t>{10951, 24609, 49150, 65535});
  CHECK(out.emission == E{36443733, 81898628, 163565493, 218092144, 0, 0, 0, 500000000});

  sim.nextBlock();  // 7
  out = sim.epoch();
  CHECK(column(7) == std::vector<uint16_t>{9559, 21482, 49150, 65535});
  CHECK(out.emission == E{32799427, 73706612, 168638129, 224855830, 0, 0, 0, 500000000});

  sim.nextBlock();  // 8
  out = sim.epoch();
  CHECK(column(7) == std::vector<uint16_t>{8376, 18824, 49150, 65535});
  CHECK(out.emission == E{29518068, 66336137, 173203134, 230942659, 0, 0, 0, 500000000});
}

TEST_CASE("TC4 test_active_stake: an inactive validator's bonds decay") {
  SubnetSim sim({1, 1, 1, 1}, 0, 1);
  sim.hyperparameters().maxAllowedValidators = 4;
  sim.epoch();  // block 0: all four get permits
  sim.nextBlock();
  for (uint16_t v = 0; v < 2; ++v) sim.setWeights(v, {2, 3}, {kMax / 2, kMax / 2});
  EpochOutput out = sim.epoch();
  CHECK(out.dividends[0] == 32767);
  CHECK(out.dividends[1] == 32767);
  for (std::size_t i = 0; i < 4; ++i) CHECK(out.emission[i] == 250'000'000);
  for (std::size_t v = 0; v < 2; ++v) {
    CHECK(sim.bond(v, 0) == 0);
    CHECK(sim.bond(v, 1) == 0);
    CHECK(sim.bond(v, 2) == 65535);
    CHECK(sim.bond(v, 3) == 65535);
  }

  sim.setBlock(5002);  // legacy activity_cutoff (5000) + 2; HEAD's cutoff is 13 blocks
  sim.setWeights(0, {2, 3}, {kMax / 2, kMax / 2});
  out = sim.epoch();
  CHECK(out.dividends[0] == 36044);
  CHECK(out.emission[0] == 274'999'999);
  CHECK(sim.bond(0, 2) == 65535);
  CHECK(sim.bond(0, 3) == 65535);
  CHECK(out.dividends[1] == 29490);
  CHECK(out.emission[1] == 224'999'999);
  CHECK(sim.bond(1, 2) == 53619);
  CHECK(sim.bond(1, 3) == 53619);

  sim.setWeights(1, {2, 3}, {kMax / 2, kMax / 2});
  sim.setBlock(5003);
  out = sim.epoch();
  CHECK(out.dividends[0] == 35716);
  CHECK(out.emission[0] == 272'501'132);
  CHECK(sim.bond(0, 2) == 65535);
  CHECK(sim.bond(0, 3) == 65535);
  CHECK(out.dividends[1] == 29818);
  CHECK(out.emission[1] == 227'498'866);
  CHECK(sim.bond(1, 2) == 54712);
  CHECK(sim.bond(1, 3) == 54712);
}

TEST_CASE("TC5 test_outdated_weights: weights on a replaced uid are dropped") {
  SubnetSim sim({1, 1, 1, 1}, 1, 0);
  sim.hyperparameters().maxAllowedValidators = 4;
  CHECK(sim.hyperparameters().activityCutoff == 1);  // tempo 0
  sim.epoch();
  sim.nextBlock();  // 2
  for (uint16_t v = 0; v < 2; ++v) sim.setWeights(v, {2, 3}, {2 * (kMax / 3), kMax / 3});
  CHECK(sim.neuron(0).weights == std::vector<UidValue>{{2, 65535}, {3, 32768}});
  for (uint16_t s = 2; s < 4; ++s) sim.setWeights(s, {s}, {kMax});
  EpochOutput out = sim.epoch();
  CHECK(out.emission == std::vector<uint64_t>{250000000, 250000000, 333331637, 166668361});
  sim.replaceNeuron(3);  // lowest emission; registered at block 2
  sim.nextBlock();       // 3
  sim.setWeights(0, {2, 3}, {2 * (kMax / 3), kMax / 3});
  out = sim.epoch();
  CHECK(out.dividends[0] == 32767);
  CHECK(out.emission[0] == 250'000'000);
  CHECK(sim.bond(0, 2) == 65535);
  CHECK(sim.bond(0, 3) == 65535);
}

TEST_CASE("TC6 test_zero_weights: emission falls back to stake until weights are valid") {
  SubnetSim sim({1, 0}, 1, kMax - 1);
  EpochOutput out = sim.epoch();  // (a) no weights
  CHECK(out.emission == std::vector<uint64_t>{1'000'000'000, 0});
  sim.setWeights(1, {1}, {kMax});  // (b) server self-weight
  out = sim.epoch();
  CHECK(out.emission == std::vector<uint64_t>{1'000'000'000, 0});
  sim.setBlock(2);  // (c) validator weights uid 1, which is then replaced at block 2
  sim.setWeights(0, {1}, {kMax});
  sim.replaceNeuron(1);
  out = sim.epoch();
  CHECK(out.emission == std::vector<uint64_t>{1'000'000'000, 0});
  sim.setBlock(3);  // (d) weights set after the registration count
  sim.setWeights(0, {1}, {kMax});
  out = sim.epoch();
  CHECK(out.emission == std::vector<uint64_t>{500'000'000, 500'000'000});
}

// ---- TC7 / TC8: Yuma 3 scenarios (setup_yuma_3_scenario) ----

struct Yuma3Case {
  const char* name;
  std::vector<uint64_t> stakes;
  bool liquidAlpha;
  // weights[k][validator] on the servers (uids 3..n-1); an empty row list keeps the previous weights.
  std::vector<std::vector<std::vector<uint16_t>>> weights;
  std::vector<std::vector<double>> dividends;           // k -> validators A, B, C
  std::vector<std::vector<std::vector<double>>> bonds;  // k -> validator -> server (may be empty)
};

void runYuma3(const Yuma3Case& c) {
  CAPTURE(c.name);
  SubnetSim sim(c.stakes, 1, 1);
  Hyperparameters& hp = sim.hyperparameters();
  hp.bondsPenalty = 0;
  hp.alphaSigmoidSteepness = 1000;
  hp.bondsMovingAverage = 975'000;
  hp.kappa = kMax / 2;
  hp.liquidAlpha = c.liquidAlpha;
  hp.alphaLow = 6553;  // set_alpha_values_32(0.1, 0.3)
  hp.alphaHigh = 19660;
  hp.yuma3 = true;
  hp.maxAllowedValidators = 3;
  sim.nextBlock();
  sim.epoch();  // block 2: permits A, B, C
  const auto n = static_cast<uint16_t>(c.stakes.size());
  std::vector<uint16_t> servers;
  for (uint16_t u = 3; u < n; ++u) servers.push_back(u);
  std::vector<std::vector<uint16_t>> current;
  for (std::size_t k = 0; k < c.dividends.size(); ++k) {
    CAPTURE(k);
    if (k < c.weights.size() && !c.weights[k].empty()) current = c.weights[k];
    for (uint16_t v = 0; v < 3; ++v) sim.setWeights(v, servers, current[v], 1);
    sim.nextBlock();
    EpochOutput out = sim.epoch();
    for (std::size_t v = 0; v < 3; ++v) {
      CAPTURE(v);
      CHECK(std::abs(out.dividends[v] / 65535.0 - c.dividends[k][v]) <= 1e-3);
    }
    for (uint16_t u : servers) CHECK(out.dividends[u] == 0);
    if (k < c.bonds.size()) {
      for (std::size_t v = 0; v < 3; ++v) {
        for (std::size_t s = 0; s < servers.size(); ++s) {
          CAPTURE(v);
          CAPTURE(s);
          CHECK(std::abs(sim.bond(v, servers[s]) / 65535.0 - c.bonds[k][v][s]) <= 1e-3);
        }
      }
    }
  }
}

TEST_CASE("TC7 Yuma 3 with liquid alpha: kappa moves first / second / last") {
  const std::vector<uint16_t> toFirst{kMax, 0};
  const std::vector<uint16_t> toSecond{0, kMax};
  runYuma3({"kappa_moves_first",
            {8, 1, 1, 0, 0},
            true,
            {{toFirst, toFirst, toFirst},
             {toSecond, toFirst, toFirst},
             {toSecond, toSecond, toFirst},
             {toSecond, toSecond, toSecond}},
            {{0.8000, 0.1000, 0.1000},
             {1.0000, 0.0000, 0.0000},
             {0.9382, 0.0618, 0.0000},
             {0.8819, 0.0773, 0.0407},
             {0.8564, 0.0844, 0.0592},
             {0.8418, 0.0884, 0.0697}},
            {{{0.1013, 0.0000}, {0.1013, 0.0000}, {0.1013, 0.0000}},
             {{0.0908, 0.1013}, {0.3697, 0.0000}, {0.3697, 0.0000}},
             {{0.0815, 0.1924}, {0.3170, 0.1013}, {0.5580, 0.0000}},
             {{0.0731, 0.2742}, {0.2765, 0.1924}, {0.4306, 0.1013}},
             {{0.0656, 0.3478}, {0.2435, 0.2742}, {0.3589, 0.1924}},
             {{0.0588, 0.4139}, {0.2157, 0.3478}, {0.3089, 0.2742}}}});
  runYuma3({"kappa_moves_second",
            {8, 1, 1, 0, 0},
            true,
            {{toFirst, toFirst, toFirst},
             {toFirst, toSecond, toFirst},
             {toSecond, toSecond, toFirst},
             {toSecond, toSecond, toSecond}},
            {{0.8, 0.1, 0.1},
             {0.8446, 0.0498, 0.1056},
             {0.6868, 0.3132, 0.0},
             {0.7421, 0.2090, 0.0489},
             {0.7625, 0.1706, 0.0669},
             {0.7730, 0.1508, 0.0762}},
            {}});
  runYuma3({"kappa_moves_last",
            {8, 1, 1, 0, 0},
            true,
            {{toFirst, toFirst, toFirst},
             {toFirst, toSecond, toFirst},
             {toFirst, toSecond, toSecond},
             {toSecond, toSecond, toSecond}},
            {{0.8, 0.1, 0.1},
             {0.8446, 0.0498, 0.1056},
             {0.8966, 0.0333, 0.0701},
             {0.4663, 0.3210, 0.2127},
             {0.5976, 0.2340, 0.1683},
             {0.6592, 0.1932, 0.1475}},
            {}});
}

TEST_CASE("TC8 Yuma 3 stable miner: a small validator moves first, the big one follows") {
  // n = 6: validators A (8), B (1), C (1); servers 3, 4, 5; liquid alpha on. Each validator splits
  // its weight over two servers; server 5 keeps half of everyone's weight throughout.
  constexpr uint16_t kHalf = kMax / 2;
  const std::vector<uint16_t> firstAndThird{kHalf, 0, kHalf};
  const std::vector<uint16_t> secondAndThird{0, kHalf, kHalf};
  runYuma3({"stable_miner",
            {8, 1, 1, 0, 0, 0},
            true,
            {{firstAndThird, firstAndThird, firstAndThird},
             {firstAndThird, secondAndThird, firstAndThird},
             {secondAndThird, secondAndThird, firstAndThird},
             {secondAndThird, secondAndThird, secondAndThird}},
            {{0.8000, 0.1000, 0.1000},
             {0.8226, 0.0745, 0.1028},
             {0.7750, 0.1685, 0.0565},
             {0.7864, 0.1372, 0.0764},
             {0.7912, 0.1241, 0.0847},
             {0.7937, 0.1173, 0.0890}},
            {{{0.0507, 0.0000, 0.0507}, {0.0507, 0.0000, 0.0507}, {0.0507, 0.0000, 0.0507}},
             {{0.0962, 0.0000, 0.0962}, {0.0455, 0.1000, 0.0962}, {0.0962, 0.0000, 0.0962}},
             {{0.0863, 0.0507, 0.1371}, {0.0408, 0.1405, 0.1371}, {0.1770, 0.0000, 0.1371}},
             {{0.0774, 0.0962, 0.1739}, {0.0367, 0.1770, 0.1739}, {0.1579, 0.0507, 0.1739}},
             {{0.0694, 0.1371, 0.2069}, {0.0329, 0.2097, 0.2069}, {0.1411, 0.0962, 0.2069}},
             {{0.0623, 0.1739, 0.2366}, {0.0296, 0.2391, 0.2366}, {0.1263, 0.1371, 0.2366}}}});
}

TEST_CASE("TC8 Yuma 3 one-epoch switch, with and without liquid alpha") {
  const std::vector<uint16_t> toFirst{kMax, 0};
  const std::vector<uint16_t> toSecond{0, kMax};
  const std::vector<std::vector<std::vector<uint16_t>>> schedule{
      {toFirst, toFirst, toFirst}, {}, {toFirst, toFirst, toSecond}, {toFirst, toFirst, toFirst}};
  runYuma3({"one_epoch_switch",
            {33, 33, 34, 0, 0},
            true,
            schedule,
            {{0.33, 0.33, 0.34},
             {0.33, 0.33, 0.34},
             {0.3782, 0.3782, 0.2436},
             {0.3628, 0.3628, 0.2745},
             {0.3541, 0.3541, 0.2917},
             {0.3487, 0.3487, 0.3026}},
            {{{0.1013, 0}, {0.1013, 0}, {0.1013, 0}},
             {{0.1924, 0}, {0.1924, 0}, {0.1924, 0}},
             {{0.2742, 0}, {0.2742, 0}, {0.1715, 0.2987}},
             {{0.3478, 0}, {0.3478, 0}, {0.2554, 0.2618}},
             {{0.4139, 0}, {0.4139, 0}, {0.3309, 0.2312}},
             {{0.4733, 0}, {0.4733, 0}, {0.3987, 0.2051}}}});
  runYuma3({"liquid_alpha_disabled",
            {33, 33, 34, 0, 0},
            false,
            schedule,
            {{0.33, 0.33, 0.34},
             {0.33, 0.33, 0.34},
             {0.3734, 0.3734, 0.2532},
             {0.3611, 0.3611, 0.2779},
             {0.3541, 0.3541, 0.2919},
             {0.3495, 0.3495, 0.3009}},
            {{{0.0250, 0}, {0.0250, 0}, {0.0250, 0}},
             {{0.0494, 0}, {0.0494, 0}, {0.0494, 0}},
             {{0.0731, 0}, {0.0731, 0}, {0.0481, 0.0250}},
             {{0.0963, 0}, {0.0963, 0}, {0.0719, 0.0244}},
             {{0.1189, 0}, {0.1189, 0}, {0.0951, 0.0238}},
             {{0.1409, 0}, {0.1409, 0}, {0.1178, 0.0232}}}});
}

// ---- TC9: epoch_logs.rs (one epoch at block 1, tempo 10, neurons inserted directly) ----

EpochInput logsInput(const std::vector<std::vector<UidValue>>& validatorWeights) {
  EpochInput in;
  in.currentBlock = 1;
  in.tempo = 10;
  in.raoEmission = 1'000'000'000;
  in.hyperparameters.activityCutoff = activityCutoffBlocks(13'889, 10);
  for (std::size_t i = 0; i < 5; ++i) {
    NeuronInput neuron;
    bool validator = i < 3;
    neuron.validatorPermit = validator;
    neuron.stake = validator ? 1'000'000'000 : 0;
    neuron.lastUpdate = 1;
    if (validator) neuron.weights = validatorWeights[i];
    in.neurons.push_back(neuron);
  }
  return in;
}

TEST_CASE("TC9 epoch_logs: validators weight two distinct servers") {
  auto out = runEpoch(logsInput({{{3, kMax}, {4, 0}}, {{3, 0}, {4, kMax}}, {{3, kMax}, {4, 0}}}));
  REQUIRE(out.has_value());
  CHECK(out->consensus == std::vector<uint16_t>{0, 0, 0, 65535, 0});
  CHECK(out->validatorTrust == std::vector<uint16_t>{65535, 0, 65535, 0, 0});
  CHECK(out->dividends == std::vector<uint16_t>{32767, 0, 32767, 0, 0});
  CHECK(out->emission == std::vector<uint64_t>{250000000, 0, 250000000, 500000000, 0});
}

TEST_CASE("TC9 epoch_logs: a validator splits its weight across two servers") {
  auto out = runEpoch(logsInput({{{3, kMax}, {4, 0}}, {{3, 0}, {4, kMax}}, {{3, kMax}, {4, kMax}}}));
  REQUIRE(out.has_value());
  CHECK(out->dividends == std::vector<uint16_t>{16383, 16383, 32767, 0, 0});
  CHECK(out->emission == std::vector<uint64_t>{125000000, 125000000, 250000000, 250000000, 250000000});
}

TEST_CASE("TC9 epoch_logs: simple, emergency mode, active stake, top-k permits") {
  EpochInput in;
  in.currentBlock = 1;
  in.tempo = 10;
  in.raoEmission = 1'000'000'000;
  in.hyperparameters.activityCutoff = activityCutoffBlocks(13'889, 10);
  for (int i = 0; i < 2; ++i) {
    NeuronInput neuron;
    neuron.stake = 1'000'000'000;
    neuron.validatorPermit = true;
    neuron.lastUpdate = 1;
    in.neurons.push_back(neuron);
  }
  auto simple = runEpoch(in);
  REQUIRE(simple.has_value());
  CHECK(simple->stakeWeight == std::vector<uint16_t>{32767, 32767});
  CHECK(simple->consensus == std::vector<uint16_t>{0, 0});
  CHECK(simple->validatorEmission == std::vector<uint64_t>{500000000, 500000000});
  CHECK(simple->emission == std::vector<uint64_t>{500000000, 500000000});

  in.currentBlock = 1'000'000;  // everyone inactive: emission by stake
  auto emergency = runEpoch(in);
  REQUIRE(emergency.has_value());
  CHECK(emergency->active == std::vector<bool>{false, false});
  CHECK(emergency->emission == std::vector<uint64_t>{500000000, 500000000});

  in.currentBlock = 1000;
  in.neurons[0].lastUpdate = 999;
  auto activeOnly = runEpoch(in);
  REQUIRE(activeOnly.has_value());
  CHECK(activeOnly->active == std::vector<bool>{true, false});
  CHECK(activeOnly->emission == std::vector<uint64_t>{1000000000, 0});

  in.neurons[0].stake = 2'000'000'000;
  in.hyperparameters.maxAllowedValidators = 1;
  auto topk = runEpoch(in);
  REQUIRE(topk.has_value());
  CHECK(topk->validatorPermit == std::vector<bool>{true, false});
}

TEST_CASE("runEpoch names validateEpochInput's first error, and its workspace serves on") {
  // runEpoch checks each row where a stage reads it; at a fault it reports the first error in
  // validateEpochInput's order (per neuron: stake total, weights, bonds), whatever stage found it.
  const auto valid = [] {
    EpochInput in;
    in.currentBlock = 100;
    in.tempo = 10;
    in.raoEmission = 1'000'000'000;
    for (uint16_t i = 0; i < 6; ++i) {
      NeuronInput neuron;
      neuron.lastUpdate = 99;
      neuron.blockAtRegistration = 1;
      if (i < 3) {
        neuron.stake = 1000 + i;
        neuron.validatorPermit = true;
        neuron.weights = {{3, 100}, {4, 200}, {5, 300}};
        neuron.bonds = {{3, 50}, {5, 70}};
      }
      in.neurons.push_back(neuron);
    }
    return in;
  };
  EpochWorkspace workspace;
  REQUIRE(runEpoch(valid(), workspace).has_value());
  std::vector<EpochInput> faulty;
  EpochInput in = valid();
  in.neurons[2].weights.push_back({4, 1});  // duplicate uid (unsorted row)
  faulty.push_back(in);
  in = valid();
  in.neurons[3].weights = {{1, 5}, {1, 6}};  // a row without a permit is checked too
  faulty.push_back(in);
  in = valid();
  in.neurons[1].bonds = {{6, 1}};    // uid >= n in a bond row, found by the bonds stage...
  in.neurons[2].weights = {{9, 1}};  // ...though a later neuron's weights are wrong too
  faulty.push_back(in);
  in = valid();
  in.neurons[4].stake = uint64_t{1} << 62;  // the total stake reaches 2^63 at neuron 5...
  in.neurons[5].stake = uint64_t{1} << 62;
  in.neurons[4].bonds = {{2, 1}, {2, 1}};  // ...after a faulty bond row at neuron 4
  faulty.push_back(in);
  in = valid();
  in.neurons[5].stake = uint64_t{1} << 63;
  faulty.push_back(in);
  for (std::size_t k = 0; k < faulty.size(); ++k) {
    CAPTURE(k);
    auto expected = validateEpochInput(faulty[k]);
    REQUIRE_FALSE(expected.has_value());
    auto got = runEpoch(faulty[k], workspace);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code() == ErrorCode::kInvalidArgument);
    CHECK(got.error().message() == expected.error().message());
    auto fresh = runEpoch(faulty[k]);
    REQUIRE_FALSE(fresh.has_value());
    CHECK(fresh.error().message() == expected.error().message());
  }
  CHECK(validateEpochInput(faulty[2]).error().message() == "neurons[1].bonds[0]: uid 6 >= n 6");
  CHECK(validateEpochInput(faulty[3]).error().message() == "neurons[4].bonds[1]: duplicate uid 2");
  // The workspace that saw the faults gives the same epoch as the spec afterwards.
  test::checkAgainstSpec(valid(), runEpoch(valid(), workspace));
}

TEST_CASE("activity cutoff follows tempo (HEAD factor 13889)") {
  CHECK(activityCutoffBlocks(13'889, 1) == 13);
  CHECK(activityCutoffBlocks(13'889, 0) == 1);
  CHECK(activityCutoffBlocks(13'889, 360) == 5000);
  CHECK(activityCutoffBlocks(13'889, 65'534) == 910'201);
}

}  // namespace
}  // namespace merit::consensus
