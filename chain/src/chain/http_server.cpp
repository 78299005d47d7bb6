#include "merit/chain/http_server.h"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "merit/util/log.h"

namespace merit::chain {

namespace {

using SteadyClock = std::chrono::steady_clock;
using log::Category;

constexpr std::uint64_t kListenId = 0;
constexpr std::uint64_t kEventId = 1;
constexpr auto kTick = std::chrono::milliseconds(100);
constexpr std::size_t kReadChunk = 16 * 1024;
// Requests and answers up to this size always go through; larger ones only while the bytes
// buffered for all connections stay under HttpLimits::maxBufferedBytes.
constexpr std::size_t kSmallMessage = 64 * 1024;

// Shared with whoever wakes the loop (the node's block listener), so waking stays safe after the
// server is gone: stop() sets fd to -1 under the mutex before closing it.
struct WakeHandle {
  std::mutex mutex;
  int fd = -1;
  std::atomic<bool> parkedDirty{false};

  void signal() {
    std::lock_guard lock(mutex);
    if (fd < 0) return;
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);  // EAGAIN: a wake-up is pending anyway
  }
};

std::string_view statusText(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (iequals(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string peerAddress(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {  // one client, one key, whichever socket family
      ::inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], buf, sizeof buf);
    } else {
      ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    }
  }
  return buf;
}

struct Job {
  std::uint64_t conn;
  HttpRequest request;
  SteadyClock::time_point readAt;
};

struct Done {
  std::uint64_t conn;
  HttpOutcome outcome;
};

// One address's share of the workers. `used` is the handler time (ns) the address has consumed,
// counted from the scheduler's virtual time when it became active: the worker always serves the
// ready address that used the least, so a flood of heavy calls from one address (or from many)
// waits behind cheap calls from others instead of delaying them (start-time fair queuing).
struct AddressQueue {
  std::deque<Job> queue;
  std::size_t running = 0;
  bool inReady = false;  // listed in Impl::ready
  std::uint64_t used = 0;
};

struct Conn {
  // kClosing: the last answer is sent and our side shut down; what the client still sends is
  // read and dropped until it closes (briefly), so the answer is not lost to a reset.
  enum class State { kReading, kBusy, kParked, kWriting, kClosing };
  std::uint64_t id = 0;
  int fd = -1;
  std::string peer;
  State state = State::kReading;
  std::string in;   // bytes read and not yet consumed
  std::string out;  // the answer being written
  std::size_t outOffset = 0;
  std::optional<SteadyClock::time_point> requestStart;  // first byte of the request being read
  SteadyClock::time_point idleSince;
  SteadyClock::time_point writeStart;
  bool keepAlive = true;
  bool closeAfterWrite = false;
  bool continueSent = false;
  std::uint32_t events = 0;  // current epoll interest
  std::optional<Parked> parked;
};

}  // namespace

