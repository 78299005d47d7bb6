// JSON-RPC 2.0 for the dev chain: the method handlers (transport-free, so tests and fuzzers can
// call them directly) and the HTTP server that carries them. docs/RPC.md lists every method.
//
// Thread-safety: RpcHandler's methods may be called from any number of threads at once (it only
// reads through Node, which is thread-safe). RpcServer runs its own HTTP/1.1 server: one epoll
// event-loop thread owns every connection, a small worker pool runs handlers, long polls wait in
// the loop without a thread (docs/RPC.md, "Server model and limits").
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "merit/chain/node.h"
#include "merit/util/result.h"

namespace merit::chain {

class HttpServer;

inline constexpr std::size_t kMaxRpcBodyBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxRpcBatch = 100;
inline constexpr std::uint64_t kMaxRpcWaitMs = 120'000;
// chain_waitForBlock for a block further ahead of the head than this is refused: nobody needs to
// wait minutes for a block, and a parked request is a held connection.
inline constexpr std::uint64_t kMaxRpcWaitBlocksAhead = 64;
// The largest answer the server builds (a whole batch counts as one answer). A metagraph with
// weights and bonds of a large subnet is refused with error -32003 instead of being built.
inline constexpr std::size_t kMaxRpcResponseBytes = 16 * 1024 * 1024;

// A long poll (chain_waitForBlock, author_submitAndWait sent alone) that the transport may park
// instead of blocking a thread: see RpcHandler::start and finish.
struct RpcWait {
  enum class Kind { kBlock, kStatus };
  Kind kind = Kind::kBlock;
  std::uint64_t number = 0;  // kBlock: the block waited for
  crypto::Hash256 hash{};    // kStatus: the extrinsic waited for
  std::chrono::steady_clock::time_point deadline;
  std::string id;  // the request's id as JSON text
};

struct RpcStart {
  std::string body;             // the answer (empty: nothing to send), unless `wait` is set
  std::optional<RpcWait> wait;  // set: answer later with RpcHandler::finish
};

// The HTTP server's limits (defaults suit a subnet of 4096 neurons plus operators on one node).
// Every one is enforced per connection or per client IP address: see docs/RPC.md.
struct RpcLimits {
  std::size_t workers = 4;                              // handler threads (handlers never block on a wait)
  std::size_t maxConnections = 4096;                    // in all; more are accepted and closed at once
  std::size_t maxConnectionsPerAddress = 1024;          // per client IP address
  std::size_t maxHeaderBytes = 16 * 1024;               // request line + headers
  std::size_t maxBodyBytes = kMaxRpcBodyBytes;          // Content-Length above this: 413
  std::chrono::milliseconds readDeadline{10'000};       // first byte of a request -> whole body read
  std::chrono::milliseconds idleTimeout{60'000};        // keep-alive connection with no request
  std::chrono::milliseconds writeDeadline{10'000};      // answer ready -> answer fully sent
  std::chrono::milliseconds queueDeadline{10'000};      // request read -> a worker starts it (else 503)
  std::size_t maxRunningPerAddress = 2;                 // handlers of one address running at once
  std::size_t maxQueuedPerAddress = 1024;               // requests of one address waiting for a worker
  std::size_t maxQueued = 8192;                         // in all
  std::size_t maxParked = 4096;                         // parked long polls in all
  std::size_t maxParkedPerAddress = 256;                // and per address
  std::size_t maxResponseBytes = kMaxRpcResponseBytes;  // larger answers: error -32003
  // Request and answer bytes held for all connections together; above it, requests and answers
  // over 64 KiB are refused with 503 (smaller ones always pass), so memory stays bounded.
  std::size_t maxBufferedBytes = 256 * 1024 * 1024;
};

class RpcHandler {
 public:
  // `feedEndpoint` is announced in system_info so clients can subscribe to the block feed.
  // Answers larger than `maxResponseBytes` are refused with error -32003 (see kMaxRpcResponseBytes).
  explicit RpcHandler(Node& node, std::string feedEndpoint = {},
                      std::size_t maxResponseBytes = kMaxRpcResponseBytes)
      : m_node(node), m_feedEndpoint(std::move(feedEndpoint)), m_maxResponseBytes(maxResponseBytes) {}
  // One HTTP body in, one out: a single request or a batch. Malformed input gets a JSON-RPC
  // error object, never an exception. Returns an empty string when there is nothing to answer
  // (only notifications).
  // Long polls wait here, blocking the calling thread (capped at kMaxRpcWaitMs).
  std::string handle(std::string_view body) const;

  // Like handle(), but never waits: a long poll sent alone comes back as a RpcWait to complete
  // with finish(). Inside a batch long polls are refused (-32600); a wait for a block more than
  // kMaxRpcWaitBlocksAhead ahead of the head is refused (-32602).
  RpcStart start(std::string_view body) const;
  // The answer to a parked long poll once its event happened, or (expired = true) the answer at
  // its deadline; nullopt while it should keep waiting. Cheap and non-blocking.
  std::optional<std::string> finish(const RpcWait& wait, bool expired) const;

 private:
  Node& m_node;
  std::string m_feedEndpoint;
  std::size_t m_maxResponseBytes;
};

class RpcServer {
 public:
  // Binds host:port (port 0 = any free port) and serves in background threads. Registers a block
  // listener on `node` that wakes parked long polls (harmless after the server is gone).
  static Result<std::unique_ptr<RpcServer>> start(Node& node, const std::string& host, int port,
                                                  std::string feedEndpoint = {}, RpcLimits limits = {});
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  int port() const { return m_port; }
  void stop();

 private:
  RpcServer(Node& node, std::string feedEndpoint, std::size_t maxResponseBytes);
  RpcHandler m_handler;
  std::unique_ptr<HttpServer> m_http;
  int m_port = 0;
};

}  // namespace merit::chain
