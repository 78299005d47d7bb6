// bench_subtensor: the subtensor backend against a running Substrate node (tools/perf/subtensor.sh
// starts Chopsticks with a populated subnet). Measures:
//   - metagraph sync: SubtensorChain::metagraph(netuid) wall time and the JSON-RPC round trips
//     it takes (RpcStats), median and best of R runs;
//   - the wire floor of that sync: the same five requests (head hash, header, three
//     state_queryStorageAt with the same keys, built beforehand) through rawMany, which parses the
//     JSON and the hex but does not SCALE-decode; metagraph minus this is key building, decoding
//     and assembling the neurons;
//   - extrinsic build and sign: encodeCall + signed extensions + ECDSA signature of a 256-uid
//     set_weights, offline, per extrinsic.
// Prints one JSON object. Usage: bench_subtensor WS_URL NETUID [RUNS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
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

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  tx::NetUid netuid = 0;
  int runs = 10;
  CLI::App app{
      "bench_subtensor: metagraph sync and set_weights signing on a subtensor node "
      "(tools/perf/subtensor.sh; docs/PERFORMANCE.md)"};
  app.add_option("url", url, "the node's ws:// or http:// URL")->required();
  app.add_option("netuid", netuid, "the subnet to read")->required();
  app.add_option("runs", runs, "timed runs")->check(CLI::Range(1, 100000));
  CLI11_PARSE(app, argc, argv);

  auto chain = substrate::SubtensorChain::connect(url);
  if (!chain) die("connect: " + chain.error().message());
  auto& rpc = (*chain)->client().rpc();

  std::vector<double> times;
  std::vector<std::uint64_t> trips;
  std::size_t neurons = 0;
  std::size_t axons = 0;   // neurons with a dialable meritnet axon (protocol 77 and a known key)
  std::size_t keys = 0;    // neurons whose committed (ECDSA) public key decoded and matched the hotkey
  std::size_t staked = 0;  // neurons with a nonzero stake
  for (int i = 0; i < runs; ++i) {
    const auto before = rpc.stats().roundTrips;
    const auto t0 = Clock::now();
    auto mg = (*chain)->metagraph(netuid);
    const auto t1 = Clock::now();
    if (!mg) die("metagraph: " + mg.error().message());
    neurons = mg->neurons.size();
    axons = static_cast<std::size_t>(std::count_if(mg->neurons.begin(), mg->neurons.end(),
                                                   [](const auto& ni) { return ni.axon.has_value(); }));
    keys = static_cast<std::size_t>(std::count_if(mg->neurons.begin(), mg->neurons.end(), [](const auto& ni) {
      // Not the sr25519 keys that hotkey account ids may also read as.
      return ni.hotkeyPublicKey.has_value() && ni.hotkeyPublicKey->ecdsa() != nullptr;
    }));
    staked = static_cast<std::size_t>(
        std::count_if(mg->neurons.begin(), mg->neurons.end(), [](const auto& ni) { return ni.stake != 0; }));
    times.push_back(ms(t1 - t0));
    trips.push_back(rpc.stats().roundTrips - before);
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());

  // The wire floor: the keys metagraph() reads (its item list), from the last sync's hotkeys.
  auto md = (*chain)->client().metadata();
  auto& client = (*chain)->client();
  static constexpr const char* kItems1[] = {
      "NetworksAdded", "SubnetworkN", "Active", "Consensus", "Incentive", "Dividends", "Emission",
      "LastUpdate", "ValidatorTrust", "ValidatorPermit",
      // hyperparameters, as subtensor_chain.cpp lists them
      "Tempo", "WeightsSetRateLimit", "WeightsVersionKey", "CommitRevealWeightsEnabled", "RevealPeriodEpochs",
      "MinAllowedWeights", "MaxWeightsLimit", "MaxAllowedUids", "MaxAllowedValidators", "ImmunityPeriod",
      "ActivityCutoff", "Kappa", "Rho", "BondsMovingAverage", "AdjustmentInterval",
      "TargetRegistrationsPerInterval", "MinBurn", "MaxBurn", "ServingRateLimit",
      "NetworkRegistrationAllowed", "LiquidAlphaOn"};
  auto key = [&](const char* pallet, const char* item, const nlohmann::json& k) {
    auto b = client.storageKey(pallet, item, k);
    if (!b) die(std::string("storageKey ") + item + ": " + b.error().message());
    return *b;
  };
  std::vector<Bytes> keys1, keys2, keys3;
  for (const char* item : kItems1) {
    if (md->storage("SubtensorModule", item) != nullptr)
      keys1.push_back(key("SubtensorModule", item, {netuid}));
  }
  auto last = (*chain)->metagraph(netuid);
  if (!last) die("metagraph: " + last.error().message());
  const char* stakeItem = md->storage("SubtensorModule", "TotalHotkeyAlpha") != nullptr ? "TotalHotkeyAlpha"
                          : md->storage("SubtensorModule", "TotalHotkeySubStake") != nullptr
                              ? "TotalHotkeySubStake"
                          : md->storage("SubtensorModule", "TotalHotkeyStake") != nullptr ? "TotalHotkeyStake"
                                                                                          : nullptr;
  const bool commitments = md->storage("Commitments", "CommitmentOf") != nullptr;
  for (const auto& ni : last->neurons) {
    keys2.push_back(key("SubtensorModule", "Keys", {netuid, ni.uid}));
    keys2.push_back(key("SubtensorModule", "BlockAtRegistration", {netuid, ni.uid}));
    const std::string hk = substrate::hex0x(ni.hotkey);
    keys3.push_back(key("SubtensorModule", "Owner", {hk}));
    keys3.push_back(key("SubtensorModule", "Axons", {netuid, hk}));
    if (stakeItem != nullptr) {
      keys3.push_back(std::string(stakeItem) == "TotalHotkeyStake"
                          ? key("SubtensorModule", stakeItem, {hk})
                          : key("SubtensorModule", stakeItem, {hk, netuid}));
    }
    if (commitments) keys3.push_back(key("Commitments", "CommitmentOf", {netuid, hk}));
  }
  std::vector<double> wire;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    auto head = client.headHash();
    if (!head) die("head: " + head.error().message());
    auto header = rpc.call("chain_getHeader", nlohmann::json::array({substrate::hex0x(*head)}));
    if (!header) die("header: " + header.error().message());
    for (const auto* ks : {&keys1, &keys2, &keys3}) {
      auto r = client.rawMany(*ks, *head);
      if (!r) die("rawMany: " + r.error().message());
    }
    wire.push_back(ms(Clock::now() - t0));
  }
  std::sort(wire.begin(), wire.end());

  // One small round trip (chain_getBlockHash), for the per-request latency.
  std::vector<double> small;
  for (int i = 0; i < 50; ++i) {
    const auto t0 = Clock::now();
    if (auto h = client.headHash(); !h) die("head: " + h.error().message());
    small.push_back(ms(Clock::now() - t0));
  }
  std::sort(small.begin(), small.end());

  // Build and sign: a full-size set_weights (one weight per neuron), as a validator sends it.
  auto signer = crypto::PrivateKey::generate();
  nlohmann::json args = {{"netuid", netuid},
                         {"dests", nlohmann::json::array()},
                         {"weights", nlohmann::json::array()},
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
    auto xt = substrate::buildSignedExtrinsic(*md, *call, p, signer);
    if (!xt) die("sign: " + xt.error().message());
    bytes = xt->size();
  }
  const double signUs = ms(Clock::now() - s0) * 1000.0 / signs;

  nlohmann::json out = {{"url", url},
                        {"netuid", netuid},
                        {"neurons", neurons},
                        {"axons", axons},
                        {"committed_keys", keys},
                        {"staked", staked},
                        {"runs", runs},
                        {"metagraph_ms_median", sorted[sorted.size() / 2]},
                        {"metagraph_ms_best", sorted.front()},
                        {"round_trips", trips.back()},
                        {"keys", keys1.size() + keys2.size() + keys3.size()},
                        {"wire_ms_median", wire[wire.size() / 2]},
                        {"wire_ms_best", wire.front()},
                        {"small_call_ms_median", small[small.size() / 2]},
                        {"set_weights_extrinsic_bytes", bytes},
                        {"build_and_sign_us", signUs}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
