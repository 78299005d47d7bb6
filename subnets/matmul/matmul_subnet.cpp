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
//                              present, else the CPU, saying why on stderr), cpu, or cuda (refuse
//                              to start without a usable CUDA device)
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
// Thread-safety: handleBatch, makeChallenge and scoreResponse may run concurrently; the only
// shared mutable state is the fault RNG (m_rngMutex) and a once-only CUDA failure note (atomic).
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sodium.h>
#include <yaml-cpp/yaml.h>

#include "merit/subnet_sdk.h"

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

struct MatmulConfig {
  std::uint32_t n = 256;
  std::uint32_t k = 256;
  std::uint32_t m = 256;
  std::uint32_t verifyRounds = mm::kMinVerifyRounds;
  std::uint32_t maxDim = 1024;
  Device device = Device::kAuto;
  std::uint32_t threads = 0;
  double wrongRate = 0;
  double zeroRate = 0;
  double randomRate = 0;
  double dropRate = 0;
  std::uint32_t delayMs = 0;
  bool hasSeed = false;
  std::uint64_t seed = 0;
};

[[noreturn]] void badKey(const std::string& key, const std::string& reason) {
  throw SubnetError(Status::kInvalidArgument, "matmul config: " + key + ": " + reason);
}

std::uint64_t readUnsigned(const YAML::Node& node, const std::string& key, std::uint64_t min,
                           std::uint64_t max) {
  if (!node.IsScalar()) badKey(key, "must be a number");
  const std::string& text = node.Scalar();
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    badKey(key, "'" + text + "' is not a non-negative integer");
  }
  if (value < min || value > max) {
    badKey(key, std::to_string(value) + " is outside " + std::to_string(min) + ".." + std::to_string(max));
  }
  return value;
}

double readRate(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) badKey(key, "must be a number in [0, 1]");
  double value = 0;
  if (!YAML::convert<double>::decode(node, value) || !(value >= 0.0 && value <= 1.0)) {
    badKey(key, "'" + node.Scalar() + "' is not a number in [0, 1]");
  }
  return value;
}

