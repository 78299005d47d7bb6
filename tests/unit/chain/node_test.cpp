#include "merit/chain/node.h"

#include <filesystem>

#include <doctest/doctest.h>

#include "test_support.h"
#include <nlohmann/json.hpp>

#include "merit/chain/config.h"
#include "merit/chain/rpc_server.h"

namespace merit::chain {
namespace {

namespace fs = std::filesystem;
using namespace merit::tx;

crypto::PrivateKey keyOf(int n) { return test::testKey(n); }

using test::TempDir;

NodeConfig testConfig(const fs::path& dir) {
  NodeConfig c = devPreset().node;
  c.dataDir = dir.string();
  for (int i = 1; i <= 5; ++i) c.genesis.balances.emplace_back(keyOf(i).publicKey().accountId(), 1000 * kRaoPerMerit);
  c.mempoolCapacity = 50;
  c.mempoolPerAccount = 20;
  return c;
}

Bytes transfer(const Node& node, int from, int to, std::uint64_t nonce, Balance amount, std::uint64_t validUntil = 1000) {
  return encodeExtrinsic(signExtrinsic(keyOf(from), node.genesisHash(), nonce, validUntil,
                                       Transfer{keyOf(to).publicKey().accountId(), amount}));
}

Balance freeOf(const Node& node, int who) {
  return node.read([&](const StateView& s, std::uint64_t) { return s.account(keyOf(who).publicKey().accountId()).free; });
}

TEST_CASE("blocks persist; a reopened node resumes at the head with the same state") {
  TempDir dir;
  ManualClock clock;
  crypto::Hash256 genesis{}, headHash{};
  std::vector<crypto::Hash256> included;
  {
    auto node = Node::open(testConfig(dir.path()), devAuthorityKey(), clock);
    REQUIRE(node);
    genesis = (*node)->genesisHash();
    for (std::uint64_t n = 0; n < 5; ++n) {
      auto h = (*node)->submit(transfer(**node, 1, 2, n, 10));
      REQUIRE(h);
      included.push_back(*h);
    }
    CHECK((*node)->status(included[0]).state == XtState::kPending);
    clock.advance(std::chrono::milliseconds(500));
    auto b1 = (*node)->produceBlock();
    REQUIRE(b1);
    CHECK(b1->number == 1);
    CHECK((*node)->block(1)->extrinsics.size() == 5);
    auto st = (*node)->status(included[4]);
    CHECK(st.state == XtState::kIncluded);
    CHECK(st.block == 1);
    CHECK(st.index == 4);
    CHECK(st.success);
    REQUIRE((*node)->produceBlock());
    headHash = (*node)->head().hash();
    CHECK(freeOf(**node, 2) == 1000 * kRaoPerMerit + 50);
  }
  auto node = Node::open(testConfig(dir.path()), devAuthorityKey(), clock);
  REQUIRE(node);
  CHECK((*node)->genesisHash() == genesis);
  CHECK((*node)->head().number == 2);
  CHECK((*node)->head().hash() == headHash);
  CHECK(freeOf(**node, 2) == 1000 * kRaoPerMerit + 50);
  for (const auto& h : included) CHECK((*node)->status(h).state == XtState::kIncluded);
  // The chain goes on from there, with nonces continuing.
  REQUIRE((*node)->submit(transfer(**node, 1, 2, 5, 1)));
  CHECK_FALSE((*node)->submit(transfer(**node, 1, 2, 4, 1)));  // stale
  REQUIRE((*node)->produceBlock());
  CHECK((*node)->head().number == 3);
  CHECK((*node)->block(3)->header.parent == headHash);
}

TEST_CASE("mempool: rejections are named; future nonces wait for the gap to fill") {
  TempDir dir;
  ManualClock clock;
  auto node = Node::open(testConfig(dir.path()), devAuthorityKey(), clock);
  REQUIRE(node);
  Node& n = **node;
  auto bad = n.submit(Bytes{std::byte{1}, std::byte{2}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().starts_with("Malformed"));

  Bytes x0 = transfer(n, 1, 2, 0, 1);
  REQUIRE(n.submit(x0));
  CHECK(n.submit(x0).error().message().starts_with("AlreadyInPool"));
  CHECK(n.submit(transfer(n, 1, 2, 0, 2)).error().message().starts_with("NonceInPool"));
  auto otherChain = encodeExtrinsic(signExtrinsic(keyOf(1), crypto::blake2b256(asBytes("x")), 1, 100,
                                                  Transfer{keyOf(2).publicKey().accountId(), 1}));
  CHECK(n.submit(otherChain).error().message().starts_with("BadSignature"));
  CHECK(n.submit(transfer(n, 1, 2, 1000, 1)).error().message().starts_with("FutureTooFar"));
  CHECK(n.submit(transfer(n, 1, 2, 1, 1, 0)).error().message().starts_with("Expired"));

  // Nonce 2 arrives before 1: it waits.
  auto h2 = n.submit(transfer(n, 1, 2, 2, 1));
  REQUIRE(h2);
  REQUIRE(n.produceBlock());
  CHECK(n.status(*h2).state == XtState::kPending);
  auto h1 = n.submit(transfer(n, 1, 2, 1, 1));
  REQUIRE(h1);
  REQUIRE(n.produceBlock());
  CHECK(n.status(*h1).state == XtState::kIncluded);
  CHECK(n.status(*h2).state == XtState::kIncluded);
  CHECK(n.status(*h2).index == 1);

  // The pool is bounded, per account and in total.
  for (std::uint64_t k = 3; k < 23; ++k) REQUIRE(n.submit(transfer(n, 1, 2, k, 1)));
  auto tooMany = n.submit(transfer(n, 1, 2, 23, 1));
  REQUIRE_FALSE(tooMany);
  CHECK(tooMany.error().code() == ErrorCode::kOverloaded);
}

TEST_CASE("failed calls are included with their named error") {
  TempDir dir;
  ManualClock clock;
  auto node = Node::open(testConfig(dir.path()), devAuthorityKey(), clock);
  REQUIRE(node);
  auto h = (*node)->submit(transfer(**node, 1, 2, 0, 5000 * kRaoPerMerit));
  REQUIRE(h);
  REQUIRE((*node)->produceBlock());
  auto st = (*node)->status(*h);
  CHECK(st.state == XtState::kIncluded);
  CHECK_FALSE(st.success);
  CHECK(st.error == "NotEnoughBalance");
  CHECK((*node)->block(1)->events[0].error == "NotEnoughBalance");
}

TEST_CASE("JSON-RPC: malformed requests get JSON-RPC errors, never a crash") {
  TempDir dir;
  ManualClock clock;
  auto node = Node::open(testConfig(dir.path()), devAuthorityKey(), clock);
  REQUIRE(node);
  RpcHandler rpc(**node);
  auto call = [&](const std::string& body) { return nlohmann::json::parse(rpc.handle(body)); };
  CHECK(call("{not json")["error"]["code"] == -32700);
  CHECK(call("[]")["error"]["code"] == -32600);
  CHECK(call("42")["error"]["code"] == -32600);
  CHECK(call(R"({"jsonrpc":"1.0","id":1,"method":"system_health"})")["error"]["code"] == -32600);
  CHECK(call(R"({"jsonrpc":"2.0","id":1,"method":"nope"})")["error"]["code"] == -32601);
  CHECK(call(R"({"jsonrpc":"2.0","id":1,"method":"chain_getBlock","params":["x"]})")["error"]["code"] == -32602);
  CHECK(call(R"({"jsonrpc":"2.0","id":1,"method":"chain_getBlock","params":[99]})")["error"]["code"] == -32002);
  CHECK(call(R"({"jsonrpc":"2.0","id":1,"method":"account_get","params":["5Grw"]})")["error"]["code"] == -32602);
  CHECK(call(R"({"jsonrpc":"2.0","id":1,"method":"author_submitExtrinsic","params":["0x00"]})")["error"]["data"]["name"] ==
        "Malformed");
  CHECK(call(R"({"jsonrpc":"2.0","id":1,"method":"system_health","params":[1,2,3]})")["result"]["ok"] == true);
  CHECK(rpc.handle(R"({"jsonrpc":"2.0","method":"system_health"})").empty());  // notification
  auto batch = call(R"([{"jsonrpc":"2.0","id":1,"method":"system_info"},{"jsonrpc":"2.0","id":2,"method":"subnet_get","params":{"netuid":0}}])");
  REQUIRE(batch.is_array());
  CHECK(batch[0]["result"]["genesis_hash"] == "0x" + toHex((*node)->genesisHash()));
  CHECK(batch[1]["result"]["plugin"] == "root");
  std::string big(kMaxRpcBodyBytes + 1, ' ');
  CHECK(call(big)["error"]["code"] == -32600);

  auto x = toHex(transfer(**node, 1, 3, 0, 7));
  auto submitted = call(R"({"jsonrpc":"2.0","id":1,"method":"author_submitExtrinsic","params":["0x)" + x + R"("]})");
  REQUIRE(submitted.contains("result"));
  REQUIRE((*node)->produceBlock());
  auto status = call(R"({"jsonrpc":"2.0","id":1,"method":"author_extrinsicStatus","params":[")" +
                     submitted["result"].get<std::string>() + R"("]})");
  CHECK(status["result"]["status"] == "included");
  CHECK(status["result"]["block"] == 1);
}