HttpParse parseHttpHead(std::string_view in, std::size_t maxHeaderBytes, std::size_t maxBodyBytes) {
  auto headerEnd = in.find("\r\n\r\n");
  if (headerEnd == std::string_view::npos || headerEnd > maxHeaderBytes) {
    if (in.size() > maxHeaderBytes) return HttpParseError{431, "request headers too large"};
    return std::monostate{};
  }
  std::string_view head = in.substr(0, headerEnd);
  auto lineEnd = head.find("\r\n");
  std::string_view line = head.substr(0, lineEnd);
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return HttpParseError{400, "malformed request line"};
  HttpHead h;
  h.method = line.substr(0, sp1);
  h.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return HttpParseError{400, "unsupported HTTP version"};
  h.keepAlive = version == "HTTP/1.1";
  std::optional<std::size_t> contentLength;
  std::string_view rest = lineEnd == std::string_view::npos ? std::string_view() : head.substr(lineEnd + 2);
  while (!rest.empty()) {
    auto e = rest.find("\r\n");
    std::string_view line2 = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    auto colon = line2.find(':');
    if (colon == std::string_view::npos) return HttpParseError{400, "malformed header line"};
    std::string_view name = line2.substr(0, colon);
    std::string_view value = trim(line2.substr(colon + 1));
    if (iequals(name, "content-length")) {
      std::size_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || ec != std::errc() || p != value.data() + value.size() ||
          (contentLength && *contentLength != v)) {
        return HttpParseError{400, "bad Content-Length"};
      }
      contentLength = v;
    } else if (iequals(name, "transfer-encoding")) {
      return HttpParseError{501, "Transfer-Encoding is not supported; send a Content-Length body"};
    } else if (iequals(name, "connection")) {
      if (icontains(value, "close")) h.keepAlive = false;
      if (icontains(value, "keep-alive")) h.keepAlive = true;
    } else if (iequals(name, "expect")) {
      h.expectContinue = icontains(value, "100-continue");
    }
  }
  h.bodyLength = contentLength.value_or(0);
  if (h.bodyLength > maxBodyBytes) {
    return HttpParseError{413, "request body larger than " + std::to_string(maxBodyBytes) + " bytes"};
  }
  if (h.method == "POST" && !contentLength) return HttpParseError{411, "a POST needs a Content-Length"};
  h.headerBytes = headerEnd + 4;
  return h;
}

struct HttpServer::Impl {
  HttpLimits limits;
  HttpHandler handler;
  std::function<std::string(int, const std::string&)> refusal;
  int listenFd = -1;
  int epollFd = -1;
  int eventFd = -1;
  int port = 0;
  std::shared_ptr<WakeHandle> wake = std::make_shared<WakeHandle>();
  std::atomic<bool> stopping{false};
  std::thread loopThread;
  std::vector<std::thread> workers;

  // Loop thread only.
  std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns;
  std::unordered_map<std::string, std::size_t> connsPerAddress;
  std::unordered_map<std::string, std::size_t> parkedPerAddress;
  std::unordered_set<std::uint64_t> parkedIds;
  std::vector<std::uint64_t> reparse;  // connections with pipelined bytes to parse next iteration
  std::uint64_t nextId = 2;
  std::size_t buffered = 0;  // bytes in every connection's `in` and `out`
  bool listening = true;
  SteadyClock::time_point lastAcceptWarning{};

  // The scheduler, guarded by schedMutex: per-address FIFO queues served round-robin.
  std::mutex schedMutex;
  std::condition_variable schedCv;
  std::unordered_map<std::string, AddressQueue> sched;
  std::vector<std::string> ready;  // addresses with queued work and a free running slot
  std::size_t queued = 0;
  std::uint64_t virtualTime = 0;  // `used` of the last address served
  std::size_t enqueues = 0;
  bool schedStop = false;

  // Finished handlers, guarded by doneMutex; the loop picks them up after an eventfd wake.
  std::mutex doneMutex;
  std::vector<Done> done;

  ~Impl() {
    if (listenFd >= 0) ::close(listenFd);
    if (epollFd >= 0) ::close(epollFd);
    if (eventFd >= 0) ::close(eventFd);
  }

  // ---- loop thread -------------------------------------------------------------------------

  void setInterest(Conn& c, std::uint32_t events) {
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.id;
    ::epoll_ctl(epollFd, EPOLL_CTL_MOD, c.fd, &ev);
    c.events = events;
  }

