// soak_load: every attack of docs/OPERATIONS.md ("What meritnet withstands") at once, next to
// honest traffic, against a running dev chain, miner and validator; then a report of what the
// honest side saw. Started by tools/perf/soak.sh, which brings the network up first.
//
//   soak_load --chain URL --netuid N --miner-uid U --junk-uid J --seconds S
//             --pid chain=PID --pid miner=PID --pid validator=PID [--validator-metrics URL]
//
// Keys come from $MERIT_HOME: wallet "owner" with hotkeys "validator" (the validator's: only
// its public key is used to forge, and one genuine session handshake is made with it to be
// replayed), "payer" (funded: honest transfers) and "junk" (registered: serves the junk axon).
//
// Attacks, each running for the whole soak:
//   pool      100 fresh unfunded keys and the payer's own future nonces fill the mempool;
//   rpc       8 slow-loris connections, 8 connections looping batches of 100
//             chain_waitForBlock(2^64-1, 120000), 16 connections looping metagraph_get with
//             weights and bonds (32 hostile connections);
//   frames    an unauthenticated peer streams 1 MiB frames marked "more" into the miner's axon
//             over raw TCP speaking ZMTP (a new connection after every 384 MiB, so an unbounded
//             receiver holds at most that much per connection and the machine survives);
//   feed      the same into the chain's block feed from an XSUB socket;
//   forge     requests "from" the validator's hotkey with forged signatures, as fast as it can
//             (from 127.0.0.3: another host than the validator);
//   replay    one genuine session handshake of the validator's, replayed 50 times a second
//             (from 127.0.0.4);
//   junk      a registered miner whose axon answers every query with a stream of junk messages.
// Honest side, measured: chain_getHead every 100 ms (latency; late = over 1 s), one transfer
// every 5 s (blocks until included), blocks produced against expected, the validator's
// query outcomes and its score for the honest miner (from its /metrics), and the resident
// memory of each process (VmRSS every 250 ms).
#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "merit/crypto/keys.h"
#include "merit/crypto/ss58.h"
#include "merit/crypto/wallet.h"
#include "merit/rpc/client.h"
#include "merit/rpc/metagraph.h"
#include "merit/tx/extrinsic.h"
#include "merit/util/bytes.h"
#include "merit/util/clock.h"
#include "merit/wire/auth.h"
#include "merit/wire/codec.h"

namespace {

using namespace merit;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "soak_load: %s\n", why.c_str());
  std::exit(2);
}

template <typename T>
T unwrap(Result<T> r, const std::string& what) {
  if (!r) die(what + ": " + r.error().message());
  return std::move(*r);
}

std::uint64_t parseU64(const std::string& s, const std::string& what) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) die(what + ": not a number: " + s);
  return v;
}

struct Options {
  std::string chainUrl;
  std::uint16_t netuid = 1;
  std::uint16_t minerUid = 1;
  std::uint16_t junkUid = 0;
  bool junk = false;
  std::uint64_t seconds = 60;
  std::vector<std::pair<std::string, int>> pids;
  std::string validatorMetrics;
  bool check = false;  // exit 1 unless the honest side was served (see Soak::verdict)
};

Options parseArgs(int argc, char** argv) {
  Options o;
  std::vector<std::string> pids;
  CLI::App app{"soak_load: every attack at once next to honest traffic (tools/perf/soak.sh)"};
  app.add_option("--chain", o.chainUrl, "the chain's RPC URL")->required();
  app.add_option("--netuid", o.netuid, "the subnet under attack");
  app.add_option("--miner-uid", o.minerUid, "the honest miner's uid");
  auto* junk = app.add_option("--junk-uid", o.junkUid, "a registered junk miner's uid");
  app.add_option("--seconds", o.seconds, "soak length")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{86400}));
  app.add_option("--validator-metrics", o.validatorMetrics, "the validator's /metrics URL");
  app.add_flag("--check", o.check, "exit 1 unless the honest side was served");
  app.add_option("--pid", pids, "NAME=PID of a process whose memory and CPU are reported (repeatable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  o.junk = junk->count() > 0;
  for (const std::string& v : pids) {
    const auto eq = v.find('=');
    if (eq == std::string::npos) die("--pid NAME=PID, got " + v);
    o.pids.emplace_back(v.substr(0, eq), static_cast<int>(parseU64(v.substr(eq + 1), "--pid")));
  }
  return o;
}

