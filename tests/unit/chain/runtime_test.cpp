#include "merit/chain/runtime.h"

#include <map>
#include <random>

#include <doctest/doctest.h>

#include "merit/consensus/weights.h"

#include "test_support.h"

namespace merit::chain {
namespace {

using namespace merit::tx;

// An in-memory base for overlays (the runtime never needs RocksDB).
class MemState final : public StateReader {
 public:
  std::optional<Bytes> get(std::string_view key) const override {
    auto it = m_map.find(key);
    if (it == m_map.end()) return std::nullopt;
    return it->second;
  }
  void apply(const Overlay& o) {
    for (const auto& [k, v] : o.changes()) {
      if (v) {
        m_map[k] = *v;
      } else {
        m_map.erase(k);
      }
    }
  }

 private:
  std::map<std::string, Bytes, std::less<>> m_map;
};

crypto::PrivateKey keyOf(int n) {
  return test::testKey(n);
}

// A chain harness: builds blocks the way the node does, without the node.
struct Chain {
  MemState base;
  Runtime runtime;
  std::uint64_t block = 0;
  std::map<AccountId, std::uint64_t> nonces;

  explicit Chain(RuntimeConfig cfg = testConfig())
      : runtime(std::move(cfg), crypto::blake2b256(asBytes("test genesis"))) {
    Overlay g(base);
    std::vector<std::pair<AccountId, Balance>> balances;
    for (int i = 1; i <= 20; ++i)
      balances.emplace_back(keyOf(i).publicKey().accountId(), 1'000'000 * kRaoPerMerit);
    REQUIRE(runtime.buildGenesis(g, balances, {}));
    base.apply(g);
  }

  static RuntimeConfig testConfig() {
    RuntimeConfig c;
    c.subnetLockCost = 10 * kRaoPerMerit;
    c.rootTempo = 5;
    c.rootWeightsRateLimit = 0;
    c.allowLoopbackAxons = true;
    c.maxRegistrationsPerBlock = 100;
    c.extrinsicFee = 0;  // balances below are counted to the rao; the fee tests set one
    return c;
  }

  // Includes the given calls in the next block; returns their outcomes.
  std::vector<Outcome> next(const std::vector<std::pair<const crypto::PrivateKey*, Call>>& calls = {}) {
    block += 1;
    Overlay blk(base);
    runtime.onInitialize(blk, block);
    std::vector<Outcome> out;
    for (auto& [key, call] : calls) {
      auto& nonce = nonces[key->publicKey().accountId()];
      auto xt = signExtrinsic(*key, runtime.genesisHash(), nonce, block + 10, call);
      REQUIRE(runtime.validate(xt, blk, block));
      out.push_back(runtime.apply(blk, xt, block));
      ++nonce;
    }
    base.apply(blk);
    return out;
  }
  Outcome one(const crypto::PrivateKey& key, Call call) { return next({{&key, std::move(call)}})[0]; }

  // A read-only view of the current state (owns its overlay).
  struct ReadView {
    Overlay o;
    StateView s;
    explicit ReadView(const StateReader& b) : o(b), s(o) {}
    const StateView* operator->() const { return &s; }
  };
  ReadView view() const { return ReadView(base); }
  Balance free(int who) const { return view()->account(keyOf(who).publicKey().accountId()).free; }

