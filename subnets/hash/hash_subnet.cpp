// The `hash` subnet: proof of (a little) work. The validator sends random bytes and a round count
// k; the miner answers BLAKE2b-256 applied k times; the validator checks the answer exactly.
//
// Payload (version 1), all integers little-endian:
//   request     = rounds:u32 ‖ challenge bytes (1..max_challenge_bytes)
//                 rounds == 0 means "the subnet's configured rounds"
//   response    = 32 bytes: H^k(challenge), where H = BLAKE2b-256 (unkeyed) and H^1 = H(challenge)
//   expectation = the 32-byte answer (kept by the validator)
//
// Configuration (YAML mapping; every key optional; unknown keys are refused):
//   rounds: 16                 k in the validator's challenges, and for requests with rounds 0
//   challenge_bytes: 32        size of the validator's random challenge
//   max_rounds: 100000         a miner refuses requests asking for more (INVALID_ARGUMENT)
//   max_challenge_bytes: 65536 a miner refuses longer challenges (INVALID_ARGUMENT)
//   faults:                    miner only: make this miner misbehave, for tests
//     wrong_rate: 0.0          fraction of answers that are wrong (one bit flipped)
//     garbage_rate: 0.0        fraction of answers that are random bytes of a wrong length
//     drop_rate: 0.0           fraction of requests not answered at all (DROP)
//     delay_ms: 0              every batch is answered this much later
//     seed: <random>           seed for the fault choices (reproducible fault patterns)
//   The three rates are fractions of requests and must add up to at most 1.
//
// Thread-safety: handleBatch, makeChallenge and scoreResponse may run concurrently; the only
// shared mutable state is the fault RNG, guarded by m_rngMutex.
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
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

