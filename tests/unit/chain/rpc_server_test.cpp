// The chain's HTTP server and JSON-RPC limits, in process against a real node and the real
// server on loopback (tests/functional/rpc_flood_test.cpp runs the same attacks on the binary).
#include "merit/chain/rpc_server.h"

#include <atomic>
#include <condition_variable>
#include <thread>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "live_chain.h"
#include "raw_http.h"

namespace merit::chain {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::string body(const std::string& method, const json& params, int id = 1) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
}

json ask(test::RawConnection& c, const std::string& b, std::chrono::milliseconds within = 5s,
         int* status = nullptr) {
  auto r = c.call(b, SteadyClock::now() + within);
  if (!r.ok) return json{{"transport", r.error}};
  if (status) *status = r.status;
  return json::parse(r.body, nullptr, false);
}

TEST_CASE("long polls: refused in a batch and far ahead; parked waits hold no worker") {
  test::LiveChainOptions o;
  o.blockTime = 200ms;
  o.rpcLimits.workers = 1;  // if a wait held the worker, nothing else would be answered
  test::LiveChain chain(o);
  int port = chain.rpc->port();

  test::RawConnection c;
  REQUIRE(c.connect(port));
  json batch = json::array({json::parse(body("chain_waitForBlock", json::array({UINT64_MAX, 120000}), 1)),
                            json::parse(body("system_health", json::array(), 2))});
  json r = ask(c, batch.dump());
  REQUIRE(r.is_array());
  CHECK(r[0]["error"]["code"] == -32600);
  CHECK(r[0]["error"]["message"].get<std::string>().find("not allowed in a batch") != std::string::npos);
  CHECK(r[1]["result"]["ok"] == true);
  r = ask(c, body("chain_waitForBlock", json::array({UINT64_MAX, 120000})));
  CHECK(r["error"]["code"] == -32602);
  CHECK(r["error"]["message"].get<std::string>().find("ahead of the head") != std::string::npos);

  // 20 waits parked at once, and the single worker still answers others at once.
  std::uint64_t head = chain.node->head().number;
  std::vector<test::RawConnection> waiting(20);
  for (auto& w : waiting) {
    REQUIRE(w.connect(port));
    REQUIRE(w.send(test::RawConnection::post(body("chain_waitForBlock", json::array({head + 4, 30000})))));
  }
  std::this_thread::sleep_for(100ms);
  auto t0 = SteadyClock::now();
  r = ask(c, body("chain_getHead", json::array()));
  CHECK(r["result"]["number"].get<std::uint64_t>() < head + 4);
  CHECK(SteadyClock::now() - t0 < 500ms);
  for (auto& w : waiting) {
    auto a = w.read(SteadyClock::now() + 10s);
    REQUIRE_MESSAGE(a.ok, a.error);
    CHECK(json::parse(a.body)["result"]["number"].get<std::uint64_t>() >= head + 4);
  }
  // A wait that times out answers the head it has then.
  r = ask(c, body("chain_waitForBlock", json::array({chain.node->head().number + 60, 300})));
  CHECK(r["result"]["number"].is_number());
}

TEST_CASE("per-address caps: parked waits and connections; other addresses are unaffected") {
  test::LiveChainOptions o;
  o.blockTime = 1000ms;
  o.rpcLimits.maxParkedPerAddress = 4;
  o.rpcLimits.maxConnectionsPerAddress = 8;
  test::LiveChain chain(o);
  int port = chain.rpc->port();
  std::uint64_t far = chain.node->head().number + 30;

  std::vector<test::RawConnection> conns(8);
  for (std::size_t i = 0; i < conns.size(); ++i) REQUIRE(conns[i].connect(port, "127.0.0.2"));
  for (std::size_t i = 0; i < 4; ++i) {
    REQUIRE(conns[i].send(test::RawConnection::post(body("chain_waitForBlock", json::array({far, 30000})))));
  }
  std::this_thread::sleep_for(200ms);
  int status = 0;
  json r = ask(conns[4], body("chain_waitForBlock", json::array({far, 30000})), 5s, &status);
  CHECK(status == 503);
  CHECK(r["error"]["code"] == -32001);
  CHECK(r["error"]["message"].get<std::string>().find("too many waiting") != std::string::npos);

  // A ninth connection from the same address is closed at once; another address is served.
  test::RawConnection ninth;
  REQUIRE(ninth.connect(port, "127.0.0.2"));
  r = ask(ninth, body("chain_getHead", json::array()), 2s);
  CHECK(r.contains("transport"));
  test::RawConnection other;
  REQUIRE(other.connect(port, "127.0.0.3"));
  r = ask(other, body("chain_waitForBlock", json::array({far, 100})));
  CHECK(r["result"]["number"].is_number());
}