  void checkIssuance() const {
    auto s = view();
    Totals t = s->totals();
    CHECK(t.issuance == t.genesis + t.emitted - t.burned);
  }
};

TEST_CASE("transfer moves balance; overdraft is NotEnoughBalance and changes nothing") {
  Chain c;
  auto a = keyOf(1), b = keyOf(2);
  Balance a0 = c.free(1), b0 = c.free(2);
  CHECK(c.one(a, Transfer{b.publicKey().accountId(), 5}).success());
  CHECK(c.free(1) == a0 - 5);
  CHECK(c.free(2) == b0 + 5);
  auto bad = c.one(a, Transfer{b.publicKey().accountId(), a0});
  CHECK_FALSE(bad.success());
  CHECK(bad.error == ChainErrorCode::kNotEnoughBalance);
  CHECK(c.free(1) == a0 - 5);
  // The failed extrinsic still used its nonce.
  CHECK(c.view()->account(a.publicKey().accountId()).nonce == 2);
  c.checkIssuance();
}

TEST_CASE("validate: nonce, expiry and signature") {
  Chain c;
  auto a = keyOf(1);
  auto xt = signExtrinsic(a, c.runtime.genesisHash(), 0, 5, Transfer{keyOf(2).publicKey().accountId(), 1});
  CHECK(c.runtime.validate(xt, c.base, 1));
  CHECK(c.runtime.validate(xt, c.base, 6).error().is(ChainErrorCode::kExpired));
  auto future =
      signExtrinsic(a, c.runtime.genesisHash(), 3, 5, Transfer{keyOf(2).publicKey().accountId(), 1});
  CHECK(c.runtime.validate(future, c.base, 1).error().is(ChainErrorCode::kFuture));
  c.one(a, Transfer{keyOf(2).publicKey().accountId(), 1});
  CHECK(c.runtime.validate(xt, c.base, 2).error().is(ChainErrorCode::kStale));
  auto other = signExtrinsic(a, crypto::blake2b256(asBytes("other chain")), 1, 50,
                             Transfer{keyOf(2).publicKey().accountId(), 1});
  CHECK(c.runtime.validate(other, c.base, 2).error().is(ChainErrorCode::kBadSignature));
  // kAlreadyVerified skips the signature alone (the caller vouches for it); every check that
  // reads state still runs.
  using SC = Runtime::SignatureCheck;
  const auto before = c.runtime.signatureChecks();
  CHECK(c.runtime.validate(other, c.base, 2, SC::kAlreadyVerified));
  CHECK(c.runtime.validate(xt, c.base, 2, SC::kAlreadyVerified).error().is(ChainErrorCode::kStale));
  CHECK(c.runtime.validate(xt, c.base, 60, SC::kAlreadyVerified).error().is(ChainErrorCode::kExpired));
  CHECK(c.runtime.validate(future, c.base, 1, SC::kAlreadyVerified).error().is(ChainErrorCode::kFuture));
  CHECK(c.runtime.signatureChecks() == before);
  CHECK(c.runtime.validate(other, c.base, 2).error().is(ChainErrorCode::kBadSignature));
  CHECK(c.runtime.signatureChecks() == before + 1);
}

struct Net {
  Chain c;
  crypto::PrivateKey owner = keyOf(1);
  NetUid netuid = 1;
  Net(const std::vector<std::pair<Hyper, std::uint64_t>>& overrides = {
          {Hyper::kTempo, 9},
          {Hyper::kWeightsRateLimit, 0},
          {Hyper::kImmunityPeriod, 0},
          {Hyper::kTargetRegistrationsPerInterval, 100}}) {
    REQUIRE(c.one(owner, CreateSubnet{"matmul", 1, overrides}).success());
  }
  Uid reg(int coldkey, int hotkey) {
    auto ck = keyOf(coldkey), hk = keyOf(hotkey);
    auto out = c.one(ck, BurnedRegister{netuid, hk.publicKey()});
    REQUIRE_MESSAGE(out.success(), (out.error ? out.error->toString() : std::string()));
    return *c.view()->uidOf(netuid, hk.publicKey().accountId());
  }
};

TEST_CASE("create_subnet: lock, limits, bad parameters") {
  Chain c;
  auto owner = keyOf(1);
  Balance before = c.free(1);
  REQUIRE(c.one(owner, CreateSubnet{"matmul", 1, {{Hyper::kTempo, 10}}}).success());
  CHECK(c.free(1) == before - 10 * kRaoPerMerit);
  auto info = c.view()->subnet(1);
  REQUIRE(info);
  CHECK(info->plugin == "matmul");
  CHECK(info->params.get(Hyper::kTempo) == 10);
  CHECK(c.view()->totals().locked == 10 * kRaoPerMerit);
  CHECK(c.one(owner, CreateSubnet{"Bad Name", 1, {}}).error == ChainErrorCode::kInvalidPluginName);
  CHECK(c.one(owner, CreateSubnet{"x", 1, {{Hyper::kKappa, 70000}}}).error ==
        ChainErrorCode::kInvalidHyperparameterValue);
  CHECK(c.one(keyOf(21), CreateSubnet{"x", 1, {}}).error == ChainErrorCode::kNotEnoughBalanceToLock);
  c.checkIssuance();
}

TEST_CASE("set_hyperparameter: owner only, ranges") {
  Net n;
  CHECK(n.c.one(n.owner, SetHyperparameter{1, Hyper::kKappa, 40000}).success());
  CHECK(n.c.view()->subnet(1)->params.get(Hyper::kKappa) == 40000);
  CHECK(n.c.one(keyOf(2), SetHyperparameter{1, Hyper::kKappa, 1}).error == ChainErrorCode::kNotSubnetOwner);
  CHECK(n.c.one(n.owner, SetHyperparameter{7, Hyper::kKappa, 1}).error ==
        ChainErrorCode::kSubNetworkDoesNotExist);
  CHECK(n.c.one(n.owner, SetHyperparameter{1, Hyper::kAlphaLow, 100}).error ==
        ChainErrorCode::kInvalidHyperparameterValue);
  CHECK(n.c.one(n.owner, SetHyperparameter{1, Hyper::kAlphaLow, 60000}).error ==
        ChainErrorCode::kInvalidHyperparameterValue);
}

TEST_CASE("burned_register: burns the price, assigns uids, named failures") {
  Net n;
  Balance burn = n.c.view()->subnet(1)->burn;
  Balance before = n.c.free(2);
  CHECK(n.reg(2, 102) == 0);
  CHECK(n.c.free(2) == before - burn);
  CHECK(n.c.view()->totals().burned == burn);
  CHECK(n.reg(3, 103) == 1);
  CHECK(n.c.one(keyOf(2), BurnedRegister{1, keyOf(102).publicKey()}).error ==
        ChainErrorCode::kHotKeyAlreadyRegisteredInSubNet);
  CHECK(n.c.one(keyOf(4), BurnedRegister{1, keyOf(102).publicKey()}).error ==
        ChainErrorCode::kHotKeyAlreadyRegisteredInSubNet);
  CHECK(n.c.one(keyOf(2), BurnedRegister{9, keyOf(104).publicKey()}).error ==
        ChainErrorCode::kSubNetworkDoesNotExist);
  CHECK(n.c.one(keyOf(2), BurnedRegister{0, keyOf(104).publicKey()}).error ==
        ChainErrorCode::kRegistrationNotPermittedOnRootSubnet);
  CHECK(n.c.one(keyOf(21), BurnedRegister{1, keyOf(121).publicKey()}).error ==
        ChainErrorCode::kNotEnoughBalanceToPayRegistration);
  n.c.checkIssuance();
}

TEST_CASE("a full subnet replaces its lowest-emission non-immune neuron and clears its data") {
  Net n({{Hyper::kTempo, 9},
         {Hyper::kMaxAllowedUids, 3},
         {Hyper::kImmunityPeriod, 0},
         {Hyper::kWeightsRateLimit, 0},
         {Hyper::kTargetRegistrationsPerInterval, 100}});
  n.reg(2, 102);
  n.reg(3, 103);
  n.reg(4, 104);
  // uid 0 weights uid 2; uid 2 will be replaced (all have zero emission: the latest registered
  // of the lowest... ties break by registration block, so uid 0 goes first).
  auto out = n.c.one(keyOf(5), BurnedRegister{1, keyOf(105).publicKey()});
  REQUIRE(out.success());
  auto s = n.c.view();
  CHECK(s->subnet(1)->n == 3);
  CHECK(s->uidOf(1, keyOf(105).publicKey().accountId()) == Uid{0});
  CHECK_FALSE(s->uidOf(1, keyOf(102).publicKey().accountId()));
  // A full subnet of owner hotkeys only has nothing to prune.
  Net m({{Hyper::kTempo, 9}, {Hyper::kMaxAllowedUids, 1}, {Hyper::kTargetRegistrationsPerInterval, 100}});
  m.reg(1, 101);  // owned by the subnet owner's coldkey: never pruned
  CHECK(m.c.one(keyOf(5), BurnedRegister{1, keyOf(106).publicKey()}).error ==
        ChainErrorCode::kNoNeuronIdAvailable);
}

TEST_CASE("serve_axon checks registration, address, port and rate limit") {
  Net n({{Hyper::kTempo, 9}, {Hyper::kServingRateLimit, 5}, {Hyper::kTargetRegistrationsPerInterval, 100}});
  n.reg(2, 102);
  ServeAxon a{};
  a.netuid = 1;
  a.ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1};
  a.port = 9000;
  a.ipType = 4;
  CHECK(n.c.one(keyOf(102), a).success());
  CHECK(n.c.one(keyOf(102), a).error == ChainErrorCode::kServingRateLimitExceeded);
  CHECK(n.c.one(keyOf(103), a).error == ChainErrorCode::kHotKeyNotRegisteredInSubNet);
  auto bad = a;
  bad.ipType = 5;
  CHECK(n.c.one(keyOf(102), bad).error == ChainErrorCode::kInvalidIpType);
  bad = a;
  bad.port = 0;
  CHECK(n.c.one(keyOf(102), bad).error == ChainErrorCode::kInvalidPort);
  bad = a;
  bad.ip[3] = 1;  // more than 32 bits for IPv4
  CHECK(n.c.one(keyOf(102), bad).error == ChainErrorCode::kInvalidIpAddress);
  auto axon = n.c.view()->neuron(1, 0)->axon;
  REQUIRE(axon);
  CHECK(axon->port == 9000);
}

TEST_CASE("serve_axon refuses unspecified, loopback and link-local addresses outside dev chains") {
  auto v4 = [](std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return std::array<std::uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, a, b, c, d};
  };
  auto v6 = [](std::initializer_list<std::pair<int, std::uint8_t>> bytes) {
    std::array<std::uint8_t, 16> ip{};
    for (auto [i, v] : bytes) ip[static_cast<std::size_t>(i)] = v;
    return ip;
  };
  struct Case {
    std::uint8_t type;
    std::array<std::uint8_t, 16> ip;
    bool local;
  };
  const std::vector<Case> cases = {
      {4, v4(0, 0, 0, 0), true},
      {4, v4(127, 0, 0, 1), true},
      {4, v4(127, 255, 3, 9), true},
      {4, v4(169, 254, 10, 1), true},
      {6, v6({}), true},
      {6, v6({{15, 1}}), true},
      {6, v6({{0, 0xfe}, {1, 0x80}}), true},
      {6, v6({{0, 0xfe}, {1, 0xbf}, {15, 7}}), true},
      {6, v6({{10, 0xff}, {11, 0xff}, {12, 127}, {15, 1}}), true},    // ::ffff:127.0.0.1
      {6, v6({{10, 0xff}, {11, 0xff}, {12, 127}, {13, 9}}), true},    // ::ffff:127.9.0.0
      {6, v6({{10, 0xff}, {11, 0xff}, {12, 169}, {13, 254}}), true},  // ::ffff:169.254.0.0
      {4, v4(10, 0, 0, 1), false},
      {4, v4(128, 0, 0, 1), false},
      {4, v4(169, 253, 1, 1), false},
      {6, v6({{0, 0xfe}, {1, 0xc0}}), false},
      {6, v6({{0, 0x20}, {1, 0x01}, {15, 1}}), false},
      {6, v6({{10, 0xff}, {11, 0xff}, {12, 8}, {13, 8}, {14, 8}, {15, 8}}), false},
  };
  RuntimeConfig strict = Chain::testConfig();
  strict.allowLoopbackAxons = false;
  for (bool allow : {false, true}) {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(allow);
      CAPTURE(i);
      RuntimeConfig cfg = strict;
      cfg.allowLoopbackAxons = allow;
      Chain c(cfg);
      REQUIRE(c.one(keyOf(1), CreateSubnet{"matmul", 1, {{Hyper::kServingRateLimit, 0}}}).success());
      REQUIRE(c.one(keyOf(2), BurnedRegister{1, keyOf(102).publicKey()}).success());
      ServeAxon a{};
      a.netuid = 1;
      a.ip = cases[i].ip;
      a.ipType = cases[i].type;
      a.port = 9000;
      auto out = c.one(keyOf(102), a);
      if (cases[i].local && !allow) {
        CHECK(out.error == ChainErrorCode::kLocalIpAddress);
        CHECK(out.error->detail().find("--dev") != std::string::npos);
      } else {
        CHECK_MESSAGE(out.success(), (out.error ? out.error->toString() : std::string()));
      }
    }
  }
}

