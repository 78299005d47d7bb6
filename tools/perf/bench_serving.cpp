// bench_serving: model serving throughput with merit_serving's dynamic batcher against the
// offline forward throughput of the same model at the same batch size (issue 6's goal: batched
// serving reaches 80% of offline). The model is a small CNN for 1x28x28 images (two 3x3
// convolutions with ReLU and 2x2 max-pooling, 32 and 64 channels, then a linear layer to 10
// logits), defined in TorchScript from C++ and saved to a temporary .pt, so nothing is
// downloaded and no Python is needed. Prints one JSON line per measurement:
//   {"bench":"offline_forward","round":1,"batch":32,"torch_images_per_s":...,"model_images_per_s":...}
//   {"bench":"serving","round":1,"max_batch":32,"requesters":64,...,"images_per_s":...,"p50_ms":...}
//   {"bench":"summary","rounds":3,"batch":32,...,"serving_over_offline":...,"goal":0.8}
//
// Offline: a [B, 1, 28, 28] tensor already in memory, forward() in a loop (libtorch directly,
// the ceiling) and Model::forward on the same batch (adds merit_serving's copies in and out).
// Serving: R requester threads, each submitting one [1, 1, 28, 28] image to the Batcher, waiting
// for its result and submitting the next, for --seconds; once with maxBatchRows = B and once
// with maxBatchRows = 1 (no batching).
//
// The machine may be shared, so the three measurements run interleaved for --rounds rounds and
// the summary reports medians over rounds (each round's own ratio, then the median of those).
// --threads sets libtorch's intra-op threads (1 by default: on a 2-core machine one core runs the
// model and the other the requesters).
//
// Usage: bench_serving [--batch B] [--requesters R] [--seconds S] [--threads T] [--max-wait-us U]
//                      [--rounds N]
#include <algorithm>
#include <atomic>
#include <c10/core/InferenceMode.h>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/script.h>

#include "merit/serving/batcher.h"
#include "merit/serving/model.h"

namespace {

using merit::serving::Batcher;
using merit::serving::BatcherOptions;
using merit::serving::BatchInfo;
using merit::serving::Model;
using merit::serving::Tensor;
using Clock = std::chrono::steady_clock;

struct Args {
  int batch = 32;
  int requesters = 64;
  double seconds = 3.0;
  int threads = 1;
  int maxWaitUs = 2000;
  int rounds = 3;
};

// Returns the exit code of a failed or --help parse, or -1 when the benchmark should run.
int parseArgs(int argc, char** argv, Args& args) {
  CLI::App app{
      "bench_serving: a small CNN through the dynamic batcher vs offline forward "
      "(docs/PERFORMANCE.md, \"Model serving\")"};
  app.add_option("--batch", args.batch, "maximum batch size")->check(CLI::Range(1, 4096));
  app.add_option("--requesters", args.requesters, "concurrent requesting threads")
      ->check(CLI::Range(1, 4096));
  app.add_option("--seconds", args.seconds, "seconds per measurement")->check(CLI::Range(0.01, 3600.0));
  app.add_option("--threads", args.threads, "libtorch intra-op threads")->check(CLI::Range(1, 256));
  app.add_option("--max-wait-us", args.maxWaitUs, "batcher's maximum wait for a fuller batch")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--rounds", args.rounds, "measurement rounds (median reported)")->check(CLI::Range(1, 1000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return -1;
}

torch::jit::Module makeCnn() {
  torch::manual_seed(1);
  torch::jit::Module m("SmallCnn");
  m.register_parameter("conv1_w", torch::randn({32, 1, 3, 3}) * 0.3, false);
  m.register_parameter("conv1_b", torch::zeros({32}), false);
  m.register_parameter("conv2_w", torch::randn({64, 32, 3, 3}) * 0.06, false);
  m.register_parameter("conv2_b", torch::zeros({64}), false);
  m.register_parameter("fc_w", torch::randn({10, 64 * 7 * 7}) * 0.02, false);
  m.register_parameter("fc_b", torch::zeros({10}), false);
  m.define(R"(
def forward(self, x):
    x = torch.max_pool2d(torch.relu(torch.conv2d(x, self.conv1_w, self.conv1_b, [1, 1], [1, 1])), [2, 2])
    x = torch.max_pool2d(torch.relu(torch.conv2d(x, self.conv2_w, self.conv2_b, [1, 1], [1, 1])), [2, 2])
    return torch.linear(torch.flatten(x, 1), self.fc_w, self.fc_b)
)");
  m.eval();
  return m;
}

Tensor randomImages(std::int64_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.0F, 1.0F);
  std::vector<float> data(static_cast<std::size_t>(n) * 28 * 28);
  for (float& v : data) v = dist(rng);
  return Tensor::fromFloats({n, 1, 28, 28}, std::move(data)).value();
}

