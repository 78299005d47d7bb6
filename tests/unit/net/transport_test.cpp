// The transport under attack, in-process against the real Axon, Dendrite and Publisher, and
// interoperability of our ZMTP engine with real libzmq peers (DEALER, ROUTER and SUB; NULL and
// CURVE). Every attack test then checks that honest traffic is still served.
//
// Fails at 8f8197f: a libzmq ROUTER (the axon then) buffers the frames of an unfinished message
// without bound — a peer streaming 1 MiB frames marked "more" grew the process past 1 GiB in
// 4 s (recorded in docs/PROTOCOL.md, "Transport limits"); there was no connection limit and no
// handshake deadline, and the feed's PUB socket accepted any subscriber input.
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>
#include <zmq.hpp>

#include "merit/net/axon.h"
#include "merit/net/dendrite.h"
#include "merit/net/publisher.h"
#include "merit/wire/auth.h"
#include "merit/wire/codec.h"

#include "raw_zmtp.h"
#include "test_support.h"

namespace merit::net {
namespace {

using namespace std::chrono_literals;
using merit::test::eventually;
using merit::testing::portOf;
using merit::testing::RawZmtp;
using merit::testing::residentKiB;
using wire::Status;
using SteadyClock = std::chrono::steady_clock;

// Memory a single attack may add to this process (the attacks would add GiBs without limits).
constexpr long kBoundKiB = 160 * 1024;

ModuleHandler echo() {
  return {"echo", 1, [](std::span<const wire::Request> batch) {
            std::vector<Reply> out;
            for (const auto& r : batch) out.push_back(Reply{Status::kOk, {}, r.body});
            return out;
          }};
}

struct World {
  std::shared_ptr<Context> context = Context::create().value();
  std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>();
  crypto::PrivateKey validator = crypto::PrivateKey::generate();
  std::shared_ptr<StaticCallerPolicy> policy = std::make_shared<StaticCallerPolicy>();
  crypto::PrivateKey minerKey = crypto::PrivateKey::generate();
  std::unique_ptr<Axon> axon;

  World() { policy->allow(validator.publicKey(), 1000); }

  Axon& start(AxonConfig config = {}) {
    auto a =
        Axon::start(std::move(config),
                    crypto::AnyPrivateKey(crypto::PrivateKey::fromBytes(minerKey.revealSecret()).value()),
                    policy, {echo()}, clock, context);
    REQUIRE(a);
    axon = std::move(*a);
    return *axon;
  }

  std::unique_ptr<Dendrite> dendrite(DendriteConfig config = {}) {
    auto d = Dendrite::create(
        crypto::AnyPrivateKey(crypto::PrivateKey::fromBytes(validator.revealSecret()).value()), config, clock,
        context);
    REQUIRE(d);
    return std::move(*d);
  }

