// The validator loop end to end, in one process: a real chain, two real axons (one honest, one
// answering wrongly) registered and served on chain, and the validator querying, scoring, setting
// weights and surviving a restart with its scores.
#include <arpa/inet.h>
#include <cstring>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>

#include "merit/net/axon.h"
#include "merit/rpc_json/call.h"
#include "merit/util/ip_address.h"
#include "merit/validator/validator.h"

#include "live_chain.h"
#include "test_support.h"

namespace merit::validator {
namespace {

using namespace merit::tx;
crypto::PrivateKey keyOf(int n) {
  return test::testKey(n, 0x6b);
}

// The task: answer BLAKE2b-256 of the challenge bytes.
class HashTask final : public Task {
 public:
  std::string module() const override { return "hash"; }
  std::uint32_t version() const override { return 1; }
  Result<Challenge> makeChallenge() override {
    Challenge c;
    c.request.resize(32);
    crypto::randomBytes(c.request);
    auto h = crypto::blake2b256(c.request);
    c.expectation.assign(h.begin(), h.end());
    return c;
  }
  Result<double> score(ByteView expectation, ByteView response) override {
    return expectation.size() == response.size() &&
                   std::equal(expectation.begin(), expectation.end(), response.begin())
               ? 1.0
               : 0.0;
  }
};

net::ModuleHandler hashHandler(bool honest) {
  return {"hash", 1, [honest](std::span<const wire::Request> batch) {
            std::vector<net::Reply> out;
            for (const auto& r : batch) {
              auto h = crypto::blake2b256(r.body);
              if (!honest) h[0] ^= std::byte{1};
              out.push_back(net::Reply{wire::Status::kOk, "", Bytes(h.begin(), h.end())});
            }
            return out;
          }};
}

TEST_CASE("validator: honest miner outscores a wrong one, weights land, scores survive a restart") {
  test::TempDir dir{"merit_validator_loop"};
  test::LiveChain chain(
      {.balances = {{keyOf(1).publicKey().accountId(), 1000 * kRaoPerMerit}},
       .subnets = {test::hashSubnet(keyOf(1), {{Hyper::kTempo, 10}, {Hyper::kWeightsRateLimit, 2}})},
       .feed = true});
  const std::string url = chain.url();
  auto client = std::move(rpc::ChainClient::connect(url).value());

  auto validatorKey = keyOf(10);
  auto honestKey = keyOf(11);
  auto wrongKey = keyOf(12);
  for (const auto* k : {&validatorKey, &honestKey, &wrongKey}) {
    REQUIRE(client->submit(keyOf(1), BurnedRegister{1, k->publicKey()})->success);
  }
  REQUIRE(
      client->submit(keyOf(1), AddStake{validatorKey.publicKey().accountId(), 100 * kRaoPerMerit})->success);

  auto policy = std::make_shared<net::StaticCallerPolicy>();
  policy->allow(validatorKey.publicKey(), 1);
  std::vector<std::unique_ptr<net::Axon>> axons;
  int i = 0;
  for (const auto* k : {&honestKey, &wrongKey}) {
    auto axon = net::Axon::start(
        net::AxonConfig{}, crypto::AnyPrivateKey(crypto::PrivateKey::fromBytes(k->revealSecret()).value()),
        policy, {hashHandler(i++ == 0)}, std::make_shared<SystemClock>());
    REQUIRE(axon);
    auto port = std::stoi((*axon)->endpoint().substr((*axon)->endpoint().rfind(':') + 1));
    ServeAxon s{};
    s.netuid = 1;
    s.version = 1;
    s.ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1};
    s.port = static_cast<std::uint16_t>(port);
    s.ipType = 4;
    REQUIRE(client->submit(*k, s)->success);
    axons.push_back(std::move(*axon));
  }