TEST_CASE("stake add and remove; issuance invariant") {
  Net n;
  n.reg(2, 102);
  AccountId hk = keyOf(102).publicKey().accountId();
  Balance before = n.c.free(3);
  CHECK(n.c.one(keyOf(3), AddStake{hk, 500}).success());
  CHECK(n.c.view()->stake(hk, keyOf(3).publicKey().accountId()) == 500);
  CHECK(n.c.view()->totalHotkeyStake(hk) == 500);
  CHECK(n.c.free(3) == before - 500);
  CHECK(n.c.one(keyOf(3), RemoveStake{hk, 501}).error == ChainErrorCode::kNotEnoughStakeToWithdraw);
  CHECK(n.c.one(keyOf(3), RemoveStake{hk, 200}).success());
  CHECK(n.c.view()->totalHotkeyStake(hk) == 300);
  CHECK(n.c.one(keyOf(3), AddStake{keyOf(150).publicKey().accountId(), 1}).error ==
        ChainErrorCode::kHotKeyAccountNotExists);
  CHECK(n.c.one(keyOf(21), AddStake{hk, 1}).error == ChainErrorCode::kNotEnoughBalanceToStake);
  CHECK(n.c.one(keyOf(3), AddStake{hk, 0}).error == ChainErrorCode::kAmountTooLow);
  n.c.checkIssuance();
}