// host and port of an http://host:port URL.
std::pair<std::string, int> hostPort(const std::string& url) {
  auto start = url.find("//");
  auto rest = url.substr(start == std::string::npos ? 0 : start + 2);
  rest = rest.substr(0, rest.find('/'));
  auto colon = rest.rfind(':');
  if (colon == std::string::npos) return {rest, 80};
  return {rest.substr(0, colon), static_cast<int>(parseU64(rest.substr(colon + 1), "port"))};
}

std::string rpcBody(const std::string& method, const json& params) {
  return json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}}.dump();
}

// Counters shared by the attack threads.
struct Tally {
  std::mutex mutex;
  std::map<std::string, std::uint64_t> counts;
  void add(const std::string& key, std::uint64_t n = 1) {
    std::lock_guard lock(mutex);
    counts[key] += n;
  }
};

std::uint64_t rssKiB(int pid, const char* field = "VmRSS:") {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) {
      std::string digits;
      for (char c : line)
        if (c >= '0' && c <= '9') digits += c;
      return digits.empty() ? 0 : parseU64(digits, "VmRSS");
    }
  }
  return 0;
}

bool alive(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(f, s);
  auto close = s.rfind(')');
  return f.good() && close != std::string::npos && close + 2 < s.size() && s[close + 2] != 'Z';
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(std::llround(p * static_cast<double>(v.size() - 1)));
  return v[std::min(i, v.size() - 1)];
}

