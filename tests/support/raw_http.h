// A minimal HTTP/1.1 client over raw sockets for tests and benchmarks that must control what a
// client does byte by byte: bind a chosen loopback source address (127.0.0.2, ...), keep a
// connection alive, stall half-way through a request, or read an answer without parsing it.
//
// Thread-safety: free functions; a RawConnection belongs to one thread.
#pragma once

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

namespace merit::test {

using SteadyTime = std::chrono::steady_clock::time_point;

struct RawResponse {
  bool ok = false;  // a complete response arrived before the deadline
  int status = 0;
  std::string body;
  std::string error;  // why not ok
};

class RawConnection {
 public:
  RawConnection() = default;
  ~RawConnection() { close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  RawConnection(RawConnection&& o) noexcept : m_fd(o.m_fd) { o.m_fd = -1; }

  // Connects to 127.0.0.1:port from `source` (an address in 127/8; empty = the kernel's choice).
  bool connect(int port, const std::string& source = {}) {
    close();
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_fd < 0) return false;
    int one = 1;
    ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!source.empty()) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
      if (::bind(m_fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return fail();
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail();
    return true;
  }

  bool open() const { return m_fd >= 0; }
  int fd() const { return m_fd; }

  void close() {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }

  // Sends all of `bytes` (blocking). False if the peer closed or reset.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      auto n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // A keep-alive JSON POST to "/".
  static std::string post(std::string_view body) {
    std::string r =
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ";
    r += std::to_string(body.size());
    r += "\r\n\r\n";
    r += body;
    return r;
  }

  // Reads one response (Content-Length framed) until `deadline`; stops early when `stop` is set.
  // With keepBody = false the body is counted but not kept (for floods of large answers).
  RawResponse read(SteadyTime deadline, const std::atomic<bool>* stop = nullptr, bool keepBody = true) {
    RawResponse r;
    std::string head;
    std::size_t need = 0, got = 0;
    bool inBody = false;
    char buf[64 * 1024];
    while (true) {
      if (stop != nullptr && stop->load()) {
        r.error = "stopped";
        return r;
      }
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        r.error = "deadline";
        return r;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      pollfd p{m_fd, POLLIN, 0};
      int pr = ::poll(&p, 1, static_cast<int>(std::min<long>(left, 100)) + 1);
      if (pr < 0 && errno != EINTR) {
        r.error = "poll failed";
        return r;
      }
      if (pr <= 0) continue;
      auto n = ::recv(m_fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        r.error = n == 0 ? "closed by server" : "reset";
        return r;
      }
      std::string_view chunk(buf, static_cast<std::size_t>(n));
      if (!inBody) {
        head.append(chunk);
        auto end = head.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        if (head.size() < 12) {
          r.error = "short status line";
          return r;
        }
        std::from_chars(head.data() + 9, head.data() + 12, r.status);
        auto cl = findHeader(std::string_view(head).substr(0, end), "content-length");
        std::from_chars(cl.data(), cl.data() + cl.size(), need);
        inBody = true;
        chunk = std::string_view(head).substr(end + 4);
        if (keepBody) r.body.assign(chunk);
        got = chunk.size();
      } else {
        if (keepBody) r.body.append(chunk);
        got += chunk.size();
      }
      if (r.status == 100) {  // an interim answer: the real one follows
        r.status = 0;
        head.clear();
        inBody = false;
        r.body.clear();
        continue;
      }
      if (got >= need) {
        r.ok = true;
        return r;
      }
    }
  }

  // One request, one answer.
  RawResponse call(std::string_view body, SteadyTime deadline, const std::atomic<bool>* stop = nullptr,
                   bool keepBody = true) {
    if (!send(post(body))) {
      RawResponse r;
      r.error = "send failed";
      return r;
    }
    return read(deadline, stop, keepBody);
  }

 private:
  bool fail() {
    close();
    return false;
  }

  static std::string_view findHeader(std::string_view head, std::string_view name) {
    std::size_t pos = 0;
    while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
      pos += 2;
      auto line = head.substr(pos, head.find("\r\n", pos) - pos);
      auto colon = line.find(':');
      if (colon == std::string_view::npos || colon != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < colon && same; ++i) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        same = c == name[i];
      }
      if (!same) continue;
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return value;
    }
    return {};
  }

  int m_fd = -1;
};

}  // namespace merit::test
