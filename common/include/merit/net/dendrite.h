// The dendrite: the validator's client. Fans one round of requests out to many axons from the
// calling thread, with one total deadline, and authenticates every answer against the target's
// hotkey.
//
// Transport: one DEALER-like connection per axon, run by our own ZMTP engine over a plain
// non-blocking TCP socket, all of a dendrite's connections in one epoll set driven by the calling
// thread (src/net/zmtp_tcp.h; Linux only), with NULL or CurveZMQ security; axons see a libzmq
// DEALER.
//
// Thread-safety: a Dendrite is used by one thread at a time (it owns its sockets). Use one
// Dendrite per thread; several may share a Context. Nonces are per Dendrite and strictly
// increasing, so two Dendrites with the same hotkey querying the same axon may see STALE.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "merit/crypto/any_key.h"
#include "merit/net/context.h"
#include "merit/util/clock.h"
#include "merit/util/result.h"
#include "merit/wire/envelope.h"

namespace merit::net {

enum class AuthMode : std::uint8_t {
  kSigned,   // every request and response carries a signature (the signer's scheme)
  kSession,  // one signed handshake per connection, then keyed-BLAKE2b MACs
};

// One miner to query. The hotkey and CURVE key come from its axon info on chain.
struct AxonTarget {
  std::string endpoint;                         // "tcp://host:port"
  crypto::AnyPublicKey hotkey;                  // sr25519 or ecdsa
  std::optional<ByteArray<32>> curvePublicKey;  // set: the connection is CurveZMQ-encrypted
  // The miner runs in shield mode (axon protocol 2 on chain; needs curvePublicKey): connect with
  // the CURVE client key derived from our hotkey and the miner's (merit/net/shield.h) instead of
  // an ephemeral one, so the miner's transport admits us. Both hotkeys must be ecdsa.
  bool shield = false;
};

struct OutboundRequest {
  std::uint16_t netuid = 0;
  std::string module;
  std::uint32_t moduleVersion = 0;
  Bytes body;
};

// Who produced a result's status: the axon (in a response) or the dendrite itself (TIMEOUT at
// the deadline, UNAVAILABLE, INVALID_RESPONSE, or INTERNAL when we failed to send).
enum class Origin : std::uint8_t { kAxon, kDendrite };

struct QueryResult {
  std::size_t index = 0;  // position in the targets span
  wire::Status status = wire::Status::kInternal;
  std::string message;
  Bytes body;
  // Send → receive on the monotonic clock; zero if the request was never sent.
  std::chrono::nanoseconds latency{0};
  // True if the response was verified against the target's hotkey (signature or session MAC).
  // Unauthenticated results are pre-authentication rejections or local outcomes: never score a
  // miner as having answered on them.
  bool authenticated = false;
  Origin origin = Origin::kDendrite;
  // From handing the request to the transport to the round's deadline: the time the miner was given.
  // Zero if the request was never sent. A TIMEOUT with a small budget is our lateness in
  // sending, not the miner's slowness.
  std::chrono::nanoseconds budget{0};
};

struct DendriteConfig {
  AuthMode mode = AuthMode::kSigned;
  std::chrono::milliseconds idleTimeout{120'000};  // cached connections unused this long close
  std::size_t maxConnections = 4096;
  // Transport limits (docs/PROTOCOL.md, "Transport limits"): a response frame or message
  // larger than maxResponseBytes (plus a little framing) closes that connection as it arrives;
  // partial responses of all connections together stay under maxBufferedBytes (the connection
  // that would pass it is closed). Axons are read only while a query to them is in flight.
  std::size_t maxResponseBytes = 64u << 20;
  std::size_t maxBufferedBytes = 512u << 20;
  // Batch the connections' writes and first reads through io_uring where the build has liburing
  // and the kernel allows it (a seccomp profile may not): a round's system calls are then a small
  // fraction of one per miner instead of a send and a receive each. Off, or where io_uring is
  // refused, plain send(2) and recv(2) do the same work.
  bool batchSystemCalls = true;
};

class Dendrite {
 public:
  using ResultCallback = std::function<void(const QueryResult&)>;

  // `clock` gives request timestamps (wall time) and the idle eviction of cached connections
  // (monotonic time). A query's `deadline` is on std::chrono::steady_clock: it bounds real
  // socket waits, which a manual clock cannot shorten. `context` is only held (callers that share
  // one with their axons may pass it); the dendrite's connections do not use ZeroMQ.
  static Result<std::unique_ptr<Dendrite>> create(crypto::AnyPrivateKey hotkey, DendriteConfig config,
                                                  std::shared_ptr<const Clock> clock,
                                                  std::shared_ptr<Context> context = nullptr);
  ~Dendrite();
  Dendrite(const Dendrite&) = delete;
  Dendrite& operator=(const Dendrite&) = delete;

  // Sends requests[i] (or requests[0] to all, if it has one element) to targets[i] and returns
  // one result per target, in target order, no later than `deadline` (plus the time to build
  // the results). `onResult` (optional, must not throw) sees each result as it is decided. An
  // axon that never connects yields UNAVAILABLE, one that connects but does not answer TIMEOUT;
  // neither delays the others. Every loop of the round is bounded by the deadline, and each
  // connection is read at most a bounded number of bytes per wake-up (and only while a query to
  // it is in flight): an axon that streams junk (unsolicited or malformed messages beyond a small
  // allowance per round, messages over the transport's frame or byte limits) gets
  // INVALID_RESPONSE and its connection closed, and cannot delay anyone else's result. An axon
  // whose transport refuses our CURVE handshake (shield mode) is UNAVAILABLE.
  std::vector<QueryResult> query(std::span<const AxonTarget> targets,
                                 std::span<const OutboundRequest> requests,
                                 std::chrono::steady_clock::time_point deadline,
                                 const ResultCallback& onResult = {});

  const wire::Hotkey& hotkey() const;
  std::size_t connectionCount() const;

  class Impl;

 private:
  explicit Dendrite(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace merit::net