  ValidatorConfig vc;
  vc.chainUrl = url;
  vc.netuid = 1;
  vc.stepInterval = std::chrono::milliseconds(100);
  vc.queryTimeout = std::chrono::milliseconds(2000);
  vc.emaAlpha = 0.3;
  vc.stateFile = (dir.path() / "validator.json").string();
  vc.seed = 1;
  {
    auto v = Validator::start(
        vc, crypto::AnyPrivateKey(crypto::PrivateKey::fromBytes(validatorKey.revealSecret()).value()),
        std::make_unique<HashTask>());
    REQUIRE(v);
    bool weightsSet = false;
    // A step per block until the weights thread reports a set (bounded in blocks: 30 tempos).
    const std::uint64_t start = chain.node->head().number;
    for (std::uint64_t head = start; head < start + 300 && !weightsSet;) {
      auto r = (*v)->step();
      REQUIRE(r);
      CHECK(r->weights.kind != WeightOutcome::Kind::kFailed);
      weightsSet = r->weights.kind == WeightOutcome::Kind::kSet;
      head = chain.node->waitForBlock(head + 1, std::chrono::seconds(30)).number;
    }
    auto scores = (*v)->scores().scores();
    REQUIRE(scores.size() == 3);
    CHECK(scores[0] == 0);   // itself: never queried
    CHECK(scores[1] > 0.3);  // honest
    CHECK(scores[2] == 0);   // wrong answers
    REQUIRE(weightsSet);
    auto mg = rpc_json::call(*client, "metagraph_get", nlohmann::json::array({1, true, false}));
    REQUIRE(mg);
    auto row = (*mg)["neurons"][0]["weights"];
    REQUIRE(row.size() >= 1);
    CHECK(row[0][0] == 1);
    CHECK(row[0][1] == 65535);
  }
  // A restarted validator resumes with its scores.
  auto clock = std::make_shared<ManualClock>(SystemClock().nowUnixMs());
  vc.clock = clock;
  vc.stepInterval = std::chrono::hours(1);
  auto again = Validator::start(
      vc, crypto::AnyPrivateKey(crypto::PrivateKey::fromBytes(validatorKey.revealSecret()).value()),
      std::make_unique<HashTask>());
  REQUIRE(again);
  CHECK((*again)->scores().scores().at(1) > 0.3);
  const std::uint64_t steps = (*again)->state().steps;
  CHECK(steps > 0);
  // run() steps once per stepInterval of its clock, and stop() ends it without waiting.
  auto stepsNow = [&] { return (*again)->state().steps; };
  std::thread runner([&] { (*again)->run(); });
  CHECK(test::eventually([&] { return stepsNow() == steps + 1; }));
  CHECK_FALSE(test::eventually([&] { return stepsNow() > steps + 1; }, std::chrono::milliseconds(200)));
  clock->advance(std::chrono::hours(1));
  CHECK(test::eventually([&] { return stepsNow() == steps + 2; }));
  (*again)->stop();
  runner.join();
  CHECK(stepsNow() == steps + 2);
  // Another key cannot take over this state file.
  auto stranger = Validator::start(vc, crypto::AnyPrivateKey(keyOf(11)), std::make_unique<HashTask>());
  REQUIRE_FALSE(stranger);
  for (auto& a : axons) a->stop();
}

// A non-loopback IPv4 address of this host that is not link-local (honest miners advertise one
// on a real network), or empty when the host has none.
std::string hostAddress() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  std::string found;
  for (auto* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    auto scope = classifyAddress(text);
    if (scope && !isHostLocal(*scope)) found = text;
  }
  ::freeifaddrs(list);
  return found;
}

// A TCP listener that counts the connections made to it (the "service" an attacker points
// validators at).
struct Honeypot {
  int fd = -1;
  std::uint16_t port = 0;
  int accepted = 0;
  explicit Honeypot(const char* ip) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, ip, &a.sin_addr);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  void drain() {
    for (int c; (c = ::accept(fd, nullptr, nullptr)) >= 0;) {
      ++accepted;
      ::close(c);
    }
  }
  ~Honeypot() { ::close(fd); }
};

ServeAxon axonAt(const char* ip, std::uint16_t port) {
  ServeAxon s{};
  s.netuid = 1;
  s.version = 1;
  in_addr v4{};
  ::inet_pton(AF_INET, ip, &v4);
  std::memcpy(s.ip.data() + 12, &v4, 4);
  s.port = port;
  s.ipType = 4;
  return s;
}