// A raw TCP connection from a chosen loopback source address (127.0.0.2.. for attackers, so a
// server's per-address limits see them as other hosts).
int tcpConnect(const std::string& host, int port, const std::string& source) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (!source.empty()) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &src.sin_addr);
    (void)::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src);
  }
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &dst.sin_addr);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One HTTP POST on a raw socket with a source address; returns the HTTP status or -1.
int rawPost(const std::string& host, int port, const std::string& source, const std::string& body,
            int timeoutSeconds) {
  int fd = tcpConnect(host, port, source);
  if (fd < 0) return -1;
  timeval tv{timeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req = "POST / HTTP/1.1\r\nHost: " + host +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n" + body;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  char buf[4096];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  int status = -1;
  if (n > 12 && std::strncmp(buf, "HTTP/1.", 7) == 0) status = std::atoi(buf + 9);
  while (n > 0) n = ::recv(fd, buf, sizeof buf, 0);  // drain to the end (bounded by the timeout)
  ::close(fd);
  return status;
}

class Soak {
 public:
  explicit Soak(Options o) : m_o(std::move(o)) {
    std::tie(m_host, m_port) = hostPort(m_o.chainUrl);
    m_client = unwrap(rpc::ChainClient::connect(m_o.chainUrl), "connect to " + m_o.chainUrl);
    auto info = unwrap(m_client->info(), "system_info");
    m_blockTimeMs = info.blockTime.count() > 0 ? static_cast<std::uint64_t>(info.blockTime.count()) : 1000;
    m_feed = info.feedEndpoint;
    auto mg = unwrap(rpc::fetchMetagraph(*m_client, m_o.netuid), "metagraph");
    if (m_o.minerUid >= mg.neurons.size() || !mg.neurons[m_o.minerUid].axon)
      die("the miner uid serves no axon");
    const auto& miner = mg.neurons[m_o.minerUid];
    m_minerEndpoint = "tcp://" + miner.axon->ip + ":" + std::to_string(miner.axon->port);
    m_minerHotkey = miner.hotkeyPublicKey.value();  // either scheme
    crypto::Wallet wallet(crypto::defaultMeritHome(), "owner");
    m_validator = unwrap(wallet.loadHotkey("validator"), "load hotkey validator");
    m_payer = unwrap(wallet.loadHotkey("payer"), "load hotkey payer");
    if (m_o.junk) m_junkKey = unwrap(wallet.loadHotkey("junk"), "load hotkey junk");
  }

  int run();
  bool verdict(const json& report) const;

 private:
  bool running() const { return m_running.load(std::memory_order_relaxed); }

  void poolAttack();
  void slowLoris(int index);
  void longPollBatches(int index);
  void metagraphLoop(int index);
  void frameFlood(const std::string& endpoint, const char* socketType, const char* name);
  void forgeFlood();
  void replayFlood();
  void junkAxon();
  void honestHead();
  void honestTransfers();
  void sampleMemory();

  Options m_o;
  std::string m_host;
  int m_port = 0;
  std::unique_ptr<rpc::ChainClient> m_client;
  std::uint64_t m_blockTimeMs = 1000;
  std::string m_feed;
  std::string m_minerEndpoint;
  wire::Hotkey m_minerHotkey{};
  std::optional<crypto::PrivateKey> m_validator, m_payer, m_junkKey;
  zmq::context_t m_zmq;
  std::atomic<bool> m_running{true};
  Tally m_tally;

  std::mutex m_honestMutex;
  std::vector<double> m_headLatencyMs;
  std::uint64_t m_lastHead = 0;
  Steady::time_point m_lastHeadChange{};
  double m_maxHeadGapMs = 0;  // longest time the honest client saw no new block
  std::uint64_t m_headFailures = 0;
  std::vector<double> m_transferBlocks;  // blocks from submission to inclusion
  std::uint64_t m_transferFailures = 0;
  std::map<std::string, std::uint64_t> m_peakRss, m_idleRss;
  std::map<std::string, bool> m_crashed;
};

void Soak::poolAttack() {
  // Fresh keys have no funds: every extrinsic they sign can never pay. Future nonces 1..256
  // (never 0) so that an unprotected pool keeps them waiting for ever.
  std::vector<crypto::PrivateKey> keys;
  keys.reserve(100);
  for (int i = 0; i < 100; ++i) keys.push_back(crypto::PrivateKey::generate());
  httplib::Client http(m_host, m_port);
  http.set_read_timeout(std::chrono::seconds(5));
  auto dest = crypto::PrivateKey::generate().publicKey().accountId();
  std::uint64_t round = 0;
  while (running()) {
    auto head = m_client->headNumber();
    std::uint64_t until = (head ? *head : 0) + 1'000'000;
    for (std::size_t k = 0; k < keys.size() && running(); ++k) {
      json batch = json::array();
      for (std::uint64_t n = 1 + (round % 16) * 16; n <= 16 + (round % 16) * 16; ++n) {
        auto xt =
            tx::signExtrinsic(keys[k], m_client->genesisHash(), n, until, tx::Call{tx::Transfer{dest, 1}});
        batch.push_back(json{{"jsonrpc", "2.0"},
                             {"id", n},
                             {"method", "author_submitExtrinsic"},
                             {"params", json::array({"0x" + toHex(tx::encodeExtrinsic(xt))})}});
      }
      auto res = http.Post("/", batch.dump(), "application/json");
      if (!res) {
        m_tally.add("pool: transport error");
        continue;
      }
      auto parsed = json::parse(res->body, nullptr, false);
      if (!parsed.is_array()) {
        m_tally.add("pool: refused whole batch");
        continue;
      }
      for (const auto& r : parsed) {
        if (r.contains("result"))
          m_tally.add("pool: accepted");
        else
          m_tally.add("pool: refused " +
                      r["error"].value("data", json::object()).value("name", std::string("?")));
      }
    }
    ++round;
  }
}

void Soak::slowLoris(int index) {
  const std::string source = "127.0.0." + std::to_string(10 + index);
  while (running()) {
    int fd = tcpConnect(m_host, m_port, source);
    if (fd < 0) {
      m_tally.add("slowloris: connect refused");
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    std::string head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n";
    bool open = ::send(fd, head.data(), head.size(), MSG_NOSIGNAL) > 0;
    auto opened = Steady::now();
    while (open && running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1000));
      open = ::send(fd, "X", 1, MSG_NOSIGNAL) == 1;
      char probe;
      ssize_t r = ::recv(fd, &probe, 1, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) open = false;
    }
    double held = std::chrono::duration<double>(Steady::now() - opened).count();
    m_tally.add(held < 30 ? "slowloris: cut off by the server within 30 s" : "slowloris: held 30 s or more");
    ::close(fd);
  }
}

