// Builds of one small subnet for the reload tests, told apart by a tag compiled in:
//   MERIT_TEST_NAME       the subnet name (the same for the builds that must reload)
//   MERIT_TEST_VERSION    the payload version
//   MERIT_TEST_TAG        "v1", "v2", ...: in every answer and expectation, so a test sees which
//                         build handled a call
//   MERIT_TEST_CREATE_FAILS  the constructor always throws (a build that loads but cannot start)
//
// Miner side: "block:<entered fd>:<release fd>" writes one byte to the first descriptor, then
// waits for one byte on the second (the test and the plugin share the process, so a pipe lets a
// test hold a call in flight without sleeping) and answers the tag; anything else is answered
// "<tag>:<request>". Validator side: the challenge is "ping" with the tag as expectation; a
// response scores 1 when it is "<tag>:ping" for this build's tag and the expectation is this
// build's tag (a challenge scored by another build than the one that made it scores 0).
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include "merit/subnet_sdk.h"

namespace {

using merit::subnet_sdk::Buffer;
using merit::subnet_sdk::ByteSpan;
using merit::subnet_sdk::Reply;
using merit::subnet_sdk::Role;

constexpr std::string_view kTag = MERIT_TEST_TAG;

std::string_view text(ByteSpan bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
Buffer buffer(std::string_view s) {
  return Buffer(s.begin(), s.end());
}

// "block:3:4" -> {3, 4}; {-1, -1} for anything else.
std::pair<int, int> blockFds(std::string_view r) {
  constexpr std::string_view kPrefix = "block:";
  if (r.substr(0, kPrefix.size()) != kPrefix) return {-1, -1};
  const std::string rest(r.substr(kPrefix.size()));
  const auto colon = rest.find(':');
  if (colon == std::string::npos) return {-1, -1};
  return {std::stoi(rest.substr(0, colon)), std::stoi(rest.substr(colon + 1))};
}

class ReloadSubnet final : public merit::subnet_sdk::Subnet {
 public:
  ReloadSubnet(std::string_view, Role) {
#ifdef MERIT_TEST_CREATE_FAILS
    throw std::runtime_error("this build cannot start");
#endif
  }

  std::vector<Reply> handleBatch(std::span<const ByteSpan> requests) override {
    std::vector<Reply> replies;
    for (ByteSpan request : requests) {
      const auto [entered, release] = blockFds(text(request));
      if (entered >= 0) {
        char byte = 1;
        if (::write(entered, &byte, 1) != 1 || ::read(release, &byte, 1) != 1) {
          throw std::runtime_error("block: pipe failed");
        }
        replies.push_back(Reply::ok(buffer(kTag)));
      } else {
        replies.push_back(Reply::ok(buffer(std::string(kTag) + ":" + std::string(text(request)))));
      }
    }
    return replies;
  }

  merit::subnet_sdk::Challenge makeChallenge() override {
    return {buffer("ping"), buffer(kTag)};
  }

  double scoreResponse(ByteSpan expectation, ByteSpan response) override {
    return text(expectation) == kTag && text(response) == std::string(kTag) + ":ping" ? 1.0 : 0.0;
  }
};

}  // namespace

MERIT_SUBNET_PLUGIN(ReloadSubnet, MERIT_TEST_NAME, MERIT_TEST_VERSION)
