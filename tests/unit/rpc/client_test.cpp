// merit_rpc against a real in-process node and HTTP server on loopback.
#include "merit/rpc/client.h"

#include <algorithm>
#include <thread>

#include <doctest/doctest.h>

#include "merit/crypto/ss58.h"
#include "merit/rpc/metagraph.h"
#include "merit/rpc_json/call.h"

#include "live_chain.h"
#include "test_support.h"

namespace merit::rpc {
namespace {

using namespace merit::tx;

crypto::PrivateKey keyOf(int n) {
  return test::testKey(n);
}

// Three funded accounts, no subnets.
test::LiveChainOptions threeAccounts() {
  test::LiveChainOptions o;
  for (int i = 1; i <= 3; ++i) o.balances.emplace_back(keyOf(i).publicKey().accountId(), 100 * kRaoPerMerit);
  return o;
}

TEST_CASE("the merit backend's metagraph carries every hyperparameter of subnet_get, typed") {
  test::LiveChainOptions o = threeAccounts();
  o.subnets.push_back(test::hashSubnet(keyOf(1), {{Hyper::kWeightsRateLimit, 3}, {Hyper::kCommitReveal, 1}}));
  test::LiveChain c(std::move(o));
  auto client = ChainClient::connect(c.url());
  REQUIRE(client);
  auto mg = (*client)->metagraph(1);
  REQUIRE(mg);
  CHECK(mg->params.weightsRateLimit == 3);
  CHECK(mg->params.commitReveal);
  CHECK(mg->params.tempo == mg->tempo);
  // Every name merit-chain reports is a field (none is dropped as unknown).
  auto raw = rpc_json::call(**client, "subnet_get", nlohmann::json::array({1}));
  REQUIRE(raw);
  for (const auto& item : (*raw)["hyperparameters"].items()) {
    // A plain variable: doctest's message captures it.
    // NOLINTNEXTLINE(performance-unnecessary-copy-initialization): deliberate, see above
    const std::string name = item.key();
    SubnetParams p;
    auto known = p.set(name, item.value().get<std::uint64_t>());
    CHECK_MESSAGE((known && *known), name);
  }
}

// account(), subnets() and subnet() are typed reads of account_get, subnet_list and subnet_get:
// every field equal to what the server answers, nothing JSON-shaped left at the interface.
TEST_CASE("the merit backend reads accounts and subnets typed, equal to the server's JSON") {
  test::LiveChainOptions o = threeAccounts();
  o.subnets.push_back(test::hashSubnet(keyOf(1), {{Hyper::kWeightsRateLimit, 3}, {Hyper::kCommitReveal, 1}}));
  test::LiveChain c(std::move(o));
  auto client = ChainClient::connect(c.url());
  REQUIRE(client);
  ChainClient& chain = **client;
  const tx::AccountId cold = keyOf(1).publicKey().accountId();
  const tx::AccountId hot = keyOf(40).publicKey().accountId();
  auto reg = chain.submit(keyOf(1), BurnedRegister{1, keyOf(40).publicKey()});
  REQUIRE(reg);
  REQUIRE(reg->success);
  auto staked = chain.submit(keyOf(1), AddStake{hot, 7 * kRaoPerMerit});
  REQUIRE(staked);
  REQUIRE(staked->success);

  // The coldkey: balance, nonce and its one stake (no block changes these now).
  auto acc = chain.account(cold);
  REQUIRE(acc);
  auto rawAcc = rpc_json::call(chain, "account_get", nlohmann::json::array({crypto::ss58Encode(cold)}));
  REQUIRE(rawAcc);
  CHECK(acc->address == cold);
  CHECK(acc->free == (*rawAcc)["free"].get<std::uint64_t>());
  CHECK(acc->free <= 93 * kRaoPerMerit);  // the stake (and the burn) left
  CHECK(acc->nonce == 2);
  CHECK(acc->nonce == (*rawAcc)["nonce"].get<std::uint64_t>());
  // Stake only grows meanwhile (an epoch may pay the hotkey).
  REQUIRE(acc->staked);
  CHECK(*acc->staked >= 7 * kRaoPerMerit);
  REQUIRE(acc->stakes);
  REQUIRE(acc->stakes->size() == 1);
  CHECK((*acc->stakes)[0].hotkey == hot);
  CHECK((*acc->stakes)[0].amount == *acc->staked);
  CHECK(acc->hotkeyStake == (*rawAcc)["hotkey_stake"].get<std::uint64_t>());
  CHECK_FALSE(acc->reserved);  // subtensor only
  // The hotkey holds the stake; an account the chain never saw is all zeros.
  auto hotAcc = chain.account(hot);
  REQUIRE(hotAcc);
  REQUIRE(hotAcc->hotkeyStake);
  CHECK(*hotAcc->hotkeyStake >= 7 * kRaoPerMerit);
  CHECK(hotAcc->stakes == std::vector<AccountStake>{});
  auto nobody = chain.account(keyOf(77).publicKey().accountId());
  REQUIRE(nobody);
  CHECK(nobody->free == 0);
  CHECK(nobody->nonce == 0);
  CHECK(nobody->staked == 0);

  // subnet_list: the fields that do not move with the head (burn and emission may), equal to the
  // raw answer.
  auto list = chain.subnets();
  REQUIRE(list);
  auto rawList = rpc_json::call(chain, "subnet_list");
  REQUIRE(rawList);
  REQUIRE(list->size() == rawList->size());
  const SubnetSummary* one = nullptr;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const SubnetSummary& s = (*list)[i];
    const nlohmann::json& r = (*rawList)[i];
    CHECK(s.netuid == r["netuid"].get<std::uint64_t>());
    CHECK(s.plugin == r["plugin"].get<std::string>());
    CHECK(s.pluginVersion == r["plugin_version"].get<std::uint64_t>());
    CHECK(s.owner.has_value() == r["owner"].is_string());
    CHECK(s.n == r["n"].get<std::uint64_t>());
    CHECK(s.maxUids == r["max_uids"].get<std::uint64_t>());
    CHECK(s.tempo == r["tempo"].get<std::uint64_t>());
    CHECK(s.burn.has_value());
    CHECK(s.emissionPerBlock.has_value());
    CHECK(s.blocksUntilNextEpoch <= s.tempo);
    if (s.netuid == 1) one = &s;
  }
  REQUIRE(one != nullptr);
  CHECK(one->plugin == "hash");
  CHECK(one->owner == cold);
  CHECK(one->n >= 1);

