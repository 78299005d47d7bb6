// bench_chain: the dev chain's throughput and block production cost, on the real code paths.
//
//   1. transfers/s through JSON-RPC: pre-signed transfers from many accounts posted by C client
//      threads (HTTP keep-alive) to author_submitExtrinsic on an in-process node + RPC server,
//      then blocks produced until all are included; reports accepted/s at the RPC and included/s.
//   2. set_weights/s through JSON-RPC: the same for 256 validators' full weight rows (256 uids).
//   3. block production: a chain with 4 subnets x 256 UIDs, 64 staked validators each weighting
//      every UID; times produceBlock() for plain blocks and for blocks that run a subnet epoch.
//
// Prints one JSON object per measurement. Usage: bench_chain [--clients C] [--transfers N] [--blocks B]
// [--epoch-history K] [--durability sync|group|none] [--group-ms MS] [--max-block-extrinsics N]
// [--max-block-bytes B] [--scheme ecdsa|sr25519] (--blocks: blocks produced in part 3, 120 by
// default; every 51st block of a subnet has its epoch; --epoch-history: the node's
// node.epoch_history, 0 to compare without it; --scheme: the key scheme every account signs with,
// ecdsa by default; the others: the node's node.durability, node.durability_group_ms and block
// caps, the node's defaults unless given. Before the caps existed the bench used 100000
// extrinsics a block: pass --max-block-extrinsics 100000 --max-block-bytes 1073741824 to measure
// that way.)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "merit/chain/config.h"
#include "merit/chain/rpc_server.h"
#include "merit/util/log.h"

namespace {

using namespace merit;
using namespace merit::tx;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// The scheme every account signs with (--scheme).
crypto::KeyScheme g_scheme = crypto::KeyScheme::kEcdsa;

crypto::AnyPrivateKey keyOf(int n) {
  ByteArray<32> secret{};
  secret[0] = std::byte{0x42};
  secret[29] = static_cast<std::byte>(n >> 16);
  secret[30] = static_cast<std::byte>(n >> 8);
  secret[31] = static_cast<std::byte>(n);
  if (g_scheme == crypto::KeyScheme::kSr25519) {
    return crypto::AnyPrivateKey(crypto::sr25519::Keypair::fromMiniSecret(secret).value());
  }
  return crypto::AnyPrivateKey(crypto::PrivateKey::fromBytes(secret).value());
}

const char* schemeOf() {
  return crypto::schemeName(g_scheme).data();
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The node settings under test (command line).
chain::NodeConfig g_node;

const char* durabilityOf() {
  return chain::durabilityName(g_node.store.durability).data();
}

struct Bench {
  fs::path dir;
  ManualClock clock;
  std::unique_ptr<chain::Node> node;
  std::unique_ptr<chain::RpcServer> rpc;

  Bench(int accounts, std::size_t epochHistory = chain::NodeConfig{}.epochHistory) {
    char tmpl[] = "/tmp/merit_bench_chain_XXXXXX";
    dir = ::mkdtemp(tmpl);
    auto cfg = chain::devPreset().node;
    cfg.dataDir = dir.string();
    cfg.maxBlockExtrinsics = g_node.maxBlockExtrinsics;
    cfg.maxBlockBytes = g_node.maxBlockBytes;
    cfg.store = g_node.store;
    cfg.epochHistory = epochHistory;
    cfg.mempoolCapacity = 1'000'000;
    cfg.mempoolPerAccount = 100'000;
    cfg.maxFutureNonceGap = 100'000;
    cfg.mempoolBytes = std::size_t{1} << 30;  // the bench queues far more than the default 64 MiB
    cfg.mempoolLongevity = 1'000'000;         // and drains it over many blocks
    cfg.runtime.maxRegistrationsPerBlock = 100'000;
    cfg.runtime.subnetLimit = 16;
    for (int i = 0; i < accounts; ++i) {
      cfg.genesis.balances.emplace_back(keyOf(i).publicKey().accountId(), 1'000'000 * kRaoPerMerit);
    }
    node = std::move(chain::Node::open(cfg, chain::devAuthorityKey(), clock).value());
    rpc = std::move(chain::RpcServer::start(*node, "127.0.0.1", 0).value());
  }
  ~Bench() {
    rpc->stop();
    node.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  void block() {
    clock.advance(std::chrono::milliseconds(100));
    if (!node->produceBlock()) std::abort();
  }
  void include(const std::vector<Extrinsic>& xts) {
    for (const auto& x : xts) {
      if (auto h = node->submit(encodeExtrinsic(x)); !h) {
        std::fprintf(stderr, "setup submit failed: %s\n", h.error().toString().c_str());
        std::abort();
      }
    }
    while (node->mempoolSize() > 0) block();
  }

  // Posts `bodies` from `clients` threads; returns the wall time.
  Clock::duration post(const std::vector<std::string>& bodies, int clients) {
    std::atomic<std::size_t> next{0}, failures{0};
    auto t0 = Clock::now();
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(clients));
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&] {
        httplib::Client http("127.0.0.1", rpc->port());
        http.set_keep_alive(true);
        http.set_tcp_nodelay(true);
        for (std::size_t i = next++; i < bodies.size(); i = next++) {
          auto res = http.Post("/", bodies[i], "application/json");
          if (!res || res->body.find("\"result\"") == std::string::npos) ++failures;
        }
      });
    }
    for (auto& t : threads) t.join();
    if (failures > 0) std::fprintf(stderr, "%zu submissions failed\n", failures.load());
    return Clock::now() - t0;
  }
};

