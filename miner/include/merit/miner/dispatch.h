// The front's bookkeeping for remote workers (docs/OPERATIONS.md, "Workers on other hosts"):
// which workers are alive and how much work each may take, the jobs waiting for a worker, and
// the jobs each worker holds. No I/O and no clock of its own: the caller passes the monotonic
// time (from the injected Clock) into every call, so tests decide when heartbeats run out.
//
// Balancing is credit-based: a worker announces a capacity (jobs it runs at once) in its hello;
// a job goes to the live worker with the most free credit, ties to the one that has waited
// longest. A job is one batch of requests from the axon.
//
// What happens to work when a worker dies (heartbeat timeout or transport disconnect): jobs
// still queued here are never lost, they wait for another worker (up to their deadline); jobs
// already handed to the dead worker are returned to the caller to be answered with an error,
// because the worker may have run them (a request is not re-run behind the caller's back). A
// job whose hand-over failed before it reached any worker (unroutable) is put back at the
// head of the queue with requeue().
//
// Thread-safety: none; owned by the front's dispatcher thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace merit::miner {

struct DispatchOptions {
  std::size_t queueCapacity = 1024;  // jobs waiting for a worker; beyond it enqueue() refuses
  std::size_t maxCapacityPerWorker = 256;
  // A worker not heard from (any message) for this long is dead.
  std::chrono::milliseconds heartbeatTimeout{3000};
};

class Dispatcher {
 public:
  using WorkerId = std::string;  // the transport's routing id of the worker's connection
  using JobId = std::uint64_t;
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit Dispatcher(DispatchOptions options) : m_options(options) {}

  // A worker said hello with `capacity` jobs at once (clamped to 1..maxCapacityPerWorker). A
  // worker id is one transport connection, so a hello again from a known worker is the same
  // process: its jobs stay in flight (a restarted worker comes back on a new connection).
  void addWorker(const WorkerId& worker, std::size_t capacity, TimePoint now);
  // Any message from a worker: it is alive. False if the worker is unknown (never said hello, or
  // already declared dead: it must say hello again).
  bool heard(const WorkerId& worker, TimePoint now);
  // Removes a worker (disconnect, bad message): returns the jobs it held, to be failed.
  std::vector<JobId> removeWorker(const WorkerId& worker);

  // Queues a job until `deadline`; false (and nothing queued) when the queue is full or the id
  // is already known.
  bool enqueue(JobId job, TimePoint deadline);
  struct Assignment {
    JobId job;
    WorkerId worker;
  };
  // The next job to send and its worker (the job counts as in flight there from now on), or
  // nothing when no job waits or no live worker has free credit.
  std::optional<Assignment> next(TimePoint now);
  // The hand-over of `job` to `worker` failed before the worker could see it: back to the head
  // of the queue (its deadline unchanged) and the credit returned.
  void requeue(const Assignment& assignment);
  // A worker answered `job`. True if the job was in flight on that worker and not yet expired
  // (answer the caller); false for a late or unknown answer (drop it). The credit is freed
  // either way.
  bool complete(const WorkerId& worker, JobId job);

  struct Expired {
    std::vector<WorkerId> deadWorkers;  // heartbeat timeout: removed
    std::vector<JobId> lost;            // were in flight on a dead worker
    std::vector<JobId> unserved;        // waited in the queue past their deadline
    std::vector<JobId> late;            // in flight past their deadline (the worker keeps the credit)
  };
  // Applies heartbeat timeouts and job deadlines at `now`.
  Expired expire(TimePoint now);
  // The earliest time expire() has something to do, if any.
  std::optional<TimePoint> nextDeadline() const;

  std::size_t queued() const { return m_queue.size(); }
  std::size_t workerCount() const { return m_workers.size(); }
  std::size_t inFlight() const;
  std::size_t freeCredit() const;
  bool hasWorker(const WorkerId& worker) const { return m_workers.count(worker) != 0; }

 private:
  struct Job {
    JobId id;
    TimePoint deadline;
  };
  struct InFlight {
    TimePoint deadline;
    bool expired = false;  // answered TIMEOUT already; the slot stays taken until the worker answers
  };
  struct Worker {
    std::size_t capacity = 1;
    TimePoint lastHeard;
    std::uint64_t lastAssigned = 0;  // sequence number, for ties
    std::map<JobId, InFlight> jobs;
  };

  std::vector<JobId> takeJobs(Worker& w);

  DispatchOptions m_options;
  std::map<WorkerId, Worker> m_workers;
  std::deque<Job> m_queue;
  std::map<JobId, TimePoint> m_queuedIds;  // for duplicate checks
  std::uint64_t m_sequence = 0;
};

}  // namespace merit::miner
