// bench_wire: what one validator⇄miner round trip costs, on loopback, in one run.
//
//   (a) raw     ZeroMQ DEALER/ROUTER echo, no envelope (the floor)
//   (b) crypto  the crypto of one signed round trip, alone: hash+sign request, verify it, hash+sign
//               response, verify it (no network)
//   (c) signed  the full protocol, signed mode (Axon + Dendrite)
//   (d) session the full protocol, session mode (one handshake, then keyed-BLAKE2b MACs)
//   (e) http    HTTP/1.1 + JSON (base64 body) with the same signing: cpp-httplib server with a
//               thread pool, keep-alive clients — how Bittensor's axon works
// for 256 B, 16 KiB and 1 MiB bodies and 1, 8 and 64 concurrent callers (closed loop, one thread
// each), then the time of one fan-out round to 256 axons that answer at once.
//
// Each of (b), (c) and (d) runs once with ecdsa hotkeys on both sides and once with sr25519
// ("-sr25519" in the mode). --schemes measures only what differs between the schemes, in one run:
// sign and verify of one canonical request alone (per scheme), then the crypto floor and a signed
// round trip of each scheme, interleaved (ecdsa, sr25519, ecdsa, sr25519, ...) so that load from
// elsewhere on the machine falls on both alike.
//
// Output: a Markdown table on stdout, one JSON object per measurement on stderr.
//   bench_wire [--seconds S] [--quick] [--schemes [--repeat N]]
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "merit/net/axon.h"
#include "merit/net/dendrite.h"
#include "merit/wire/auth.h"

#include "wire_bench_support.h"