TEST_CASE("set_weights: subtensor's checks in order, including SettingWeightsTooFast") {
  Net n({{Hyper::kTempo, 9}, {Hyper::kWeightsRateLimit, 3}, {Hyper::kTargetRegistrationsPerInterval, 100}});
  n.reg(2, 102);
  n.reg(3, 103);
  auto v = keyOf(102);
  // Registered at block 2 (limit 3 blocks): the rate limit counts from registration.
  CHECK(n.c.one(v, SetWeights{1, {1}, {1}, 0}).error == ChainErrorCode::kSettingWeightsTooFast);
  CHECK(n.c.one(v, SetWeights{1, {0, 1}, {1}, 0}).error == ChainErrorCode::kWeightVecNotEqualSize);
  CHECK(n.c.one(v, SetWeights{5, {0}, {1}, 0}).error == ChainErrorCode::kSubNetworkDoesNotExist);
  CHECK(n.c.one(v, SetWeights{1, {0, 1, 1}, {1, 1, 1}, 0}).error ==
        ChainErrorCode::kUidsLengthExceedUidsInSubNet);
  CHECK(n.c.one(keyOf(150), SetWeights{1, {0}, {1}, 0}).error ==
        ChainErrorCode::kHotKeyNotRegisteredInSubNet);
  CHECK(n.c.one(v, SetWeights{0, {0}, {1}, 0}).error == ChainErrorCode::kCanNotSetRootNetworkWeights);
  // No permit yet (no epoch has run): only a self-weight is allowed.
  CHECK(n.c.one(v, SetWeights{1, {1}, {1}, 0}).error == ChainErrorCode::kNeuronNoValidatorPermit);
  CHECK(n.c.one(v, SetWeights{1, {0}, {7}, 0}).success());
  CHECK(n.c.view()->weights(1, 0) == std::vector<consensus::UidValue>{{0, 65535}});
  CHECK(n.c.one(v, SetWeights{1, {0}, {7}, 0}).error == ChainErrorCode::kSettingWeightsTooFast);
  CHECK(n.c.one(n.owner, SetHyperparameter{1, Hyper::kWeightsVersionKey, 5}).success());
  for (int i = 0; i < 3; ++i) n.c.next();
  CHECK(n.c.one(v, SetWeights{1, {0}, {7}, 4}).error == ChainErrorCode::kIncorrectWeightVersionKey);
  CHECK(n.c.one(v, SetWeights{1, {0}, {7}, 5}).success());
  CHECK(n.c.one(n.owner, SetHyperparameter{1, Hyper::kStakeThreshold, 1000}).success());
  for (int i = 0; i < 3; ++i) n.c.next();
  CHECK(n.c.one(v, SetWeights{1, {0}, {7}, 5}).error == ChainErrorCode::kNotEnoughStakeToSetWeights);
}

