// bench_front: closed-loop signed load on a miner's axon through a real Dendrite, in rounds of
// --concurrency requests to the `hash` subnet, counting every outcome. Used two ways:
//   - the benchmark of a miner serving in-process against a front with 1 and 2 remote workers
//     (tools/perf/bench_front.sh; docs/PERFORMANCE.md, "A miner that spans machines"): requests
//     per second and CPU time per request of each process given with --pid (utime + stime from
//     /proc/PID/stat, the counters getrusage reports for that process) and of this client;
//   - the load of tests/functional/front_test.sh, which kills a worker mid-load: --progress-after K
//     prints {"event":"progress"} once K requests are answered, and the report lists the
//     non-OK outcomes by status and message.
// Keys come from $MERIT_HOME: --wallet with hotkeys --caller (a registered validator) and
// --target (the miner's hotkey, public key only).
//
// Usage: bench_front --endpoint tcp://H:P --wallet W --caller K --target K [--netuid N]
//                    [--requests N | --seconds S] [--concurrency C] [--rounds R] [--timeout-ms T]
//                    [--progress-after K] [--pid NAME=PID]... [--label L]
// Prints one JSON line: {"bench":"front","label":...,"sent":...,"ok":...,"outcomes":{...},
//   "ok_per_s":...,"p50_ms":...,"p99_ms":...,"cpu_us_per_request":{"NAME":...,"client":...}}
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>

#include "merit/crypto/wallet.h"
#include "merit/net/dendrite.h"
#include "merit/util/clock.h"

namespace {

using namespace merit;
using Steady = std::chrono::steady_clock;

// utime + stime of a process in microseconds, from /proc/PID/stat (fields 14 and 15, in ticks).
long long cpuMicros(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return (utime + stime) * 1'000'000LL / sysconf(_SC_CLK_TCK);
}

long long selfCpuMicros() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1'000'000LL + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_front: signed load on a miner axon, outcomes and CPU per request"};
  std::string endpoint, wallet = "owner", caller = "validator", target = "miner", label = "run";
  int netuid = 1;
  std::size_t requests = 0, concurrency = 16, progressAfter = 0;
  double seconds = 0;
  std::uint32_t rounds = 1, timeoutMs = 10'000;
  std::vector<std::string> pids;
  app.add_option("--endpoint", endpoint, "the miner's axon")->required();
  app.add_option("--wallet", wallet);
  app.add_option("--caller", caller, "hotkey of a registered validator (signs the requests)");
  app.add_option("--target", target, "the miner's hotkey");
  app.add_option("--netuid", netuid);
  app.add_option("--requests", requests, "stop after this many requests");
  app.add_option("--seconds", seconds, "or after this long");
  app.add_option("--concurrency", concurrency, "requests in flight at once (one round)");
  app.add_option("--rounds", rounds, "hash rounds per request (the work per request)");
  app.add_option("--timeout-ms", timeoutMs, "deadline of each round");
  app.add_option("--progress-after", progressAfter, "print a progress event after this many answers");
  app.add_option("--pid", pids, "NAME=PID of a process whose CPU time is reported (repeatable)");
  app.add_option("--label", label);
  CLI11_PARSE(app, argc, argv);
  if (requests == 0 && seconds <= 0) requests = 1000;

  crypto::Wallet w(crypto::defaultMeritHome(), wallet);
  auto key = w.loadHotkeyAny(caller);  // either scheme
  auto miner = w.hotkeyPublicAny(target);
  if (!key || !miner) {
    std::fprintf(stderr, "bench_front: cannot load hotkeys %s/%s\n", caller.c_str(), target.c_str());
    return 2;
  }
  auto dendrite = net::Dendrite::create(std::move(*key), {}, std::make_shared<SystemClock>());
  if (!dendrite) {
    std::fprintf(stderr, "bench_front: %s\n", dendrite.error().message().c_str());
    return 2;
  }
  std::vector<net::AxonTarget> targets(concurrency, net::AxonTarget{endpoint, *miner, {}, false});
  std::vector<std::pair<std::string, int>> watched;
  for (const auto& p : pids) {
    auto eq = p.find('=');
    if (eq == std::string::npos) continue;
    watched.emplace_back(p.substr(0, eq), std::stoi(p.substr(eq + 1)));
  }