  // subnet_get: the summary, the typed hyperparameters (all but subtensor's rho reported), the
  // bookkeeping.
  auto sn = chain.subnet(1);
  REQUIRE(sn);
  auto rawSn = rpc_json::call(chain, "subnet_get", nlohmann::json::array({1}));
  REQUIRE(rawSn);
  CHECK(static_cast<const SubnetSummary&>(*sn).plugin == "hash");
  CHECK(sn->owner == cold);
  CHECK(sn->params.weightsRateLimit == 3);
  CHECK(sn->params.commitReveal);
  CHECK(sn->params.tempo == sn->tempo);
  CHECK(sn->reportedParams.size() == (*rawSn)["hyperparameters"].size());
  CHECK(std::find(sn->reportedParams.begin(), sn->reportedParams.end(), "rho") == sn->reportedParams.end());
  CHECK(sn->reportedParams.front() == "tempo");  // SubnetParams order
  for (const auto& name : sn->reportedParams) {
    std::uint64_t typed = 0;
    sn->params.forEach([&](std::string_view n, std::uint64_t v) {
      if (n == name) typed = v;
    });
    CHECK_MESSAGE(typed == (*rawSn)["hyperparameters"][name].get<std::uint64_t>(), name);
  }
  CHECK(sn->locked == (*rawSn)["locked"].get<std::uint64_t>());
  CHECK(sn->createdBlock == (*rawSn)["created_block"].get<std::uint64_t>());
  CHECK(sn->registrationsThisInterval.has_value());
  CHECK(sn->pendingEmission.has_value());
  REQUIRE(sn->lastEpochBlock);
  auto head = chain.headNumber();
  REQUIRE(head);
  CHECK(*sn->lastEpochBlock <= *head);
  auto none = chain.subnet(9);
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == ErrorCode::kNotFound);

