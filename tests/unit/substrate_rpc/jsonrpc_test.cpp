// merit_substrate's JSON-RPC transport against in-process servers on loopback: a small JSON-RPC
// WebSocket server written with Beast (normal, half-dead, never completing the handshake,
// closing, sending garbage or oversized frames) and an HTTP one with cpp-httplib.
#include "merit/substrate/jsonrpc.h"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <httplib.h>

namespace merit::substrate {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Json = nlohmann::json;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

template <typename F>
bool eventually(F condition, std::chrono::milliseconds limit = 15s) {
  const auto end = SteadyClock::now() + limit;
  while (SteadyClock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

long long msSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
}

// The answer of the test server to one request object; nullopt = no answer.
std::optional<Json> answer(const Json& request, std::atomic<int>& unsubscribes) {
  const std::string method = request.value("method", "");
  const Json id = request.value("id", Json());
  const Json params = request.value("params", Json::array());
  if (method == "echo") return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", params}};
  if (method == "fail") {
    return Json{{"jsonrpc", "2.0"},
                {"id", id},
                {"error", {{"code", 1010}, {"message", "Invalid Transaction"}, {"data", "Stale"}}}};
  }
  if (method == "test_unsubscribe") {
    ++unsubscribes;
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", true}};
  }
  if (method == "big") {
    return Json{
        {"jsonrpc", "2.0"}, {"id", id}, {"result", std::string(params.at(0).get<std::size_t>(), 'x')}};
  }
  return std::nullopt;  // "hang" and unknown methods: never answered
}

// A JSON-RPC WebSocket server on 127.0.0.1, one thread per connection (blocking Beast calls).
class WsServer {
 public:
  enum class Mode { kNormal, kHalfDead, kNoHandshake };

  explicit WsServer(Mode mode) : m_mode(mode) { open(0); }
  ~WsServer() { stop(); }

  std::uint16_t port() const { return m_port; }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(m_port); }
  int requests(const std::string& method) {
    std::lock_guard lock(m_mutex);
    int n = 0;
    for (const auto& m : m_methods) n += m == method ? 1 : 0;
    return n;
  }
  std::atomic<int> unsubscribes{0};

  // Stops listening and drops every connection (as a crashed node would).
  void stop() {
    if (!m_acceptor) return;
    m_stopping = true;
    {
      // Wake the blocking accept().
      tcp::socket poke(m_ioc);
      boost::system::error_code ec;
      poke.connect({asio::ip::make_address("127.0.0.1"), m_port}, ec);
      m_acceptThread.join();
    }
    m_acceptor.reset();
    {
      std::lock_guard lock(m_mutex);
      for (auto& s : m_sockets) {
        boost::system::error_code ec;
        s->shutdown(tcp::socket::shutdown_both, ec);
      }
      m_wake.notify_all();
    }
    for (auto& t : m_sessions) t.join();
    m_sessions.clear();
    m_sockets.clear();
  }

  // Listens again on the same port (the node came back).
  void restart() { open(m_port); }

 private:
  void open(std::uint16_t port) {
    m_stopping = false;
    m_acceptor = std::make_unique<tcp::acceptor>(m_ioc);
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    m_acceptor->open(endpoint.protocol());
    m_acceptor->set_option(asio::socket_base::reuse_address(true));
    m_acceptor->bind(endpoint);
    m_acceptor->listen();
    m_port = m_acceptor->local_endpoint().port();
    m_acceptThread = std::thread([this] { acceptLoop(); });
  }

  void acceptLoop() {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(m_ioc);
      boost::system::error_code ec;
      m_acceptor->accept(*socket, ec);
      if (m_stopping || ec) return;
      std::lock_guard lock(m_mutex);
      m_sockets.push_back(socket);
      m_sessions.emplace_back([this, socket] { session(*socket); });
    }
  }

  void waitForStop() {
    std::unique_lock lock(m_mutex);
    m_wake.wait(lock, [this] { return m_stopping.load(); });
  }

  void send(websocket::stream<tcp::socket&>& ws, const std::string& text, bool binary = false) {
    ws.binary(binary);
    boost::system::error_code ec;
    ws.write(asio::buffer(text), ec);
  }

