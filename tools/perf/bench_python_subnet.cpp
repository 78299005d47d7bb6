// bench_python_subnet: what the python plugin host (subnets/python) costs per call, against the
// same logic in C++. It loads the plugins the way merit-miner and merit-validator do
// (merit_subnet_host) and times, per call, make_challenge, handle_batch with one request, and
// score_response for:
//   cpp_hash    libmerit_subnet_hash.so (BLAKE2b-256 through libsodium)
//   python_hash libmerit_subnet_python.so running hash_py.py: the same payload and logic in Python
//               (hashlib's BLAKE2b), so the difference is the host plus Python's own slowness
//   python_noop the python host running noop_py.py (constant challenge, echo, compare): the host's
//               own floor (GIL, thread state, bytes copied in and out, one Python call)
// Each measurement is --runs runs of --calls calls; one JSON line per measurement with the
// minimum and the median of the per-call time over the runs (the machine is shared: the minimum
// is the closest to the code's own cost):
//   {"bench":"python_subnet","impl":"python_hash","what":"serve","rounds":1,"calls":20000,"runs":5,
//    "min_us":...,"median_us":...}
// Then handle_batch throughput with --threads host threads calling one instance at once
// ("what":"serve_threads", calls per second): C++ runs in parallel, Python shares one GIL.
//
// Usage: bench_python_subnet [--subnet-path DIR] [--calls N] [--runs R] [--rounds K] [--threads T]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "merit/subnet_host/plugin.h"

namespace {

using merit::ByteView;
using merit::subnet::Role;
using merit::subnet::SubnetInstance;
using merit::subnet::SubnetPlugin;
using Clock = std::chrono::steady_clock;

struct Impl {
  std::string label;
  std::string plugin;
  std::string config;
};

struct Stats {
  double minUs = 0;
  double medianUs = 0;
};

template <typename F>
Stats perCall(int runs, int calls, F&& call) {
  for (int i = 0; i < std::min(calls, 100); ++i) call();  // warm-up
  std::vector<double> us;
  for (int r = 0; r < runs; ++r) {
    const auto start = Clock::now();
    for (int i = 0; i < calls; ++i) call();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() / calls);
  }
  std::sort(us.begin(), us.end());
  return Stats{us.front(), us[us.size() / 2]};
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "bench_python_subnet: %s\n", message.c_str());
  std::exit(2);
}

std::unique_ptr<SubnetInstance> make(SubnetPlugin& plugin, Role role, const std::string& config) {
  auto instance = plugin.create(role, config);
  if (!instance) die(instance.error().message());
  return std::move(*instance);
}

void print(const Impl& impl, const char* what, unsigned rounds, int calls, int runs, const Stats& s) {
  std::printf(
      "{\"bench\":\"python_subnet\",\"impl\":\"%s\",\"what\":\"%s\",\"rounds\":%u,\"calls\":%d,\"runs\":%d,"
      "\"min_us\":%.3f,\"median_us\":%.3f}\n",
      impl.label.c_str(), what, rounds, calls, runs, s.minUs, s.medianUs);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Per-call cost of the python subnet plugin host against the same logic in C++"};
  std::vector<std::string> subnetPath = {MERIT_SUBNET_BUILD_DIR};
  int calls = 20000;
  int runs = 5;
  unsigned rounds = 1;
  unsigned threads = 2;
  app.add_option("--subnet-path", subnetPath, "Directories holding the plugins (default: the build tree's)");
  app.add_option("--calls", calls, "Calls per run")->check(CLI::Range(1, 10'000'000));
  app.add_option("--runs", runs, "Runs per measurement")->check(CLI::Range(1, 1000));
  app.add_option("--rounds", rounds, "BLAKE2b rounds per hash challenge")->check(CLI::Range(1, 100000));
  app.add_option("--threads", threads, "Host threads for the throughput measurement")
      ->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);

  const std::string rk = "rounds: " + std::to_string(rounds);
  const std::vector<Impl> impls = {
      {"cpp_hash", "hash", rk},
      {"python_hash", "python", "module: hash_py\n" + rk},
      {"python_noop", "python", "module: noop_py"},
  };
  for (const auto& impl : impls) {
    auto plugin = SubnetPlugin::find(impl.plugin, subnetPath);
    if (!plugin) die(plugin.error().message());
    auto validator = make(**plugin, Role::kValidator, impl.config);
    auto miner = make(**plugin, Role::kMiner, impl.config);
    auto challenge = validator->makeChallenge();
    if (!challenge) die(challenge.error().message());
    const ByteView request(challenge->request);
    auto answer = miner->handleBatch(std::span<const ByteView>(&request, 1));
    if (!answer || answer->front().status != merit::subnet::RequestStatus::kOk)
      die(impl.label + ": no answer");
    const merit::Bytes response = answer->front().body;
    auto quality = validator->scoreResponse(challenge->expectation, response);
    if (!quality || *quality != 1.0) die(impl.label + ": its own answer does not score 1");

    print(impl, "challenge", rounds, calls, runs, perCall(runs, calls, [&] {
            if (!validator->makeChallenge()) die("make_challenge failed");
          }));
    print(impl, "serve", rounds, calls, runs, perCall(runs, calls, [&] {
            if (!miner->handleBatch(std::span<const ByteView>(&request, 1))) die("handle_batch failed");
          }));
    print(impl, "score", rounds, calls, runs, perCall(runs, calls, [&] {
            if (!validator->scoreResponse(challenge->expectation, response)) die("score_response failed");
          }));

    // Throughput with several host threads on one instance.
    const auto start = Clock::now();
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&miner, &request, calls] {
        for (int i = 0; i < calls; ++i) (void)miner->handleBatch(std::span<const ByteView>(&request, 1));
      });
    }
    for (auto& t : pool) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf(
        "{\"bench\":\"python_subnet\",\"impl\":\"%s\",\"what\":\"serve_threads\",\"rounds\":%u,\"threads\":%"
        "u,"
        "\"calls\":%d,\"calls_per_s\":%.0f}\n",
        impl.label.c_str(), rounds, threads, calls * static_cast<int>(threads), calls * threads / seconds);
    std::fflush(stdout);
  }
  return 0;
}
