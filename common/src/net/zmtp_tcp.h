// Private to merit_net: a ZMTP client (DEALER-like) run by our own engine (zmtp.h) directly over a
// non-blocking TCP socket, and the epoll set that drives many of them from one thread.
//
// It replaced a client over libzmq ZMQ_STREAM sockets (one per connection), with which every
// message crossed two thread hand-offs (our thread → libzmq's I/O thread → TCP, and back), with
// an eventfd signal and epoll_ctl calls per message, and waiting on N connections was a zmq_poll
// over all N sockets. Here a message out is one write(2) on the calling thread, input is read(2)
// by the thread that asks for it, and one epoll_wait covers every connection of a Poller
// (docs/PERFORMANCE.md, "Fan-out"). The peers are unchanged: libzmq ROUTER sockets, or our own
// StreamServer, speaking ZMTP 3.0 with NULL or CURVE.
//
// The semantics are those the dendrite relies on, the old client's and libzmq's: connecting is
// non-blocking and starts at once; a failed attempt or a lost connection is retried after
// libzmq's reconnect interval (100 ms plus up to 100 ms of jitter, as ZMQ_RECONNECT_IVL), each
// new connection with a fresh handshake; messages are sent only once the handshake completed (like
// ZMQ_IMMEDIATE); receive limits are the engine's; a peer that breaks them is dropped at once and
// takeFailure() says why. What one connection makes us hold is bounded: input is read only when
// asked for (the rest waits in the kernel's socket buffer, which TCP flow control bounds), at most
// `maxChunks` reads of 8 KiB per receive(); outgoing bytes the kernel has not taken yet are capped
// by TcpClientConfig::maxQueuedBytes.
//
// Endpoints are "tcp://HOST:PORT" with HOST an IPv4 address, an IPv6 address in brackets, or a
// host name. Addresses are parsed once; a host name is resolved (getaddrinfo, which blocks the
// calling thread) at each connection attempt, as libzmq does. Validators dial the numeric
// addresses published on chain, so they never resolve.
//
// Linux only: the Poller is an epoll set (edge-triggered). Where the kernel allows it (and the build
// found liburing), a Poller can also batch its clients' writes and first reads through one
// io_uring: send() queues a message's bytes and the Poller writes the queued bytes of up to 64
// clients with one system call (at the latest in its next wait()), and prefetch() reads the first
// chunk of many clients with one system call (fewer than 4 clients are written or read with plain
// calls, which cost less than one io_uring_enter); the system calls per message are then a small
// fraction of one instead of a send(2) and a recv(2), which on a virtual machine cost more than the
// work they do (docs/PERFORMANCE.md, "Fan-out"). Every operation is non-blocking and completes
// within the call that submits it, so no buffer is in use by the kernel after the call returns. A
// kernel or a seccomp profile that refuses io_uring, or a ring that fails, leaves the Poller on
// plain send(2) and recv(2) with the same semantics.
//
// Thread-safety: a Poller and its TcpClients belong to one thread. Clients must be destroyed
// before their Poller.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <utility>
#include <vector>

#include "merit/util/bytes.h"
#include "merit/util/result.h"

#include "zmtp.h"

namespace merit::net::zmtp {

class TcpClient;
struct Ring;

// Whether a Poller may batch system calls through io_uring.
enum class Batching : std::uint8_t {
  kAuto,  // io_uring where the kernel allows it, plain system calls otherwise
  kOff,   // plain send(2) and recv(2) only
};

// One epoll set and the reconnect timers of its clients.
class Poller {
 public:
  static Result<std::unique_ptr<Poller>> create(Batching batching = Batching::kAuto);
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Whether writes and first reads go through io_uring now.
  bool batched() const;
  // Writes what send() queued on any client, as far as the kernel takes it (wait() does this
  // first; a caller that sends a burst calls it when the burst is out).
  void flush();
  // Reads the first chunk (8 KiB at most) of each client in `clients` that has an input event not
  // handled yet, in one system call for all of them when batched (nothing otherwise); each
  // client's next receive() handles that chunk as its first read. Only clients about to be
  // receive()d should be passed: what is read is held (in buffered()) until then.
  void prefetch(std::span<TcpClient* const> clients);

  // Starts the connection attempts whose backoff has run out, then waits at most `timeout` for
  // socket events. Returns each client that has something to handle once (socket events since it
  // last handled them, or input receive() left unread at its bound), to be handed to its
  // receive() or service(). The span is valid until the next wait() or until a client is
  // destroyed. Empty on timeout or when a signal interrupted the wait.
  Result<std::span<TcpClient* const>> wait(std::chrono::milliseconds timeout);
  // Clients registered now (each has at most one socket).
  std::size_t clients() const { return m_clients; }

 private:
  friend class TcpClient;
  using Timers = std::multimap<std::chrono::steady_clock::time_point, TcpClient*>;
  explicit Poller(int epollFd);
  void runDueTimers(std::chrono::steady_clock::time_point now);
  // A client whose send() queued bytes: written at the next flush (at once beyond a batch).
  void queueFlush(TcpClient& c);
  // After a ring failure: back to plain system calls for good.
  void dropRing(const char* what, int error);

