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
// Configuration errors are SubnetError(kInvalidArgument, "hash config: <key>: <reason>"); the
// reading and the faults come from merit_subnet_config (merit/subnets/plugin_config.h).
//
// Thread-safety: handleBatch, makeChallenge and scoreResponse may run concurrently; the only
// shared mutable state is the fault RNG, inside m_faults (which guards it with its own mutex).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sodium.h>

#include "merit/subnet_sdk.h"
#include "merit/subnets/plugin_config.h"

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

namespace cfg = merit::plugin_config;

// faults: wrong_rate, garbage_rate, drop_rate, delay_ms, seed.
const cfg::FaultSpec kFaultSpec{.wrong = true, .extraKinds = {"garbage_rate"}};
constexpr std::size_t kGarbage = 0;  // index of garbage_rate in kFaultSpec.extraKinds

struct HashConfig {
  std::uint32_t rounds = 16;
  std::uint32_t challengeBytes = 32;
  std::uint32_t maxRounds = 100'000;
  std::uint32_t maxChallengeBytes = 65'536;
  cfg::Faults faults;
};

HashConfig parseConfig(std::string_view yaml) {
  HashConfig c;
  cfg::parse("hash", yaml)
      .read({
          {"rounds", [&](const cfg::Value& v) { c.rounds = v.integer<std::uint32_t>(1, 1'000'000); }},
          {"challenge_bytes",
           [&](const cfg::Value& v) { c.challengeBytes = v.integer<std::uint32_t>(1, 65'536); }},
          {"max_rounds", [&](const cfg::Value& v) { c.maxRounds = v.integer<std::uint32_t>(1, 10'000'000); }},
          {"max_challenge_bytes",
           [&](const cfg::Value& v) { c.maxChallengeBytes = v.integer<std::uint32_t>(1, 16u << 20); }},
          {"faults", [&](const cfg::Value& v) { c.faults = cfg::parseFaults(v, kFaultSpec); }},
      });
  if (c.rounds > c.maxRounds) cfg::fail("hash", "rounds", "must not exceed max_rounds");
  if (c.challengeBytes > c.maxChallengeBytes) {
    cfg::fail("hash", "challenge_bytes", "must not exceed max_challenge_bytes");
  }
  return c;
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
  HashSubnet(std::string_view configYaml, Role role)
      : m_config(parseConfig(configYaml)), m_faults(m_config.faults, role) {
    if (sodium_init() < 0) throw SubnetError(Status::kInternal, "libsodium failed to initialise");
  }

  std::vector<Reply> handleBatch(std::span<const ByteSpan> requests) override {
    m_faults.delayBatch();
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
    const cfg::Fault fault = m_faults.decide();
    if (fault.drop()) return Reply::drop();
    if (fault.isExtra(kGarbage)) return Reply::ok(garbage());
    Digest digest = hashRounds(challenge, rounds);
    if (fault.wrong()) digest[0] ^= 0x01;
    return Reply::ok(Buffer(digest.begin(), digest.end()));
  }

  // Random bytes of a random length in 1..64, never the length of a real answer.
  Buffer garbage() {
    std::size_t length = m_faults.uniform(1, 63);
    if (length >= kDigestBytes) ++length;
    Buffer bytes(length);
    randombytes_buf(bytes.data(), bytes.size());
    return bytes;
  }

  const HashConfig m_config;
  cfg::FaultInjector m_faults;  // thread-safe
};

}  // namespace

MERIT_SUBNET_PLUGIN(HashSubnet, "hash", 1)
