#include "merit/net/axon.h"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>

#include "merit/crypto/hash.h"
#include "merit/util/log.h"
#include "merit/wire/auth.h"
#include "merit/wire/codec.h"

#include "admission.h"
#include "zmq_context.h"
#include "zmq_util.h"
#include "zmtp.h"

namespace merit::net {

namespace {

using SteadyClock = std::chrono::steady_clock;
using wire::Status;

constexpr std::size_t kMaxChunksPerWake = 512;  // fairness between receiving and sending (8 KiB each)
constexpr int kCloseLingerMs = 1000;            // time given to queued replies at close

// The tag byte and the first 6 key bytes.
std::string shortHex(const wire::Hotkey& k) {
  const ByteView t = k.tagged();
  return toHex(t.first(std::min<std::size_t>(t.size(), 7)));
}

// What one peer may make the axon hold, enforced by our ZMTP engine as bytes arrive (zmtp.h).
// `authorizer` is the CURVE client check the engine calls once a client's INITIATE is verified.
zmtp::ServerConfig transportConfig(const AxonConfig& c, zmtp::CurveAuthorizer authorizer) {
  auto options = std::make_shared<zmtp::Options>();
  options->role = zmtp::Role::kServer;
  options->socketType = "ROUTER";
  options->peerTypes = {"DEALER", "ROUTER", "REQ"};
  options->limits.maxFrameBytes = c.transportMaxMessageBytes;
  options->limits.maxMessageFrames = c.maxFramesPerMessage;
  options->limits.maxMessageBytes = c.transportMaxMessageBytes + wire::kRequestIdSize;
  if (c.curveSecretKey) {
    options->curve = zmtp::curveKeysFromSecret(ByteView(*c.curveSecretKey), std::nullopt);
    options->authorizer = std::move(authorizer);
  }
  zmtp::ServerConfig server;
  server.engine = std::move(options);
  server.maxConnections = c.maxConnections;
  server.maxConnectionsPerAddress = c.maxConnectionsPerAddress;
  server.maxBufferedBytes = c.maxBufferedBytes;
  server.handshakeTimeout = c.handshakeTimeout;
  // Inside libzmq, per connection: 16 received chunks of at most 8 KiB (128 KiB) and 100 whole
  // replies (an honest caller has a handful in flight; a caller that does not read loses them).
  server.receiveQueueChunks = 16;
  server.sendQueueMessages = 100;
  return server;
}

std::string truncated(std::string s) {
  if (s.size() > wire::kMaxMessageTextBytes) s.resize(wire::kMaxMessageTextBytes);
  return s;
}

struct Session {
  wire::SessionId id;
  wire::Hotkey caller;
  wire::SessionKey key;
};

struct SessionEntry {
  std::shared_ptr<const Session> session;
  SteadyClock::time_point lastUsed;
};

// A request admitted after authentication, waiting for a worker.
struct WorkItem {
  std::string routingId;
  wire::RequestId correlation{};
  wire::Request request;
  std::size_t module = 0;
  SteadyClock::time_point deadline;
  std::shared_ptr<const Session> session;  // null in signed mode
  SteadyClock::time_point admitted;        // on the axon's clock, for the service-time histogram
};

// Highest priority first, then first come first served.
struct QueueKey {
  std::uint64_t priority;
  std::uint64_t seq;
  bool operator<(const QueueKey& o) const {
    return priority != o.priority ? priority > o.priority : seq < o.seq;
  }
};

// A signed request that passed steps 1-7, waiting for a worker to check its signature.
struct VerifyItem {
  std::string routingId;
  wire::RequestId correlation{};
  wire::Request request;
  std::uint64_t priority = 0;  // computed on the I/O thread from the caller policy's decision
};

struct Outgoing {
  std::string routingId;
  wire::RequestId correlation{};
  Status status;
  zmq::message_t payload;
};

}  // namespace

class Axon::Impl {
 public:
  Impl(AxonConfig config, crypto::AnyPrivateKey hotkey, std::shared_ptr<const CallerPolicy> policy,
       std::vector<ModuleHandler> modules, std::shared_ptr<const Clock> clock,
       std::shared_ptr<Context> context)
      : m_config(std::move(config)),
        m_key(std::move(hotkey)),
        m_me(m_key.publicKey()),
        m_policy(std::move(policy)),
        m_modules(std::move(modules)),
        m_clock(std::move(clock)),
        m_context(std::move(context)),
        m_peerRateLimits(m_config.peerRateLimitPerSecond, m_config.peerRateLimitBurst,
                         m_config.maxTrackedPeers),
        m_handshakes(m_config.maxRememberedHandshakes, m_config.maxPastSkew),
        m_emptyBodyHash(wire::hashBody({})),
        m_rateLimits(m_config.rateLimitPerSecond, m_config.rateLimitBurst, m_config.maxTrackedCallers),
        m_nonces(m_config.maxTrackedCallers, m_config.maxPastSkew) {}

  ~Impl() {
    stop();
    if (m_eventFd >= 0) ::close(m_eventFd);
  }

  Result<void> open() {
    try {
      MERIT_ASSIGN_OR_RETURN(m_server,
                             zmtp::StreamServer::bind(m_context->impl().zmq(), m_config.bindEndpoint,
                                                      transportConfig(m_config, countingAuthorizer())));
      m_endpoint = m_server->endpoint();
    } catch (const zmq::error_t& e) {
      return fail(ErrorCode::kUnavailable, "cannot bind " + m_config.bindEndpoint + ": " + e.what());
    }
    m_eventFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_eventFd < 0) return fail(ErrorCode::kInternal, std::string("eventfd: ") + std::strerror(errno));
    // The socket moves to the I/O thread here; thread creation is the memory barrier ZeroMQ asks
    // for when a socket changes threads.
    m_ioThread = std::thread([this] { ioThreadMain(); });
    for (std::size_t i = 0; i < m_config.workerThreads; ++i) {
      m_workers.emplace_back([this] { workerMain(); });
    }
    return {};
  }

