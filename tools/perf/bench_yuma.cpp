// bench_yuma: times merit_consensus's Yuma epoch on dense random weights (every validator
// weights every miner), one core, and prints one JSON line per configuration:
//   {"bench":"yuma_epoch","variant":"yuma2","n":4096,"validators":256,"weights":983040,
//    "bonds":983040,"runs":15,"median_ms":...,"p90_ms":...,"min_ms":...}
// Bonds come from a warm-up epoch, so the timed epochs see a realistic bond matrix.
// By default each run calls runEpoch(input), so every run also maps its working memory afresh;
// --workspace 1 reuses one EpochWorkspace across the runs instead, as the chain's Runtime does.
// --evolve 1 makes the runs consecutive epochs of a chain instead of one epoch repeated: before
// each run after the first every validator draws new weights, and the bonds are the last run's.
//
// --vector 0 keeps runEpoch on its portable code (no AVX2), for comparing the two.
//
// Usage: bench_yuma [--runs N] [--seed S] [--variant yuma2|yuma3|yuma3_liquid_alpha] [--workspace 0|1] [--n
// 256|1024|4096] [--evolve 0|1] [--vector 0|1]
// (--n runs one size only, e.g. under valgrind --tool=callgrind).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "merit/consensus/epoch.h"
#include "merit/consensus/math.h"

namespace {

using merit::consensus::EpochInput;
using merit::consensus::NeuronInput;
using merit::consensus::UidValue;

struct Variant {
  const char* name;
  bool yuma3;
  bool liquidAlpha;
};

// A validator's row: a random u16 weight on every miner, max-upscaled as set_weights stores it.
void drawWeights(NeuronInput& neuron, std::size_t n, std::size_t validators, std::mt19937_64& rng) {
  std::uniform_int_distribution<uint32_t> weight(0, 65535);
  std::vector<uint16_t> values;
  for (std::size_t j = validators; j < n; ++j) values.push_back(static_cast<uint16_t>(weight(rng)));
  std::vector<uint16_t> upscaled = merit::consensus::vecU16MaxUpscaleToU16(values);
  neuron.weights.clear();
  for (std::size_t j = validators; j < n; ++j) {
    neuron.weights.push_back({static_cast<uint16_t>(j), upscaled[j - validators]});
  }
}

EpochInput makeInput(std::size_t n, std::size_t validators, const Variant& variant, std::mt19937_64& rng) {
  EpochInput in;
  in.currentBlock = 1000;
  in.tempo = 360;
  in.raoEmission = 1'000'000'000;
  in.hyperparameters.yuma3 = variant.yuma3;
  in.hyperparameters.liquidAlpha = variant.liquidAlpha;
  in.hyperparameters.bondsPenalty = variant.liquidAlpha ? 0 : 65535;
  in.hyperparameters.maxAllowedValidators = static_cast<uint16_t>(validators);
  std::uniform_int_distribution<uint64_t> stake(1'000'000'000, 1'000'000'000'000);
  for (std::size_t i = 0; i < n; ++i) {
    NeuronInput neuron;
    neuron.lastUpdate = 999;
    neuron.blockAtRegistration = 10;
    if (i < validators) {
      neuron.stake = stake(rng);
      neuron.validatorPermit = true;
      drawWeights(neuron, n, validators, rng);
    }
    in.neurons.push_back(std::move(neuron));
  }
  return in;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto idx = static_cast<std::size_t>(std::llround(p * static_cast<double>(v.size() - 1)));
  return v[std::min(idx, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 15;
  uint64_t seed = 42;
  std::string only;
  bool reuseWorkspace = false;
  bool evolve = false;
  std::size_t onlyN = 0;
  CLI::App app{"bench_yuma: one Yuma epoch at several subnet sizes (docs/PERFORMANCE.md, \"Consensus\")"};
  app.add_option("--runs", runs, "timed epochs per size")->check(CLI::Range(1, 1'000'000));
  app.add_option("--seed", seed, "random seed of the generated subnets");
  app.add_option("--variant", only, "only this variant")
      ->check(CLI::IsMember({"yuma2", "yuma3", "yuma3_liquid_alpha"}));
  app.add_option("--workspace", reuseWorkspace, "1: reuse one workspace across epochs (as the chain does)");
  app.add_option("--n", onlyN, "only this subnet size")->check(CLI::IsMember({256, 1024, 4096}));
  bool vectorUnits = true;
  app.add_option("--vector", vectorUnits,
                 "0: keep runEpoch off the CPU's vector units (the portable code; setVectorUnitsAllowed)");
  app.add_option("--evolve", evolve,
                 "1: before each timed epoch after the first, every validator draws new weights and the "
                 "bonds are the previous epoch's (consecutive epochs of a chain; drawing is not timed)");
  CLI11_PARSE(app, argc, argv);
  merit::consensus::setVectorUnitsAllowed(vectorUnits);
  const std::pair<std::size_t, std::size_t> sizes[] = {{256, 64}, {1024, 128}, {4096, 256}};
  const Variant variants[] = {
      {"yuma2", false, false}, {"yuma3", true, false}, {"yuma3_liquid_alpha", true, true}};
  for (const Variant& variant : variants) {
    if (!only.empty() && only != variant.name) continue;
    for (auto [n, validators] : sizes) {
      if (onlyN != 0 && onlyN != n) continue;
      std::mt19937_64 rng(seed);
      EpochInput in = makeInput(n, validators, variant, rng);
      auto warm = merit::consensus::runEpoch(in);  // produces the bonds the timed epochs read
      if (!warm) {
        std::fprintf(stderr, "error: %s\n", warm.error().toString().c_str());
        return 1;
      }
      std::size_t bondCount = 0;
      for (std::size_t i = 0; i < n; ++i) {
        in.neurons[i].bonds = warm->bonds[i];
        in.neurons[i].validatorPermit = warm->validatorPermit[i];
        bondCount += warm->bonds[i].size();
      }
      merit::consensus::EpochWorkspace workspace;
      std::vector<double> ms;
      uint64_t checksum = 0;
      std::mt19937_64 evolveRng(seed + 1);
      for (int r = 0; r < runs; ++r) {
        if (evolve && r > 0) {
          for (std::size_t i = 0; i < validators; ++i) drawWeights(in.neurons[i], n, validators, evolveRng);
        }
        auto start = std::chrono::steady_clock::now();
        auto out =
            reuseWorkspace ? merit::consensus::runEpoch(in, workspace) : merit::consensus::runEpoch(in);
        auto stop = std::chrono::steady_clock::now();
        if (!out) return 1;
        checksum += out->emission[0];
        if (evolve) {
          for (std::size_t i = 0; i < n; ++i) in.neurons[i].bonds = std::move(out->bonds[i]);
        }
        ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
      }
      std::printf(
          "{\"bench\":\"yuma_epoch\",\"variant\":\"%s\",\"n\":%zu,\"validators\":%zu,\"weights\":%zu,"
          "\"bonds\":%zu,\"runs\":%d,\"median_ms\":%.3f,\"p90_ms\":%.3f,\"min_ms\":%.3f,\"checksum\":%llu}\n",
          variant.name, n, validators, validators * (n - validators), bondCount, runs, percentile(ms, 0.5),
          percentile(ms, 0.9), *std::min_element(ms.begin(), ms.end()),
          static_cast<unsigned long long>(checksum));
      std::fflush(stdout);
    }
  }
  return 0;
}
