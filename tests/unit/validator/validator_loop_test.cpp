// The validator loop end to end, in one process: a real chain, two real axons (one honest, one
// answering wrongly) registered and served on chain, and the validator querying, scoring, setting
// weights and surviving a restart with its scores.
#include <thread>

#include <doctest/doctest.h>

#include "merit/net/axon.h"
#include "merit/validator/validator.h"
#include "live_chain.h"
#include "test_support.h"

namespace merit::validator {
namespace {

using namespace merit::tx;
crypto::PrivateKey keyOf(int n) { return test::testKey(n, 0x6b); }

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
    return expectation.size() == response.size() && std::equal(expectation.begin(), expectation.end(), response.begin())
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
  test::LiveChain chain({.balances = {{keyOf(1).publicKey().accountId(), 1000 * kRaoPerMerit}},
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
  REQUIRE(client->submit(keyOf(1), AddStake{validatorKey.publicKey().accountId(), 100 * kRaoPerMerit})->success);

  auto policy = std::make_shared<net::StaticCallerPolicy>();
  wire::Hotkey vk;
  auto vb = validatorKey.publicKey().bytes();
  std::copy(vb.begin(), vb.end(), vk.begin());
  policy->allow(vk, 1);
  std::vector<std::unique_ptr<net::Axon>> axons;
  int i = 0;
  for (const auto* k : {&honestKey, &wrongKey}) {
    auto axon = net::Axon::start(net::AxonConfig{}, crypto::PrivateKey::fromBytes(k->revealSecret()).value(), policy,
                                 {hashHandler(i++ == 0)}, std::make_shared<SystemClock>());
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
    auto v = Validator::start(vc, crypto::PrivateKey::fromBytes(validatorKey.revealSecret()).value(),
                              std::make_unique<HashTask>());
    REQUIRE(v);
    bool weightsSet = false;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
    while (std::chrono::steady_clock::now() < until && !weightsSet) {
      auto r = (*v)->step();
      REQUIRE(r);
      CHECK(r->weights.kind != WeightOutcome::Kind::kFailed);
      weightsSet = r->weights.kind == WeightOutcome::Kind::kSet;
      std::this_thread::sleep_for(std::chrono::milliseconds(60));
    }
    auto scores = (*v)->scores().scores();
    REQUIRE(scores.size() == 3);
    CHECK(scores[0] == 0);        // itself: never queried
    CHECK(scores[1] > 0.3);       // honest
    CHECK(scores[2] == 0);        // wrong answers
    REQUIRE(weightsSet);
    auto mg = client->call("metagraph_get", nlohmann::json::array({1, true, false}));
    REQUIRE(mg);
    auto row = (*mg)["neurons"][0]["weights"];
    REQUIRE(row.size() >= 1);
    CHECK(row[0][0] == 1);
    CHECK(row[0][1] == 65535);
  }
  // A restarted validator resumes with its scores.
  auto again = Validator::start(vc, crypto::PrivateKey::fromBytes(validatorKey.revealSecret()).value(),
                                std::make_unique<HashTask>());
  REQUIRE(again);
  CHECK((*again)->scores().scores().at(1) > 0.3);
  CHECK((*again)->state().steps > 0);
  // Another key cannot take over this state file.
  auto stranger = Validator::start(vc, keyOf(11), std::make_unique<HashTask>());
  REQUIRE_FALSE(stranger);
  for (auto& a : axons) a->stop();
}

}  // namespace
}  // namespace merit::validator