  // The configured curveClientAuthorizer as our ZMTP engine calls it, on the I/O thread, during
  // a CURVE handshake: a refusal or a throw refuses the client (ERROR, then close, before any of
  // its message frames is read) and is counted. Captures `this`: the transport that holds it is
  // owned by this Impl and destroyed before it.
  zmtp::CurveAuthorizer countingAuthorizer() {
    if (!m_config.curveClientAuthorizer) return {};
    return [this](const ByteArray<32>& clientKey) {
      bool admitted = false;
      try {
        admitted = m_config.curveClientAuthorizer(clientKey);
      } catch (const std::exception& e) {
        MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kWarn, "axon {}: CURVE authorizer threw: {}",
                               m_endpoint, e.what());
      }
      if (!admitted) {
        ++m_curveRefused;
        MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug, "axon {}: CURVE client {}… refused",
                               m_endpoint, toHex(ByteView(clientKey).first(6)));
      }
      return admitted;
    };
  }

  void stop() {
    if (m_stopCalled.exchange(true)) return;
    m_stopRequested = true;
    if (m_eventFd >= 0) wakeIoThread();
    if (m_ioThread.joinable()) m_ioThread.join();
    {
      std::lock_guard lock(m_queueMutex);
      m_stopWorkers = true;
    }
    m_queueCv.notify_all();
    for (auto& w : m_workers) {
      if (w.joinable()) w.join();
    }
  }

  const std::string& endpoint() const { return m_endpoint; }
  const wire::Hotkey& hotkey() const { return m_me; }

  AxonStats stats() const {
    AxonStats s;
    for (std::size_t i = 0; i < s.responses.size(); ++i) s.responses[i] = m_responses[i].load();
    s.sessionsOpened = m_sessionsOpened.load();
    s.handlerBatches = m_handlerBatches.load();
    s.framesDropped = m_framesDropped.load();
    s.connections = m_connections.load();
    s.peersDisconnected = m_peersDisconnected.load();
    s.connectionsRefused = m_connectionsRefused.load();
    s.handshakesReplayed = m_handshakesReplayed.load();
    s.curveClientsRefused = m_curveRefused.load();
    {
      std::lock_guard lock(m_queueMutex);
      s.queueDepth = m_queue.size();
      s.verifyDepth = m_verifyPending;
    }
    for (std::size_t i = 0; i < s.serviceTimeBuckets.size(); ++i)
      s.serviceTimeBuckets[i] = m_serviceBuckets[i].load();
    s.serviceTimeSumMs = static_cast<double>(m_serviceSumUs.load()) / 1000.0;
    s.serviceTimeCount = m_serviceCount.load();
    return s;
  }

 private:
  // ---------------------------------------------------------------- I/O thread

  void ioThreadMain() {
    try {
      ioLoop();
    } catch (const std::exception& e) {
      // ZeroMQ failed underneath us (e.g. the context was terminated): we failed, not a peer.
      MERIT_LOG_ERROR(log::Category::kNet, "axon {}: I/O thread stopped: {}", m_endpoint, e.what());
    }
    try {
      flushOutgoing();
      m_server->socket().set(zmq::sockopt::linger, kCloseLingerMs);
      m_server.reset();
    } catch (const std::exception& e) {
      MERIT_LOG_WARN(log::Category::kNet, "axon {}: closing: {}", m_endpoint, e.what());
    }
  }

  void ioLoop() {
    SteadyClock::time_point drainDeadline{};
    for (;;) {
      if (m_stopRequested && !m_draining) {
        m_draining = true;
        drainDeadline = m_clock->monotonicNow() + m_config.drainTimeout;
      }
      if (m_draining) {
        if (m_inFlight.load() == 0 && outgoingEmpty()) return;
        if (m_clock->monotonicNow() >= drainDeadline) {
          abandonQueued();
          flushOutgoing();
          return;
        }
      }
      zmq::pollitem_t items[] = {
          {m_server->socket().handle(), 0, ZMQ_POLLIN, 0},
          {nullptr, m_eventFd, ZMQ_POLLIN, 0},
      };
      try {
        zmq::poll(items, 2, m_config.idleWake);
      } catch (const zmq::error_t& e) {
        // A signal handled on this thread: nothing is ready, look again.
        if (e.num() != EINTR) throw;
        items[0].revents = 0;
        items[1].revents = 0;
      }
      if (items[1].revents & ZMQ_POLLIN) {
        std::uint64_t counter = 0;
        [[maybe_unused]] auto n = ::read(m_eventFd, &counter, sizeof counter);
      }
      flushOutgoing();
      if (items[0].revents & ZMQ_POLLIN) {
        m_server->receive(kMaxChunksPerWake, [this](const zmtp::PeerInfo& peer, zmtp::Message&& message) {
          onMessage(peer, std::move(message));
        });
      }
      verifyStranded();
      m_server->tick();
      publishTransportStats();
      expireSessions();
    }
  }

  // One complete message from a peer: [correlation id][envelope]. The transport has already
  // bounded its frames and bytes (transportConfig); the routing id is the transport's id for the
  // connection.
  void onMessage(const zmtp::PeerInfo& peer, zmtp::Message&& frames) {
    if (frames.empty() || frames[0].size() != wire::kRequestIdSize) {
      ++m_framesDropped;
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug,
                             "axon {}: dropped a message without a correlation id", m_endpoint);
      return;
    }
    wire::RequestId corr;
    std::memcpy(corr.data(), frames[0].data(), corr.size());
    if (frames.size() != 2) {
      rejectRequest(peer.id, corr, corr, Status::kBadRequest, "expected 2 frames after the routing id");
      return;
    }
    handleFrame(peer.id, peerKey(peer), corr, frames[1]);
  }

  // What the pre-authentication bucket is keyed by: the peer's IP address as the transport
  // reports it (no port: one host opening many connections still has one bucket), or, where it
  // has none, the connection.
  static std::string peerKey(const zmtp::PeerInfo& peer) {
    if (!peer.address.empty()) return peer.address;
    return "connection:" + toHex(asBytes(peer.id));
  }

  void publishTransportStats() {
    const auto s = m_server->stats();
    m_connections = s.connections;
    m_peersDisconnected = s.disconnected;
    m_connectionsRefused = s.refused;
  }

  void handleFrame(const std::string& routingId, const std::string& peer, const wire::RequestId& corr,
                   ByteView payload) {
    // 1. size limit (the transport already disconnected anyone above transportMaxMessageBytes).
    if (payload.size() > m_config.maxMessageBytes) {
      rejectRequest(routingId, corr, corr, Status::kBadRequest,
                    "message of " + std::to_string(payload.size()) + " bytes exceeds the limit of " +
                        std::to_string(m_config.maxMessageBytes));
      return;
    }
    if (m_draining) {
      rejectRequest(routingId, corr, corr, Status::kOverloaded, "axon is draining");
      return;
    }
    // 2. decode with reader limits.
    auto decoded = wire::decode(payload, wire::DecodeLimits{m_config.maxMessageBytes, 8});
    if (!decoded) {
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug, "axon {}: undecodable message: {}",
                             m_endpoint, decoded.error().message());
      rejectRequest(routingId, corr, corr, Status::kBadRequest, decoded.error().message());
      return;
    }
    if (auto* request = std::get_if<wire::Request>(&*decoded)) {
      handleRequest(routingId, peer, corr, std::move(*request));
    } else if (auto* init = std::get_if<wire::SessionInit>(&*decoded)) {
      handleSessionInit(routingId, peer, corr, *init);
    } else {
      rejectRequest(routingId, corr, corr, Status::kBadRequest,
                    "an axon accepts requests and session inits only");
    }
  }

  // Steps 3-6, shared by requests and handshakes. Returns the policy decision when admitted.
  // Nothing here is charged to `caller`: it is not authenticated yet.
  std::optional<CallerDecision> admit(const std::string& peer, const wire::Hotkey& target,
                                      std::int64_t timestampMs, std::uint16_t netuid,
                                      const wire::Hotkey& caller, Status& status, std::string& message) {
    // 3. target is me.
    if (target != m_me) {
      status = Status::kUnauthorized;
      message = "addressed to hotkey " + shortHex(target) + "…, this axon is " + shortHex(m_me) + "…";
      return std::nullopt;
    }
    // 4. timestamp window, past and future.
    const std::int64_t now = m_clock->nowUnixMs();
    if (timestampMs < now - m_config.maxPastSkew.count()) {
      status = Status::kStale;
      message = "timestamp is " + std::to_string(now - timestampMs) + " ms old";
      return std::nullopt;
    }
    if (timestampMs > now + m_config.maxFutureSkew.count()) {
      status = Status::kStale;
      message = "timestamp is " + std::to_string(timestampMs - now) + " ms in the future";
      return std::nullopt;
    }
    // 5. caller allowed.
    CallerDecision decision;
    try {
      decision = m_policy->check(netuid, caller);
    } catch (const std::exception& e) {
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kWarn, "axon {}: caller policy threw: {}",
                             m_endpoint, e.what());
      status = Status::kInternal;
      message = "caller policy failed";
      return std::nullopt;
    }
    if (!decision.allowed) {
      status = Status::kForbidden;
      message = decision.reason.empty() ? "caller not allowed" : decision.reason;
      return std::nullopt;
    }
    // 6. per-peer-address token bucket: pays for the authenticator (step 8) whatever the
    // message claims to be.
    switch (m_peerRateLimits.take(peer, m_clock->monotonicNow())) {
      case PeerRateLimiterTable::Outcome::kAllowed: break;
      case PeerRateLimiterTable::Outcome::kLimited:
        status = Status::kRateLimited;
        message = "rate limit of " + std::to_string(m_config.peerRateLimitPerSecond) +
                  "/s for this address exceeded";
        return std::nullopt;
      case PeerRateLimiterTable::Outcome::kTableFull:
        status = Status::kOverloaded;
        message = "too many peers";
        return std::nullopt;
    }
    return decision;
  }

  // Step 9: the authenticated caller's own token bucket. Returns false (with status and
  // message) when the caller is over its allowance. Any thread.
  bool chargeCaller(const wire::Hotkey& caller, Status& status, std::string& message) {
    RateLimiterTable::Outcome outcome;
    {
      std::lock_guard lock(m_admissionMutex);
      outcome = m_rateLimits.take(caller, m_clock->monotonicNow());
    }
    switch (outcome) {
      case RateLimiterTable::Outcome::kAllowed: return true;
      case RateLimiterTable::Outcome::kLimited:
        status = Status::kRateLimited;
        message = "rate limit of " + std::to_string(m_config.rateLimitPerSecond) + "/s exceeded";
        return false;
      case RateLimiterTable::Outcome::kTableFull:
        status = Status::kOverloaded;
        message = "too many callers";
        return false;
    }
    return false;
  }

  // Step 7 before the authenticator (check only), and the record after it (check again and
  // commit atomically: other requests of the caller may have been verified meanwhile). Any thread.
  // Returns false with an unsigned rejection's status and message.
  bool nonceStep(const wire::RequestHeader& h, bool commit, Status& status, std::string& message) {
    NonceTable::Outcome outcome;
    {
      std::lock_guard lock(m_admissionMutex);
      outcome = commit ? m_nonces.checkAndCommit(h.caller, h.nonce, h.timestampMs, m_clock->nowUnixMs())
                       : m_nonces.check(h.caller, h.nonce, m_clock->nowUnixMs());
    }
    switch (outcome) {
      case NonceTable::Outcome::kFresh: return true;
      case NonceTable::Outcome::kReplayed:
        status = Status::kStale;
        message = "nonce is not above the last accepted one";
        return false;
      case NonceTable::Outcome::kTableFull:
        status = Status::kOverloaded;
        message = "too many callers";
        return false;
    }
    return false;
  }

  // Steps 1-7 run here on the I/O thread. A signed request is then handed to the worker pool
  // for step 8 (the signature check, the costly one) and the rest of admission (verifyAndAdmit);
  // a session request is MACed, which is cheap, so it is admitted here.
  void handleRequest(const std::string& routingId, const std::string& peer, const wire::RequestId& corr,
                     wire::Request request) {
    const auto& h = request.header;
    const wire::RequestId& rid = h.requestId;
    Status status = Status::kOk;
    std::string message;
    auto decision = admit(peer, h.target, h.timestampMs, h.netuid, h.caller, status, message);
    if (!decision) {
      logRejection(h.caller, status, message);
      rejectRequest(routingId, corr, rid, status, std::move(message));
      return;
    }
    // 7. nonce strictly increasing (recorded only after authentication, so a forgery cannot
    // advance a caller's nonce).
    if (!nonceStep(h, false, status, message)) {
      logRejection(h.caller, status, message);
      rejectRequest(routingId, corr, rid, status, std::move(message));
      return;
    }
    const std::uint64_t priority = m_config.priority ? m_config.priority(h, *decision) : decision->stake;
    // 8. authenticator.
    std::shared_ptr<const Session> session;
    switch (request.auth.kind) {
      case wire::Authenticator::Kind::kNone:
        rejectRequest(routingId, corr, rid, Status::kUnauthorized, "request is not authenticated");
        return;
      case wire::Authenticator::Kind::kSignature:
        submitForVerification(routingId, corr, std::move(request), priority);
        return;
      case wire::Authenticator::Kind::kSessionMac: {
        auto it = m_sessions.find(request.auth.sessionId);
        if (it == m_sessions.end() || it->second.session->caller != h.caller) {
          rejectRequest(routingId, corr, rid, Status::kUnauthorized, "unknown or expired session");
          return;
        }
        auto ok = wire::verifyRequestMac(request, it->second.session->key);
        if (!ok) {
          logRejection(h.caller, Status::kUnauthorized, ok.error().message());
          rejectRequest(routingId, corr, rid, Status::kUnauthorized, ok.error().message());
          return;
        }
        it->second.lastUsed = m_clock->monotonicNow();
        session = it->second.session;
        break;
      }
    }
    // The nonce is recorded: checked again, as a worker may have recorded a signed request of
    // this caller since step 7.
    if (!nonceStep(h, true, status, message)) {
      logRejection(h.caller, status, message);
      rejectRequest(routingId, corr, rid, status, std::move(message));
      return;
    }
    ++m_inFlight;
    std::vector<Outgoing> replies;
    const std::size_t answered =
        admitAuthenticated(routingId, corr, std::move(request), std::move(session), priority, replies);
    for (auto& o : replies) send(o.routingId, o.correlation, o.status, std::move(o.payload));
    m_inFlight -= answered;
  }

  // While every worker is inside a handler, signed requests waiting for verification would wait
  // for a handler to return; the I/O thread verifies them instead (a bounded number per wake-up,
  // so it keeps serving its socket).
  void verifyStranded() {
    for (int i = 0; i < 64 && m_inHandlers.load() >= m_config.workerThreads; ++i) {
      std::optional<VerifyItem> item;
      {
        std::lock_guard lock(m_queueMutex);
        if (m_verifyReady.empty()) return;
        item.emplace(std::move(m_verifyReady.front()));
        m_verifyReady.pop_front();
      }
      verifyAndAdmit(std::move(*item));
    }
  }

  // Hands a signed request that passed steps 1-7 to the worker pool. Requests of one connection
  // are verified one at a time, in arrival order (a caller's nonces arrive increasing on its
  // connection, and verifying them out of order would refuse the lower one); requests of
  // different connections are verified in parallel. So a forger on its own connection never
  // queues in front of the caller it names. Workers take verifications before handler batches;
  // when every worker is inside a handler, the I/O thread verifies the request itself (as it
  // always did before), so slow handlers never stall admission. At most maxPendingVerifications
  // requests wait for or are in verification; beyond that: OVERLOADED, unsigned (nothing is
  // authenticated yet).
  void submitForVerification(const std::string& routingId, const wire::RequestId& corr, wire::Request request,
                             std::uint64_t priority) {
    enum class Route { kFull, kQueued, kReady, kInline } route;
    std::optional<VerifyItem> inlineItem;
    {
      std::lock_guard lock(m_queueMutex);
      if (m_verifyPending >= m_config.maxPendingVerifications) {
        route = Route::kFull;
      } else {
        ++m_verifyPending;
        ++m_inFlight;
        VerifyItem item{routingId, corr, std::move(request), priority};
        auto [it, first] = m_verifyByConnection.try_emplace(routingId);
        if (!first) {
          it->second.push_back(std::move(item));
          route = Route::kQueued;
        } else if (m_inHandlers.load() >= m_config.workerThreads) {
          inlineItem.emplace(std::move(item));
          route = Route::kInline;
        } else {
          m_verifyReady.push_back(std::move(item));
          route = Route::kReady;
        }
      }
    }
    switch (route) {
      case Route::kFull:
        // NOLINTNEXTLINE(bugprone-use-after-move): only the other routes moved `request`.
        rejectRequest(routingId, corr, request.header.requestId, Status::kOverloaded,
                      "verification queue is full");
        break;
      case Route::kReady: m_queueCv.notify_all(); break;
      case Route::kInline: verifyAndAdmit(std::move(*inlineItem)); break;
      case Route::kQueued: break;
    }
  }

  // Steps 9-11 for an authenticated request whose nonce is recorded and which counts in
  // m_inFlight. Any thread. Answers (authenticated) go to `replies`; returns how many admitted
  // requests were answered here (this one when refused, or the one it displaced), for the caller
  // to take off m_inFlight once the replies are on their way.
  std::size_t admitAuthenticated(const std::string& routingId, const wire::RequestId& corr,
                                 wire::Request request, std::shared_ptr<const Session> session,
                                 std::uint64_t priority, std::vector<Outgoing>& replies) {
    const auto& h = request.header;
    Status status = Status::kOk;
    std::string message;
    // Authenticated from here on: every answer is signed or MACed.
    // 9. the caller's own token bucket, charged only now, so forgeries cannot spend it.
    if (!chargeCaller(h.caller, status, message)) {
      logRejection(h.caller, status, message);
      replies.push_back(outgoing(routingId, corr, h, session.get(), status, std::move(message)));
      return 1;
    }
    // 10. body hash.
    if (wire::hashBody(request.body) != h.bodyHash) {
      replies.push_back(
          outgoing(routingId, corr, h, session.get(), Status::kBadRequest, "body hash mismatch"));
      return 1;
    }
    // Module and version known.
    std::size_t module = m_modules.size();
    for (std::size_t i = 0; i < m_modules.size(); ++i) {
      const auto& m = m_modules[i];
      const std::uint32_t version = m.liveVersion ? m.liveVersion->load() : m.version;
      if (m.module == h.module && version == h.moduleVersion) module = i;
    }
    if (module == m_modules.size()) {
      replies.push_back(outgoing(routingId, corr, h, session.get(), Status::kNotFound,
                                 "no module " + h.module + " version " + std::to_string(h.moduleVersion)));
      return 1;
    }
    // 11. priority queue, bounded.
    const auto timeout = std::min<std::int64_t>(h.timeoutMs, m_config.maxTimeout.count());
    const auto now = m_clock->monotonicNow();
    WorkItem item{
        routingId,          corr, std::move(request), module, now + std::chrono::milliseconds(timeout),
        std::move(session), now};
    std::optional<WorkItem> displaced;
    bool admitted = false;
    {
      std::lock_guard lock(m_queueMutex);
      if (m_queue.size() >= m_config.queueCapacity) {
        auto lowest = std::prev(m_queue.end());
        if (lowest->first.priority < priority) {
          // A higher-priority caller displaces the lowest queued request.
          displaced = std::move(lowest->second);
          m_queue.erase(lowest);
        }
      }
      if (m_queue.size() < m_config.queueCapacity) {
        m_queue.emplace(QueueKey{priority, m_seq++}, std::move(item));
        admitted = true;
      }
    }
    if (admitted) m_queueCv.notify_all();
    if (displaced) {
      replies.push_back(outgoing(displaced->routingId, displaced->correlation, displaced->request.header,
                                 displaced->session.get(), Status::kOverloaded,
                                 "queue is full (displaced by a higher-priority caller)"));
      return 1;
    }
    if (!admitted) {
      // Not moved from: `item` is moved into the queue only when it is admitted.
      // NOLINTNEXTLINE(bugprone-use-after-move): false positive, see above
      replies.push_back(outgoing(item.routingId, item.correlation, item.request.header, item.session.get(),
                                 Status::kOverloaded, "queue is full"));
      return 1;
    }
    return 0;
  }

  void handleSessionInit(const std::string& routingId, const std::string& peer, const wire::RequestId& corr,
                         const wire::SessionInit& init) {
    Status status = Status::kOk;
    std::string message;
    auto decision =
        admit(peer, init.target, init.timestampMs, kHandshakeNetuid, init.caller, status, message);
    // 7. the client nonce was not used in the window: a captured handshake replayed while its
    // timestamp is still accepted is refused here, before anything is verified or signed, and
    // never touches the sessions (so it cannot evict the real one).
    if (decision) {
      switch (m_handshakes.check(init.clientNonce, m_clock->nowUnixMs())) {
        case HandshakeReplayTable::Outcome::kFresh: break;
        case HandshakeReplayTable::Outcome::kReplayed:
          ++m_handshakesReplayed;
          status = Status::kStale;
          message = "session handshake replayed";
          break;
        case HandshakeReplayTable::Outcome::kTableFull:
          status = Status::kOverloaded;
          message = "too many recent handshakes";
          break;
      }
    }
    // 8. authenticator, then the nonce is remembered and the caller's bucket charged.
    if (status == Status::kOk) {
      auto ok = wire::verifySessionInit(init);
      if (!ok) {
        status = Status::kUnauthorized;
        message = ok.error().message();
      } else {
        m_handshakes.commit(init.clientNonce, init.timestampMs);
        chargeCaller(init.caller, status, message);
      }
    }
    // The axon's half of the key agreement, made only for a verified caller; the secret is wiped
    // when this scope ends.
    std::optional<wire::EphemeralKeyPair> ephemeral;
    wire::SessionReply reply;
    reply.clientNonce = init.clientNonce;
    Result<wire::SessionKey> key = fail(ErrorCode::kInternal, "not derived");
    if (status == Status::kOk) {
      ephemeral.emplace(wire::EphemeralKeyPair::generate());
      reply.serverEphemeral = ephemeral->publicKey;
      crypto::randomBytes(reply.serverNonce);
      crypto::randomBytes(reply.sessionId);
      key = wire::deriveSessionKey(
          ephemeral->secretKey, init.clientEphemeral,
          wire::SessionTranscript{init.caller, m_me, init.clientEphemeral, ephemeral->publicKey,
                                  init.clientNonce, reply.serverNonce, reply.sessionId});
      if (!key) {
        status = Status::kUnauthorized;
        message = key.error().message();
      }
    }
    if (status != Status::kOk) {
      logRejection(init.caller, status, message);
      wire::SessionReply rejection;
      rejection.status = status;
      rejection.message = truncated(std::move(message));
      rejection.clientNonce = init.clientNonce;
      rejection.timestampMs = m_clock->nowUnixMs();
      send(routingId, corr, status, encodeToZmq(rejection));
      return;
    }
    makeRoomForSession(init.caller);
    reply.status = Status::kOk;
    reply.timestampMs = m_clock->nowUnixMs();
    auto session = std::make_shared<Session>(Session{reply.sessionId, init.caller, std::move(*key)});
    m_sessions.insert_or_assign(reply.sessionId, SessionEntry{std::move(session), m_clock->monotonicNow()});
    ++m_sessionsOpened;
    wire::signSessionAccept(reply, init.caller, init.clientEphemeral, m_key);
    send(routingId, corr, Status::kOk, encodeToZmq(reply));
  }

  // Keeps at most maxSessionsPerCaller per caller and maxSessions in all, evicting the least
  // recently used.
  void makeRoomForSession(const wire::Hotkey& caller) {
    auto evictOldest = [this](auto pred) {
      auto oldest = m_sessions.end();
      std::size_t count = 0;
      for (auto it = m_sessions.begin(); it != m_sessions.end(); ++it) {
        if (!pred(it->second)) continue;
        ++count;
        if (oldest == m_sessions.end() || it->second.lastUsed < oldest->second.lastUsed) oldest = it;
      }
      return std::pair{oldest, count};
    };
    auto [oldestOfCaller, count] =
        evictOldest([&](const SessionEntry& e) { return e.session->caller == caller; });
    if (count >= m_config.maxSessionsPerCaller && oldestOfCaller != m_sessions.end())
      m_sessions.erase(oldestOfCaller);
    if (m_sessions.size() >= m_config.maxSessions) {
      auto [oldest, all] = evictOldest([](const SessionEntry&) { return true; });
      if (oldest != m_sessions.end()) m_sessions.erase(oldest);
    }
  }

  void expireSessions() {
    const auto now = m_clock->monotonicNow();
    if (now < m_nextSessionSweep) return;
    m_nextSessionSweep = now + std::chrono::seconds(1);
    std::erase_if(m_sessions,
                  [&](const auto& kv) { return now - kv.second.lastUsed > m_config.sessionIdleTimeout; });
  }

  void logRejection(const wire::Hotkey& caller, Status status, const std::string& message) {
    MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug, "axon {}: {} from {}…: {}", m_endpoint,
                           wire::statusName(status), shortHex(caller), message);
  }

  // An unsigned rejection (before authentication), from the I/O thread.
  void rejectRequest(const std::string& routingId, const wire::RequestId& corr,
                     const wire::RequestId& requestId, Status status, std::string message) {
    Outgoing o = unsignedRejection(routingId, corr, requestId, status, std::move(message));
    send(o.routingId, o.correlation, o.status, std::move(o.payload));
  }

  // An authenticated answer without a body, from the I/O thread.
  void answer(const std::string& routingId, const wire::RequestId& corr, const wire::RequestHeader& h,
              const Session* session, Status status, std::string message) {
    wire::Response r = makeResponse(h, session, status, std::move(message), {});
    send(routingId, corr, status, encodeToZmq(r));
  }

  void send(const std::string& routingId, const wire::RequestId& corr, Status status,
            zmq::message_t payload) {
    // Counted before sending, so a peer that has the reply also sees it counted.
    ++m_responses[static_cast<std::size_t>(status)];
    // A full or vanished peer drops the reply (ROUTER semantics); the caller times out.
    const ByteView frames[] = {ByteView(corr), viewOf(payload)};
    if (!m_server->send(routingId, frames)) {
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug,
                             "axon {}: reply dropped (peer gone or full)", m_endpoint);
    }
  }

  bool outgoingEmpty() {
    std::lock_guard lock(m_outMutex);
    return m_outgoing.empty();
  }

  void flushOutgoing() {
    std::deque<Outgoing> batch;
    {
      std::lock_guard lock(m_outMutex);
      batch.swap(m_outgoing);
    }
    for (auto& o : batch) send(o.routingId, o.correlation, o.status, std::move(o.payload));
  }

  // Drain timed out: what is still queued is answered OVERLOADED.
  void abandonQueued() {
    std::map<QueueKey, WorkItem> left;
    std::deque<VerifyItem> unverified;
    {
      std::lock_guard lock(m_queueMutex);
      left.swap(m_queue);
      unverified.swap(m_verifyReady);
      for (auto& [connection, waiting] : m_verifyByConnection) {
        for (auto& v : waiting) unverified.push_back(std::move(v));
        waiting.clear();
      }
      m_verifyPending -= unverified.size();
    }
    for (auto& v : unverified) {
      rejectRequest(v.routingId, v.correlation, v.request.header.requestId, Status::kOverloaded,
                    "axon shut down before this request was verified");
      --m_inFlight;
    }
    for (auto& [key, item] : left) {
      answer(item.routingId, item.correlation, item.request.header, item.session.get(), Status::kOverloaded,
             "axon shut down before this request ran");
      --m_inFlight;
    }
  }

  // ---------------------------------------------------------------- shared (I/O and workers)

  // An unsigned rejection (before authentication). Any thread.
  Outgoing unsignedRejection(const std::string& routingId, const wire::RequestId& corr,
                             const wire::RequestId& requestId, Status status, std::string message) const {
    wire::Response r;
    r.requestId = requestId;
    r.status = status;
    r.message = truncated(std::move(message));
    r.timestampMs = m_clock->nowUnixMs();
    r.bodyHash = m_emptyBodyHash;
    return Outgoing{routingId, corr, status, encodeToZmq(r)};
  }

  // An authenticated answer without a body. Any thread.
  Outgoing outgoing(const std::string& routingId, const wire::RequestId& corr, const wire::RequestHeader& h,
                    const Session* session, Status status, std::string message) const {
    return Outgoing{routingId, corr, status,
                    encodeToZmq(makeResponse(h, session, status, std::move(message), {}))};
  }

  // Hands replies from a worker to the I/O thread and wakes it.
  void post(std::vector<Outgoing>& replies) {
    if (replies.empty()) return;
    {
      std::lock_guard lock(m_outMutex);
      for (auto& o : replies) m_outgoing.push_back(std::move(o));
    }
    wakeIoThread();
  }

  void wakeIoThread() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_eventFd, &one, sizeof one);
  }

  // Builds a signed (or MACed, in a session) response. Safe from any thread: signing with
  // m_key is const, the session's key is immutable.
  wire::Response makeResponse(const wire::RequestHeader& h, const Session* session, Status status,
                              std::string message, Bytes body) const {
    wire::Response r;
    r.requestId = h.requestId;
    r.status = status;
    r.message = truncated(std::move(message));
    r.timestampMs = m_clock->nowUnixMs();
    r.bodyHash = body.empty() ? m_emptyBodyHash : wire::hashBody(body);
    r.body = std::move(body);
    if (session != nullptr) {
      wire::macResponse(r, h.caller, m_me, session->key, session->id);
    } else {
      wire::signResponse(r, h.caller, m_key);
    }
    return r;
  }

  // ---------------------------------------------------------------- workers

  void workerMain() {
    bool justVerified = false;
    for (;;) {
      std::vector<WorkItem> batch;
      {
        std::unique_lock lock(m_queueMutex);
        m_queueCv.wait(lock, [this] { return !m_verifyReady.empty() || !m_queue.empty() || m_stopWorkers; });
        // Verifications first: the request verified usually is the batch this worker runs next,
        // with no further hand-off, and the priority queue sees every admitted request. But never
        // two in a row while batches wait, so a flood of signed requests (forged ones included)
        // takes at most half of the workers' time from the handlers.
        if (!m_verifyReady.empty() && (!justVerified || m_queue.empty())) {
          VerifyItem item = std::move(m_verifyReady.front());
          m_verifyReady.pop_front();
          lock.unlock();
          verifyAndAdmit(std::move(item));
          justVerified = true;
          continue;
        }
        justVerified = false;
        if (m_queue.empty()) return;
        batch.push_back(takeLocked(m_queue.begin()));
        const std::size_t module = batch.front().module;
        const auto fillUntil = m_clock->monotonicNow() + m_config.maxBatchWait;
        while (batch.size() < m_config.maxBatchSize) {
          auto it = std::find_if(m_queue.begin(), m_queue.end(),
                                 [&](const auto& kv) { return kv.second.module == module; });
          if (it != m_queue.end()) {
            batch.push_back(takeLocked(it));
            continue;
          }
          if (!m_verifyReady.empty()) {
            // A request waiting for its signature check may be what fills this batch.
            VerifyItem item = std::move(m_verifyReady.front());
            m_verifyReady.pop_front();
            lock.unlock();
            verifyAndAdmit(std::move(item));
            lock.lock();
            continue;
          }
          const auto now = m_clock->monotonicNow();
          if (m_stopWorkers || m_stopRequested || now >= fillUntil) break;
          // A newcomer or stop wakes us, and the loop looks again; a manual clock is re-read
          // every waitSlice().
          m_queueCv.wait_for(lock, std::min<SteadyClock::duration>(fillUntil - now, m_clock->waitSlice()));
        }
      }
      runBatch(batch);
    }
  }

  // Step 8 for a signed request, then the nonce record and steps 9-11 (admitAuthenticated).
  // On a worker (the I/O thread when every worker is inside a handler).
  void verifyAndAdmit(VerifyItem item) {
    const auto& h = item.request.header;
    std::vector<Outgoing> replies;
    std::size_t answered = 1;
    Status status = Status::kOk;
    std::string message;
    if (auto ok = wire::verifyRequestSignature(item.request); !ok) {
      logRejection(h.caller, Status::kUnauthorized, ok.error().message());
      replies.push_back(unsignedRejection(item.routingId, item.correlation, h.requestId,
                                          Status::kUnauthorized, ok.error().message()));
    } else if (!nonceStep(h, true, status, message)) {
      // Another request with this nonce (or a higher one) of the caller was verified first.
      logRejection(h.caller, status, message);
      replies.push_back(
          unsignedRejection(item.routingId, item.correlation, h.requestId, status, std::move(message)));
    } else {
      const std::string routingId = item.routingId;
      const wire::RequestId corr = item.correlation;
      answered =
          admitAuthenticated(routingId, corr, std::move(item.request), nullptr, item.priority, replies);
    }
    // The connection's next request may be verified now (it enters the priority queue after this one).
    bool next = false;
    {
      std::lock_guard lock(m_queueMutex);
      --m_verifyPending;
      auto it = m_verifyByConnection.find(item.routingId);
      if (it != m_verifyByConnection.end()) {
        if (it->second.empty()) {
          m_verifyByConnection.erase(it);
        } else {
          m_verifyReady.push_back(std::move(it->second.front()));
          it->second.pop_front();
          next = true;
        }
      }
    }
    if (next) m_queueCv.notify_all();
    post(replies);
    finished(answered);
  }

  WorkItem takeLocked(std::map<QueueKey, WorkItem>::iterator it) {
    WorkItem item = std::move(it->second);
    m_queue.erase(it);
    return item;
  }

  void runBatch(std::vector<WorkItem>& batch) {
    const auto now = m_clock->monotonicNow();
    std::vector<Outgoing> out;
    out.reserve(batch.size());
    std::vector<std::size_t> live;
    std::vector<wire::Request> requests;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].deadline <= now) {
        // Its caller has given up; running it would waste the handler.
        out.push_back(outgoing(batch[i], Status::kTimeout, "deadline passed while queued", {}));
      } else {
        live.push_back(i);
        requests.push_back(std::move(batch[i].request));
      }
    }
    if (!live.empty()) {
      const ModuleHandler& m = m_modules[batch[live.front()].module];
      std::vector<Reply> replies;
      std::string failure;
      // Every worker inside a handler: the I/O thread takes over verifications (verifyStranded).
      if (++m_inHandlers >= m_config.workerThreads) wakeIoThread();
      try {
        replies = m.handler(std::span<const wire::Request>(requests));
        if (replies.size() != requests.size()) {
          failure = "handler returned " + std::to_string(replies.size()) + " replies for " +
                    std::to_string(requests.size()) + " requests";
        }
      } catch (const std::exception& e) {
        failure = std::string("handler failed: ") + e.what();
      } catch (...) {
        failure = "handler failed";
      }
      --m_inHandlers;
      ++m_handlerBatches;
      if (!failure.empty()) {
        MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kWarn, "axon {}: module {}: {}", m_endpoint,
                               m.module, failure);
      }
      for (std::size_t j = 0; j < live.size(); ++j) {
        WorkItem& item = batch[live[j]];
        recordServiceTime(item);
        item.request = std::move(requests[j]);
        if (!failure.empty()) {
          out.push_back(outgoing(item, Status::kInternal, "handler failed", {}));
          continue;
        }
        Reply& r = replies[j];
        Status status = r.status;
        if (static_cast<std::uint8_t>(status) > wire::kMaxWireStatus) status = Status::kInternal;
        out.push_back(outgoing(item, status, std::move(r.message), std::move(r.body)));
      }
    }
    post(out);
    finished(batch.size());
  }

  // `n` admitted requests are answered (their replies posted). A draining I/O thread waits for
  // m_inFlight to reach zero; the replies' own wake-up may reach it before this decrement, so the
  // last one wakes it again rather than leave it asleep until its idle wake.
  void finished(std::size_t n) {
    if (n > 0 && m_inFlight.fetch_sub(n) == n && m_stopRequested.load()) wakeIoThread();
  }

  // Records admission-to-response time of a request a worker answered.
  void recordServiceTime(const WorkItem& item) {
    double ms = std::chrono::duration<double, std::milli>(m_clock->monotonicNow() - item.admitted).count();
    std::size_t b = 0;
    while (b < kServiceTimeBucketsMs.size() && ms > kServiceTimeBucketsMs[b]) ++b;
    ++m_serviceBuckets[b];
    m_serviceSumUs += static_cast<std::uint64_t>(ms * 1000.0);
    ++m_serviceCount;
  }

  Outgoing outgoing(const WorkItem& item, Status status, std::string message, Bytes body) const {
    wire::Response r =
        makeResponse(item.request.header, item.session.get(), status, std::move(message), std::move(body));
    return Outgoing{item.routingId, item.correlation, status, encodeToZmq(r)};
  }

  // Immutable after construction.
  const AxonConfig m_config;
  const crypto::AnyPrivateKey m_key;
  const wire::Hotkey m_me;
  const std::shared_ptr<const CallerPolicy> m_policy;
  const std::vector<ModuleHandler> m_modules;
  const std::shared_ptr<const Clock> m_clock;
  const std::shared_ptr<Context> m_context;

  // Owned by the I/O thread (created by open() before the thread starts).
  std::unique_ptr<zmtp::StreamServer> m_server;
  std::string m_endpoint;
  PeerRateLimiterTable m_peerRateLimits;
  HandshakeReplayTable m_handshakes;
  std::map<wire::SessionId, SessionEntry> m_sessions;
  SteadyClock::time_point m_nextSessionSweep{};
  bool m_draining = false;
  const crypto::Hash256 m_emptyBodyHash;

  // The callers' allowances and nonces: the I/O thread checks nonces before the authenticator;
  // whoever ran the authenticator (the I/O thread for MACs, a worker for signatures) records the
  // nonce and charges the allowance.
  std::mutex m_admissionMutex;
  RateLimiterTable m_rateLimits;  // guarded by m_admissionMutex
  NonceTable m_nonces;            // guarded by m_admissionMutex

  // Work queue: bounded by queueCapacity.
  mutable std::mutex m_queueMutex;
  std::condition_variable m_queueCv;
  std::map<QueueKey, WorkItem> m_queue;  // guarded by m_queueMutex
  std::uint64_t m_seq = 0;               // guarded by m_queueMutex
  bool m_stopWorkers = false;            // guarded by m_queueMutex

  // Signed requests waiting for signature verification, bounded by maxPendingVerifications
  // (submitForVerification): m_verifyReady may be taken by any worker; a connection with a
  // request ready or being verified has an entry in m_verifyByConnection holding its later ones.
  std::deque<VerifyItem> m_verifyReady;                                // guarded by m_queueMutex
  std::map<std::string, std::deque<VerifyItem>> m_verifyByConnection;  // guarded by m_queueMutex
  std::size_t m_verifyPending = 0;           // ready, waiting or being verified; guarded by m_queueMutex
  std::atomic<std::size_t> m_inHandlers{0};  // workers inside a handler call now

  // Replies from workers to the I/O thread. Bounded by construction: at most one per admitted
  // request, and admitted requests are bounded by queueCapacity plus the batches being run.
  std::mutex m_outMutex;
  std::deque<Outgoing> m_outgoing;  // guarded by m_outMutex
  int m_eventFd = -1;               // workers write, the I/O thread reads

  std::atomic<std::size_t> m_inFlight{0};  // admitted, not yet answered
  std::atomic<bool> m_stopRequested{false};
  std::atomic<bool> m_stopCalled{false};
  std::array<std::atomic<std::uint64_t>, 10> m_responses{};
  std::atomic<std::uint64_t> m_sessionsOpened{0};
  std::atomic<std::uint64_t> m_handlerBatches{0};
  std::array<std::atomic<std::uint64_t>, kServiceTimeBucketsMs.size() + 1> m_serviceBuckets{};
  std::atomic<std::uint64_t> m_serviceSumUs{0};
  std::atomic<std::uint64_t> m_serviceCount{0};
  std::atomic<std::uint64_t> m_framesDropped{0};
  std::atomic<std::size_t> m_connections{0};
  std::atomic<std::uint64_t> m_peersDisconnected{0};
  std::atomic<std::uint64_t> m_connectionsRefused{0};
  std::atomic<std::uint64_t> m_handshakesReplayed{0};
  std::atomic<std::uint64_t> m_curveRefused{
      0};  // written by the I/O thread (the transport's authorizer call)

  std::thread m_ioThread;
  std::vector<std::thread> m_workers;
};