  const int m_epoll;
  std::unique_ptr<Ring> m_ring;          // null: plain system calls
  std::vector<TcpClient*> m_toFlush;     // clients with bytes queued by send(), not written yet
  std::vector<std::byte> m_recvBuffers;  // prefetch(): one chunk per client of a batch
  std::size_t m_clients = 0;
  std::vector<epoll_event> m_events;
  std::vector<TcpClient*> m_ready;
  std::vector<TcpClient*> m_again;  // input left unread by receive()'s bound: ready without waiting
  Timers m_timers;                  // reconnect attempts due
  std::minstd_rand m_jitter;
};

struct TcpClientConfig {
  std::shared_ptr<const Options> engine;
  // Outgoing bytes the kernel has not taken yet: send() refuses a message while this many are
  // queued (a message always fits an empty queue). The engine's own replies (PONG) beyond twice
  // this drop the connection: the server is not reading.
  std::size_t maxQueuedBytes = 8u << 20;
  // After a failed attempt or a lost connection, the next attempt waits this plus a random part of
  // it (libzmq's ZMQ_RECONNECT_IVL and its jitter).
  std::chrono::milliseconds reconnectInterval{100};
};

// What happened to a client's connections, for tests and diagnostics.
struct TcpClientStats {
  std::uint64_t attempts = 0;    // connection attempts started
  std::uint64_t connected = 0;   // TCP connections established
  std::uint64_t handshakes = 0;  // ZMTP handshakes completed
  std::uint64_t lost = 0;        // connections closed by the peer or a socket error
};

class TcpClient {
 public:
  // Starts connecting at once. Fails only for an endpoint that cannot be parsed or empty engine
  // options; an unreachable or unresolvable server is retried in the background like a lost one.
  static Result<std::unique_ptr<TcpClient>> connect(Poller& poller, const std::string& endpoint,
                                                    TcpClientConfig config);
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  const std::string& endpoint() const { return m_endpoint; }
  bool ready() const { return m_engine && m_engine->ready(); }
  // Handles the socket's events (a connection completing, the peer closing, room to send) and
  // reads at most `maxChunks` reads of at most 8 KiB each; complete messages go to `onMessage`.
  // A server that breaks the protocol or a limit is disconnected at once (takeFailure() says
  // why; messages completed before are still delivered) and the rest of its bytes are never
  // read. Input left unread at the bound makes the Poller report this client again without
  // waiting. Returns the number of reads that returned data.
  std::size_t receive(std::size_t maxChunks, const std::function<void(Message&&)>& onMessage);
  // Handles the socket's events without reading input: completes a connection attempt, sends
  // what is queued, and drops a connection the peer closed (its unread input with it). Input
  // that arrived stays for the next receive() (hasInput()).
  void service();
  // Input may be waiting (an event not yet handled by receive()).
  bool hasInput() const;
  // No connection: the last attempt failed or the connection was lost, and the next attempt
  // waits for the reconnect interval (reset() starts it at once).
  bool waitingToReconnect() const { return m_timer.has_value(); }
  // Sends one message whole: false if the handshake has not completed or maxQueuedBytes are
  // queued already. A message accepted is written at once as far as the kernel takes it, except
  // when batched: the first message to a connection with nothing queued is written with the
  // Poller's next batch (after 64 clients' sends, or at flush() or wait()).
  bool send(std::span<const ByteView> frames);
  // Bytes of a partial message held now, and input read by prefetch() and not handled yet.
  std::size_t buffered() const { return (m_engine ? m_engine->buffered() : 0) + m_prefetched.size(); }
  // Outgoing bytes the kernel has not taken yet.
  std::size_t queued() const { return m_out.size() - m_outSent; }
  // Drops the connection and everything buffered for it, and connects again at once.
  Result<void> reset();

  // Why receive() last dropped a connection because the server broke the protocol or a limit
  // (the client reconnects after the reconnect interval), and whether that happened after the
  // handshake had completed, that is, in the server's messages. Taking it clears it.
  struct Failure {
    std::string reason;
    bool afterHandshake = false;
  };
  std::optional<Failure> takeFailure() { return std::exchange(m_failure, std::nullopt); }
  const TcpClientStats& stats() const { return m_stats; }

  // The owner's tag for this client (the dendrite's connection), returned untouched.
  void setUserData(void* data) { m_userData = data; }
  void* userData() const { return m_userData; }

 private:
  friend class Poller;
  enum class State : std::uint8_t { kWaiting, kConnecting, kConnected };

  TcpClient(Poller& poller, std::string endpoint, std::string host, std::uint16_t port,
            TcpClientConfig config);
  void startConnecting();
  void finishConnecting();
  void onConnected();
  void closeSocket();
  void scheduleReconnect();
  // Drops the connection after the peer closed it or a socket error; reconnects after the interval.
  void lose();
  // Writes what is queued as far as the kernel takes it; false if the connection was lost.
  bool flush();
  // After `written` more bytes of m_out went out: releases what the kernel has taken.
  void wrote(std::size_t written);
  // Handles events other than input; false if there is no connection to read from afterwards.
  bool handleEvents();

  Poller& m_poller;
  const std::string m_endpoint;
  const std::string m_host;
  const std::uint16_t m_port;
  const TcpClientConfig m_config;
  // The parsed numeric address; unset: m_host is a name, resolved at each attempt.
  std::optional<std::pair<sockaddr_storage, socklen_t>> m_address;
  State m_state = State::kWaiting;
  int m_fd = -1;
  std::uint32_t m_events = 0;  // epoll events not handled yet
  bool m_inReady = false;      // in the Poller's current ready list
  bool m_inAgain = false;      // in the Poller's list of clients with input left unread
  std::optional<Poller::Timers::iterator> m_timer;
  std::unique_ptr<Engine> m_engine;
  Bytes m_out;  // outgoing bytes; those before m_outSent were written
  std::size_t m_outSent = 0;
  bool m_flushQueued = false;  // in the Poller's m_toFlush
  // The first read of the next receive(), done by Poller::prefetch(): its result (bytes read, 0
  // for the peer's close, -errno) and data.
  bool m_hasPrefetch = false;
  int m_prefetchResult = 0;
  Bytes m_prefetched;
  std::optional<Failure> m_failure;
  TcpClientStats m_stats;
  void* m_userData = nullptr;
};

}  // namespace merit::net::zmtp
