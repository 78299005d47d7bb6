// zmtp_flood: floods a real process over ZMTP the way a hostile peer would, while sampling that
// process's resident memory (VmRSS from /proc/PID/status), and reports whether the growth stayed
// under a bound. Run by zmtp_flood_test.sh.
//
//   zmtp_flood axon ENDPOINT PID SECONDS BOUND_MIB   4 connections stream 1 MiB frames marked
//                                                     "more" (reconnecting when cut off)
//   zmtp_flood feed ENDPOINT PID SECONDS BOUND_MIB   4 "subscribers" stream frames marked "more"
//                                                     and junk messages into the block feed
//   zmtp_flood miner PORT PID SECONDS BOUND_MIB      a fake miner on 127.0.0.1:PORT: completes
//                                                     the handshake as a ROUTER, then streams
//                                                     1 MiB frames marked "more" to whoever connects
//
// Stops early once the growth passes 1 GiB (so the machine survives code without limits).
// Prints one JSON line {idle_kib, peak_kib, growth_mib, sent_mib, cut_off}; exits 0 if the growth
// stayed under BOUND_MIB and the process is alive, 1 otherwise, 2 on usage errors.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <netinet/in.h>
#include <signal.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

#include "raw_zmtp.h"

namespace {

using merit::testing::RawZmtp;
using merit::testing::residentKiB;
using SteadyClock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
std::atomic<std::uint64_t> g_sent{0};
std::atomic<std::uint64_t> g_cutOff{0};

constexpr std::uint64_t kFrame = 1u << 20;

// One hostile client: handshake as `type`, then frames marked "more" until cut off; again.
void floodClient(int port, const char* type) {
  while (!g_stop) {
    RawZmtp p(port);
    if (!p.connected() || !p.nullHandshake(type)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const std::string f = RawZmtp::frame(std::string(kFrame, 'x'), true);
    while (!g_stop && p.write(f)) g_sent += f.size();
    ++g_cutOff;
  }
}

// The fake miner: every accepted connection gets a ROUTER handshake and then junk frames.
void fakeMiner(int port) {
  const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lfd, 16) != 0) {
    std::fprintf(stderr, "zmtp_flood: cannot listen on %d\n", port);
    std::exit(2);
  }
  const std::string hs = RawZmtp::greeting("NULL") + RawZmtp::command(RawZmtp::readyBody("ROUTER"));
  const std::string junk = RawZmtp::frame(std::string(kFrame, 'j'), true);
  std::vector<std::thread> conns;
  while (!g_stop) {
    pollfd p{lfd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept(lfd, nullptr, nullptr);
    if (fd < 0) continue;
    conns.emplace_back([fd, &hs, &junk] {
      timeval tv{0, 200'000};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      (void)!::send(fd, hs.data(), hs.size(), MSG_NOSIGNAL);
      while (!g_stop) {
        const ssize_t n = ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
        if (n > 0) g_sent += static_cast<std::uint64_t>(n);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
        char buf[4096];
        while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        }
      }
      ++g_cutOff;
      ::close(fd);
    });
  }
  for (auto& t : conns) t.join();
  ::close(lfd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: zmtp_flood axon|feed|miner ENDPOINT|PORT PID SECONDS BOUND_MIB\n");
    return 2;
  }
  const std::string mode = argv[1];
  const std::string target = argv[2];
  const long pid = std::strtol(argv[3], nullptr, 10);
  const int seconds = std::atoi(argv[4]);
  const long boundMiB = std::strtol(argv[5], nullptr, 10);
  const int port = mode == "miner" ? std::atoi(target.c_str()) : merit::testing::portOf(target);
  if (port <= 0 || pid <= 0 || seconds <= 0 || boundMiB <= 0 ||
      (mode != "axon" && mode != "feed" && mode != "miner")) {
    std::fprintf(stderr, "zmtp_flood: bad arguments\n");
    return 2;
  }
  const long idle = residentKiB(pid);
  if (idle < 0) {
    std::fprintf(stderr, "zmtp_flood: no process %ld\n", pid);
    return 2;
  }
  std::vector<std::thread> threads;
  if (mode == "miner") {
    threads.emplace_back(fakeMiner, port);
  } else {
    for (int i = 0; i < 4; ++i) threads.emplace_back(floodClient, port, mode == "axon" ? "DEALER" : "SUB");
  }
  long peak = idle;
  bool alive = true;
  const auto until = SteadyClock::now() + std::chrono::seconds(seconds);
  while (SteadyClock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const long now = residentKiB(pid);
    if (now < 0) {
      alive = false;
      break;
    }
    peak = std::max(peak, now);
    if (peak - idle > (1L << 20)) break;  // past 1 GiB: stop before the machine suffers
  }
  g_stop = true;
  for (auto& t : threads) t.join();
  const long growthMiB = (peak - idle) / 1024;
  std::printf(
      "{\"mode\":\"%s\",\"idle_kib\":%ld,\"peak_kib\":%ld,\"growth_mib\":%ld,\"bound_mib\":%ld,"
      "\"sent_mib\":%llu,\"cut_off\":%llu,\"alive\":%s}\n",
      mode.c_str(), idle, peak, growthMiB, boundMiB, static_cast<unsigned long long>(g_sent.load() >> 20),
      static_cast<unsigned long long>(g_cutOff.load()), alive ? "true" : "false");
  return alive && growthMiB < boundMiB ? 0 : 1;
}
