// bench_matmul: the matmul subnet's costs, through merit_matmul_core (the code the plugin runs).
// For each square size n (n = k = m) it times, over --runs runs each, and prints one JSON line per
// measurement with the minimum and the median (the machine is shared, so the minimum is the
// closest to the code's own cost and the median shows what a loaded machine gives), in wall-clock
// time and in the process's CPU time (all threads; unlike wall-clock time it does not count the
// time the scheduler gives to other processes):
//   derive    deriving A and B from a seed (both sides do it)
//   cpu       the miner's CPU product C = A*B mod p with --threads threads (0 = all)
//   cpu_1t    the same on one thread
//   cuda      the CUDA kernel including copies (only when a CUDA device is present)
//   freivalds the validator's check of a correct C, A and B already derived (--rounds rounds)
//   verify    the validator's whole scoreResponse path: parse, derive A and B, Freivalds
//   {"bench":"matmul","what":"cpu","n":256,"threads":2,"runs":31,"min_ms":...,"median_ms":...,
//    "min_cpu_ms":...,"median_cpu_ms":...,"gmacs_at_min":...,"gmacs_per_cpu_s":...}
//   (n^3 multiply-adds per min_ms of wall-clock time, and per min_cpu_ms of CPU time)
//
// Usage: bench_matmul [--sizes 64,128,256,512,1024] [--runs N] [--threads T] [--rounds R]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <sodium.h>

#include "matmul_core.h"
#include "matmul_cuda.h"

namespace {

namespace mm = merit::matmul;
using Clock = std::chrono::steady_clock;

struct Stats {
  double minMs = 0;
  double medianMs = 0;
  double minCpuMs = 0;  // CPU time of the whole process (all threads)
  double medianCpuMs = 0;
};

double processCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

template <typename F>
Stats timeRuns(int runs, F&& body) {
  body();  // warm-up: page in buffers, pick the ifunc clone, start the CUDA context
  std::vector<double> ms, cpu;
  for (int r = 0; r < runs; ++r) {
    const double cpuStart = processCpuMs();
    const auto start = Clock::now();
    body();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    cpu.push_back(processCpuMs() - cpuStart);
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  return Stats{ms.front(), ms[ms.size() / 2], cpu.front(), cpu[cpu.size() / 2]};
}

void print(const char* what, std::uint32_t n, unsigned threads, int runs, const Stats& s, bool withRate) {
  std::printf(
      "{\"bench\":\"matmul\",\"what\":\"%s\",\"n\":%u,\"threads\":%u,\"runs\":%d,\"min_ms\":%.3f,\"median_"
      "ms\":%.3f,"
      "\"min_cpu_ms\":%.3f,\"median_cpu_ms\":%.3f",
      what, n, threads, runs, s.minMs, s.medianMs, s.minCpuMs, s.medianCpuMs);
  if (withRate) {
    const double macs = static_cast<double>(n) * n * n;
    std::printf(",\"gmacs_at_min\":%.2f,\"gmacs_per_cpu_s\":%.2f", macs / (s.minMs * 1e-3) / 1e9,
                macs / (s.minCpuMs * 1e-3) / 1e9);
  }
  std::printf("}\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::uint32_t> sizes{64, 128, 256, 512, 1024};
  long runs = 31, threads = 0, rounds = mm::kMinVerifyRounds;
  CLI::App app{
      "bench_matmul: the miner's product and the validator's Freivalds check (docs/PERFORMANCE.md, "
      "\"matmul subnet\")"};
  app.add_option("--sizes", sizes, "matrix sizes, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096));
  app.add_option("--runs", runs, "timed runs per size")->check(CLI::Range(1, 100000));
  app.add_option("--threads", threads, "CPU threads (0: all cores)")->check(CLI::Range(0, 256));
  app.add_option("--rounds", rounds, "Freivalds rounds")->check(CLI::Range(long{mm::kMinVerifyRounds}, 64L));
  CLI11_PARSE(app, argc, argv);
  if (sodium_init() < 0) {
    std::fprintf(stderr, "error: libsodium failed to initialise\n");
    return 1;
  }
  const unsigned allThreads =
      threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : static_cast<unsigned>(threads);
  std::string device, why;
  const bool cuda = mm::cudaDeviceAvailable(device, why);
  std::fprintf(stderr, "bench_matmul: %s\n",
               cuda ? ("CUDA device " + device).c_str() : ("no CUDA: " + why).c_str());

  for (std::uint32_t n : sizes) {
    mm::Problem problem;
    problem.n = problem.k = problem.m = n;
    randombytes_buf(problem.seed.data(), problem.seed.size());
    mm::Matrix a, b, c(static_cast<std::size_t>(n) * n);
    const int r = static_cast<int>(runs);
    print("derive", n, 1, r, timeRuns(r, [&] { mm::deriveMatrices(problem, a, b); }), false);
    print("cpu", n, allThreads, r, timeRuns(r, [&] { mm::multiplyCpu(a, b, c, n, n, n, allThreads); }), true);
    print("cpu_1t", n, 1, r, timeRuns(r, [&] { mm::multiplyCpu(a, b, c, n, n, n, 1); }), true);
    if (cuda) {
      std::string error;
      mm::Matrix g(c.size());
      print("cuda", n, 0, r,
            timeRuns(r,
                     [&] {
                       if (!mm::multiplyCuda(a.data(), b.data(), g.data(), n, n, n, error)) {
                         std::fprintf(stderr, "error: CUDA: %s\n", error.c_str());
                         std::exit(1);
                       }
                     }),
            true);
    }
    const std::vector<std::uint8_t> response = mm::encodeResponse(n, n, c);
    const auto rs = static_cast<std::uint32_t>(rounds);
    bool allCorrect = true;
    print("freivalds", n, 1, r,
          timeRuns(r,
                   [&] {
                     allCorrect = allCorrect &&
                                  mm::verifyResponse(problem, a, b, response, rs) == mm::Verdict::kCorrect;
                   }),
          false);
    print("verify", n, 1, r,
          timeRuns(r,
                   [&] {
                     allCorrect =
                         allCorrect && mm::verifyResponse(problem, response, rs) == mm::Verdict::kCorrect;
                   }),
          false);
    if (!allCorrect) {
      std::fprintf(stderr, "error: a correct product failed verification at n=%u\n", n);
      return 1;
    }
  }
  return 0;
}
