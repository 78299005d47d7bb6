#include "zmtp_tcp.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <climits>

#if MERIT_HAVE_IO_URING
#include <liburing.h>
#endif

#include "merit/util/assert.h"
#include "merit/util/ip_address.h"
#include "merit/util/log.h"

namespace merit::net::zmtp {

namespace {

using SteadyClock = std::chrono::steady_clock;

// One read(2): the same chunk size libzmq's ZMQ_STREAM hands a StreamServer, so receive()'s bound
// in chunks means the same number of bytes.
constexpr std::size_t kChunkBytes = 8192;
constexpr std::uint32_t kHangup = EPOLLRDHUP | EPOLLHUP | EPOLLERR;

std::string errnoText(int e) {
  return std::strerror(e);
}

// "tcp://HOST:PORT" → host (brackets of an IPv6 address removed) and port. libzmq's source
// address form ("tcp://SOURCE;HOST:PORT") is not supported.
Result<HostPort> parseEndpoint(const std::string& endpoint) {
  if (endpoint.find(';') != std::string::npos) {
    return fail(ErrorCode::kInvalidArgument,
                "endpoint '" + endpoint + "': a source address is not supported");
  }
  return parseTcpEndpoint(endpoint);
}

// An address of `host`; `numericOnly` never blocks (no name lookup).
std::optional<std::pair<sockaddr_storage, socklen_t>> resolve(const std::string& host, std::uint16_t port,
                                                              bool numericOnly, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (numericOnly ? AI_NUMERICHOST : AI_ADDRCONFIG);
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    error = rc != 0 ? ::gai_strerror(rc) : "no address";
    return std::nullopt;
  }
  // A name's IPv4 address first, as libzmq (whose ZMQ_IPV6 is off by default) would dial it.
  const addrinfo* pick = found;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  }
  std::pair<sockaddr_storage, socklen_t> out{};
  std::memcpy(&out.first, pick->ai_addr, pick->ai_addrlen);
  out.second = pick->ai_addrlen;
  ::freeaddrinfo(found);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Ring: the io_uring a Poller batches writes and first reads through.

// Operations per submission: the ring's size, and the most clients one batch covers.
constexpr unsigned kRingEntries = 256;
// send() calls queued before the Poller writes them without waiting for flush() or wait().
constexpr std::size_t kFlushBatch = 64;
// Fewer clients than this are written or read with plain system calls: one io_uring_enter costs
// more than one send(2) or recv(2), and a round to one or two miners measured slower batched
// (bench_wire, one caller: session 6.1–6.8 against 7.7–8.8 thousand round trips a second).
constexpr std::size_t kMinBatch = 4;

#if MERIT_HAVE_IO_URING
struct Ring {
  io_uring ring{};
  bool initialised = false;
  ~Ring() {
    if (initialised) io_uring_queue_exit(&ring);
  }

  static std::unique_ptr<Ring> create() {
    auto r = std::make_unique<Ring>();
    // SUBMIT_ALL (Linux 5.18): a submission is taken whole or not at all, so what ran is known.
    if (const int rc = io_uring_queue_init(kRingEntries, &r->ring, IORING_SETUP_SUBMIT_ALL); rc < 0) {
      // Not a failure of the Poller: plain system calls do the same work.
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kInfo,
                             "zmtp poller: io_uring unavailable ({}); plain system calls", errnoText(-rc));
      return nullptr;
    }
    r->initialised = true;
    return r;
  }

