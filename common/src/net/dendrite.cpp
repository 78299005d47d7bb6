#include "merit/net/dendrite.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <set>
#include <unordered_map>

#include <zmq.hpp>

#include "merit/crypto/hash.h"
#include "merit/crypto/secret.h"
#include "merit/net/shield.h"
#include "merit/util/assert.h"
#include "merit/util/log.h"
#include "merit/wire/auth.h"
#include "merit/wire/codec.h"

#include "zmq_context.h"
#include "zmq_util.h"
#include "zmtp.h"
#include "zmtp_tcp.h"

namespace merit::net {

namespace {

using SteadyClock = std::chrono::steady_clock;
using wire::Status;

constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);
// One mechanism bounds what a miner can do to a round, and each of its limits ends only that
// miner's result. Chunks (at most 8 KiB each) read from one connection per poll wake-up, so one
// peer streaming cannot keep the loop from the others or from the deadline (which is checked
// again before each message is handled).
constexpr std::size_t kMaxChunksPerWake = 256;
// Frames in one message from an axon: [correlation id][envelope]. Beyond this the transport
// closes the connection as it reads the frame headers (reading on could take unbounded time)
// and the miner's result is INVALID_RESPONSE.
constexpr std::size_t kMaxResponseFrames = 4;
// Malformed or unsolicited messages tolerated per connection per round (late answers to an
// earlier round are unsolicited too, and legitimate); above this the connection is closed and
// the miner's result is INVALID_RESPONSE.
constexpr std::size_t kJunkAllowance = 64;

// The last nonce any dendrite of this process issued. An axon keeps each caller's last accepted
// nonce, so a caller's nonces must rise across all its dendrites; a dendrite's floor is the wall
// clock's millisecond (times 10^6), and two dendrites of one hotkey made within the same
// millisecond would otherwise both start there, the second one's first request then refused as
// replayed (STALE). One sequence for the whole process (one atomic step per request) rules that
// out for dendrites of one process; separate processes sharing a hotkey still each start from
// the wall clock.
std::atomic<std::uint64_t> g_lastNonce{0};

struct Unsent {
  wire::RequestId correlation{};
  zmq::message_t payload;
  std::size_t slot = kNoSlot;  // kNoSlot: a handshake
};

// One cached DEALER-like connection to one axon (endpoint, hotkey, CURVE key), over our own
// ZMTP engine on a plain TCP socket of the dendrite's epoll set (zmtp_tcp.h), so what an axon can
// make us hold is bounded.
struct Connection {
  Connection(std::unique_ptr<zmtp::TcpClient> t, const crypto::AnyPublicKey& key)
      : transport(std::move(t)), hotkey(key), wireHotkey(key) {
    transport->setUserData(this);
  }

  std::unique_ptr<zmtp::TcpClient> transport;
  std::size_t buffered = 0;  // transport->buffered() as last counted in the dendrite's total
  crypto::AnyPublicKey hotkey;
  wire::Hotkey wireHotkey;  // hotkey, tagged
  SteadyClock::time_point lastUsed{};
  bool everSent = false;  // some message went out: the connection completed at least once

  enum class SessionState { kNone, kHandshaking, kReady };
  SessionState sessionState = SessionState::kNone;
  std::unique_ptr<wire::SessionKey> sessionKey;
  wire::SessionId sessionId{};
  wire::HandshakeNonce clientNonce{};
  // Our X25519 key pair of the handshake in flight; dropped (the secret wiped) when its reply
  // arrives or the handshake starts over.
  std::unique_ptr<wire::EphemeralKeyPair> ephemeral;
  wire::RequestId handshakeCorrelation{};
  bool handshakeSent = false;

  // State of the current query only (cleared at its end).
  bool inQuery = false;
  std::size_t junk = 0;          // malformed or unsolicited messages this round
  bool broken = false;           // flooded us: no longer read, closed at the end of the round
  std::string handshakeFailure;  // why the transport's last handshake failed this round, if it did
  std::map<wire::RequestId, std::size_t> pending;  // correlation id → slot
  std::vector<std::size_t> waitingForSession;
  std::deque<Unsent> unsent;  // waits for the connection's handshake to complete
};

struct Slot {
  Connection* conn = nullptr;
  wire::RequestId requestId{};
  SteadyClock::time_point sentAt{};
  bool sent = false;
  bool done = false;
  bool usedSession = false;
  bool retried = false;
};

}  // namespace