Axon::Axon(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Axon::~Axon() = default;

Result<std::unique_ptr<Axon>> Axon::start(AxonConfig config, crypto::AnyPrivateKey hotkey,
                                          std::shared_ptr<const CallerPolicy> policy,
                                          std::vector<ModuleHandler> modules,
                                          std::shared_ptr<const Clock> clock,
                                          std::shared_ptr<Context> context) {
  if (config.workerThreads == 0 || config.queueCapacity == 0 || config.maxBatchSize == 0 ||
      config.maxPendingVerifications == 0) {
    return fail(ErrorCode::kInvalidArgument,
                "workerThreads, queueCapacity, maxBatchSize and maxPendingVerifications must be positive");
  }
  if (config.maxMessageBytes > config.transportMaxMessageBytes) {
    return fail(ErrorCode::kInvalidArgument, "maxMessageBytes must not exceed transportMaxMessageBytes");
  }
  if (config.rateLimitPerSecond <= 0 || config.rateLimitBurst < 1 || config.peerRateLimitPerSecond <= 0 ||
      config.peerRateLimitBurst < 1) {
    return fail(ErrorCode::kInvalidArgument, "rate limits must be positive with a burst of at least 1");
  }
  if (!policy || !clock)
    return fail(ErrorCode::kInvalidArgument, "an axon needs a caller policy and a clock");
  if (config.maxConnections == 0 || config.maxConnectionsPerAddress == 0 || config.maxFramesPerMessage < 2 ||
      config.maxBufferedBytes < config.transportMaxMessageBytes) {
    return fail(
        ErrorCode::kInvalidArgument,
        "maxConnections(PerAddress) must be positive, maxFramesPerMessage at least 2 and maxBufferedBytes "
        "at least transportMaxMessageBytes");
  }
  if (config.curveClientAuthorizer && !config.curveSecretKey) {
    return fail(ErrorCode::kInvalidArgument,
                "curveClientAuthorizer needs curveSecretKey (shield mode is CURVE only)");
  }
  if (config.maxSessions == 0 || config.maxSessionsPerCaller == 0 || config.maxTrackedCallers == 0 ||
      config.maxTrackedPeers == 0 || config.maxRememberedHandshakes == 0) {
    return fail(ErrorCode::kInvalidArgument, "session, caller, peer and handshake limits must be positive");
  }
  if (config.idleWake < std::chrono::milliseconds(1) || config.idleWake > std::chrono::seconds(10)) {
    return fail(ErrorCode::kInvalidArgument, "idleWake must be between 1 ms and 10 s");
  }
  for (std::size_t i = 0; i < modules.size(); ++i) {
    if (!wire::isValidModuleName(modules[i].module) || !modules[i].handler) {
      return fail(ErrorCode::kInvalidArgument,
                  "module " + std::to_string(i) + " needs a valid name and a handler");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (modules[j].module == modules[i].module && modules[j].version == modules[i].version) {
        return fail(ErrorCode::kInvalidArgument, "module " + modules[i].module + " registered twice");
      }
    }
  }
  if (!context) {
    MERIT_ASSIGN_OR_RETURN(context, Context::create());
  }
  auto impl = std::make_unique<Impl>(std::move(config), std::move(hotkey), std::move(policy),
                                     std::move(modules), std::move(clock), std::move(context));
  MERIT_TRY(impl->open());
  return std::unique_ptr<Axon>(new Axon(std::move(impl)));
}

const std::string& Axon::endpoint() const {
  return m_impl->endpoint();
}
const wire::Hotkey& Axon::hotkey() const {
  return m_impl->hotkey();
}
AxonStats Axon::stats() const {
  return m_impl->stats();
}
void Axon::stop() {
  m_impl->stop();
}

}  // namespace merit::net