TEST_CASE("config: keys, ranges and typos are reported with file and key") {
  auto ok = parseChainConfig("node:\n  block_time_ms: 250\nroot:\n  tempo: 7\nsubnet_defaults:\n  tempo: 12\n", "c.yaml",
                             ChainConfig{});
  REQUIRE(ok);
  CHECK(ok->node.blockTime == std::chrono::milliseconds(250));
  CHECK(ok->node.runtime.rootTempo == 7);
  CHECK(ok->node.runtime.defaultParams.get(Hyper::kTempo) == 12);
  auto typo = parseChainConfig("node:\n  block_tme_ms: 250\n", "c.yaml", ChainConfig{});
  REQUIRE_FALSE(typo);
  CHECK(typo.error().message().starts_with("c.yaml: node.block_tme_ms: unknown key"));
  auto range = parseChainConfig("subnet_defaults:\n  kappa: 70000\n", "c.yaml", ChainConfig{});
  CHECK(range.error().message() == "c.yaml: subnet_defaults.kappa: must be in [0, 65535]");
  auto addr = parseChainConfig("genesis:\n  balances:\n    - {address: 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ, amount: 1}\n",
                               "c.yaml", ChainConfig{});
  CHECK(addr.error().message().find("genesis.balances[0].address") != std::string::npos);
  CHECK(addr.error().message().find("checksum") != std::string::npos);
  auto neg = parseChainConfig("node:\n  rpc_port: -1\n", "c.yaml", ChainConfig{});
  CHECK(neg.error().message().find("node.rpc_port") != std::string::npos);
  auto syntax = parseChainConfig("node: [\n", "c.yaml", ChainConfig{});
  CHECK(syntax.error().message().starts_with("c.yaml: line"));
}

}  // namespace
}  // namespace merit::chain

namespace merit::chain {
namespace {

TEST_CASE("the shipped configs/chain.yaml loads over the defaults and over --dev") {
  auto plain = loadChainConfig(MERIT_SOURCE_DIR "/configs/chain.yaml", ChainConfig{});
  REQUIRE_MESSAGE(plain, (plain ? "" : plain.error().message()));
  auto dev = loadChainConfig(MERIT_SOURCE_DIR "/configs/chain.yaml", devPreset());
  REQUIRE(dev);
}

}  // namespace
}  // namespace merit::chain
