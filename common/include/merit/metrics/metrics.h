// Prometheus metrics for meritnet daemons (miner, validator): fixed-bucket histograms and
// counters rendered in the Prometheus text format, served on /metrics.
//
// Thread-safety: observe()/add() are lock-free (atomics) and may be called from any thread;
// render() may run concurrently with them (values are read individually, not as one snapshot).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "merit/util/result.h"

namespace merit::metrics {

class Histogram {
 public:
  Histogram(std::string name, std::string help, std::vector<double> bounds);
  void observe(double value);
  void render(std::string& out) const;

 private:
  std::string m_name, m_help;
  std::vector<double> m_bounds;
  std::unique_ptr<std::atomic<std::uint64_t>[]> m_buckets;  // one per bound, plus +Inf
  std::atomic<std::uint64_t> m_count{0};
  std::atomic<std::uint64_t> m_sumMicros{0};  // sum in millionths, to stay integral
};

struct MetricsServerOptions {
  // Open connections at once; more are accepted and closed at once (a flood costs file
  // descriptors only up to this bound, and honest scrapes get in once the flood's time is up).
  std::size_t maxConnections = 16;
  // From accept to the last byte of the reply: a client that trickles its request (slow-loris) or
  // does not read the reply is dropped when this passes, whatever it sends.
  std::chrono::milliseconds connectionDeadline{2000};
  std::size_t maxRequestBytes = 8192;  // request line and headers; no body is read
};

// Serves GET /metrics with whatever `render` returns, on one thread (poll(), non-blocking
// sockets, Connection: close), so no client can hold a thread or grow memory: the bounds are
// MetricsServerOptions. Bind it to 127.0.0.1 (the daemons' default) unless a scraper on another
// host needs it; it is unauthenticated.
//
// Thread-safety: start()/the destructor from one thread; `render` runs on the server's thread.
class MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& host, int port,
                                                      std::function<std::string()> render,
                                                      MetricsServerOptions options = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const { return m_port; }
  // Connections closed at accept because maxConnections were open, and dropped at the deadline.
  std::uint64_t refusedConnections() const { return m_refused.load(); }
  std::uint64_t expiredConnections() const { return m_expired.load(); }

 private:
  MetricsServer() = default;
  void run();

  std::function<std::string()> m_render;
  MetricsServerOptions m_options;
  int m_listenFd = -1;
  int m_wakeFds[2] = {-1, -1};  // a pipe: the destructor wakes the poll loop
  std::thread m_thread;
  int m_port = 0;
  std::atomic<std::uint64_t> m_refused{0};
  std::atomic<std::uint64_t> m_expired{0};
};

// "name{label=\"value\"} 12\n" helpers for the text format.
void renderCounter(std::string& out, const std::string& name, const std::string& help,
                   const std::vector<std::pair<std::string, std::uint64_t>>& labelledValues,
                   const std::string& labelName);
void renderGauge(std::string& out, const std::string& name, const std::string& help, double value);

}  // namespace merit::metrics