  void closeConn(std::uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    Conn& c = *it->second;
    ::epoll_ctl(epollFd, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    buffered -= c.in.size() + c.out.size();
    if (c.parked) unpark(c);
    auto a = connsPerAddress.find(c.peer);
    if (a != connsPerAddress.end() && --a->second == 0) connsPerAddress.erase(a);
    conns.erase(it);
  }

  void unpark(Conn& c) {
    c.parked.reset();
    parkedIds.erase(c.id);
    auto p = parkedPerAddress.find(c.peer);
    if (p != parkedPerAddress.end() && --p->second == 0) parkedPerAddress.erase(p);
  }

  void acceptAll() {
    while (true) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      int fd = ::accept4(listenFd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop listening until the next tick instead of spinning.
          auto now = SteadyClock::now();
          if (now - lastAcceptWarning > std::chrono::seconds(10)) {
            lastAcceptWarning = now;
            MERIT_LOG_WARN(Category::kRpc, "cannot accept RPC connections: {}", std::strerror(errno));
          }
          ::epoll_ctl(epollFd, EPOLL_CTL_DEL, listenFd, nullptr);
          listening = false;
        }
        return;
      }
      std::string peer = peerAddress(ss);
      auto& perAddress = connsPerAddress[peer];
      if (conns.size() >= limits.maxConnections || perAddress >= limits.maxConnectionsPerAddress) {
        if (perAddress == 0) connsPerAddress.erase(peer);
        MERIT_LOG_DEBUG(Category::kRpc, "refused an RPC connection from {}: connection limit", peer);
        ::close(fd);
        continue;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // small replies go out at once
      auto c = std::make_unique<Conn>();
      c->id = nextId++;
      c->fd = fd;
      c->peer = std::move(peer);
      c->idleSince = SteadyClock::now();
      c->events = EPOLLIN;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = c->id;
      if (::epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        if (perAddress == 0) connsPerAddress.erase(c->peer);
        continue;
      }
      ++perAddress;
      conns.emplace(c->id, std::move(c));
    }
  }

  void respond(Conn& c, const HttpResponse& r, bool close = false) {
    c.state = Conn::State::kWriting;
    c.closeAfterWrite = close || !c.keepAlive;
    buffered -= c.out.size();
    c.out.clear();
    c.out += "HTTP/1.1 ";
    c.out += std::to_string(r.status);
    c.out += ' ';
    c.out += statusText(r.status);
    c.out += "\r\n";
    if (r.status != 204) {
      c.out += "Content-Type: application/json\r\nContent-Length: ";
      c.out += std::to_string(r.body.size());
      c.out += "\r\n";
    }
    if (c.closeAfterWrite) {
      c.out += "Connection: close\r\n";
    } else {
      c.out += "Connection: keep-alive\r\nKeep-Alive: timeout=";
      c.out += std::to_string(std::chrono::duration_cast<std::chrono::seconds>(limits.idleTimeout).count());
      c.out += "\r\n";
    }
    c.out += "\r\n";
    if (r.status != 204) c.out += r.body;
    buffered += c.out.size();
    c.outOffset = 0;
    c.writeStart = SteadyClock::now();
    flush(c);
  }

  void respondError(Conn& c, int status, const std::string& message, bool close) {
    respond(c, HttpResponse{status, refusal(status, message)}, close);
  }

  // Writes what the socket takes; returns false if the connection was closed.
  bool flush(Conn& c) {
    while (c.outOffset < c.out.size()) {
      auto n = ::send(c.fd, c.out.data() + c.outOffset, c.out.size() - c.outOffset, MSG_NOSIGNAL);
      if (n > 0) {
        c.outOffset += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        setInterest(c, EPOLLOUT);
        return true;
      }
      closeConn(c.id);
      return false;
    }
    if (c.closeAfterWrite) {
      ::shutdown(c.fd, SHUT_WR);
      buffered -= c.in.size() + c.out.size();
      std::string().swap(c.in);
      std::string().swap(c.out);
      c.state = Conn::State::kClosing;
      c.writeStart = SteadyClock::now();
      setInterest(c, EPOLLIN);
      return false;
    }
    buffered -= c.out.size();
    std::string().swap(c.out);  // do not keep a large answer's buffer for an idle connection
    c.outOffset = 0;
    c.state = Conn::State::kReading;
    c.idleSince = SteadyClock::now();
    setInterest(c, EPOLLIN);
    if (!c.in.empty()) reparse.push_back(c.id);
    return true;
  }