class Dendrite::Impl {
 public:
  Impl(crypto::AnyPrivateKey hotkey, DendriteConfig config, std::shared_ptr<const Clock> clock,
       std::shared_ptr<Context> context, std::unique_ptr<zmtp::Poller> poller)
      : m_key(std::move(hotkey)),
        m_me(m_key.publicKey()),
        m_config(config),
        m_clock(std::move(clock)),
        m_context(std::move(context)),
        m_poller(std::move(poller)) {}

  const wire::Hotkey& hotkey() const { return m_me; }
  std::size_t connectionCount() const { return m_connections.size(); }

  std::vector<QueryResult> query(std::span<const AxonTarget> targets,
                                 std::span<const OutboundRequest> requests, SteadyClock::time_point deadline,
                                 const ResultCallback& onResult) {
    MERIT_ASSERT(requests.size() == 1 || requests.size() == targets.size(), requests.size(), targets.size());
    m_results.assign(targets.size(), QueryResult{});
    m_slots.assign(targets.size(), Slot{});
    m_requests = requests;
    m_bodyHashes.assign(requests.size(), std::nullopt);
    m_deadline = deadline;
    m_onResult = &onResult;
    m_remaining = targets.size();
    for (std::size_t i = 0; i < targets.size(); ++i) m_results[i].index = i;

    // Idle eviction and least-recently-used order are on the injected clock; the round's
    // deadline bounds real socket waits, so it stays on the real monotonic clock.
    const auto now = m_clock->monotonicNow();
    evictIdle(now);
    catchUp();
    std::vector<Connection*> active;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const OutboundRequest& req = requestFor(i);
      if (!wire::isValidModuleName(req.module)) {
        finishLocal(i, Status::kInternal, "invalid module name in the outbound request");
        continue;
      }
      auto conn = connectionFor(targets[i], now);
      if (!conn) {
        finishLocal(i,
                    conn.error().code() == ErrorCode::kOverloaded ? Status::kUnavailable : Status::kInternal,
                    conn.error().message());
        continue;
      }
      Connection& c = **conn;
      if (!c.inQuery) {
        c.inQuery = true;
        active.push_back(&c);
      }
      c.lastUsed = now;
      m_slots[i].conn = &c;
      if (m_config.mode == AuthMode::kSession && c.sessionState != Connection::SessionState::kReady) {
        c.waitingForSession.push_back(i);
        if (c.sessionState == Connection::SessionState::kNone) startHandshake(c);
      } else {
        sendRequest(c, i);
      }
    }

    // Every request of the round is out (or waits for its connection's handshake) before the
    // first wait. Input that arrived on these connections before the round (late answers) has
    // no event left to report it: it is read now.
    m_poller->flush();
    for (Connection* c : active) {
      if (SteadyClock::now() >= m_deadline) break;
      if (!c->broken && c->transport->hasInput()) {
        receiveSome(*c);
        if (!c->broken) trySend(*c);
      }
    }
    while (m_remaining > 0) {
      const auto left = m_deadline - SteadyClock::now();
      if (left <= SteadyClock::duration::zero()) break;
      // One epoll set for all connections: only those with events come back. Only connections
      // with a query in flight are read: nothing an axon sends between queries is taken from the
      // kernel (whose buffer per connection TCP flow control bounds); the others only have their
      // connection events handled. A connection that flooded us is not read again this round.
      // A signal handled on this thread (a daemon's SIGHUP, SIGTERM) returns no clients: the
      // round goes on until its deadline.
      auto ready = m_poller->wait(std::chrono::ceil<std::chrono::milliseconds>(left));
      if (!ready) {
        MERIT_LOG_ERROR(log::Category::kNet, "dendrite: poll failed: {}", ready.error().message());
        break;
      }
      // The connections read below get their first read in one system call (io_uring), not one
      // recv(2) each; what is read of a connection the deadline leaves unhandled is held by it,
      // counted in its buffered bytes, and dropped with it at the end of the round.
      m_toRead.clear();
      for (zmtp::TcpClient* t : *ready) {
        const auto* c = static_cast<const Connection*>(t->userData());
        if (c->inQuery && !c->broken) m_toRead.push_back(t);
      }
      m_poller->prefetch(m_toRead);
      for (zmtp::TcpClient* t : *ready) {
        if (SteadyClock::now() >= m_deadline) break;
        auto* c = static_cast<Connection*>(t->userData());
        if (!c->inQuery) {
          t->service();
        } else if (!c->broken) {
          receiveSome(*c);
          if (!c->broken) trySend(*c);  // the handshake may have just completed
        }
      }
    }

