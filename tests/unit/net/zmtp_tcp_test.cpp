// The dendrite's transport (src/net/zmtp_tcp.h): our ZMTP engine over plain TCP in one epoll set,
// against real libzmq ROUTER sockets (NULL and CURVE) and hand-driven TCP servers: handshakes, a
// wrong server key, reconnection after the server restarts, a server breaking a limit, sending
// before the handshake, the cap on queued outgoing bytes, and the endpoint forms.
#include "zmtp_tcp.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <map>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <thread>

#include <doctest/doctest.h>
#include <zmq.hpp>

#include "merit/net/context.h"

#include "raw_zmtp.h"

namespace merit::net::zmtp {
namespace {

using namespace std::chrono_literals;
using merit::testing::RawZmtp;
using SteadyClock = std::chrono::steady_clock;

// A libzmq ROUTER that answers every message [corr, payload] with [corr, payload] (or with
// [corr, `replyBytes` bytes] if set), on its own thread.
class RouterServer {
 public:
  RouterServer(const std::string& endpoint, const CurveKeyPair* curve, std::size_t replyBytes = 0)
      : m_replyBytes(replyBytes) {
    m_router.set(zmq::sockopt::linger, 0);
    if (curve != nullptr) {
      m_router.set(zmq::sockopt::curve_server, 1);
      m_router.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(curve->secretKey.reveal().data(), 32));
    }
    m_router.bind(endpoint);
    m_endpoint = m_router.get(zmq::sockopt::last_endpoint);
    m_thread = std::thread([this] { run(); });
  }
  ~RouterServer() {
    m_stop = true;
    m_thread.join();
  }
  const std::string& endpoint() const { return m_endpoint; }

 private:
  void run() {
    while (!m_stop) {
      zmq::pollitem_t item{m_router.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, 20ms) == 0) continue;
      std::vector<zmq::message_t> frames;
      do {
        frames.emplace_back();
        (void)m_router.recv(frames.back());
      } while (frames.back().more());
      if (m_replyBytes > 0) frames.back().rebuild(std::string(m_replyBytes, 'r').data(), m_replyBytes);
      for (std::size_t i = 0; i < frames.size(); ++i) {
        m_router.send(frames[i], i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
      }
    }
  }

  zmq::context_t m_ctx{1};
  zmq::socket_t m_router{m_ctx, zmq::socket_type::router};
  const std::size_t m_replyBytes;
  std::string m_endpoint;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
};

// A plain TCP server on 127.0.0.1: each connection accepted gets `hello` and is then left alone
// (never read), until the server goes.
class RawServer {
 public:
  explicit RawServer(std::string hello, int receiveBuffer = 0) : m_hello(std::move(hello)) {
    m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receiveBuffer > 0) {
      // Inherited by accepted sockets: a server that does not read stops taking bytes soon.
      ::setsockopt(m_listen, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_listen, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(m_listen, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&a), &len);
    m_port = ntohs(a.sin_port);
    m_thread = std::thread([this] { run(); });
  }
  ~RawServer() {
    m_stop = true;
    ::shutdown(m_listen, SHUT_RDWR);
    m_thread.join();
    ::close(m_listen);
    for (int fd : m_accepted) ::close(fd);
  }
  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(m_port); }