  // system_info's facts without a typed member, sorted by name; the raw call as text.
  auto info = chain.info();
  REQUIRE(info);
  CHECK(info->dev);
  std::vector<std::string> names;
  for (const auto& f : info->extra) names.push_back(f.name);
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(std::find(names.begin(), names.end(), "extrinsic_domain") != names.end());
  CHECK(std::find(names.begin(), names.end(), "genesis_hash") == names.end());  // a member
  auto text = chain.callText("chain_getHead");
  REQUIRE(text);
  CHECK(text->starts_with("{"));
  CHECK(text->find("\"number\":") != std::string::npos);
}

TEST_CASE("submit waits for inclusion and reports success or the named error") {
  test::LiveChain c(threeAccounts());
  auto client = ChainClient::connect(c.url());
  REQUIRE(client);
  CHECK((*client)->genesisHash() == c.node->genesisHash());
  auto ok = (*client)->submit(keyOf(1), Transfer{keyOf(2).publicKey().accountId(), 5});
  REQUIRE(ok);
  CHECK(ok->included);
  CHECK(ok->success);
  CHECK(ok->block >= 1);
  auto failed = (*client)->submit(keyOf(1), Transfer{keyOf(2).publicKey().accountId(), 1000 * kRaoPerMerit});
  REQUIRE(failed);
  CHECK(failed->included);
  CHECK_FALSE(failed->success);
  CHECK_FALSE(failed->rejected);
  REQUIRE(failed->error);
  CHECK(failed->error == ChainErrorCode::kNotEnoughBalance);
  CHECK(failed->error->detail().starts_with("free balance"));
  // Back-to-back submissions without waiting get consecutive nonces.
  for (int i = 0; i < 5; ++i) {
    REQUIRE((*client)->submit(keyOf(3), Transfer{keyOf(2).publicKey().accountId(), 1},
                              std::chrono::milliseconds(0)));
  }
  auto last = (*client)->submit(keyOf(3), Transfer{keyOf(2).publicKey().accountId(), 1});
  REQUIRE(last);
  CHECK(last->success);
  auto acc = rpc_json::call(**client, "account_get",
                            nlohmann::json::array({crypto::ss58Encode(keyOf(3).publicKey().accountId())}));
  REQUIRE(acc);
  CHECK((*acc)["nonce"] == 6);
}

TEST_CASE("a refusal by the node arrives as a typed chain error with its detail") {
  // No block is produced during the test, so what one client queues stays in the pool.
  test::LiveChainOptions o = threeAccounts();
  o.blockTime = std::chrono::hours(1);
  test::LiveChain c(std::move(o));
  auto a = ChainClient::connect(c.url());
  auto b = ChainClient::connect(c.url());
  REQUIRE(a);
  REQUIRE(b);
  auto queued =
      (*a)->submit(keyOf(1), Transfer{keyOf(2).publicKey().accountId(), 1}, std::chrono::milliseconds(0));
  REQUIRE(queued);
  CHECK_FALSE(queued->rejected);
  CHECK_FALSE(queued->error);
  // b does not know about a's nonce 0 in the pool: the node refuses b's other transfer with that
  // nonce twice (b retries once), with -32000 and data.name NonceInPool, which arrives typed.
  auto refused =
      (*b)->submit(keyOf(1), Transfer{keyOf(2).publicKey().accountId(), 2}, std::chrono::milliseconds(0));
  REQUIRE(refused);
  CHECK(refused->rejected);
  CHECK_FALSE(refused->included);
  REQUIRE(refused->error);
  CHECK(refused->error->code() == ChainErrorCode::kNonceInPool);
  CHECK(refused->error->name() == "NonceInPool");
  CHECK(refused->error->detail() == "another extrinsic with nonce 0 is waiting");
  CHECK(refused->errorText() == "NonceInPool: another extrinsic with nonce 0 is waiting");
}

