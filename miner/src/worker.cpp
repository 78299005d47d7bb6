#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <zmq.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "merit/miner/worker_link.h"
#include "merit/util/log.h"

#include "worker_wire.h"

namespace merit::miner {

using log::Category;

namespace {

constexpr const char* kResultsEndpoint = "inproc://merit-worker-results";
constexpr const char* kMonitorEndpoint = "inproc://merit-worker-link-monitor";

struct Job {
  std::uint64_t id = 0;
  std::vector<wire::Request> batch;
};

// Jobs from the front for the handler threads. The front never sends more than the capacity we
// announced, so the bound is only a guard against a bug.
class JobQueue {
 public:
  explicit JobQueue(std::size_t capacity) : m_capacity(capacity) {}
  bool push(Job job) {
    {
      std::lock_guard lock(m_mutex);
      if (m_jobs.size() >= m_capacity) return false;
      m_jobs.push_back(std::move(job));
    }
    m_cv.notify_one();
    return true;
  }
  std::optional<Job> pop() {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [this] { return m_closed || !m_jobs.empty(); });
    if (m_jobs.empty()) return std::nullopt;
    Job job = std::move(m_jobs.front());
    m_jobs.pop_front();
    return job;
  }
  void close() {
    {
      std::lock_guard lock(m_mutex);
      m_closed = true;
    }
    m_cv.notify_all();
  }

 private:
  const std::size_t m_capacity;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<Job> m_jobs;  // guarded by m_mutex
  bool m_closed = false;   // guarded by m_mutex
};

std::optional<Job> decodeJob(std::vector<zmq::message_t>& parts, const std::string& module) {
  if (parts.size() < 2 || (parts.size() - 2) % 2 != 0) return std::nullopt;
  auto id = link::u64Of(parts[1]);
  if (!id) return std::nullopt;
  const std::size_t n = (parts.size() - 2) / 2;
  if (n == 0 || n > link::kMaxRequestsPerJob) return std::nullopt;
  Job job;
  job.id = *id;
  job.batch.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& meta = parts[2 + 2 * i];
    const auto& body = parts[3 + 2 * i];
    if (meta.size() != link::kRequestMetaBytes) return std::nullopt;
    const auto* p = static_cast<const unsigned char*>(meta.data());
    auto& h = job.batch[i].header;
    h.module = module;
    h.moduleVersion = link::getU32(p);
    h.timeoutMs = link::getU32(p + 4);
    std::memcpy(h.requestId.data(), p + 8, 16);
    // Length 0: no caller (the front sends what it was given; an axon's requests always have one).
    const std::size_t callerSize = p[link::kCallerOffset];
    if (callerSize > wire::kMaxHotkeySize) return std::nullopt;
    if (callerSize != 0) {
      auto caller = wire::Hotkey::fromTagged(
          ByteView(reinterpret_cast<const std::byte*>(p + link::kCallerOffset + 1), callerSize));
      if (!caller) return std::nullopt;
      h.caller = *caller;
    }
    const auto* b = static_cast<const std::byte*>(body.data());
    job.batch[i].body.assign(b, b + body.size());
  }
  return job;
}

std::vector<zmq::message_t> encodeResult(std::uint64_t id, const std::vector<net::Reply>& replies) {
  std::vector<zmq::message_t> f;
  f.reserve(2 + 3 * replies.size());
  f.push_back(link::command(link::kResult));
  f.push_back(link::u64Frame(id));
  for (const auto& r : replies) {
    const auto status = static_cast<std::uint8_t>(r.status);
    f.emplace_back(&status, 1);
    f.emplace_back(r.message.data(), r.message.size());
    f.emplace_back(r.body.data(), r.body.size());
  }
  return f;
}

}  // namespace

Worker::Worker(WorkerOptions options, const WorkerLinkKeys& keys, net::ModuleHandler module,
               std::shared_ptr<const Clock> clock)
    : m_options(std::move(options)),
      m_frontPublic(keys.frontPublic),
      m_workerPublic(keys.workerPublic),
      m_workerSecret(keys.workerSecret.reveal()),
      m_module(std::move(module)),
      m_clock(std::move(clock)) {}

