#include "merit/metrics/metrics.h"

#include <cstdio>

#include <httplib.h>

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
    out += name + "{" + labelName + "=\"" + label + "\"} " + std::to_string(value) + "\n";
  }
}

void renderGauge(std::string& out, const std::string& name, const std::string& help, double value) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " + number(value) + "\n";
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& host, int port,
                                                            std::function<std::string()> render) {
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->m_server = std::make_unique<httplib::Server>();
  s->m_server->new_task_queue = [] { return new httplib::ThreadPool(2); };
  s->m_server->Get("/metrics", [render](const httplib::Request&, httplib::Response& res) {
    res.set_content(render(), "text/plain; version=0.0.4");
  });
  s->m_port = port == 0 ? s->m_server->bind_to_any_port(host) : (s->m_server->bind_to_port(host, port) ? port : -1);
  if (s->m_port <= 0) return fail(ErrorCode::kUnavailable, "cannot listen for metrics on " + host + ":" + std::to_string(port));
  httplib::Server* server = s->m_server.get();
  s->m_thread = std::thread([server] { server->listen_after_bind(); });
  return s;
}

MetricsServer::~MetricsServer() {
  if (m_server) m_server->stop();
  if (m_thread.joinable()) m_thread.join();
}

}  // namespace merit::metrics