TEST_CASE("a second client using the same account recovers its nonce") {
  test::LiveChain c(threeAccounts());
  auto a = ChainClient::connect(c.url());
  auto b = ChainClient::connect(c.url());
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE((*a)->submit(keyOf(1), Transfer{keyOf(2).publicKey().accountId(), 1})->success);
  REQUIRE((*b)->submit(keyOf(1), Transfer{keyOf(2).publicKey().accountId(), 1})->success);
  REQUIRE((*a)->submit(keyOf(1), Transfer{keyOf(2).publicKey().accountId(), 1})->success);
}

TEST_CASE("unreachable chains and bad URLs are clear errors with bounded retries") {
  ClientOptions o;
  o.timeout = std::chrono::milliseconds(500);
  o.retries = 1;
  o.backoff = std::chrono::milliseconds(10);
  auto t0 = std::chrono::steady_clock::now();
  auto none = ChainClient::connect("http://127.0.0.1:1", o);
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == ErrorCode::kUnavailable);
  CHECK(none.error().message().find("cannot reach") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  CHECK_FALSE(ChainClient::connect("ftp://x"));
  test::LiveChain c(threeAccounts());
  auto client = ChainClient::connect(c.url());
  REQUIRE(client);
  auto bad = (*client)->callText("no_such_method");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("no method") != std::string::npos);
  auto missing = rpc_json::call(**client, "subnet_get", nlohmann::json::array({9}));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kNotFound);
}

TEST_CASE("a call on a kept-alive connection the server closed for idleness is re-sent, not failed") {
  auto o = threeAccounts();
  o.rpcLimits.idleTimeout = std::chrono::milliseconds(300);
  test::LiveChain c(o);
  ClientOptions co;
  co.retries = 0;  // the re-send on a stale connection is not a retry
  auto client = ChainClient::connect(c.url(), co);
  REQUIRE(client);
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the server closes the idle connection
    auto t0 = std::chrono::steady_clock::now();
    auto head = (*client)->headNumber();
    REQUIRE_MESSAGE(head, head.error().message());
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  }
}

}  // namespace
}  // namespace merit::rpc

#include "merit/chain/feed.h"
#include "merit/rpc/metagraph.h"

