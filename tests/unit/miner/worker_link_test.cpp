// The front's dispatch and requeue rules (merit/miner/dispatch.h) with a manual clock, and the
// worker link end to end in one process: a WorkerFront and Workers over loopback TCP with
// CurveZMQ, a worker lost mid-batch, and a worker with the wrong secret refused.
#include "merit/miner/worker_link.h"

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include <doctest/doctest.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "merit/crypto/any_key.h"
#include "merit/miner/config.h"
#include "merit/miner/dispatch.h"

namespace merit::miner {
namespace {

using namespace std::chrono_literals;
using TimePoint = Dispatcher::TimePoint;

TimePoint at(int ms) {
  return TimePoint(std::chrono::milliseconds(ms));
}

TEST_CASE("dispatch: credit-based balancing to the worker with most free credit") {
  Dispatcher d({.queueCapacity = 8, .maxCapacityPerWorker = 4, .heartbeatTimeout = 1000ms});
  CHECK_FALSE(d.next(at(0)));  // nothing queued
  REQUIRE(d.enqueue(1, at(5000)));
  CHECK_FALSE(d.next(at(0)));  // no worker: the job waits
  CHECK(d.queued() == 1);
  d.addWorker("a", 2, at(0));
  d.addWorker("b", 1, at(0));
  auto a1 = d.next(at(0));
  REQUIRE(a1);
  CHECK(a1->job == 1);
  CHECK(a1->worker == "a");  // two free credits against one
  REQUIRE(d.enqueue(2, at(5000)));
  REQUIRE(d.enqueue(3, at(5000)));
  REQUIRE(d.enqueue(4, at(5000)));
  auto a2 = d.next(at(0));
  auto a3 = d.next(at(0));
  REQUIRE(a2);
  REQUIRE(a3);
  // One free credit each now: "b" has waited longer, then "a".
  CHECK(a2->worker == "b");
  CHECK(a3->worker == "a");
  CHECK_FALSE(d.next(at(0)));  // all credit used: job 4 waits
  CHECK(d.inFlight() == 3);
  CHECK(d.complete("b", a2->job));
  auto a4 = d.next(at(0));
  REQUIRE(a4);
  CHECK(a4->job == 4);
  CHECK(a4->worker == "b");
  CHECK_FALSE(d.complete("a", a4->job));  // not that worker's job
}

TEST_CASE("dispatch: the queue is bounded and ids are unique") {
  Dispatcher d({.queueCapacity = 2, .maxCapacityPerWorker = 4, .heartbeatTimeout = 1000ms});
  CHECK(d.enqueue(1, at(100)));
  CHECK_FALSE(d.enqueue(1, at(100)));
  CHECK(d.enqueue(2, at(100)));
  CHECK_FALSE(d.enqueue(3, at(100)));
  CHECK(d.queued() == 2);
}

TEST_CASE("dispatch: a dead worker's in-flight jobs are lost, queued jobs wait for another worker") {
  Dispatcher d({.queueCapacity = 8, .maxCapacityPerWorker = 4, .heartbeatTimeout = 1000ms});
  d.addWorker("a", 1, at(0));
  d.addWorker("b", 1, at(0));
  for (Dispatcher::JobId j = 1; j <= 3; ++j) REQUIRE(d.enqueue(j, at(10'000)));
  auto x = d.next(at(0));
  auto y = d.next(at(0));
  REQUIRE(x);
  REQUIRE(y);
  CHECK_FALSE(d.next(at(0)));
  // "a" keeps talking, "b" goes silent.
  CHECK(d.heard("a", at(900)));
  auto early = d.expire(at(999));
  CHECK(early.deadWorkers.empty());
  auto ex = d.expire(at(1000));
  REQUIRE(ex.deadWorkers.size() == 1);
  CHECK(ex.deadWorkers[0] == "b");
  const auto onB = x->worker == "b" ? x->job : y->job;
  REQUIRE(ex.lost.size() == 1);
  CHECK(ex.lost[0] == onB);
  CHECK(ex.unserved.empty());
  CHECK(d.queued() == 1);               // job 3 is not lost
  CHECK_FALSE(d.heard("b", at(1001)));  // dead: must say hello again
  CHECK_FALSE(d.complete("b", onB));    // a late answer is dropped
  // "a" finishes and takes job 3.
  CHECK(d.complete("a", x->worker == "a" ? x->job : y->job));
  auto z = d.next(at(1001));
  REQUIRE(z);
  CHECK(z->job == 3);
  CHECK(z->worker == "a");
  // A disconnect loses the same way.
  auto lost = d.removeWorker("a");
  REQUIRE(lost.size() == 1);
  CHECK(lost[0] == 3);
  CHECK(d.workerCount() == 0);
}

TEST_CASE("dispatch: an undelivered hand-over is requeued at the head with its deadline") {
  Dispatcher d({.queueCapacity = 1, .maxCapacityPerWorker = 4, .heartbeatTimeout = 1000ms});
  d.addWorker("a", 1, at(0));
  REQUIRE(d.enqueue(1, at(500)));
  auto a = d.next(at(0));
  REQUIRE(a);
  REQUIRE(d.enqueue(2, at(600)));  // the queue (capacity 1) is free again
  d.requeue(*a);                   // allowed beyond capacity: it was admitted once
  CHECK(d.queued() == 2);
  CHECK(d.removeWorker("a").empty());  // the requeued job is no longer on "a"
  d.addWorker("b", 1, at(0));
  auto b = d.next(at(0));
  REQUIRE(b);
  CHECK(b->job == 1);  // at the head
  auto ex = d.expire(at(600));
  REQUIRE(ex.late.size() == 1);  // job 1 on "b" past its deadline 500
  CHECK(ex.late[0] == 1);
  REQUIRE(ex.unserved.size() == 1);  // job 2 never got a worker before 600
  CHECK(ex.unserved[0] == 2);
  CHECK_FALSE(d.next(at(600)));     // the late job still holds b's only credit
  CHECK_FALSE(d.complete("b", 1));  // its answer is dropped, the credit freed
  CHECK(d.freeCredit() == 1);
}

TEST_CASE("dispatch: a second hello from the same connection keeps its jobs; deadlines") {
  Dispatcher d({.queueCapacity = 4, .maxCapacityPerWorker = 2, .heartbeatTimeout = 1000ms});
  d.addWorker("a", 100, at(0));  // clamped to 2
  REQUIRE(d.enqueue(1, at(300)));
  REQUIRE(d.enqueue(2, at(300)));
  REQUIRE(d.enqueue(3, at(300)));
  CHECK(d.next(at(0)));
  CHECK(d.next(at(0)));
  CHECK_FALSE(d.next(at(0)));
  REQUIRE(d.nextDeadline());
  CHECK(*d.nextDeadline() == at(300));
  d.addWorker("a", 1, at(10));  // same connection, same process: the jobs are still running there
  CHECK(d.inFlight() == 2);
  CHECK(d.freeCredit() == 0);
  CHECK(d.complete("a", 1));
}

// --- The link end to end, in one process over loopback ---------------------------------------

WorkerLinkKeys keysOf(char fill) {
  std::string secret(40, fill);
  return WorkerLinkKeys::derive(asBytes(std::string_view(secret))).value();
}

std::vector<wire::Request> requests(int n, std::uint32_t version = 1) {
  std::vector<wire::Request> out(n);
  for (int i = 0; i < n; ++i) {
    out[i].header.module = "echo";
    out[i].header.moduleVersion = version;
    out[i].header.timeoutMs = 10'000;
    out[i].header.requestId[0] = std::byte(i);
    out[i].body = {std::byte(i), std::byte(42)};
  }
  return out;
}

// Echoes each body with a marker; optionally blocks every batch until released.
struct EchoModule {
  std::atomic<int> calls{0};
  std::mutex callersMutex;
  std::vector<wire::Hotkey> callers;  // every request's caller, as the worker saw it
  std::promise<void> entered;
  std::shared_future<void> release;
  bool block = false;

  net::ModuleHandler module() {
    net::ModuleHandler m;
    m.module = "echo";
    m.version = 1;
    m.handler = [this](std::span<const wire::Request> batch) {
      if (calls++ == 0 && block) {
        entered.set_value();
        release.wait();
      }
      std::vector<net::Reply> out;
      {
        std::lock_guard lock(callersMutex);
        for (const auto& r : batch) callers.push_back(r.header.caller);
      }
      for (const auto& r : batch) {
        net::Reply reply{wire::Status::kOk, "", r.body};
        reply.body.push_back(std::byte(r.header.moduleVersion));
        out.push_back(std::move(reply));
      }
      return out;
    };
    return m;
  }
};

struct RunningWorker {
  std::atomic<bool> stop{false};
  std::unique_ptr<Worker> worker;
  std::future<Result<void>> done;
  RunningWorker(const std::string& front, const WorkerLinkKeys& keys, net::ModuleHandler module,
                std::size_t threads) {
    worker = std::make_unique<Worker>(WorkerOptions{front, threads}, keys, std::move(module),
                                      std::make_shared<SystemClock>());
    done = std::async(std::launch::async, [this] { return worker->run(stop); });
  }
  ~RunningWorker() {
    stop = true;
    done.wait();
  }
};

WorkerFrontOptions frontOptions() {
  WorkerFrontOptions o;
  o.endpoint = "tcp://127.0.0.1:*";
  o.module = "echo";
  o.heartbeatInterval = 50ms;
  o.heartbeatTimeout = 2000ms;
  return o;
}

TEST_CASE("worker link: the caller's tagged hotkey of either scheme reaches the worker") {
  const auto keys = keysOf('c');
  auto front = WorkerFront::start(frontOptions(), keys, std::make_shared<SystemClock>()).value();
  EchoModule echo;
  RunningWorker w(front->endpoint(), keys, echo.module(), 1);
  auto batch = requests(3);
  batch[1].header.caller = crypto::AnyPrivateKey::generate(crypto::KeyScheme::kEcdsa).publicKey();
  batch[2].header.caller = crypto::AnyPrivateKey::generate(crypto::KeyScheme::kSr25519).publicKey();
  auto replies = front->handler()(batch);
  REQUIRE(replies.size() == 3);
  for (const auto& r : replies) CHECK(r.status == wire::Status::kOk);
  std::lock_guard lock(echo.callersMutex);
  REQUIRE(echo.callers.size() == 3);
  CHECK(echo.callers[0].empty());  // none given, none invented
  CHECK(echo.callers[1] == batch[1].header.caller);
  CHECK(echo.callers[2] == batch[2].header.caller);
  CHECK(echo.callers[2].scheme() == crypto::KeyScheme::kSr25519);
}

TEST_CASE("worker link: batches go to a worker and come back in order") {
  const auto keys = keysOf('s');
  auto front = WorkerFront::start(frontOptions(), keys, std::make_shared<SystemClock>()).value();
  EchoModule echo;
  RunningWorker w(front->endpoint(), keys, echo.module(), 2);
  auto handler = front->handler();
  // Queued until the worker says hello: nothing is lost while no worker is there.
  auto replies = handler(requests(3));
  REQUIRE(replies.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(replies[i].status == wire::Status::kOk);
    REQUIRE(replies[i].body.size() == 3);
    CHECK(replies[i].body[0] == std::byte(i));
    CHECK(replies[i].body[2] == std::byte(1));
  }
  CHECK(front->stats().workers == 1);
  CHECK(front->stats().batchesDone == 1);
  std::string metrics;
  front->renderMetrics(metrics);
  CHECK(metrics.find("merit_miner_workers 1") != std::string::npos);
}

TEST_CASE("worker link: a worker lost mid-batch answers INTERNAL; the other worker serves on") {
  const auto keys = keysOf('t');
  auto front = WorkerFront::start(frontOptions(), keys, std::make_shared<SystemClock>()).value();
  auto handler = front->handler();
  EchoModule stuck;
  std::promise<void> releaser;
  stuck.block = true;
  stuck.release = releaser.get_future().share();
  auto entered = stuck.entered.get_future();
  auto first = std::make_unique<RunningWorker>(front->endpoint(), keys, stuck.module(), 1);
  auto inFlight = std::async(std::launch::async, [&] { return handler(requests(2)); });
  entered.wait();  // the batch is inside the first worker's handler
  // Its connection goes away (the process "dies"): stop the loop, which closes the socket, while
  // the handler still holds the batch.
  first->stop = true;
  auto lost = inFlight.get();
  REQUIRE(lost.size() == 2);
  CHECK(lost[0].status == wire::Status::kInternal);
  CHECK(lost[0].message.find("lost") != std::string::npos);
  EchoModule echo;
  RunningWorker second(front->endpoint(), keys, echo.module(), 1);
  auto ok = handler(requests(1));
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].status == wire::Status::kOk);
  releaser.set_value();
  first.reset();
  CHECK(front->stats().batchesLost == 1);
  CHECK(front->stats().workersLost >= 1);
}

TEST_CASE("worker link: a worker that goes silent is lost after the heartbeat timeout (manual clock)") {
  const auto keys = keysOf('w');
  auto clock = std::make_shared<ManualClock>();
  auto front = WorkerFront::start(frontOptions(), keys, clock).value();  // heartbeat timeout 2000 ms
  // A frozen worker: it says hello, takes a job, and then neither answers nor sends a heartbeat,
  // while its connection stays open (no disconnect to notice).
  zmq::context_t context(1);
  zmq::socket_t frozen(context, zmq::socket_type::dealer);
  frozen.set(zmq::sockopt::curve_serverkey, zmq::const_buffer(keys.frontPublic.data(), 32));
  frozen.set(zmq::sockopt::curve_publickey, zmq::const_buffer(keys.workerPublic.data(), 32));
  frozen.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(keys.workerSecret.reveal().data(), 32));
  frozen.set(zmq::sockopt::linger, 0);
  frozen.connect(front->endpoint());
  const char hello[] = {'H'};
  const unsigned char versionAndCapacity[8] = {2, 0, 0, 0, 1, 0, 0, 0};  // link version 2
  std::vector<zmq::message_t> h;
  h.emplace_back(hello, 1);
  h.emplace_back(versionAndCapacity, 8);
  h.emplace_back(std::string("echo"));
  zmq::send_multipart(frozen, h);
  auto receive = [&frozen](char want) {
    for (;;) {
      std::vector<zmq::message_t> parts;
      REQUIRE(zmq::recv_multipart(frozen, std::back_inserter(parts)));
      if (!parts.empty() && parts[0].size() == 1 && *static_cast<const char*>(parts[0].data()) == want)
        return;
    }
  };
  receive('W');
  auto handler = front->handler();
  auto answer = std::async(std::launch::async, [&] { return handler(requests(1)); });
  receive('J');  // the job is in flight on the frozen worker
  CHECK(answer.wait_for(50ms) == std::future_status::timeout);
  clock->advance(2000ms);
  REQUIRE(answer.wait_for(30s) == std::future_status::ready);  // a bound, not a synchronisation
  auto lost = answer.get();
  REQUIRE(lost.size() == 1);
  CHECK(lost[0].status == wire::Status::kInternal);
  CHECK(lost[0].message.find("no heartbeat") != std::string::npos);
  CHECK(front->stats().workers == 0);
}

TEST_CASE("worker link: a worker without the secret is refused and never sees a request") {
  const auto keys = keysOf('u');
  auto front = WorkerFront::start(frontOptions(), keys, std::make_shared<SystemClock>()).value();
  EchoModule stranger;
  std::atomic<bool> stop{false};
  Worker w(WorkerOptions{front->endpoint(), 1}, keysOf('v'), stranger.module(),
           std::make_shared<SystemClock>());
  auto refused = w.run(stop);  // returns on its own: the handshake is refused
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kUnauthorized);
  CHECK(front->stats().workers == 0);
  CHECK(stranger.calls == 0);
}

TEST_CASE("worker link keys and config") {
  CHECK_FALSE(WorkerLinkKeys::derive(asBytes(std::string_view("short"))));
  auto a = keysOf('a');
  auto b = keysOf('a');
  CHECK(a.frontPublic == b.frontPublic);
  CHECK(a.workerPublic == b.workerPublic);
  CHECK(a.frontPublic != a.workerPublic);
  CHECK(keysOf('b').workerPublic != a.workerPublic);

  auto none = parseMinerConfig("workers: 4\n", "m.yaml", {});
  REQUIRE(none);
  CHECK_FALSE(none->remoteWorkers);
  auto with = parseMinerConfig(
      "remote_workers:\n  endpoint: tcp://0.0.0.0:8092\n  secret_file: /etc/s\n  heartbeat_ms: 200\n",
      "m.yaml", {});
  REQUIRE(with);
  REQUIRE(with->remoteWorkers);
  CHECK(with->remoteWorkers->endpoint == "tcp://0.0.0.0:8092");
  CHECK(with->remoteWorkers->heartbeat == 200ms);
  auto missing = parseMinerConfig("remote_workers:\n  endpoint: tcp://0.0.0.0:8092\n", "m.yaml", {});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message().find("secret_file") != std::string::npos);
  auto shipped = loadMinerConfig(MERIT_SOURCE_DIR "/configs/miner_front.yaml", MinerConfig{});
  REQUIRE_MESSAGE(shipped, shipped.error().message());
  REQUIRE(shipped->remoteWorkers);
  CHECK(shipped->remoteWorkers->secretFile == "/etc/meritnet/worker.secret");
  auto unknown =
      parseMinerConfig("remote_workers:\n  endpoint: x\n  secret_file: y\n  bogus: 1\n", "m.yaml", {});
  CHECK_FALSE(unknown);
}

}  // namespace
}  // namespace merit::miner
