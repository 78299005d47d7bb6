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

#include "merit/crypto/any_key.h"
#include "merit/crypto/keys.h"
#include "merit/metrics/metrics.h"
#include "merit/miner/config.h"
#include "merit/miner/policy.h"
#include "merit/net/axon.h"
#include "merit/net/shield.h"
#include "merit/rpc/client.h"
#include "merit/rpc/metagraph.h"

namespace merit::miner {

// Exit codes of merit-miner (2 = any other start-up error).
inline constexpr int kExitDeregistered = 4;
// The hotkey is registered on the subnet under a coldkey other than the wallet's: serving would
// earn for someone else (anyone can register any public hotkey under their own coldkey).
inline constexpr int kExitNotOwned = 5;

class Miner {
 public:
  // Returns the coldkey, for --auto-register only (asks for its password).
  using ColdkeyLoader = std::function<Result<crypto::AnyPrivateKey>()>;
  // Appends more metrics to /metrics (e.g. the plugin's reloads); called by the metrics server's
  // threads.
  using ExtraMetrics = std::function<void(std::string& out)>;

  // Connects to the chain (waiting for it with backoff while it is unreachable, until `stop` is
  // set), checks the hotkey is registered on the netuid (or registers it with --auto-register)
  // under `owner` (the wallet's coldkey; kUnauthorized otherwise: see kExitNotOwned), starts the
  // axon and advertises it with serve_axon when the endpoint or CURVE key on chain differs.
  // Fails with the exact `merit register ...` command when the hotkey is not registered.
  static Result<std::unique_ptr<Miner>> start(MinerConfig config, crypto::AnyPrivateKey hotkey,
                                              crypto::AnyPublicKey owner,
                                              std::vector<net::ModuleHandler> modules, ColdkeyLoader coldkey,
                                              const std::atomic<bool>* stop = nullptr,
                                              ExtraMetrics extraMetrics = {});
  ~Miner();

  // Serves until stop() (returns 0), deregistration without --auto-register (kExitDeregistered)
  // or the hotkey showing up under another coldkey (kExitNotOwned).
  int run();
  void stop() { m_stop = true; }

  const std::string& axonEndpoint() const;
  int metricsPort() const { return m_metrics ? m_metrics->port() : -1; }
  std::string renderMetrics() const;

 private:
  Miner(MinerConfig config, crypto::AnyPrivateKey hotkey, crypto::AnyPublicKey owner, ColdkeyLoader coldkey);
  Result<void> ensureRegistered();
  // kUnauthorized when `me` is registered under a coldkey other than m_owner.
  Result<void> checkOwner(const rpc::NeuronInfo& me) const;
  Result<void> serveAxonIfChanged();
  // Shield mode: admits the CURVE keys of the permit holders in `metagraph`.
  void updateShield(const rpc::Metagraph& metagraph);

  MinerConfig m_config;
  crypto::AnyPrivateKey m_hotkey;  // sr25519 or ecdsa: it signs every wire message
  crypto::AnyPublicKey m_owner;    // the wallet's coldkey (public), either scheme
  ColdkeyLoader m_coldkey;
  ExtraMetrics m_extraMetrics;
  std::unique_ptr<rpc::Chain> m_client;
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
