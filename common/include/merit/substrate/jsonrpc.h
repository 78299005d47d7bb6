// JSON-RPC 2.0 client for a Substrate node: over WebSocket (calls and subscriptions) or plain
// HTTP (calls only), with a deadline on everything.
//
// Design. Each RpcClient owns one background I/O thread running an asio io_context; the socket,
// the table of pending calls (request id -> completion) and the subscriptions belong to that
// thread alone. A caller never touches the socket: call() posts its request to the I/O thread
// and then waits on its own deadline for the answer, so a half-dead peer costs a caller at most
// its timeout, never more. Behind that, the I/O thread:
//   - pipelines requests over WebSocket (callMany writes every request at once) and matches the
//     answers by id, in any order; over HTTP it keeps one keep-alive connection, sends one
//     request at a time and sends callMany as one JSON-RPC batch array;
//   - pings the peer every pingInterval over WebSocket; no pong (nor any other frame) within
//     callTimeout closes the connection, since a TCP connection can stay "up" for many minutes
//     after the peer or the path died;
//   - on a connection loss fails every pending call at once with kUnavailable, ends the
//     subscriptions that cannot be resumed (onEnd with kUnavailable), and re-dials in the
//     background on the BackoffPolicy schedule, logging one rate-limited line per retry. Calls
//     made while disconnected fail at once with kUnavailable; they are not queued. After a
//     successful re-dial the subscriptions made with resubscribe=true are made again;
//   - ignores, with a rate-limited debug log and without dropping the connection, what a
//     correct node would not send: answers to unknown ids, notifications for unknown
//     subscriptions, binary or non-JSON frames. A frame or HTTP body larger than
//     maxMessageBytes closes the connection (the limit bounds our memory, not the node's).
// Boost.Beast/Asio is included by the implementation file only; docs/SUBTENSOR.md says why Beast.
//
// Thread-safety: every member function may be called from any thread, except from inside a
// callback (see subscribe()). Callbacks run on the client's I/O thread.
//
// JSON-RPC error responses are returned as Error{kInvalidArgument, "rpc error <code>: <message>"}
// optionally followed by " (data: <json>)"; rpcErrorCode() recovers <code>. A missing code reads
// as 0 (Chopsticks' HTTP endpoint answers errors without one).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "merit/util/backoff.h"
#include "merit/util/result.h"

namespace merit::substrate {

struct RpcOptions {
  // TCP connect + WebSocket handshake (HTTP: TCP connect), for connect() and every re-dial.
  std::chrono::milliseconds connectTimeout{5000};
  // Default deadline of one call, callMany or subscribe.
  std::chrono::milliseconds callTimeout{15000};
  // Re-dial schedule after a connection loss, in milliseconds.
  BackoffPolicy reconnect{.initial = 250, .cap = 10'000, .jitterPercent = 20};
  // A bigger WebSocket message or HTTP response body is an error that closes the connection.
  std::size_t maxMessageBytes = std::size_t{64} << 20;
  // WebSocket ping period to detect a dead peer; no pong within callTimeout -> the connection is
  // closed and re-dialled.
  std::chrono::milliseconds pingInterval{15000};
};

// Counters since connect(), for benchmarks and logs.
struct RpcStats {
  std::uint64_t calls = 0;       // requests issued (callMany counts each of its calls)
  std::uint64_t roundTrips = 0;  // call(), callMany() and subscribe() each count one
  std::uint64_t reconnects = 0;  // successful re-dials after a connection loss
  std::uint64_t failures = 0;    // requests that ended in an error (transport or JSON-RPC)
};

// The server's JSON-RPC error code from an error returned by call()/callMany() for a JSON-RPC
// error response; nullopt for any other error (timeout, connection loss...).
std::optional<std::int64_t> rpcErrorCode(const Error& error);

// See RpcClient::subscribe() (declared out of the class so it can be a default argument).
struct SubscribeOptions {
  bool resubscribe = false;  // make the subscription again after each re-dial
};

class RpcClient {
 public:
  // url: ws://host:port[/path] (WebSocket: calls and subscriptions) or http://host:port[/path]
  // (calls only). wss:// and https:// are refused with kInvalidArgument (no TLS yet). Waits up
  // to options.connectTimeout for the first connection: kUnavailable if the node refuses or is
  // unreachable, kDeadlineExceeded if it did not complete the handshake in time.
  static Result<std::unique_ptr<RpcClient>> connect(const std::string& url, RpcOptions options = {});

  // Closes the connection, fails pending calls (kUnavailable), ends every subscription (onEnd
  // with kUnavailable "client closed") and joins the I/O thread. Must not run on a callback.
  ~RpcClient();

  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // One call; the answer's "result". Null params are sent as [] (JSON-RPC has no null params).
  // kDeadlineExceeded after `timeout` (default callTimeout), kUnavailable when the connection is down or lost
  // before the answer (a re-dial is under way), kInvalidArgument for a JSON-RPC error response (see
  // rpcErrorCode()).
  Result<nlohmann::json> call(std::string_view method, nlohmann::json params = nlohmann::json::array(),
                              std::optional<std::chrono::milliseconds> timeout = {});

  // Several calls sent at once (pipelined over WebSocket, one batch array over HTTP); answers
  // in the order of `calls`; one deadline for all. The outer error is a transport failure
  // (kDeadlineExceeded if any answer is missing at the deadline, kUnavailable on a connection
  // loss); a JSON-RPC error for one call is that call's inner error.
  Result<std::vector<Result<nlohmann::json>>> callMany(
      const std::vector<std::pair<std::string, nlohmann::json>>& calls,
      std::optional<std::chrono::milliseconds> timeout = {});

  // Subscriptions (WebSocket only; kInvalidArgument over HTTP), e.g. chain_subscribeNewHeads /
  // chain_unsubscribeNewHeads, author_submitAndWatchExtrinsic / author_unwatchExtrinsic.
  // Returns a handle once the node confirmed the subscription (deadline callTimeout; on any
  // error no callback is ever called). onItem gets each notification's "result". onEnd is called
  // exactly once when the subscription ends: kUnavailable on a connection loss (unless
  // resubscribe) or when the client is destroyed, kNotFound "unsubscribed" after unsubscribe(),
  // or the node's error when a resubscription is refused. With resubscribe=true the subscription
  // is made again after each re-dial (new heads; items in between are lost); with false a
  // connection loss ends it (an extrinsic watch cannot be resumed: check the chain instead).
  //
  // Callbacks run on the client's I/O thread, one at a time: they must return quickly (no I/O,
  // no waiting) and must not call call()/callMany()/subscribe() on this client (those fail with
  // kInternal from the I/O thread); unsubscribe() is allowed. Hand work to another thread.
  using SubscribeOptions = substrate::SubscribeOptions;
  Result<std::uint64_t> subscribe(std::string_view method, nlohmann::json params,
                                  std::string unsubscribeMethod,
                                  std::function<void(const nlohmann::json&)> onItem,
                                  std::function<void(const Error&)> onEnd, SubscribeOptions options = {});
  // Ends a subscription: sends the unsubscribe method (not waiting for its answer) and calls
  // onEnd. When it returns (from a thread other than the I/O thread) no more onItem call for
  // this handle will start. Unknown or already ended handles are ignored.
  void unsubscribe(std::uint64_t handle);

  // WebSocket: the connection is up. HTTP: the last request or dial reached the node.
  bool connected() const;
  RpcStats stats() const;
  const std::string& url() const;

  class Impl;  // in jsonrpc.cpp, which alone includes Boost

 private:
  explicit RpcClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace merit::substrate