  io_uring_sqe* sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&ring);
    // A batch never prepares more than the ring holds, and each is submitted whole.
    MERIT_ASSERT(s != nullptr);
    return s;
  }

  enum class Outcome : std::uint8_t {
    kDone,          // every operation completed; `results` holds each one's result
    kNotSubmitted,  // the kernel took none of them: nothing was read or written
    kUnknown,       // some may have run: the connections involved are in an unknown state
  };

  // Submits what was prepared (`count` operations) and collects every completion, by the
  // operations' user data (their index). Each operation is non-blocking (MSG_DONTWAIT), so all
  // complete within the submission. After any outcome but kDone the ring is not to be used again.
  Outcome run(unsigned count, std::span<int> results, int& error) {
    int rc = 0;
    do {
      rc = io_uring_submit_and_wait(&ring, count);
    } while (rc == -EINTR && io_uring_sq_ready(&ring) == count);
    // What the kernel has not taken from the submission queue (IORING_SETUP_SUBMIT_ALL: all or
    // none). A signal that interrupts the wait after the submission leaves the completions to reap.
    const unsigned untaken = io_uring_sq_ready(&ring);
    if (untaken == count) {
      error = rc < 0 ? -rc : EIO;
      return Outcome::kNotSubmitted;
    }
    if (untaken != 0) {
      error = rc < 0 ? -rc : EIO;
      return Outcome::kUnknown;
    }
    for (unsigned done = 0; done < count;) {
      io_uring_cqe* cqe = nullptr;
      rc = io_uring_wait_cqe(&ring, &cqe);
      if (rc == -EINTR) continue;
      if (rc < 0) {
        error = -rc;
        return Outcome::kUnknown;
      }
      const auto index = static_cast<std::size_t>(io_uring_cqe_get_data64(cqe));
      if (index < results.size()) results[index] = cqe->res;
      io_uring_cqe_seen(&ring, cqe);
      ++done;
    }
    return Outcome::kDone;
  }
};
#else
struct Ring {
  static std::unique_ptr<Ring> create() { return nullptr; }
};
#endif

// ---------------------------------------------------------------------------------------------
// Poller

Poller::Poller(int epollFd) : m_epoll(epollFd), m_jitter(std::random_device{}()) {}

Poller::~Poller() {
  MERIT_ASSERT(m_clients == 0 && m_timers.empty() && m_toFlush.empty(), m_clients, m_timers.size(),
               m_toFlush.size());
  ::close(m_epoll);
}

Result<std::unique_ptr<Poller>> Poller::create(Batching batching) {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::kUnavailable, "epoll_create1: " + errnoText(errno));
  std::unique_ptr<Poller> poller(new Poller(fd));
  if (batching == Batching::kAuto) poller->m_ring = Ring::create();
  return poller;
}

bool Poller::batched() const {
  return m_ring != nullptr;
}

void Poller::dropRing(const char* what, int error) {
  MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kWarn,
                         "zmtp poller: io_uring {} failed ({}); plain system calls from now on", what,
                         errnoText(error));
  m_ring.reset();
}

void Poller::queueFlush(TcpClient& c) {
  if (c.m_flushQueued) return;
  c.m_flushQueued = true;
  m_toFlush.push_back(&c);
  if (m_toFlush.size() >= kFlushBatch) flush();
}