    // What the round queued last (a request behind a handshake that completed at the end) goes
    // out now, not at the start of the next round.
    m_poller->flush();
    for (std::size_t i = 0; i < m_slots.size(); ++i) {
      if (m_slots[i].done) continue;
      const Slot& s = m_slots[i];
      const bool reached = s.sent || (s.conn != nullptr && s.conn->handshakeSent);
      if (reached) {
        finishLocal(i, Status::kTimeout, "no response before the deadline");
      } else {
        std::string why = "could not connect before the deadline";
        if (s.conn != nullptr && !s.conn->handshakeFailure.empty()) {
          why += " (transport handshake failed: " + s.conn->handshakeFailure + ")";
        }
        finishLocal(i, Status::kUnavailable, std::move(why));
      }
    }
    for (Connection* c : active) {
      // A partial response left at the deadline would be held until the next query: drop the
      // connection instead (a late answer is worthless anyway).
      if (c->transport->buffered() > 0) resetTransport(*c);
      c->inQuery = false;
      c->junk = 0;
      c->handshakeFailure.clear();
      c->pending.clear();
      c->waitingForSession.clear();
      c->unsent.clear();
      if (c->sessionState == Connection::SessionState::kHandshaking)
        c->sessionState = Connection::SessionState::kNone;
      c->handshakeSent = false;
    }
    // Connections that flooded us are closed; the next round connects afresh.
    std::erase_if(m_connections, [this](const auto& kv) {
      if (!kv.second->broken) return false;
      m_buffered -= kv.second->buffered;
      return true;
    });
    m_onResult = nullptr;
    return std::move(m_results);
  }

 private:
  static crypto::SecretArray<32> randomKey() {
    crypto::SecretArray<32> key;
    crypto::randomBytes(key.mutableBytes());
    return key;
  }

  const OutboundRequest& requestFor(std::size_t i) const {
    return m_requests.size() == 1 ? m_requests[0] : m_requests[i];
  }

  // Unpredictable and unique: keyed BLAKE2b of a counter under a random key of this dendrite's,
  // rather than one getrandom(2) per request (a system call is a measurable share of what a
  // request costs the validator, docs/PERFORMANCE.md "Fan-out").
  wire::RequestId nextRequestId() {
    std::array<std::byte, 8> counter{};
    const std::uint64_t n = ++m_requestCounter;
    std::memcpy(counter.data(), &n, sizeof n);
    const crypto::Hash256 h = crypto::blake2b256Keyed(m_requestIdKey.reveal(), counter);
    wire::RequestId id;
    std::memcpy(id.data(), h.data(), id.size());
    return id;
  }

  std::uint64_t nextNonce() {
    const auto wallNs =
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, m_clock->nowUnixMs())) * 1'000'000u;
    std::uint64_t last = g_lastNonce.load(std::memory_order_relaxed);
    std::uint64_t next = 0;
    do {
      next = std::max(last + 1, wallNs);
    } while (!g_lastNonce.compare_exchange_weak(last, next, std::memory_order_relaxed));
    return next;
  }

  // Between rounds nothing waits on the connections (libzmq's I/O thread did): what happened to
  // them meanwhile is handled before anything is sent. A connection the axon closed is dialled
  // again at once (libzmq would have reconnected during the gap), so this round's request goes
  // out on the new connection instead of being written into the closed one. Nothing is read.
  void catchUp() {
    auto ready = m_poller->wait(std::chrono::milliseconds(0));
    if (!ready) return;
    for (zmtp::TcpClient* t : *ready) {
      t->service();
      if (t->waitingToReconnect()) (void)t->reset();
    }
  }

  void evictIdle(SteadyClock::time_point now) {
    std::erase_if(m_connections, [&](const auto& kv) {
      if (now - kv.second->lastUsed <= m_config.idleTimeout) return false;
      m_buffered -= kv.second->buffered;
      return true;
    });
  }

  Result<Connection*> connectionFor(const AxonTarget& t, SteadyClock::time_point now) {
    if (t.shield && !t.curvePublicKey) {
      return fail(ErrorCode::kInvalidArgument, "a shielded target needs the miner's CURVE public key");
    }
    // The key: endpoint, the hotkey's tagged bytes, the CURVE key's bytes and the shield flag, each
    // after a separator that cannot occur in an endpoint. Built in a buffer kept across targets,
    // so a cached connection is found without allocating.
    std::string& key = m_keyScratch;
    key.assign(t.endpoint);
    key.push_back('\0');
    const Bytes hotkey = t.hotkey.tagged();
    key.append(reinterpret_cast<const char*>(hotkey.data()), hotkey.size());
    if (t.curvePublicKey) {
      key.push_back('\1');
      key.append(reinterpret_cast<const char*>(t.curvePublicKey->data()), t.curvePublicKey->size());
    }
    if (t.shield) key.push_back('\2');
    if (auto it = m_connections.find(key); it != m_connections.end()) return it->second.get();
    if (m_connections.size() >= m_config.maxConnections) {
      auto lru = m_connections.end();
      for (auto it = m_connections.begin(); it != m_connections.end(); ++it) {
        if (!it->second->inQuery &&
            (lru == m_connections.end() || it->second->lastUsed < lru->second->lastUsed))
          lru = it;
      }
      if (lru == m_connections.end())
        return fail(ErrorCode::kOverloaded, "too many connections in one query");
      m_buffered -= lru->second->buffered;
      m_connections.erase(lru);
    }
    zmtp::TcpClientConfig cc;
    auto options = std::make_shared<zmtp::Options>();
    options->role = zmtp::Role::kClient;
    options->socketType = "DEALER";
    options->peerTypes = {"ROUTER"};
    options->limits.maxFrameBytes = m_config.maxResponseBytes + 4096;
    options->limits.maxMessageFrames = kMaxResponseFrames;
    options->limits.maxMessageBytes = m_config.maxResponseBytes + 4096 + wire::kRequestIdSize;
    if (t.shield) {
      // Shield mode: the client key only this validator and this miner can compute, which is the
      // key the miner's transport admits (merit/net/shield.h). It is an ECDH of the two hotkeys,
      // so both must be ecdsa.
      if (m_key.ecdsa() == nullptr || t.hotkey.ecdsa() == nullptr) {
        return fail(ErrorCode::kInvalidArgument,
                    "shield mode needs ecdsa hotkeys on both sides (ours is " +
                        std::string(crypto::schemeName(m_key.scheme())) + ", the miner's " +
                        std::string(crypto::schemeName(t.hotkey.scheme())) + ")");
      }
      const CurveKeyPair shielded = shieldClientKeyPair(*m_key.ecdsa(), *t.hotkey.ecdsa(),
                                                        m_key.ecdsa()->publicKey(), *t.hotkey.ecdsa());
      options->curve = zmtp::curveKeysFromSecret(shielded.secretKey.reveal(), *t.curvePublicKey);
    } else if (t.curvePublicKey) {
      // One ephemeral key for every other CURVE connection.
      if (!m_curve) {
        MERIT_ASSIGN_OR_RETURN(auto pair, CurveKeyPair::generate());
        m_curve = std::make_unique<CurveKeyPair>(std::move(pair));
      }
      options->curve = zmtp::curveKeysFromSecret(m_curve->secretKey.reveal(), *t.curvePublicKey);
    }
    cc.engine = std::move(options);
    MERIT_ASSIGN_OR_RETURN(auto transport, zmtp::TcpClient::connect(*m_poller, t.endpoint, std::move(cc)));
    auto conn = std::make_unique<Connection>(std::move(transport), t.hotkey);
    conn->lastUsed = now;
    Connection* raw = conn.get();
    m_connections.emplace(key, std::move(conn));
    return raw;
  }

  void resetTransport(Connection& c) {
    m_buffered -= c.buffered;
    c.buffered = 0;
    if (auto ok = c.transport->reset(); !ok) {
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kWarn, "dendrite: {}", ok.error().message());
    }
  }

  void startHandshake(Connection& c) {
    wire::SessionInit init;
    init.caller = m_me;
    init.target = c.wireHotkey;
    init.timestampMs = m_clock->nowUnixMs();
    crypto::randomBytes(init.clientNonce);
    c.ephemeral = std::make_unique<wire::EphemeralKeyPair>(wire::EphemeralKeyPair::generate());
    init.clientEphemeral = c.ephemeral->publicKey;
    wire::signSessionInit(init, m_key);
    c.clientNonce = init.clientNonce;
    crypto::randomBytes(c.handshakeCorrelation);
    c.sessionState = Connection::SessionState::kHandshaking;
    c.unsent.push_back(Unsent{c.handshakeCorrelation, encodeToZmq(init), kNoSlot});
    trySend(c);
  }

  void sendRequest(Connection& c, std::size_t i) {
    const OutboundRequest& out = requestFor(i);
    wire::Request r;
    auto& h = r.header;
    h.netuid = out.netuid;
    h.module = out.module;
    h.moduleVersion = out.moduleVersion;
    h.requestId = nextRequestId();
    h.caller = m_me;
    h.target = c.wireHotkey;
    h.timestampMs = m_clock->nowUnixMs();
    h.nonce = nextNonce();
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(m_deadline - SteadyClock::now()).count();
    h.timeoutMs = static_cast<std::uint32_t>(std::clamp<std::int64_t>(left, 1, UINT32_MAX));
    // One request sent to every target is hashed once per round, not once per target.
    auto& bodyHash = m_bodyHashes[m_requests.size() == 1 ? 0 : i];
    if (!bodyHash) bodyHash = wire::hashBody(out.body);
    h.bodyHash = *bodyHash;
    r.body = out.body;
    Slot& s = m_slots[i];
    s.requestId = h.requestId;
    if (m_config.mode == AuthMode::kSession) {
      MERIT_ASSERT(c.sessionKey != nullptr);
      wire::macRequest(r, *c.sessionKey, c.sessionId);
      s.usedSession = true;
    } else {
      wire::signRequest(r, m_key);
    }
    c.pending[h.requestId] = i;
    // Encoded into a buffer kept across requests. With nothing queued before it, it goes to the
    // transport at once (which copies it into its output); otherwise, or while the transport cannot
    // take it, it waits in the connection's queue behind the others.
    wire::encodeInto(r, [this](std::size_t size) {
      m_encoded.resize(size);
      return MutableByteView(m_encoded);
    });
    const ByteView frames[] = {ByteView(h.requestId), ByteView(m_encoded)};
    if (c.unsent.empty() && c.transport->send(frames)) {
      markSent(c, i);
      return;
    }
    c.unsent.push_back(Unsent{h.requestId, zmq::message_t(m_encoded.data(), m_encoded.size()), i});
    trySend(c);
  }

  void markSent(Connection& c, std::size_t slot) {
    c.everSent = true;
    if (slot == kNoSlot) {
      c.handshakeSent = true;
    } else {
      m_slots[slot].sent = true;
      m_slots[slot].sentAt = SteadyClock::now();
    }
  }

  void trySend(Connection& c) {
    while (!c.unsent.empty()) {
      Unsent& u = c.unsent.front();
      const ByteView frames[] = {ByteView(u.correlation), viewOf(u.payload)};
      // Not sent: no connection with a completed handshake yet (or its outgoing queue is full).
      if (!c.transport->send(frames)) return;
      markSent(c, u.slot);
      c.unsent.pop_front();
    }
  }

  // Reads what `c` has: at most kMaxChunksPerWake chunks, and no message is handled past the
  // deadline. A message that breaks the transport's limits closes the connection there; junk
  // that fits them (malformed or unsolicited messages) counts against the connection's
  // allowance for the round. Either way only this connection's slots end, as INVALID_RESPONSE.
  void receiveSome(Connection& c) {
    // Junk is counted as it is parsed and never kept; a message is kept only for a correlation
    // id we wait for, once per wake-up, so what this holds is bounded by what we asked for.
    std::vector<zmtp::Message> messages;
    std::set<wire::RequestId> kept;
    c.transport->receive(kMaxChunksPerWake, [&](zmtp::Message&& m) {
      if (c.junk > kJunkAllowance) return;  // closed below; nothing more is worth keeping
      if (m.size() != 2 || m[0].size() != wire::kRequestIdSize) {
        MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug, "dendrite: malformed frames from {}…",
                               c.hotkey.toHex().substr(0, 12));
        ++c.junk;
        return;
      }
      wire::RequestId corr;
      std::memcpy(corr.data(), m[0].data(), corr.size());
      const bool awaited =
          (c.sessionState == Connection::SessionState::kHandshaking && corr == c.handshakeCorrelation) ||
          c.pending.contains(corr);
      if (!awaited || !kept.insert(corr).second) {  // a late answer to an earlier query, or junk
        ++c.junk;
        return;
      }
      messages.push_back(std::move(m));
    });
    // All connections' partial responses together stay under maxBufferedBytes.
    const std::size_t now = c.transport->buffered();
    m_buffered = m_buffered - c.buffered + now;
    c.buffered = now;
    if (m_buffered > m_config.maxBufferedBytes) {
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug,
                             "dendrite: partial responses over {} bytes; dropping the connection to {}…",
                             m_config.maxBufferedBytes, c.hotkey.toHex().substr(0, 12));
      resetTransport(c);
    }
    for (auto& frames : messages) {
      if (c.broken || SteadyClock::now() >= m_deadline) break;
      wire::RequestId corr;
      std::memcpy(corr.data(), frames[0].data(), corr.size());
      const ByteView payload = frames[1];
      if (c.sessionState == Connection::SessionState::kHandshaking && corr == c.handshakeCorrelation) {
        onSessionReply(c, payload);
        continue;
      }
      auto it = c.pending.find(corr);
      if (it == c.pending.end()) continue;  // its slot was ended meanwhile
      const std::size_t i = it->second;
      c.pending.erase(it);
      if (!m_slots[i].done) onResponse(c, i, payload);
    }
    if (auto failure = c.transport->takeFailure()) {
      if (failure->afterHandshake) {
        // The transport has already dropped the connection (and reads none of the rest).
        breakConnection(c, "broke the transport's limits (" + failure->reason + ")");
        return;
      }
      // Refused or failed in the handshake: like an axon that cannot be reached, its slots end
      // UNAVAILABLE at the deadline while the transport keeps trying; the reason goes into the
      // result.
      c.handshakeFailure = failure->reason;
    }
    if (c.junk > kJunkAllowance) breakConnection(c, "flooded us with unsolicited or malformed messages");
  }

  // Ends every unfinished slot of `c` as INVALID_RESPONSE and stops reading it; the connection
  // is closed at the end of the round (the next round connects afresh).
  void breakConnection(Connection& c, const std::string& why) {
    c.broken = true;
    MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug,
                           "dendrite: closing the connection to {}…: {}", c.hotkey.toHex().substr(0, 12),
                           why);
    for (std::size_t i = 0; i < m_slots.size(); ++i) {
      if (m_slots[i].conn == &c && !m_slots[i].done)
        finishLocal(i, Status::kInvalidResponse, "the axon " + why);
    }
    c.pending.clear();
    c.waitingForSession.clear();
    c.unsent.clear();
  }

  void onSessionReply(Connection& c, ByteView payload) {
    auto decoded = wire::decode(payload, wire::DecodeLimits{m_config.maxResponseBytes, 8});
    std::vector<std::size_t> waiting;
    waiting.swap(c.waitingForSession);
    c.sessionState = Connection::SessionState::kNone;
    // Used for this reply only, whatever it says: a handshake never reuses an ephemeral key.
    std::unique_ptr<wire::EphemeralKeyPair> ephemeral = std::move(c.ephemeral);
    const auto* reply = decoded ? std::get_if<wire::SessionReply>(&*decoded) : nullptr;
    if (reply == nullptr || reply->clientNonce != c.clientNonce || ephemeral == nullptr) {
      for (auto i : waiting) finishLocal(i, Status::kInvalidResponse, "malformed session reply");
      return;
    }
    if (reply->status != Status::kOk) {
      for (auto i : waiting)
        finish(i, QueryResult{i, reply->status, reply->message, {}, {}, false, Origin::kAxon});
      return;
    }
    if (auto ok = wire::verifySessionAccept(*reply, m_me, ephemeral->publicKey, c.hotkey); !ok) {
      for (auto i : waiting) finishLocal(i, Status::kInvalidResponse, ok.error().message());
      return;
    }
    auto key = wire::deriveSessionKey(
        ephemeral->secretKey, reply->serverEphemeral,
        wire::SessionTranscript{m_me, c.wireHotkey, ephemeral->publicKey, reply->serverEphemeral,
                                c.clientNonce, reply->serverNonce, reply->sessionId});
    if (!key) {
      for (auto i : waiting) finishLocal(i, Status::kInvalidResponse, key.error().message());
      return;
    }
    c.sessionKey = std::make_unique<wire::SessionKey>(std::move(*key));
    c.sessionId = reply->sessionId;
    c.sessionState = Connection::SessionState::kReady;
    for (auto i : waiting) {
      if (!m_slots[i].done) sendRequest(c, i);
    }
  }

  void onResponse(Connection& c, std::size_t i, ByteView payload) {
    Slot& s = m_slots[i];
    const auto latency = SteadyClock::now() - s.sentAt;
    auto decoded = wire::decode(payload, wire::DecodeLimits{m_config.maxResponseBytes, 8});
    auto* resp = decoded ? std::get_if<wire::Response>(&*decoded) : nullptr;
    if (resp == nullptr) {
      finishLocal(i, Status::kInvalidResponse, decoded ? "not a response" : decoded.error().message(),
                  latency);
      return;
    }
    if (resp->requestId != s.requestId) {
      finishLocal(i, Status::kInvalidResponse, "response names another request", latency);
      return;
    }
    switch (resp->auth.kind) {
      case wire::Authenticator::Kind::kNone:
        if (resp->status == Status::kOk) {
          finishLocal(i, Status::kInvalidResponse, "unauthenticated OK response", latency);
          return;
        }
        if (resp->status == Status::kUnauthorized && s.usedSession && !s.retried) {
          // Most likely the axon restarted and forgot the session: handshake again, once.
          s.retried = true;
          s.sent = false;
          c.sessionKey.reset();
          c.waitingForSession.push_back(i);
          if (c.sessionState != Connection::SessionState::kHandshaking) startHandshake(c);
          return;
        }
        finish(i, QueryResult{i, resp->status, std::move(resp->message), {}, latency, false, Origin::kAxon});
        return;
      case wire::Authenticator::Kind::kSignature:
        if (auto ok = wire::verifyResponseSignature(*resp, m_me, c.hotkey); !ok) {
          finishLocal(i, Status::kInvalidResponse, ok.error().message(), latency);
          return;
        }
        break;
      case wire::Authenticator::Kind::kSessionMac:
        if (c.sessionKey == nullptr || resp->auth.sessionId != c.sessionId) {
          finishLocal(i, Status::kInvalidResponse, "response MAC names an unknown session", latency);
          return;
        }
        if (auto ok = wire::verifyResponseMac(*resp, m_me, c.wireHotkey, *c.sessionKey); !ok) {
          finishLocal(i, Status::kInvalidResponse, ok.error().message(), latency);
          return;
        }
        break;
    }
    if (wire::hashBody(resp->body) != resp->bodyHash) {
      finishLocal(i, Status::kInvalidResponse, "response body hash mismatch", latency);
      return;
    }
    finish(i, QueryResult{i, resp->status, std::move(resp->message), std::move(resp->body), latency, true,
                          Origin::kAxon});
  }

  void finishLocal(std::size_t i, Status status, std::string message,
                   SteadyClock::duration latency = SteadyClock::duration::zero()) {
    finish(i, QueryResult{i, status, std::move(message), {}, latency, false, Origin::kDendrite});
  }

  void finish(std::size_t i, QueryResult result) {
    Slot& s = m_slots[i];
    if (s.done) return;
    s.done = true;
    --m_remaining;
    if (s.sent && m_deadline > s.sentAt) result.budget = m_deadline - s.sentAt;
    m_results[i] = std::move(result);
    if (m_onResult != nullptr && *m_onResult) (*m_onResult)(m_results[i]);
  }

  const crypto::AnyPrivateKey m_key;
  const wire::Hotkey m_me;
  const DendriteConfig m_config;
  const std::shared_ptr<const Clock> m_clock;
  // Shared with the caller's other sockets; the dendrite's own connections no longer use ZeroMQ.
  [[maybe_unused]] const std::shared_ptr<Context> m_context;
  // Declared before m_connections: the connections' clients go first.
  const std::unique_ptr<zmtp::Poller> m_poller;
  std::unique_ptr<CurveKeyPair> m_curve;  // made on first CURVE target
  // Hashed: every target of every round is looked up here, and the keys (endpoint, hotkey and
  // CURVE key bytes) share long prefixes that an ordered map compares again at every level.
  std::unordered_map<std::string, std::unique_ptr<Connection>> m_connections;
  std::string m_keyScratch;    // connectionFor()'s key, reused
  std::size_t m_buffered = 0;  // sum of Connection::buffered
  const crypto::SecretArray<32> m_requestIdKey = randomKey();
  std::uint64_t m_requestCounter = 0;

  // The query in progress.
  std::vector<QueryResult> m_results;
  std::vector<Slot> m_slots;
  std::span<const OutboundRequest> m_requests;
  std::vector<std::optional<crypto::Hash256>> m_bodyHashes;  // of m_requests, hashed when first sent
  SteadyClock::time_point m_deadline{};
  const ResultCallback* m_onResult = nullptr;
  std::size_t m_remaining = 0;
  std::vector<zmtp::TcpClient*> m_toRead;  // of one wake-up
  Bytes m_encoded;                         // sendRequest()'s encoded request, reused
};