  // An honest query answered OK and authenticated.
  bool honest(std::optional<ByteArray<32>> curveKey = std::nullopt) {
    auto d = dendrite();
    AxonTarget t{axon->endpoint(), minerKey.publicKey(), curveKey};
    OutboundRequest r{1, "echo", 1, toBytes("honest")};
    auto results = d->query(std::span(&t, 1), std::span(&r, 1), SteadyClock::now() + 10s);
    return results[0].status == Status::kOk && results[0].authenticated &&
           results[0].body == toBytes("honest");
  }
};

wire::Request signedRequest(const crypto::PrivateKey& caller, const crypto::PublicKey& target,
                            const std::string& body) {
  wire::Request r;
  r.header.netuid = 1;
  r.header.module = "echo";
  r.header.moduleVersion = 1;
  crypto::randomBytes(r.header.requestId);
  r.header.caller = caller.publicKey();
  r.header.target = target;
  r.header.timestampMs = SystemClock().nowUnixMs();
  static std::atomic<std::uint64_t> nonce{static_cast<std::uint64_t>(SystemClock().nowUnixMs()) * 1000};
  r.header.nonce = ++nonce;
  r.header.timeoutMs = 5000;
  r.body = toBytes(body);
  r.header.bodyHash = wire::hashBody(r.body);
  wire::signRequest(r, caller);
  return r;
}

std::string str(ByteView b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace

TEST_CASE(
    "axon: endless frames marked more, many tiny frames and a huge frame disconnect the peer; memory "
    "bounded") {
  World w;
  AxonConfig config;
  config.maxMessageBytes = 1u << 20;
  config.transportMaxMessageBytes = 4u << 20;
  config.maxBufferedBytes = 4u << 20;
  Axon& axon = w.start(config);
  const int port = portOf(axon.endpoint());
  const long before = residentKiB();

  // 1 MiB frames marked "more", up to 1 GiB: cut off at the 4 MiB message limit.
  for (int round = 0; round < 3; ++round) {
    RawZmtp p(port);
    REQUIRE(p.nullHandshake());
    // Cut off well before the cap (loopback moves ~1 GiB/s, so how much the kernel took before
    // the close landed depends on the machine's load; memory is what is bounded, checked below).
    const std::uint64_t sent = p.streamMoreFrames(1u << 20, 1ull << 30);
    CHECK(sent < (1ull << 30));
    CHECK(p.peerClosed(5000));
  }
  // Tiny frames marked "more": cut off after maxFramesPerMessage.
  {
    RawZmtp p(port);
    REQUIRE(p.nullHandshake());
    CHECK(p.streamMoreFrames(1, 256ull << 20) < (256ull << 20));
    CHECK(p.peerClosed(5000));
  }
  // A frame declared 1 TiB: refused at its header.
  {
    RawZmtp p(port);
    REQUIRE(p.nullHandshake());
    CHECK(p.write(RawZmtp::header(0x00, 1ull << 40) + "abc"));
    CHECK(p.peerClosed(5000));
  }
  CHECK(residentKiB() - before < kBoundKiB);
  CHECK(axon.stats().peersDisconnected >= 5);
  CHECK(w.honest());
}

TEST_CASE("axon: bogus greeting and handshake garbage disconnect the peer; honest clients still served") {
  World w;
  Axon& axon = w.start();
  const int port = portOf(axon.endpoint());
  {
    RawZmtp p(port);
    CHECK(p.write(std::string(64, 'G')));
    CHECK(p.peerClosed(5000));
  }
  {  // a message frame before READY
    RawZmtp p(port);
    CHECK(p.write(RawZmtp::greeting("NULL")));
    CHECK(p.write(RawZmtp::frame("hello", false)));
    CHECK(p.peerClosed(5000));
  }
  {  // the wrong mechanism
    RawZmtp p(port);
    CHECK(p.write(RawZmtp::greeting("CURVE")));
    CHECK(p.peerClosed(5000));
  }
  {  // a handshake command declared 1 MiB
    RawZmtp p(port);
    CHECK(p.write(RawZmtp::greeting("NULL")));
    CHECK(p.write(RawZmtp::header(0x04, 1u << 20) + std::string(1000, 'z')));
    CHECK(p.peerClosed(5000));
  }
  {  // an incompatible socket type, and garbage metadata
    RawZmtp p(port);
    CHECK(p.nullHandshake("PUB"));
    CHECK(p.peerClosed(5000));
    RawZmtp q(port);
    CHECK(q.write(RawZmtp::greeting("NULL")));
    CHECK(q.write(RawZmtp::command(std::string("\x05READY\xff", 7) + "junk")));
    CHECK(q.peerClosed(5000));
  }
  CHECK(w.honest());
}

TEST_CASE("axon: connections beyond the limit are refused and unfinished handshakes time out") {
  World w;
  AxonConfig config;
  config.maxConnections = 8;
  config.maxConnectionsPerAddress = 8;
  config.handshakeTimeout = 1000ms;
  Axon& axon = w.start(config);
  const int port = portOf(axon.endpoint());
  std::vector<std::unique_ptr<RawZmtp>> idle;
  idle.reserve(24);
  for (int i = 0; i < 24; ++i) idle.push_back(std::make_unique<RawZmtp>(port));
  CHECK(eventually([&] { return axon.stats().connectionsRefused >= 16; }));
  CHECK(axon.stats().connections <= 8);
  // Slots held by silent connections come free at the handshake deadline.
  for (auto& p : idle) CHECK(p->peerClosed(10'000));
  CHECK(eventually([&] { return axon.stats().connections == 0; }));
  CHECK(w.honest());
}

TEST_CASE("axon: a peer queuing requests without reading replies holds bounded memory") {
  World w;
  Axon& axon = w.start();
  const int port = portOf(axon.endpoint());
  const long before = residentKiB();
  RawZmtp p(port);
  REQUIRE(p.nullHandshake());
  // 20000 complete requests (each answered BAD_REQUEST), written in batches, never reading.
  const std::string one =
      RawZmtp::frame(std::string(16, 'c'), true) + RawZmtp::frame(std::string(200, 'g'), false);
  std::string batch;
  for (int i = 0; i < 200; ++i) batch += one;
  int written = 0;
  for (int i = 0; i < 100; ++i) {
    if (!p.write(batch)) break;
    ++written;
  }
  CHECK(written > 0);
  CHECK(eventually([&] { return axon.stats().responses[static_cast<int>(Status::kBadRequest)] >= 1000; }));
  CHECK(residentKiB() - before < kBoundKiB);
  CHECK(w.honest());
}

TEST_CASE("interop: libzmq DEALER over CURVE to the axon; the authorizer admits only listed keys") {
  World w;
  auto server = CurveKeyPair::generate().value();
  auto allowed = CurveKeyPair::generate().value();
  auto stranger = CurveKeyPair::generate().value();
  AxonConfig config;
  ByteArray<32> secret{};
  std::copy(server.secretKey.reveal().begin(), server.secretKey.reveal().end(), secret.begin());
  config.curveSecretKey = secret;
  std::mutex seenMutex;
  std::vector<ByteArray<32>> seen;
  config.curveClientAuthorizer = [&](const ByteArray<32>& key) {
    std::lock_guard lock(seenMutex);
    seen.push_back(key);
    return key == allowed.publicKey;
  };
  Axon& axon = w.start(config);

  zmq::context_t ctx(1);
  auto dealer = [&](const CurveKeyPair& client) {
    auto s = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
    s->set(zmq::sockopt::linger, 0);
    s->set(zmq::sockopt::curve_serverkey, zmq::const_buffer(server.publicKey.data(), 32));
    s->set(zmq::sockopt::curve_publickey, zmq::const_buffer(client.publicKey.data(), 32));
    s->set(zmq::sockopt::curve_secretkey, zmq::const_buffer(client.secretKey.reveal().data(), 32));
    s->connect(axon.endpoint());
    return s;
  };
  auto ask = [&](zmq::socket_t& s, std::chrono::milliseconds wait) -> std::optional<wire::Response> {
    wire::RequestId corr{};
    crypto::randomBytes(corr);
    Bytes req = wire::encode(signedRequest(w.validator, w.minerKey.publicKey(), "over curve"));
    s.send(zmq::buffer(corr.data(), corr.size()), zmq::send_flags::sndmore);
    s.send(zmq::buffer(req.data(), req.size()), zmq::send_flags::none);
    zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, wait) == 0) return std::nullopt;
    zmq::message_t c, payload;
    REQUIRE(s.recv(c));
    REQUIRE(c.more());
    REQUIRE(s.recv(payload));
    auto m = wire::decode({static_cast<const std::byte*>(payload.data()), payload.size()});
    REQUIRE(m);
    return std::get<wire::Response>(*m);
  };
  auto good = dealer(allowed);
  auto r = ask(*good, 10s);
  REQUIRE(r);
  CHECK(r->status == Status::kOk);
  CHECK(str(r->body) == "over curve");
  // Many messages over one CURVE connection (nonces keep increasing both ways).
  for (int i = 0; i < 20; ++i) CHECK(ask(*good, 10s).has_value());

  auto bad = dealer(stranger);
  CHECK_FALSE(ask(*bad, 1500ms).has_value());
  {
    std::lock_guard lock(seenMutex);
    CHECK(std::find(seen.begin(), seen.end(), stranger.publicKey) != seen.end());
  }
  CHECK(axon.stats().responses[static_cast<int>(Status::kOk)] == 21);
  // A CURVE HELLO full of garbage is refused and changes nothing.
  {
    RawZmtp p(portOf(axon.endpoint()));
    std::string g = RawZmtp::greeting("CURVE");
    CHECK(p.write(g));
    std::string hello = "\x05HELLO";
    hello += std::string("\x01\x00", 2);
    hello += std::string(192, '\x07');
    CHECK(p.write(RawZmtp::command(hello)));
    CHECK(p.peerClosed(5000));
  }
  CHECK(ask(*good, 10s).has_value());
}

namespace {

// A libzmq ROUTER standing in for an axon: answers every request with a signed OK echo.
struct LibzmqAxon {
  zmq::context_t ctx{1};
  zmq::socket_t router{ctx, zmq::socket_type::router};
  crypto::PrivateKey key = crypto::PrivateKey::generate();
  std::string endpoint;
  std::atomic<bool> stop{false};
  std::thread thread;

  explicit LibzmqAxon(const CurveKeyPair* curve) {
    router.set(zmq::sockopt::linger, 0);
    if (curve != nullptr) {
      router.set(zmq::sockopt::curve_server, 1);
      router.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(curve->secretKey.reveal().data(), 32));
    }
    router.bind("tcp://127.0.0.1:*");
    endpoint = router.get(zmq::sockopt::last_endpoint);
    thread = std::thread([this] { run(); });
  }
  ~LibzmqAxon() {
    stop = true;
    thread.join();
  }
  void run() {
    while (!stop) {
      zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, 50ms) == 0) continue;
      zmq::message_t id, corr, payload;
      (void)router.recv(id);
      (void)router.recv(corr);
      (void)router.recv(payload);
      auto m = wire::decode({static_cast<const std::byte*>(payload.data()), payload.size()});
      if (!m || !std::holds_alternative<wire::Request>(*m)) continue;
      const auto& req = std::get<wire::Request>(*m);
      wire::Response r;
      r.requestId = req.header.requestId;
      r.status = Status::kOk;
      r.timestampMs = SystemClock().nowUnixMs();
      r.body = req.body;
      r.bodyHash = wire::hashBody(r.body);
      wire::signResponse(r, req.header.caller, key);
      Bytes out = wire::encode(r);
      router.send(id, zmq::send_flags::sndmore);
      router.send(corr, zmq::send_flags::sndmore);
      router.send(zmq::buffer(out.data(), out.size()), zmq::send_flags::none);
    }
  }
};

// A fake miner speaking raw ZMTP: completes the NULL handshake as a ROUTER, then streams 1 MiB
// frames marked "more" forever, on every connection.
struct FloodingMiner {
  int listenFd = -1;
  int port = 0;
  std::atomic<bool> stop{false};
  std::thread thread;

