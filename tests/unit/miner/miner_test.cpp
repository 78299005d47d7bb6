#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <httplib.h>

#include "merit/crypto/ss58.h"
#include "merit/metrics/metrics.h"
#include "merit/miner/config.h"
#include "merit/miner/policy.h"

#include "test_support.h"

namespace merit::miner {
namespace {

crypto::PrivateKey keyOf(int n) {
  return test::testKey(n);
}

rpc::NeuronInfo neuron(std::uint16_t uid, int key, std::uint64_t stake, bool permit) {
  rpc::NeuronInfo n;
  n.uid = uid;
  n.hotkey = keyOf(key).publicKey().accountId();
  n.hotkeyPublicKey = crypto::AnyPublicKey(keyOf(key).publicKey());
  n.stake = stake;
  n.validatorPermit = permit;
  return n;
}

wire::Hotkey hotkeyOf(int key) {
  return keyOf(key).publicKey();
}

TEST_CASE("metagraph caller policy: registered, permitted, staked; priority is stake") {
  MetagraphCallerPolicy policy(3, PolicyOptions{true, 100});
  CHECK_FALSE(policy.check(3, hotkeyOf(1)).allowed);  // no metagraph yet
  rpc::Metagraph mg;
  mg.netuid = 3;
  mg.neurons = {neuron(0, 1, 500, true), neuron(1, 2, 500, false), neuron(2, 3, 50, true)};
  policy.update(mg);
  auto ok = policy.check(3, hotkeyOf(1));
  CHECK(ok.allowed);
  CHECK(ok.stake == 500);
  CHECK(policy.check(3, hotkeyOf(2)).reason == "caller has no validator permit");
  CHECK(policy.check(3, hotkeyOf(3)).reason.find("below the minimum") != std::string::npos);
  CHECK(policy.check(3, hotkeyOf(9)).reason.find("not registered") != std::string::npos);
  CHECK_FALSE(policy.check(4, hotkeyOf(1)).allowed);
  CHECK(policy.check(net::kHandshakeNetuid, hotkeyOf(1)).allowed);  // a session handshake
  CHECK_FALSE(policy.check(net::kHandshakeNetuid, hotkeyOf(9)).allowed);
  // A later snapshot without the caller revokes it.
  mg.neurons = {neuron(0, 2, 500, true)};
  policy.update(mg);
  CHECK_FALSE(policy.check(3, hotkeyOf(1)).allowed);
  CHECK(policy.check(3, hotkeyOf(2)).allowed);

  MetagraphCallerPolicy open(3, PolicyOptions{false, 0});
  mg.neurons = {neuron(0, 2, 0, false)};
  open.update(mg);
  CHECK(open.check(3, hotkeyOf(2)).allowed);
}

TEST_CASE("metagraph caller policy: sr25519 validators are found by their own key as account id") {
  MetagraphCallerPolicy policy(3, PolicyOptions{true, 0});
  const auto alice = crypto::sr25519::keypairFromSuri("//Alice").value();
  const crypto::AnyPublicKey alicePub(alice.publicKey());
  rpc::NeuronInfo sr;
  sr.uid = 1;
  sr.hotkey = alicePub.accountId();  // the key itself
  sr.hotkeyPublicKey = alicePub;
  sr.stake = 7;
  sr.validatorPermit = true;
  rpc::Metagraph mg;
  mg.netuid = 3;
  mg.neurons = {neuron(0, 1, 500, true), sr};
  policy.update(mg);
  auto ok = policy.check(3, wire::Hotkey(alice.publicKey()));
  CHECK(ok.allowed);
  CHECK(ok.stake == 7);
  CHECK(policy.check(3, hotkeyOf(1)).allowed);  // ecdsa: BLAKE2b-256 of the key
  // An ecdsa caller whose hashed id happened to be listed is not confused with an sr25519 key of
  // those bytes: the scheme decides the rule.
  rpc::NeuronInfo hashedId = sr;
  hashedId.hotkey = crypto::blake2b256(alice.publicKey().bytes());
  mg.neurons = {hashedId};
  policy.update(mg);
  CHECK_FALSE(policy.check(3, wire::Hotkey(alice.publicKey())).allowed);
}

TEST_CASE("miner config: YAML, environment, errors with file and key") {
  auto c = parseMinerConfig(
      "wallet: w1\nhotkey: h1\nnetuid: 7\nplugin: hash\nbind: tcp://127.0.0.1:9100\nexternal_ip: 10.0.0.5\n"
      "max_batch_size: 16\nrequire_validator_permit: false\nmin_stake: 5\nsubnet_path: [/opt/a, /opt/b]\n"
      "plugin_config:\n  rounds: 3\n  faults: {wrong_rate: 0.5}\n",
      "m.yaml", MinerConfig{});
  REQUIRE(c);
  CHECK(c->wallet == "w1");
  CHECK(c->netuid == 7);
  CHECK(c->maxBatchSize == 16);
  CHECK_FALSE(c->policy.requireValidatorPermit);
  CHECK(c->policy.minStake == 5);
  CHECK(c->subnetPath == std::vector<std::string>{"/opt/a", "/opt/b"});
  CHECK(c->pluginConfigYaml.find("rounds: 3") != std::string::npos);
  CHECK(parseMinerConfig("netuid: 70000\n", "m.yaml", {}).error().message() ==
        "m.yaml: netuid: must be at most 65535");
  CHECK(parseMinerConfig("netwuid: 1\n", "m.yaml", {})
            .error()
            .message()
            .starts_with("m.yaml: netwuid: unknown key"));
  CHECK(parseMinerConfig("workers: 0\n", "m.yaml", {}).error().message() ==
        "m.yaml: workers: must be at least 1");
  CHECK(parseMinerConfig("curve: maybe\n", "m.yaml", {}).error().message().find("true or false") !=
        std::string::npos);
  ::setenv("MERIT_MINER_NETUID", "9", 1);
  MinerConfig e;
  REQUIRE(applyMinerEnvironment(e));
  CHECK(e.netuid == 9);
  ::setenv("MERIT_MINER_NETUID", "x", 1);
  CHECK(applyMinerEnvironment(e).error().message().starts_with("MERIT_MINER_NETUID"));
  ::unsetenv("MERIT_MINER_NETUID");
}

TEST_CASE("the shipped configs/miner.yaml and configs/chain.yaml load") {
  auto m = loadMinerConfig(MERIT_SOURCE_DIR "/configs/miner.yaml", MinerConfig{});
  REQUIRE_MESSAGE(m, (m ? "" : m.error().message()));
  CHECK(m->plugin == "hash");
  CHECK(m->metricsPort == -1);
}

TEST_CASE("metrics: histograms and counters in Prometheus text, served over HTTP") {
  using metrics::Histogram;
  using metrics::MetricsServer;
  Histogram h("x_seconds", "help", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  std::string out;
  h.render(out);
  CHECK(out.find("x_seconds_bucket{le=\"0.1\"} 1") != std::string::npos);
  CHECK(out.find("x_seconds_bucket{le=\"1\"} 2") != std::string::npos);
  CHECK(out.find("x_seconds_bucket{le=\"+Inf\"} 3") != std::string::npos);
  CHECK(out.find("x_seconds_count 3") != std::string::npos);
  auto server = MetricsServer::start("127.0.0.1", 0, [] { return std::string("up 1\n"); });
  REQUIRE(server);
  httplib::Client cli("127.0.0.1", (*server)->port());
  auto res = cli.Get("/metrics");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "up 1\n");
  CHECK(cli.Get("/other")->status == 404);
}

// The endpoint's bounds, in process (tests/functional/peer_startup_test.sh runs slow-loris and a
// flood against a real merit-miner): connections beyond the bound are closed at accept, idle or
// trickling ones at the deadline, an oversized request gets 431, and scrapes work afterwards.
TEST_CASE("metrics server: bounded connections, a deadline per connection, a request size limit") {
  using metrics::MetricsServer;
  metrics::MetricsServerOptions o;
  o.maxConnections = 4;
  o.connectionDeadline = std::chrono::milliseconds(300);
  auto server = MetricsServer::start(
      "127.0.0.1", 0, [] { return std::string("up 1\n"); }, o);
  REQUIRE(server);
  const int port = (*server)->port();
  auto connectTo = [port] {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return fd;
  };
  // Reads until the server closes (or 5 s pass); returns what it sent.
  auto drain = [](int fd) {
    std::string got;
    char buf[4096];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 5000) > 0) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return got;
  };
  std::vector<int> idle;
  idle.reserve(12);
  for (int i = 0; i < 12; ++i) idle.push_back(connectTo());
  ::send(idle[0], "GET /met", 8, MSG_NOSIGNAL);  // a trickle that never finishes
  for (int fd : idle) CHECK(drain(fd).empty());  // all closed: at accept, or at the deadline
  CHECK((*server)->refusedConnections() >= 8);
  CHECK((*server)->expiredConnections() >= 1);
  int big = connectTo();
  std::string huge = "GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a');
  ::send(big, huge.data(), huge.size(), MSG_NOSIGNAL);
  CHECK(drain(big).rfind("HTTP/1.1 431", 0) == 0);
  httplib::Client cli("127.0.0.1", port);
  auto res = cli.Get("/metrics");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "up 1\n");
}

}  // namespace
}  // namespace merit::miner
