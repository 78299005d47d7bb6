// The `reverse` subnet: the miner returns the request's bytes in reverse order; the validator
// sends random bytes and checks the answer. A minimal plugin built out of tree against the
// installed SDK.
//
// Config (YAML, one optional key, parsed by hand to keep this example dependency-free):
//   length: 16      bytes in each challenge, 1..4096
#include <algorithm>
#include <charconv>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
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

std::size_t parseLength(std::string_view yaml) {
  const auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
    return s;
  };
  yaml = trim(yaml);
  if (yaml.empty() || yaml == "{}") return 16;
  constexpr std::string_view kKey = "length:";
  if (yaml.substr(0, kKey.size()) != kKey) {
    throw SubnetError(Status::kInvalidArgument, "reverse config: only the key 'length' is known");
  }
  const std::string_view value = trim(yaml.substr(kKey.size()));
  std::size_t length = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
  if (ec != std::errc() || end != value.data() + value.size() || length < 1 || length > 4096) {
    throw SubnetError(Status::kInvalidArgument, "reverse config: length: must be an integer in 1..4096");
  }
  return length;
}

class ReverseSubnet final : public merit::subnet_sdk::Subnet {
 public:
  ReverseSubnet(std::string_view configYaml, Role)
      : m_length(parseLength(configYaml)), m_rng(std::random_device{}()) {}

  std::vector<Reply> handleBatch(std::span<const ByteSpan> requests) override {
    std::vector<Reply> replies;
    replies.reserve(requests.size());
    for (ByteSpan request : requests) replies.push_back(Reply::ok(Buffer(request.rbegin(), request.rend())));
    return replies;
  }

  Challenge makeChallenge() override {
    Buffer request(m_length);
    {
      std::lock_guard lock(m_rngMutex);
      for (auto& b : request) b = static_cast<std::uint8_t>(m_rng());
    }
    return Challenge{request, Buffer(request.rbegin(), request.rend())};
  }

  double scoreResponse(ByteSpan expectation, ByteSpan response) override {
    return std::ranges::equal(expectation, response) ? 1.0 : 0.0;
  }

 private:
  const std::size_t m_length;
  std::mutex m_rngMutex;
  std::mt19937 m_rng;  // guarded by m_rngMutex
};

}  // namespace

MERIT_SUBNET_PLUGIN(ReverseSubnet, "reverse", 1)
