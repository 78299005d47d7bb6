// An SDK plugin that misbehaves on request, for the host tests: its constructor, handler and
// scorer throw when told to. Built twice: "test_throwing" (concurrent calls allowed) and, with
// MERIT_TEST_SERIAL, "test_serial" (MERIT_SUBNET_FLAG_SERIAL: the host must serialise calls).
//
// Config (the raw text): contains "throw_in_create" -> the constructor throws std::runtime_error;
// "bad_key" -> it throws SubnetError(kInvalidArgument). Requests: "throw" -> std::runtime_error,
// "throw_int" -> throws an int, "wrong_count" -> returns no replies, "overlap" -> the highest
// number of handleBatch calls seen running at once so far (as text); anything else is echoed.
// Responses to score: "throw" -> throws, "nan" -> returns NaN; else 1 if equal to the expectation.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "merit/subnet_sdk.h"

namespace {

using merit::subnet_sdk::Buffer;
using merit::subnet_sdk::ByteSpan;
using merit::subnet_sdk::Reply;
using merit::subnet_sdk::Role;
using merit::subnet_sdk::Status;
using merit::subnet_sdk::SubnetError;

std::string_view text(ByteSpan bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
Buffer buffer(std::string_view s) {
  return Buffer(s.begin(), s.end());
}

class ThrowingSubnet final : public merit::subnet_sdk::Subnet {
 public:
#ifdef MERIT_TEST_SERIAL
  static constexpr std::uint64_t kPluginFlags = MERIT_SUBNET_FLAG_SERIAL;
#endif

  ThrowingSubnet(std::string_view config, Role) {
    if (config.find("throw_in_create") != std::string_view::npos) {
      throw std::runtime_error("the constructor refused: throw_in_create");
    }
    if (config.find("bad_key") != std::string_view::npos) {
      throw SubnetError(Status::kInvalidArgument, "test config: bad_key: not allowed");
    }
  }

  std::vector<Reply> handleBatch(std::span<const ByteSpan> requests) override {
    const int running = ++m_running;
    int seen = m_maxRunning.load();
    while (running > seen && !m_maxRunning.compare_exchange_weak(seen, running)) {
    }
    // Long enough for concurrent callers to overlap if the host lets them.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    struct Leave {
      std::atomic<int>& counter;
      ~Leave() { --counter; }
    } leave{m_running};

    std::vector<Reply> replies;
    for (ByteSpan request : requests) {
      const std::string_view r = text(request);
      if (r == "throw") throw std::runtime_error("handler exploded");
      if (r == "throw_int") throw 42;
      if (r == "wrong_count") return {};
      if (r == "overlap") {
        replies.push_back(Reply::ok(buffer(std::to_string(m_maxRunning.load()))));
      } else {
        replies.push_back(Reply::ok(Buffer(request.begin(), request.end())));
      }
    }
    return replies;
  }

  merit::subnet_sdk::Challenge makeChallenge() override {
    return {buffer("ping"), buffer("ping")};
  }

  double scoreResponse(ByteSpan expectation, ByteSpan response) override {
    if (text(response) == "throw") throw std::runtime_error("scorer exploded");
    if (text(response) == "nan") return std::numeric_limits<double>::quiet_NaN();
    return std::ranges::equal(expectation, response) ? 1.0 : 0.0;
  }

 private:
  std::atomic<int> m_running{0};
  std::atomic<int> m_maxRunning{0};
};

}  // namespace

#ifdef MERIT_TEST_SERIAL
MERIT_SUBNET_PLUGIN(ThrowingSubnet, "test_serial", 1)
#else
MERIT_SUBNET_PLUGIN(ThrowingSubnet, "test_throwing", 1)
#endif