// CPU seconds this process has used (user + system, all threads).
double cpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Images per second of forward() on one batch of `batch` images held in memory.
double offlineTorch(torch::jit::Module& module, int batch, double seconds) {
  c10::InferenceMode guard;
  at::Tensor input = torch::rand({batch, 1, 28, 28});
  for (int i = 0; i < 5; ++i) module.forward({input});
  std::int64_t images = 0;
  const auto start = Clock::now();
  const auto stop = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < stop) {
    module.forward({input});
    images += batch;
  }
  return static_cast<double>(images) / std::chrono::duration<double>(Clock::now() - start).count();
}

double offlineModel(const Model& model, int batch, double seconds) {
  const Tensor input = randomImages(batch, 7);
  for (int i = 0; i < 5; ++i) (void)model.forward(input);
  std::int64_t images = 0;
  const auto start = Clock::now();
  const auto stop = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < stop) {
    if (!model.forward(input)) {
      std::fprintf(stderr, "forward failed\n");
      std::exit(1);
    }
    images += batch;
  }
  return static_cast<double>(images) / std::chrono::duration<double>(Clock::now() - start).count();
}

struct ServingResult {
  double imagesPerSecond = 0;
  double meanBatch = 0;
  double p50Ms = 0;
  double p99Ms = 0;
  double cpuCores = 0;  // CPU seconds used per wall second while serving
  std::uint64_t errors = 0;
};

