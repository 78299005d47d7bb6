// A small HTTP/1.1 server for the chain's JSON-RPC: one event-loop thread owns every socket
// (epoll, non-blocking I/O), a bounded pool of worker threads runs handlers, and a request that
// waits for a future event (a long poll) is parked in the loop instead of holding a worker.
//
// Deliberately narrow: request bodies are Content-Length only (no chunked uploads), one request
// at a time per connection (pipelined bytes wait in the buffer until the answer is written),
// keep-alive by default, no TLS (bind to loopback or put a proxy in front).
//
// Limits, all enforced here so no peer can hold more than its share (see HttpLimits):
// connections in all and per address, a total deadline for headers + body of each request
// (slow-loris), an idle deadline between requests, a write deadline for the answer, a deadline
// from arrival to the start of handling, at most `maxRunningPerAddress` handlers of one address
// running at once, workers given to the address that has used the least handler time (fair
// queuing: no address can starve another, and cheap calls pass heavy floods), bounded queues, and a bound on
// parked long polls (in all and per address).
//
// Thread-safety: start()/stop() from one owning thread. The handler runs on worker threads
// (several at once); a Parked::poll runs on the loop thread and must be cheap and non-blocking.
// wake() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "merit/chain/rpc_server.h"
#include "merit/util/result.h"

namespace merit::chain {

using HttpLimits = RpcLimits;  // declared with the RPC server, which is what configures it

// The request line and headers at the start of a connection's bytes (views into them).
struct HttpHead {
  std::string_view method;
  std::string_view target;
  bool keepAlive = true;        // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only if asked
  bool expectContinue = false;  // "Expect: 100-continue"
  std::size_t bodyLength = 0;   // Content-Length (0 if absent, except POST which needs one)
  std::size_t headerBytes = 0;  // through the blank line; the body follows
};
struct HttpParseError {
  int status;  // the HTTP status to answer (400, 411, 413, 431, 501); the connection is closed
  std::string message;
};
// monostate: the headers are not complete yet (and within maxHeaderBytes so far).
using HttpParse = std::variant<std::monostate, HttpHead, HttpParseError>;
// Pure, for the server and its fuzz target: untrusted bytes in, never throws, bounded work.
HttpParse parseHttpHead(std::string_view in, std::size_t maxHeaderBytes, std::size_t maxBodyBytes);

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // "/", "/health"
  std::string body;
  std::string peer;  // the client's IP address
};

struct HttpResponse {
  int status = 200;
  std::string body;  // sent as application/json; empty with status 204
};

// A request that answers later: the loop calls poll(false) after every wake() and poll(true)
// once `deadline` has passed (which must answer). poll runs on the loop thread.
struct Parked {
  std::chrono::steady_clock::time_point deadline;
  std::function<std::optional<HttpResponse>(bool expired)> poll;
};

using HttpOutcome = std::variant<HttpResponse, Parked>;
using HttpHandler = std::function<HttpOutcome(const HttpRequest&)>;

class HttpServer {
 public:
  // Binds host:port (0 = any free port) and starts the loop and the workers. `refusal(status,
  // message)` makes the body of an error the server answers on its own (overload, deadlines, bad
  // HTTP), so clients get a clear error in the protocol they speak.
  static Result<std::unique_ptr<HttpServer>> start(
      const std::string& host, int port, HttpLimits limits, HttpHandler handler,
      std::function<std::string(int status, const std::string& message)> refusal);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // Re-polls parked requests soon. Thread-safe and cheap; safe to call after stop() and even
  // after the server is destroyed through the function returned by waker().
  void wake();
  std::function<void()> waker() const;
  // Closes every connection and joins all threads. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace merit::chain