namespace merit::rpc {
namespace {

TEST_CASE("the metagraph cache follows the block feed") {
  test::LiveChain chain({.balances = {{keyOf(1).publicKey().accountId(), 100 * kRaoPerMerit}},
                         .subnets = {test::hashSubnet(keyOf(1))},
                         .feed = true});
  const std::string url = chain.url();

  MetagraphCache::Options o;
  o.pollInterval = std::chrono::milliseconds(5000);  // long: updates must come from the feed
  auto cache = MetagraphCache::start(url, 1, o);
  REQUIRE(cache);
  CHECK((*cache)->current()->neurons.empty());
  auto client = ChainClient::connect(url);
  REQUIRE(client);
  auto reg = (*client)->submit(keyOf(1), BurnedRegister{1, keyOf(50).publicKey()});
  REQUIRE(reg);
  REQUIRE(reg->success);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*cache)->current()->neurons.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto mg = (*cache)->current();
  REQUIRE(mg->neurons.size() == 1);
  CHECK(mg->neurons[0].hotkey == keyOf(50).publicKey().accountId());
  CHECK(mg->byHotkey(keyOf(50).publicKey().accountId()) != nullptr);
  REQUIRE(mg->neurons[0].hotkeyPublicKey.has_value());
  CHECK(*mg->neurons[0].hotkeyPublicKey == crypto::AnyPublicKey(keyOf(50).publicKey()));
  CHECK((*cache)->refreshCount() > 0);
  CHECK_FALSE((*cache)->stale());
  (*cache)->stop();
}

// Extrinsics signed by either scheme, on a real node through the client: an sr25519 coldkey
// registers an sr25519 hotkey that then sets weights and is in the metagraph with scheme sr25519;
// an ecdsa coldkey owns an sr25519 hotkey, and an sr25519 coldkey an ecdsa one. Nonces are per
// account id in either scheme (each signer submits twice).
TEST_CASE("sr25519 and ecdsa coldkeys and hotkeys register, stake, set weights and show their scheme") {
  const auto srCold = test::testSrKey(1), srHot = test::testSrKey(2), srHot2 = test::testSrKey(3);
  const auto ecCold = keyOf(1), ecHot = keyOf(60);
  const tx::AccountId srColdAccount = srCold.publicKey().bytes();  // an sr25519 account id is its key
  test::LiveChain chain(
      {.balances = {{ecCold.publicKey().accountId(), 100 * kRaoPerMerit},
                    {srColdAccount, 100 * kRaoPerMerit},
                    {srHot.publicKey().bytes(), 1 * kRaoPerMerit},
                    {srHot2.publicKey().bytes(), 1 * kRaoPerMerit}},
       .subnets = {test::hashSubnet(ecCold, {{Hyper::kWeightsRateLimit, 0}, {Hyper::kStakeThreshold, 0}})}});
  auto client = ChainClient::connect(chain.url());
  REQUIRE(client);
  auto ok = [](const Result<Submission>& s) {
    REQUIRE_MESSAGE(s, s.error().message());
    CHECK_MESSAGE(s->success, s->errorText());
  };
  ok((*client)->submit(srCold, BurnedRegister{1, srHot.publicKey()}));   // uid 0
  ok((*client)->submit(ecCold, BurnedRegister{1, srHot2.publicKey()}));  // uid 1: mixed
  ok((*client)->submit(srCold, BurnedRegister{1, ecHot.publicKey()}));   // uid 2: mixed the other way
  ok((*client)->submit(srCold, AddStake{srHot.publicKey().bytes(), 5 * kRaoPerMerit}));
  // Self-weights: allowed before an epoch has given anyone a validator permit.
  ok((*client)->submit(srHot, SetWeights{1, {0}, {1}, 0}));
  ok((*client)->submit(srHot2, SetWeights{1, {1}, {5}, 0}));

  auto account = (*client)->account(srColdAccount);
  REQUIRE(account);
  CHECK(account->nonce == 3);  // two registrations and a stake, under the key's own account id
  auto mg = (*client)->metagraph(1);
  REQUIRE(mg);
  REQUIRE(mg->neurons.size() == 3);
  CHECK(mg->neurons[0].hotkey == srHot.publicKey().bytes());
  CHECK(mg->neurons[0].coldkey == srColdAccount);
  REQUIRE(mg->neurons[0].hotkeyPublicKey.has_value());
  CHECK(mg->neurons[0].hotkeyPublicKey->scheme() == crypto::KeyScheme::kSr25519);
  CHECK(*mg->neurons[0].hotkeyPublicKey == crypto::AnyPublicKey(srHot.publicKey()));
  CHECK(mg->neurons[0].stake == 5 * kRaoPerMerit);
  CHECK(mg->neurons[0].lastUpdate > mg->neurons[0].blockAtRegistration);  // its weights landed
  CHECK(mg->neurons[1].coldkey == ecCold.publicKey().accountId());
  CHECK(*mg->neurons[1].hotkeyPublicKey == crypto::AnyPublicKey(srHot2.publicKey()));
  CHECK(mg->neurons[2].coldkey == srColdAccount);
  CHECK(*mg->neurons[2].hotkeyPublicKey == crypto::AnyPublicKey(ecHot.publicKey()));

  auto raw = rpc_json::call(**client, "metagraph_get", nlohmann::json::array({1}));
  REQUIRE(raw);
  CHECK((*raw)["neurons"][0]["hotkey_scheme"] == "sr25519");
  CHECK((*raw)["neurons"][0]["hotkey_public_key"] == "0x" + toHex(srHot.publicKey().bytes()));
  CHECK((*raw)["neurons"][2]["hotkey_scheme"] == "ecdsa");
  auto withWeights = rpc_json::call(**client, "metagraph_get", nlohmann::json::array({1, true}));
  REQUIRE(withWeights);
  CAPTURE((*withWeights)["neurons"][0].dump());
  CHECK((*withWeights)["neurons"][0]["weights"] == nlohmann::json::parse("[[0, 65535]]"));  // sr25519 hotkey
  CHECK((*withWeights)["neurons"][1]["weights"] == nlohmann::json::parse("[[1, 65535]]"));
}

// Nothing polls the RPC while the block feed announces blocks; a miner's refresh interval caps
// metagraph_get however fast blocks come; with the chain gone, head polls back off.
// Fails at 8f8197f: no such counters or options (the cache polled chain_getHead every second the
// feed was quiet, and every block cost each client a metagraph_get).
TEST_CASE(
    "the metagraph cache is driven by the feed, capped per interval, and backs off when the chain is gone") {
  auto chain = std::make_unique<test::LiveChain>(
      test::LiveChainOptions{.balances = {{keyOf(1).publicKey().accountId(), 100 * kRaoPerMerit}},
                             .subnets = {test::hashSubnet(keyOf(1))},
                             .feed = true});
  const std::string url = chain->url();
  MetagraphCache::Options everyBlock;
  everyBlock.pollInterval = std::chrono::milliseconds(1000);
  everyBlock.retry = {.initial = 400, .cap = 800, .jitterPercent = 0};
  MetagraphCache::Options capped;
  capped.minRefreshInterval = std::chrono::milliseconds(1000);
  auto a = MetagraphCache::start(url, 1, everyBlock);
  auto b = MetagraphCache::start(url, 1, capped);
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE((*a)->devChain() == false);  // LiveChain runs the dev preset
  CHECK((*a)->blockTime() == std::chrono::milliseconds(50));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  CHECK((*a)->headPolls() == 0);  // the feed told it every block
  CHECK((*a)->fetches() >= 5);
  CHECK((*b)->headPolls() == 0);
  CHECK((*b)->fetches() >= 1);
  CHECK((*b)->fetches() <= 4);  // 2.5 s at most one per second (plus timing slack)
  (*b)->stop();

  chain.reset();  // the node goes away: no feed, no RPC (stopping it takes a while)
  const auto before = (*a)->fetches() + (*a)->headPolls();
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  // Attempts (a refresh still pending, or head polls once the feed is silent) 0.4 s, 0.8 s,
  // 0.8 s ... apart, each also costing the client's own two quick transport retries: a handful,
  // not one per 100 ms loop turn.
  auto attempts = (*a)->headPolls() + (*a)->fetches() - before;
  MESSAGE("attempts in 4.5 s while the chain was gone: ", attempts);
  CHECK(attempts >= 1);
  CHECK(attempts <= 5);
  (*a)->stop();
}

TEST_CASE("malformed metagraph JSON is an error naming the field") {
  auto bad = parseMetagraph(R"({"netuid": 1})");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("missing 'block'") != std::string::npos);
  CHECK_FALSE(parseMetagraph("[]"));
  CHECK_FALSE(parseMetagraph("{"));
  const std::string head =
      R"({"netuid": 1, "block": 5, "tempo": 10, "blocks_until_next_epoch": 3, "neurons": [], )";
  auto wide = parseMetagraph(head + R"("hyperparameters": {"tempo": 70000}})");
  REQUIRE_FALSE(wide);
  CHECK(wide.error().message().find("tempo = 70000 is not a u16") != std::string::npos);
  CHECK_FALSE(parseMetagraph(head + R"("hyperparameters": {"commit_reveal": 2}})"));
}