  FloodingMiner() {
    listenFd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listenFd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listenFd, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(listenFd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    thread = std::thread([this] { run(); });
  }
  ~FloodingMiner() {
    stop = true;
    ::shutdown(listenFd, SHUT_RDWR);
    thread.join();
    ::close(listenFd);
  }
  void run() {
    const std::string junk = RawZmtp::frame(std::string(1u << 20, 'j'), true);
    while (!stop) {
      pollfd p{listenFd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int fd = ::accept(listenFd, nullptr, nullptr);
      if (fd < 0) continue;
      timeval tv{0, 200'000};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      const std::string hs = RawZmtp::greeting("NULL") + RawZmtp::command(RawZmtp::readyBody("ROUTER"));
      (void)!::send(fd, hs.data(), hs.size(), MSG_NOSIGNAL);
      while (!stop) {
        const ssize_t n = ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
        char buf[4096];
        while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        }
      }
      ::close(fd);
    }
  }
};

}  // namespace

TEST_CASE("interop: our dendrite against a libzmq ROUTER, NULL and CURVE") {
  World w;
  auto curve = CurveKeyPair::generate().value();
  for (bool encrypted : {false, true}) {
    LibzmqAxon fake(encrypted ? &curve : nullptr);
    auto d = w.dendrite();
    AxonTarget t{fake.endpoint, fake.key.publicKey(),
                 encrypted ? std::optional(curve.publicKey) : std::nullopt};
    for (int i = 0; i < 5; ++i) {
      OutboundRequest r{1, "echo", 1, toBytes("ping " + std::to_string(i))};
      auto results = d->query(std::span(&t, 1), std::span(&r, 1), SteadyClock::now() + 10s);
      CHECK(results[0].status == Status::kOk);
      CHECK(results[0].authenticated);
      CHECK(str(results[0].body) == "ping " + std::to_string(i));
    }
  }
}

// True once no IPv4 TCP connection to local `port` is still ESTABLISHED as seen from its client end
// (/proc/net/tcp: a client that has received the server's FIN is in CLOSE_WAIT).
static bool noClientEstablishedTo(std::uint16_t port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    const auto colon = remote.find(':');
    if (colon == std::string::npos) continue;
    if (std::stoul(remote.substr(colon + 1), nullptr, 16) == port && state == "01") return false;
  }
  return true;
}

namespace {

// Runs the enclosing test once with the dendrite batching its system calls (io_uring where the
// kernel allows it) and once with plain send(2)/recv(2).
DendriteConfig batchingSubcase() {
  DendriteConfig config;
  SUBCASE("system calls batched (io_uring)") {
    config.batchSystemCalls = true;
  }
  SUBCASE("plain send/recv") {
    config.batchSystemCalls = false;
  }
  return config;
}

}  // namespace

TEST_CASE("dendrite: an axon restarted between rounds answers the next round on a new connection") {
  World w;
  const std::string endpoint = w.start().endpoint();
  auto d = w.dendrite(batchingSubcase());
  AxonTarget t{endpoint, w.minerKey.publicKey(), {}};
  OutboundRequest r{1, "echo", 1, toBytes("before")};
  REQUIRE(d->query(std::span(&t, 1), std::span(&r, 1), SteadyClock::now() + 10s)[0].status == Status::kOk);
  w.axon->stop();
  w.axon.reset();
  // "Between rounds": the old connection's close has reached the dendrite's end (libzmq closes it
  // on its own thread after stop(); a request written before the FIN arrives is lost in any TCP
  // client, which is not what this test is about).
  const auto port = static_cast<std::uint16_t>(portOf(endpoint));
  REQUIRE(eventually([&] { return noClientEstablishedTo(port); }));
  // libzmq closes the old listener on its own thread after stop(), so the port can still be
  // taken for a moment: bind again until it is free (the event itself, bounded).
  AxonConfig config;
  config.bindEndpoint = endpoint;
  REQUIRE(eventually([&] {
    auto a = Axon::start(
        config, crypto::AnyPrivateKey(crypto::PrivateKey::fromBytes(w.minerKey.revealSecret()).value()),
        w.policy, {echo()}, w.clock, w.context);
    if (a) w.axon = std::move(*a);
    return w.axon != nullptr;
  }));
  // The old connection's close waits in the dendrite's epoll set, read by no one between rounds:
  // the request must not be written into that connection (and be lost) but go out on a new one.
  r.body = toBytes("after");
  auto results = d->query(std::span(&t, 1), std::span(&r, 1), SteadyClock::now() + 10s);
  CHECK(results[0].status == Status::kOk);
  CHECK(str(results[0].body) == "after");
  CHECK(results[0].latency < 5s);
}

TEST_CASE("dendrite: a miner flooding its connection affects only its own result; memory bounded") {
  World w;
  w.start();
  FloodingMiner flood;
  const long before = residentKiB();
  DendriteConfig config = batchingSubcase();
  config.maxResponseBytes = 1u << 20;
  auto d = w.dendrite(config);
  std::vector<AxonTarget> targets{
      AxonTarget{
          "tcp://127.0.0.1:" + std::to_string(flood.port), crypto::PrivateKey::generate().publicKey(), {}},
      AxonTarget{w.axon->endpoint(), w.minerKey.publicKey(), {}}};
  std::vector<OutboundRequest> req{OutboundRequest{1, "echo", 1, toBytes("fine")}};
  for (int round = 0; round < 3; ++round) {
    const auto start = SteadyClock::now();
    auto results = d->query(targets, req, SteadyClock::now() + 2s);
    CHECK(SteadyClock::now() - start < 8s);
    CHECK(results[0].status != Status::kOk);
    CHECK(results[1].status == Status::kOk);
    CHECK(results[1].authenticated);
    // Between queries the flood goes on; nothing is read from it.
    std::this_thread::sleep_for(500ms);
    CHECK(residentKiB() - before < kBoundKiB);
  }
}

TEST_CASE("publisher: libzmq SUB receives; hostile subscribers are disconnected; memory bounded") {
  auto pub = Publisher::bind("tcp://127.0.0.1:*");
  REQUIRE(pub);
  Publisher& p = **pub;
  zmq::context_t ctx(1);
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::subscribe, "block");
  sub.connect(p.endpoint());
  zmq::socket_t other(ctx, zmq::socket_type::sub);
  other.set(zmq::sockopt::linger, 0);
  other.set(zmq::sockopt::subscribe, "zzz");
  other.connect(p.endpoint());
  auto receiveOne = [&](zmq::socket_t& s) -> std::optional<std::pair<std::string, std::string>> {
    // Subscriptions take a moment to arrive (the "slow joiner"): publish until one gets through.
    const auto until = SteadyClock::now() + 10s;
    while (SteadyClock::now() < until) {
      p.publish("block", asBytes("{\"number\":1}"));
      zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, 100ms) == 0) continue;
      zmq::message_t topic, body;
      (void)s.recv(topic);
      if (!topic.more()) continue;
      (void)s.recv(body);
      return std::pair(topic.to_string(), body.to_string());
    }
    return std::nullopt;
  };
  auto got = receiveOne(sub);
  REQUIRE(got);
  CHECK(got->first == "block");
  CHECK(got->second == "{\"number\":1}");
  zmq::pollitem_t item{other.handle(), 0, ZMQ_POLLIN, 0};
  CHECK(zmq::poll(&item, 1, 200ms) == 0);

  const long before = residentKiB();
  const int port = portOf(p.endpoint());
  {  // a data message that is not a subscription
    RawZmtp r(port);
    REQUIRE(r.nullHandshake("SUB"));
    CHECK(r.write(RawZmtp::frame("\x02hello", false)));
    CHECK(r.peerClosed(5000));
  }
  {  // frames marked more
    RawZmtp r(port);
    REQUIRE(r.nullHandshake("SUB"));
    CHECK(r.streamMoreFrames(60, 256ull << 20) < (256ull << 20));
    CHECK(r.peerClosed(5000));
  }
  {  // a frame declared 1 GiB
    RawZmtp r(port);
    REQUIRE(r.nullHandshake("SUB"));
    CHECK(r.write(RawZmtp::header(0x00, 1ull << 30)));
    CHECK(r.peerClosed(5000));
  }
  {  // too many subscriptions
    RawZmtp r(port);
    REQUIRE(r.nullHandshake("SUB"));
    for (int i = 0; i < 100; ++i) {
      if (!r.write(RawZmtp::frame("\x01topic" + std::to_string(i), false))) break;
    }
    CHECK(r.peerClosed(5000));
  }
  {  // a subscriber that never reads while many blocks are announced
    RawZmtp r(port);
    REQUIRE(r.nullHandshake("SUB"));
    CHECK(r.write(RawZmtp::frame("\x01", false)));
    std::this_thread::sleep_for(200ms);
    const std::string big(4096, 'b');
    for (int i = 0; i < 20000; ++i) p.publish("block", asBytes(big));
    std::this_thread::sleep_for(500ms);
  }
  CHECK(residentKiB() - before < kBoundKiB);
  CHECK(p.stats().disconnected >= 4);
  auto again = receiveOne(sub);
  CHECK(again.has_value());
}

}  // namespace merit::net