TEST_CASE("slow-loris: a request must arrive whole within the read deadline; idle connections close") {
  test::LiveChainOptions o;
  o.rpcLimits.readDeadline = 600ms;
  o.rpcLimits.idleTimeout = 1500ms;
  test::LiveChain chain(o);
  int port = chain.rpc->port();

  test::RawConnection slow;
  REQUIRE(slow.connect(port));
  std::string request = test::RawConnection::post(body("chain_getHead", json::array()));
  auto t0 = SteadyClock::now();
  bool closed = false;
  for (char ch : request) {  // one byte every 100 ms: each recv is quick, the whole is not
    if (!slow.send(std::string_view(&ch, 1))) {
      closed = true;
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  if (!closed) closed = !slow.read(SteadyClock::now() + 3s).ok;
  CHECK(closed);
  CHECK(SteadyClock::now() - t0 < 3s);

  test::RawConnection idle;
  REQUIRE(idle.connect(port));
  CHECK(ask(idle, body("chain_getHead", json::array()))["result"].is_object());
  auto r = idle.read(SteadyClock::now() + 4s);  // nothing sent: the server hangs up after 1.5 s
  CHECK(r.error == "closed by server");
}

TEST_CASE("memory: large uploads beyond the buffer budget are refused; small requests pass") {
  test::LiveChainOptions o;
  o.rpcLimits.maxBufferedBytes = 512 * 1024;
  test::LiveChain chain(o);
  int port = chain.rpc->port();
  std::string head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n";
  test::RawConnection a, b;
  REQUIRE(a.connect(port));
  REQUIRE(a.send(head + std::string(400 * 1024, ' ')));  // held (under the budget): the body is not complete
  std::this_thread::sleep_for(200ms);
  REQUIRE(b.connect(port));
  b.send(head + std::string(200 * 1024, ' '));
  auto r = b.read(SteadyClock::now() + 5s);
  REQUIRE_MESSAGE(r.ok, r.error);
  CHECK(r.status == 503);
  CHECK(r.body.find("too many large requests") != std::string::npos);
  test::RawConnection small;
  REQUIRE(small.connect(port));
  CHECK(ask(small, body("chain_getHead", json::array()))["result"].is_object());
}

TEST_CASE("answers over the byte limit are refused with -32003, not built") {
  test::LiveChain chain({});
  RpcHandler small(*chain.node, {}, 700);
  json r = json::parse(small.handle(body("metagraph_get", json::array({0, true, true}))));
  CHECK(r["error"]["code"] == -32003);
  json batch = json::array();
  for (int i = 0; i < 50; ++i) batch.push_back(json::parse(body("system_info", json::array(), i)));
  r = json::parse(small.handle(batch.dump()));
  CHECK(r["error"]["code"] == -32003);
  CHECK(r["error"]["data"]["limit"] == 700);
  r = json::parse(small.handle(body("system_health", json::array())));
  CHECK(r["result"]["ok"] == true);
}

// Fails at 8f8197f: produceBlock waited for the reader's shared lock (10 s here).
TEST_CASE("a reader holding a view never delays a block, and sees one consistent state") {
  test::TempDir dir("merit_read_view");
  NodeConfig cfg = devPreset().node;
  cfg.dataDir = dir.path().string();
  SystemClock clock;
  auto node = Node::open(cfg, devAuthorityKey(), clock);
  REQUIRE(node);
  std::mutex m;
  std::condition_variable cv;
  bool inside = false, release = false;
  std::uint64_t seenHead = 0;
  std::thread reader([&] {
    (*node)->read([&](const StateView&, std::uint64_t head) {
      std::unique_lock lock(m);
      seenHead = head;
      inside = true;
      cv.notify_all();
      cv.wait_for(lock, 10s, [&] { return release; });  // holds its view meanwhile
      return 0;
    });
  });
  {
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, 5s, [&] { return inside; }));
  }
  auto t0 = SteadyClock::now();
  for (int i = 0; i < 3; ++i) REQUIRE((*node)->produceBlock());
  CHECK(SteadyClock::now() - t0 < 5s);
  CHECK((*node)->head().number == seenHead + 3);
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  reader.join();
  CHECK((*node)->read([](const StateView&, std::uint64_t head) { return head; }) == seenHead + 3);
}

}  // namespace
}  // namespace merit::chain
