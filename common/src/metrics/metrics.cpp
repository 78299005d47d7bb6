#include "merit/metrics/metrics.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace merit::metrics {

namespace {
std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
}  // namespace

Histogram::Histogram(std::string name, std::string help, std::vector<double> bounds)
    : m_name(std::move(name)),
      m_help(std::move(help)),
      m_bounds(std::move(bounds)),
      m_buckets(new std::atomic<std::uint64_t>[m_bounds.size() + 1]) {
  for (std::size_t i = 0; i <= m_bounds.size(); ++i) m_buckets[i] = 0;
}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < m_bounds.size() && value > m_bounds[i]) ++i;
  m_buckets[i].fetch_add(1, std::memory_order_relaxed);
  m_count.fetch_add(1, std::memory_order_relaxed);
  m_sumMicros.fetch_add(static_cast<std::uint64_t>(value * 1e6), std::memory_order_relaxed);
}

void Histogram::render(std::string& out) const {
  out += "# HELP " + m_name + " " + m_help + "\n# TYPE " + m_name + " histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < m_bounds.size(); ++i) {
    cumulative += m_buckets[i].load(std::memory_order_relaxed);
    out += m_name + "_bucket{le=\"" + number(m_bounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += m_buckets[m_bounds.size()].load(std::memory_order_relaxed);
  out += m_name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += m_name + "_sum " + number(static_cast<double>(m_sumMicros.load()) / 1e6) + "\n";
  out += m_name + "_count " + std::to_string(m_count.load()) + "\n";
}

void renderCounter(std::string& out, const std::string& name, const std::string& help,
                   const std::vector<std::pair<std::string, std::uint64_t>>& labelledValues,
                   const std::string& labelName) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n";
  for (const auto& [label, value] : labelledValues) {
    out.append(name).append("{").append(labelName).append("=\"").append(label).append("\"} ");
    out.append(std::to_string(value)).append("\n");
  }
}

void renderGauge(std::string& out, const std::string& name, const std::string& help, double value) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " + number(value) + "\n";
}

namespace {

using SteadyClock = std::chrono::steady_clock;

struct Connection {
  int fd = -1;
  SteadyClock::time_point deadline;
  std::string in;   // request bytes so far (bounded by maxRequestBytes)
  std::string out;  // the reply, once the request is complete
  std::size_t sent = 0;
  bool replying = false;
};

std::string reply(int status, const char* reason, const std::string& contentType, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + contentType +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

void setNonBlocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
}

}  // namespace

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& host, int port,
                                                            std::function<std::string()> render,
                                                            MetricsServerOptions options) {
  if (port < 0 || port > 65535)
    return fail(ErrorCode::kInvalidArgument, "metrics port " + std::to_string(port) + " is out of range");
  if (options.maxConnections == 0 || options.maxRequestBytes < 64) {
    return fail(ErrorCode::kInvalidArgument,
                "metrics server: maxConnections must be >= 1 and maxRequestBytes >= 64");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string where = host + ":" + std::to_string(port);
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || found == nullptr) {
    return fail(ErrorCode::kInvalidArgument,
                "cannot listen for metrics on " + where + ": not a numeric IP address");
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(found, ::freeaddrinfo);
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->m_render = std::move(render);
  s->m_options = options;
  s->m_listenFd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0);
  if (s->m_listenFd < 0)
    return fail(ErrorCode::kUnavailable, "metrics socket: " + std::string(std::strerror(errno)));
  int one = 1;
  ::setsockopt(s->m_listenFd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(s->m_listenFd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(s->m_listenFd, 64) != 0) {
    return fail(ErrorCode::kUnavailable,
                "cannot listen for metrics on " + where + ": " + std::strerror(errno));
  }
  setNonBlocking(s->m_listenFd);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(s->m_listenFd, reinterpret_cast<sockaddr*>(&bound), &len);
  s->m_port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (::pipe2(s->m_wakeFds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return fail(ErrorCode::kUnavailable, "metrics wake pipe: " + std::string(std::strerror(errno)));
  }
  MetricsServer* self = s.get();
  s->m_thread = std::thread([self] { self->run(); });
  return s;
}

MetricsServer::~MetricsServer() {
  if (m_thread.joinable()) {
    char b = 1;
    ssize_t ignored = ::write(m_wakeFds[1], &b, 1);
    (void)ignored;
    m_thread.join();
  }
  for (int fd : {m_listenFd, m_wakeFds[0], m_wakeFds[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

void MetricsServer::run() {
  std::vector<Connection> conns;
  conns.reserve(m_options.maxConnections);
  std::vector<pollfd> fds;
  while (true) {
    const auto now = SteadyClock::now();
    // Drop connections whose time is up, whatever state they are in.
    for (auto& c : conns) {
      if (now >= c.deadline) {
        ::close(c.fd);
        c.fd = -1;
        ++m_expired;
      }
    }
    std::erase_if(conns, [](const Connection& c) { return c.fd < 0; });
    int timeoutMs = 1000;
    for (const auto& c : conns) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(c.deadline - now).count() + 1;
      timeoutMs = static_cast<int>(std::clamp<std::int64_t>(left, 1, timeoutMs));
    }
    fds.clear();
    fds.push_back({m_wakeFds[0], POLLIN, 0});
    fds.push_back({m_listenFd, POLLIN, 0});
    for (const auto& c : conns) fds.push_back({c.fd, static_cast<short>(c.replying ? POLLOUT : POLLIN), 0});
    const int ready = ::poll(fds.data(), fds.size(), timeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || fds[0].revents != 0) break;  // the destructor asked us to stop (or poll broke)
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Connection& c = conns[i];
      const short ev = fds[i + 2].revents;
      if (ev == 0) continue;
      if (!c.replying) {
        char buf[2048];
        ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          ::close(c.fd);
          c.fd = -1;
          continue;
        }
        if (n < 0) continue;
        c.in.append(buf, static_cast<std::size_t>(n));
        const bool complete = c.in.find("\r\n\r\n") != std::string::npos;
        if (!complete && c.in.size() < m_options.maxRequestBytes) continue;
        if (!complete) {
          c.out = reply(431, "Request Header Fields Too Large", "text/plain", "request too large\n");
        } else if (c.in.rfind("GET /metrics ", 0) == 0 || c.in.rfind("GET /metrics?", 0) == 0) {
          c.out = reply(200, "OK", "text/plain; version=0.0.4", m_render());
        } else if (c.in.rfind("GET ", 0) == 0) {
          c.out = reply(404, "Not Found", "text/plain", "only /metrics is served here\n");
        } else {
          c.out = reply(405, "Method Not Allowed", "text/plain", "only GET /metrics\n");
        }
        c.in.clear();
        c.in.shrink_to_fit();
        c.replying = true;
      }
      if (c.replying) {
        ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
        if (n > 0) c.sent += static_cast<std::size_t>(n);
        if (n < 0 || c.sent == c.out.size()) {
          ::close(c.fd);
          c.fd = -1;
        }
      }
    }
    std::erase_if(conns, [](const Connection& c) { return c.fd < 0; });
    if (fds[1].revents != 0) {
      // Accept everything queued; beyond the bound, close at once.
      while (true) {
        int fd = ::accept4(m_listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        if (conns.size() >= m_options.maxConnections) {
          ::close(fd);
          ++m_refused;
          continue;
        }
        Connection c;
        c.fd = fd;
        c.deadline = SteadyClock::now() + m_options.connectionDeadline;
        conns.push_back(std::move(c));
      }
    }
  }
  for (const auto& c : conns) ::close(c.fd);
}

}  // namespace merit::metrics
