#include <algorithm>
#include <cerrno>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <zmq.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "merit/crypto/hash.h"
#include "merit/metrics/metrics.h"
#include "merit/miner/dispatch.h"
#include "merit/miner/worker_link.h"
#include "merit/util/log.h"

#include "worker_wire.h"

namespace merit::miner {

using log::Category;

namespace {

ByteArray<32> curvePublicOf(ByteView secret) {
  char z85Secret[41];
  char z85Public[41];
  zmq_z85_encode(z85Secret, u8(secret), 32);
  zmq_curve_public(z85Public, z85Secret);
  crypto::secureZero(z85Secret, sizeof z85Secret);
  ByteArray<32> out{};
  zmq_z85_decode(u8(MutableByteView(out)), z85Public);
  return out;
}

// The pieces of a job for one batch, built by the calling (axon) thread.
std::vector<zmq::message_t> encodeJob(std::span<const wire::Request> batch) {
  std::vector<zmq::message_t> frames;
  frames.reserve(batch.size() * 2);
  for (const auto& r : batch) {
    zmq::message_t meta(link::kRequestMetaBytes);
    auto* p = static_cast<unsigned char*>(meta.data());
    link::putU32(p, r.header.moduleVersion);
    link::putU32(p + 4, r.header.timeoutMs);
    std::memcpy(p + 8, r.header.requestId.data(), 16);
    const ByteView caller = r.header.caller.tagged();
    static_assert(wire::kMaxHotkeySize == link::kRequestMetaBytes - link::kCallerOffset - 1);
    std::memset(p + link::kCallerOffset, 0, link::kRequestMetaBytes - link::kCallerOffset);
    p[link::kCallerOffset] = static_cast<unsigned char>(caller.size());
    std::memcpy(p + link::kCallerOffset + 1, caller.data(), caller.size());
    frames.push_back(std::move(meta));
    frames.emplace_back(r.body.data(), r.body.size());
  }
  return frames;
}

std::vector<net::Reply> allWith(std::size_t n, wire::Status status, const std::string& message) {
  std::vector<net::Reply> out(n);
  for (auto& r : out) r = {status, message, {}};
  return out;
}

}  // namespace

Result<WorkerLinkKeys> WorkerLinkKeys::derive(ByteView secret) {
  if (secret.size() < 32)
    return fail(ErrorCode::kInvalidArgument, "the worker secret must be at least 32 bytes");
  WorkerLinkKeys k;
  auto frontSecret =
      crypto::blake2b256Keyed(secret, asBytes(std::string_view("meritnet worker link: front")));
  auto workerSecret =
      crypto::blake2b256Keyed(secret, asBytes(std::string_view("meritnet worker link: worker")));
  k.frontSecret = crypto::SecretArray<32>(frontSecret);
  k.workerSecret = crypto::SecretArray<32>(workerSecret);
  crypto::secureZero(frontSecret.data(), frontSecret.size());
  crypto::secureZero(workerSecret.data(), workerSecret.size());
  k.frontPublic = curvePublicOf(k.frontSecret.reveal());
  k.workerPublic = curvePublicOf(k.workerSecret.reveal());
  return k;
}

Result<crypto::SecretBytes> readWorkerSecret(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return fail(ErrorCode::kNotFound, path + ": cannot read the worker secret file");
  if ((st.st_mode & 077) != 0)
    return fail(ErrorCode::kInvalidArgument,
                path + ": the worker secret file must not be readable by others (chmod 600)");
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.size() < 32) {
    crypto::secureZero(text.data(), text.size());
    return fail(ErrorCode::kInvalidArgument, path + ": the worker secret must be at least 32 bytes");
  }
  return crypto::SecretBytes::takeString(text);
}

class WorkerFront::Impl {
 public:
  Impl(WorkerFrontOptions options, std::shared_ptr<const Clock> clock)
      : m_options(std::move(options)),
        m_clock(std::move(clock)),
        m_dispatch(DispatchOptions{m_options.queueCapacity, 256, m_options.heartbeatTimeout}) {}