void Poller::flush() {
  // Taken out first: a client lost below leaves m_toFlush alone.
  std::vector<TcpClient*> batch;
  batch.swap(m_toFlush);
  for (TcpClient* c : batch) c->m_flushQueued = false;
  std::size_t plainFrom = 0;  // clients of `batch` from here on are written with send(2) below
#if MERIT_HAVE_IO_URING
  if (m_ring && batch.size() >= kMinBatch) {
    plainFrom = batch.size();
    std::array<int, kRingEntries> results{};
    for (std::size_t start = 0; start < batch.size(); start += kRingEntries) {
      const std::size_t end = std::min(batch.size(), start + kRingEntries);
      unsigned count = 0;
      for (std::size_t i = start; i < end; ++i) {
        TcpClient& c = *batch[i];
        results[i - start] = 0;
        if (c.m_fd < 0 || c.queued() == 0) continue;
        io_uring_sqe* sqe = m_ring->sqe();
        io_uring_prep_send(sqe, c.m_fd, c.m_out.data() + c.m_outSent, c.queued(),
                           MSG_DONTWAIT | MSG_NOSIGNAL);
        io_uring_sqe_set_data64(sqe, i - start);
        ++count;
      }
      if (count == 0) continue;
      int error = 0;
      if (const auto outcome = m_ring->run(count, results, error); outcome != Ring::Outcome::kDone) {
        dropRing("send", error);
        plainFrom = start;
        if (outcome == Ring::Outcome::kUnknown) {
          // Some bytes may have gone out: writing them again would corrupt the streams.
          for (std::size_t i = start; i < end; ++i) {
            if (batch[i]->m_fd >= 0 && batch[i]->queued() > 0) batch[i]->lose();
          }
          plainFrom = end;
        }
        break;
      }
      for (std::size_t i = start; i < end; ++i) {
        TcpClient& c = *batch[i];
        const int res = results[i - start];
        if (c.m_fd < 0 || c.queued() == 0) continue;
        if (res > 0) {
          c.wrote(static_cast<std::size_t>(res));
          if (c.queued() > 0) (void)c.flush();  // a short write: the rest as flush() always does
        } else if (res == -EAGAIN || res == -EWOULDBLOCK) {
          // The kernel's buffer is full: EPOLLOUT will tell.
        } else if (res == -EINTR || res == 0) {
          (void)c.flush();
        } else {
          c.lose();
        }
      }
    }
  }
#endif
  // Plain system calls: without a ring, for a small batch, or for what a failed ring left.
  for (std::size_t i = plainFrom; i < batch.size(); ++i) {
    TcpClient* c = batch[i];
    if (c->m_fd >= 0 && c->queued() > 0 && !c->m_flushQueued) (void)c->flush();
  }
}

void Poller::prefetch(std::span<TcpClient* const> clients) {
  flush();
#if MERIT_HAVE_IO_URING
  std::array<int, kRingEntries> results{};
  std::array<TcpClient*, kRingEntries> reading{};
  // Read with plain recv(2) by receive() when few are to be read.
  const auto eligible = [](const TcpClient* c) {
    return c->m_state == TcpClient::State::kConnected && !c->m_hasPrefetch &&
           (c->m_events & (EPOLLIN | kHangup)) != 0;
  };
  if (m_ring && static_cast<std::size_t>(std::count_if(clients.begin(), clients.end(), eligible)) < kMinBatch)
    return;
  std::size_t next = 0;
  while (m_ring && next < clients.size()) {
    unsigned count = 0;
    if (m_recvBuffers.empty()) m_recvBuffers.resize(kRingEntries * kChunkBytes);
    for (; next < clients.size() && count < kRingEntries; ++next) {
      TcpClient* c = clients[next];
      if (!eligible(c)) continue;
      io_uring_sqe* sqe = m_ring->sqe();
      io_uring_prep_recv(sqe, c->m_fd, m_recvBuffers.data() + std::size_t{count} * kChunkBytes, kChunkBytes,
                         MSG_DONTWAIT);
      io_uring_sqe_set_data64(sqe, count);
      c->m_hasPrefetch = true;  // a client listed twice is read once
      reading[count] = c;
      ++count;
    }
    if (count == 0) break;
    int error = 0;
    if (const auto outcome = m_ring->run(count, results, error); outcome != Ring::Outcome::kDone) {
      dropRing("recv", error);
      for (unsigned i = 0; i < count; ++i) {
        reading[i]->m_hasPrefetch = false;
        // Not submitted: receive() reads as it always did. Perhaps read: the bytes are gone.
        if (outcome == Ring::Outcome::kUnknown) reading[i]->lose();
      }
      break;
    }
    for (unsigned i = 0; i < count; ++i) {
      TcpClient& c = *reading[i];
      c.m_prefetchResult = results[i];
      c.m_prefetched.clear();
      if (results[i] > 0) {
        const std::byte* data = m_recvBuffers.data() + std::size_t{i} * kChunkBytes;
        c.m_prefetched.assign(data, data + results[i]);
      }
    }
  }
#else
  (void)clients;
#endif
}

