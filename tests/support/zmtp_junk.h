// A hostile "miner" for tests: speaks just enough ZMTP 3.0 (NULL mechanism, as a ROUTER) for a
// ZeroMQ DEALER to connect, then writes junk messages as fast as the kernel takes them,
// thousands per write(), far more than a ZeroMQ socket can read. Used against the dendrite in
// tests/unit/net and against a real merit-validator by tests/functional/peer_attack.
//
// Thread-safety: the constructor and destructor on one thread; serving runs on a thread of its
// own. Connections are served one after the other (a dendrite that closes one reconnects).
#pragma once

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace merit::test {

class JunkStreamer {
 public:
  enum class Kind {
    kUnsolicited,  // two-frame messages with a correlation id nobody asked for
    kManyFrames,   // messages of thousands of empty frames
  };

  // Listens on 127.0.0.1 (an ephemeral port) and serves for at most `maxRun`. Throws
  // std::runtime_error if it cannot listen.
  explicit JunkStreamer(Kind kind, std::chrono::seconds maxRun = std::chrono::seconds(20))
      : m_kind(kind), m_until(std::chrono::steady_clock::now() + maxRun) {
    m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (m_listen < 0 || ::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(m_listen, 16) != 0 ||
        ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (m_listen >= 0) ::close(m_listen);
      throw std::runtime_error("junk streamer: cannot listen on 127.0.0.1");
    }
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] { run(); });
  }
  ~JunkStreamer() {
    m_stop = true;
    m_thread.join();
    ::close(m_listen);
  }
  JunkStreamer(const JunkStreamer&) = delete;
  JunkStreamer& operator=(const JunkStreamer&) = delete;

  std::uint16_t port() const { return m_port; }
  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(m_port); }
  std::uint64_t bytesWritten() const { return m_written.load(); }
  int accepted() const { return m_accepted.load(); }

 private:
  void run() {
    while (!m_stop.load() && std::chrono::steady_clock::now() < m_until) {
      pollfd p{m_listen, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept(m_listen, nullptr, nullptr);
      if (fd < 0) continue;
      ++m_accepted;
      serve(fd);
      ::close(fd);
    }
  }

  void serve(int fd) {
    // Greeting: signature, version 3.0, mechanism NULL, as-server 0, filler; then READY with
    // Socket-Type ROUTER.
    std::string greeting(64, '\0');
    greeting[0] = '\xff';
    greeting[9] = '\x7f';
    greeting[10] = 3;
    greeting.replace(12, 4, "NULL");
    std::string ready = "\x05READY";
    ready += '\x0b';
    ready += "Socket-Type";
    ready += std::string("\0\0\0\x06", 4) + "ROUTER";
    const std::string hello = greeting + '\x04' + static_cast<char>(ready.size()) + ready;
    if (!writeAll(fd, hello)) return;
    // Like any ZMTP peer, wait for the other side's greeting and READY before sending messages.
    std::string peer;
    if (!readExactly(fd, 66, peer)) return;
    if (!readExactly(fd, static_cast<unsigned char>(peer[65]), peer)) return;
    std::string batch;
    while (batch.size() < (256u << 10)) {
      batch += std::string("\x01\x10", 2) + std::string(16, '\x5a');  // a correlation id nobody asked for
      if (m_kind == Kind::kUnsolicited) {
        batch += std::string("\x00\x04", 2) + "junk";
      } else {
        for (int i = 0; i < 4095; ++i) batch += std::string("\x01\x00", 2);
        batch += std::string("\x00\x00", 2);
      }
    }
    // What the peer sends us is never read (its buffers fill); we write until it hangs up.
    while (!m_stop.load() && std::chrono::steady_clock::now() < m_until) {
      if (!writeAll(fd, batch)) return;
    }
  }

  bool readExactly(int fd, std::size_t n, std::string& out) {
    const std::size_t want = out.size() + n;
    char buf[256];
    while (out.size() < want && !m_stop.load() && std::chrono::steady_clock::now() < m_until) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t got = ::recv(fd, buf, std::min(sizeof buf, want - out.size()), 0);
      if (got <= 0) return false;
      out.append(buf, static_cast<std::size_t>(got));
    }
    return out.size() == want;
  }

  bool writeAll(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size() && !m_stop.load()) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
      m_written += static_cast<std::uint64_t>(n);
    }
    return off == data.size();
  }

  const Kind m_kind;
  const std::chrono::steady_clock::time_point m_until;
  int m_listen = -1;
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<std::uint64_t> m_written{0};
  std::atomic<int> m_accepted{0};
  std::thread m_thread;
};

}  // namespace merit::test