 private:
  void run() {
    while (!m_stop) {
      pollfd p{m_listen, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept(m_listen, nullptr, nullptr);
      if (fd < 0) continue;
      (void)!::send(fd, m_hello.data(), m_hello.size(), MSG_NOSIGNAL);
      m_accepted.push_back(fd);
    }
  }

  const std::string m_hello;
  int m_listen = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::vector<int> m_accepted;  // the server thread's until it is joined
  std::thread m_thread;
};

std::shared_ptr<const Options> clientOptions(const CurveKeyPair* client = nullptr,
                                             const ByteArray<32>* serverKey = nullptr) {
  auto o = std::make_shared<Options>();
  o->role = Role::kClient;
  o->socketType = "DEALER";
  o->peerTypes = {"ROUTER"};
  if (client != nullptr) o->curve = curveKeysFromSecret(client->secretKey.reveal(), *serverKey);
  return o;
}

TcpClientConfig config(std::shared_ptr<const Options> engine) {
  TcpClientConfig c;
  c.engine = std::move(engine);
  return c;
}

std::unique_ptr<TcpClient> connectTo(Poller& poller, const std::string& endpoint, TcpClientConfig c) {
  auto client = TcpClient::connect(poller, endpoint, std::move(c));
  REQUIRE(client);
  return std::move(*client);
}

// Runs the enclosing test once with the Poller batching writes and first reads through io_uring
// (where the kernel allows it) and once with plain send(2)/recv(2).
Batching batchingSubcase() {
  Batching b = Batching::kAuto;
  SUBCASE("batched (io_uring)") {
    b = Batching::kAuto;
  }
  SUBCASE("plain send/recv") {
    b = Batching::kOff;
  }
  return b;
}

// Runs the poller (every ready client receives, after one prefetch for all of them, as the
// dendrite does) until `done` holds or `within` passes.
bool pump(
    Poller& poller, const std::function<bool()>& done, std::chrono::milliseconds within = 10s,
    const std::function<void(Message&&)>& onMessage = [](Message&&) {}) {
  const auto until = SteadyClock::now() + within;
  while (!done()) {
    if (SteadyClock::now() >= until) return false;
    auto ready = poller.wait(20ms);
    REQUIRE(ready);
    const std::vector<TcpClient*> clients(ready->begin(), ready->end());
    poller.prefetch(clients);
    for (TcpClient* c : clients) c->receive(256, onMessage);
  }
  return true;
}

std::string str(ByteView b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Sends [corr, payload] and waits for the answer's frames.
std::optional<Message> ask(Poller& poller, TcpClient& client, const std::string& corr,
                           const std::string& payload) {
  const Bytes c = toBytes(corr);
  const Bytes p = toBytes(payload);
  const ByteView frames[] = {c, p};
  if (!client.send(frames)) return std::nullopt;
  std::optional<Message> answer;
  pump(
      poller, [&] { return answer.has_value(); }, 10s,
      [&](Message&& m) {
        if (!m.empty() && str(m[0]) == corr) answer = std::move(m);
      });
  return answer;
}

}  // namespace

TEST_CASE("zmtp tcp client: handshakes with a libzmq ROUTER, NULL and CURVE; one epoll set for all") {
  auto poller = Poller::create(batchingSubcase()).value();
  auto serverKeys = CurveKeyPair::generate().value();
  auto clientKeys = CurveKeyPair::generate().value();
  RouterServer plain("tcp://127.0.0.1:*", nullptr);
  RouterServer curve("tcp://127.0.0.1:*", &serverKeys);
  auto a = connectTo(*poller, plain.endpoint(), config(clientOptions()));
  auto b = connectTo(*poller, curve.endpoint(), config(clientOptions(&clientKeys, &serverKeys.publicKey)));
  // Nothing goes out before the handshake completed.
  CHECK_FALSE(a->ready());
  const Bytes one = toBytes("x");
  const ByteView frames[] = {one};
  CHECK_FALSE(a->send(frames));
  CHECK_FALSE(b->send(frames));
  CHECK(poller->clients() == 2);
  REQUIRE(pump(*poller, [&] { return a->ready() && b->ready(); }));
  CHECK(a->stats().handshakes == 1);
  CHECK(b->stats().handshakes == 1);
  // The handshake's commands are not held as a partial message.
  CHECK(a->buffered() == 0);
  CHECK(b->buffered() == 0);
  // Many messages each way, in order, on both connections at once (CURVE nonces advance).
  for (TcpClient* c : {a.get(), b.get()}) {
    for (int i = 0; i < 3; ++i) {
      const Bytes corr = toBytes("c" + std::to_string(i));
      const Bytes body = toBytes("body " + std::to_string(i));
      const ByteView f[] = {corr, body};
      REQUIRE(c->send(f));
    }
  }
  std::vector<std::string> got;
  REQUIRE(pump(
      *poller, [&] { return got.size() == 6; }, 10s,
      [&](Message&& m) {
        REQUIRE(m.size() == 2);
        got.push_back(str(m[0]) + "/" + str(m[1]));
      }));
  // Per connection in order; the two connections interleave as they come.
  std::vector<std::string> firstOfEach;
  for (const auto& g : got) {
    if (g == "c0/body 0") firstOfEach.push_back(g);
  }
  CHECK(firstOfEach.size() == 2);
  CHECK(std::count(got.begin(), got.end(), "c2/body 2") == 2);
  CHECK(a->buffered() == 0);
  CHECK(a->queued() == 0);
  CHECK_FALSE(a->takeFailure().has_value());
}

TEST_CASE("zmtp tcp client: a wrong server key never completes the handshake; the client keeps trying") {
  auto poller = Poller::create(batchingSubcase()).value();
  auto serverKeys = CurveKeyPair::generate().value();
  auto otherKeys = CurveKeyPair::generate().value();
  auto clientKeys = CurveKeyPair::generate().value();
  RouterServer curve("tcp://127.0.0.1:*", &serverKeys);
  auto c = connectTo(*poller, curve.endpoint(), config(clientOptions(&clientKeys, &otherKeys.publicKey)));
  // libzmq closes a connection whose HELLO does not open with its key; each attempt is retried.
  REQUIRE(pump(*poller, [&] { return c->stats().lost >= 2 && c->stats().attempts >= 3; }));
  CHECK(c->stats().handshakes == 0);
  CHECK_FALSE(c->ready());
  const Bytes one = toBytes("x");
  const ByteView frames[] = {one};
  CHECK_FALSE(c->send(frames));
}

TEST_CASE("zmtp tcp client: reconnects after the server restarts, with a fresh handshake") {
  auto poller = Poller::create(batchingSubcase()).value();
  auto serverKeys = CurveKeyPair::generate().value();
  auto clientKeys = CurveKeyPair::generate().value();
  auto server = std::make_unique<RouterServer>("tcp://127.0.0.1:*", &serverKeys);
  const std::string endpoint = server->endpoint();
  auto c = connectTo(*poller, endpoint, config(clientOptions(&clientKeys, &serverKeys.publicKey)));
  REQUIRE(pump(*poller, [&] { return c->ready(); }));
  REQUIRE(ask(*poller, *c, "one", "before"));
  server.reset();
  REQUIRE(pump(*poller, [&] { return !c->ready() && c->stats().lost == 1; }));
  const Bytes one = toBytes("x");
  const ByteView frames[] = {one};
  CHECK_FALSE(c->send(frames));
  // The server is down for a while: attempts are refused and retried after the interval.
  REQUIRE(pump(*poller, [&] { return c->stats().attempts >= 3; }));
  CHECK_FALSE(c->ready());
  server = std::make_unique<RouterServer>(endpoint, &serverKeys);
  REQUIRE(pump(*poller, [&] { return c->ready(); }));
  CHECK(c->stats().handshakes == 2);
  auto answer = ask(*poller, *c, "two", "after");
  REQUIRE(answer);
  CHECK(str((*answer)[1]) == "after");
}

TEST_CASE("zmtp tcp client: a server breaking a limit is dropped with the reason; the client reconnects") {
  auto poller = Poller::create(batchingSubcase()).value();
  SUBCASE("after the handshake: a frame over the limit") {
    RouterServer big("tcp://127.0.0.1:*", nullptr, 64u << 10);
    auto o = std::make_shared<Options>(*clientOptions());
    o->limits.maxFrameBytes = 4096;
    auto c = connectTo(*poller, big.endpoint(), config(o));
    REQUIRE(pump(*poller, [&] { return c->ready(); }));
    const Bytes corr = toBytes("c");
    const ByteView frames[] = {corr, corr};
    REQUIRE(c->send(frames));
    std::optional<TcpClient::Failure> failure;
    bool delivered = false;
    REQUIRE(pump(
        *poller,
        [&] {
          failure = c->takeFailure();
          return failure.has_value();
        },
        10s, [&](Message&&) { delivered = true; }));
    CHECK(failure->afterHandshake);
    CHECK(failure->reason == "frame too large");
    CHECK_FALSE(delivered);
    CHECK_FALSE(c->ready());
    CHECK(c->buffered() == 0);
    REQUIRE(pump(*poller, [&] { return c->ready(); }));
    CHECK(c->stats().handshakes == 2);
  }
  SUBCASE("in the handshake: not a ZMTP server") {
    RawServer junk(std::string(64, 'x'));
    auto c = connectTo(*poller, junk.endpoint(), config(clientOptions()));
    std::optional<TcpClient::Failure> failure;
    REQUIRE(pump(*poller, [&] {
      failure = c->takeFailure();
      return failure.has_value();
    }));
    CHECK_FALSE(failure->afterHandshake);
    CHECK_FALSE(failure->reason.empty());
    // Retried after the interval, and refused again.
    REQUIRE(pump(*poller, [&] { return c->takeFailure().has_value(); }));
    CHECK(c->stats().connected >= 2);
    CHECK(c->stats().handshakes == 0);
  }
}

TEST_CASE("zmtp tcp client: queued outgoing bytes are capped for a server that does not read") {
  auto poller = Poller::create(batchingSubcase()).value();
  // Completes the NULL handshake as a ROUTER, then never reads.
  RawServer deaf(RawZmtp::greeting("NULL") + RawZmtp::command(RawZmtp::readyBody("ROUTER")), 4096);
  TcpClientConfig c = config(clientOptions());
  c.maxQueuedBytes = 256u << 10;
  auto client = connectTo(*poller, deaf.endpoint(), std::move(c));
  REQUIRE(pump(*poller, [&] { return client->ready(); }));
  const Bytes corr = toBytes("c");
  const Bytes body(16u << 10, std::byte{'b'});
  const ByteView frames[] = {corr, body};
  int accepted = 0;
  bool refused = false;
  // The kernel takes a few MiB (both sockets' buffers) before anything is queued here.
  for (int i = 0; i < 20'000 && !refused; ++i) {
    if (client->send(frames)) {
      ++accepted;
    } else {
      refused = true;
    }
  }
  REQUIRE(refused);
  CHECK(accepted > 16);
  CHECK(client->queued() >= (256u << 10));
  CHECK(client->queued() < (256u << 10) + (17u << 10));
  CHECK(client->ready());
  // A reset drops what is queued and connects again.
  REQUIRE(client->reset());
  CHECK(client->queued() == 0);
  REQUIRE(pump(*poller, [&] { return client->ready(); }));
  CHECK(client->send(frames));
}

TEST_CASE("zmtp tcp client: endpoint forms") {
  auto poller = Poller::create(batchingSubcase()).value();
  for (const char* bad : {"127.0.0.1:80", "tcp://127.0.0.1", "tcp://127.0.0.1:0", "tcp://127.0.0.1:99999",
                          "tcp://::1:80", "tcp://[::1:80", "tcp://:80", "tcp://10.0.0.1:0;127.0.0.1:80"}) {
    auto c = TcpClient::connect(*poller, bad, config(clientOptions()));
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == ErrorCode::kInvalidArgument);
  }
  RouterServer v4("tcp://127.0.0.1:*", nullptr);
  const std::string port = v4.endpoint().substr(v4.endpoint().rfind(':') + 1);
  // A host name is resolved when connecting (its IPv4 address first, as libzmq would).
  auto byName = connectTo(*poller, "tcp://localhost:" + port, config(clientOptions()));
  REQUIRE(pump(*poller, [&] { return byName->ready(); }));
  CHECK(ask(*poller, *byName, "n", "by name").has_value());
  // An IPv6 address in brackets, where this host has IPv6 loopback.
  try {
    zmq::context_t probe(1);
    zmq::socket_t s(probe, zmq::socket_type::router);
    s.set(zmq::sockopt::ipv6, 1);
    s.bind("tcp://[::1]:*");
  } catch (const zmq::error_t&) {
    MESSAGE("no IPv6 loopback here; the bracketed form is not exercised");
    return;
  }
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.set(zmq::sockopt::ipv6, 1);
  router.bind("tcp://[::1]:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  auto c = connectTo(*poller, endpoint, config(clientOptions()));
  REQUIRE(pump(*poller, [&] { return c->ready(); }));
}

// `n` clients of `poller` connected to `endpoint`, their handshakes completed.
std::vector<std::unique_ptr<TcpClient>> connectedClients(Poller& poller, const std::string& endpoint, int n) {
  std::vector<std::unique_ptr<TcpClient>> clients;
  clients.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) clients.push_back(connectTo(poller, endpoint, config(clientOptions())));
  REQUIRE(pump(poller, [&] {
    return std::all_of(clients.begin(), clients.end(), [](auto& c) { return c->ready(); });
  }));
  return clients;
}

