// The subnet of the plugin-reload functional test (reload_test.sh), built several times:
//   MERIT_PROBE_NAME   the subnet name ("reload_probe"; another one for the build to refuse)
//   MERIT_PROBE_BUILD  1 or 2: which build answered shows in the validator's scores
//
// A challenge is 16 random bytes. The miner answers its build number (one byte), then the
// challenge, after 150 ms (so that a reload usually finds a call in flight). The validator scores
// an answer that repeats the challenge 0.5 from build 1 and 1.0 from build 2, anything else 0: the
// mean quality in the validator's log says which miner build is answering.
#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "merit/subnet_sdk.h"

namespace {

using merit::subnet_sdk::Buffer;
using merit::subnet_sdk::ByteSpan;
using merit::subnet_sdk::Reply;
using merit::subnet_sdk::Role;

class ReloadProbe final : public merit::subnet_sdk::Subnet {
 public:
  ReloadProbe(std::string_view, Role) {}

  std::vector<Reply> handleBatch(std::span<const ByteSpan> requests) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    std::vector<Reply> replies;
    for (ByteSpan request : requests) {
      Buffer answer;
      answer.push_back(static_cast<std::uint8_t>(MERIT_PROBE_BUILD));
      answer.insert(answer.end(), request.begin(), request.end());
      replies.push_back(Reply::ok(std::move(answer)));
    }
    return replies;
  }

  merit::subnet_sdk::Challenge makeChallenge() override {
    Buffer challenge(16);
    std::random_device random;
    for (auto& b : challenge) b = static_cast<std::uint8_t>(random());
    return {challenge, challenge};
  }

  double scoreResponse(ByteSpan expectation, ByteSpan response) override {
    if (response.size() != expectation.size() + 1 ||
        !std::equal(expectation.begin(), expectation.end(), response.begin() + 1)) {
      return 0.0;
    }
    return response[0] == 2 ? 1.0 : response[0] == 1 ? 0.5 : 0.0;
  }
};

}  // namespace

MERIT_SUBNET_PLUGIN(ReloadProbe, MERIT_PROBE_NAME, 1)