Dendrite::Dendrite(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Dendrite::~Dendrite() = default;

Result<std::unique_ptr<Dendrite>> Dendrite::create(crypto::AnyPrivateKey hotkey, DendriteConfig config,
                                                   std::shared_ptr<const Clock> clock,
                                                   std::shared_ptr<Context> context) {
  if (!clock) return fail(ErrorCode::kInvalidArgument, "a dendrite needs a clock");
  if (config.maxConnections == 0) return fail(ErrorCode::kInvalidArgument, "maxConnections must be positive");
  MERIT_ASSIGN_OR_RETURN(auto poller, zmtp::Poller::create(config.batchSystemCalls ? zmtp::Batching::kAuto
                                                                                   : zmtp::Batching::kOff));
  return std::unique_ptr<Dendrite>(new Dendrite(std::make_unique<Impl>(
      std::move(hotkey), config, std::move(clock), std::move(context), std::move(poller))));
}

std::vector<QueryResult> Dendrite::query(std::span<const AxonTarget> targets,
                                         std::span<const OutboundRequest> requests,
                                         std::chrono::steady_clock::time_point deadline,
                                         const ResultCallback& onResult) {
  return m_impl->query(targets, requests, deadline, onResult);
}

const wire::Hotkey& Dendrite::hotkey() const {
  return m_impl->hotkey();
}
std::size_t Dendrite::connectionCount() const {
  return m_impl->connectionCount();
}

}  // namespace merit::net