void Soak::longPollBatches(int index) {
  const std::string source = "127.0.0." + std::to_string(20 + index);
  json batch = json::array();
  for (int i = 0; i < 100; ++i) {
    batch.push_back(json{{"jsonrpc", "2.0"},
                         {"id", i},
                         {"method", "chain_waitForBlock"},
                         {"params", json::array({std::numeric_limits<std::uint64_t>::max(), 120000})}});
  }
  std::string body = batch.dump();
  while (running()) {
    int status = rawPost(m_host, m_port, source, body, 5);
    m_tally.add(status < 0 ? "longpoll: no answer within 5 s"
                           : "longpoll: answered " + std::to_string(status));
  }
}

void Soak::metagraphLoop(int index) {
  const std::string source = "127.0.0." + std::to_string(30 + index);
  std::string body = rpcBody("metagraph_get", json::array({m_o.netuid, true, true}));
  while (running()) {
    int status = rawPost(m_host, m_port, source, body, 5);
    m_tally.add(status < 0 ? "metagraph: no answer within 5 s"
                           : "metagraph: answered " + std::to_string(status));
  }
}

// ZMTP 3.0 as a hostile peer speaks it on a raw TCP connection: the greeting (NULL mechanism),
// READY with our socket type, then frames. (A libzmq socket cannot do this attack: it never
// transmits the frames of a message before its last one.)
void Soak::frameFlood(const std::string& endpoint, const char* socketType, const char* name) {
  auto colon = endpoint.rfind(':');
  auto host = endpoint.substr(6, colon - 6);  // after "tcp://"
  int port = static_cast<int>(parseU64(endpoint.substr(colon + 1), "port"));
  std::string greeting(64, '\0');
  greeting[0] = '\xff';
  greeting[9] = '\x7f';
  greeting[10] = 3;
  greeting.replace(12, 4, "NULL");
  std::string ready = std::string("\x05READY") + '\x0b' + "Socket-Type" + std::string(3, '\0') +
                      static_cast<char>(std::strlen(socketType)) + socketType;
  std::string readyCmd = std::string(1, '\x04') + static_cast<char>(ready.size()) + ready;
  const std::size_t frameBytes = 1u << 20;
  std::string frameHead(9, '\0');
  frameHead[0] = 0x03;  // MORE | LONG: the message never ends
  for (int i = 0; i < 8; ++i)
    frameHead[1 + i] = static_cast<char>((static_cast<std::uint64_t>(frameBytes) >> (56 - 8 * i)) & 0xff);
  std::string payload(frameBytes, 'B');
  const std::size_t perConnection = 384;  // MiB before a new connection
  while (running()) {
    int fd = tcpConnect(host, port, "127.0.0.2");
    if (fd < 0) {
      m_tally.add(std::string(name) + ": connect refused");
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    m_tally.add(std::string(name) + ": connections");
    bool open =
        ::send(fd, greeting.data(), greeting.size(), MSG_NOSIGNAL) == 64 &&
        ::send(fd, readyCmd.data(), readyCmd.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(readyCmd.size());
    std::size_t sent = 0;
    while (open && running() && sent < perConnection) {
      open = ::send(fd, frameHead.data(), frameHead.size(), MSG_NOSIGNAL) == 9 &&
             ::send(fd, payload.data(), payload.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(payload.size());
      if (open) ++sent;
      char sink[4096];
      while (::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
      }
    }
    m_tally.add(std::string(name) + ": MiB sent marked more", sent);
    if (!open) m_tally.add(std::string(name) + ": connections cut by the peer");
    ::close(fd);
  }
}

// A libzmq endpoint to the miner from another loopback source address: the attacker is another
// host than the validator, as it would be on a real network.
std::string fromAddress(const std::string& endpoint, const std::string& source) {
  return "tcp://" + source + ":0;" + endpoint.substr(6);
}

void Soak::forgeFlood() {
  zmq::socket_t s(m_zmq, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::sndhwm, 1000);
  s.connect(fromAddress(m_minerEndpoint, "127.0.0.3"));
  auto stranger = crypto::PrivateKey::generate();
  SystemClock clock;
  std::uint64_t nonce = static_cast<std::uint64_t>(clock.nowUnixMs()) * 1'000'000u + 500'000'000'000u;
  while (running()) {
    wire::Request r;
    r.header.netuid = m_o.netuid;
    r.header.module = "hash";
    r.header.moduleVersion = 1;
    crypto::randomBytes(r.header.requestId);
    r.header.caller = stranger.publicKey();
    r.header.target = m_minerHotkey;
    r.header.timestampMs = clock.nowUnixMs();
    r.header.nonce = ++nonce;
    r.header.timeoutMs = 5000;
    r.body = Bytes(32, std::byte{1});
    r.header.bodyHash = wire::hashBody(r.body);
    wire::signRequest(r, stranger);
    r.header.caller = m_validator->publicKey();  // now claims to be the validator: a forgery
    Bytes f = wire::encode(wire::Message{r});
    try {
      (void)s.send(zmq::buffer(r.header.requestId.data(), r.header.requestId.size()),
                   zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      (void)s.send(zmq::buffer(f.data(), f.size()), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
    }
    m_tally.add("forge: requests sent");
    for (;;) {  // discard answers
      zmq::message_t m;
      if (!s.recv(m, zmq::recv_flags::dontwait)) break;
    }
  }
}

void Soak::replayFlood() {
  zmq::socket_t s(m_zmq, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  s.connect(fromAddress(m_minerEndpoint, "127.0.0.4"));
  SystemClock clock;
  wire::SessionInit init;
  init.caller = m_validator->publicKey();
  init.target = m_minerHotkey;
  init.timestampMs = clock.nowUnixMs();
  crypto::randomBytes(init.clientNonce);
  const wire::EphemeralKeyPair ephemeral = wire::EphemeralKeyPair::generate();
  init.clientEphemeral = ephemeral.publicKey;
  wire::signSessionInit(init, *m_validator);
  Bytes frame = wire::encode(wire::Message{init});
  // The first signed reply to each handshake answers its genuine use (the "capture"); every
  // further one would be a replay signed for.
  std::uint64_t accepted = 0, refused = 0, genuine = 0;
  auto made = Steady::now();
  while (running()) {
    if (Steady::now() - made > std::chrono::seconds(8)) {  // stay inside the skew window: a fresh capture
      init.timestampMs = clock.nowUnixMs();
      crypto::randomBytes(init.clientNonce);
      wire::signSessionInit(init, *m_validator);
      frame = wire::encode(wire::Message{init});
      made = Steady::now();
      m_tally.add("replay: genuine handshakes captured");
      genuine = 0;
    }
    wire::RequestId corr{};
    crypto::randomBytes(corr);
    (void)s.send(zmq::buffer(corr.data(), corr.size()), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    (void)s.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::dontwait);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (;;) {
      zmq::message_t c, m;
      if (!s.recv(c, zmq::recv_flags::dontwait)) break;
      if (!c.more() || !s.recv(m, zmq::recv_flags::none)) continue;
      auto d = wire::decode(ByteView(static_cast<const std::byte*>(m.data()), m.size()));
      auto* reply = d ? std::get_if<wire::SessionReply>(&*d) : nullptr;
      if (reply && reply->status == wire::Status::kOk && reply->isSigned) {
        if (genuine++ > 0) ++accepted;
      } else {
        ++refused;
      }
    }
  }
  m_tally.add("replay: replies signed for the replayer", accepted);
  m_tally.add("replay: replies refused", refused);
}

void Soak::junkAxon() {
  // A ROUTER on a free loopback port, announced on chain for the junk hotkey; whoever queries it
  // gets junk messages until the soak ends.
  zmq::socket_t s(m_zmq, zmq::socket_type::router);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::sndhwm, 100000);
  s.bind("tcp://127.0.0.1:*");
  std::string ep = s.get(zmq::sockopt::last_endpoint);
  auto port = static_cast<std::uint16_t>(parseU64(ep.substr(ep.rfind(':') + 1), "junk port"));
  tx::ServeAxon serve{};
  serve.netuid = m_o.netuid;
  serve.version = 1;
  serve.ip = {};
  serve.ip[12] = 127;
  serve.ip[15] = 1;
  serve.port = port;
  serve.ipType = 4;
  serve.protocol = 0;
  auto sub = m_client->submit(*m_junkKey, tx::Call{serve}, std::chrono::milliseconds(20'000));
  m_tally.add(sub && sub->success ? "junk: axon served on chain"
                                  : "junk: serve_axon failed: " +
                                        (sub ? sub->errorText() : sub.error().message()).substr(0, 60));
  Bytes junk(64u << 10, std::byte{0x13});
  std::vector<std::string> peers;
  while (running()) {
    zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(peers.empty() ? 100 : 0));
    if (item.revents & ZMQ_POLLIN) {
      zmq::message_t id;
      (void)s.recv(id, zmq::recv_flags::none);
      bool more = id.more();
      while (more) {
        zmq::message_t part;
        (void)s.recv(part, zmq::recv_flags::none);
        more = part.more();
      }
      std::string who(static_cast<const char*>(id.data()), id.size());
      if (std::find(peers.begin(), peers.end(), who) == peers.end()) peers.push_back(who);
      m_tally.add("junk: queries received");
    }
    for (const auto& who : peers) {
      // Junk "responses": correlation-sized first frame, then 64 KiB of junk, many per query.
      for (int i = 0; i < 16; ++i) {
        try {
          if (!s.send(zmq::buffer(who), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) break;
          (void)s.send(zmq::buffer(junk.data(), 16), zmq::send_flags::sndmore);
          (void)s.send(zmq::buffer(junk.data(), junk.size()), zmq::send_flags::none);
          m_tally.add("junk: KiB sent", 64);
        } catch (const zmq::error_t&) {
          break;
        }
      }
    }
  }
}

void Soak::honestHead() {
  httplib::Client http(m_host, m_port);
  http.set_keep_alive(true);
  http.set_connection_timeout(std::chrono::seconds(1));
  http.set_read_timeout(std::chrono::seconds(1));
  http.set_write_timeout(std::chrono::seconds(1));
  std::string body = rpcBody("chain_getHead", json::array());
  while (running()) {
    auto t0 = Steady::now();
    auto res = http.Post("/", body, "application/json");
    double ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
    bool ok = res && res->status == 200 && res->body.find("\"result\"") != std::string::npos;
    std::uint64_t number = 0;
    if (ok) {
      auto j = json::parse(res->body, nullptr, false);
      if (!j.is_discarded() && j.contains("result")) number = j["result"].value("number", std::uint64_t{0});
    }
    {
      std::lock_guard lock(m_honestMutex);
      if (ok)
        m_headLatencyMs.push_back(ms);
      else
        ++m_headFailures;
      auto now = Steady::now();
      if (m_lastHeadChange == Steady::time_point{}) m_lastHeadChange = now;
      // Time since the last new head seen: at most the sampling interval plus one call while
      // blocks come on time.
      m_maxHeadGapMs =
          std::max(m_maxHeadGapMs, std::chrono::duration<double, std::milli>(now - m_lastHeadChange).count());
      if (number > m_lastHead) {
        m_lastHead = number;
        m_lastHeadChange = now;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void Soak::honestTransfers() {
  rpc::ClientOptions options;
  options.timeout = std::chrono::milliseconds(5000);
  auto client = rpc::ChainClient::connect(m_o.chainUrl, options);
  if (!client) die("honest client: " + client.error().message());
  auto dest = crypto::PrivateKey::generate().publicKey().accountId();
  while (running()) {
    auto before = (*client)->headNumber();
    auto sub = (*client)->submit(*m_payer, tx::Call{tx::Transfer{dest, 1'000'000}},
                                 std::chrono::milliseconds(20'000));
    {
      std::lock_guard lock(m_honestMutex);
      if (sub && sub->included && sub->success && before) {
        m_transferBlocks.push_back(static_cast<double>(sub->block - *before));
      } else {
        ++m_transferFailures;
        m_tally.add("honest transfer failed: " +
                    (sub ? sub->errorText() : sub.error().message()).substr(0, 60));
      }
    }
    for (int i = 0; i < 50 && running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void Soak::sampleMemory() {
  while (running()) {
    for (const auto& [name, pid] : m_o.pids) {
      std::uint64_t kib = rssKiB(pid);
      std::lock_guard lock(m_honestMutex);
      m_peakRss[name] = std::max(m_peakRss[name], kib);
      if (!alive(pid)) m_crashed[name] = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

// Sums the validator's query outcomes and the honest miner's score from its /metrics.
struct ValidatorView {
  double minerScore = -1;
  bool ok = false;
};
ValidatorView readValidator(const std::string& url, std::uint16_t minerUid) {
  ValidatorView v;
  if (url.empty()) return v;
  auto [host, port] = hostPort(url);
  httplib::Client http(host, port);
  http.set_read_timeout(std::chrono::seconds(3));
  auto res = http.Get("/metrics");
  if (!res || res->status != 200) return v;
  v.ok = true;
  std::string key = "merit_validator_score{uid=\"" + std::to_string(minerUid) + "\"} ";
  auto at = res->body.find(key);
  if (at != std::string::npos) v.minerScore = std::atof(res->body.c_str() + at + key.size());
  return v;
}

int Soak::run() {
  for (const auto& [name, pid] : m_o.pids) m_idleRss[name] = rssKiB(pid);
  auto headBefore = unwrap(m_client->headNumber(), "head");
  auto scoreBefore = readValidator(m_o.validatorMetrics, m_o.minerUid);
  std::printf("soak: %llu s of every attack at once; head %llu, block time %llu ms\n",
              static_cast<unsigned long long>(m_o.seconds), static_cast<unsigned long long>(headBefore),
              static_cast<unsigned long long>(m_blockTimeMs));
  std::fflush(stdout);
  auto t0 = Steady::now();

  std::vector<std::thread> threads;
  threads.emplace_back([this] { sampleMemory(); });
  threads.emplace_back([this] { honestHead(); });
  threads.emplace_back([this] { honestTransfers(); });
  threads.emplace_back([this] { poolAttack(); });
  for (int i = 0; i < 8; ++i) threads.emplace_back([this, i] { slowLoris(i); });
  for (int i = 0; i < 8; ++i) threads.emplace_back([this, i] { longPollBatches(i); });
  for (int i = 0; i < 16; ++i) threads.emplace_back([this, i] { metagraphLoop(i); });
  threads.emplace_back([this] { frameFlood(m_minerEndpoint, "DEALER", "frames->miner"); });
  if (!m_feed.empty()) threads.emplace_back([this] { frameFlood(m_feed, "SUB", "frames->feed"); });
  threads.emplace_back([this] { forgeFlood(); });
  threads.emplace_back([this] { replayFlood(); });
  if (m_o.junk) threads.emplace_back([this] { junkAxon(); });

  std::this_thread::sleep_for(std::chrono::seconds(m_o.seconds));
  auto elapsed = std::chrono::duration<double>(Steady::now() - t0).count();
  auto scoreAfter = readValidator(m_o.validatorMetrics, m_o.minerUid);
  m_running = false;
  // Attack threads end within their own timeouts (5 s at most for a raw POST).
  for (auto& t : threads) t.join();
  auto headAfter = m_client->headNumber();

  double expected = elapsed * 1000.0 / static_cast<double>(m_blockTimeMs);
  std::uint64_t produced = headAfter ? *headAfter - headBefore : 0;
  json report;
  report["seconds"] = elapsed;
  report["blocks_expected"] = expected;
  report["blocks_produced"] = produced;
  std::lock_guard lock(m_honestMutex);
  report["head_calls_ok"] = m_headLatencyMs.size();
  report["head_calls_failed"] = m_headFailures;
  report["head_p50_ms"] = percentile(m_headLatencyMs, 0.5);
  report["head_p99_ms"] = percentile(m_headLatencyMs, 0.99);
  report["max_block_gap_ms"] = m_maxHeadGapMs;
  report["head_max_ms"] =
      m_headLatencyMs.empty() ? 0 : *std::max_element(m_headLatencyMs.begin(), m_headLatencyMs.end());
  report["transfers_included"] = m_transferBlocks.size();
  report["transfers_failed"] = m_transferFailures;
  report["transfer_max_blocks"] =
      m_transferBlocks.empty() ? 0 : *std::max_element(m_transferBlocks.begin(), m_transferBlocks.end());
  report["validator_score_of_miner_before"] = scoreBefore.minerScore;
  report["validator_score_of_miner_after"] = scoreAfter.minerScore;
  for (const auto& [name, pid] : m_o.pids) {
    report["rss_idle_mib"][name] = static_cast<double>(m_idleRss[name]) / 1024.0;
    report["rss_peak_mib"][name] = static_cast<double>(m_peakRss[name]) / 1024.0;
    report["crashed"][name] = m_crashed[name] || !alive(pid);
  }
  {
    std::lock_guard tl(m_tally.mutex);
    report["attacks"] = m_tally.counts;
  }
  std::printf("%s\n", report.dump(2).c_str());
  return verdict(report) ? 0 : 1;
}

// Crashes always fail; with --check, so does any sign that the honest side was not served.
bool Soak::verdict(const json& r) const {
  std::vector<std::string> failures;
  for (const auto& [name, c] : r["crashed"].items()) {
    if (c.get<bool>()) failures.push_back(name + " crashed");
  }
  if (m_o.check) {
    auto expect = [&](bool ok, const std::string& what) {
      if (!ok) failures.push_back(what);
    };
    const double blockMs = static_cast<double>(m_blockTimeMs);
    expect(r["blocks_produced"].get<double>() >= 0.5 * r["blocks_expected"].get<double>(),
           "fewer than half the expected blocks were produced");
    expect(r["max_block_gap_ms"].get<double>() <= std::max(2000.0, 10 * blockMs),
           "a block was late by more than 2 s");
    expect(r["head_calls_failed"].get<std::uint64_t>() == 0 && r["head_max_ms"].get<double>() <= 1000.0,
           "an honest chain_getHead failed or took over 1 s");
    expect(
        r["transfers_failed"].get<std::uint64_t>() == 0 && r["transfers_included"].get<std::uint64_t>() > 0,
        "an honest transfer was not included");
    const auto& attacks = r["attacks"];
    expect(attacks.value("replay: replies signed for the replayer", std::uint64_t{0}) == 0,
           "a replayed handshake was signed for");
    for (const auto& [name, peak] : r["rss_peak_mib"].items()) {
      expect(peak.get<double>() - r["rss_idle_mib"][name].get<double>() <= 256.0,
             name + " grew by more than 256 MiB");
    }
    double before = r["validator_score_of_miner_before"].get<double>();
    double after = r["validator_score_of_miner_after"].get<double>();
    expect(after >= 0 && after >= 0.9 * before, "the validator's score of the honest miner fell");
  }
  for (const auto& f : failures) std::printf("soak: FAIL %s\n", f.c_str());
  if (failures.empty()) std::printf("soak: %s\n", m_o.check ? "every check passed" : "nothing crashed");
  return failures.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Soak soak(parseArgs(argc, argv));
  return soak.run();
}
