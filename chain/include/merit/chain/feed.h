// The new-block feed: announces each block to ZeroMQ SUB subscribers as two frames, the topic
// "block" and the header as JSON (the same object chain_getHead returns). Served by
// net::Publisher, which takes nothing from subscribers but bounded subscriptions and keeps a
// bounded queue per subscriber (docs/PROTOCOL.md, "Transport limits").
//
// Thread-safety: publish() may be called from any thread; the publisher's own I/O thread owns
// the socket.
#pragma once

#include <memory>
#include <string>

#include "merit/chain/block.h"
#include "merit/net/publisher.h"
#include "merit/util/result.h"

namespace merit::chain {

class BlockFeed {
 public:
  static Result<std::unique_ptr<BlockFeed>> bind(const std::string& endpoint,
                                                 net::PublisherConfig config = {});
  ~BlockFeed();
  BlockFeed(const BlockFeed&) = delete;
  BlockFeed& operator=(const BlockFeed&) = delete;

  // The endpoint actually bound (resolves a wildcard port).
  const std::string& endpoint() const { return m_publisher->endpoint(); }
  void publish(const Block& block);
  net::PublisherStats stats() const { return m_publisher->stats(); }

 private:
  explicit BlockFeed(std::unique_ptr<net::Publisher> publisher) : m_publisher(std::move(publisher)) {}
  std::unique_ptr<net::Publisher> m_publisher;
};

// The header as JSON text (shared by the feed and RPC).
std::string headerJsonText(const BlockHeader& h, std::size_t extrinsics);

}  // namespace merit::chain
