// bench_fanout: what a validator pays per miner in one query round, when the miners' axons are not
// on its own threads. The axons run in child processes (several per process, each axon with its own
// I/O thread and one worker), so the validator process's CPU time (getrusage, all its threads: the
// dendrite and ZeroMQ's I/O thread) counts its own work only: building, signing or MACing each
// request, and checking each response.
//
// For each target count (256 and 4096 by default) and each mode (signed, session) it runs one
// warm-up round (connections, session handshakes) and then --rounds rounds of one 256-byte echo
// request to every target, and reports per round: wall time, validator CPU time, CPU per target,
// and how many answers were OK. Next to it, in the same run, the CPU time of one request signature
// plus one response verification (the work signed mode cannot avoid per target), so the ratio is
// comparable across machines.
//
//   bench_fanout [--targets 256,4096] [--per-process 256] [--rounds 10] [--deadline-ms 12000]
//                [--io-uring 1|0] [--modes signed,session]
//
// --io-uring 0 makes the dendrite use plain send(2)/recv(2) instead of batching them through
// io_uring (DendriteConfig::batchSystemCalls), for a before/after in one run.
//
// Output: a Markdown table on stdout, one JSON object per measurement on stderr.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <signal.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>

#include "merit/net/axon.h"
#include "merit/net/dendrite.h"
#include "merit/wire/auth.h"

#include "wire_bench_support.h"

namespace {

using namespace merit;
using SteadyClock = std::chrono::steady_clock;

// The process's CPU time so far, in user mode and in the kernel (system calls, and the loopback
// TCP work the kernel does on the sender's time), seconds.
struct CpuTimes {
  double user = 0;
  double system = 0;
  double total() const { return user + system; }
};

CpuTimes cpuOfProcess() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return CpuTimes{seconds(u.ru_utime), seconds(u.ru_stime)};
}

double cpuSecondsOfThread() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// ---------------------------------------------------------------- the axon host (child)

// Starts `count` axons that admit `validator`, prints "axon ENDPOINT HOTKEY" per axon and "ready",
// then serves until its stdin closes.
int serveAxons(int count, const std::string& validatorHex) {
  auto validator = crypto::PublicKey::fromHex(validatorHex);
  if (!validator) {
    std::fprintf(stderr, "bench_fanout --serve: bad --allow key: %s\n", validator.error().message().c_str());
    return 2;
  }
  auto context = net::Context::create(net::Context::Options{1, 4 * count + 64});
  if (!context) return 1;
  auto clock = std::make_shared<SystemClock>();
  auto policy = std::make_shared<net::StaticCallerPolicy>();
  policy->allow(*validator, 1);
  net::AxonConfig config = bench::benchAxonConfig();
  config.workerThreads = 1;
  // Hundreds of idle axons in one process waking every 20 ms would keep this machine's cores busy
  // on their own (measured: about a fifth of a core per 256 axons), and take that from the round.
  config.idleWake = std::chrono::seconds(2);
  std::vector<std::unique_ptr<net::Axon>> axons;
  for (int i = 0; i < count; ++i) {
    auto key = crypto::PrivateKey::generate();
    const auto pub = key.publicKey();
    auto axon = net::Axon::start(config, crypto::AnyPrivateKey(std::move(key)), policy, {bench::echoModule()},
                                 clock, *context);
    if (!axon) {
      std::fprintf(stderr, "bench_fanout --serve: axon %d: %s\n", i, axon.error().message().c_str());
      return 1;
    }
    std::printf("axon %s %s\n", (*axon)->endpoint().c_str(), pub.toHex().c_str());
    axons.push_back(std::move(*axon));
  }
  std::printf("ready\n");
  std::fflush(stdout);
  char buf[64];
  while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
  }
  for (auto& a : axons) a->stop();
  return 0;
}

// ---------------------------------------------------------------- the validator (parent)

struct Host {
  pid_t pid = -1;
  int stdinFd = -1;  // closing it stops the host
};