void Poller::runDueTimers(SteadyClock::time_point now) {
  while (!m_timers.empty() && m_timers.begin()->first <= now) {
    TcpClient* c = m_timers.begin()->second;
    m_timers.erase(m_timers.begin());
    c->m_timer.reset();
    c->startConnecting();  // a failure schedules the next attempt in the future
  }
}

Result<std::span<TcpClient* const>> Poller::wait(std::chrono::milliseconds timeout) {
  flush();
  const auto now = SteadyClock::now();
  runDueTimers(now);
  m_ready.clear();
  for (TcpClient* c : m_again) {
    c->m_inAgain = false;
    c->m_inReady = true;
    m_ready.push_back(c);
  }
  m_again.clear();
  auto wait = std::max(timeout, std::chrono::milliseconds(0));
  if (!m_ready.empty()) wait = std::chrono::milliseconds(0);
  if (!m_timers.empty()) {
    wait =
        std::min(wait, std::max(std::chrono::ceil<std::chrono::milliseconds>(m_timers.begin()->first - now),
                                std::chrono::milliseconds(0)));
  }
  const std::size_t want = std::clamp<std::size_t>(m_clients, 64, 4096);
  if (m_events.size() < want) m_events.resize(want);
  const int n = ::epoll_wait(m_epoll, m_events.data(), static_cast<int>(m_events.size()),
                             static_cast<int>(std::min<std::int64_t>(wait.count(), INT_MAX)));
  if (n < 0 && errno != EINTR) {
    for (TcpClient* c : m_ready) c->m_inReady = false;
    return fail(ErrorCode::kInternal, "epoll_wait: " + errnoText(errno));
  }
  for (int i = 0; i < n; ++i) {
    auto* c = static_cast<TcpClient*>(m_events[static_cast<std::size_t>(i)].data.ptr);
    c->m_events |= m_events[static_cast<std::size_t>(i)].events;
    if (!c->m_inReady) {
      c->m_inReady = true;
      m_ready.push_back(c);
    }
  }
  for (TcpClient* c : m_ready) c->m_inReady = false;
  return std::span<TcpClient* const>(m_ready);
}

// ---------------------------------------------------------------------------------------------
// TcpClient

TcpClient::TcpClient(Poller& poller, std::string endpoint, std::string host, std::uint16_t port,
                     TcpClientConfig config)
    : m_poller(poller),
      m_endpoint(std::move(endpoint)),
      m_host(std::move(host)),
      m_port(port),
      m_config(std::move(config)) {}

TcpClient::~TcpClient() {
  closeSocket();
  if (m_timer) m_poller.m_timers.erase(*m_timer);
}

Result<std::unique_ptr<TcpClient>> TcpClient::connect(Poller& poller, const std::string& endpoint,
                                                      TcpClientConfig config) {
  if (!config.engine) return fail(ErrorCode::kInvalidArgument, "a ZMTP client needs engine options");
  if (config.reconnectInterval < std::chrono::milliseconds(1)) {
    return fail(ErrorCode::kInvalidArgument, "the reconnect interval must be at least 1 ms");
  }
  MERIT_ASSIGN_OR_RETURN(auto hostPort, parseEndpoint(endpoint));
  std::unique_ptr<TcpClient> c(
      new TcpClient(poller, endpoint, std::move(hostPort.host), hostPort.port, std::move(config)));
  std::string ignored;
  c->m_address = resolve(c->m_host, c->m_port, true, ignored);
  c->startConnecting();
  return c;
}