// Sends [corr, "payload"] on each client and waits until every answer is reported, reading none.
void sendEachAndAwaitInput(Poller& poller, const std::vector<std::unique_ptr<TcpClient>>& clients,
                           const std::string& corr) {
  for (const auto& c : clients) {
    const Bytes cb = toBytes(corr);
    const Bytes body = toBytes("payload");
    const ByteView f[] = {cb, body};
    REQUIRE(c->send(f));
  }
  const auto until = SteadyClock::now() + 10s;
  while (!std::all_of(clients.begin(), clients.end(), [](auto& c) { return c->hasInput(); })) {
    REQUIRE(SteadyClock::now() < until);
    REQUIRE(poller.wait(20ms));
  }
}

TEST_CASE("zmtp tcp poller: writes and first reads of 100 clients batched; every message once, in order") {
  auto poller = Poller::create(Batching::kAuto).value();
  if (!poller->batched()) MESSAGE("io_uring is refused here: the batched path runs as plain system calls");
  RouterServer echo("tcp://127.0.0.1:*", nullptr);
  // More clients than one batch of writes (64) or one submission (256 operations) holds.
  constexpr int kClients = 300;
  auto clients = connectedClients(*poller, echo.endpoint(), kClients);
  for (int i = 0; i < kClients; ++i) {
    for (int k = 0; k < 3; ++k) {
      const Bytes corr = toBytes(std::to_string(i) + "/" + std::to_string(k));
      const Bytes body = toBytes(std::string(100 + i, 'b'));
      const ByteView f[] = {corr, body};
      REQUIRE(clients[static_cast<std::size_t>(i)]->send(f));
    }
  }
  poller->flush();
  std::map<int, std::vector<int>> got;  // client → its answers' sequence numbers, as they came
  std::size_t total = 0;
  REQUIRE(pump(
      *poller, [&] { return total == 3 * kClients; }, 20s,
      [&](Message&& m) {
        REQUIRE(m.size() == 2);
        const std::string corr = str(m[0]);
        const int i = std::stoi(corr.substr(0, corr.find('/')));
        CHECK(m[1].size() == static_cast<std::size_t>(100 + i));
        got[i].push_back(std::stoi(corr.substr(corr.find('/') + 1)));
        ++total;
      }));
  for (int i = 0; i < kClients; ++i) CHECK(got[i] == std::vector<int>{0, 1, 2});
  for (auto& c : clients) {
    CHECK(c->queued() == 0);
    CHECK(c->buffered() == 0);
    CHECK(c->stats().lost == 0);
  }
}

