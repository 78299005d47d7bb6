// Prometheus metrics for meritnet daemons (miner, validator): fixed-bucket histograms and
// counters rendered in the Prometheus text format, served on /metrics.
//
// Thread-safety: observe()/add() are lock-free (atomics) and may be called from any thread;
// render() may run concurrently with them (values are read individually, not as one snapshot).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "merit/util/result.h"

namespace httplib {
class Server;
}

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

// Serves GET /metrics with whatever `render` returns.
class MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& host, int port,
                                                      std::function<std::string()> render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const { return m_port; }

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> m_server;
  std::thread m_thread;
  int m_port = 0;
};

// "name{label=\"value\"} 12\n" helpers for the text format.
void renderCounter(std::string& out, const std::string& name, const std::string& help,
                   const std::vector<std::pair<std::string, std::uint64_t>>& labelledValues,
                   const std::string& labelName);
void renderGauge(std::string& out, const std::string& name, const std::string& help, double value);

}  // namespace merit::metrics
