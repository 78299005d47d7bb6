#include "merit/serving/batcher.h"

#include <memory>
#include <utility>

#include <fmt/format.h>

#include "merit/serving/model.h"
#include "merit/util/assert.h"
#include "merit/util/log.h"

namespace merit::serving {

namespace {
using log::Category;
}  // namespace

Batcher::Batcher(BatchFunction run, BatcherOptions options)
    : m_run(std::move(run)),
      m_options(std::move(options)),
      m_clock(m_options.clock ? m_options.clock : std::make_shared<SystemClock>()) {
  MERIT_ASSERT(m_run != nullptr);
  MERIT_ASSERT(m_options.maxBatchRows >= 1, m_options.maxBatchRows);
  MERIT_ASSERT(m_options.queueCapacity >= 1, m_options.queueCapacity);
  MERIT_ASSERT(m_options.maxWait.count() >= 0, m_options.maxWait.count());
  m_worker = std::thread([this] { workerLoop(); });
}

Batcher::Batcher(const Model& model, BatcherOptions options)
    : Batcher([&model](std::span<const Tensor> inputs) { return model.forwardBatch(inputs); },
              std::move(options)) {}

Batcher::~Batcher() {
  shutdown(ShutdownMode::kFailPending);
}

Result<void> Batcher::submit(Tensor input, Deadline deadline, Completion done) {
  MERIT_ASSERT(done != nullptr);
  if (input.shape().empty() || input.rows() < 1) {
    return fail(
        ErrorCode::kInvalidArgument,
        fmt::format("a request needs a leading dimension of at least one row, got {}", input.describe()));
  }
  if (input.rows() > m_options.maxBatchRows) {
    return fail(ErrorCode::kInvalidArgument, fmt::format("a request of {} rows exceeds the batch limit of {}",
                                                         input.rows(), m_options.maxBatchRows));
  }
  const auto now = m_clock->monotonicNow();
  std::unique_lock lock(m_mutex);
  if (m_stopping) return fail(ErrorCode::kUnavailable, m_options.name + ": shutting down");
  if (deadline <= now) {
    ++m_stats.expired;
    return fail(ErrorCode::kDeadlineExceeded,
                m_options.name + ": the deadline passed before the request was queued");
  }
  if (m_queue.size() >= m_options.queueCapacity) {
    ++m_stats.overloaded;
    return fail(ErrorCode::kOverloaded,
                fmt::format("{}: the queue is full ({} requests waiting)", m_options.name, m_queue.size()));
  }
  const std::int64_t rows = input.rows();
  m_queue.push_back(Pending{std::move(input), deadline, std::move(done), now});
  m_queuedRows += rows;
  ++m_stats.submitted;
  // The worker needs waking for the first request (to start its wait) and when a full batch is
  // ready; in between it is sleeping until the oldest request's maxWait anyway.
  const bool wake = m_queue.size() == 1 || m_queuedRows >= m_options.maxBatchRows;
  lock.unlock();
  if (wake) m_wake.notify_one();
  return {};
}

std::future<Result<Tensor>> Batcher::submit(Tensor input, Deadline deadline) {
  auto promise = std::make_shared<std::promise<Result<Tensor>>>();
  auto future = promise->get_future();
  auto queued = submit(std::move(input), deadline,
                       [promise](Result<Tensor> result) { promise->set_value(std::move(result)); });
  if (!queued) promise->set_value(fail(std::move(queued).error()));
  return future;
}

void Batcher::shutdown(ShutdownMode mode) {
  MERIT_ASSERT(std::this_thread::get_id() != m_worker.get_id(),
               "shutdown() called from a completion callback");
  std::lock_guard serial(m_shutdownMutex);
  {
    std::lock_guard lock(m_mutex);
    if (!m_stopping) {
      m_stopping = true;
      m_mode = mode;
    }
  }
  m_wake.notify_all();
  if (m_worker.joinable()) m_worker.join();
}

std::size_t Batcher::queueDepth() const {
  std::lock_guard lock(m_mutex);
  return m_queue.size();
}

BatcherStats Batcher::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

void Batcher::takeBatch(std::vector<Pending>& batch, std::vector<Pending>& expired) {
  const auto now = m_clock->monotonicNow();
  std::int64_t rows = 0;
  const Tensor* head = nullptr;
  for (auto it = m_queue.begin(); it != m_queue.end() && rows < m_options.maxBatchRows;) {
    if (it->deadline <= now) {
      m_queuedRows -= it->input.rows();
      expired.push_back(std::move(*it));
      it = m_queue.erase(it);
      continue;
    }
    // Only requests that concatenate with the first one join it; the rest keep their place.
    if (head != nullptr &&
        (!sameRowShape(*head, it->input) || rows + it->input.rows() > m_options.maxBatchRows)) {
      ++it;
      continue;
    }
    rows += it->input.rows();
    m_queuedRows -= it->input.rows();
    batch.push_back(std::move(*it));
    head = &batch.front().input;
    it = m_queue.erase(it);
  }
}

void Batcher::workerLoop() {
  std::vector<Pending> batch;
  std::vector<Pending> expired;
  std::vector<Pending> cancelled;
  for (;;) {
    batch.clear();
    expired.clear();
    cancelled.clear();
    bool exit = false;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
      if (m_stopping && m_mode == ShutdownMode::kFailPending) {
        cancelled.assign(std::make_move_iterator(m_queue.begin()), std::make_move_iterator(m_queue.end()));
        m_queue.clear();
        m_queuedRows = 0;
        m_stats.failed += cancelled.size();
        exit = true;
      } else if (m_queue.empty()) {
        exit = true;  // stopping with kDrain and nothing left
      } else {
        // Wait for company: until a full batch is queued, the oldest request has waited maxWait,
        // or shutdown begins (a drain runs what is there without further waiting).
        const auto flushAt = m_queue.front().enqueued + m_options.maxWait;
        waitUntil(*m_clock, m_wake, lock, flushAt,
                  [this] { return m_stopping || m_queue.empty() || m_queuedRows >= m_options.maxBatchRows; });
        if (m_stopping && m_mode == ShutdownMode::kFailPending) continue;  // cancelled above next turn
        takeBatch(batch, expired);
        m_stats.expired += expired.size();
      }
    }
    for (Pending& p : cancelled)
      p.done(fail(ErrorCode::kUnavailable, m_options.name + ": shut down before the request ran"));
    for (Pending& p : expired)
      p.done(fail(ErrorCode::kDeadlineExceeded,
                  m_options.name + ": the deadline passed while the request was queued"));
    if (exit) return;
    if (!batch.empty()) runBatch(batch);
  }
}