TEST_CASE("zmtp tcp poller: a prefetched chunk waits for receive(), counts as buffered, goes with reset()") {
  auto poller = Poller::create(Batching::kAuto).value();
  if (!poller->batched()) {
    MESSAGE("io_uring is refused here: nothing is prefetched, nothing to check");
    return;
  }
  RouterServer echo("tcp://127.0.0.1:*", nullptr);
  // Four clients: fewer are read with plain recv(2), not prefetched.
  auto clients = connectedClients(*poller, echo.endpoint(), 4);
  TcpClient* const c = clients[0].get();
  sendEachAndAwaitInput(*poller, clients, "first");
  // The first client listed twice is read once: the second listing must not read past its chunk.
  const std::vector<TcpClient*> listed{c, c, clients[1].get(), clients[2].get(), clients[3].get()};
  poller->prefetch(listed);
  for (auto& k : clients) CHECK(k->buffered() > 0);
  // Held across waits that report nothing new.
  REQUIRE(poller->wait(0ms));
  CHECK(c->buffered() > 0);
  for (auto& k : clients) {
    std::vector<std::string> got;
    k->receive(256, [&](Message&& m) { got.push_back(str(m[0]) + "/" + str(m[1])); });
    CHECK(got == std::vector<std::string>{"first/payload"});
    CHECK(k->buffered() == 0);
  }
  // Dropped with the connection: the next connection's stream starts clean.
  sendEachAndAwaitInput(*poller, clients, "second");
  poller->prefetch(
      std::vector<TcpClient*>{clients[0].get(), clients[1].get(), clients[2].get(), clients[3].get()});
  CHECK(c->buffered() > 0);
  REQUIRE(c->reset());
  CHECK(c->buffered() == 0);
  for (std::size_t i = 1; i < clients.size(); ++i) clients[i]->receive(256, [](Message&&) {});
  REQUIRE(pump(*poller, [&] { return c->ready(); }));
  auto answer = ask(*poller, *c, "third", "after reset");
  REQUIRE(answer);
  CHECK(str((*answer)[1]) == "after reset");
  CHECK_FALSE(c->takeFailure().has_value());
}