Worker::~Worker() = default;

Result<void> Worker::run(const std::atomic<bool>& stop) {
  const std::size_t threads = std::max<std::size_t>(1, m_options.threads);
  zmq::context_t context(1);
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  zmq::socket_t results(context, zmq::socket_type::pull);
  zmq::socket_t monitor(context, zmq::socket_type::pair);
  JobQueue jobs(threads * 4);
  std::vector<std::thread> pool;
  auto stopPool = [&] {
    jobs.close();
    for (auto& t : pool) t.join();
    pool.clear();
  };
  try {
    dealer.set(zmq::sockopt::curve_serverkey, zmq::const_buffer(m_frontPublic.data(), 32));
    dealer.set(zmq::sockopt::curve_publickey, zmq::const_buffer(m_workerPublic.data(), 32));
    dealer.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(m_workerSecret.reveal().data(), 32));
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::reconnect_ivl, 100);
    dealer.set(zmq::sockopt::reconnect_ivl_max, 2000);
    dealer.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(256) << 20);
    if (zmq_socket_monitor(dealer.handle(), kMonitorEndpoint,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0)
      return fail(ErrorCode::kInternal, "cannot monitor the worker link");
    monitor.connect(kMonitorEndpoint);
    results.bind(kResultsEndpoint);
    dealer.connect(m_options.front);
  } catch (const zmq::error_t& e) {
    return fail(ErrorCode::kInvalidArgument,
                "cannot connect to the front " + m_options.front + ": " + e.what());
  }
  for (std::size_t i = 0; i < threads; ++i) {
    pool.emplace_back([this, &context, &jobs] {
      zmq::socket_t out(context, zmq::socket_type::push);
      out.set(zmq::sockopt::linger, 0);
      out.connect(kResultsEndpoint);
      while (auto job = jobs.pop()) {
        std::vector<net::Reply> replies;
        try {
          replies = m_module.handler(job->batch);
        } catch (const std::exception& e) {
          replies.clear();
          MERIT_LOG_ERROR(Category::kMiner, "handler threw: {}", e.what());
        }
        if (replies.size() != job->batch.size()) {
          replies.assign(job->batch.size(), net::Reply{wire::Status::kInternal, "handler failed", {}});
        }
        zmq::send_multipart(out, encodeResult(job->id, replies));
        m_handled += 1;
      }
    });
  }

  auto sendHello = [&] {
    std::vector<zmq::message_t> f;
    f.push_back(link::command(link::kHello));
    f.push_back(link::u32PairFrame(link::kVersion, static_cast<std::uint32_t>(threads)));
    f.emplace_back(m_module.module.data(), m_module.module.size());
    zmq::send_multipart(dealer, f, zmq::send_flags::dontwait);
  };
  bool everWelcomed = false;
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{3000};
  auto lastHeard = m_clock->monotonicNow();
  auto nextBeat = lastHeard + interval;
  Result<void> outcome{};
  while (!stop.load()) {
    zmq::pollitem_t items[] = {{dealer.handle(), 0, ZMQ_POLLIN, 0},
                               {results.handle(), 0, ZMQ_POLLIN, 0},
                               {monitor.handle(), 0, ZMQ_POLLIN, 0}};
    auto now = m_clock->monotonicNow();
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(nextBeat - now);
    // Bounded so `stop` is seen within 100 ms.
    wait =
        std::clamp(wait, std::chrono::milliseconds(0),
                   std::min(std::chrono::milliseconds(100), std::chrono::milliseconds(m_clock->waitSlice())));
    try {
      zmq::poll(items, 3, wait);
      if (items[2].revents & ZMQ_POLLIN) {
        std::vector<zmq::message_t> ev;
        (void)zmq::recv_multipart(monitor, std::back_inserter(ev));
        if (!ev.empty() && ev[0].size() >= 6) {
          const auto* p = static_cast<const unsigned char*>(ev[0].data());
          const int event = p[0] | (p[1] << 8);
          if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            MERIT_LOG_INFO(Category::kMiner, "connected to the front {}; saying hello", m_options.front);
            sendHello();
            lastHeard = m_clock->monotonicNow();
          } else if (!everWelcomed) {
            outcome = fail(ErrorCode::kUnauthorized,
                           "the front " + m_options.front +
                               " refused the worker-link handshake: is the worker secret the front's?");
            break;
          } else {
            MERIT_LOG_WARN(Category::kMiner, "worker-link handshake with {} failed; retrying",
                           m_options.front);
          }
        }
      }
      if (items[1].revents & ZMQ_POLLIN) {
        for (int i = 0; i < 256; ++i) {
          std::vector<zmq::message_t> parts;
          if (!zmq::recv_multipart(results, std::back_inserter(parts), zmq::recv_flags::dontwait)) break;
          // Dropped if the front is unreachable now: it fails the job itself when it loses us.
          (void)zmq::send_multipart(dealer, parts, zmq::send_flags::dontwait);
        }
      }
      if (items[0].revents & ZMQ_POLLIN) {
        for (int i = 0; i < 256; ++i) {
          std::vector<zmq::message_t> parts;
          if (!zmq::recv_multipart(dealer, std::back_inserter(parts), zmq::recv_flags::dontwait)) break;
          lastHeard = m_clock->monotonicNow();
          auto cmd = parts.empty() ? std::nullopt : link::commandOf(parts[0]);
          if (!cmd) continue;
          if (*cmd == link::kWelcome && parts.size() == 2 && parts[1].size() == 8) {
            const auto* p = static_cast<const unsigned char*>(parts[1].data());
            interval = std::chrono::milliseconds(std::max<std::uint32_t>(10, link::getU32(p)));
            timeout = std::chrono::milliseconds(std::max<std::uint32_t>(30, link::getU32(p + 4)));
            if (!everWelcomed)
              MERIT_LOG_INFO(Category::kMiner, "welcomed by the front; serving {} batches at once", threads);
            everWelcomed = true;
          } else if (*cmd == link::kJob) {
            auto job = decodeJob(parts, m_module.module);
            if (!job) {
              MERIT_LOG_ERROR(Category::kMiner, "malformed job from the front (version mismatch?)");
              continue;
            }
            const auto id = job->id;
            const auto n = job->batch.size();
            if (!jobs.push(std::move(*job))) {
              std::vector<net::Reply> busy(n, net::Reply{wire::Status::kOverloaded, "worker queue full", {}});
              (void)zmq::send_multipart(dealer, encodeResult(id, busy), zmq::send_flags::dontwait);
            }
          } else if (*cmd == link::kRefuse && parts.size() == 3) {
            const bool fatal = parts[1].size() == 1 && *static_cast<const char*>(parts[1].data()) != 0;
            if (fatal) {
              outcome =
                  fail(ErrorCode::kInvalidArgument, "the front refused this worker: " + parts[2].to_string());
              break;
            }
            sendHello();
          }
        }
        if (!outcome) break;
      }
      now = m_clock->monotonicNow();
      if (now - lastHeard >= timeout) {
        // The front lost us (restart, network cut): say hello again; the DEALER reconnects itself.
        MERIT_LOG_WARN(Category::kMiner, "no word from the front for {} ms; saying hello again",
                       timeout.count());
        sendHello();
        lastHeard = now;
      }
      if (now >= nextBeat) {
        std::vector<zmq::message_t> f;
        f.push_back(link::command(link::kHeartbeat));
        (void)zmq::send_multipart(dealer, f, zmq::send_flags::dontwait);
        nextBeat = now + interval;
      }
    } catch (const zmq::error_t& e) {
      MERIT_LOG_ERROR(Category::kMiner, "worker link: {}", e.what());
    }
  }
  // The connection first, so the front sees us go at once (and fails what we held) even while a
  // handler is still busy; then the handler threads.
  dealer.close();
  stopPool();
  return outcome;
}

}  // namespace merit::miner
