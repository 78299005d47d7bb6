// The weight setter against a real in-process chain: it must never be "too fast", must set at
// most once per tempo, and must commit and reveal in the right epoch when commit-reveal is on.
#include "merit/validator/weights.h"

#include <thread>

#include <doctest/doctest.h>

#include "merit/rpc_json/call.h"

#include "live_chain.h"
#include "test_support.h"

namespace merit::validator {
namespace {

using namespace merit::tx;
crypto::PrivateKey keyOf(int n) {
  return test::testKey(n, 0x5a);
}

// Subnet 1 (tempo 8, weights rate limit 3) owned by keyOf(1), which holds 1000 MERIT.
test::LiveChainOptions subnetChain(bool commitReveal) {
  return {.blockTime = std::chrono::milliseconds(40),
          .balances = {{keyOf(1).publicKey().accountId(), 1000 * kRaoPerMerit}},
          .subnets = {test::hashSubnet(keyOf(1), {{Hyper::kTempo, 8},
                                                  {Hyper::kWeightsRateLimit, 3},
                                                  {Hyper::kCommitReveal, commitReveal ? 1u : 0u}})}};
}

// Waits (real time, generously) for the block after the current head; returns the new head.
std::uint64_t nextBlock(const test::LiveChain& chain) {
  const std::uint64_t head = chain.node->head().number;
  const std::uint64_t reached = chain.node->waitForBlock(head + 1, std::chrono::seconds(30)).number;
  REQUIRE(reached > head);
  return reached;
}

// Registers validator (uid 0) and two miners, stakes the validator, waits for its permit.
void setUp(const test::LiveChain& chain, rpc::ChainClient& c, const crypto::PrivateKey& validator) {
  REQUIRE(c.submit(keyOf(1), BurnedRegister{1, validator.publicKey()})->success);
  REQUIRE(c.submit(keyOf(1), BurnedRegister{1, keyOf(11).publicKey()})->success);
  REQUIRE(c.submit(keyOf(1), BurnedRegister{1, keyOf(12).publicKey()})->success);
  REQUIRE(c.submit(keyOf(1), AddStake{validator.publicKey().accountId(), 100 * kRaoPerMerit})->success);
  for (int i = 0; i < 200; ++i) {
    auto mg = rpc::fetchMetagraph(c, 1);
    REQUIRE(mg);
    if (mg->neurons.size() == 3 && mg->neurons[0].validatorPermit) return;
    nextBlock(chain);
  }
  FAIL("the validator never got a permit");
}

TEST_CASE("set_weights: never too fast, once per tempo, weights land on chain") {
  test::LiveChain chain(subnetChain(false));
  auto client = rpc::ChainClient::connect(chain.url());
  REQUIRE(client);
  auto validator = keyOf(10);
  setUp(chain, **client, validator);
  WeightSetter setter(**client, validator, 1, WeightPolicy{});
  ValidatorState state;
  int sets = 0;
  std::vector<std::uint64_t> blocks;
  // Once per block for at least five tempos (counted in blocks, so a slow machine only makes
  // the test take longer), and until two sets have landed (at most 50 tempos).
  const std::uint64_t start = chain.node->head().number;
  for (std::uint64_t head = start; head < start + 400 && (head < start + 40 || sets < 2);) {
    auto mg = rpc::fetchMetagraph(**client, 1);
    REQUIRE(mg);
    auto out = setter.step(*mg, {0.0, 0.9, 0.3}, state);
    CHECK_MESSAGE(out.kind != WeightOutcome::Kind::kFailed, out.error << " " << out.detail);
    if (out.kind == WeightOutcome::Kind::kSet) {
      ++sets;
      blocks.push_back(out.block);
    }
    head = nextBlock(chain);
  }
  CHECK(sets >= 2);
  for (std::size_t i = 1; i < blocks.size(); ++i) CHECK(blocks[i] - blocks[i - 1] >= 8);  // once per tempo
  CHECK(setter.failures() == 0);
  auto w = rpc_json::call(**client, "metagraph_get", nlohmann::json::array({1, true, false}));
  REQUIRE(w);
  auto row = (*w)["neurons"][0]["weights"];
  REQUIRE(row.size() == 2);
  CHECK(row[0][0] == 1);
  CHECK(row[0][1] == 65535);
}

TEST_CASE("commit-reveal: commit, keep the salt, reveal in the reveal epoch") {
  test::LiveChain chain(subnetChain(true));
  auto client = rpc::ChainClient::connect(chain.url());
  REQUIRE(client);
  auto validator = keyOf(10);
  setUp(chain, **client, validator);
  WeightSetter setter(**client, validator, 1, WeightPolicy{});
  ValidatorState state;
  bool committed = false, revealed = false;
  // Once per block until revealed, for at most 50 tempos.
  const std::uint64_t start = chain.node->head().number;
  for (std::uint64_t head = start; head < start + 400 && !revealed;) {
    auto mg = rpc::fetchMetagraph(**client, 1);
    REQUIRE(mg);
    auto out = setter.step(*mg, {0.0, 0.2, 0.8}, state);
    CHECK_MESSAGE(out.kind != WeightOutcome::Kind::kFailed, out.error << " " << out.detail);
    if (out.kind == WeightOutcome::Kind::kCommitted) {
      committed = true;
      CHECK(state.pendingCommits.size() == 1);
    }
    if (out.kind == WeightOutcome::Kind::kRevealed) revealed = true;
    head = nextBlock(chain);
  }
  CHECK(committed);
  REQUIRE(revealed);
  CHECK(state.pendingCommits.empty());
  auto w = rpc_json::call(**client, "metagraph_get", nlohmann::json::array({1, true, false}));
  REQUIRE(w);
  auto row = (*w)["neurons"][0]["weights"];
  REQUIRE(row.size() == 2);
  CHECK(row[1][0] == 2);
  CHECK(row[1][1] == 65535);
}

}  // namespace
}  // namespace merit::validator