  void onReadable(Conn& c) {
    if (c.state == Conn::State::kClosing) {
      char sink[kReadChunk];
      while (true) {
        auto n = ::recv(c.fd, sink, sizeof sink, 0);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        closeConn(c.id);
        return;
      }
    }
    if (c.state != Conn::State::kReading) return;
    const std::size_t cap = limits.maxHeaderBytes + limits.maxBodyBytes + 4;
    char buf[kReadChunk];
    while (c.in.size() < cap) {
      if (c.in.size() >= kSmallMessage && buffered > limits.maxBufferedBytes) {
        // Many large uploads at once: memory stays bounded, the large ones are refused.
        return respondError(c, 503, "overloaded: too many large requests in flight; try again later", true);
      }
      auto n = ::recv(c.fd, buf, std::min(sizeof buf, cap - c.in.size()), 0);
      if (n > 0) {
        if (!c.requestStart) c.requestStart = SteadyClock::now();
        c.in.append(buf, static_cast<std::size_t>(n));
        buffered += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      closeConn(c.id);  // 0: the client closed; <0: reset
      return;
    }
    parse(c);
  }

  // Parses one request from c.in if it is complete and dispatches it.
  void parse(Conn& c) {
    if (c.state != Conn::State::kReading || c.in.empty()) return;
    if (!c.requestStart) c.requestStart = SteadyClock::now();
    auto parsed = parseHttpHead(c.in, limits.maxHeaderBytes, limits.maxBodyBytes);
    if (auto* e = std::get_if<HttpParseError>(&parsed)) return respondError(c, e->status, e->message, true);
    auto* h = std::get_if<HttpHead>(&parsed);
    if (h == nullptr) return;  // the headers are not complete yet
    std::size_t length = h->bodyLength;
    std::size_t headerEnd = h->headerBytes - 4;
    bool keepAlive = h->keepAlive;
    bool expectContinue = h->expectContinue;
    std::string_view method = h->method;
    std::string_view target = h->target;
    std::size_t total = headerEnd + 4 + length;
    if (c.in.size() < total) {
      if (expectContinue && !c.continueSent) {
        c.continueSent = true;
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        [[maybe_unused]] auto n = ::send(c.fd, kContinue.data(), kContinue.size(), MSG_NOSIGNAL);
      }
      return;  // wait for the rest of the body (within the read deadline)
    }
    HttpRequest req;
    req.method = std::string(method);
    req.target = std::string(target.substr(0, target.find('?')));
    req.body = c.in.substr(headerEnd + 4, length);
    req.peer = c.peer;
    c.in.erase(0, total);
    buffered -= total;
    c.requestStart.reset();
    c.continueSent = false;
    c.keepAlive = keepAlive;

    bool known = req.target == "/" || req.target == "/health";
    if (!known) return respondError(c, 404, "no such path; POST JSON-RPC to /", false);
    if ((req.target == "/" && req.method != "POST") || (req.target == "/health" && req.method != "GET")) {
      return respondError(c, 405, "use POST / for JSON-RPC and GET /health", false);
    }
    c.state = Conn::State::kBusy;
    setInterest(c, 0);  // nothing more is read until this request is answered
    if (auto why = enqueue(Job{c.id, std::move(req), SteadyClock::now()})) respondError(c, 503, *why, false);
  }

  void park(Conn& c, Parked p) {
    auto& perAddress = parkedPerAddress[c.peer];
    if (parkedIds.size() >= limits.maxParked || perAddress >= limits.maxParkedPerAddress) {
      if (perAddress == 0) parkedPerAddress.erase(c.peer);
      return respondError(c, 503, "overloaded: too many waiting requests; try again later", false);
    }
    ++perAddress;
    parkedIds.insert(c.id);
    c.parked = std::move(p);
    c.state = Conn::State::kParked;
    pollOne(c, SteadyClock::now());  // the event may have happened between the check and parking
  }

  void pollOne(Conn& c, SteadyClock::time_point now) {
    bool expired = now >= c.parked->deadline;
    std::optional<HttpResponse> r;
    try {
      r = c.parked->poll(expired);
    } catch (const std::exception& e) {
      MERIT_LOG_ERROR(Category::kRpc, "parked request failed: {}", e.what());
      r = HttpResponse{500, refusal(500, "internal error")};
    }
    if (!r && expired) r = HttpResponse{504, refusal(504, "wait ended without an answer")};
    if (!r) return;
    unpark(c);
    respond(c, *r);
  }

  void pollParked(bool all) {
    auto now = SteadyClock::now();
    std::vector<std::uint64_t> ids(parkedIds.begin(), parkedIds.end());
    for (auto id : ids) {
      auto it = conns.find(id);
      if (it == conns.end() || !it->second->parked) continue;
      if (all || now >= it->second->parked->deadline) pollOne(*it->second, now);
    }
  }

  void tick() {
    auto now = SteadyClock::now();
    if (!listening) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenId;
      if (::epoll_ctl(epollFd, EPOLL_CTL_ADD, listenFd, &ev) == 0) listening = true;
    }
    std::vector<std::uint64_t> expired;
    for (auto& [id, c] : conns) {
      switch (c->state) {
        case Conn::State::kReading:
          // A slow-loris connection gets the whole request's deadline, not one per recv.
          if (c->requestStart ? now - *c->requestStart > limits.readDeadline
                              : now - c->idleSince > limits.idleTimeout) {
            expired.push_back(id);
          }
          break;
        case Conn::State::kWriting:
          if (now - c->writeStart > limits.writeDeadline) expired.push_back(id);
          break;
        case Conn::State::kClosing:
          if (now - c->writeStart > std::chrono::seconds(2)) expired.push_back(id);
          break;
        case Conn::State::kBusy:
        case Conn::State::kParked: break;
      }
    }
    for (auto id : expired) closeConn(id);
    pollParked(false);
  }