namespace {

using namespace merit;
using bench::benchAxonConfig;
using bench::echoModule;
using SteadyClock = std::chrono::steady_clock;
using Nanos = std::chrono::nanoseconds;

// --io-uring: DendriteConfig::batchSystemCalls of every dendrite made here.
bool g_batchSystemCalls = true;

struct Cell {
  std::string mode;
  std::size_t body;
  int callers;
  double rate;  // round trips per second
  double p50us, p99us, p999us;
};

double percentile(std::vector<std::int64_t>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

// Runs `callers` threads, each calling `once()` (one round trip, returns false on failure) in a
// closed loop for `seconds`; returns rate and latency percentiles.
template <typename MakeCaller>
Cell runClosedLoop(const std::string& mode, std::size_t body, int callers, double seconds, MakeCaller make) {
  std::vector<std::vector<std::int64_t>> lat(static_cast<std::size_t>(callers));
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(callers));
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      auto once = make(c);
      once();  // warm-up: connect, handshake
      while (!go.load()) std::this_thread::yield();
      auto& mine = lat[static_cast<std::size_t>(c)];
      while (!stop.load(std::memory_order_relaxed)) {
        const auto t0 = SteadyClock::now();
        if (!once()) ++failures;
        mine.push_back(std::chrono::duration_cast<Nanos>(SteadyClock::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto start = SteadyClock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::vector<std::int64_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  Cell cell{mode, body, callers, static_cast<double>(all.size()) / elapsed, 0, 0, 0};
  cell.p50us = percentile(all, 0.50);
  cell.p99us = percentile(all, 0.99);
  cell.p999us = percentile(all, 0.999);
  if (failures.load() > 0)
    std::fprintf(stderr, "warning: %s body=%zu callers=%d: %llu failed round trips\n", mode.c_str(), body,
                 callers, static_cast<unsigned long long>(failures.load()));
  return cell;
}

// ---------------------------------------------------------------- (a) raw ZeroMQ

Cell benchRaw(std::size_t body, int callers, double seconds) {
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  std::atomic<bool> stop{false};
  std::thread server([&] {
    zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
    while (!stop) {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(20)) == 0) continue;
      zmq::message_t id;
      zmq::message_t payload;
      while (router.recv(id, zmq::recv_flags::dontwait)) {
        (void)router.recv(payload);
        router.send(id, zmq::send_flags::sndmore);
        router.send(payload, zmq::send_flags::none);
      }
    }
  });
  const Bytes data(body, std::byte{0x61});
  Cell c = runClosedLoop("raw", body, callers, seconds, [&](int) {
    auto sock = std::make_shared<zmq::socket_t>(ctx, zmq::socket_type::dealer);
    sock->set(zmq::sockopt::linger, 0);
    sock->connect(endpoint);
    return [sock, &data] {
      sock->send(zmq::buffer(data.data(), data.size()));
      zmq::message_t reply;
      return sock->recv(reply).has_value() && reply.size() == data.size();
    };
  });
  stop = true;
  server.join();
  return c;
}

// ---------------------------------------------------------------- (b) crypto floor

std::string withScheme(const char* mode, crypto::KeyScheme scheme) {
  return scheme == crypto::KeyScheme::kEcdsa ? std::string(mode) : std::string(mode) + "-sr25519";
}

Cell benchCrypto(std::size_t body, int callers, double seconds,
                 crypto::KeyScheme scheme = crypto::KeyScheme::kEcdsa) {
  auto miner = std::make_shared<crypto::AnyPrivateKey>(crypto::AnyPrivateKey::generate(scheme));
  const Bytes data(body, std::byte{0x61});
  return runClosedLoop(withScheme("crypto", scheme), body, callers, seconds, [&](int) {
    auto caller = std::make_shared<crypto::AnyPrivateKey>(crypto::AnyPrivateKey::generate(scheme));
    return [caller, miner, &data] {
      wire::Request r;
      r.header.module = "echo";
      r.header.caller = caller->publicKey();
      r.header.target = miner->publicKey();
      r.header.bodyHash = wire::hashBody(data);
      wire::signRequest(r, *caller);
      bool ok = wire::verifyRequestSignature(r).has_value() && wire::hashBody(data) == r.header.bodyHash;
      wire::Response resp;
      resp.bodyHash = wire::hashBody(data);
      wire::signResponse(resp, r.header.caller, *miner);
      ok = ok && wire::verifyResponseSignature(resp, r.header.caller, miner->publicKey()).has_value() &&
           wire::hashBody(data) == resp.bodyHash;
      return ok;
    };
  });
}

// ---------------------------------------------------------------- (c, d) the protocol

// A second owner of the same key (the dendrite holds its own).
crypto::AnyPrivateKey copyKey(const crypto::AnyPrivateKey& key) {
  if (const auto* k = key.ecdsa())
    return crypto::AnyPrivateKey(crypto::PrivateKey::fromBytes(k->revealSecret()).value());
  return crypto::AnyPrivateKey(
      crypto::sr25519::Keypair::fromSchnorrkelBytes(key.sr25519()->toSchnorrkelBytes().reveal()).value());
}

Cell benchProtocol(net::AuthMode mode, std::size_t body, int callers, double seconds,
                   crypto::KeyScheme scheme = crypto::KeyScheme::kEcdsa) {
  auto context = net::Context::create().value();
  auto clock = std::make_shared<SystemClock>();
  auto policy = std::make_shared<net::StaticCallerPolicy>();
  std::vector<crypto::AnyPrivateKey> keys;
  for (int c = 0; c < callers; ++c) {
    keys.push_back(crypto::AnyPrivateKey::generate(scheme));
    policy->allow(keys.back().publicKey(), 1);
  }
  auto minerKey = crypto::AnyPrivateKey::generate(scheme);
  const crypto::AnyPublicKey minerPub = minerKey.publicKey();
  auto axon = net::Axon::start(benchAxonConfig(), std::move(minerKey), policy, {echoModule()}, clock, context)
                  .value();
  const net::AxonTarget target{axon->endpoint(), minerPub, std::nullopt};
  const net::OutboundRequest request{1, "echo", 1, Bytes(body, std::byte{0x61})};
  Cell c =
      runClosedLoop(withScheme(mode == net::AuthMode::kSigned ? "signed" : "session", scheme), body, callers,
                    seconds, [&](int i) {
                      net::DendriteConfig config;
                      config.mode = mode;
                      config.batchSystemCalls = g_batchSystemCalls;
                      auto key = copyKey(keys[static_cast<std::size_t>(i)]);
                      std::shared_ptr<net::Dendrite> d =
                          net::Dendrite::create(std::move(key), config, clock, context).value();
                      return [d, &target, &request] {
                        auto r = d->query(std::span(&target, 1), std::span(&request, 1),
                                          SteadyClock::now() + std::chrono::seconds(10));
                        return r[0].status == wire::Status::kOk && r[0].body.size() == request.body.size();
                      };
                    });
  axon->stop();
  return c;
}

// ---------------------------------------------------------------- (e) HTTP + JSON baseline

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(ByteView in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (std::to_integer<unsigned>(in[i]) << 16) |
                       (std::to_integer<unsigned>(in[i + 1]) << 8) | std::to_integer<unsigned>(in[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < in.size()) {
    unsigned v = std::to_integer<unsigned>(in[i]) << 16;
    if (i + 1 < in.size()) v |= std::to_integer<unsigned>(in[i + 1]) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Bytes unbase64(std::string_view in) {
  static const auto table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kB64[i])] = i;
    return t;
  }();
  Bytes out;
  out.reserve(in.size() / 4 * 3);
  unsigned acc = 0;
  int bits = 0;
  for (char ch : in) {
    const int v = table[static_cast<unsigned char>(ch)];
    if (v < 0) break;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(std::byte((acc >> bits) & 0xff));
    }
  }
  return out;
}

nlohmann::json headerJson(const wire::RequestHeader& h) {
  return {{"netuid", h.netuid},
          {"module", h.module},
          {"module_version", h.moduleVersion},
          {"request_id", toHex(h.requestId)},
          {"caller", h.caller.toHex()},
          {"target", h.target.toHex()},
          {"timestamp_ms", h.timestampMs},
          {"nonce", h.nonce},
          {"timeout_ms", h.timeoutMs},
          {"body_hash", toHex(h.bodyHash)}};
}

template <std::size_t N>
ByteArray<N> fixedHex(const nlohmann::json& j) {
  return fromHexFixed<N>(j.get<std::string>()).value();
}

Cell benchHttp(std::size_t body, int callers, double seconds) {
  auto minerKey = std::make_shared<crypto::PrivateKey>(crypto::PrivateKey::generate());
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(8); };
  server.set_tcp_nodelay(true);
  server.Post("/echo", [minerKey](const httplib::Request& req, httplib::Response& res) {
    auto j = nlohmann::json::parse(req.body);
    const auto& hj = j["header"];
    wire::Request r;
    r.header.netuid = hj["netuid"].get<std::uint16_t>();
    r.header.module = hj["module"].get<std::string>();
    r.header.moduleVersion = hj["module_version"].get<std::uint32_t>();
    r.header.requestId = fixedHex<16>(hj["request_id"]);
    r.header.caller = wire::Hotkey::fromTagged(fromHex(hj["caller"].get<std::string>()).value()).value();
    r.header.target = wire::Hotkey::fromTagged(fromHex(hj["target"].get<std::string>()).value()).value();
    r.header.timestampMs = hj["timestamp_ms"].get<std::int64_t>();
    r.header.nonce = hj["nonce"].get<std::uint64_t>();
    r.header.timeoutMs = hj["timeout_ms"].get<std::uint32_t>();
    r.header.bodyHash = fixedHex<32>(hj["body_hash"]);
    r.body = unbase64(j["body"].get<std::string>());
    r.auth.kind = wire::Authenticator::Kind::kSignature;
    r.auth.signature =
        wire::SignatureBytes::fromTagged(fromHex(j["signature"].get<std::string>()).value()).value();
    if (!wire::verifyRequestSignature(r) || wire::hashBody(r.body) != r.header.bodyHash) {
      res.status = 401;
      return;
    }
    wire::Response resp;
    resp.requestId = r.header.requestId;
    resp.body = std::move(r.body);
    resp.bodyHash = wire::hashBody(resp.body);
    wire::signResponse(resp, r.header.caller, *minerKey);
    nlohmann::json out = {{"request_id", toHex(resp.requestId)},
                          {"status", 0},
                          {"body", base64(resp.body)},
                          {"body_hash", toHex(resp.bodyHash)},
                          {"signature", toHex(resp.auth.signature.tagged())}};
    res.set_content(out.dump(), "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serverThread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const Bytes data(body, std::byte{0x61});
  const crypto::PublicKey minerPub = minerKey->publicKey();
  Cell c = runClosedLoop("http", body, callers, seconds, [&](int) {
    auto client = std::make_shared<httplib::Client>("127.0.0.1", port);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    auto key = std::make_shared<crypto::PrivateKey>(crypto::PrivateKey::generate());
    auto nonce = std::make_shared<std::uint64_t>(0);
    return [client, key, nonce, &data, minerPub] {
      wire::Request r;
      r.header.netuid = 1;
      r.header.module = "echo";
      r.header.moduleVersion = 1;
      crypto::randomBytes(r.header.requestId);
      r.header.caller = key->publicKey();
      r.header.target = minerPub;
      r.header.timestampMs = SystemClock().nowUnixMs();
      r.header.nonce = ++*nonce;
      r.header.timeoutMs = 10000;
      r.header.bodyHash = wire::hashBody(data);
      wire::signRequest(r, *key);
      nlohmann::json j = {{"header", headerJson(r.header)},
                          {"body", base64(data)},
                          {"signature", toHex(r.auth.signature.tagged())}};
      auto res = client->Post("/echo", j.dump(), "application/json");
      if (!res || res->status != 200) return false;
      auto out = nlohmann::json::parse(res->body);
      wire::Response resp;
      resp.requestId = fixedHex<16>(out["request_id"]);
      resp.body = unbase64(out["body"].get<std::string>());
      resp.bodyHash = fixedHex<32>(out["body_hash"]);
      resp.auth.kind = wire::Authenticator::Kind::kSignature;
      resp.auth.signature =
          wire::SignatureBytes::fromTagged(fromHex(out["signature"].get<std::string>()).value()).value();
      return wire::verifyResponseSignature(resp, r.header.caller, minerPub).has_value() &&
             wire::hashBody(resp.body) == resp.bodyHash && resp.body.size() == data.size();
    };
  });
  server.stop();
  serverThread.join();
  return c;
}

// ---------------------------------------------------------------- fan-out

struct FanOut {
  std::string mode;
  double p50ms, p99ms, maxms;
  std::size_t ok;
};

std::vector<FanOut> benchFanOut(int rounds) {
  auto context = net::Context::create(net::Context::Options{2, 8192}).value();
  auto clock = std::make_shared<SystemClock>();
  auto policy = std::make_shared<net::StaticCallerPolicy>();
  auto validator = crypto::PrivateKey::generate();
  policy->allow(validator.publicKey(), 1);
  std::vector<std::unique_ptr<net::Axon>> axons;
  std::vector<net::AxonTarget> targets;
  net::AxonConfig config = benchAxonConfig();
  config.workerThreads = 1;
  for (int i = 0; i < 256; ++i) {
    auto key = crypto::PrivateKey::generate();
    const auto pub = key.publicKey();
    axons.push_back(net::Axon::start(config, crypto::AnyPrivateKey(std::move(key)), policy, {echoModule()},
                                     clock, context)
                        .value());
    targets.push_back(net::AxonTarget{axons.back()->endpoint(), pub, std::nullopt});
  }
  const std::vector<net::OutboundRequest> request{{1, "echo", 1, Bytes(256, std::byte{0x61})}};
  std::vector<FanOut> out;
  for (net::AuthMode mode : {net::AuthMode::kSigned, net::AuthMode::kSession}) {
    net::DendriteConfig dc;
    dc.mode = mode;
    dc.batchSystemCalls = g_batchSystemCalls;
    auto d = net::Dendrite::create(
                 crypto::AnyPrivateKey(crypto::PrivateKey::fromBytes(validator.revealSecret()).value()), dc,
                 clock, context)
                 .value();
    (void)d->query(targets, request, SteadyClock::now() + std::chrono::seconds(30));  // connect (+ handshake)
    std::vector<std::int64_t> times;
    std::size_t okTotal = 0;
    for (int r = 0; r < rounds; ++r) {
      const auto t0 = SteadyClock::now();
      auto results = d->query(targets, request, SteadyClock::now() + std::chrono::seconds(10));
      times.push_back(std::chrono::duration_cast<Nanos>(SteadyClock::now() - t0).count());
      for (auto& x : results) okTotal += x.status == wire::Status::kOk;
    }
    std::vector<std::int64_t> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    out.push_back({mode == net::AuthMode::kSigned ? "signed" : "session", percentile(times, 0.5) / 1000.0,
                   percentile(times, 0.99) / 1000.0, static_cast<double>(sorted.back()) / 1e6,
                   okTotal / static_cast<std::size_t>(rounds)});
  }
  for (auto& a : axons) a->stop();
  return out;
}

// ---------------------------------------------------------------- scheme primitives

struct Primitive {
  std::string scheme;
  double signUs, verifyUs;  // per canonical request (about 200 bytes), one thread
};

// Sign and verify (wire::verifyRequestSignature: parse the caller's key, then verify) of one
// canonical request, `iterations` times each.
Primitive benchPrimitive(crypto::KeyScheme scheme, int iterations) {
  const auto caller = crypto::AnyPrivateKey::generate(scheme);
  const auto miner = crypto::AnyPrivateKey::generate(scheme);
  wire::Request r;
  r.header.module = "echo";
  r.header.caller = caller.publicKey();
  r.header.target = miner.publicKey();
  r.header.bodyHash = wire::hashBody(asBytes("x"));
  const auto t0 = SteadyClock::now();
  for (int i = 0; i < iterations; ++i) {
    r.header.nonce = static_cast<std::uint64_t>(i);
    wire::signRequest(r, caller);
  }
  const auto t1 = SteadyClock::now();
  int ok = 0;
  for (int i = 0; i < iterations; ++i) ok += wire::verifyRequestSignature(r).has_value() ? 1 : 0;
  const auto t2 = SteadyClock::now();
  if (ok != iterations) throw std::runtime_error("a verification failed");
  const auto us = [iterations](auto d) {
    return std::chrono::duration<double, std::micro>(d).count() / iterations;
  };
  return {std::string(crypto::schemeName(scheme)), us(t1 - t0), us(t2 - t1)};
}

void printCell(const Cell& c) {
  std::printf("| %s | %zu | %d | %.0f | %.1f | %.1f | %.1f |\n", c.mode.c_str(), c.body, c.callers, c.rate,
              c.p50us, c.p99us, c.p999us);
  std::fprintf(
      stderr,
      "{\"bench\":\"wire\",\"mode\":\"%s\",\"body\":%zu,\"callers\":%d,\"rate\":%.1f,\"p50_us\":%.1f,"
      "\"p99_us\":%.1f,\"p999_us\":%.1f}\n",
      c.mode.c_str(), c.body, c.callers, c.rate, c.p50us, c.p99us, c.p999us);
  std::fflush(stdout);
}

// The --schemes run: primitives, then crypto floor and signed round trip (256 B, 1 caller) of
// each scheme, interleaved `repeat` times.
void benchSchemes(int seconds, int repeat) {
  using crypto::KeyScheme;
  std::printf("| scheme | sign µs | verify µs |\n|---|---:|---:|\n");
  for (int r = 0; r < repeat; ++r) {
    for (KeyScheme s : {KeyScheme::kEcdsa, KeyScheme::kSr25519}) {
      const Primitive p = benchPrimitive(s, 2000);
      std::printf("| %s | %.1f | %.1f |\n", p.scheme.c_str(), p.signUs, p.verifyUs);
      std::fprintf(stderr,
                   "{\"bench\":\"wire_scheme\",\"scheme\":\"%s\",\"sign_us\":%.2f,\"verify_us\":%.2f}\n",
                   p.scheme.c_str(), p.signUs, p.verifyUs);
    }
  }
  std::printf("\n| mode | body | callers | round trips/s | p50 µs | p99 µs | p99.9 µs |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (int r = 0; r < repeat; ++r) {
    for (KeyScheme s : {KeyScheme::kEcdsa, KeyScheme::kSr25519}) {
      printCell(benchCrypto(256, 1, seconds, s));
      printCell(benchProtocol(net::AuthMode::kSigned, 256, 1, seconds, s));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 1;
  bool quick = false;
  bool schemes = false;
  int repeat = 3;
  CLI::App app{
      "bench_wire: round trips/s and latency of the wire protocol against its floors "
      "(docs/PERFORMANCE.md, \"Wire protocol\")"};
  app.add_option("--seconds", seconds, "seconds per cell")->check(CLI::Range(1, 3600));
  app.add_flag("--quick", quick, "256-byte bodies and 1 or 8 callers only");
  app.add_flag("--schemes", schemes,
               "only the ecdsa/sr25519 comparison (primitives, crypto floor, signed round trip)");
  app.add_option("--io-uring", g_batchSystemCalls,
                 "1: dendrites batch system calls through io_uring where they can (the default); 0: plain");
  app.add_option("--repeat", repeat, "rounds of the interleaved --schemes comparison")
      ->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  try {
    if (schemes) {
      benchSchemes(seconds, repeat);
      return 0;
    }
    const std::vector<std::size_t> bodies =
        quick ? std::vector<std::size_t>{256} : std::vector<std::size_t>{256, 16384, 1u << 20};
    const std::vector<int> callerCounts = quick ? std::vector<int>{1, 8} : std::vector<int>{1, 8, 64};
    std::printf("| mode | body | callers | round trips/s | p50 µs | p99 µs | p99.9 µs |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (std::size_t body : bodies) {
      for (int callers : callerCounts) {
        const auto sr = crypto::KeyScheme::kSr25519;
        std::vector<Cell> cells{benchRaw(body, callers, seconds),
                                benchCrypto(body, callers, seconds),
                                benchCrypto(body, callers, seconds, sr),
                                benchProtocol(net::AuthMode::kSigned, body, callers, seconds),
                                benchProtocol(net::AuthMode::kSigned, body, callers, seconds, sr),
                                benchProtocol(net::AuthMode::kSession, body, callers, seconds),
                                benchProtocol(net::AuthMode::kSession, body, callers, seconds, sr),
                                benchHttp(body, callers, seconds)};
        for (const Cell& c : cells) printCell(c);
      }
    }
    std::printf(
        "\n| fan-out to 256 axons | p50 ms | p99 ms | max ms | OK per round |\n|---|---:|---:|---:|---:|\n");
    for (const FanOut& f : benchFanOut(quick ? 5 : 30)) {
      std::printf("| %s | %.2f | %.2f | %.2f | %zu |\n", f.mode.c_str(), f.p50ms, f.p99ms, f.maxms, f.ok);
      std::fprintf(stderr,
                   "{\"bench\":\"wire_fanout\",\"mode\":\"%s\",\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"ok\":%zu}\n",
                   f.mode.c_str(), f.p50ms, f.p99ms, f.ok);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_wire: %s\n", e.what());
    return 1;
  }
  return 0;
}
