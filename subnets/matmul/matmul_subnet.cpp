// The `matmul` subnet: verifiable compute. The validator sends a seed and sizes (n, k, m); miner
// and validator both derive A (n x k) and B (k x m) from the seed, the miner answers
// C = A * B mod p and the validator checks C with Freivalds' algorithm in O(n^2) per round,
// without ever computing the product itself. docs/subnets/matmul.md explains it for miners.
//
// Arithmetic (matmul_core.h): exact integers modulo p = 65521; A and B come from a documented
// counter-based generator (BLAKE2b-derived key, splitmix64 per element), so nothing but 48 bytes
// travels to the miner.
//
// Payload (version 1), all integers little-endian:
//   request     = version:u8 (1) ‖ 3 zero bytes ‖ n:u32 ‖ k:u32 ‖ m:u32 ‖ seed[32]        (48 bytes)
//   response    = version:u8 (1) ‖ 3 zero bytes ‖ n:u32 ‖ m:u32 ‖ C as n*m u32, row-major, each < p
//   expectation = the request bytes (the validator keeps only the seed and sizes; it re-derives A
//                 and B to verify)
// A response of the wrong size, version or header, or with an element >= p, scores 0; so does a
// product that fails any Freivalds round. A correct product scores 1.
//
// Soundness: for C != A*B and r uniform in F_p^m, Pr[A(Br) = Cr] <= 1/p (the non-zero matrix
// C - AB has a non-zero row d, and d.r = 0 fixes one coordinate of r given the others). With
// verify_rounds independent vectors from libsodium's CSPRNG a wrong product passes with
// probability <= p^-verify_rounds <= 65521^-3 < 2^-47.99 < 2^-40.
//
// Configuration (YAML mapping; every key optional; unknown keys are refused):
//   n: 256                     validator: rows of A and C in its challenges (1..2048)
//   k: 256                     validator: columns of A, rows of B (1..2048)
//   m: 256                     validator: columns of B and C (1..2048)
//   verify_rounds: 3           validator: Freivalds rounds per response (3..64)
//   max_dim: 1024              miner: refuses requests with n, k or m above this (1..2048,
//                              INVALID_ARGUMENT); 2048 keeps the response (n*m*4 bytes) far below
//                              the validator's 64 MiB response limit
//   device: auto               miner: auto (CUDA if this build has the kernel and a device is
//                              present, else the CPU, saying why on stderr), cpu, or cuda (the
//                              same, with a warning when it falls back to the CPU)
//   threads: 0                 miner: CPU threads per product (0 = one per hardware thread; 1..256)
//   faults:                    miner only: make this miner misbehave, for tests
//     wrong_rate: 0.0          fraction of answers with one element of C off by one
//     zero_rate: 0.0           fraction of answers that are an all-zero C (a lazy miner)
//     random_rate: 0.0         fraction of answers that are a random C of the right shape
//     drop_rate: 0.0           fraction of requests not answered at all (DROP)
//     delay_ms: 0              every batch is answered this much later
//     seed: <random>           seed for the fault choices (reproducible fault patterns)
//   The four rates are fractions of requests and must add up to at most 1.
//
// Configuration errors are SubnetError(kInvalidArgument, "matmul config: <key>: <reason>"); the
// reading and the faults come from merit_subnet_config (merit/subnets/plugin_config.h).
//
// Thread-safety: handleBatch, makeChallenge and scoreResponse may run concurrently; the only
// shared mutable state is the fault RNG (inside m_faults, guarded by its own mutex) and a
// once-only CUDA failure note (atomic).
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <sodium.h>

#include "merit/subnet_sdk.h"
#include "merit/subnets/plugin_config.h"

#include "matmul_core.h"
#include "matmul_cuda.h"

namespace {

namespace mm = merit::matmul;
using merit::subnet_sdk::Buffer;
using merit::subnet_sdk::ByteSpan;
using merit::subnet_sdk::Challenge;
using merit::subnet_sdk::Reply;
using merit::subnet_sdk::Role;
using merit::subnet_sdk::Status;
using merit::subnet_sdk::SubnetError;

constexpr std::uint32_t kConfigMaxDim = 2048;

enum class Device { kAuto, kCpu, kCuda };

namespace cfg = merit::plugin_config;

// faults: wrong_rate, zero_rate, random_rate, drop_rate, delay_ms, seed.
const cfg::FaultSpec kFaultSpec{.wrong = true, .extraKinds = {"zero_rate", "random_rate"}};
constexpr std::size_t kZero = 0;  // indices in kFaultSpec.extraKinds
constexpr std::size_t kRandom = 1;

struct MatmulConfig {
  std::uint32_t n = 256;
  std::uint32_t k = 256;
  std::uint32_t m = 256;
  std::uint32_t verifyRounds = mm::kMinVerifyRounds;
  std::uint32_t maxDim = 1024;
  Device device = Device::kAuto;
  std::uint32_t threads = 0;
  cfg::Faults faults;
};

MatmulConfig parseConfig(std::string_view yaml) {
  MatmulConfig c;
  const auto dim = [](const cfg::Value& v) { return v.integer<std::uint32_t>(1, kConfigMaxDim); };
  cfg::parse("matmul", yaml)
      .read({
          {"n", [&](const cfg::Value& v) { c.n = dim(v); }},
          {"k", [&](const cfg::Value& v) { c.k = dim(v); }},
          {"m", [&](const cfg::Value& v) { c.m = dim(v); }},
          {"verify_rounds",
           [&](const cfg::Value& v) { c.verifyRounds = v.integer<std::uint32_t>(mm::kMinVerifyRounds, 64); }},
          {"max_dim", [&](const cfg::Value& v) { c.maxDim = dim(v); }},
          {"device",
           [&](const cfg::Value& v) {
             constexpr Device kDevices[] = {Device::kAuto, Device::kCpu, Device::kCuda};
             c.device = kDevices[v.oneOf({"auto", "cpu", "cuda"})];
           }},
          {"threads", [&](const cfg::Value& v) { c.threads = v.integer<std::uint32_t>(0, 256); }},
          {"faults", [&](const cfg::Value& v) { c.faults = cfg::parseFaults(v, kFaultSpec); }},
      });
  return c;
}

class MatmulSubnet final : public merit::subnet_sdk::Subnet {
 public:
  MatmulSubnet(std::string_view configYaml, Role role)
      : m_config(parseConfig(configYaml)), m_faults(m_config.faults, role) {
    if (sodium_init() < 0) throw SubnetError(Status::kInternal, "libsodium failed to initialise");
    if (role == Role::kMiner) m_useCuda = chooseDevice();
  }