  std::vector<long long> cpu0;
  cpu0.reserve(watched.size());
  for (const auto& [name, pid] : watched) cpu0.push_back(cpuMicros(pid));
  const long long self0 = selfCpuMicros();
  std::size_t sent = 0, answered = 0, ok = 0;
  bool progressed = false;
  std::map<std::string, std::size_t> outcomes;  // "STATUS: message" -> count, non-OK only
  std::vector<double> latencies;
  std::uint64_t counter = 0;
  const auto t0 = Steady::now();
  const auto stopAt =
      t0 + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(seconds));
  while (requests ? sent < requests : Steady::now() < stopAt) {
    const std::size_t n = requests ? std::min(concurrency, requests - sent) : concurrency;
    std::vector<net::OutboundRequest> batch(n);
    for (auto& r : batch) {
      r.netuid = static_cast<std::uint16_t>(netuid);
      r.module = "hash";
      r.moduleVersion = 1;
      r.body.resize(4 + 16);
      for (int i = 0; i < 4; ++i) r.body[i] = std::byte(rounds >> (8 * i));
      ++counter;
      for (int i = 0; i < 8; ++i) r.body[4 + i] = std::byte(counter >> (8 * i));
    }
    auto results = (*dendrite)->query(std::span(targets.data(), n), batch,
                                      Steady::now() + std::chrono::milliseconds(timeoutMs));
    sent += n;
    for (const auto& r : results) {
      ++answered;
      if (r.status == wire::Status::kOk && r.authenticated) {
        ++ok;
        latencies.push_back(std::chrono::duration<double, std::milli>(r.latency).count());
      } else {
        // Marked when the miner did not sign (or MAC) it: a pre-authentication rejection or a
        // local outcome (TIMEOUT, UNAVAILABLE) rather than the miner's authenticated answer.
        ++outcomes[std::string(wire::statusName(r.status)) + ": " + r.message +
                   (r.authenticated ? "" : " [unauthenticated]")];
      }
    }
    if (progressAfter && !progressed && answered >= progressAfter) {
      progressed = true;
      std::printf("{\"event\":\"progress\",\"answered\":%zu}\n", answered);
      std::fflush(stdout);
    }
  }
  const double elapsed = std::chrono::duration<double>(Steady::now() - t0).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double q) {
    return latencies.empty()
               ? 0.0
               : latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(q * latencies.size()))];
  };
  std::string out = "{\"bench\":\"front\",\"label\":\"" + escape(label) +
                    "\",\"sent\":" + std::to_string(sent) + ",\"answered\":" + std::to_string(answered) +
                    ",\"ok\":" + std::to_string(ok) + ",\"outcomes\":{";
  bool first = true;
  for (const auto& [what, count] : outcomes) {
    out += (first ? "\"" : ",\"") + escape(what) + "\":" + std::to_string(count);
    first = false;
  }
  // The rate counts OK answers only: a rejection (e.g. the axon's per-address limit) is not service.
  char buf[256];
  std::snprintf(buf, sizeof buf, "},\"seconds\":%.3f,\"ok_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f",
                elapsed, static_cast<double>(ok) / elapsed, pct(0.5), pct(0.99));
  out += buf;
  out += ",\"cpu_us_per_request\":{";
  const double per = answered ? 1.0 / static_cast<double>(answered) : 0.0;
  for (std::size_t i = 0; i < watched.size(); ++i) {
    const long long now = cpuMicros(watched[i].second);
    std::snprintf(buf, sizeof buf, "\"%s\":%.1f,", escape(watched[i].first).c_str(),
                  now >= 0 && cpu0[i] >= 0 ? static_cast<double>(now - cpu0[i]) * per : -1.0);
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "\"client\":%.1f}}", static_cast<double>(selfCpuMicros() - self0) * per);
  out += buf;
  std::printf("%s\n", out.c_str());
  return 0;
}