void Batcher::runBatch(std::vector<Pending>& batch) {
  std::vector<Tensor> inputs;
  inputs.reserve(batch.size());
  BatchInfo info;
  info.requests = batch.size();
  for (Pending& p : batch) {
    info.rows += p.input.rows();
    inputs.push_back(std::move(p.input));
  }

  const auto start = std::chrono::steady_clock::now();
  Result<std::vector<Tensor>> outputs = m_run(std::span<const Tensor>(inputs));
  info.runTime = std::chrono::steady_clock::now() - start;
  if (outputs && outputs->size() != batch.size()) {
    outputs =
        fail(ErrorCode::kInternal, fmt::format("{}: the batch function returned {} results for {} requests",
                                               m_options.name, outputs->size(), batch.size()));
  }
  info.ok = outputs.has_value();
  {
    std::lock_guard lock(m_mutex);
    ++m_stats.batches;
    m_stats.batchedRows += static_cast<std::uint64_t>(info.rows);
    if (info.ok) {
      m_stats.completed += batch.size();
    } else {
      m_stats.failed += batch.size();
    }
  }
  if (m_options.onBatch) m_options.onBatch(info);

  if (!outputs) {
    MERIT_LOG_RATE_LIMITED(Category::kServing, log::Level::kWarn, "{}: batch of {} requests failed: {}",
                           m_options.name, batch.size(), outputs.error().toString());
    for (Pending& p : batch) p.done(fail(outputs.error()));
    return;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move((*outputs)[i]));
}

}  // namespace merit::serving