TEST_CASE("epochs pay out: better-weighted miners earn more, validators earn dividends, issuance holds") {
  Net n;
  n.reg(2, 102);  // validator (uid 0)
  n.reg(3, 103);  // validator (uid 1)
  n.reg(4, 104);  // miner (uid 2)
  n.reg(5, 105);  // miner (uid 3)
  REQUIRE(n.c.one(keyOf(2), AddStake{keyOf(102).publicKey().accountId(), 1000 * kRaoPerMerit}).success());
  REQUIRE(n.c.one(keyOf(3), AddStake{keyOf(103).publicKey().accountId(), 500 * kRaoPerMerit}).success());
  // Wait for an epoch so the staked validators get permits.
  auto tempo = n.c.view()->subnet(1)->params.get(Hyper::kTempo);
  while (!Runtime::isEpochBlock(n.c.block, 1, tempo)) n.c.next();
  CHECK(n.c.view()->neuron(1, 0)->validatorPermit);
  CHECK(n.c.view()->neuron(1, 1)->validatorPermit);
  REQUIRE(n.c.one(keyOf(102), SetWeights{1, {2, 3}, {60000, 20000}, 0}).success());
  REQUIRE(n.c.one(keyOf(103), SetWeights{1, {2, 3}, {50000, 25000}, 0}).success());
  for (std::uint64_t i = 0; i < 3 * (tempo + 1); ++i) {
    n.c.next();
    n.c.checkIssuance();
  }
  auto s = n.c.view();
  auto miner2 = s->totalHotkeyStake(keyOf(104).publicKey().accountId());
  auto miner3 = s->totalHotkeyStake(keyOf(105).publicKey().accountId());
  CHECK(miner2 > miner3);
  CHECK(miner3 > 0);
  CHECK(s->neuron(1, 2)->incentive > s->neuron(1, 3)->incentive);
  CHECK(s->neuron(1, 0)->dividends > 0);
  CHECK(s->totalHotkeyStake(keyOf(102).publicKey().accountId()) > 1000 * kRaoPerMerit);
  Totals t = s->totals();
  CHECK(t.emitted > 0);
  // Σ free + Σ stake + Σ locked == issuance.
  Balance free = 0;
  for (int i = 1; i <= 21; ++i) free += n.c.free(i);
  CHECK(free + t.stake == t.issuance - t.locked);
}