  ~Impl() {
    if (m_wake >= 0) ::close(m_wake);
  }

  Result<void> open(const WorkerLinkKeys& keys) {
    m_workerPublic = keys.workerPublic;
    m_wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_wake < 0) return fail(ErrorCode::kInternal, "eventfd failed");
    try {
      // The ZAP handler first: libzmq asks it about every CURVE client of the router.
      m_zap.bind("inproc://zeromq.zap.01");
      const int one = 1;
      m_router.set(zmq::sockopt::curve_server, one);
      m_router.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(keys.frontSecret.reveal().data(), 32));
      m_router.set(zmq::sockopt::zap_domain, "merit-workers");
      m_router.set(zmq::sockopt::router_mandatory, one);
      m_router.set(zmq::sockopt::linger, 0);
      m_router.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(256) << 20);
      if (zmq_socket_monitor(m_router.handle(), "inproc://merit-worker-monitor",
                             ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0)
        return fail(ErrorCode::kInternal, "cannot monitor the worker socket");
      m_monitor.connect("inproc://merit-worker-monitor");
      m_router.bind(m_options.endpoint);
      m_endpoint = m_router.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
      return fail(ErrorCode::kUnavailable,
                  "cannot bind the worker endpoint " + m_options.endpoint + ": " + e.what());
    }
    return {};
  }

  void startThread() {
    m_thread = std::thread([this] { run(); });
  }

  void stop() {
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping) return;
      m_stopping = true;
    }
    wake();
    if (m_thread.joinable()) m_thread.join();
  }

  std::vector<net::Reply> submit(std::span<const wire::Request> batch) {
    if (batch.size() > link::kMaxRequestsPerJob)
      return allWith(batch.size(), wire::Status::kInternal, "batch too large for the worker link");
    Submission s;
    s.count = batch.size();
    s.frames = encodeJob(batch);
    std::uint32_t timeoutMs = 0;
    for (const auto& r : batch) timeoutMs = std::max(timeoutMs, r.header.timeoutMs);
    const auto timeout = timeoutMs == 0 ? m_options.defaultTimeout : std::chrono::milliseconds(timeoutMs);
    s.deadline = m_clock->monotonicNow() + timeout;
    auto answer = s.promise.get_future();
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping) return allWith(batch.size(), wire::Status::kOverloaded, "stopping");
      m_submissions.push_back(std::move(s));
    }
    wake();
    return answer.get();
  }

  WorkerFrontStats stats() const {
    std::lock_guard lock(m_statsMutex);
    return m_stats;
  }

  const std::string& endpoint() const { return m_endpoint; }

 private:
  struct Submission {
    std::size_t count = 0;
    std::vector<zmq::message_t> frames;
    Dispatcher::TimePoint deadline;
    std::promise<std::vector<net::Reply>> promise;
  };

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_wake, &one, sizeof one);
  }

  void answer(Dispatcher::JobId id, std::vector<net::Reply> replies) {
    auto it = m_jobs.find(id);
    if (it == m_jobs.end()) return;
    publishStats();  // before the caller wakes: what it reads next includes this answer
    it->second.promise.set_value(std::move(replies));
    m_jobs.erase(it);
  }
  void answerAll(Dispatcher::JobId id, wire::Status status, const std::string& message) {
    auto it = m_jobs.find(id);
    if (it == m_jobs.end()) return;
    answer(id, allWith(it->second.count, status, message));
  }

  void forgetWorker(const Dispatcher::WorkerId& worker, const std::string& why) {
    auto lost = m_dispatch.removeWorker(worker);
    if (auto fd = m_fdOf.find(worker); fd != m_fdOf.end()) {
      m_workerOfFd.erase(fd->second);
      m_fdOf.erase(fd);
    }
    m_lost += 1;
    m_lostBatches += lost.size();
    MERIT_LOG_WARN(Category::kMiner, "worker lost ({}): {} batches in flight on it answered INTERNAL", why,
                   lost.size());
    for (auto id : lost)
      answerAll(id, wire::Status::kInternal, "the worker serving this request was lost (" + why + ")");
  }

  void send(const Dispatcher::WorkerId& worker, std::vector<zmq::message_t>& frames) {
    // ROUTER_MANDATORY: an unknown peer fails at the first frame, before anything is queued.
    m_router.send(zmq::buffer(worker), zmq::send_flags::sndmore);
    for (std::size_t i = 0; i < frames.size(); ++i)
      m_router.send(frames[i], i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }

  bool trySend(const Dispatcher::WorkerId& worker, std::vector<zmq::message_t> frames) {
    try {
      send(worker, frames);
      return true;
    } catch (const zmq::error_t& e) {
      if (e.num() == EHOSTUNREACH) return false;
      throw;
    }
  }

  void refuse(const Dispatcher::WorkerId& worker, bool fatal, const std::string& reason) {
    std::vector<zmq::message_t> f;
    f.push_back(link::command(link::kRefuse));
    const char flag = fatal ? 1 : 0;
    f.emplace_back(&flag, 1);
    f.emplace_back(reason.data(), reason.size());
    trySend(worker, std::move(f));
  }

  void onWorkerMessage(std::vector<zmq::message_t>& parts) {
    const auto now = m_clock->monotonicNow();
    if (parts.size() < 2) return;
    const Dispatcher::WorkerId worker = parts[0].to_string();
    const auto cmd = link::commandOf(parts[1]);
    if (!cmd) return;
    if (*cmd == link::kHello) {
      if (parts.size() != 4 || parts[2].size() != 8) return refuse(worker, true, "malformed hello");
      const auto* p = static_cast<const unsigned char*>(parts[2].data());
      const std::uint32_t version = link::getU32(p);
      const std::uint32_t capacity = link::getU32(p + 4);
      if (version != link::kVersion)
        return refuse(worker, true,
                      "worker link version " + std::to_string(version) + ", the front speaks " +
                          std::to_string(link::kVersion));
      if (parts[3].to_string() != m_options.module)
        return refuse(worker, true,
                      "this front serves module " + m_options.module + ", not " + parts[3].to_string());
      const bool known = m_dispatch.hasWorker(worker);
      m_dispatch.addWorker(worker, capacity, now);
      const int fd = parts[1].get(ZMQ_SRCFD);
      if (fd >= 0) {
        m_fdOf[worker] = fd;
        m_workerOfFd[fd] = worker;
      }
      if (!known) m_joined += 1;
      MERIT_LOG_INFO(Category::kMiner, "worker joined with capacity {} ({} workers)", capacity,
                     m_dispatch.workerCount());
      std::vector<zmq::message_t> f;
      f.push_back(link::command(link::kWelcome));
      f.push_back(link::u32PairFrame(static_cast<std::uint32_t>(m_options.heartbeatInterval.count()),
                                     static_cast<std::uint32_t>(m_options.heartbeatTimeout.count())));
      trySend(worker, std::move(f));
      return;
    }
    if (!m_dispatch.heard(worker, now)) {
      // Declared dead, or its hello was lost: it must say hello again (its jobs were failed).
      return refuse(worker, false, "unknown worker: say hello");
    }
    if (*cmd == link::kResult) {
      if (parts.size() < 3) return;
      auto id = link::u64Of(parts[2]);
      if (!id) return;
      const bool live = m_dispatch.complete(worker, *id);
      auto job = m_jobs.find(*id);
      if (!live || job == m_jobs.end()) return;  // late: the caller got TIMEOUT already
      const std::size_t n = job->second.count;
      if (parts.size() != 3 + 3 * n) {
        answerAll(*id, wire::Status::kInternal, "the worker's answer was malformed");
        return;
      }
      std::vector<net::Reply> replies(n);
      for (std::size_t i = 0; i < n; ++i) {
        const auto& st = parts[3 + 3 * i];
        const auto& msg = parts[4 + 3 * i];
        const auto& body = parts[5 + 3 * i];
        const std::uint8_t status = st.size() == 1 ? *static_cast<const std::uint8_t*>(st.data()) : 255;
        replies[i].status =
            status <= wire::kMaxWireStatus ? static_cast<wire::Status>(status) : wire::Status::kInternal;
        replies[i].message = msg.to_string();
        const auto* b = static_cast<const std::byte*>(body.data());
        replies[i].body.assign(b, b + body.size());
      }
      m_done += 1;
      answer(*id, std::move(replies));
    }
    // kHeartbeat: heard() above was the point.
  }

  void onMonitorEvent() {
    zmq::message_t head;
    zmq::message_t address;
    if (!m_monitor.recv(head, zmq::recv_flags::dontwait)) return;
    if (head.more()) (void)m_monitor.recv(address, zmq::recv_flags::dontwait);
    if (head.size() < 6) return;
    const auto* p = static_cast<const unsigned char*>(head.data());
    const std::uint16_t event = static_cast<std::uint16_t>(p[0] | (p[1] << 8));
    const std::uint32_t value = link::getU32(p + 2);
    if (event == ZMQ_EVENT_DISCONNECTED) {
      auto it = m_workerOfFd.find(static_cast<int>(value));
      if (it != m_workerOfFd.end()) {
        const auto worker = it->second;
        forgetWorker(worker, "disconnected");
      }
    } else {
      m_refused += 1;
      MERIT_LOG_WARN(Category::kMiner, "refused a worker-link handshake from {} (no or wrong worker secret?)",
                     address.to_string());
    }
  }

  void onZapRequest() {
    std::vector<zmq::message_t> req;
    (void)zmq::recv_multipart(m_zap, std::back_inserter(req));
    if (req.size() < 6) return;
    bool ok = req[5].to_string() == "CURVE" && req.size() >= 7 && req[6].size() == 32 &&
              std::memcmp(req[6].data(), m_workerPublic.data(), 32) == 0;
    std::vector<zmq::message_t> rep;
    rep.emplace_back(std::string("1.0"));
    rep.push_back(std::move(req[1]));
    rep.emplace_back(std::string(ok ? "200" : "400"));
    rep.emplace_back(std::string(ok ? "OK" : "not a worker of this front"));
    rep.emplace_back(std::string(ok ? "worker" : ""));
    rep.emplace_back();
    zmq::send_multipart(m_zap, rep);
  }

  void takeSubmissions() {
    std::uint64_t n = 0;
    [[maybe_unused]] auto r = ::read(m_wake, &n, sizeof n);
    std::deque<Submission> taken;
    {
      std::lock_guard lock(m_mutex);
      taken.swap(m_submissions);
    }
    for (auto& s : taken) {
      const auto id = ++m_nextJob;
      if (!m_dispatch.enqueue(id, s.deadline)) {
        m_unserved += 1;
        s.promise.set_value(
            allWith(s.count, wire::Status::kOverloaded, "all workers busy and the worker queue is full"));
        continue;
      }
      m_jobs.emplace(id, std::move(s));
    }
  }

  void dispatch() {
    while (auto a = m_dispatch.next(m_clock->monotonicNow())) {
      auto& job = m_jobs.at(a->job);
      std::vector<zmq::message_t> f;
      f.reserve(job.frames.size() + 2);
      f.push_back(link::command(link::kJob));
      f.push_back(link::u64Frame(a->job));
      for (auto& frame : job.frames) {
        zmq::message_t c;
        c.copy(frame);  // shares the buffer; the original stays for a requeue
        f.push_back(std::move(c));
      }
      if (trySend(a->worker, std::move(f))) continue;
      // Not delivered to any worker: safe to hand to another one.
      m_requeued += 1;
      m_dispatch.requeue(*a);
      forgetWorker(a->worker, "unreachable");
    }
  }

  void heartbeat() {
    // The dispatcher knows the ids; send to each (unreachable ones are forgotten).
    std::vector<Dispatcher::WorkerId> gone;
    for (const auto& [worker, fd] : m_fdOf) {
      std::vector<zmq::message_t> f;
      f.push_back(link::command(link::kHeartbeat));
      if (!trySend(worker, std::move(f))) gone.push_back(worker);
    }
    for (const auto& w : gone) forgetWorker(w, "unreachable");
  }

  void expire() {
    auto ex = m_dispatch.expire(m_clock->monotonicNow());
    for (const auto& w : ex.deadWorkers) {
      // Its jobs are in ex.lost; forget the fd mapping too.
      if (auto fd = m_fdOf.find(w); fd != m_fdOf.end()) {
        m_workerOfFd.erase(fd->second);
        m_fdOf.erase(fd);
      }
      m_lost += 1;
      MERIT_LOG_WARN(Category::kMiner, "worker lost (no heartbeat for {} ms)",
                     m_options.heartbeatTimeout.count());
    }
    m_lostBatches += ex.lost.size();
    for (auto id : ex.lost)
      answerAll(id, wire::Status::kInternal, "the worker serving this request was lost (no heartbeat)");
    m_unserved += ex.unserved.size() + ex.late.size();
    for (auto id : ex.unserved)
      answerAll(id, wire::Status::kTimeout, "no worker was free before the deadline");
    for (auto id : ex.late)
      answerAll(id, wire::Status::kTimeout, "the worker did not answer before the deadline");
  }

  void publishStats() {
    std::lock_guard lock(m_statsMutex);
    m_stats.workers = m_dispatch.workerCount();
    m_stats.capacity = m_dispatch.freeCredit() + m_dispatch.inFlight();
    m_stats.queued = m_dispatch.queued();
    m_stats.inFlight = m_dispatch.inFlight();
    m_stats.workersJoined = m_joined;
    m_stats.workersLost = m_lost;
    m_stats.handshakesRefused = m_refused;
    m_stats.batchesDone = m_done;
    m_stats.batchesRequeued = m_requeued;
    m_stats.batchesLost = m_lostBatches;
    m_stats.batchesUnserved = m_unserved;
  }

  void run() {
    auto nextBeat = m_clock->monotonicNow();
    for (;;) {
      {
        std::lock_guard lock(m_mutex);
        if (m_stopping) break;
      }
      zmq::pollitem_t items[] = {{m_router.handle(), 0, ZMQ_POLLIN, 0},
                                 {m_monitor.handle(), 0, ZMQ_POLLIN, 0},
                                 {m_zap.handle(), 0, ZMQ_POLLIN, 0},
                                 {nullptr, m_wake, ZMQ_POLLIN, 0}};
      auto now = m_clock->monotonicNow();
      auto until = nextBeat;
      if (auto d = m_dispatch.nextDeadline(); d && *d < until) until = *d;
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
      wait = std::clamp(wait, std::chrono::milliseconds(0), std::chrono::milliseconds(m_clock->waitSlice()));
      try {
        zmq::poll(items, 4, wait);
        // Disconnects before messages: a reused fd must not blame a new worker.
        if (items[1].revents & ZMQ_POLLIN) {
          for (int i = 0; i < 64; ++i) {
            zmq::pollitem_t m{m_monitor.handle(), 0, ZMQ_POLLIN, 0};
            if (zmq::poll(&m, 1, std::chrono::milliseconds(0)) == 0) break;
            onMonitorEvent();
          }
        }
        if (items[2].revents & ZMQ_POLLIN) onZapRequest();
        if (items[3].revents & ZMQ_POLLIN) takeSubmissions();
        if (items[0].revents & ZMQ_POLLIN) {
          for (int i = 0; i < 256; ++i) {
            std::vector<zmq::message_t> parts;
            if (!zmq::recv_multipart(m_router, std::back_inserter(parts), zmq::recv_flags::dontwait)) break;
            onWorkerMessage(parts);
          }
        }
        expire();
        dispatch();
        now = m_clock->monotonicNow();
        if (now >= nextBeat) {
          heartbeat();
          nextBeat = now + m_options.heartbeatInterval;
        }
      } catch (const zmq::error_t& e) {
        MERIT_LOG_ERROR(Category::kMiner, "worker link: {}", e.what());
      }
      publishStats();
    }
    // Stopping: everything still waiting is answered.
    std::deque<Submission> left;
    {
      std::lock_guard lock(m_mutex);
      left.swap(m_submissions);
    }
    for (auto& s : left) s.promise.set_value(allWith(s.count, wire::Status::kOverloaded, "stopping"));
    for (auto& [id, s] : m_jobs) s.promise.set_value(allWith(s.count, wire::Status::kOverloaded, "stopping"));
    m_jobs.clear();
    publishStats();
  }

  const WorkerFrontOptions m_options;
  const std::shared_ptr<const Clock> m_clock;
  ByteArray<32> m_workerPublic{};
  std::string m_endpoint;
  int m_wake = -1;
  zmq::context_t m_context{1};
  zmq::socket_t m_zap{m_context, zmq::socket_type::rep};
  zmq::socket_t m_router{m_context, zmq::socket_type::router};
  zmq::socket_t m_monitor{m_context, zmq::socket_type::pair};
  std::thread m_thread;

  std::mutex m_mutex;
  bool m_stopping = false;               // guarded by m_mutex
  std::deque<Submission> m_submissions;  // guarded by m_mutex; bounded by the axon's worker threads

  // Dispatcher thread only.
  Dispatcher m_dispatch;
  std::map<Dispatcher::JobId, Submission> m_jobs;  // queued or in flight
  std::map<Dispatcher::WorkerId, int> m_fdOf;
  std::map<int, Dispatcher::WorkerId> m_workerOfFd;
  Dispatcher::JobId m_nextJob = 0;
  std::uint64_t m_joined = 0, m_lost = 0, m_refused = 0, m_done = 0, m_requeued = 0, m_lostBatches = 0,
                m_unserved = 0;

  mutable std::mutex m_statsMutex;
  WorkerFrontStats m_stats;  // guarded by m_statsMutex
};