// The engine itself, a CURVE client and server wired back to back in memory: replayed or
// reordered MESSAGE boxes and tampered bytes close the connection; a refused client gets ERROR.
#include "test_support.h"
#include "zmtp.h"

namespace merit::net {
namespace {

struct Pair {
  std::shared_ptr<zmtp::Options> serverOptions = std::make_shared<zmtp::Options>();
  std::shared_ptr<zmtp::Options> clientOptions = std::make_shared<zmtp::Options>();
  std::unique_ptr<zmtp::Engine> server, client;
  std::vector<zmtp::Message> atServer, atClient;

  explicit Pair(zmtp::CurveAuthorizer authorizer = {}) {
    ByteArray<32> serverSecret{}, clientSecret{};
    crypto::randomBytes(serverSecret);
    crypto::randomBytes(clientSecret);
    auto serverKeys = zmtp::curveKeysFromSecret(ByteView(serverSecret), std::nullopt);
    serverOptions->role = zmtp::Role::kServer;
    serverOptions->socketType = "ROUTER";
    serverOptions->peerTypes = {"DEALER"};
    serverOptions->curve = serverKeys;
    serverOptions->authorizer = std::move(authorizer);
    clientOptions->role = zmtp::Role::kClient;
    clientOptions->socketType = "DEALER";
    clientOptions->peerTypes = {"ROUTER"};
    clientOptions->curve = zmtp::curveKeysFromSecret(ByteView(clientSecret), serverKeys->publicKey);
    server = std::make_unique<zmtp::Engine>(serverOptions);
    client = std::make_unique<zmtp::Engine>(clientOptions);
  }
  // Runs the handshake to completion (or failure); returns the last server error, if any.
  std::optional<std::string> handshake() {
    Bytes toServer, toClient;
    client->start(toServer);
    server->start(toClient);
    for (int i = 0; i < 10 && !(toServer.empty() && toClient.empty()); ++i) {
      Bytes a, b;
      if (!toServer.empty()) {
        auto ok = server->receive(toServer, b, [&](zmtp::Message&& m) { atServer.push_back(std::move(m)); });
        if (!ok) {
          lastToClient = b;
          return ok.error().message();
        }
      }
      if (!toClient.empty()) {
        auto ok = client->receive(toClient, a, [&](zmtp::Message&& m) { atClient.push_back(std::move(m)); });
        if (!ok) return "client: " + ok.error().message();
      }
      toServer = std::move(a);
      toClient = std::move(b);
    }
    return std::nullopt;
  }
  Bytes lastToClient;
};

}  // namespace

TEST_CASE("zmtp engine: CURVE replay, reorder and tampering close the connection; refusal sends ERROR") {
  {
    Pair p;
    REQUIRE_FALSE(p.handshake().has_value());
    REQUIRE(p.client->ready());
    REQUIRE(p.server->ready());
    REQUIRE(p.server->peerKey() == p.clientOptions->curve->publicKey);
    Bytes first, second;
    const ByteView f1[] = {asBytes("corr"), asBytes("one")};
    const ByteView f2[] = {asBytes("corr"), asBytes("two")};
    p.client->encode(f1, first);
    p.client->encode(f2, second);
    Bytes out;
    auto sink = [&](zmtp::Message&& m) { p.atServer.push_back(std::move(m)); };
    REQUIRE(p.server->receive(first, out, sink));
    REQUIRE(p.server->receive(second, out, sink));
    REQUIRE(p.atServer.size() == 2);
    CHECK(str(p.atServer[1][1]) == "two");
    // The same box again: its nonce is not above the last one.
    CHECK_FALSE(p.server->receive(first, out, sink));
    CHECK(p.server->failed());
  }
  {
    Pair p;
    REQUIRE_FALSE(p.handshake().has_value());
    Bytes first, second, out;
    const ByteView f[] = {asBytes("x")};
    p.client->encode(f, first);
    p.client->encode(f, second);
    auto sink = [&](zmtp::Message&&) {};
    REQUIRE(p.server->receive(second, out, sink));
    CHECK_FALSE(p.server->receive(first, out, sink));  // older nonce after a newer one
  }
  {
    Pair p;
    REQUIRE_FALSE(p.handshake().has_value());
    Bytes box, out;
    const ByteView f[] = {asBytes("payload")};
    p.client->encode(f, box);
    box.back() ^= std::byte{1};
    CHECK_FALSE(p.server->receive(box, out, [](zmtp::Message&&) {}));
  }
  {
    bool asked = false;
    Pair p([&](const ByteArray<32>&) {
      asked = true;
      return false;
    });
    auto error = p.handshake();
    REQUIRE(error.has_value());
    CHECK(asked);
    CHECK_FALSE(p.server->ready());
    // The server's last words are an ERROR command.
    CHECK(str(p.lastToClient).find("ERROR") != std::string::npos);
  }
}

}  // namespace merit::net