void TcpClient::startConnecting() {
  MERIT_ASSERT(m_fd < 0 && !m_timer);
  ++m_stats.attempts;
  auto address = m_address;
  if (!address) {
    std::string error;
    address = resolve(m_host, m_port, false, error);
    if (!address) {
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug, "zmtp client {}: cannot resolve: {}",
                             m_endpoint, error);
      scheduleReconnect();
      return;
    }
  }
  const int fd = ::socket(address->first.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kWarn, "zmtp client {}: socket: {}", m_endpoint,
                           errnoText(errno));
    scheduleReconnect();
    return;
  }
  // As libzmq does for every TCP connection: a request must not wait for the previous one's ACK.
  const int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = this;
  if (::epoll_ctl(m_poller.m_epoll, EPOLL_CTL_ADD, fd, &ev) != 0) {
    MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kWarn, "zmtp client {}: epoll_ctl: {}",
                           m_endpoint, errnoText(errno));
    ::close(fd);
    scheduleReconnect();
    return;
  }
  m_fd = fd;
  ++m_poller.m_clients;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address->first), address->second) == 0) {
    onConnected();
    return;
  }
  if (errno == EINPROGRESS || errno == EINTR) {
    m_state = State::kConnecting;
    return;
  }
  closeSocket();
  scheduleReconnect();
}