// Miners advertising host-local addresses on a chain that is not in dev mode aim validators at
// services on the validator's own host (127.0.0.0/8, 0.0.0.0; link-local such as
// 169.254.169.254 the same way). The validator never dials them, scores them 0 and keeps
// querying the honest miner at a routable address.
// Fails at 8f8197f: the validator connected to both honeypots (accepted 2+ connections).
TEST_CASE("validator: outside dev chains, host-local axon addresses are never dialled") {
  const std::string host = hostAddress();
  if (host.empty()) {
    MESSAGE("skipped: this host has no routable IPv4 address to serve an honest miner on");
    return;
  }
  // A chain that stores such addresses (an older node, or one configured to) but is not in dev
  // mode: what it reports in system_info is what the validator goes by.
  test::LiveChain chain(
      {.balances = {{keyOf(1).publicKey().accountId(), 1000 * kRaoPerMerit}},
       .subnets = {test::hashSubnet(keyOf(1), {{Hyper::kTempo, 10}, {Hyper::kWeightsRateLimit, 2}})},
       .feed = true,
       .dev = false});
  auto client = std::move(rpc::ChainClient::connect(chain.url()).value());
  auto validatorKey = keyOf(20);
  auto honestKey = keyOf(21);
  auto loopKey = keyOf(22);
  auto zeroKey = keyOf(23);
  for (const auto* k : {&validatorKey, &honestKey, &loopKey, &zeroKey}) {
    REQUIRE(client->submit(keyOf(1), BurnedRegister{1, k->publicKey()})->success);
  }
  REQUIRE(
      client->submit(keyOf(1), AddStake{validatorKey.publicKey().accountId(), 100 * kRaoPerMerit})->success);

  auto policy = std::make_shared<net::StaticCallerPolicy>();
  policy->allow(validatorKey.publicKey(), 1);
  net::AxonConfig ac;
  ac.bindEndpoint = "tcp://" + host + ":*";
  auto honest = net::Axon::start(
      ac, crypto::AnyPrivateKey(crypto::PrivateKey::fromBytes(honestKey.revealSecret()).value()), policy,
      {hashHandler(true)}, std::make_shared<SystemClock>());
  REQUIRE(honest);
  auto honestPort = static_cast<std::uint16_t>(
      std::stoi((*honest)->endpoint().substr((*honest)->endpoint().rfind(':') + 1)));
  REQUIRE(client->submit(honestKey, axonAt(host.c_str(), honestPort))->success);
  Honeypot loop("127.0.0.2");  // any of 127/8, not just 127.0.0.1
  Honeypot zero("127.0.0.1");  // 0.0.0.0 reaches the local host's listeners
  auto servedLoop = client->submit(loopKey, axonAt("127.0.0.2", loop.port));
  auto servedZero = client->submit(zeroKey, axonAt("0.0.0.0", zero.port));
  REQUIRE(servedLoop);
  REQUIRE(servedZero);
  REQUIRE_MESSAGE(servedLoop->success, "the chain refused the loopback axon: ", servedLoop->errorText());
  REQUIRE_MESSAGE(servedZero->success, "the chain refused the 0.0.0.0 axon: ", servedZero->errorText());

  ValidatorConfig vc;
  vc.chainUrl = chain.url();
  vc.netuid = 1;
  vc.queryTimeout = std::chrono::milliseconds(1500);
  vc.emaAlpha = 0.5;
  vc.seed = 7;
  auto v = Validator::start(
      vc, crypto::AnyPrivateKey(crypto::PrivateKey::fromBytes(validatorKey.revealSecret()).value()),
      std::make_unique<HashTask>());
  REQUIRE(v);
  std::size_t unreachable = 0;
  for (int i = 0; i < 6; ++i) {  // a step per block
    auto r = (*v)->step();
    REQUIRE(r);
    unreachable += r->unreachable;
    chain.node->waitForBlock(chain.node->head().number + 1, std::chrono::seconds(30));
  }
  auto scores = (*v)->scores().scores();
  // Closing the validator closes its sockets: any connection it ever made to a honeypot is now
  // in that honeypot's accept queue, however late it was made.
  v->reset();
  loop.drain();
  zero.drain();
  CHECK(loop.accepted == 0);
  CHECK(zero.accepted == 0);
  CHECK(unreachable >= 6 * 2);  // both, every step
  REQUIRE(scores.size() == 4);
  CHECK(scores[1] > 0.5);  // honest, at a routable address: queried and answering
  CHECK(scores[2] == 0);
  CHECK(scores[3] == 0);
  (*honest)->stop();
}

}  // namespace
}  // namespace merit::validator