  void drainDone() {
    std::vector<Done> batch;
    {
      std::lock_guard lock(doneMutex);
      batch.swap(done);
    }
    for (auto& d : batch) {
      auto it = conns.find(d.conn);
      if (it == conns.end()) continue;  // the client went away meanwhile
      Conn& c = *it->second;
      if (auto* r = std::get_if<HttpResponse>(&d.outcome)) {
        if (r->body.size() > kSmallMessage && buffered + r->body.size() > limits.maxBufferedBytes) {
          // Clients that do not read their large answers must not grow memory without bound.
          respondError(c, 503, "overloaded: too many large answers unsent; try again later", false);
          continue;
        }
        respond(c, *r);
      } else {
        park(c, std::move(std::get<Parked>(d.outcome)));
      }
    }
  }

  void loop() {
    std::vector<epoll_event> events(512);
    auto nextTick = SteadyClock::now() + kTick;
    while (!stopping.load()) {
      auto wait =
          std::chrono::duration_cast<std::chrono::milliseconds>(nextTick - SteadyClock::now()).count();
      int n = ::epoll_wait(epollFd, events.data(), static_cast<int>(events.size()),
                           static_cast<int>(std::max<long>(0, wait)));
      for (int i = 0; i < n; ++i) {
        auto id = events[i].data.u64;
        auto ev = events[i].events;
        if (id == kListenId) {
          acceptAll();
          continue;
        }
        if (id == kEventId) {
          std::uint64_t count = 0;
          [[maybe_unused]] auto r = ::read(eventFd, &count, sizeof count);
          continue;
        }
        auto it = conns.find(id);
        if (it == conns.end()) continue;
        Conn& c = *it->second;
        if (ev & EPOLLERR) {
          closeConn(id);
          continue;
        }
        if (ev & EPOLLOUT) {
          if (c.state == Conn::State::kWriting && !flush(c)) continue;
        }
        if (ev & (EPOLLIN | EPOLLHUP)) {
          if (c.state == Conn::State::kReading || c.state == Conn::State::kClosing) {
            onReadable(c);
          } else if (ev & EPOLLHUP) {
            closeConn(id);  // gone while its request was being handled or parked
          }
        }
      }
      drainDone();
      if (wake->parkedDirty.exchange(false)) pollParked(true);
      while (!reparse.empty()) {
        std::vector<std::uint64_t> ids;
        ids.swap(reparse);
        for (auto id : ids) {
          auto it = conns.find(id);
          if (it != conns.end()) parse(*it->second);
        }
      }
      if (SteadyClock::now() >= nextTick) {
        tick();
        nextTick = SteadyClock::now() + kTick;
      }
    }
    std::vector<std::uint64_t> ids;
    for (auto& [id, c] : conns) ids.push_back(id);
    for (auto id : ids) closeConn(id);
  }