TEST_CASE("a neuron's public key is read under its scheme; an invalid point reads as unknown") {
  const auto alice = crypto::sr25519::keypairFromSuri("//Alice").value();
  const std::string ecdsaHex = keyOf(3).publicKey().toHex();
  const std::string srHex = toHex(alice.publicKey().bytes());
  auto neuron = [](const std::string& extra) {
    return R"({"uid": 0, "hotkey": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", )"
           R"("coldkey": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "stake": 0, "active": true, )"
           R"("validator_permit": false, "consensus": 0, "incentive": 0, "dividends": 0, )"
           R"("validator_trust": 0, "emission": 0, "last_update": 0, "block_at_registration": 0, "axon": null)" +
           extra + "}";
  };
  auto parse = [&](const std::string& extra) {
    return parseMetagraph(
        R"({"netuid": 1, "block": 5, "tempo": 10, "blocks_until_next_epoch": 3, "neurons": [)" +
        neuron(extra) + "]}");
  };
  auto legacy = parse(R"(, "hotkey_public_key": "0x)" + ecdsaHex + "\"");  // no scheme: ecdsa
  REQUIRE(legacy);
  REQUIRE(legacy->neurons[0].hotkeyPublicKey.has_value());
  CHECK(*legacy->neurons[0].hotkeyPublicKey == crypto::AnyPublicKey(keyOf(3).publicKey()));
  auto sr = parse(R"(, "hotkey_scheme": "sr25519", "hotkey_public_key": "0x)" + srHex + "\"");
  REQUIRE(sr);
  CHECK(*sr->neurons[0].hotkeyPublicKey == crypto::AnyPublicKey(alice.publicKey()));
  auto none = parse("");
  REQUIRE(none);
  CHECK_FALSE(none->neurons[0].hotkeyPublicKey.has_value());
  auto wrongScheme = parse(R"(, "hotkey_scheme": "sr25519", "hotkey_public_key": "0x)" + ecdsaHex + "\"");
  REQUIRE(wrongScheme);  // 33 bytes are no sr25519 key: unknown, the rest still usable
  CHECK_FALSE(wrongScheme->neurons[0].hotkeyPublicKey.has_value());
  auto unknown = parse(R"(, "hotkey_scheme": "ed25519", "hotkey_public_key": "0x)" + srHex + "\"");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message().find("hotkey_scheme") != std::string::npos);
}

TEST_CASE("hyperparameters arrive typed, with one default for what a chain does not report") {
  const std::string head =
      R"({"netuid": 1, "block": 5, "tempo": 10, "blocks_until_next_epoch": 3, "neurons": [], )";
  auto mg = parseMetagraph(head + R"("hyperparameters": {"tempo": 10, "commit_reveal": 1,
      "weights_rate_limit": 7, "max_burn": 5000000000000, "a_future_parameter": 3}})");
  REQUIRE(mg);
  CHECK(mg->params.tempo == 10);
  CHECK(mg->params.commitReveal);
  CHECK(mg->params.weightsRateLimit == 7);
  CHECK(mg->params.maxBurn == 5'000'000'000'000);
  CHECK(mg->params.minAllowedWeights == SubnetParams{}.minAllowedWeights);  // not reported: the default
  std::size_t seen = 0;
  mg->params.forEach([&](std::string_view name, std::uint64_t value) {
    ++seen;
    if (name == "weights_rate_limit") CHECK(value == 7);
  });
  CHECK(seen == 26);
}

}  // namespace
}  // namespace merit::rpc
