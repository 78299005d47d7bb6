// JSON-RPC 2.0 for the dev chain: the method handlers (transport-free, so tests and fuzzers can
// call them directly) and the HTTP server that carries them. docs/RPC.md lists every method.
//
// Thread-safety: RpcHandler::handle may be called from any number of threads at once (it only
// reads through Node, which is thread-safe). RpcServer runs cpp-httplib's own thread pool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "merit/chain/node.h"
#include "merit/util/result.h"

namespace httplib {
class Server;
}

namespace merit::chain {

inline constexpr std::size_t kMaxRpcBodyBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxRpcBatch = 100;
inline constexpr std::uint64_t kMaxRpcWaitMs = 120'000;

class RpcHandler {
 public:
  // `feedEndpoint` is announced in system_info so clients can subscribe to the block feed.
  explicit RpcHandler(Node& node, std::string feedEndpoint = {}) : m_node(node), m_feedEndpoint(std::move(feedEndpoint)) {}
  // One HTTP body in, one out: a single request or a batch. Malformed input gets a JSON-RPC
  // error object, never an exception. Returns an empty string when there is nothing to answer
  // (only notifications).
  std::string handle(std::string_view body) const;

 private:
  Node& m_node;
  std::string m_feedEndpoint;
};

class RpcServer {
 public:
  // Binds host:port (port 0 = any free port) and serves in a background thread.
  static Result<std::unique_ptr<RpcServer>> start(Node& node, const std::string& host, int port,
                                                  std::string feedEndpoint = {});
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  int port() const { return m_port; }
  void stop();

 private:
  RpcServer(Node& node, std::string feedEndpoint);
  RpcHandler m_handler;
  std::unique_ptr<httplib::Server> m_server;
  std::thread m_thread;
  int m_port = 0;
};

}  // namespace merit::chain
