// The new-block feed: a ZeroMQ PUB socket that announces each block as two frames, the topic
// "block" and the header as JSON (the same object chain_getHead returns).
//
// Thread-safety: construct on any thread, then call publish() only from the block producer's
// thread (the socket belongs to that thread from the first publish on).
#pragma once

#include <memory>
#include <string>

#include "merit/chain/block.h"
#include "merit/util/result.h"

namespace merit::chain {

class BlockFeed {
 public:
  static Result<std::unique_ptr<BlockFeed>> bind(const std::string& endpoint);
  ~BlockFeed();
  BlockFeed(const BlockFeed&) = delete;
  BlockFeed& operator=(const BlockFeed&) = delete;

  // The endpoint actually bound (resolves a wildcard port).
  const std::string& endpoint() const { return m_endpoint; }
  void publish(const Block& block);

 private:
  BlockFeed() = default;
  void* m_context = nullptr;
  void* m_socket = nullptr;
  std::string m_endpoint;
};

// The header as JSON text (shared by the feed and RPC).
std::string headerJsonText(const BlockHeader& h, std::size_t extrinsics);

}  // namespace merit::chain
