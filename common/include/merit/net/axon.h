// The axon: the miner's server. A ROUTER-like ZMTP server (our own engine over a ZMQ_STREAM
// socket, so every byte a peer can make us hold is bounded; libzmq DEALER clients see a ROUTER)
// that admits, authenticates and queues
// requests, runs subnet handlers on a bounded worker pool in batches, and sends authenticated
// responses.
//
// Thread-safety: start(), endpoint(), stats() and stop() may be called from any thread. Inside,
// one I/O thread owns the ROUTER socket, the per-peer buckets, the handshake memory and the
// sessions; the callers' nonces and token buckets are shared with the workers under a mutex.
// Worker threads check signed requests' signatures, admit them to the queue and run handlers;
// they reach the socket only through a bounded, mutex-guarded response queue plus an eventfd
// wake-up. Handlers run on worker threads, possibly several batches at once, and must be
// thread-safe themselves.
//
// Admission, cheapest check first (docs/PROTOCOL.md, "Check order"): size → decode with reader
// limits → target is me → timestamp window → caller policy → per-peer-address token bucket →
// nonce strictly increasing (handshakes: client nonce not seen in the window) [all on the I/O
// thread] → authenticator (signatures on a worker, MACs on the I/O thread) → nonce
// re-checked and recorded atomically → per-caller token bucket → body hash → module known →
// priority queue (bounded) → handler
// (batched) → authenticated response. Rejections before the authenticator passes are not
// signed, so a stranger cannot make the axon sign anything. Nothing before the authenticator is
// charged to the caller a message names: a forger spends only the allowance of its own network
// address, never the allowance of the validator it claims to be.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "merit/crypto/any_key.h"
#include "merit/net/caller_policy.h"
#include "merit/net/context.h"
#include "merit/util/clock.h"
#include "merit/util/result.h"
#include "merit/wire/envelope.h"