  std::vector<Reply> handleBatch(std::span<const ByteSpan> requests) override {
    m_faults.delayBatch();
    std::vector<Reply> replies;
    replies.reserve(requests.size());
    for (ByteSpan request : requests) replies.push_back(answer(request));
    return replies;
  }

  Challenge makeChallenge() override {
    mm::Problem problem;
    problem.n = m_config.n;
    problem.k = m_config.k;
    problem.m = m_config.m;
    randombytes_buf(problem.seed.data(), problem.seed.size());
    Buffer request = mm::encodeRequest(problem);
    Buffer expectation = request;
    return Challenge{std::move(request), std::move(expectation)};
  }

  double scoreResponse(ByteSpan expectation, ByteSpan response) override {
    mm::Problem problem;
    std::string why;
    if (!mm::decodeRequest(expectation, problem, why)) {
      throw SubnetError(Status::kInternal, "matmul: corrupt expectation: " + why);
    }
    return mm::verifyResponse(problem, response, m_config.verifyRounds) == mm::Verdict::kCorrect ? 1.0 : 0.0;
  }

 private:
  // Miner: CUDA or CPU, from the `device` key and what this machine has.
  bool chooseDevice() {
    if (m_config.device == Device::kCpu) return false;
    std::string what, why;
    if (mm::cudaDeviceAvailable(what, why)) {
      std::fprintf(stderr, "matmul: computing on CUDA device %s\n", what.c_str());
      return true;
    }
    // Like merit_serving's models: a CUDA request without a usable device runs on the CPU, and
    // says so (loudly when CUDA was asked for by name).
    std::fprintf(stderr, "matmul: %sno usable CUDA device (%s); computing on the CPU with %s threads\n",
                 m_config.device == Device::kCuda ? "WARNING: device: cuda, but " : "", why.c_str(),
                 m_config.threads == 0 ? "all hardware" : std::to_string(m_config.threads).c_str());
    return false;
  }

  Reply answer(ByteSpan request) {
    mm::Problem problem;
    std::string why;
    if (!mm::decodeRequest(request, problem, why))
      return Reply::failed(Status::kInvalidArgument, "matmul: " + why);
    if (problem.n > m_config.maxDim || problem.k > m_config.maxDim || problem.m > m_config.maxDim) {
      return Reply::failed(Status::kInvalidArgument, "matmul: " + std::to_string(problem.n) + "x" +
                                                         std::to_string(problem.k) + "x" +
                                                         std::to_string(problem.m) + " exceeds max_dim " +
                                                         std::to_string(m_config.maxDim));
    }
    const std::size_t count = static_cast<std::size_t>(problem.n) * problem.m;
    const cfg::Fault fault = m_faults.decide();
    if (fault.drop()) return Reply::drop();
    mm::Matrix c(count, 0);
    if (fault.isExtra(kZero)) return Reply::ok(mm::encodeResponse(problem.n, problem.m, c));
    if (fault.isExtra(kRandom)) {
      for (std::uint32_t& x : c) x = randombytes_uniform(mm::kPrime);
      return Reply::ok(mm::encodeResponse(problem.n, problem.m, c));
    }
    multiply(problem, c);
    if (fault.wrong()) {
      const std::size_t index = m_faults.uniform(0, count - 1);
      c[index] = (c[index] + 1) % mm::kPrime;
    }
    return Reply::ok(mm::encodeResponse(problem.n, problem.m, c));
  }

  void multiply(const mm::Problem& problem, mm::Matrix& c) {
    mm::Matrix a, b;
    mm::deriveMatrices(problem, a, b);
    if (m_useCuda) {
      std::string why;
      if (mm::multiplyCuda(a.data(), b.data(), c.data(), problem.n, problem.k, problem.m, why)) return;
      if (!m_cudaFailureNoted.exchange(true)) {
        std::fprintf(stderr,
                     "matmul: CUDA product failed (%s); this and later failures are computed on the CPU\n",
                     why.c_str());
      }
    }
    mm::multiplyCpu(a, b, c, problem.n, problem.k, problem.m, m_config.threads);
  }

  const MatmulConfig m_config;
  cfg::FaultInjector m_faults;  // thread-safe
  bool m_useCuda = false;       // set in the constructor only
  std::atomic<bool> m_cudaFailureNoted{false};
};

}  // namespace

MERIT_SUBNET_PLUGIN(MatmulSubnet, "matmul", 1)