TEST_CASE("zmtp tcp poller: fewer than four clients are written and read with plain system calls") {
  auto poller = Poller::create(Batching::kAuto).value();
  RouterServer echo("tcp://127.0.0.1:*", nullptr);
  auto clients = connectedClients(*poller, echo.endpoint(), 3);
  sendEachAndAwaitInput(*poller, clients, "c");
  std::vector<TcpClient*> all;
  all.reserve(clients.size());
  for (auto& c : clients) all.push_back(c.get());
  poller->prefetch(all);
  for (auto& c : clients) CHECK(c->buffered() == 0);  // nothing prefetched: receive() reads
  std::size_t got = 0;
  for (auto& c : clients) c->receive(256, [&](Message&&) { ++got; });
  CHECK(got == 3);
}

// Refuses the system call `nr` with EPERM to the calling thread (and threads it starts), as a
// container's seccomp profile may refuse io_uring; every other system call is allowed.
bool refuseOnThisThread(long nr) {
#if !defined(__x86_64__)
  return false;  // the filter below names x86-64's system call numbers
#endif
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0;
}

// Runs `body` on a thread of its own whose system call `nr` is refused with EPERM (the filter stays
// with that thread). False, with a message, where no filter is set for this architecture; on
// x86-64 a filter that cannot be set fails the test.
bool onThreadRefusing(long nr, const std::function<void()>& body) {
  bool filtered = false;
  std::thread([&] {
    filtered = refuseOnThisThread(nr);
    if (filtered) body();
  }).join();
#if defined(__x86_64__)
  REQUIRE(filtered);
#endif
  if (!filtered) MESSAGE("no seccomp filter for this architecture: nothing refused, nothing to check");
  return filtered;
}

