// bench_rpc: chain_getHead latency with N concurrent keep-alive clients against a real
// merit-chain (docs/PERFORMANCE.md, "Chain RPC").
//
//   bench_rpc --chain build/chain/merit-chain [--clients 512] [--seconds 10] [--interval-ms 100]
//   bench_rpc --url http://127.0.0.1:9933 ...
//
// With --chain it starts `merit-chain --dev` in a temporary directory (250 ms blocks) and stops it
// afterwards. Each client is a thread with one keep-alive connection that asks chain_getHead,
// waits for the answer, then sleeps --interval-ms (0 = ask again at once). A request not
// answered within --timeout-ms counts as an error and its connection is reopened. Prints one JSON
// line: requests, errors, requests per second, p50/p90/p99/max latency in ms.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "process.h"
#include "raw_http.h"

namespace {

using SteadyClock = std::chrono::steady_clock;

bool parseInt(const char* s, long& out) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0) return false;
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string chainBinary, url;
  long clients = 512, seconds = 10, intervalMs = 100, timeoutMs = 5000;
  CLI::App app{
      "bench_rpc: chain_getHead latency with many keep-alive clients (docs/PERFORMANCE.md, \"Chain RPC\")"};
  auto* chainOpt =
      app.add_option("--chain", chainBinary, "start this merit-chain binary")->check(CLI::ExistingFile);
  auto* urlOpt = app.add_option("--url", url, "or use a running chain at http://127.0.0.1:PORT");
  chainOpt->excludes(urlOpt);
  app.add_option("--clients", clients, "keep-alive clients")->check(CLI::Range(1L, 100000L));
  app.add_option("--seconds", seconds, "measurement length")->check(CLI::Range(1L, 86400L));
  app.add_option("--interval-ms", intervalMs, "pause between a client's calls")
      ->check(CLI::Range(0L, 60000L));
  app.add_option("--timeout-ms", timeoutMs, "per-call deadline")->check(CLI::Range(1L, 600000L));
  CLI11_PARSE(app, argc, argv);
  if (chainBinary.empty() == url.empty()) {
    std::fprintf(stderr, "bench_rpc: give exactly one of --chain and --url\n");
    return 2;
  }

  std::unique_ptr<merit::test::ChildProcess> chain;
  std::filesystem::path dir;
  if (!chainBinary.empty()) {
    char tmpl[] = "/tmp/merit_bench_rpc_XXXXXX";
    dir = ::mkdtemp(tmpl);
    chain = std::make_unique<merit::test::ChildProcess>(
        std::vector<std::string>{chainBinary, "--dev", "--data-dir", (dir / "data").string(), "--rpc-port",
                                 "0", "--feed", "tcp://127.0.0.1:0", "--block-time-ms", "250", "--log-level",
                                 "warn"},
        (dir / "chain.log").string());
    auto ready = chain->readyLine();
    if (!ready.is_object()) {
      std::fprintf(stderr, "merit-chain did not start; see %s\n", (dir / "chain.log").c_str());
      return 1;
    }
    url = ready["rpc"].get<std::string>();
  }
  auto colon = url.rfind(':');
  long port = 0;
  if (url.rfind("http://127.0.0.1:", 0) != 0 || !parseInt(url.c_str() + colon + 1, port)) {
    std::fprintf(stderr, "bench_rpc: --url must be http://127.0.0.1:PORT\n");
    return 2;
  }

  const std::string request =
      merit::test::RawConnection::post(R"({"jsonrpc":"2.0","id":1,"method":"chain_getHead","params":[]})");
  std::atomic<bool> stop{false};
  std::atomic<long> errors{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
  std::vector<std::thread> threads;
  auto started = SteadyClock::now();
  for (long c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      merit::test::RawConnection conn;
      auto& mine = latencies[static_cast<std::size_t>(c)];
      while (!stop.load()) {
        if (!conn.open() && !conn.connect(static_cast<int>(port))) {
          ++errors;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
        auto sent = SteadyClock::now();
        auto r = conn.send(request) ? conn.read(sent + std::chrono::milliseconds(timeoutMs), &stop)
                                    : merit::test::RawResponse{};
        if (stop.load()) break;
        if (r.ok && r.status == 200) {
          mine.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - sent).count());
        } else {
          ++errors;
          conn.close();
        }
        if (intervalMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(intervalMs));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(SteadyClock::now() - started).count();

  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    if (all.empty()) return 0.0;
    return all[std::min(all.size() - 1, static_cast<std::size_t>(p * static_cast<double>(all.size())))];
  };
  nlohmann::json out = {{"bench", "rpc_getHead"},
                        {"clients", clients},
                        {"seconds", seconds},
                        {"interval_ms", intervalMs},
                        {"requests", all.size()},
                        {"errors", errors.load()},
                        {"rps", static_cast<double>(all.size()) / elapsed},
                        {"p50_ms", pct(0.50)},
                        {"p90_ms", pct(0.90)},
                        {"p99_ms", pct(0.99)},
                        {"max_ms", all.empty() ? 0.0 : all.back()}};
  std::printf("%s\n", out.dump().c_str());
  chain.reset();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return 0;
}
