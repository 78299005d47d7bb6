// merit-chain: the dev chain node. Thin: parse options and config, build the node, serve.
#include <charconv>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "merit/chain/config.h"
#include "merit/chain/feed.h"
#include "merit/chain/rpc_server.h"
#include "merit/crypto/ss58.h"
#include "merit/crypto/wallet.h"
#include "merit/util/file.h"
#include "merit/util/log.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void onSignal(int) {
  g_stop = 1;
}

int fatal(const std::string& message) {
  std::fprintf(stderr, "merit-chain: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace merit;
  CLI::App app{"merit-chain: meritnet dev chain node"};
  std::string configPath, dataDir, logLevel, feed;
  bool dev = false;
  int rpcPort = -1;
  long blockTimeMs = -1;
  std::vector<std::string> fund;
  app.add_option("-c,--config", configPath, "YAML config (see configs/chain.yaml)");
  app.add_option("-d,--data-dir", dataDir, "Where blocks and state are stored (overrides node.data_dir)");
  app.add_flag("--dev", dev,
               "Development preset: fast blocks, short tempos, dev authority key, loopback axons");
  app.add_option("--rpc-port", rpcPort, "JSON-RPC port (0 = any free port)");
  app.add_option("--feed", feed, "Block feed endpoint, e.g. tcp://127.0.0.1:9944");
  app.add_option("--block-time-ms", blockTimeMs, "Block time in milliseconds");
  app.add_option("--fund", fund, "Genesis balance ADDRESS=AMOUNT_RAO (repeatable; first start only)");
  app.add_option("--log-level", logLevel, "Log levels: LEVEL or LEVEL,category=LEVEL,...");
  CLI11_PARSE(app, argc, argv);

  chain::ChainConfig cfg = dev ? chain::devPreset() : chain::ChainConfig{};
  if (!configPath.empty()) {
    auto loaded = chain::loadChainConfig(configPath, cfg);
    if (!loaded) return fatal(loaded.error().message());
    cfg = std::move(*loaded);
  }
  if (!dataDir.empty()) cfg.node.dataDir = dataDir;
  if (cfg.node.dataDir.empty())
    return fatal("no data directory: pass --data-dir DIR or set node.data_dir in the config");
  if (rpcPort >= 0) cfg.rpcPort = rpcPort;
  if (!feed.empty()) cfg.feedEndpoint = feed;
  if (blockTimeMs > 0) cfg.node.blockTime = std::chrono::milliseconds(blockTimeMs);
  if (!logLevel.empty()) cfg.logLevel = logLevel;
  const std::size_t fromFile = cfg.node.genesis.balances.size();
  for (const auto& f : fund) {
    auto eq = f.find('=');
    auto id = crypto::ss58Decode(f.substr(0, eq));
    std::uint64_t amount = 0;
    const char* first = eq == std::string::npos ? f.data() + f.size() : f.data() + eq + 1;
    auto [end, ec] = std::from_chars(first, f.data() + f.size(), amount);
    if (eq == std::string::npos || !id || ec != std::errc() || end != f.data() + f.size() || first == end) {
      return fatal("--fund " + f +
                   ": expected ADDRESS=AMOUNT_RAO with a valid SS58 address and an amount below 2^64");
    }
    cfg.node.genesis.balances.emplace_back(*id, amount);
  }
  if (auto problem = chain::genesisTotalProblem(cfg.node.genesis)) {
    if (problem->first < fromFile)
      return fatal(configPath + ": genesis.balances[" + std::to_string(problem->first) +
                   "].amount: " + problem->second);
    return fatal("--fund " + fund[problem->first - fromFile] + ": " + problem->second);
  }
  if (auto ok = log::configure(cfg.logLevel); !ok) return fatal(ok.error().message());

  std::optional<crypto::PrivateKey> author;
  if (!cfg.authorityKeyFile.empty()) {
    auto text = readFile(cfg.authorityKeyFile, 64 * 1024);
    if (!text) return fatal("authority key: " + text.error().message());
    auto key = crypto::decodeKeyfile(*text, nullptr);
    if (!key) return fatal("authority key " + cfg.authorityKeyFile + ": " + key.error().message());
    author = std::move(*key);
  } else if (dev) {
    author = chain::devAuthorityKey();
  } else {
    return fatal(
        "no authority key: set authority.key_file in the config (a plain key file, e.g. a hotkey), or use "
        "--dev");
  }

  SystemClock clock;
  auto node = chain::Node::open(cfg.node, std::move(*author), clock);
  if (!node) return fatal(node.error().message());
  auto feedSocket = chain::BlockFeed::bind(cfg.feedEndpoint);
  if (!feedSocket) return fatal(feedSocket.error().message());
  chain::BlockFeed* feedPtr = feedSocket->get();
  (*node)->onBlock([feedPtr](const chain::Block& b) { feedPtr->publish(b); });
  auto rpc = chain::RpcServer::start(**node, cfg.rpcHost, cfg.rpcPort, (*feedSocket)->endpoint());
  if (!rpc) return fatal(rpc.error().message());

  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  (*node)->start();
  // One machine-readable line for scripts that start the node, then normal logging.
  std::printf(
      "{\"event\":\"ready\",\"rpc\":\"http://%s:%d\",\"feed\":\"%s\",\"genesis\":\"0x%s\",\"head\":%lu}\n",
      cfg.rpcHost.c_str(), (*rpc)->port(), (*feedSocket)->endpoint().c_str(),
      toHex((*node)->genesisHash()).c_str(), static_cast<unsigned long>((*node)->head().number));
  std::fflush(stdout);
  MERIT_LOG_INFO(log::Category::kChain, "serving RPC on {}:{}, block feed on {}", cfg.rpcHost, (*rpc)->port(),
                 (*feedSocket)->endpoint());
  while (!g_stop) ::usleep(100'000);
  MERIT_LOG_INFO(log::Category::kChain, "shutting down at block {}", (*node)->head().number);
  (*rpc)->stop();
  (*node)->stop();
  return 0;
}
