// merit_explain on a real chain: a LiveChain node (RocksDB, JSON-RPC, blocks every 50 ms) with
// three validators and three miners whose weights make the answer known in advance.
#include "merit/explain/explain.h"

#include <chrono>
#include <thread>

#include <doctest/doctest.h>

#include "merit/consensus/epoch.h"
#include "merit/rpc/client.h"
#include "merit/rpc_json/call.h"

#include "live_chain.h"
#include "test_support.h"

namespace merit::explain {
namespace {

using namespace merit::tx;
using nlohmann::json;

crypto::PrivateKey key(int n) {
  return test::testKey(n);
}

// Polls `done` every 50 ms for up to `seconds`.
template <typename F>
bool waitFor(F done, int seconds = 30) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void submitOk(rpc::ChainClient& client, const crypto::PrivateKey& signer, Call call) {
  auto s = client.submit(signer, std::move(call));
  REQUIRE(s);
  REQUIRE_MESSAGE(s->success, s->errorText());
}

// Uids 0-2: validators (hotkeys 12-14, coldkeys 2-4) with 100, 100 and 50 MERIT of stake; uids
// 3-5: miners (hotkeys 15-17). Validators 0 and 1 put all their weight on miner 3; validator 2
// splits its weight between miner 3 and miner 4, which nobody else weights.
struct Scenario {
  test::LiveChain chain{
      {.balances = {{key(1).publicKey().accountId(), 1000 * kRaoPerMerit},
                    {key(2).publicKey().accountId(), 1000 * kRaoPerMerit},
                    {key(3).publicKey().accountId(), 1000 * kRaoPerMerit},
                    {key(4).publicKey().accountId(), 1000 * kRaoPerMerit},
                    {key(5).publicKey().accountId(), 1000 * kRaoPerMerit}},
       .subnets = {test::hashSubnet(
           key(1), {{Hyper::kTempo, 4}, {Hyper::kWeightsRateLimit, 0}, {Hyper::kActivityCutoff, 10'000}})}}};
  std::unique_ptr<rpc::ChainClient> client;
  std::uint64_t weightsBlock = 0;

  Scenario() {
    client = std::move(rpc::ChainClient::connect(chain.url()).value());
    const Balance stakes[3] = {100 * kRaoPerMerit, 100 * kRaoPerMerit, 50 * kRaoPerMerit};
    for (int v = 0; v < 3; ++v) {
      submitOk(*client, key(2 + v), BurnedRegister{1, key(12 + v).publicKey()});
      submitOk(*client, key(2 + v), AddStake{key(12 + v).publicKey().accountId(), stakes[v]});
    }
    for (int m = 0; m < 3; ++m) submitOk(*client, key(5), BurnedRegister{1, key(15 + m).publicKey()});
    // Permits come with the next epoch.
    REQUIRE(waitFor([&] {
      auto n = rpc_json::call(*client, "neuron_get", json::array({1, 2}));
      return n && n->at("validator_permit").get<bool>();
    }));
    const std::vector<std::pair<std::vector<Uid>, std::vector<std::uint16_t>>> weights = {
        {{3}, {65535}}, {{3}, {65535}}, {{3, 4}, {65535, 65535}}};
    for (int v = 0; v < 3; ++v) {
      auto s = client->submit(key(12 + v), SetWeights{1, weights[v].first, weights[v].second, 0});
      REQUIRE(s);
      REQUIRE_MESSAGE(s->success, s->errorText());
      weightsBlock = std::max(weightsBlock, s->block);
    }
    // An epoch after every weight was set.
    REQUIRE(waitFor([&] {
      auto e = rpc_json::call(*client, "epoch_get", json{{"netuid", 1}});
      return e && e->at("block").get<std::uint64_t>() > weightsBlock;
    }));
  }
};

TEST_CASE(
    "explain: a miner weighted by one small validator is clipped to consensus; the validator loses trust") {
  Scenario sc;
  auto record = fetchEpoch(*sc.client, 1);
  REQUIRE(record);
  CHECK(record->block > sc.weightsBlock);
  REQUIRE(record->input.neurons.size() == 6);

  // Miner 4: only validator 2 (a fifth of the stake) weights it, so the stake-weighted median
  // (kappa one half) is 0 and all of that weight is clipped away.
  auto m4 = explainRecord(*record, 4);
  REQUIRE(m4);
  CHECK(m4->verified);
  CHECK(m4->mismatches.empty());
  REQUIRE(m4->miner);
  REQUIRE(m4->miner->weights.size() == 1);
  const auto& w = m4->miner->weights[0];
  CHECK(w.validator == 2);
  CHECK(w.rawWeight == 65535);
  CHECK(w.weight == doctest::Approx(0.5).epsilon(1e-6));
  // A fifth of the staked amounts, a little less once epochs have paid dividends as stake.
  CHECK(w.activeStake > 0.15);
  CHECK(w.activeStake < 0.21);
  CHECK(w.clippedWeight == 0);
  CHECK(w.clippedAway == doctest::Approx(0.5).epsilon(1e-6));
  CHECK(m4->miner->consensus == 0);
  CHECK(m4->miner->consensusU16 == 0);
  CHECK(m4->miner->clippedAway == doctest::Approx(w.activeStake * 0.5).epsilon(1e-6));
  CHECK(m4->miner->incentive == 0);
  CHECK(m4->miner->serverEmission == 0);
  CHECK(m4->miner->miners == 2);
  CHECK(m4->miner->rankAmongMiners == 2);

  // Miner 3: everyone weights it; nothing is clipped and it takes all the incentive.
  auto m3 = explainRecord(*record, 3);
  REQUIRE(m3);
  CHECK(m3->verified);
  REQUIRE(m3->miner);
  CHECK(m3->miner->weights.size() == 3);
  CHECK(m3->miner->clippedAway == 0);
  CHECK(m3->miner->incentive == 65535);
  CHECK(m3->miner->rankAmongMiners == 1);
  CHECK(m3->miner->serverEmission == record->output.serverEmission[3]);
  CHECK(m3->miner->serverEmission > 0);

  // Validator 2: half of its weight (the part on miner 4) was clipped, so its validator trust is
  // about one half, below validators 0 and 1, and the explanation names miner 4.
  auto v2 = explainRecord(*record, 2);
  REQUIRE(v2);
  CHECK(v2->verified);
  REQUIRE(v2->validator);
  CHECK(v2->validator->permit);
  CHECK(v2->validator->weightClipped == doctest::Approx(0.5).epsilon(1e-6));
  CHECK(v2->validator->validatorTrust == record->output.validatorTrust[2]);
  CHECK(v2->validator->validatorTrust < record->output.validatorTrust[0]);
  CHECK(v2->validator->validatorTrust < record->output.validatorTrust[1]);
  CHECK(v2->validator->validatorTrust == doctest::Approx(32767).epsilon(0.001));
  REQUIRE(v2->validator->weights.size() == 2);
  CHECK(v2->validator->weights[1].miner == 4);
  CHECK(v2->validator->weights[1].clippedAway == doctest::Approx(0.5).epsilon(1e-6));
  REQUIRE_FALSE(v2->validator->advice.empty());
  CHECK(v2->validator->advice[0].find("uid 4") != std::string::npos);
  CHECK(v2->validator->dividends == record->output.dividends[2]);
  CHECK_FALSE(v2->miner);

  // Validator 0: in full agreement.
  auto v0 = explainRecord(*record, 0);
  REQUIRE(v0);
  REQUIRE(v0->validator);
  CHECK(v0->validator->weightClipped == 0);
  CHECK(v0->validator->validatorTrust == 65535);
  CHECK(v0->validator->medianValidatorTrust == doctest::Approx(1.0));

  // The text and JSON forms carry the same numbers.
  std::string text = explanationText(*v2);
  CHECK(text.find("bit for bit") != std::string::npos);
  CHECK(text.find("uid 4") != std::string::npos);
  auto j = explanationJson(*m4);
  CHECK(j["verified"] == true);
  CHECK(j["miner"]["weights"][0]["validator"] == 2);
  CHECK(j["miner"]["consensus_u16"] == 0);
  CHECK(j["validator"].is_null());
  CHECK(explanationJson(*v2)["validator"]["validator_trust"] == record->output.validatorTrust[2]);

  // explainUid is fetch + explain.
  auto direct = explainUid(*sc.client, 1, 2, record->block);
  REQUIRE(direct);
  CHECK(direct->block == record->block);
  CHECK(direct->validator->validatorTrust == v2->validator->validatorTrust);
}

TEST_CASE("explain: a tampered stored output is reported as a mismatch") {
  Scenario sc;
  auto record = fetchEpoch(*sc.client, 1);
  REQUIRE(record);
  auto tampered = *record;
  tampered.output.incentive[3] -= 1;
  tampered.output.bonds[0].front().value ^= 1;
  auto e = explainRecord(tampered, 3);
  REQUIRE(e);
  CHECK_FALSE(e->verified);
  REQUIRE(e->mismatches.size() >= 2);
  CHECK(e->mismatches[0].field == "incentive[3]");
  CHECK(e->mismatches[0].stored == std::to_string(record->output.incentive[3] - 1));
  CHECK(e->mismatches[0].recomputed == std::to_string(record->output.incentive[3]));
  bool bonds = false;
  for (const auto& m : e->mismatches) bonds = bonds || m.field == "bonds[0]";
  CHECK(bonds);
  CHECK(explanationText(*e).find("check FAILED") != std::string::npos);
  CHECK(explanationJson(*e)["verified"] == false);
  // The untampered record verifies.
  CHECK(explainRecord(*record, 3)->verified);
}

TEST_CASE("epoch_get and epoch_list: history by block, newest first") {
  Scenario sc;
  auto list = rpc_json::call(*sc.client, "epoch_list", json{{"netuid", 1}, {"limit", 3}});
  REQUIRE(list);
  CHECK(list->at("retained") == 64);
  const auto& epochs = list->at("epochs");
  REQUIRE(epochs.size() == 3);
  CHECK(epochs[0]["block"] > epochs[1]["block"]);
  CHECK(epochs[0]["n"] == 6);
  CHECK(epochs[0]["incentive"].size() == 6);
  // (Blocks keep coming: ask for the listed epoch by its block.)
  auto latest = fetchEpoch(*sc.client, 1, epochs[0]["block"].get<std::uint64_t>());
  REQUIRE(latest);
  CHECK(epochs[0]["block"] == latest->block);
  CHECK(epochs[0]["incentive"].get<std::vector<std::uint16_t>>() == latest->output.incentive);
  CHECK(epochs[0]["hotkeys"].get<std::vector<std::string>>() == latest->hotkeys);
  // --block picks the epoch at or before it.
  auto earlier = fetchEpoch(*sc.client, 1, latest->block - 1);
  REQUIRE(earlier);
  CHECK(earlier->block == epochs[1]["block"].get<std::uint64_t>());
  auto at = fetchEpoch(*sc.client, 1, latest->block);
  REQUIRE(at);
  CHECK(at->block == latest->block);
  // Nothing before the first epoch; no such subnet.
  auto none = fetchEpoch(*sc.client, 1, 0);
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == ErrorCode::kNotFound);
  auto noSubnet = rpc_json::call(*sc.client, "epoch_list", json{{"netuid", 9}});
  REQUIRE_FALSE(noSubnet);
  CHECK(noSubnet.error().code() == ErrorCode::kNotFound);
  // A uid beyond the epoch's n.
  auto past = explainRecord(*latest, 6);
  REQUIRE_FALSE(past);
  CHECK(past.error().code() == ErrorCode::kNotFound);
}

}  // namespace
}  // namespace merit::explain
