#include "dashboard.h"

#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <sys/socket.h>
#include <thread>
#include <vector>

#include <httplib.h>

#include "merit/explain/explain.h"
#include "merit/rpc/client.h"
#include "merit/util/file.h"
#include "merit/util/log.h"

#include "dashboard_collector.h"

namespace merit::cli::dashboard {

namespace fs = std::filesystem;
using log::Category;

namespace {

// Every asset the pages use; nothing else is read from the directory.
struct AssetSpec {
  const char* path;  // URL path
  const char* file;
  const char* type;
};
constexpr AssetSpec kAssets[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
    // Chart.js from Debian's libjs-chart.js, copied here by the build (tools/merit/CMakeLists.txt).
    {"/chart.min.js", "chart.min.js", "text/javascript; charset=utf-8"},
};
constexpr std::size_t kMaxAssetBytes = 1u << 20;

// httplib's task queue with a bound: `workers` threads and at most `workers` connections waiting
// for one. When both are taken the accept loop blocks in enqueue(), so further connections wait
// in the kernel's listen backlog instead of growing a queue here.
class BoundedPool final : public httplib::TaskQueue {
 public:
  explicit BoundedPool(std::size_t workers) : m_limit(workers) {
    for (std::size_t i = 0; i < workers; ++i) m_threads.emplace_back([this] { work(); });
  }
  ~BoundedPool() override = default;

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(m_mutex);
    m_space.wait(lock, [&] { return m_stop || m_jobs.size() < m_limit; });
    if (m_stop) return;  // shutting down: httplib closes the listening socket next
    m_jobs.push_back(std::move(fn));
    m_ready.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_ready.notify_all();
    m_space.notify_all();
    for (auto& t : m_threads) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(m_mutex);
        m_ready.wait(lock, [&] { return m_stop || !m_jobs.empty(); });
        if (m_jobs.empty()) return;  // stopping and nothing left
        fn = std::move(m_jobs.front());
        m_jobs.pop_front();
      }
      m_space.notify_one();
      fn();
    }
  }

  const std::size_t m_limit;
  std::mutex m_mutex;  // guards m_jobs, m_stop
  std::condition_variable m_ready, m_space;
  std::deque<std::function<void()>> m_jobs;
  bool m_stop = false;
  std::vector<std::thread> m_threads;
};

fs::path exeDir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : self.parent_path();
}

bool parseNumber(const std::string& text, std::uint64_t max, std::uint64_t& out) {
  auto [p, err] = std::from_chars(text.data(), text.data() + text.size(), out);
  return err == std::errc() && p == text.data() + text.size() && out <= max;
}

class DashboardImpl final : public Dashboard {
 public:
  explicit DashboardImpl(const Options& options) : m_options(options), m_hub(options.maxSseClients) {}
  ~DashboardImpl() override {
    m_hub.close();
    m_server.stop();
    if (m_listener.joinable()) m_listener.join();
    m_collector.reset();
  }

  Result<void> init();
  std::string url() const override {
    return "http://" +
           (m_options.host.find(':') != std::string::npos ? "[" + m_options.host + "]" : m_options.host) +
           ":" + std::to_string(m_port);
  }

 private:
  void routes();
  // The explanation of the uid's last epoch as JSON text ({"available": false, "reason"} when
  // there is none). One at a time, and each (netuid, uid, epoch) is worked out once: a page that
  // refreshes, or many browsers, cost the node one epoch_get per epoch and uid at most.
  std::string explain(std::uint16_t netuid, std::uint16_t uid);
  static void json(httplib::Response& res, const std::string& body) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(body, "application/json");
  }

  const Options m_options;
  EventHub m_hub;
  std::unique_ptr<Collector> m_collector;
  std::map<std::string, std::pair<std::string, std::string>> m_assets;  // path -> (body, type)
  std::mutex m_explainMutex;                                            // guards the two below
  std::unique_ptr<rpc::ChainClient> m_explainClient;                    // connected at the first explanation
  std::map<std::string, std::string> m_explained;                       // "netuid/uid/epoch" -> JSON text
  httplib::Server m_server;
  std::thread m_listener;
  int m_port = 0;
};