TEST_CASE("commit-reveal: hash commits, reveal in the next epoch, named errors") {
  Net n({{Hyper::kTempo, 4},
         {Hyper::kWeightsRateLimit, 0},
         {Hyper::kCommitReveal, 1},
         {Hyper::kTargetRegistrationsPerInterval, 100}});
  n.reg(2, 102);
  n.reg(3, 103);
  auto v = keyOf(102);
  AccountId hk = v.publicKey().accountId();
  CHECK(n.c.one(v, SetWeights{1, {0}, {1}, 0}).error == ChainErrorCode::kCommitRevealEnabled);
  std::vector<std::uint16_t> uids{0}, values{9}, salt{1, 2, 3};
  auto hash = crypto::blake2b256(consensus::weightsCommitPreimage(hk, 1, uids, values, salt, 0));
  REQUIRE(n.c.one(v, CommitWeights{1, hash}).success());
  CHECK(n.c.one(v, RevealWeights{1, uids, values, salt, 0}).error == ChainErrorCode::kRevealTooEarly);
  CHECK(n.c.one(v, RevealWeights{1, uids, {8}, salt, 0}).error ==
        ChainErrorCode::kInvalidRevealCommitHashNotMatch);
  auto commitEpoch = n.c.view()->commits(1, hk)[0].epoch;
  while (Runtime::epochIndex(n.c.block + 1, 1, 4) < commitEpoch + 1) n.c.next();
  CHECK(n.c.one(v, RevealWeights{1, uids, values, salt, 0}).success());
  CHECK(n.c.view()->weights(1, 0) == std::vector<consensus::UidValue>{{0, 65535}});
  CHECK(n.c.view()->commits(1, hk).empty());
  CHECK(n.c.one(v, RevealWeights{1, uids, values, salt, 0}).error == ChainErrorCode::kNoWeightsCommitFound);
  // A commit left unrevealed past its epoch expires.
  REQUIRE(n.c.one(v, CommitWeights{1, hash}).success());
  for (int i = 0; i < 12; ++i) n.c.next();
  CHECK(n.c.one(v, RevealWeights{1, uids, values, salt, 0}).error == ChainErrorCode::kExpiredWeightCommit);
  CHECK(n.c.one(keyOf(103), CommitWeights{1, hash}).success());
  Net off;
  off.reg(2, 102);
  CHECK(off.c.one(v, CommitWeights{1, hash}).error == ChainErrorCode::kCommitRevealDisabled);
}