void parseFaults(const YAML::Node& value, MatmulConfig& config) {
  if (!value.IsMap()) badKey("faults", "must be a mapping");
  for (const auto& fault : value) {
    const std::string name = fault.first.Scalar();
    const std::string path = "faults." + name;
    if (name == "wrong_rate") {
      config.wrongRate = readRate(fault.second, path);
    } else if (name == "zero_rate") {
      config.zeroRate = readRate(fault.second, path);
    } else if (name == "random_rate") {
      config.randomRate = readRate(fault.second, path);
    } else if (name == "drop_rate") {
      config.dropRate = readRate(fault.second, path);
    } else if (name == "delay_ms") {
      config.delayMs = static_cast<std::uint32_t>(readUnsigned(fault.second, path, 0, 600'000));
    } else if (name == "seed") {
      config.seed = readUnsigned(fault.second, path, 0, std::numeric_limits<std::uint64_t>::max());
      config.hasSeed = true;
    } else {
      badKey(path, "unknown key (known: wrong_rate, zero_rate, random_rate, drop_rate, delay_ms, seed)");
    }
  }
  if (config.wrongRate + config.zeroRate + config.randomRate + config.dropRate > 1.0) {
    badKey("faults", "wrong_rate + zero_rate + random_rate + drop_rate must be at most 1");
  }
}

MatmulConfig parseConfig(std::string_view yaml) {
  MatmulConfig config;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw SubnetError(Status::kInvalidArgument,
                      "matmul config: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return config;
  if (!root.IsMap()) throw SubnetError(Status::kInvalidArgument, "matmul config: must be a mapping");
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& value = kv.second;
    if (key == "n") {
      config.n = static_cast<std::uint32_t>(readUnsigned(value, key, 1, kConfigMaxDim));
    } else if (key == "k") {
      config.k = static_cast<std::uint32_t>(readUnsigned(value, key, 1, kConfigMaxDim));
    } else if (key == "m") {
      config.m = static_cast<std::uint32_t>(readUnsigned(value, key, 1, kConfigMaxDim));
    } else if (key == "verify_rounds") {
      config.verifyRounds = static_cast<std::uint32_t>(readUnsigned(value, key, mm::kMinVerifyRounds, 64));
    } else if (key == "max_dim") {
      config.maxDim = static_cast<std::uint32_t>(readUnsigned(value, key, 1, kConfigMaxDim));
    } else if (key == "threads") {
      config.threads = static_cast<std::uint32_t>(readUnsigned(value, key, 0, 256));
    } else if (key == "device") {
      const std::string device = value.IsScalar() ? value.Scalar() : std::string();
      if (device == "auto") {
        config.device = Device::kAuto;
      } else if (device == "cpu") {
        config.device = Device::kCpu;
      } else if (device == "cuda") {
        config.device = Device::kCuda;
      } else {
        badKey(key, "'" + device + "' is not one of auto, cpu, cuda");
      }
    } else if (key == "faults") {
      parseFaults(value, config);
    } else {
      badKey(key, "unknown key (known: n, k, m, verify_rounds, max_dim, device, threads, faults)");
    }
  }
  return config;
}

class MatmulSubnet final : public merit::subnet_sdk::Subnet {
 public:
  MatmulSubnet(std::string_view configYaml, Role role) : m_config(parseConfig(configYaml)), m_role(role) {
    if (sodium_init() < 0) throw SubnetError(Status::kInternal, "libsodium failed to initialise");
    std::uint64_t seed = m_config.seed;
    if (!m_config.hasSeed) randombytes_buf(&seed, sizeof(seed));
    m_rng.seed(seed);
    if (m_role == Role::kMiner) m_useCuda = chooseDevice();
  }

  std::vector<Reply> handleBatch(std::span<const ByteSpan> requests) override {
    if (m_config.delayMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(m_config.delayMs));
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
  enum class Fault { kNone, kWrong, kZero, kRandom, kDrop };

  // Miner: CUDA or CPU, from the `device` key and what this machine has.
  bool chooseDevice() {
    if (m_config.device == Device::kCpu) return false;
    std::string what, why;
    if (mm::cudaDeviceAvailable(what, why)) {
      std::fprintf(stderr, "matmul: computing on CUDA device %s\n", what.c_str());
      return true;
    }
    if (m_config.device == Device::kCuda) {
      badKey("device", "cuda, but no usable CUDA device: " + why + " (use device: auto or cpu)");
    }
    std::fprintf(stderr, "matmul: no usable CUDA device (%s); computing on the CPU with %s threads\n",
                 why.c_str(),
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
    const Fault fault = chooseFault();
    if (fault == Fault::kDrop) return Reply::drop();
    mm::Matrix c(count, 0);
    if (fault == Fault::kZero) return Reply::ok(mm::encodeResponse(problem.n, problem.m, c));
    if (fault == Fault::kRandom) {
      for (std::uint32_t& x : c) x = randombytes_uniform(mm::kPrime);
      return Reply::ok(mm::encodeResponse(problem.n, problem.m, c));
    }
    multiply(problem, c);
    if (fault == Fault::kWrong) {
      std::size_t index = 0;
      {
        std::lock_guard lock(m_rngMutex);
        index = std::uniform_int_distribution<std::size_t>(0, count - 1)(m_rng);
      }
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

  Fault chooseFault() {
    const double total = m_config.wrongRate + m_config.zeroRate + m_config.randomRate + m_config.dropRate;
    if (m_role != Role::kMiner || total == 0.0) return Fault::kNone;
    double u = 0;
    {
      std::lock_guard lock(m_rngMutex);
      u = std::uniform_real_distribution<double>(0.0, 1.0)(m_rng);
    }
    double edge = m_config.dropRate;
    if (u < edge) return Fault::kDrop;
    if (u < (edge += m_config.zeroRate)) return Fault::kZero;
    if (u < (edge += m_config.randomRate)) return Fault::kRandom;
    if (u < (edge += m_config.wrongRate)) return Fault::kWrong;
    return Fault::kNone;
  }

  const MatmulConfig m_config;
  const Role m_role;
  bool m_useCuda = false;  // set in the constructor only
  std::atomic<bool> m_cudaFailureNoted{false};
  std::mutex m_rngMutex;
  std::mt19937_64 m_rng;  // guarded by m_rngMutex
};

}  // namespace

MERIT_SUBNET_PLUGIN(MatmulSubnet, "matmul", 1)