Result<void> DashboardImpl::init() {
  MERIT_ASSIGN_OR_RETURN(fs::path dir, findAssets(m_options.assets));
  for (const auto& a : kAssets) {
    MERIT_ASSIGN_OR_RETURN(std::string body, readFile(dir / a.file, kMaxAssetBytes));
    m_assets[a.path] = {std::move(body), a.type};
  }
  MERIT_ASSIGN_OR_RETURN(m_collector, Collector::start(m_options, m_hub));
  routes();
  if (m_options.port < 0 || m_options.port > 65535) {
    return fail(ErrorCode::kInvalidArgument, "--listen: port out of range");
  }
  if (m_options.port == 0) {
    m_port = m_server.bind_to_any_port(m_options.host);
  } else if (m_server.bind_to_port(m_options.host, m_options.port)) {
    m_port = m_options.port;
  } else {
    m_port = -1;
  }
  if (m_port <= 0) {
    return fail(ErrorCode::kUnavailable,
                "cannot listen on " + m_options.host + ":" + std::to_string(m_options.port) + " (in use?)");
  }
  m_listener = std::thread([this] { m_server.listen_after_bind(); });
  return {};
}

std::string DashboardImpl::explain(std::uint16_t netuid, std::uint16_t uid) {
  auto unavailable = [](const std::string& why) {
    return nlohmann::json({{"available", false}, {"reason", why}}).dump();
  };
  auto snap = m_collector->current();
  auto epoch = snap->lastEpoch.find(netuid);
  if (epoch == snap->lastEpoch.end()) return unavailable("no subnet " + std::to_string(netuid));
  std::string key = std::to_string(netuid) + "/" + std::to_string(uid) + "/" + std::to_string(epoch->second);
  std::lock_guard lock(m_explainMutex);
  if (auto it = m_explained.find(key); it != m_explained.end()) return it->second;
  if (!m_explainClient) {
    rpc::ClientOptions co;
    co.timeout = std::chrono::milliseconds(10'000);
    co.retries = 1;
    auto c = rpc::ChainClient::connect(m_options.chainUrl, co);
    if (!c) return unavailable("the chain does not answer: " + c.error().message());
    m_explainClient = std::move(*c);
  }
  auto e = explain::explainUid(*m_explainClient, netuid, uid, epoch->second);
  if (!e) {
    // Not cached: the chain may answer later (a restarted node, the epoch not stored yet).
    return unavailable(e.error().message());
  }
  auto j = explain::explanationJson(*e);
  j["available"] = true;
  j["text"] = explain::explanationText(*e);
  std::string text = j.dump();
  if (m_explained.size() >= 512) m_explained.clear();  // bounded; refilled on demand
  return m_explained[key] = text;
}

void DashboardImpl::routes() {
  const std::size_t workers = std::max<std::size_t>(m_options.workers, m_options.maxSseClients + 4);
  m_server.new_task_queue = [workers] { return new BoundedPool(workers); };
  // GET only: no request has a body worth reading, and slow or idle clients are cut off soon.
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which would let a second
  // dashboard bind the same port and share its connections instead of failing.
  m_server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  m_server.set_payload_max_length(0);
  m_server.set_read_timeout(5, 0);
  m_server.set_write_timeout(5, 0);
  m_server.set_keep_alive_timeout(5);
  m_server.set_keep_alive_max_count(100);
  m_server.set_default_headers(
      {{"X-Content-Type-Options", "nosniff"},
       {"Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"},
       {"Referrer-Policy", "no-referrer"}});
  m_server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
        res.status = 500;
        res.set_content("{\"error\":\"internal error\"}", "application/json");
      });

  for (const auto& [path, asset] : m_assets) {
    const auto* a = &asset;
    m_server.Get(path, [a](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-cache");
      res.set_content(a->first, a->second);
    });
  }
  m_server.Get("/api/overview", [this](const httplib::Request&, httplib::Response& res) {
    json(res, m_collector->current()->overview);
  });
  m_server.Get("/api/localnet", [this](const httplib::Request&, httplib::Response& res) {
    json(res, m_collector->current()->localnet);
  });
  m_server.Get(R"(/api/subnet/(\d{1,5}))", [this](const httplib::Request& req, httplib::Response& res) {
    std::uint64_t netuid = 0;
    auto snap = m_collector->current();
    auto it = parseNumber(req.matches[1], 0xffff, netuid)
                  ? snap->subnets.find(static_cast<std::uint16_t>(netuid))
                  : snap->subnets.end();
    if (it == snap->subnets.end()) {
      res.status = 404;
      json(res, "{\"error\":\"no such subnet\"}");
      return;
    }
    json(res, it->second);
  });
  m_server.Get(
      R"(/api/explain/(\d{1,5})/(\d{1,5}))", [this](const httplib::Request& req, httplib::Response& res) {
        std::uint64_t netuid = 0, uid = 0;
        if (!parseNumber(req.matches[1], 0xffff, netuid) || !parseNumber(req.matches[2], 0xffff, uid)) {
          res.status = 404;
          json(res, "{\"error\":\"no such uid\"}");
          return;
        }
        json(res, explain(static_cast<std::uint16_t>(netuid), static_cast<std::uint16_t>(uid)));
      });
  m_server.Get("/events", [this](const httplib::Request&, httplib::Response& res) {
    if (!m_hub.join()) {
      res.status = 503;
      res.set_header("Retry-After", "10");
      res.set_content("too many event streams open\n", "text/plain");
      return;
    }
    res.set_header("Cache-Control", "no-store");
    auto seq = std::make_shared<std::uint64_t>(m_hub.lastSeq());
    auto first = std::make_shared<bool>(true);
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, seq, first](std::size_t, httplib::DataSink& sink) {
          if (*first) {
            *first = false;
            // Browsers reconnect after this many ms if the stream breaks.
            std::string hello = "retry: 2000\n\n";
            return sink.write(hello.data(), hello.size());
          }
          auto events = m_hub.waitAfter(*seq, std::chrono::seconds(15));
          if (m_hub.closed() || !sink.is_writable()) return false;
          // A comment every 15 s of silence finds closed connections and keeps proxies open.
          std::string text = events ? events->second : std::string(": keep-alive\n\n");
          if (events) *seq = events->first;
          return sink.write(text.data(), text.size());
        },
        [this](bool) { m_hub.leave(); });
  });
  m_server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content("not found\n", "text/plain");
  });
}

}  // namespace

Result<fs::path> findAssets(const fs::path& explicitDir) {
  std::vector<fs::path> candidates;
  if (!explicitDir.empty()) {
    candidates.push_back(explicitDir);
  } else {
    if (const char* env = std::getenv("MERIT_DASHBOARD_ASSETS"); env != nullptr && env[0] != '\0') {
      candidates.emplace_back(env);
    }
    if (auto dir = exeDir(); !dir.empty())
      candidates.push_back(dir.parent_path() / "share/meritnet/dashboard");
    candidates.emplace_back(MERIT_DASHBOARD_INSTALL_DIR);
    candidates.emplace_back(MERIT_DASHBOARD_BUILD_DIR);
  }
  std::string tried;
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c / "index.html", ec)) return c;
    tried += (tried.empty() ? "" : ", ") + c.string();
  }
  return fail(ErrorCode::kNotFound, "dashboard assets (index.html) not found in " + tried);
}

Result<std::unique_ptr<Dashboard>> Dashboard::start(const Options& options) {
  auto d = std::make_unique<DashboardImpl>(options);
  MERIT_TRY(d->init());
  return std::unique_ptr<Dashboard>(std::move(d));
}

}  // namespace merit::cli::dashboard