// Starts one axon host process running this binary with --serve; appends its axons to `targets`.
Host startHost(const std::string& self, int count, const std::string& validatorHex,
               std::vector<net::AxonTarget>& targets) {
  int toChild[2];
  int fromChild[2];
  if (pipe(toChild) != 0 || pipe(fromChild) != 0)
    throw std::runtime_error("pipe: " + std::string(strerror(errno)));
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork: " + std::string(strerror(errno)));
  if (pid == 0) {
    dup2(toChild[0], STDIN_FILENO);
    dup2(fromChild[1], STDOUT_FILENO);
    close(toChild[0]);
    close(toChild[1]);
    close(fromChild[0]);
    close(fromChild[1]);
    const std::string n = std::to_string(count);
    execl(self.c_str(), self.c_str(), "--serve", n.c_str(), "--allow", validatorHex.c_str(), nullptr);
    _exit(127);
  }
  close(toChild[0]);
  close(fromChild[1]);
  FILE* in = fdopen(fromChild[0], "r");
  char* line = nullptr;
  std::size_t cap = 0;
  bool ready = false;
  while (getline(&line, &cap, in) > 0) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s == "ready") {
      ready = true;
      break;
    }
    const auto a = s.find(' ');
    const auto b = s.find(' ', a + 1);
    if (s.rfind("axon ", 0) != 0 || b == std::string::npos) continue;
    auto key = crypto::PublicKey::fromHex(s.substr(b + 1));
    if (!key) throw std::runtime_error("axon host printed a bad key: " + s);
    targets.push_back(net::AxonTarget{s.substr(a + 1, b - a - 1), *key, std::nullopt});
  }
  std::free(line);
  std::fclose(in);
  if (!ready) throw std::runtime_error("axon host " + std::to_string(pid) + " exited before it was ready");
  return Host{pid, toChild[1]};
}

void stopHosts(std::vector<Host>& hosts) {
  for (auto& h : hosts) close(h.stdinFd);
  for (auto& h : hosts) {
    int status = 0;
    waitpid(h.pid, &status, 0);
  }
  hosts.clear();
}

struct Row {
  int targets;
  std::string mode;
  double wallMs;        // median round
  double cpuMsRound;    // validator CPU per round (mean)
  double cpuUsTarget;   // validator CPU per target
  double userUsTarget;  // of which in user mode
  std::size_t okMin;    // fewest OK answers in a round
  double overFloor;     // cpuUsTarget / (sign + verify)
};

// CPU time of one request signature (hash included) plus one response verification, microseconds.
double signVerifyFloorUs() {
  auto caller = crypto::PrivateKey::generate();
  auto miner = crypto::PrivateKey::generate();
  const Bytes body(256, std::byte{0x61});
  wire::Response resp;
  resp.bodyHash = wire::hashBody(body);
  wire::signResponse(resp, caller.publicKey(), miner);
  const auto minerPub = miner.publicKey();
  constexpr int kIterations = 2000;
  const double t0 = cpuSecondsOfThread();
  int ok = 0;
  for (int i = 0; i < kIterations; ++i) {
    wire::Request r;
    r.header.module = "echo";
    r.header.caller = caller.publicKey();
    r.header.target = minerPub;
    r.header.bodyHash = wire::hashBody(body);
    wire::signRequest(r, caller);
    ok += wire::verifyResponseSignature(resp, r.header.caller, minerPub).has_value() ? 1 : 0;
  }
  const double t1 = cpuSecondsOfThread();
  if (ok != kIterations) throw std::runtime_error("sign + verify floor: a verification failed");
  return (t1 - t0) / kIterations * 1e6;
}

std::vector<Row> benchTargets(const std::string& self, int count, int perProcess, int rounds,
                              std::chrono::milliseconds deadline, double floorUs, bool ioUring,
                              const std::vector<net::AuthMode>& modes) {
  auto validator = crypto::PrivateKey::generate();
  const std::string validatorHex = validator.publicKey().toHex();
  std::vector<net::AxonTarget> targets;
  std::vector<Host> hosts;
  for (int started = 0; started < count; started += perProcess) {
    hosts.push_back(startHost(self, std::min(perProcess, count - started), validatorHex, targets));
  }
  auto context = net::Context::create(net::Context::Options{1, 4 * count + 64}).value();
  auto clock = std::make_shared<SystemClock>();
  const std::vector<net::OutboundRequest> request{{1, "echo", 1, Bytes(256, std::byte{0x61})}};
  std::vector<Row> rows;
  for (net::AuthMode mode : modes) {
    net::DendriteConfig dc;
    dc.mode = mode;
    dc.maxConnections = static_cast<std::size_t>(count) + 16;
    dc.batchSystemCalls = ioUring;
    auto d = net::Dendrite::create(
                 crypto::AnyPrivateKey(crypto::PrivateKey::fromBytes(validator.revealSecret()).value()), dc,
                 clock, context)
                 .value();
    (void)d->query(targets, request, SteadyClock::now() + std::chrono::seconds(60));  // connect (+ handshake)
    std::vector<double> walls;
    std::size_t okMin = static_cast<std::size_t>(count);
    const CpuTimes cpu0 = cpuOfProcess();
    for (int r = 0; r < rounds; ++r) {
      const auto t0 = SteadyClock::now();
      auto results = d->query(targets, request, t0 + deadline);
      walls.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
      std::size_t ok = 0;
      for (const auto& x : results) ok += x.status == wire::Status::kOk && x.authenticated;
      okMin = std::min(okMin, ok);
    }
    const CpuTimes cpu1 = cpuOfProcess();
    const double cpu = cpu1.total() - cpu0.total();
    const double perTarget = 1e6 / (static_cast<double>(rounds) * count);
    std::sort(walls.begin(), walls.end());
    Row row{count,
            mode == net::AuthMode::kSigned ? "signed" : "session",
            walls[walls.size() / 2],
            cpu / rounds * 1e3,
            cpu * perTarget,
            (cpu1.user - cpu0.user) * perTarget,
            okMin,
            0};
    row.overFloor = row.cpuUsTarget / floorUs;
    rows.push_back(row);
  }
  stopHosts(hosts);
  return rows;
}

