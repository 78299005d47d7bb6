// A subscriber to merit-chain's block feed (ZeroMQ PUB, topic "block", then the header as JSON;
// docs/RPC.md "Block feed"), for the clients that follow the chain: the metagraph cache and the
// dashboard. The feed is a hint, not a log: messages may be dropped and a restarted node starts a
// new one, so callers also poll the head over RPC after a silence.
//
// Thread-safety: not thread-safe; one thread owns a feed.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace merit::rpc {

class BlockFeed {
 public:
  // Subscribes to `endpoint` (e.g. tcp://127.0.0.1:9934). An empty endpoint, or one ZeroMQ cannot
  // connect to, gives a feed that is not connected(); error() says why for the latter.
  explicit BlockFeed(const std::string& endpoint);
  ~BlockFeed();
  BlockFeed(const BlockFeed&) = delete;
  BlockFeed& operator=(const BlockFeed&) = delete;

  bool connected() const { return m_socket != nullptr; }
  const std::string& error() const { return m_error; }

  // Waits up to `timeout` for the feed, then takes every queued message: returns the newest
  // header's JSON text, or nullopt when nothing arrived. Without a connection it just sleeps.
  std::optional<std::string> waitNewest(std::chrono::milliseconds timeout);

 private:
  void* m_context = nullptr;
  void* m_socket = nullptr;
  std::string m_error;
};

}  // namespace merit::rpc