void TcpClient::finishConnecting() {
  int error = 0;
  socklen_t len = sizeof error;
  if (::getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
  if (error != 0) {
    closeSocket();
    scheduleReconnect();
    return;
  }
  onConnected();
}

void TcpClient::onConnected() {
  m_state = State::kConnected;
  ++m_stats.connected;
  m_engine = std::make_unique<Engine>(m_config.engine);
  m_engine->start(m_out);
  (void)flush();
}

void TcpClient::closeSocket() {
  if (m_fd >= 0) {
    // Removed explicitly: a forked child may still hold a copy of the descriptor.
    (void)::epoll_ctl(m_poller.m_epoll, EPOLL_CTL_DEL, m_fd, nullptr);
    ::close(m_fd);
    m_fd = -1;
    --m_poller.m_clients;
  }
  if (m_inAgain) {
    std::erase(m_poller.m_again, this);
    m_inAgain = false;
  }
  if (m_flushQueued) {
    std::erase(m_poller.m_toFlush, this);
    m_flushQueued = false;
  }
  m_state = State::kWaiting;
  m_events = 0;
  m_engine.reset();
  m_out.clear();
  m_outSent = 0;
  m_hasPrefetch = false;
  m_prefetched.clear();
}

void TcpClient::scheduleReconnect() {
  MERIT_ASSERT(!m_timer);
  const auto interval = m_config.reconnectInterval.count();
  const auto jitter = static_cast<std::int64_t>(m_poller.m_jitter() % static_cast<std::uint64_t>(interval));
  const auto at = SteadyClock::now() + std::chrono::milliseconds(interval + jitter);
  m_timer = m_poller.m_timers.emplace(at, this);
  m_state = State::kWaiting;
}

void TcpClient::lose() {
  ++m_stats.lost;
  closeSocket();
  scheduleReconnect();
}

Result<void> TcpClient::reset() {
  closeSocket();
  if (m_timer) {
    m_poller.m_timers.erase(*m_timer);
    m_timer.reset();
  }
  startConnecting();
  return {};
}

bool TcpClient::flush() {
  while (m_outSent < m_out.size()) {
    const ssize_t n = ::send(m_fd, m_out.data() + m_outSent, m_out.size() - m_outSent, MSG_NOSIGNAL);
    if (n > 0) {
      m_outSent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;  // EPOLLOUT will tell
    lose();
    return false;
  }
  wrote(0);
  return true;
}

void TcpClient::wrote(std::size_t written) {
  m_outSent += written;
  if (m_outSent == m_out.size()) {
    m_out.clear();
    m_outSent = 0;
  } else if (m_outSent >= (64u << 10) && m_outSent * 2 >= m_out.size()) {
    m_out.erase(m_out.begin(), m_out.begin() + static_cast<std::ptrdiff_t>(m_outSent));
    m_outSent = 0;
  }
}

bool TcpClient::handleEvents() {
  if (m_state == State::kConnecting) {
    if ((m_events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return false;
    m_events &= ~static_cast<std::uint32_t>(EPOLLOUT | EPOLLERR | EPOLLHUP);
    finishConnecting();
  }
  if (m_state != State::kConnected) return false;
  m_events &= ~static_cast<std::uint32_t>(EPOLLOUT);
  return queued() == 0 || flush();
}

bool TcpClient::hasInput() const {
  return m_fd >= 0 && (m_events & (EPOLLIN | kHangup)) != 0;
}

void TcpClient::service() {
  if (!handleEvents()) return;
  if ((m_events & kHangup) != 0) lose();
}

std::size_t TcpClient::receive(std::size_t maxChunks, const std::function<void(Message&&)>& onMessage) {
  if (!handleEvents() || (m_events & (EPOLLIN | kHangup)) == 0) return 0;
  // After a hang-up the peer's last bytes are read up to the end; otherwise a short read means
  // the socket's buffer was empty, and edge-triggered epoll reports whatever arrives after it.
  const bool hangup = (m_events & kHangup) != 0;
  std::array<std::byte, kChunkBytes> chunk;
  std::size_t chunks = 0;
  bool drained = false;
  while (chunks < maxChunks) {
    // The first read may have been done by the Poller's prefetch().
    const std::byte* data = chunk.data();
    ssize_t n = 0;
    int error = 0;
    if (m_hasPrefetch) {
      m_hasPrefetch = false;
      n = m_prefetchResult < 0 ? -1 : m_prefetchResult;
      error = m_prefetchResult < 0 ? -m_prefetchResult : 0;
      data = m_prefetched.data();
    } else {
      n = ::recv(m_fd, chunk.data(), chunk.size(), 0);
      error = n < 0 ? errno : 0;
    }
    if (n < 0 && error == EINTR) continue;
    if (n < 0 && (error == EAGAIN || error == EWOULDBLOCK)) {
      drained = true;
      break;
    }
    if (n <= 0) {  // closed by the peer, or a socket error
      lose();
      return chunks;
    }
    ++chunks;
    const bool wasReady = m_engine->ready();
    auto ok = m_engine->receive(ByteView(data, static_cast<std::size_t>(n)), m_out, onMessage);
    m_prefetched.clear();
    if (!wasReady && m_engine->ready()) ++m_stats.handshakes;
    if (!ok) {
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug,
                             "zmtp client {}: dropping the connection: {}", m_endpoint, ok.error().message());
      m_failure = Failure{ok.error().message(), m_engine->failedAfterHandshake()};
      // The engine may have queued an ERROR command: it goes out as far as the kernel takes it now.
      if (flush()) {
        closeSocket();
        scheduleReconnect();
      }
      return chunks;
    }
    if (!hangup && static_cast<std::size_t>(n) < chunk.size()) {
      drained = true;
      break;
    }
  }
  if (drained) {
    m_events &= ~static_cast<std::uint32_t>(EPOLLIN);
  } else if (!m_inAgain) {
    m_inAgain = true;
    m_poller.m_again.push_back(this);
  }
  if (queued() > 0 && !flush()) return chunks;
  if (queued() > 2 * m_config.maxQueuedBytes) {
    m_failure = Failure{"the server does not read what we send", m_engine->ready()};
    closeSocket();
    scheduleReconnect();
  }
  return chunks;
}

bool TcpClient::send(std::span<const ByteView> frames) {
  if (!ready()) return false;
  if (queued() > 0 && queued() >= m_config.maxQueuedBytes) return false;
  const bool idle = queued() == 0;
  m_engine->encode(frames, m_out);
  // A connection lost here loses the message with it, as a message handed to libzmq would be.
  // Batched, the first message to a connection with nothing queued waits for the Poller's next
  // batch of writes; behind queued bytes, it is written at once as far as the kernel takes it.
  if (m_poller.batched() && idle) {
    m_poller.queueFlush(*this);
  } else {
    (void)flush();
  }
  return true;
}

}  // namespace merit::net::zmtp