TEST_CASE("root network: registration and weights steer subnet emission") {
  Chain c;
  REQUIRE(c.one(keyOf(1), CreateSubnet{"a", 1, {}}).success());
  REQUIRE(c.one(keyOf(1), CreateSubnet{"b", 1, {}}).success());
  REQUIRE(c.one(keyOf(2), RootRegister{keyOf(102).publicKey()}).success());
  CHECK(c.one(keyOf(2), RootRegister{keyOf(102).publicKey()}).error ==
        ChainErrorCode::kHotKeyAlreadyRegisteredInSubNet);
  CHECK(c.one(keyOf(3), RootRegister{keyOf(102).publicKey()}).error == ChainErrorCode::kNonAssociatedColdKey);
  REQUIRE(c.one(keyOf(2), AddStake{keyOf(102).publicKey().accountId(), 100 * kRaoPerMerit}).success());
  CHECK(c.one(keyOf(102), SetRootWeights{{1, 9}, {1, 1}, 0}).error ==
        ChainErrorCode::kUidVecContainInvalidOne);
  CHECK(c.one(keyOf(103), SetRootWeights{{1}, {1}, 0}).error == ChainErrorCode::kHotKeyNotRegisteredInSubNet);
  REQUIRE(c.one(keyOf(102), SetRootWeights{{1, 2}, {60000, 20000}, 0}).success());
  while (!Runtime::isEpochBlock(c.block, 0, 5)) c.next();
  auto s = c.view();
  auto e1 = s->subnet(1)->emissionPerBlock, e2 = s->subnet(2)->emissionPerBlock;
  CHECK(e1 > e2);
  CHECK(e2 > 0);
  CHECK(e1 + e2 <= 1'000'000'000);
}

TEST_CASE("issuance invariant over many random blocks of random calls") {
  Net n;
  std::mt19937 rng(7);
  for (int i = 2; i <= 8; ++i) n.reg(i, 100 + i);
  for (int b = 0; b < 150; ++b) {
    std::vector<crypto::PrivateKey> keys;
    std::vector<std::pair<const crypto::PrivateKey*, Call>> calls;
    keys.reserve(4);
    for (int k = 0; k < 3; ++k) {
      int who = 2 + static_cast<int>(rng() % 7);
      keys.push_back(keyOf(who));
      AccountId hk = keyOf(100 + 2 + static_cast<int>(rng() % 7)).publicKey().accountId();
      Balance amt = rng() % (5 * kRaoPerMerit);
      Call call;
      switch (rng() % 4) {
        case 0: call = Transfer{keyOf(2 + static_cast<int>(rng() % 7)).publicKey().accountId(), amt}; break;
        case 1: call = AddStake{hk, amt}; break;
        case 2: call = RemoveStake{hk, amt}; break;
        default: call = BurnedRegister{1, keyOf(300 + static_cast<int>(rng() % 50)).publicKey()}; break;
      }
      calls.emplace_back(&keys.back(), std::move(call));
    }
    n.c.next(calls);
    n.c.checkIssuance();
  }
}

}  // namespace
}  // namespace merit::chain