ServingResult serve(const Model& model, int maxBatch, const Args& args) {
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> rows{0};
  BatcherOptions options;
  options.maxBatchRows = maxBatch;
  options.maxWait = std::chrono::microseconds(args.maxWaitUs);
  options.queueCapacity = static_cast<std::size_t>(args.requesters) * 2;
  options.name = "bench";
  options.onBatch = [&](const BatchInfo& info) {
    ++batches;
    rows += static_cast<std::uint64_t>(info.rows);
  };
  Batcher batcher(model, options);

  // Each requester has its own images, prepared before the clock starts.
  std::vector<std::vector<Tensor>> images(static_cast<std::size_t>(args.requesters));
  for (int r = 0; r < args.requesters; ++r) {
    for (int i = 0; i < 8; ++i)
      images[static_cast<std::size_t>(r)].push_back(randomImages(1, static_cast<std::uint32_t>(r * 8 + i)));
  }

  std::atomic<bool> go{false};
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> errors{0};
  std::mutex latencyMutex;
  std::vector<double> latencies;
  Clock::time_point stop;
  std::vector<std::thread> threads;
  for (int r = 0; r < args.requesters; ++r) {
    threads.emplace_back([&, r] {
      std::vector<double> mine;
      while (!go.load()) std::this_thread::yield();
      for (std::size_t i = 0; Clock::now() < stop; ++i) {
        const auto sent = Clock::now();
        auto result =
            batcher.submit(images[static_cast<std::size_t>(r)][i % 8], sent + std::chrono::seconds(30)).get();
        if (!result) {
          ++errors;
          continue;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        ++done;
      }
      std::lock_guard lock(latencyMutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  const double cpuBefore = cpuSeconds();
  const auto start = Clock::now();
  stop = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(args.seconds));
  go = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpuUsed = cpuSeconds() - cpuBefore;
  batcher.shutdown(merit::serving::ShutdownMode::kDrain);

  ServingResult out;
  out.imagesPerSecond = static_cast<double>(done.load()) / elapsed;
  out.meanBatch =
      batches.load() == 0 ? 0 : static_cast<double>(rows.load()) / static_cast<double>(batches.load());
  out.p50Ms = percentile(latencies, 0.50);
  out.p99Ms = percentile(latencies, 0.99);
  out.errors = errors.load();
  out.cpuCores = cpuUsed / elapsed;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (const int code = parseArgs(argc, argv, args); code >= 0) return code;

  const auto dir =
      std::filesystem::temp_directory_path() / ("merit-bench-serving-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "cnn.pt").string();
  torch::jit::Module cnn = makeCnn();
  cnn.save(path);

  auto loaded = Model::load({.path = path,
                             .device = "cpu",
                             .intraOpThreads = args.threads,
                             .warmupRuns = 5,
                             .warmupShape = {args.batch, 1, 28, 28}});
  if (!loaded) {
    std::fprintf(stderr, "loading the model: %s\n", loaded.error().toString().c_str());
    return 1;
  }
  const Model& model = **loaded;

  std::vector<double> offline;
  std::vector<double> batchedRates;
  std::vector<double> singleRates;
  std::vector<double> servingOverOffline;
  std::vector<double> batchedOverSingle;
  std::uint64_t errors = 0;
  for (int round = 1; round <= args.rounds; ++round) {
    const double cpuBefore = cpuSeconds();
    const auto wallBefore = Clock::now();
    const double torchRate = offlineTorch(cnn, args.batch, args.seconds);
    const double torchCores =
        (cpuSeconds() - cpuBefore) / std::chrono::duration<double>(Clock::now() - wallBefore).count();
    const double modelRate = offlineModel(model, args.batch, args.seconds);
    std::printf(
        R"({"bench":"offline_forward","round":%d,"batch":%d,"threads":%d,"torch_images_per_s":%.0f,"torch_cpu_cores":%.2f,"model_images_per_s":%.0f})"
        "\n",
        round, args.batch, args.threads, torchRate, torchCores, modelRate);
    const ServingResult batched = serve(model, args.batch, args);
    const ServingResult single = serve(model, 1, args);
    for (const auto& [maxBatch, r] : {std::pair{args.batch, batched}, std::pair{1, single}}) {
      std::printf(
          R"({"bench":"serving","round":%d,"max_batch":%d,"requesters":%d,"max_wait_us":%d,"images_per_s":%.0f,"mean_batch":%.1f,"p50_ms":%.2f,"p99_ms":%.2f,"cpu_cores":%.2f,"errors":%llu})"
          "\n",
          round, maxBatch, args.requesters, args.maxWaitUs, r.imagesPerSecond, r.meanBatch, r.p50Ms, r.p99Ms,
          r.cpuCores, static_cast<unsigned long long>(r.errors));
      errors += r.errors;
    }
    std::fflush(stdout);
    offline.push_back(torchRate);
    batchedRates.push_back(batched.imagesPerSecond);
    singleRates.push_back(single.imagesPerSecond);
    servingOverOffline.push_back(batched.imagesPerSecond / torchRate);
    batchedOverSingle.push_back(batched.imagesPerSecond / single.imagesPerSecond);
  }
  std::printf(
      R"({"bench":"summary","rounds":%d,"batch":%d,"threads":%d,"offline_images_per_s":%.0f,"serving_batched_images_per_s":%.0f,"serving_batch1_images_per_s":%.0f,"serving_over_offline":%.3f,"batched_over_batch1":%.2f,"goal":0.8})"
      "\n",
      args.rounds, args.batch, args.threads, percentile(offline, 0.5), percentile(batchedRates, 0.5),
      percentile(singleRates, 0.5), percentile(servingOverOffline, 0.5), percentile(batchedOverSingle, 0.5));

  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return errors == 0 ? 0 : 1;
}