std::string submitBody(const Extrinsic& x, std::size_t id) {
  return nlohmann::json({{"jsonrpc", "2.0"},
                         {"id", id},
                         {"method", "author_submitExtrinsic"},
                         {"params", {"0x" + toHex(encodeExtrinsic(x))}}})
      .dump();
}

void benchTransfers(int clients, int total) {
  const int accounts = 64;
  Bench b(accounts);
  std::vector<std::string> bodies;
  std::vector<std::uint64_t> nonce(accounts, 0);
  for (int i = 0; i < total; ++i) {
    int from = i % accounts;
    auto x = signExtrinsic(keyOf(from), b.node->genesisHash(), nonce[from]++, 1'000'000,
                           Transfer{keyOf((from + 1) % accounts).publicKey().accountId(), 1});
    bodies.push_back(submitBody(x, static_cast<std::size_t>(i)));
  }
  const auto checks0 = b.node->runtime().signatureChecks();
  auto submit = b.post(bodies, clients);
  const auto checks1 = b.node->runtime().signatureChecks();
  const auto head0 = b.node->head().number;
  auto t0 = Clock::now();
  while (b.node->mempoolSize() > 0) b.block();
  auto include = Clock::now() - t0;
  std::printf(
      R"({"bench":"transfers_rpc","scheme":"%s","durability":"%s","clients":%d,"extrinsics":%d,"submit_ms":%.1f,"submit_per_s":%.0f,"include_ms":%.1f,"include_per_s":%.0f,"blocks":%llu,"signature_checks_submit":%llu,"signature_checks_include":%llu})"
      "\n",
      schemeOf(), durabilityOf(), clients, total, ms(submit), total / (ms(submit) / 1000), ms(include),
      total / (ms(include) / 1000), static_cast<unsigned long long>(b.node->head().number - head0),
      static_cast<unsigned long long>(checks1 - checks0),
      static_cast<unsigned long long>(b.node->runtime().signatureChecks() - checks1));
}

