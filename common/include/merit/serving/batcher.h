// Batcher: dynamic batching in front of one model. Callers submit single requests (a Tensor
// whose leading dimension holds that request's rows, usually 1); one worker thread gathers
// queued requests into a batch of at most maxBatchRows rows, waiting at most maxWait after the
// oldest queued request arrived, runs the batch once, and hands each request its own slice of
// the output.
//
// Limits and failures, all as merit::Result codes:
// - the queue holds at most queueCapacity requests; submitting to a full queue fails at once
//   with overloaded (the caller should shed load or try elsewhere; nothing waits);
// - a request whose deadline has passed when it is submitted, or when the worker reaches it, is
//   not run and fails with deadline_exceeded (a result computed in time is always delivered);
// - a request with more rows than maxBatchRows, or with no leading dimension, fails at submit
//   with invalid_argument; requests whose row shape or dtype differ from the head of the queue
//   wait for a later batch rather than being mixed;
// - an error from the batch function is given to every request of that batch;
// - after shutdown() starts, submit() fails with unavailable.
//
// Thread-safety: submit(), queueDepth() and stats() may be called from any thread at any time.
// shutdown() may be called from any thread except the worker (that is, not from a completion
// callback) and more than once. Completion callbacks run on the worker thread, one after the
// other: they must be quick, must not throw, and must not call shutdown(). The batch function
// runs only on the worker thread. The destructor is shutdown(ShutdownMode::kFailPending).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "merit/serving/tensor.h"
#include "merit/util/clock.h"
#include "merit/util/result.h"

namespace merit::serving {

class Model;

// A time point on the batcher's clock (BatcherOptions::clock): with the default system clock,
// std::chrono::steady_clock::now() + budget.
using Deadline = std::chrono::steady_clock::time_point;

// Runs one batch: result i must answer inputs[i], and there must be exactly inputs.size()
// results. Model::forwardBatch is the usual one; tests pass fakes.
using BatchFunction = std::function<Result<std::vector<Tensor>>(std::span<const Tensor> inputs)>;

// Called once per request with its result or error.
using Completion = std::function<void(Result<Tensor>)>;

// What one batch looked like, for metrics (batch-size histogram, inference time).
struct BatchInfo {
  std::size_t requests = 0;
  std::int64_t rows = 0;
  std::chrono::nanoseconds runTime{0};  // time inside the batch function
  bool ok = false;                      // the batch function succeeded
};

struct BatcherOptions {
  std::int64_t maxBatchRows = 32;           // rows (leading dimension) per batch, >= 1
  std::chrono::microseconds maxWait{2000};  // how long the oldest request may wait for company
  std::size_t queueCapacity = 1024;         // requests waiting, >= 1
  std::string name = "model";               // for log lines
  // Optional; called on the worker thread after each batch, before its completions.
  std::function<void(const BatchInfo&)> onBatch{};
  // Time for deadlines and the maxWait window (tests pass a ManualClock); null: the system clock.
  // BatchInfo::runTime is always measured on the real clock (it is for metrics).
  std::shared_ptr<const Clock> clock{};
};

struct BatcherStats {
  std::uint64_t submitted = 0;   // accepted into the queue
  std::uint64_t completed = 0;   // delivered a result
  std::uint64_t failed = 0;      // delivered an error from the batch function or at shutdown
  std::uint64_t overloaded = 0;  // refused at submit because the queue was full
  std::uint64_t expired = 0;     // deadline passed before running (at submit or in the queue)
  std::uint64_t batches = 0;
  std::uint64_t batchedRows = 0;
};

enum class ShutdownMode : unsigned char {
  kDrain,        // run everything already queued (expired requests still fail), then stop
  kFailPending,  // finish the batch in flight; every queued request fails with unavailable
};

class Batcher {
 public:
  // Starts the worker thread. Options are checked with MERIT_ASSERT (they come from validated
  // configuration, not from peers).
  Batcher(BatchFunction run, BatcherOptions options);
  // Batches for `model`, which must outlive the batcher.
  Batcher(const Model& model, BatcherOptions options);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues a request. On success `done` will be called exactly once, on the worker thread. On
  // failure (overloaded, deadline_exceeded, invalid_argument, unavailable) `done` is never
  // called and the error is returned here, at once.
  Result<void> submit(Tensor input, Deadline deadline, Completion done);

  // The same, with the result (or the submit error) delivered through a future.
  std::future<Result<Tensor>> submit(Tensor input, Deadline deadline);

  // Stops accepting requests, settles the queue as `mode` says and joins the worker.
  void shutdown(ShutdownMode mode);

  std::size_t queueDepth() const;
  BatcherStats stats() const;
  const BatcherOptions& options() const { return m_options; }

 private:
  struct Pending {
    Tensor input;
    Deadline deadline;
    Completion done;
    std::chrono::steady_clock::time_point enqueued;
  };

  void workerLoop();
  // Takes the next batch from the queue (and the expired requests met on the way); called with
  // m_mutex held.
  void takeBatch(std::vector<Pending>& batch, std::vector<Pending>& expired);
  void runBatch(std::vector<Pending>& batch);

  const BatchFunction m_run;
  const BatcherOptions m_options;
  const std::shared_ptr<const Clock> m_clock;  // m_options.clock, or the system clock

  mutable std::mutex m_mutex;  // guards everything below except m_worker
  std::condition_variable m_wake;
  std::deque<Pending> m_queue;
  std::int64_t m_queuedRows = 0;
  bool m_stopping = false;
  ShutdownMode m_mode = ShutdownMode::kFailPending;
  BatcherStats m_stats;

  std::mutex m_shutdownMutex;  // serialises shutdown() callers around the join
  std::thread m_worker;
};

}  // namespace merit::serving