  // ---- any thread --------------------------------------------------------------------------

  // Queues a job; returns why it was refused, if it was.
  std::optional<std::string> enqueue(Job job) {
    std::lock_guard lock(schedMutex);
    if (schedStop) return "shutting down";
    if (queued >= limits.maxQueued) return "overloaded: too many queued requests; try again later";
    if (++enqueues % 1024 == 0) forgetIdle();
    std::string peer = job.request.peer;
    auto it = sched.try_emplace(peer).first;
    auto& a = it->second;
    // A newly active address starts at the current virtual time: no credit for having been idle,
    // and debt from recent heavy calls is kept.
    a.used = std::max(a.used, virtualTime);
    if (a.queue.size() >= limits.maxQueuedPerAddress) {
      return "overloaded: too many queued requests from " + peer + "; try again later";
    }
    a.queue.push_back(std::move(job));
    ++queued;
    if (!a.inReady && a.running < limits.maxRunningPerAddress) {
      a.inReady = true;
      ready.push_back(std::move(peer));
      schedCv.notify_one();
    }
    return std::nullopt;
  }

  // Idle addresses whose use is not ahead of the virtual time carry no information (they would
  // restart there anyway): drop them so the table stays as small as the set of active clients.
  void forgetIdle() {
    for (auto it = sched.begin(); it != sched.end();) {
      const auto& a = it->second;
      bool idle = a.queue.empty() && a.running == 0;
      it = idle && a.used <= virtualTime ? sched.erase(it) : std::next(it);
    }
  }