namespace merit::chain {
namespace {

using namespace merit::tx;

TEST_CASE("fees: paid and burned per extrinsic, even when the call fails; unpayable is refused") {
  RuntimeConfig cfg = Chain::testConfig();
  cfg.extrinsicFee = 1000;
  Chain c(cfg);
  Balance before = c.free(1);
  CHECK(c.one(keyOf(1), Transfer{keyOf(2).publicKey().accountId(), 5}).success());
  CHECK(c.free(1) == before - 5 - 1000);
  auto failed = c.one(keyOf(1), Transfer{keyOf(2).publicKey().accountId(), before * 2});
  CHECK(failed.error == ChainErrorCode::kNotEnoughBalance);
  CHECK(c.free(1) == before - 5 - 2000);
  CHECK(c.view()->totals().burned == 2000);
  c.checkIssuance();
  // An account that cannot pay the fee is refused before inclusion.
  auto poor = keyOf(30);
  auto xt =
      signExtrinsic(poor, c.runtime.genesisHash(), 0, 100, Transfer{keyOf(2).publicKey().accountId(), 0});
  CHECK(c.runtime.validate(xt, c.base, c.block + 1).error().is(ChainErrorCode::kPayment));
}

TEST_CASE("more named errors: limits, disabled registration, root, commits") {
  SUBCASE("SubnetLimitReached") {
    RuntimeConfig cfg = Chain::testConfig();
    cfg.subnetLimit = 1;
    Chain c(cfg);
    REQUIRE(c.one(keyOf(1), CreateSubnet{"a", 1, {}}).success());
    CHECK(c.one(keyOf(1), CreateSubnet{"b", 1, {}}).error == ChainErrorCode::kSubnetLimitReached);
  }
  SUBCASE("SubNetRegistrationDisabled and TooManyRegistrationsThisBlock / ThisInterval") {
    RuntimeConfig cfg = Chain::testConfig();
    cfg.maxRegistrationsPerBlock = 1;
    Chain c(cfg);
    REQUIRE(c.one(keyOf(1), CreateSubnet{"a", 1, {{Hyper::kTargetRegistrationsPerInterval, 1}}}).success());
    auto k2 = keyOf(2), k3 = keyOf(3);
    auto two = c.next(
        {{&k2, BurnedRegister{1, keyOf(102).publicKey()}}, {&k3, BurnedRegister{1, keyOf(103).publicKey()}}});
    CHECK(two[0].success());
    CHECK(two[1].error == ChainErrorCode::kTooManyRegistrationsThisBlock);
    CHECK(c.one(keyOf(3), BurnedRegister{1, keyOf(104).publicKey()}).success());
    CHECK(c.one(keyOf(3), BurnedRegister{1, keyOf(105).publicKey()}).success());
    CHECK(c.one(keyOf(3), BurnedRegister{1, keyOf(106).publicKey()}).error ==
          ChainErrorCode::kTooManyRegistrationsThisInterval);
    REQUIRE(c.one(keyOf(1), SetHyperparameter{1, Hyper::kRegistrationAllowed, 0}).success());
    CHECK(c.one(keyOf(3), BurnedRegister{1, keyOf(107).publicKey()}).error ==
          ChainErrorCode::kSubNetRegistrationDisabled);
    CHECK(c.one(keyOf(1), SetHyperparameter{1, Hyper::kMaxAllowedUids, 1}).error ==
          ChainErrorCode::kMaxAllowedUIdsLessThanCurrentUIds);
  }
  SUBCASE("StakeTooLowForRoot when the root network is full") {
    RuntimeConfig cfg = Chain::testConfig();
    cfg.maxRootValidators = 1;
    Chain c(cfg);
    REQUIRE(c.one(keyOf(2), RootRegister{keyOf(102).publicKey()}).success());
    REQUIRE(c.one(keyOf(2), AddStake{keyOf(102).publicKey().accountId(), 100}).success());
    CHECK(c.one(keyOf(3), RootRegister{keyOf(103).publicKey()}).error == ChainErrorCode::kStakeTooLowForRoot);
    // A hotkey with more stake than the incumbent takes the seat.
    REQUIRE(c.one(keyOf(3), BurnedRegister{0, keyOf(103).publicKey()}).error ==
            ChainErrorCode::kRegistrationNotPermittedOnRootSubnet);
  }
  SUBCASE("set_weights rule errors from merit_consensus keep their names") {
    Net n;
    n.reg(2, 102);
    n.reg(3, 103);
    CHECK(n.c.one(keyOf(102), SetWeights{1, {0, 0}, {1, 1}, 0}).error ==
          ChainErrorCode::kNeuronNoValidatorPermit);
    CHECK(n.c.one(keyOf(102), SetRootWeights{{1, 1}, {1, 1}, 0}).error ==
          ChainErrorCode::kHotKeyNotRegisteredInSubNet);
  }
  SUBCASE("TooManyUnrevealedCommits") {
    RuntimeConfig cfg = Chain::testConfig();
    cfg.maxUnrevealedCommits = 2;
    Chain c(cfg);
    REQUIRE(
        c.one(keyOf(1),
              CreateSubnet{
                  "a", 1, {{Hyper::kCommitReveal, 1}, {Hyper::kWeightsRateLimit, 0}, {Hyper::kTempo, 100}}})
            .success());
    REQUIRE(c.one(keyOf(2), BurnedRegister{1, keyOf(102).publicKey()}).success());
    CHECK(c.one(keyOf(102), CommitWeights{1, crypto::blake2b256(asBytes("1"))}).success());
    CHECK(c.one(keyOf(102), CommitWeights{1, crypto::blake2b256(asBytes("2"))}).success());
    CHECK(c.one(keyOf(102), CommitWeights{1, crypto::blake2b256(asBytes("3"))}).error ==
          ChainErrorCode::kTooManyUnrevealedCommits);
  }
}

}  // namespace
}  // namespace merit::chain
