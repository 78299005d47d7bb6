// The miner: registration check, serve_axon, the axon with a metagraph-backed caller policy,
// metrics, and watching for deregistration. The subnet logic comes in as axon module handlers
// (built by merit-miner's main from a subnet plugin).
//
// Thread-safety: start() and run() are called from the main thread; stop() from any thread
// (e.g. a signal watcher). Internally: the axon's own threads, the metagraph cache's thread, and
// the metrics server's threads; run() is the only one touching the chain client.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "merit/crypto/keys.h"
#include "merit/miner/config.h"
#include "merit/metrics/metrics.h"
#include "merit/miner/policy.h"
#include "merit/net/axon.h"
#include "merit/net/shield.h"
#include "merit/rpc/client.h"
#include "merit/rpc/metagraph.h"

namespace merit::miner {

// Exit codes of merit-miner.
inline constexpr int kExitDeregistered = 4;

class Miner {
 public:
  // Returns the coldkey, for --auto-register only (asks for its password).
  using ColdkeyLoader = std::function<Result<crypto::PrivateKey>()>;

  // Connects to the chain (with retries), checks the hotkey is registered on the netuid (or
  // registers it with --auto-register), starts the axon and advertises it with serve_axon when
  // the endpoint or CURVE key on chain differs. Fails with the exact `merit register ...`
  // command when the hotkey is not registered.
  static Result<std::unique_ptr<Miner>> start(MinerConfig config, crypto::PrivateKey hotkey,
                                              std::vector<net::ModuleHandler> modules, ColdkeyLoader coldkey);
  ~Miner();

  // Serves until stop() (returns 0) or deregistration without --auto-register (kExitDeregistered).
  int run();
  void stop() { m_stop = true; }

  const std::string& axonEndpoint() const;
  int metricsPort() const { return m_metrics ? m_metrics->port() : -1; }
  std::string renderMetrics() const;

 private:
  Miner(MinerConfig config, crypto::PrivateKey hotkey, ColdkeyLoader coldkey);
  Result<void> ensureRegistered();
  Result<void> serveAxonIfChanged();
  // Shield mode: admits the CURVE keys of the permit holders in `metagraph`.
  void updateShield(const rpc::Metagraph& metagraph);

  MinerConfig m_config;
  crypto::PrivateKey m_hotkey;
  ColdkeyLoader m_coldkey;
  std::unique_ptr<rpc::ChainClient> m_client;
  std::unique_ptr<rpc::MetagraphCache> m_cache;
  std::shared_ptr<MetagraphCallerPolicy> m_policy;
  std::shared_ptr<net::ShieldAllowlist> m_shield;  // shield mode only
  std::unique_ptr<net::Axon> m_axon;
  std::unique_ptr<metrics::MetricsServer> m_metrics;
  std::array<std::uint8_t, 32> m_curvePublic{};
  std::atomic<bool> m_stop{false};

  // Handler metrics (shared with the wrapped handlers).
  struct HandlerMetrics;
  std::shared_ptr<HandlerMetrics> m_handlerMetrics;
};

}  // namespace merit::miner
