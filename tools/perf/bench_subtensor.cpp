// bench_subtensor: the subtensor backend against a running Substrate node (tools/perf/subtensor.sh
// starts Chopsticks with a populated subnet). Measures:
//   - metagraph sync: SubtensorChain::metagraph(netuid) wall time and the JSON-RPC round trips
//     it takes (RpcStats), median and best of R runs;
//   - extrinsic build and sign: encodeCall + signed extensions + ECDSA signature of a 256-uid
//     set_weights, offline, per extrinsic.
// Prints one JSON object. Usage: bench_subtensor WS_URL NETUID [RUNS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "merit/crypto/keys.h"
#include "merit/substrate/extrinsic.h"
#include "merit/substrate/subtensor_chain.h"

using namespace merit;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_subtensor: %s\n", what.c_str());
  std::exit(1);
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) die("usage: bench_subtensor WS_URL NETUID [RUNS]");
  const std::string url = argv[1];
  const auto netuid = static_cast<tx::NetUid>(std::atoi(argv[2]));
  const int runs = argc > 3 ? std::max(1, std::atoi(argv[3])) : 10;

  auto chain = substrate::SubtensorChain::connect(url);
  if (!chain) die("connect: " + chain.error().message());
  auto& rpc = (*chain)->client().rpc();

  std::vector<double> times;
  std::vector<std::uint64_t> trips;
  std::size_t neurons = 0;
  for (int i = 0; i < runs; ++i) {
    const auto before = rpc.stats().roundTrips;
    const auto t0 = Clock::now();
    auto mg = (*chain)->metagraph(netuid);
    const auto t1 = Clock::now();
    if (!mg) die("metagraph: " + mg.error().message());
    neurons = mg->neurons.size();
    times.push_back(ms(t1 - t0));
    trips.push_back(rpc.stats().roundTrips - before);
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());

  // Build and sign: a full-size set_weights (one weight per neuron), as a validator sends it.
  auto md = (*chain)->client().metadata();
  auto key = crypto::PrivateKey::generate();
  nlohmann::json args = {{"netuid", netuid}, {"dests", nlohmann::json::array()}, {"weights", nlohmann::json::array()},
                         {"version_key", 0}};
  for (std::size_t u = 0; u < std::max<std::size_t>(neurons, 256); ++u) {
    args["dests"].push_back(u);
    args["weights"].push_back(65535 - u);
  }
  substrate::SigningParams p;
  p.specVersion = (*chain)->client().runtimeVersion().specVersion;
  p.txVersion = (*chain)->client().runtimeVersion().transactionVersion;
  p.genesisHash = (*chain)->client().genesisHash();
  p.eraBlockHash = p.genesisHash;
  p.mortalEra = std::make_pair(64, 1000);
  const int signs = 2000;
  std::size_t bytes = 0;
  const auto s0 = Clock::now();
  for (int i = 0; i < signs; ++i) {
    p.nonce = static_cast<std::uint64_t>(i);
    auto call = substrate::encodeCall(*md, "SubtensorModule", "set_weights", args);
    if (!call) die("encodeCall: " + call.error().message());
    auto xt = substrate::buildSignedExtrinsic(*md, *call, p, key);
    if (!xt) die("sign: " + xt.error().message());
    bytes = xt->size();
  }
  const double signUs = ms(Clock::now() - s0) * 1000.0 / signs;

  nlohmann::json out = {{"url", url},
                        {"netuid", netuid},
                        {"neurons", neurons},
                        {"runs", runs},
                        {"metagraph_ms_median", sorted[sorted.size() / 2]},
                        {"metagraph_ms_best", sorted.front()},
                        {"round_trips", trips.back()},
                        {"set_weights_extrinsic_bytes", bytes},
                        {"build_and_sign_us", signUs}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