namespace merit::net {

TEST_CASE("zmtp server: each message comes with the peer's address; the per-address limit counts by it") {
  zmq::context_t ctx(1);
  auto options = std::make_shared<zmtp::Options>();
  options->role = zmtp::Role::kServer;
  options->socketType = "ROUTER";
  options->peerTypes = {"DEALER"};
  zmtp::ServerConfig config;
  config.engine = options;
  config.maxConnections = 100;
  config.maxConnectionsPerAddress = 2;
  auto server = zmtp::StreamServer::bind(ctx, "tcp://127.0.0.1:*", config).value();
  std::vector<std::unique_ptr<zmq::socket_t>> dealers;
  for (int i = 0; i < 5; ++i) {
    auto d = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
    d->set(zmq::sockopt::linger, 0);
    d->connect(server->endpoint());
    d->send(zmq::str_buffer("hello"), zmq::send_flags::dontwait);
    dealers.push_back(std::move(d));
  }
  std::vector<zmtp::PeerInfo> seen;
  const auto until = SteadyClock::now() + 10s;
  while (SteadyClock::now() < until && (seen.size() < 2 || server->stats().refused < 3)) {
    zmq::pollitem_t item{server->socket().handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, 50ms);
    server->receive(64, [&](const zmtp::PeerInfo& peer, zmtp::Message&& m) {
      CHECK(m.size() == 1);
      seen.push_back(peer);
    });
  }
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].address == "127.0.0.1");
  CHECK(seen[1].address == "127.0.0.1");
  CHECK(server->stats().refused >= 3);
  CHECK(server->stats().connections == 2);
}

}  // namespace merit::net