namespace {

using merit::subnet_sdk::Buffer;
using merit::subnet_sdk::ByteSpan;
using merit::subnet_sdk::Challenge;
using merit::subnet_sdk::Reply;
using merit::subnet_sdk::Role;
using merit::subnet_sdk::Status;
using merit::subnet_sdk::SubnetError;

constexpr std::size_t kDigestBytes = 32;
constexpr std::size_t kHeaderBytes = 4;
using Digest = std::array<std::uint8_t, kDigestBytes>;

struct HashConfig {
  std::uint32_t rounds = 16;
  std::uint32_t challengeBytes = 32;
  std::uint32_t maxRounds = 100'000;
  std::uint32_t maxChallengeBytes = 65'536;
  double wrongRate = 0;
  double garbageRate = 0;
  double dropRate = 0;
  std::uint32_t delayMs = 0;
  bool hasSeed = false;
  std::uint64_t seed = 0;
};

[[noreturn]] void badKey(const std::string& key, const std::string& reason) {
  throw SubnetError(Status::kInvalidArgument, "hash config: " + key + ": " + reason);
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

HashConfig parseConfig(std::string_view yaml) {
  HashConfig config;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw SubnetError(Status::kInvalidArgument,
                      "hash config: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return config;
  if (!root.IsMap()) throw SubnetError(Status::kInvalidArgument, "hash config: must be a mapping");
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& value = kv.second;
    if (key == "rounds") {
      config.rounds = static_cast<std::uint32_t>(readUnsigned(value, key, 1, 1'000'000));
    } else if (key == "challenge_bytes") {
      config.challengeBytes = static_cast<std::uint32_t>(readUnsigned(value, key, 1, 65'536));
    } else if (key == "max_rounds") {
      config.maxRounds = static_cast<std::uint32_t>(readUnsigned(value, key, 1, 10'000'000));
    } else if (key == "max_challenge_bytes") {
      config.maxChallengeBytes = static_cast<std::uint32_t>(readUnsigned(value, key, 1, 16u << 20));
    } else if (key == "faults") {
      if (!value.IsMap()) badKey(key, "must be a mapping");
      for (const auto& fault : value) {
        const std::string name = fault.first.Scalar();
        const std::string path = "faults." + name;
        if (name == "wrong_rate") {
          config.wrongRate = readRate(fault.second, path);
        } else if (name == "garbage_rate") {
          config.garbageRate = readRate(fault.second, path);
        } else if (name == "drop_rate") {
          config.dropRate = readRate(fault.second, path);
        } else if (name == "delay_ms") {
          config.delayMs = static_cast<std::uint32_t>(readUnsigned(fault.second, path, 0, 600'000));
        } else if (name == "seed") {
          config.seed = readUnsigned(fault.second, path, 0, std::numeric_limits<std::uint64_t>::max());
          config.hasSeed = true;
        } else {
          badKey(path, "unknown key (known: wrong_rate, garbage_rate, drop_rate, delay_ms, seed)");
        }
      }
      if (config.wrongRate + config.garbageRate + config.dropRate > 1.0) {
        badKey(key, "wrong_rate + garbage_rate + drop_rate must be at most 1");
      }
    } else {
      badKey(key, "unknown key (known: rounds, challenge_bytes, max_rounds, max_challenge_bytes, faults)");
    }
  }
  if (config.rounds > config.maxRounds) badKey("rounds", "must not exceed max_rounds");
  if (config.challengeBytes > config.maxChallengeBytes) {
    badKey("challenge_bytes", "must not exceed max_challenge_bytes");
  }
  return config;
}

Digest hashRounds(ByteSpan challenge, std::uint32_t rounds) {
  Digest digest{};
  crypto_generichash(digest.data(), digest.size(), challenge.data(), challenge.size(), nullptr, 0);
  for (std::uint32_t i = 1; i < rounds; ++i) {
    crypto_generichash(digest.data(), digest.size(), digest.data(), digest.size(), nullptr, 0);
  }
  return digest;
}

class HashSubnet final : public merit::subnet_sdk::Subnet {
 public:
  HashSubnet(std::string_view configYaml, Role role) : m_config(parseConfig(configYaml)), m_role(role) {
    if (sodium_init() < 0) throw SubnetError(Status::kInternal, "libsodium failed to initialise");
    std::uint64_t seed = m_config.seed;
    if (!m_config.hasSeed) randombytes_buf(&seed, sizeof(seed));
    m_rng.seed(seed);
  }

  std::vector<Reply> handleBatch(std::span<const ByteSpan> requests) override {
    if (m_config.delayMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(m_config.delayMs));
    std::vector<Reply> replies;
    replies.reserve(requests.size());
    for (ByteSpan request : requests) replies.push_back(answer(request));
    return replies;
  }

  Challenge makeChallenge() override {
    Buffer request(kHeaderBytes + m_config.challengeBytes);
    const std::uint32_t k = m_config.rounds;
    for (std::size_t i = 0; i < kHeaderBytes; ++i) request[i] = static_cast<std::uint8_t>(k >> (8 * i));
    randombytes_buf(request.data() + kHeaderBytes, m_config.challengeBytes);
    const Digest expected = hashRounds(ByteSpan(request).subspan(kHeaderBytes), k);
    return Challenge{std::move(request), Buffer(expected.begin(), expected.end())};
  }

  double scoreResponse(ByteSpan expectation, ByteSpan response) override {
    if (expectation.size() != kDigestBytes) {
      throw SubnetError(Status::kInternal, "hash: corrupt expectation (" +
                                               std::to_string(expectation.size()) + " bytes, expected " +
                                               std::to_string(kDigestBytes) + ")");
    }
    if (response.size() != kDigestBytes) return 0.0;
    return sodium_memcmp(expectation.data(), response.data(), kDigestBytes) == 0 ? 1.0 : 0.0;
  }

 private:
  enum class Fault { kNone, kWrong, kGarbage, kDrop };

  Reply answer(ByteSpan request) {
    if (request.size() <= kHeaderBytes) {
      return Reply::failed(Status::kInvalidArgument,
                           "hash: request needs a 4-byte round count and a challenge");
    }
    std::uint32_t rounds = 0;
    for (std::size_t i = 0; i < kHeaderBytes; ++i)
      rounds |= static_cast<std::uint32_t>(request[i]) << (8 * i);
    if (rounds == 0) rounds = m_config.rounds;
    if (rounds > m_config.maxRounds) {
      return Reply::failed(Status::kInvalidArgument, "hash: " + std::to_string(rounds) +
                                                         " rounds exceed max_rounds " +
                                                         std::to_string(m_config.maxRounds));
    }
    const ByteSpan challenge = request.subspan(kHeaderBytes);
    if (challenge.size() > m_config.maxChallengeBytes) {
      return Reply::failed(Status::kInvalidArgument, "hash: challenge longer than max_challenge_bytes");
    }
    const Fault fault = chooseFault();
    if (fault == Fault::kDrop) return Reply::drop();
    if (fault == Fault::kGarbage) return Reply::ok(garbage());
    Digest digest = hashRounds(challenge, rounds);
    if (fault == Fault::kWrong) digest[0] ^= 0x01;
    return Reply::ok(Buffer(digest.begin(), digest.end()));
  }

  Fault chooseFault() {
    if (m_role != Role::kMiner || m_config.wrongRate + m_config.garbageRate + m_config.dropRate == 0.0) {
      return Fault::kNone;
    }
    double u = 0;
    {
      std::lock_guard lock(m_rngMutex);
      u = std::uniform_real_distribution<double>(0.0, 1.0)(m_rng);
    }
    if (u < m_config.dropRate) return Fault::kDrop;
    if (u < m_config.dropRate + m_config.garbageRate) return Fault::kGarbage;
    if (u < m_config.dropRate + m_config.garbageRate + m_config.wrongRate) return Fault::kWrong;
    return Fault::kNone;
  }

  // Random bytes of a random length in 1..64, never the length of a real answer.
  Buffer garbage() {
    std::size_t length = 0;
    {
      std::lock_guard lock(m_rngMutex);
      length = std::uniform_int_distribution<std::size_t>(1, 63)(m_rng);
    }
    if (length >= kDigestBytes) ++length;
    Buffer bytes(length);
    randombytes_buf(bytes.data(), bytes.size());
    return bytes;
  }

  const HashConfig m_config;
  const Role m_role;
  std::mutex m_rngMutex;
  std::mt19937_64 m_rng;  // guarded by m_rngMutex
};

}  // namespace

MERIT_SUBNET_PLUGIN(HashSubnet, "hash", 1)
