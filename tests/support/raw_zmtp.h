// A hand-driven ZMTP 3.0 peer over a plain TCP socket, for tests that must send what no libzmq
// socket would: endless frames marked "more", frames declared larger than any limit, garbage
// greetings, junk in the handshake. Header-only; used by unit tests and the functional flooder.
//
// Thread-safety: one RawZmtp per thread.
#pragma once

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace merit::testing {

// Resident memory of this process (or `pid`), in KiB, from /proc/<pid>/status (VmRSS).
inline long residentKiB(long pid = 0) {
  std::ifstream f(pid == 0 ? std::string("/proc/self/status") : "/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

// "tcp://127.0.0.1:1234" → port; 0 if malformed.
inline int portOf(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) return 0;
  return std::atoi(endpoint.c_str() + colon + 1);
}

class RawZmtp {
 public:
  // Connects to 127.0.0.1:port (blocking, with a 5 s send timeout so a stuck peer cannot hang a test).
  explicit RawZmtp(int port) {
    m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (m_fd < 0 || ::connect(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      if (m_fd >= 0) ::close(m_fd);
      m_fd = -1;
      return;
    }
    timeval tv{0, 200'000};
    ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  ~RawZmtp() {
    if (m_fd >= 0) ::close(m_fd);
  }
  RawZmtp(const RawZmtp&) = delete;
  RawZmtp& operator=(const RawZmtp&) = delete;

  bool connected() const { return m_fd >= 0; }

  // Writes all of `bytes`; false once the peer closed the connection (or a 5 s stall).
  bool write(std::string_view bytes) {
    std::size_t off = 0;
    int stalls = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(m_fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<std::size_t>(n);
        stalls = 0;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && ++stalls < 25) {
        if (peerClosed(0)) return false;
        continue;
      }
      return false;
    }
    return true;
  }

  // The NULL greeting (as-server 0) followed by READY with Socket-Type `type`.
  bool nullHandshake(std::string_view type = "DEALER") {
    if (!write(greeting("NULL"))) return false;
    std::string peer = readExactly(64, 5000);
    if (peer.size() != 64) return false;
    return write(command(readyBody(type)));
  }

  static std::string greeting(std::string_view mechanism) {
    std::string g(64, '\0');
    g[0] = static_cast<char>(0xff);
    g[9] = 0x7f;
    g[10] = 3;
    std::memcpy(g.data() + 12, mechanism.data(), mechanism.size());
    return g;
  }
  static std::string readyBody(std::string_view type) {
    std::string b = "\x05READY";
    b += '\x0b';
    b += "Socket-Type";
    const std::uint32_t n = static_cast<std::uint32_t>(type.size());
    b += static_cast<char>(n >> 24);
    b += static_cast<char>(n >> 16);
    b += static_cast<char>(n >> 8);
    b += static_cast<char>(n);
    b += type;
    return b;
  }
  static std::string header(std::uint8_t flags, std::uint64_t size) {
    std::string h;
    if (size > 255) flags |= 0x02;
    h += static_cast<char>(flags);
    if (flags & 0x02) {
      for (int i = 7; i >= 0; --i) h += static_cast<char>((size >> (8 * i)) & 0xff);
    } else {
      h += static_cast<char>(size);
    }
    return h;
  }
  static std::string command(std::string_view body) { return header(0x04, body.size()) + std::string(body); }
  static std::string frame(std::string_view body, bool more) {
    return header(more ? 0x01 : 0x00, body.size()) + std::string(body);
  }

  // Reads up to `n` bytes, waiting at most `ms` in all.
  std::string readExactly(std::size_t n, int ms) {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (out.size() < n) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      const ssize_t r = ::recv(m_fd, buf, std::min(sizeof buf, n - out.size()), 0);
      if (r <= 0) break;
      out.append(buf, static_cast<std::size_t>(r));
    }
    return out;
  }

  // True if the peer closed the connection within `ms` (reads and discards what it sent).
  bool peerClosed(int ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      pollfd p{m_fd, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::max<long>(0, left.count())));
      if (r > 0) {
        char buf[4096];
        const ssize_t n = ::recv(m_fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
        continue;
      }
      if (left.count() <= 0) return false;
    }
  }

  // Streams frames of `frameBytes` marked "more" (never the last frame) until the peer closes
  // the connection or `capBytes` were sent. Returns the bytes sent.
  std::uint64_t streamMoreFrames(std::size_t frameBytes, std::uint64_t capBytes) {
    const std::string f = frame(std::string(frameBytes, 'x'), true);
    std::uint64_t sent = 0;
    while (sent < capBytes) {
      if (!write(f)) break;
      sent += f.size();
    }
    return sent;
  }

  int fd() const { return m_fd; }

 private:
  int m_fd = -1;
};

}  // namespace merit::testing