TEST_CASE("zmtp tcp poller: where io_uring is refused (seccomp), plain system calls do the work") {
  RouterServer echo("tcp://127.0.0.1:*", nullptr);
  bool batched = true;
  std::optional<Message> answer;
  const bool filtered = onThreadRefusing(__NR_io_uring_setup, [&] {
    auto poller = Poller::create(Batching::kAuto).value();
    batched = poller->batched();
    auto c = connectTo(*poller, echo.endpoint(), config(clientOptions()));
    if (!pump(*poller, [&] { return c->ready(); })) return;
    answer = ask(*poller, *c, "corr", "over plain send/recv");
  });
  if (!filtered) return;
  CHECK_FALSE(batched);
  REQUIRE(answer);
  CHECK(str((*answer)[1]) == "over plain send/recv");
}

TEST_CASE("zmtp tcp poller: a ring whose submissions fail is dropped; nothing is lost or sent twice") {
  // The ring's first failure is in a batch of writes, or in a batch of first reads.
  bool readsFirst = false;
  SUBCASE("writes fail first") {
    readsFirst = false;
  }
  SUBCASE("reads fail first") {
    readsFirst = true;
  }
  RouterServer echo("tcp://127.0.0.1:*", nullptr);
  bool batchedAtStart = false;
  bool batchedAfter = true;
  std::vector<std::string> answers;
  // The ring is made (io_uring_setup is allowed); its every submission is refused.
  const bool filtered = onThreadRefusing(__NR_io_uring_enter, [&] {
    auto poller = Poller::create(Batching::kAuto).value();
    batchedAtStart = poller->batched();
    // Four clients: fewer are written and read with plain calls, and the ring is never tried.
    std::vector<std::unique_ptr<TcpClient>> clients;
    clients.reserve(4);
    for (int i = 0; i < 4; ++i)
      clients.push_back(connectTo(*poller, echo.endpoint(), config(clientOptions())));
    auto allReady = [&] {
      return std::all_of(clients.begin(), clients.end(), [](auto& c) { return c->ready(); });
    };
    // The handshakes with prefetch() (the servers' greetings are the ring's first submission), or
    // without (the first requests are).
    for (int i = 0; i < 500 && !allReady(); ++i) {
      auto ready = poller->wait(20ms);
      if (!ready) return;
      const std::vector<TcpClient*> woken(ready->begin(), ready->end());
      if (readsFirst) poller->prefetch(woken);
      for (TcpClient* t : woken) t->receive(256, [](Message&&) {});
    }
    std::map<std::string, std::vector<std::string>> got;  // client → its answers, as they came
    for (int round = 0; round < 5; ++round) {
      for (std::size_t k = 0; k < clients.size(); ++k) {
        const Bytes corr = toBytes(std::to_string(k));
        const Bytes body = toBytes("message " + std::to_string(round));
        const ByteView f[] = {corr, body};
        if (!clients[k]->send(f)) return;
      }
      std::size_t answered = 0;
      if (!pump(
              *poller, [&] { return answered == clients.size(); }, 10s,
              [&](Message&& m) {
                got[str(m[0])].push_back(str(m[1]));
                ++answered;
              }))
        break;
    }
    for (const auto& [k, list] : got) {
      std::string joined;
      for (const auto& a : list) joined += a.back();
      std::string line = k;
      line += ':';
      line += joined;
      answers.push_back(std::move(line));
    }
    batchedAfter = poller->batched();
    for (auto& c : clients) {
      if (c->stats().lost != 0) answers.push_back("lost");
    }
  });
  if (!filtered) return;
  if (!batchedAtStart) MESSAGE("io_uring is refused here already: the ring's failure path is not reached");
  CHECK_FALSE(batchedAfter);
  // Each client's five answers, once each, in order.
  CHECK(answers == std::vector<std::string>{"0:01234", "1:01234", "2:01234", "3:01234"});
}

}  // namespace merit::net::zmtp