  void worker() {
    while (true) {
      Job job;
      std::string peer;
      {
        std::unique_lock lock(schedMutex);
        schedCv.wait(lock, [&] { return schedStop || !ready.empty(); });
        if (schedStop) return;
        std::size_t best = 0;
        for (std::size_t i = 1; i < ready.size(); ++i) {
          if (sched.at(ready[i]).used < sched.at(ready[best]).used) best = i;
        }
        peer = std::move(ready[best]);
        ready[best] = std::move(ready.back());
        ready.pop_back();
        auto& a = sched.at(peer);
        a.inReady = false;
        virtualTime = std::max(virtualTime, a.used);
        job = std::move(a.queue.front());
        a.queue.pop_front();
        --queued;
        ++a.running;
        if (!a.queue.empty() && a.running < limits.maxRunningPerAddress) {
          a.inReady = true;
          ready.push_back(peer);
          schedCv.notify_one();
        }
      }
      auto began = SteadyClock::now();
      HttpOutcome outcome = run(job);
      auto took = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - began).count());
      {
        std::lock_guard lock(schedMutex);
        auto& a = sched.at(peer);  // an address with running work is never erased
        --a.running;
        a.used += took;
        if (!a.inReady && !a.queue.empty() && a.running < limits.maxRunningPerAddress) {
          a.inReady = true;
          ready.push_back(peer);
          schedCv.notify_one();
        }
      }
      {
        std::lock_guard lock(doneMutex);
        done.push_back(Done{job.conn, std::move(outcome)});
      }
      wake->signal();
    }
  }

  HttpOutcome run(const Job& job) {
    if (SteadyClock::now() - job.readAt > limits.queueDeadline) {
      return HttpResponse{
          503, refusal(503, "overloaded: the request waited too long for a worker; try again later")};
    }
    try {
      return handler(job.request);
    } catch (const std::exception& e) {
      MERIT_LOG_ERROR(Category::kRpc, "RPC handler failed: {}", e.what());
      return HttpResponse{500, refusal(500, "internal error")};
    }
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

HttpServer::~HttpServer() {
  stop();
}

int HttpServer::port() const {
  return m_impl->port;
}

void HttpServer::wake() {
  m_impl->wake->parkedDirty = true;
  m_impl->wake->signal();
}

std::function<void()> HttpServer::waker() const {
  std::weak_ptr<WakeHandle> weak = m_impl->wake;
  return [weak] {
    if (auto w = weak.lock()) {
      w->parkedDirty = true;
      w->signal();
    }
  };
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(
    const std::string& host, int port, HttpLimits limits, HttpHandler handler,
    std::function<std::string(int, const std::string&)> refusal) {
  auto impl = std::make_unique<Impl>();
  auto where = host + ":" + std::to_string(port);

  // Every connection is a descriptor: make sure the configured number can be open.
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rlim_t want = static_cast<rlim_t>(limits.maxConnections) + 256;
    if (rl.rlim_cur < want && rl.rlim_cur != RLIM_INFINITY) {
      rl.rlim_cur = std::min(want, rl.rlim_max);
      ::setrlimit(RLIMIT_NOFILE, &rl);
      ::getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
      std::size_t fit = rl.rlim_cur > 512 ? static_cast<std::size_t>(rl.rlim_cur) - 256 : 256;
      MERIT_LOG_WARN(Category::kRpc, "open-file limit {} allows only {} RPC connections (wanted {})",
                     static_cast<unsigned long>(rl.rlim_cur), fit, limits.maxConnections);
      limits.maxConnections = fit;
    }
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    return fail(ErrorCode::kInvalidArgument, "cannot listen for RPC on " + where + ": " + ::gai_strerror(rc));
  }
  std::string lastError = "no address";
  for (addrinfo* a = found; a != nullptr && impl->listenFd < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      impl->listenFd = fd;
    } else {
      lastError = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (impl->listenFd < 0)
    return fail(ErrorCode::kUnavailable, "cannot listen for RPC on " + where + ": " + lastError);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(impl->listenFd, reinterpret_cast<sockaddr*>(&bound), &len);
  impl->port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  impl->epollFd = ::epoll_create1(EPOLL_CLOEXEC);
  impl->eventFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->epollFd < 0 || impl->eventFd < 0) {
    return fail(ErrorCode::kUnavailable,
                std::string("cannot create the RPC event loop: ") + std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenId;
  ::epoll_ctl(impl->epollFd, EPOLL_CTL_ADD, impl->listenFd, &ev);
  ev.data.u64 = kEventId;
  ::epoll_ctl(impl->epollFd, EPOLL_CTL_ADD, impl->eventFd, &ev);
  impl->wake->fd = impl->eventFd;

  impl->limits = limits;
  impl->handler = std::move(handler);
  impl->refusal = std::move(refusal);
  Impl* raw = impl.get();
  impl->loopThread = std::thread([raw] { raw->loop(); });
  for (std::size_t i = 0; i < std::max<std::size_t>(1, limits.workers); ++i) {
    impl->workers.emplace_back([raw] { raw->worker(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::stop() {
  if (!m_impl) return;
  m_impl->stopping = true;
  m_impl->wake->signal();
  if (m_impl->loopThread.joinable()) m_impl->loopThread.join();
  {
    std::lock_guard lock(m_impl->schedMutex);
    m_impl->schedStop = true;
  }
  m_impl->schedCv.notify_all();
  for (auto& w : m_impl->workers) {
    if (w.joinable()) w.join();
  }
  m_impl->workers.clear();
  std::lock_guard lock(m_impl->wake->mutex);
  m_impl->wake->fd = -1;  // waker() calls after this are no-ops; the eventfd closes with Impl
}

}  // namespace merit::chain