namespace merit::net {

// What a handler returns for one request. Only wire statuses (OK..INTERNAL) may be used;
// anything else is sent as INTERNAL.
struct Reply {
  wire::Status status = wire::Status::kOk;
  std::string message;  // at most wire::kMaxMessageTextBytes (longer is truncated)
  Bytes body;
};

// Handles a batch of authenticated requests for one module and version; returns exactly one
// Reply per request, in order. A throw or a wrong count answers the whole batch with INTERNAL.
using BatchHandler = std::function<std::vector<Reply>(std::span<const wire::Request> batch)>;

struct ModuleHandler {
  std::string module;  // wire::isValidModuleName
  std::uint32_t version = 0;
  BatchHandler handler;
  // When set, the version served is read from here for each request instead of `version`: a
  // miner whose subnet plugin is reloaded with a new payload version serves the new one at once.
  std::shared_ptr<const std::atomic<std::uint32_t>> liveVersion{};
};

struct AxonConfig {
  // Where to bind; "tcp://127.0.0.1:*" picks an ephemeral port (read it back with endpoint()).
  std::string bindEndpoint = "tcp://127.0.0.1:*";
  std::size_t workerThreads = 2;
  // The workers also check the signatures of signed requests (step 8 and the rest of admission,
  // before taking a batch), so the I/O thread does not; a connection's requests are checked one
  // at a time, in order, and different connections' in parallel. When every worker is inside a
  // handler, the I/O thread checks them itself. Signed requests waiting for or in verification; beyond it new
  // ones are answered OVERLOADED (unsigned: nothing is authenticated yet).
  std::size_t maxPendingVerifications = 1024;
  std::size_t queueCapacity = 1024;           // requests admitted but not yet handled
  std::size_t maxBatchSize = 1;               // requests per handler call
  std::chrono::milliseconds maxBatchWait{0};  // how long a worker waits to fill a batch
  // Our own limit on a frame: larger ones are answered BAD_REQUEST without being decoded.
  std::size_t maxMessageBytes = 16u << 20;
  // Transport limits (docs/PROTOCOL.md, "Transport limits"), enforced as bytes arrive: a peer
  // sending a frame larger than transportMaxMessageBytes, a message of more frames than
  // maxFramesPerMessage or more bytes than transportMaxMessageBytes (plus the correlation id) is
  // disconnected (no answer possible). Together they bound what one connection can make the
  // axon hold; maxConnections and maxBufferedBytes bound all connections together.
  std::size_t transportMaxMessageBytes = 32u << 20;
  std::size_t maxFramesPerMessage = 16;
  std::size_t maxConnections = 1024;
  std::size_t maxConnectionsPerAddress = 64;           // per peer IP
  std::size_t maxBufferedBytes = 128u << 20;           // partial messages of all peers together
  std::chrono::milliseconds handshakeTimeout{10'000};  // ZMTP/CURVE handshake, from connect
  std::chrono::milliseconds maxPastSkew{10'000};       // oldest timestamp accepted
  std::chrono::milliseconds maxFutureSkew{2'000};      // newest timestamp accepted
  std::chrono::milliseconds maxTimeout{60'000};        // caps the caller's timeoutMs
  double rateLimitPerSecond = 200.0;     // per-caller token bucket refill (after authentication)
  double rateLimitBurst = 400.0;         // and capacity
  std::size_t maxTrackedCallers = 4096;  // token buckets and nonce entries
  // Pre-authentication token bucket per peer network address (the peer's IP as the transport
  // reports it, without the port; per connection where it has none): bounds the authenticator
  // work (signature checks) any one host can cause. Several validators behind one address share it, so it is
  // larger than the per-caller one.
  double peerRateLimitPerSecond = 1000.0;
  double peerRateLimitBurst = 2000.0;
  std::size_t maxTrackedPeers = 4096;
  // Session handshake client nonces remembered for the timestamp window (replay protection);
  // when full, new handshakes are answered OVERLOADED until old ones leave the window.
  std::size_t maxRememberedHandshakes = 65'536;
  std::size_t maxSessions = 4096;
  std::size_t maxSessionsPerCaller = 4;
  std::chrono::milliseconds sessionIdleTimeout{10 * 60'000};
  // CurveZMQ server secret key; when set, only CURVE clients can connect.
  std::optional<ByteArray<32>> curveSecretKey;
  // With curveSecretKey: called by the axon's transport (our ZMTP engine, on the axon's I/O
  // thread) with a client's long-term CURVE public key once its INITIATE is verified; false (or a
  // throw) refuses the handshake: the transport sends an ERROR command and closes the connection
  // before a single message frame of it is read. Other threads may update what it consults while
  // it runs, so it must be thread-safe, fast, and must not block on I/O. Empty: every CURVE
  // client is admitted. Shield mode: the miner backs it with a ShieldAllowlist
  // (merit/net/shield.h); refusals are counted in AxonStats::curveClientsRefused.
  std::function<bool(const ByteArray<32>& clientLongTermPublicKey)> curveClientAuthorizer;
  std::chrono::milliseconds drainTimeout{5'000};
  // How often an idle I/O thread wakes to run its timers (transport handshake and close deadlines,
  // session expiry, a manual clock's drain deadline); requests, replies and stop() wake it at once.
  // One axon per process pays nothing to notice at 20 ms; a process hosting hundreds of axons
  // (bench_fanout) raises it, since each idle wake costs a few microseconds per axon.
  std::chrono::milliseconds idleWake{20};
  // Queue priority; default: the stake from the caller policy.
  std::function<std::uint64_t(const wire::RequestHeader&, const CallerDecision&)> priority;
};

// Upper bounds (ms) of the service-time histogram buckets in AxonStats; a last bucket holds the rest.
inline constexpr std::array<double, 10> kServiceTimeBucketsMs = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000};

// Counters, for tests and metrics. Indexed by wire::Status (0..9).
struct AxonStats {
  std::array<std::uint64_t, 10> responses{};  // responses sent, by status
  std::size_t queueDepth = 0;                 // requests admitted and waiting for a worker now
  std::size_t verifyDepth = 0;                // signed requests waiting for or in signature verification
  // Admission to response, for requests that reached a worker: counts per kServiceTimeBucketsMs
  // bucket (non-cumulative, the last one for slower), their sum and count.
  std::array<std::uint64_t, kServiceTimeBucketsMs.size() + 1> serviceTimeBuckets{};
  double serviceTimeSumMs = 0;
  std::uint64_t serviceTimeCount = 0;
  std::uint64_t sessionsOpened = 0;
  std::uint64_t handlerBatches = 0;
  std::uint64_t framesDropped = 0;  // frames with no usable reply address/format
  std::size_t connections = 0;      // transport connections open now
  // Closed for breaking the protocol or a transport limit, or refused by curveClientAuthorizer.
  std::uint64_t peersDisconnected = 0;
  std::uint64_t connectionsRefused = 0;   // refused at connect: over maxConnections(PerAddress)
  std::uint64_t curveClientsRefused = 0;  // CURVE handshakes refused by curveClientAuthorizer
  std::uint64_t handshakesReplayed = 0;   // session handshakes refused as replays
};

class Axon {
 public:
  // Binds and starts the I/O thread and workers. `clock` gives wall time for timestamp checks
  // and monotonic time for everything else that is timed: queue deadlines, rate-limit refills,
  // session idle expiry, the batch-fill wait, the drain timeout and the service-time histogram
  // (a ManualClock makes them all move only when a test says). Fails with kInvalidArgument for a bad
  // configuration and kUnavailable if the endpoint cannot be bound.
  static Result<std::unique_ptr<Axon>> start(AxonConfig config, crypto::AnyPrivateKey hotkey,
                                             std::shared_ptr<const CallerPolicy> policy,
                                             std::vector<ModuleHandler> modules,
                                             std::shared_ptr<const Clock> clock,
                                             std::shared_ptr<Context> context = nullptr);
  // Stops with a graceful drain.
  ~Axon();
  Axon(const Axon&) = delete;
  Axon& operator=(const Axon&) = delete;

  // The bound endpoint, e.g. "tcp://127.0.0.1:41234".
  const std::string& endpoint() const;
  const wire::Hotkey& hotkey() const;
  AxonStats stats() const;

  // Graceful drain: new requests are answered OVERLOADED ("draining"), queued and running work
  // finishes and is answered (up to drainTimeout; work still queued then is answered
  // OVERLOADED), then the socket closes. Waits for running handlers to return. Idempotent.
  void stop();

  class Impl;

 private:
  explicit Axon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace merit::net
