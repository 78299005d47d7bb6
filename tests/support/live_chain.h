// LiveChain: a real merit-chain node in process for tests: RocksDB in a temporary directory, the
// JSON-RPC server on a free loopback port, blocks produced on a timer, and optionally the ZeroMQ
// block feed. Tests that use it link merit_chain.
//
//   test::LiveChain chain({.balances = {{key.publicKey().accountId(), 100 * tx::kRaoPerMerit}},
//                          .subnets = {test::hashSubnet(key)}, .feed = true});
//   auto client = rpc::ChainClient::connect(chain.url());
//
// Thread-safety: one test owns it; the node runs its own threads until destruction.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "merit/chain/config.h"
#include "merit/chain/feed.h"
#include "merit/chain/rpc_server.h"
#include "merit/util/clock.h"

#include "test_support.h"

namespace merit::test {

struct LiveChainOptions {
  std::chrono::milliseconds blockTime{50};
  std::vector<std::pair<tx::AccountId, tx::Balance>> balances{};
  std::vector<chain::Runtime::GenesisSubnet> subnets{};
  bool feed = false;  // also publish blocks on a ZeroMQ feed (system_info names it)
  chain::RpcLimits rpcLimits{};
  bool dev = true;  // system_info "dev"; false: a chain peers treat as a real network
};

// A genesis subnet on the `hash` plugin owned by `owner`, with hyperparameter overrides.
inline chain::Runtime::GenesisSubnet hashSubnet(
    const crypto::PrivateKey& owner, std::vector<std::pair<tx::Hyper, std::uint64_t>> overrides = {}) {
  chain::Runtime::GenesisSubnet sn;
  sn.owner = owner.publicKey().accountId();
  sn.plugin = "hash";
  sn.overrides = std::move(overrides);
  return sn;
}

class LiveChain {
 public:
  explicit LiveChain(LiveChainOptions options) {
    auto cfg = chain::devPreset().node;
    cfg.dataDir = m_dir.path().string();
    cfg.blockTime = options.blockTime;
    cfg.dev = options.dev;
    cfg.genesis.balances = std::move(options.balances);
    cfg.genesis.subnets = std::move(options.subnets);
    node = std::move(chain::Node::open(cfg, chain::devAuthorityKey(), m_clock).value());
    std::string feedEndpoint;
    if (options.feed) {
      feed = std::move(chain::BlockFeed::bind("tcp://127.0.0.1:*").value());
      chain::BlockFeed* f = feed.get();
      node->onBlock([f](const chain::Block& b) { f->publish(b); });
      feedEndpoint = feed->endpoint();
    }
    rpc = std::move(chain::RpcServer::start(*node, "127.0.0.1", 0, feedEndpoint, options.rpcLimits).value());
    node->start();
  }
  ~LiveChain() {
    rpc->stop();
    node->stop();
  }
  LiveChain(const LiveChain&) = delete;
  LiveChain& operator=(const LiveChain&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(rpc->port()); }
  const std::filesystem::path& dir() const { return m_dir.path(); }

 private:
  TempDir m_dir{"merit_live_chain"};  // declared first: removed after the node has stopped
  SystemClock m_clock;

 public:
  std::unique_ptr<chain::Node> node;
  std::unique_ptr<chain::BlockFeed> feed;
  std::unique_ptr<chain::RpcServer> rpc;
};

}  // namespace merit::test
