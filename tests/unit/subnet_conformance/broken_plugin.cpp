// A plugin that breaks one rule of the conformance suite on request, so the suite is shown able to
// fail (tests/unit/subnet_conformance/CMakeLists.txt). Its task is honest otherwise: the miner
// returns the request reversed, the validator checks it exactly.
//
// Config (the raw text; anything else means "well-behaved"):
//   crash     score_response dereferences NULL on a response of the wrong size
//   hang      score_response never returns on an empty response
//   leak      score_response leaks 1 MiB per call
//   lenient   every response scores 1 (a wrong answer too)
//   fixed     every challenge is the same bytes
//   error     score_response fails (INTERNAL) on a malformed response instead of scoring 0
//   race      handle_batch is not thread-safe (shared buffer) and does not say SERIAL
//   slow      make_challenge sleeps 60 ms (the tests give it a 20 ms budget)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "merit/subnet_sdk.h"

namespace {

using merit::subnet_sdk::Buffer;
using merit::subnet_sdk::ByteSpan;
using merit::subnet_sdk::Challenge;
using merit::subnet_sdk::Reply;
using merit::subnet_sdk::Role;
using merit::subnet_sdk::Status;
using merit::subnet_sdk::SubnetError;

constexpr std::size_t kLength = 32;

class BrokenSubnet final : public merit::subnet_sdk::Subnet {
 public:
  BrokenSubnet(std::string_view config, Role) : m_mode(config), m_rng(std::random_device{}()) {
    while (!m_mode.empty() && (m_mode.back() == '\n' || m_mode.back() == ' ')) m_mode.pop_back();
  }

  std::vector<Reply> handleBatch(std::span<const ByteSpan> requests) override {
    std::vector<Reply> replies;
    for (ByteSpan request : requests) {
      if (m_mode == "race") {
        // Deliberately unsynchronised: concurrent callers overwrite each other's answers. The
        // 5 ms between writing and reading (as a slow model would take) makes the calls of the
        // concurrency check overlap even when the machine is busy: with 200 us, under stress-ng
        // only 1 round of 20 overlapped once and the check passed this plugin.
        m_shared.assign(request.rbegin(), request.rend());
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        replies.push_back(Reply::ok(m_shared));
        continue;
      }
      replies.push_back(Reply::ok(Buffer(request.rbegin(), request.rend())));
    }
    return replies;
  }

  Challenge makeChallenge() override {
    if (m_mode == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(60));
    Buffer request(kLength, 7);
    if (m_mode != "fixed") {
      std::lock_guard lock(m_mutex);
      for (auto& b : request) b = static_cast<std::uint8_t>(m_rng());
    }
    return Challenge{request, Buffer(request.rbegin(), request.rend())};
  }

  double scoreResponse(ByteSpan expectation, ByteSpan response) override {
    if (m_mode == "crash" && response.size() != kLength) {
      volatile int* null = nullptr;
      *null = 1;
    }
    if (m_mode == "hang" && response.empty()) {
      while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    if (m_mode == "leak") {
      auto* lost = static_cast<char*>(std::malloc(1 << 20));
      if (lost != nullptr) std::memset(lost, 1, 1 << 20);  // touched, so it counts in RSS
      m_leaked.fetch_add(lost != nullptr ? 1 : 0);
    }
    if (m_mode == "lenient") return 1.0;
    if (m_mode == "error" && response.size() != kLength) {
      throw SubnetError(Status::kInternal, "cannot score a response of this size");
    }
    return std::ranges::equal(expectation, response) ? 1.0 : 0.0;
  }

 private:
  std::string m_mode;
  std::mutex m_mutex;
  std::mt19937 m_rng;  // guarded by m_mutex
  Buffer m_shared;     // deliberately unguarded ("race")
  std::atomic<int> m_leaked{0};
};

}  // namespace

MERIT_SUBNET_PLUGIN(BrokenSubnet, "test_broken", 1)
