#include "merit/chain/feed.h"

#include <nlohmann/json.hpp>

#include "merit/util/log.h"

namespace merit::chain {

std::string headerJsonText(const BlockHeader& h, std::size_t extrinsics) {
  nlohmann::json j = {{"number", h.number},
                      {"hash", "0x" + toHex(h.hash())},
                      {"parent_hash", "0x" + toHex(h.parent)},
                      {"timestamp_ms", h.timestampMs},
                      {"state_root", "0x" + toHex(h.stateRoot)},
                      {"extrinsics", extrinsics}};
  return j.dump();
}

Result<std::unique_ptr<BlockFeed>> BlockFeed::bind(const std::string& endpoint, net::PublisherConfig config) {
  auto publisher = net::Publisher::bind(endpoint, config);
  if (!publisher) {
    return fail(ErrorCode::kUnavailable,
                "cannot bind block feed on " + endpoint + ": " + publisher.error().message());
  }
  return std::unique_ptr<BlockFeed>(new BlockFeed(std::move(*publisher)));
}

BlockFeed::~BlockFeed() = default;

void BlockFeed::publish(const Block& block) {
  std::string body = headerJsonText(block.header, block.extrinsics.size());
  // Never blocks: a full hand-over queue, or a full subscriber, drops the message.
  if (!m_publisher->publish("block", asBytes(body))) {
    MERIT_LOG_RATE_LIMITED(log::Category::kChain, log::Level::kDebug,
                           "block feed: publish queue full, block {} dropped", block.header.number);
  }
}

}  // namespace merit::chain