  void session(tcp::socket& socket) {
    if (m_mode == Mode::kNoHandshake) return waitForStop();
    websocket::stream<tcp::socket&> ws(socket);
    boost::system::error_code ec;
    ws.accept(ec);
    if (ec) return;
    if (m_mode == Mode::kHalfDead) return waitForStop();
    std::optional<std::string> deferred;
    for (;;) {
      beast::flat_buffer buffer;
      ws.read(buffer, ec);
      if (ec) return;
      const Json request = Json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
      if (!request.is_object()) continue;
      const std::string method = request.value("method", "");
      {
        std::lock_guard lock(m_mutex);
        m_methods.push_back(method);
      }
      const Json id = request.value("id", Json());
      if (method == "defer") {  // answered after the next request: out of order
        deferred = Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", "deferred"}}.dump();
        continue;
      }
      if (method == "test_subscribe") {
        const std::string sid = "sub-" + std::to_string(++m_subscriptions);
        send(ws, Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", sid}}.dump());
        for (int k = 0; k < 3; ++k) {
          send(ws, Json{{"jsonrpc", "2.0"},
                        {"method", "test_notify"},
                        {"params", {{"subscription", sid}, {"result", k}}}}
                       .dump());
        }
      } else if (method == "garbage") {
        send(ws, "this is not JSON {");
        send(ws, std::string("\x00\x01\x02", 3), true);
        send(ws, R"({"jsonrpc":"2.0","id":987654321,"result":1})");
        send(ws, R"({"jsonrpc":"2.0","id":"text-id","result":1})");
        send(ws, R"({"jsonrpc":"2.0","method":"test_notify","params":{"subscription":"nobody","result":1}})");
        send(ws, "[1,2,3]");
        send(ws, "42");
        send(ws, R"({"jsonrpc":"2.0","method":"system_health"})");
        send(ws, Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", "ok"}}.dump());
      } else if (auto reply = answer(request, unsubscribes)) {
        send(ws, reply->dump());
      }
      if (deferred && method != "defer") {
        send(ws, *deferred);
        deferred.reset();
      }
    }
  }

  const Mode m_mode;
  asio::io_context m_ioc;  // only for the blocking sockets' services
  std::unique_ptr<tcp::acceptor> m_acceptor;
  std::uint16_t m_port = 0;
  std::thread m_acceptThread;
  std::atomic<bool> m_stopping{false};
  std::atomic<int> m_subscriptions{0};
  std::mutex m_mutex;
  std::condition_variable m_wake;                       // half-dead sessions wait for stop
  std::vector<std::shared_ptr<tcp::socket>> m_sockets;  // guarded by m_mutex; closed after join
  std::vector<std::thread> m_sessions;                  // guarded by m_mutex
  std::vector<std::string> m_methods;                   // guarded by m_mutex
};

// Collects a subscription's callbacks.
struct Collector {
  std::mutex mutex;
  std::vector<Json> items;
  std::vector<Error> ends;
  std::size_t itemCount() {
    std::lock_guard lock(mutex);
    return items.size();
  }
  std::size_t endCount() {
    std::lock_guard lock(mutex);
    return ends.size();
  }
  std::function<void(const Json&)> onItem() {
    return [this](const Json& j) {
      std::lock_guard lock(mutex);
      items.push_back(j);
    };
  }
  std::function<void(const Error&)> onEnd() {
    return [this](const Error& e) {
      std::lock_guard lock(mutex);
      ends.push_back(e);
    };
  }
};

RpcOptions fastOptions() {
  RpcOptions o;
  o.connectTimeout = 3000ms;
  o.callTimeout = 5000ms;
  o.reconnect = BackoffPolicy{.initial = 50, .cap = 200, .jitterPercent = 0};
  return o;
}

TEST_CASE("ws: call, JSON-RPC error, callMany with out-of-order answers, subscription, unsubscribe") {
  WsServer server(WsServer::Mode::kNormal);
  auto client = RpcClient::connect(server.url(), fastOptions());
  REQUIRE_MESSAGE(client, client.error().toString());
  RpcClient& c = **client;
  CHECK(c.connected());
  CHECK(c.url() == server.url());

  auto echoed = c.call("echo", Json::array({1, "two", Json{{"three", 3}}}));
  REQUIRE(echoed);
  CHECK(*echoed == Json::array({1, "two", Json{{"three", 3}}}));

  auto refused = c.call("fail");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
  CHECK(rpcErrorCode(refused.error()) == 1010);
  CHECK(refused.error().message().find("Invalid Transaction") != std::string::npos);
  CHECK(refused.error().message().find("Stale") != std::string::npos);

  auto many = c.callMany({{"defer", Json::array()}, {"echo", Json::array({7})}, {"fail", Json::array()}});
  REQUIRE(many);
  REQUIRE(many->size() == 3);
  REQUIRE((*many)[0]);
  CHECK(*(*many)[0] == "deferred");
  REQUIRE((*many)[1]);
  CHECK(*(*many)[1] == Json::array({7}));
  REQUIRE_FALSE((*many)[2]);
  CHECK(rpcErrorCode((*many)[2].error()) == 1010);

  Collector heads;
  auto handle =
      c.subscribe("test_subscribe", Json::array(), "test_unsubscribe", heads.onItem(), heads.onEnd());
  REQUIRE_MESSAGE(handle, handle.error().toString());
  REQUIRE(eventually([&] { return heads.itemCount() == 3; }));
  {
    std::lock_guard lock(heads.mutex);
    CHECK(heads.items == std::vector<Json>{0, 1, 2});
  }
  c.unsubscribe(*handle);
  REQUIRE(heads.endCount() == 1);
  CHECK(heads.ends[0].code() == ErrorCode::kNotFound);
  CHECK(eventually([&] { return server.unsubscribes.load() == 1; }));
  c.unsubscribe(*handle);  // twice: ignored
  CHECK(heads.endCount() == 1);

  const RpcStats stats = c.stats();
  CHECK(stats.calls == 6);       // echo, fail, 3 in callMany, subscribe
  CHECK(stats.roundTrips == 4);  // call, call, callMany, subscribe
  CHECK(stats.failures == 2);
  CHECK(stats.reconnects == 0);
}

TEST_CASE("ws: a half-dead server costs a call its deadline, and the ping watchdog re-dials") {
  WsServer server(WsServer::Mode::kHalfDead);
  RpcOptions options = fastOptions();
  options.pingInterval = 200ms;
  options.callTimeout = 600ms;
  auto client = RpcClient::connect(server.url(), options);
  REQUIRE_MESSAGE(client, client.error().toString());
  const auto start = SteadyClock::now();
  auto r = (*client)->call("echo", Json::array(), 300ms);
  const auto elapsed = msSince(start);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ErrorCode::kDeadlineExceeded);
  CHECK(elapsed >= 290);
  CHECK(elapsed < 300 + 2000);
  // No pong within callTimeout after a ping: the connection is closed and dialled again (the
  // server accepts the new handshake, then plays dead again).
  CHECK(eventually([&] { return (*client)->stats().reconnects >= 1; }));
}

TEST_CASE("ws: a server that never completes the handshake fails connect() within connectTimeout") {
  WsServer server(WsServer::Mode::kNoHandshake);
  RpcOptions options = fastOptions();
  options.connectTimeout = 400ms;
  const auto start = SteadyClock::now();
  auto client = RpcClient::connect(server.url(), options);
  const auto elapsed = msSince(start);
  REQUIRE_FALSE(client);
  CHECK(client.error().code() == ErrorCode::kDeadlineExceeded);
  CHECK(elapsed < 400 + 1500);
}

TEST_CASE("ws: a refused connection fails connect() at once with kUnavailable") {
  std::uint16_t port = 0;
  {
    WsServer server(WsServer::Mode::kNormal);
    port = server.port();
  }
  const auto start = SteadyClock::now();
  auto client = RpcClient::connect("ws://127.0.0.1:" + std::to_string(port), fastOptions());
  REQUIRE_FALSE(client);
  CHECK(client.error().code() == ErrorCode::kUnavailable);
  CHECK(msSince(start) < 2000);
}

TEST_CASE("ws: connection loss fails pending calls, ends watches, re-dials and resubscribes") {
  WsServer server(WsServer::Mode::kNormal);
  auto client = RpcClient::connect(server.url(), fastOptions());
  REQUIRE_MESSAGE(client, client.error().toString());
  RpcClient& c = **client;

  Collector heads;  // resubscribed after the re-dial
  Collector watch;  // cannot be resumed
  auto h1 = c.subscribe("test_subscribe", Json::array(), "test_unsubscribe", heads.onItem(), heads.onEnd(),
                        {.resubscribe = true});
  auto h2 = c.subscribe("test_subscribe", Json::array(), "test_unsubscribe", watch.onItem(), watch.onEnd(),
                        {.resubscribe = false});
  REQUIRE(h1);
  REQUIRE(h2);
  REQUIRE(eventually([&] { return heads.itemCount() == 3 && watch.itemCount() == 3; }));

  std::optional<Result<Json>> pending;
  long long pendingMs = 0;
  std::thread caller([&] {
    const auto start = SteadyClock::now();
    pending = c.call("hang", Json::array(), 20s);
    pendingMs = msSince(start);
  });
  REQUIRE(eventually([&] { return server.requests("hang") == 1; }));
  server.stop();
  caller.join();
  REQUIRE(pending);
  REQUIRE_FALSE(*pending);
  CHECK(pending->error().code() == ErrorCode::kUnavailable);
  CHECK(pendingMs < 5000);

  REQUIRE(eventually([&] { return watch.endCount() == 1; }));
  CHECK(watch.ends[0].code() == ErrorCode::kUnavailable);
  CHECK(heads.endCount() == 0);

  // While the node is down, calls fail fast instead of queueing.
  REQUIRE(eventually([&] { return !c.connected(); }));
  const auto start = SteadyClock::now();
  auto down = c.call("echo");
  REQUIRE_FALSE(down);
  CHECK(down.error().code() == ErrorCode::kUnavailable);
  CHECK(msSince(start) < 1000);

  server.restart();
  REQUIRE(eventually([&] { return c.connected(); }));
  auto again = c.call("echo", Json::array({"back"}));
  REQUIRE_MESSAGE(again, again.error().toString());
  CHECK(*again == Json::array({"back"}));
  CHECK(eventually([&] { return heads.itemCount() == 6; }));
  CHECK(watch.itemCount() == 3);
  CHECK(heads.endCount() == 0);
  CHECK(c.stats().reconnects >= 1);

  c.unsubscribe(*h1);
  CHECK(heads.endCount() == 1);
  c.unsubscribe(*h2);  // already ended: ignored
  CHECK(watch.endCount() == 1);
}

TEST_CASE("ws: an oversized message closes the connection with a clear error, then the client recovers") {
  WsServer server(WsServer::Mode::kNormal);
  RpcOptions options = fastOptions();
  options.maxMessageBytes = 4096;
  auto client = RpcClient::connect(server.url(), options);
  REQUIRE_MESSAGE(client, client.error().toString());
  auto big = (*client)->call("big", Json::array({100000}));
  REQUIRE_FALSE(big);
  CHECK(big.error().code() == ErrorCode::kUnavailable);
  CHECK(big.error().message().find("maxMessageBytes") != std::string::npos);
  REQUIRE(eventually([&] { return (*client)->connected(); }));
  auto small = (*client)->call("big", Json::array({100}));
  REQUIRE_MESSAGE(small, small.error().toString());
  CHECK(small->get<std::string>().size() == 100);
  CHECK((*client)->stats().reconnects == 1);
}

TEST_CASE("ws: garbage frames are ignored without breaking the connection") {
  WsServer server(WsServer::Mode::kNormal);
  auto client = RpcClient::connect(server.url(), fastOptions());
  REQUIRE_MESSAGE(client, client.error().toString());
  auto r = (*client)->call("garbage");
  REQUIRE_MESSAGE(r, r.error().toString());
  CHECK(*r == "ok");
  auto e = (*client)->call("echo", Json::array({1}));
  REQUIRE(e);
  CHECK((*client)->connected());
  CHECK((*client)->stats().reconnects == 0);
}

TEST_CASE("ws: a callback may unsubscribe; calling the client from a callback fails instead of deadlocking") {
  WsServer server(WsServer::Mode::kNormal);
  auto client = RpcClient::connect(server.url(), fastOptions());
  REQUIRE_MESSAGE(client, client.error().toString());
  RpcClient& c = **client;
  std::atomic<std::uint64_t> handle{0};
  std::atomic<int> items{0};
  std::atomic<int> ends{0};
  std::optional<Error> nested;
  auto h = c.subscribe(
      "test_subscribe", Json::array(), "test_unsubscribe",
      [&](const Json&) {
        if (++items == 1) {
          auto r = c.call("echo");
          if (!r) nested = r.error();
          while (handle.load() == 0) std::this_thread::yield();
          c.unsubscribe(handle.load());
        }
      },
      [&](const Error&) { ++ends; });
  REQUIRE(h);
  handle = *h;
  REQUIRE(eventually([&] { return ends.load() == 1; }));
  CHECK(items.load() == 1);
  REQUIRE(nested);
  CHECK(nested->code() == ErrorCode::kInternal);
}

// A JSON-RPC server over HTTP (cpp-httplib) on 127.0.0.1.
class HttpServer {
 public:
  HttpServer() {
    m_server.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      const Json body = Json::parse(req.body, nullptr, false);
      const auto one = [this](const Json& request) -> std::optional<Json> {
        if (request.value("method", "") == "hang") {
          std::unique_lock lock(m_mutex);
          m_wake.wait_for(lock, 20s, [this] { return m_stopping; });
          return std::nullopt;
        }
        return answer(request, m_unsubscribes);
      };
      Json out;
      if (body.is_array()) {
        out = Json::array();
        for (auto it = body.rbegin(); it != body.rend(); ++it) {  // reversed: matched by id
          if (auto a = one(*it)) out.push_back(*a);
        }
      } else if (auto a = one(body)) {
        out = *a;
      }
      ++m_requests;
      res.set_content(out.dump(), "application/json");
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
  }
  ~HttpServer() {
    {
      std::lock_guard lock(m_mutex);
      m_stopping = true;
    }
    m_wake.notify_all();
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  int requests() const { return m_requests.load(); }

 private:
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  std::atomic<int> m_unsubscribes{0};
  std::atomic<int> m_requests{0};
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;  // guarded by m_mutex
};

TEST_CASE("http: call, JSON-RPC error, callMany as one batch, no subscriptions") {
  HttpServer server;
  auto client = RpcClient::connect(server.url(), fastOptions());
  REQUIRE_MESSAGE(client, client.error().toString());
  RpcClient& c = **client;
  auto r = c.call("echo", Json::array({"x"}));
  REQUIRE_MESSAGE(r, r.error().toString());
  CHECK(*r == Json::array({"x"}));
  auto refused = c.call("fail");
  REQUIRE_FALSE(refused);
  CHECK(rpcErrorCode(refused.error()) == 1010);

  const int before = server.requests();
  auto many = c.callMany({{"echo", Json::array({1})}, {"fail", Json::array()}, {"echo", Json::array({3})}});
  REQUIRE_MESSAGE(many, many.error().toString());
  CHECK(server.requests() == before + 1);
  REQUIRE(many->size() == 3);
  REQUIRE((*many)[0]);
  CHECK(*(*many)[0] == Json::array({1}));
  CHECK_FALSE((*many)[1]);
  REQUIRE((*many)[2]);
  CHECK(*(*many)[2] == Json::array({3}));

  auto big = c.call("big", Json::array({100000}));  // within the default limit
  REQUIRE(big);

  auto sub = c.subscribe(
      "test_subscribe", Json::array(), "test_unsubscribe", [](const Json&) {}, [](const Error&) {});
  REQUIRE_FALSE(sub);
  CHECK(sub.error().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("http: a body larger than maxMessageBytes is an error, then the next call works") {
  HttpServer server;
  RpcOptions options = fastOptions();
  options.maxMessageBytes = 4096;
  auto client = RpcClient::connect(server.url(), options);
  REQUIRE_MESSAGE(client, client.error().toString());
  auto big = (*client)->call("big", Json::array({100000}));
  REQUIRE_FALSE(big);
  CHECK(big.error().message().find("maxMessageBytes") != std::string::npos);
  auto small = (*client)->call("echo", Json::array({2}));
  REQUIRE_MESSAGE(small, small.error().toString());
}

TEST_CASE("http: a server that never answers costs the call its deadline") {
  HttpServer server;
  auto client = RpcClient::connect(server.url(), fastOptions());
  REQUIRE_MESSAGE(client, client.error().toString());
  const auto start = SteadyClock::now();
  auto r = (*client)->call("hang", Json::array(), 300ms);
  const auto elapsed = msSince(start);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ErrorCode::kDeadlineExceeded);
  CHECK(elapsed < 300 + 2000);
}

TEST_CASE("urls: TLS and malformed urls are refused clearly") {
  auto tls = RpcClient::connect("wss://example.invalid:443");
  REQUIRE_FALSE(tls);
  CHECK(tls.error().code() == ErrorCode::kInvalidArgument);
  CHECK(tls.error().message().find("TLS is not supported") != std::string::npos);
  for (const char* bad : {"127.0.0.1:9944", "ftp://127.0.0.1:1", "ws://", "ws://127.0.0.1:0",
                          "ws://127.0.0.1:70000", "ws://127.0.0.1:9x", "ws://[::1"}) {
    auto r = RpcClient::connect(bad);
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(r.error().code() == ErrorCode::kInvalidArgument, bad);
  }
}

TEST_CASE("rpcErrorCode reads the code of a JSON-RPC error and nothing else") {
  CHECK(rpcErrorCode(Error(ErrorCode::kInvalidArgument, "rpc error -32601: Method not found")) == -32601);
  CHECK(rpcErrorCode(Error(ErrorCode::kInvalidArgument, "rpc error 1010: Invalid Transaction (data: x)")) ==
        1010);
  CHECK_FALSE(rpcErrorCode(Error(ErrorCode::kUnavailable, "rpc error 1: x")));
  CHECK_FALSE(rpcErrorCode(Error(ErrorCode::kInvalidArgument, "rpc error x: y")));
  CHECK_FALSE(rpcErrorCode(Error(ErrorCode::kInvalidArgument, "rpc error 5")));
}

}  // namespace
}  // namespace merit::substrate