WorkerFront::WorkerFront(std::shared_ptr<Impl> impl) : m_impl(std::move(impl)) {}

WorkerFront::~WorkerFront() {
  m_impl->stop();
}

Result<std::unique_ptr<WorkerFront>> WorkerFront::start(WorkerFrontOptions options,
                                                        const WorkerLinkKeys& keys,
                                                        std::shared_ptr<const Clock> clock) {
  if (!net::curveAvailable()) return fail(ErrorCode::kInternal, "the worker link needs libzmq with CURVE");
  auto impl = std::make_shared<Impl>(std::move(options), std::move(clock));
  MERIT_TRY(impl->open(keys));
  impl->startThread();
  return std::unique_ptr<WorkerFront>(new WorkerFront(std::move(impl)));
}

net::BatchHandler WorkerFront::handler() {
  return [impl = m_impl](std::span<const wire::Request> batch) { return impl->submit(batch); };
}

const std::string& WorkerFront::endpoint() const {
  return m_impl->endpoint();
}

WorkerFrontStats WorkerFront::stats() const {
  return m_impl->stats();
}

void WorkerFront::renderMetrics(std::string& out) const {
  const auto s = stats();
  metrics::renderGauge(out, "merit_miner_workers", "Remote workers connected and alive",
                       static_cast<double>(s.workers));
  metrics::renderGauge(out, "merit_miner_workers_capacity", "Batches the live workers take at once",
                       static_cast<double>(s.capacity));
  metrics::renderGauge(out, "merit_miner_workers_queued", "Batches waiting for a free worker",
                       static_cast<double>(s.queued));
  metrics::renderGauge(out, "merit_miner_workers_in_flight", "Batches on workers now",
                       static_cast<double>(s.inFlight));
  metrics::renderCounter(
      out, "merit_miner_workers_events_total", "Worker joins, losses and refused handshakes",
      {{"joined", s.workersJoined}, {"lost", s.workersLost}, {"refused", s.handshakesRefused}}, "event");
  metrics::renderCounter(out, "merit_miner_worker_batches_total",
                         "Batches through the worker link by outcome",
                         {{"done", s.batchesDone},
                          {"requeued", s.batchesRequeued},
                          {"lost", s.batchesLost},
                          {"unserved", s.batchesUnserved}},
                         "outcome");
}

}  // namespace merit::miner
