// libFuzzer target: an in-tree subnet plugin's payload decoders through merit_subnet_host, the
// way a miner and a validator drive them: a miner's request handler with any request bytes, and a
// validator's scorer with any response (against a real challenge's expectation, or against any
// expectation). Built once per plugin (MERIT_FUZZ_PLUGIN: the .so; MERIT_FUZZ_MINER_CONFIG and
// MERIT_FUZZ_VALIDATOR_CONFIG: small sizes so that one input stays cheap).
//
// Input: mode:u8 ‖ rest. mode % 3 = 0: rest is one request to the miner; 1: rest is a response to
// a challenge the validator made; 2: rest = n:u8 ‖ n expectation bytes ‖ response.
// Checks: nothing crashes, throws or hangs; a score is always in [0, 1]; a status the ABI does
// not define never comes back.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "merit/subnet_host/plugin.h"

namespace {

using merit::subnet::Role;
using merit::subnet::SubnetInstance;
using merit::subnet::SubnetPlugin;

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_subnet_plugin: %s\n", what);
  std::abort();
}

struct Instances {
  std::unique_ptr<SubnetInstance> miner;
  std::unique_ptr<SubnetInstance> validator;
  merit::subnet::Challenge challenge;
};

// Loaded once per process: loading is not what is fuzzed, and a fuzz run makes millions of calls.
Instances& instances() {
  static Instances inst = [] {
    auto plugin = SubnetPlugin::load(MERIT_FUZZ_PLUGIN);
    if (!plugin) broken(plugin.error().message().c_str());
    auto miner = (*plugin)->create(Role::kMiner, MERIT_FUZZ_MINER_CONFIG);
    auto validator = (*plugin)->create(Role::kValidator, MERIT_FUZZ_VALIDATOR_CONFIG);
    if (!miner || !validator) broken("cannot create the miner or the validator instance");
    auto challenge = (*validator)->makeChallenge();
    if (!challenge) broken(challenge.error().message().c_str());
    return Instances{std::move(*miner), std::move(*validator), std::move(*challenge)};
  }();
  return inst;
}

void checkScore(const merit::Result<double>& score) {
  if (score && !(*score >= 0.0 && *score <= 1.0)) broken("score outside [0, 1]");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Instances& inst = instances();
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  const std::span<const std::byte> rest = input.subspan(1);
  switch (data[0] % 3) {
    case 0: {
      const merit::ByteView requests[] = {rest};
      auto handled = inst.miner->handleBatch(requests);
      if (handled && handled->size() != 1) broken("handleBatch: not one reply for one request");
      break;
    }
    case 1: checkScore(inst.validator->scoreResponse(inst.challenge.expectation, rest)); break;
    default: {
      if (rest.empty()) return 0;
      const std::size_t n = std::min<std::size_t>(std::to_integer<std::size_t>(rest[0]), rest.size() - 1);
      checkScore(inst.validator->scoreResponse(rest.subspan(1, n), rest.subspan(1 + n)));
      break;
    }
  }
  return 0;
}

// Seeds for the standalone driver: the validator's challenge as a request, and the miner's real
// answer to it as a response.
extern "C" void MeritFuzzSeeds(std::vector<std::vector<std::uint8_t>>& out) {
  Instances& inst = instances();
  auto bytes = [](std::uint8_t mode, merit::ByteView body) {
    std::vector<std::uint8_t> seed{mode};
    for (std::byte b : body) seed.push_back(std::to_integer<std::uint8_t>(b));
    return seed;
  };
  out.push_back(bytes(0, inst.challenge.request));
  const merit::ByteView requests[] = {inst.challenge.request};
  auto handled = inst.miner->handleBatch(requests);
  if (handled && !handled->empty()) out.push_back(bytes(1, (*handled)[0].body));
}
