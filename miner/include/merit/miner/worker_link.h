// A miner that spans machines (docs/OPERATIONS.md, "Workers on other hosts"): merit-miner runs
// as the axon front (authentication, admission, rate limits, priority: all unchanged) and hands
// each batch the axon admits to a worker process, on this or another machine, over ZeroMQ. A
// worker hosts the same subnet plugin (miner::pluginModule) as an in-process miner.
//
// The link (docs/PROTOCOL.md, "Worker link"): the front binds a ROUTER, each worker connects a
// DEALER. Both ends are CurveZMQ-encrypted and mutually authenticated with keys derived from a
// shared secret file: the front's server key pair and the one client key pair every worker uses.
// A peer without the secret cannot complete the handshake (the front's ZAP handler admits only
// the derived client key), so it can neither receive nor answer traffic.
//
// Thread-safety: WorkerFront::handler() returns a BatchHandler callable from any number of
// threads at once (the axon's workers); each call blocks until its batch is answered. Inside,
// one dispatcher thread owns every socket of the front. Worker::run() is called from one thread
// and owns the worker's sockets; its handler threads reach them through inproc sockets.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "merit/crypto/secret.h"
#include "merit/net/axon.h"
#include "merit/util/bytes.h"
#include "merit/util/clock.h"
#include "merit/util/result.h"

namespace merit::miner {

// The CURVE keys of the worker link, derived from the shared secret with domain-separated
// keyed BLAKE2b-256: both sides compute all of them from the secret alone.
struct WorkerLinkKeys {
  ByteArray<32> frontPublic{};
  crypto::SecretArray<32> frontSecret;
  ByteArray<32> workerPublic{};
  crypto::SecretArray<32> workerSecret;

  // `secret`: the contents of the worker secret file; at least 32 bytes (kInvalidArgument).
  static Result<WorkerLinkKeys> derive(ByteView secret);
};

// Reads a worker secret file: trailing whitespace is ignored; at least 32 bytes must remain, and
// the file must not be readable by group or others (kInvalidArgument, naming the file).
Result<crypto::SecretBytes> readWorkerSecret(const std::string& path);

struct WorkerFrontOptions {
  std::string endpoint;  // where workers connect, e.g. "tcp://0.0.0.0:8092" ("tcp://127.0.0.1:*": any port)
  std::string module;    // the plugin's module name; workers serving another module are refused
  std::size_t queueCapacity = 1024;  // batches waiting for a worker; beyond it OVERLOADED
  std::chrono::milliseconds heartbeatInterval{1000};
  std::chrono::milliseconds heartbeatTimeout{3000};
  // A batch whose requests carry no timeout waits at most this long for a worker and its answer.
  std::chrono::milliseconds defaultTimeout{12'000};
};

struct WorkerFrontStats {
  std::size_t workers = 0;              // live workers now
  std::size_t capacity = 0;             // their announced capacity, summed
  std::size_t queued = 0;               // batches waiting for a worker
  std::size_t inFlight = 0;             // batches on workers
  std::uint64_t workersJoined = 0;      // hellos accepted
  std::uint64_t workersLost = 0;        // by heartbeat timeout or disconnect
  std::uint64_t handshakesRefused = 0;  // CURVE/ZAP handshakes that failed (no or wrong secret)
  std::uint64_t batchesDone = 0;
  std::uint64_t batchesRequeued = 0;  // hand-over failed before any worker saw them
  std::uint64_t batchesLost = 0;      // in flight on a worker that died: answered INTERNAL
  std::uint64_t batchesUnserved = 0;  // no worker in time, or the queue full: OVERLOADED / TIMEOUT
};

class WorkerFront {
 public:
  // Binds the worker endpoint and starts the dispatcher thread. `clock` times heartbeats and
  // deadlines (a ManualClock makes them move only when a test says).
  static Result<std::unique_ptr<WorkerFront>> start(WorkerFrontOptions options, const WorkerLinkKeys& keys,
                                                    std::shared_ptr<const Clock> clock);
  // Answers everything still waiting OVERLOADED ("stopping") and joins the thread.
  ~WorkerFront();
  WorkerFront(const WorkerFront&) = delete;
  WorkerFront& operator=(const WorkerFront&) = delete;

  // The handler to put in the plugin's ModuleHandler instead of the in-process one. Replies:
  // the worker's, or INTERNAL "worker lost" (in flight on a worker that died), OVERLOADED (no
  // room in the queue, or stopping), TIMEOUT (no worker answered before the batch's deadline).
  net::BatchHandler handler();
  const std::string& endpoint() const;  // bound, e.g. "tcp://127.0.0.1:41234"
  WorkerFrontStats stats() const;
  // Appends merit_miner_workers_* metrics in Prometheus text.
  void renderMetrics(std::string& out) const;

  class Impl;

 private:
  explicit WorkerFront(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> m_impl;  // shared with the handlers it returned
};

struct WorkerOptions {
  std::string front;        // the front's worker endpoint, e.g. "tcp://10.0.0.1:8092"
  std::size_t threads = 2;  // batches handled at once (the capacity announced to the front)
};

// Exit code of `merit-miner --worker` when the front refuses the worker's key (wrong secret).
inline constexpr int kExitWorkerRefused = 6;

class Worker {
 public:
  // `module` is the plugin's (miner::pluginModule); its handler runs on `threads` threads.
  Worker(WorkerOptions options, const WorkerLinkKeys& keys, net::ModuleHandler module,
         std::shared_ptr<const Clock> clock);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Connects and serves until `stop` is set (returns {}), reconnecting and saying hello again
  // whenever the front stops hearing it (front restart, network cut). Fails with kUnauthorized
  // when the front refuses the CURVE handshake before ever welcoming this worker, and with
  // kInvalidArgument when it refuses the hello (another module).
  Result<void> run(const std::atomic<bool>& stop);
  std::uint64_t batchesHandled() const { return m_handled.load(); }

 private:
  WorkerOptions m_options;
  ByteArray<32> m_frontPublic;
  ByteArray<32> m_workerPublic;
  crypto::SecretArray<32> m_workerSecret;
  net::ModuleHandler m_module;
  std::shared_ptr<const Clock> m_clock;
  std::atomic<std::uint64_t> m_handled{0};
};

}  // namespace merit::miner
