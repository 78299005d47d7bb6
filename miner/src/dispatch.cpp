#include "merit/miner/dispatch.h"

#include <algorithm>

namespace merit::miner {

std::vector<Dispatcher::JobId> Dispatcher::takeJobs(Worker& w) {
  std::vector<JobId> out;
  for (const auto& [id, job] : w.jobs) {
    if (!job.expired) out.push_back(id);
  }
  w.jobs.clear();
  return out;
}

void Dispatcher::addWorker(const WorkerId& worker, std::size_t capacity, TimePoint now) {
  // A hello again on the same connection (the worker stopped hearing us for a while) is the same
  // process with the same jobs: they stay in flight.
  Worker& w = m_workers[worker];
  w.capacity = std::clamp<std::size_t>(capacity, 1, m_options.maxCapacityPerWorker);
  w.lastHeard = std::max(w.lastHeard, now);
}

bool Dispatcher::heard(const WorkerId& worker, TimePoint now) {
  auto it = m_workers.find(worker);
  if (it == m_workers.end()) return false;
  it->second.lastHeard = std::max(it->second.lastHeard, now);
  return true;
}

std::vector<Dispatcher::JobId> Dispatcher::removeWorker(const WorkerId& worker) {
  auto it = m_workers.find(worker);
  if (it == m_workers.end()) return {};
  auto lost = takeJobs(it->second);
  m_workers.erase(it);
  return lost;
}

bool Dispatcher::enqueue(JobId job, TimePoint deadline) {
  if (m_queue.size() >= m_options.queueCapacity || m_queuedIds.count(job) != 0) return false;
  m_queue.push_back({job, deadline});
  m_queuedIds.emplace(job, deadline);
  return true;
}

std::optional<Dispatcher::Assignment> Dispatcher::next(TimePoint now) {
  if (m_queue.empty()) return std::nullopt;
  Worker* best = nullptr;
  const WorkerId* bestId = nullptr;
  std::size_t bestFree = 0;
  for (auto& [id, w] : m_workers) {
    const std::size_t used = w.jobs.size();
    if (used >= w.capacity) continue;
    const std::size_t free = w.capacity - used;
    if (best == nullptr || free > bestFree || (free == bestFree && w.lastAssigned < best->lastAssigned)) {
      best = &w;
      bestId = &id;
      bestFree = free;
    }
  }
  if (best == nullptr) return std::nullopt;
  Job job = m_queue.front();
  m_queue.pop_front();
  m_queuedIds.erase(job.id);
  best->jobs[job.id] = InFlight{job.deadline};
  best->lastAssigned = ++m_sequence;
  (void)now;
  return Assignment{job.id, *bestId};
}

void Dispatcher::requeue(const Assignment& a) {
  TimePoint deadline{};
  if (auto w = m_workers.find(a.worker); w != m_workers.end()) {
    auto j = w->second.jobs.find(a.job);
    if (j == w->second.jobs.end()) return;
    deadline = j->second.deadline;
    w->second.jobs.erase(j);
  } else {
    return;
  }
  // At the head: it was next in line before the failed hand-over. The capacity check does not
  // apply: the job was already admitted once.
  m_queue.push_front({a.job, deadline});
  m_queuedIds.emplace(a.job, deadline);
}

bool Dispatcher::complete(const WorkerId& worker, JobId job) {
  auto w = m_workers.find(worker);
  if (w == m_workers.end()) return false;
  auto j = w->second.jobs.find(job);
  if (j == w->second.jobs.end()) return false;
  const bool live = !j->second.expired;
  w->second.jobs.erase(j);
  return live;
}

Dispatcher::Expired Dispatcher::expire(TimePoint now) {
  Expired out;
  for (auto it = m_workers.begin(); it != m_workers.end();) {
    if (now - it->second.lastHeard >= m_options.heartbeatTimeout) {
      out.deadWorkers.push_back(it->first);
      for (JobId id : takeJobs(it->second)) out.lost.push_back(id);
      it = m_workers.erase(it);
      continue;
    }
    for (auto& [id, job] : it->second.jobs) {
      if (!job.expired && now >= job.deadline) {
        job.expired = true;
        out.late.push_back(id);
      }
    }
    ++it;
  }
  for (auto it = m_queue.begin(); it != m_queue.end();) {
    if (now >= it->deadline) {
      out.unserved.push_back(it->id);
      m_queuedIds.erase(it->id);
      it = m_queue.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::optional<Dispatcher::TimePoint> Dispatcher::nextDeadline() const {
  std::optional<TimePoint> out;
  auto consider = [&out](TimePoint t) {
    if (!out || t < *out) out = t;
  };
  for (const auto& [id, w] : m_workers) {
    consider(w.lastHeard + m_options.heartbeatTimeout);
    for (const auto& [jid, job] : w.jobs) {
      if (!job.expired) consider(job.deadline);
    }
  }
  for (const auto& job : m_queue) consider(job.deadline);
  return out;
}

std::size_t Dispatcher::inFlight() const {
  std::size_t n = 0;
  for (const auto& [id, w] : m_workers) n += w.jobs.size();
  return n;
}

std::size_t Dispatcher::freeCredit() const {
  std::size_t n = 0;
  for (const auto& [id, w] : m_workers) n += w.capacity > w.jobs.size() ? w.capacity - w.jobs.size() : 0;
  return n;
}

}  // namespace merit::miner