// A subnet with `n` uids of which the first `validators` are staked and hold permits.
void buildSubnets(Bench& b, int subnets, int n, int validators) {
  // Coldkey 0 owns the subnets; coldkeys 1..subnets register and stake.
  std::vector<Extrinsic> xts;
  xts.reserve(static_cast<std::size_t>(subnets));
  std::uint64_t ownerNonce = 0;
  for (int s = 0; s < subnets; ++s) {
    xts.push_back(signExtrinsic(keyOf(0), b.node->genesisHash(), ownerNonce++, 1'000'000,
                                CreateSubnet{"bench",
                                             1,
                                             {{Hyper::kTempo, 50},
                                              {Hyper::kWeightsRateLimit, 0},
                                              {Hyper::kMaxAllowedUids, static_cast<std::uint64_t>(n)},
                                              {Hyper::kTargetRegistrationsPerInterval, 10'000},
                                              {Hyper::kActivityCutoff, 100'000}}}));
  }
  b.include(xts);
  xts.clear();
  for (int s = 0; s < subnets; ++s) {
    std::uint64_t nonce = 0;
    for (int u = 0; u < n; ++u) {
      auto hot = keyOf(1000 + s * 10'000 + u);
      xts.push_back(signExtrinsic(keyOf(1 + s), b.node->genesisHash(), nonce++, 1'000'000,
                                  BurnedRegister{static_cast<NetUid>(s + 1), hot.publicKey()}));
      if (u < validators) {
        xts.push_back(signExtrinsic(keyOf(1 + s), b.node->genesisHash(), nonce++, 1'000'000,
                                    AddStake{hot.publicKey().accountId(), (1000 + u) * kRaoPerMerit}));
      }
    }
  }
  b.include(xts);
  // Run until every subnet has had an epoch, so the validators hold permits.
  for (int i = 0; i < 60; ++i) b.block();
}

std::vector<Extrinsic> weightRows(Bench& b, int subnets, int n, int validators, std::uint64_t& round) {
  std::vector<Extrinsic> xts;
  std::vector<Uid> uids(n);
  for (int u = 0; u < n; ++u) uids[u] = static_cast<Uid>(u);
  for (int s = 0; s < subnets; ++s) {
    for (int v = 0; v < validators; ++v) {
      std::vector<std::uint16_t> values(n);
      for (int u = 0; u < n; ++u)
        values[u] = static_cast<std::uint16_t>(1 + (u * 7919 + v * 104729 + round) % 60000);
      auto hot = keyOf(1000 + s * 10'000 + v);
      xts.push_back(signExtrinsic(hot, b.node->genesisHash(), round, 1'000'000,
                                  SetWeights{static_cast<NetUid>(s + 1), uids, values, 0}));
    }
  }
  ++round;
  return xts;
}

void benchWeightsAndBlocks(int clients, int blocks, std::size_t epochHistory) {
  const int subnets = 4, n = 256, validators = 64;
  Bench b(1 + subnets, epochHistory);
  buildSubnets(b, subnets, n, validators);
  std::uint64_t round = 0;

  // set_weights through RPC: 256 full rows (4 subnets x 64 validators), several rounds.
  double submitMs = 0, includeMs = 0;
  int count = 0;
  for (int r = 0; r < 4; ++r) {
    auto xts = weightRows(b, subnets, n, validators, round);
    std::vector<std::string> bodies;
    for (std::size_t i = 0; i < xts.size(); ++i) bodies.push_back(submitBody(xts[i], i));
    submitMs += ms(b.post(bodies, clients));
    auto t0 = Clock::now();
    while (b.node->mempoolSize() > 0) b.block();
    includeMs += ms(Clock::now() - t0);
    count += static_cast<int>(xts.size());
  }
  std::printf(
      R"({"bench":"set_weights_rpc","scheme":"%s","durability":"%s","clients":%d,"extrinsics":%d,"uids_per_row":%d,"submit_per_s":%.0f,"include_per_s":%.0f})"
      "\n",
      schemeOf(), durabilityOf(), clients, count, n, count / (submitMs / 1000), count / (includeMs / 1000));

  // Block production with full weight matrices in state: plain blocks vs blocks with an epoch.
  std::vector<double> plain, epoch;
  for (int i = 0; i < blocks; ++i) {
    auto head = b.node->head().number + 1;
    bool isEpoch = false;
    for (int s = 1; s <= subnets; ++s)
      isEpoch = isEpoch || chain::Runtime::isEpochBlock(head, static_cast<NetUid>(s), 50);
    b.clock.advance(std::chrono::milliseconds(100));
    auto t0 = Clock::now();
    if (!b.node->produceBlock()) std::abort();
    (isEpoch ? epoch : plain).push_back(ms(Clock::now() - t0));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  auto maxOf = [](const std::vector<double>& v) {
    return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
  };
  auto minOf = [](const std::vector<double>& v) {
    return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
  };
  std::printf(
      R"({"bench":"block_production","durability":"%s","subnets":%d,"uids":%d,"validators":%d,"epoch_history":%zu,"plain_median_ms":%.2f,"epoch_blocks":%zu,"epoch_min_ms":%.2f,"epoch_median_ms":%.2f,"epoch_max_ms":%.2f})"
      "\n",
      durabilityOf(), subnets, n, validators, epochHistory, median(plain), epoch.size(), minOf(epoch),
      median(epoch), maxOf(epoch));
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 4, transfers = 20'000, blocks = 120;
  std::size_t epochHistory = chain::NodeConfig{}.epochHistory;
  CLI::App app{
      "bench_chain: transfers and set_weights per second through JSON-RPC, and block production "
      "(docs/PERFORMANCE.md, \"Chain\")"};
  app.add_option("--clients", clients, "concurrent RPC clients")->check(CLI::Range(1, 1024));
  app.add_option("--transfers", transfers, "transfers to submit")->check(CLI::Range(1, 100'000'000));
  app.add_option("--blocks", blocks, "blocks to produce with weights")->check(CLI::Range(1, 1'000'000));
  app.add_option("--epoch-history", epochHistory,
                 "epochs the node keeps per subnet (node.epoch_history; 0 = record none)")
      ->capture_default_str();
  std::string durability = "sync";
  std::uint64_t groupMs = static_cast<std::uint64_t>(g_node.store.groupInterval.count());
  app.add_option("--durability", durability, "node.durability: sync, group or none")
      ->check(CLI::IsMember({"sync", "group", "none"}))
      ->capture_default_str();
  app.add_option("--group-ms", groupMs, "node.durability_group_ms (group only)")
      ->check(CLI::Range(1, 60'000))
      ->capture_default_str();
  app.add_option("--max-block-extrinsics", g_node.maxBlockExtrinsics, "node.max_block_extrinsics")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  app.add_option("--max-block-bytes", g_node.maxBlockBytes, "node.max_block_bytes")
      ->check(CLI::Range(std::size_t{tx::kMaxExtrinsicBytes}, std::size_t{1} << 30))
      ->capture_default_str();
  std::string scheme = "ecdsa";
  app.add_option("--scheme", scheme, "the key scheme every account signs with: ecdsa or sr25519")
      ->check(CLI::IsMember({"ecdsa", "sr25519"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  g_scheme = *crypto::parseScheme(scheme);
  g_node.store.durability = *chain::parseDurability(durability);
  g_node.store.groupInterval = std::chrono::milliseconds(groupMs);
  merit::log::setLevel(merit::log::Level::kWarn);
  benchTransfers(clients, transfers);
  benchWeightsAndBlocks(clients, blocks, epochHistory);
  return 0;
}