std::vector<int> parseCounts(const std::string& list) {
  std::vector<int> out;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const auto comma = list.find(',', pos);
    const std::string item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    const int n = std::stoi(item);
    if (n < 1 || n > 16384) throw std::invalid_argument("--targets: each count must be in 1..16384");
    out.push_back(n);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string targetList = "256,4096";
  int perProcess = 256;
  int rounds = 10;
  int deadlineMs = 12'000;
  int serve = 0;
  int ioUring = 1;
  std::vector<std::string> modeNames{"signed", "session"};
  std::string allow;
  CLI::App app{
      "bench_fanout: the validator's own CPU time per target of a query round to axons in other processes "
      "(docs/PERFORMANCE.md, \"Fan-out\")"};
  app.add_option("--targets", targetList, "comma-separated target counts");
  app.add_option("--per-process", perProcess, "axons per host process")->check(CLI::Range(1, 1024));
  app.add_option("--rounds", rounds, "measured rounds per target count and mode")->check(CLI::Range(1, 1000));
  app.add_option("--deadline-ms", deadlineMs, "each round's deadline")->check(CLI::Range(100, 600'000));
  app.add_option("--io-uring", ioUring,
                 "1: the dendrite batches system calls through io_uring where it can; 0: plain")
      ->check(CLI::Range(0, 1));
  app.add_option("--modes", modeNames, "authentication modes to measure")
      ->delimiter(',')
      ->check(CLI::IsMember({"signed", "session"}));
  app.add_option("--serve", serve, "(internal) run as an axon host with this many axons")
      ->check(CLI::Range(1, 1024));
  app.add_option("--allow", allow, "(internal) the validator hotkey the axon host admits");
  CLI11_PARSE(app, argc, argv);
  if (serve > 0) return serveAxons(serve, allow);
  signal(SIGPIPE, SIG_IGN);
  try {
    const std::vector<int> counts = parseCounts(targetList);
    std::vector<net::AuthMode> modes;
    modes.reserve(modeNames.size());
    for (const auto& m : modeNames)
      modes.push_back(m == "signed" ? net::AuthMode::kSigned : net::AuthMode::kSession);
    // Each target is a socket (and a few descriptors) in the validator and in its host.
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    const std::string self = "/proc/self/exe";
    const double floorUs = signVerifyFloorUs();
    std::printf("sign + verify (one request signature, one response verification): %.1f µs of CPU\n\n",
                floorUs);
    std::fprintf(stderr, "{\"bench\":\"fanout_floor\",\"sign_verify_us\":%.2f}\n", floorUs);
    std::printf(
        "| targets | mode | round p50 ms | validator CPU ms/round | CPU µs/target | of which user | / "
        "(sign+verify) | OK (fewest in a round) |\n");
    std::printf("|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for (int count : counts) {
      for (const Row& r : benchTargets(self, count, perProcess, rounds, std::chrono::milliseconds(deadlineMs),
                                       floorUs, ioUring != 0, modes)) {
        std::printf("| %d | %s | %.1f | %.1f | %.1f | %.1f | %.2f | %zu / %d |\n", r.targets, r.mode.c_str(),
                    r.wallMs, r.cpuMsRound, r.cpuUsTarget, r.userUsTarget, r.overFloor, r.okMin, r.targets);
        std::fprintf(
            stderr,
            "{\"bench\":\"fanout\",\"targets\":%d,\"mode\":\"%s\",\"p50_ms\":%.2f,\"cpu_ms_round\":%.2f,"
            "\"cpu_us_target\":%.2f,\"user_us_target\":%.2f,\"over_floor\":%.3f,\"ok_min\":%zu}\n",
            r.targets, r.mode.c_str(), r.wallMs, r.cpuMsRound, r.cpuUsTarget, r.userUsTarget, r.overFloor,
            r.okMin);
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_fanout: %s\n", e.what());
    return 1;
  }
  return 0;
}
