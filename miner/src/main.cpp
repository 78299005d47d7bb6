// merit-miner: serves a subnet plugin over the axon. Thin: options and config, keys, the plugin,
// then the Miner lifecycle (miner/include/merit/miner/miner.h), and a thread reloading the plugin
// on SIGHUP or when its file changes (merit/subnet_host/reload.h).
//
// With a remote_workers section it is the axon front of worker processes; with --worker it is
// such a worker (merit/miner/worker_link.h, docs/OPERATIONS.md "Workers on other hosts").
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include <CLI/CLI.hpp>

#include "merit/crypto/prompt.h"
#include "merit/crypto/wallet.h"
#include "merit/miner/miner.h"
#include "merit/miner/plugin_handler.h"
#include "merit/miner/worker_link.h"
#include "merit/subnet_host/reload.h"
#include "merit/util/log.h"
#include "merit/util/signals.h"

namespace {

std::atomic<bool> g_signalled{false};
void onSignal(int) {
  g_signalled = true;
}

int fatal(const std::string& message) {
  std::fprintf(stderr, "merit-miner: %s\n", message.c_str());
  return 2;
}

// `merit-miner --worker`: the plugin, served to a front over the worker link. No wallet, no
// chain: the front authenticates and admits callers; the worker only runs batches.
int runWorker(const merit::miner::MinerConfig& cfg, const std::string& front, const std::string& secretPath,
              std::size_t threads, const merit::SyncSignal& hangup) {
  using namespace merit;
  auto secret = miner::readWorkerSecret(secretPath);
  if (!secret) return fatal(secret.error().message());
  auto keys = miner::WorkerLinkKeys::derive(secret->reveal());
  if (!keys) return fatal(keys.error().message());
  auto clock = std::make_shared<SystemClock>();
  auto loaded = subnet::ReloadableInstance::find(cfg.plugin, cfg.subnetPath, subnet::Role::kMiner,
                                                 cfg.pluginConfigYaml, {cfg.pluginDrainTimeout, clock});
  if (!loaded) return fatal(loaded.error().message());
  std::shared_ptr<subnet::ReloadableInstance> subnetPlugin(std::move(*loaded));
  miner::Worker worker({front, threads}, *keys, miner::pluginModule(subnetPlugin), clock);
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  subnet::PluginWatcher reloads(*subnetPlugin, {cfg.pluginWatch});
  std::thread reloader([&reloads, &clock] { reloads.run(*clock); });
  std::thread watcher([&reloads, &hangup] {
    while (!g_signalled.load()) {
      if (hangup.wait(std::chrono::milliseconds(100))) reloads.request();
    }
  });
  std::printf("{\"event\":\"ready\",\"worker\":true,\"front\":\"%s\",\"plugin\":\"%s\",\"threads\":%zu}\n",
              front.c_str(), subnetPlugin->name().c_str(), threads);
  std::fflush(stdout);
  auto served = worker.run(g_signalled);
  g_signalled = true;
  watcher.join();
  reloads.stop();
  reloader.join();
  if (!served) {
    std::fprintf(stderr, "merit-miner: %s\n", served.error().message().c_str());
    return served.error().code() == ErrorCode::kUnauthorized ? miner::kExitWorkerRefused : 2;
  }
  MERIT_LOG_INFO(log::Category::kMiner, "worker stopped after {} batches", worker.batchesHandled());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace merit;
  CLI::App app{"merit-miner: serve a meritnet subnet"};
  std::string configPath;
  miner::MinerConfig cli;
  std::vector<std::string> subnetPath;
  std::optional<std::string> wallet, hotkey, url, chain, plugin, bind, externalIp, logLevel, passwordFile,
      pluginConfig;
  std::optional<int> netuid, externalPort, metricsPort;
  bool curve = false, autoRegister = false, workerMode = false;
  std::optional<std::string> front, workerSecretFile;
  std::optional<std::size_t> workerThreads;
  app.add_option("-c,--config", configPath, "YAML config (see configs/miner.yaml)");
  app.add_option("-w,--wallet", wallet, "Wallet name");
  app.add_option("-k,--hotkey", hotkey, "Hotkey name");
  app.add_option("--url", url, "Chain JSON-RPC URL (ws://... for a subtensor node)");
  app.add_option("--chain", chain, "Chain backend: merit (the dev chain, default) or subtensor");
  app.add_option("--netuid", netuid, "Subnet");
  app.add_option("--plugin", plugin, "Subnet plugin name or .so path");
  app.add_option("--plugin-config", pluginConfig,
                 "The plugin's config as YAML text (overrides plugin_config)");
  app.add_option("--subnet-path", subnetPath, "Directories to search for plugins (repeatable)");
  app.add_option("--bind", bind, "Axon bind endpoint, e.g. tcp://0.0.0.0:8091");
  app.add_option("--external-ip", externalIp, "Address advertised on chain");
  app.add_option("--external-port", externalPort, "Port advertised on chain");
  app.add_flag("--curve", curve, "CurveZMQ encryption");
  app.add_option("--metrics-port", metricsPort, "Prometheus /metrics port (0 = any free port)");
  app.add_flag("--auto-register", autoRegister, "Register (and re-register) with the coldkey");
  app.add_option("--password-file", passwordFile, "Coldkey password file (with --auto-register)");
  app.add_option("--log-level", logLevel, "Log levels: LEVEL or LEVEL,category=LEVEL,...");
  app.add_flag("--worker", workerMode,
               "Run as a worker of a merit-miner front (no wallet, no chain): needs --front");
  app.add_option("--front", front,
                 "With --worker: the front's remote_workers endpoint, e.g. tcp://10.0.0.1:8092");
  app.add_option("--worker-secret-file", workerSecretFile,
                 "The worker-link secret (default: remote_workers.secret_file of the config)");
  app.add_option("--worker-threads", workerThreads,
                 "With --worker: batches handled at once (default: workers)");
  CLI11_PARSE(app, argc, argv);
  // SIGHUP asks for a plugin reload: blocked here, before any thread is started, and taken by the
  // watcher thread below (merit/util/signals.h).
  const SyncSignal hangup(SIGHUP);

  miner::MinerConfig cfg;
  if (!configPath.empty()) {
    auto loaded = miner::loadMinerConfig(configPath, cfg);
    if (!loaded) return fatal(loaded.error().message());
    cfg = std::move(*loaded);
  }
  if (auto env = miner::applyMinerEnvironment(cfg); !env) return fatal(env.error().message());
  if (wallet) cfg.wallet = *wallet;
  if (hotkey) cfg.hotkey = *hotkey;
  if (url) cfg.chainUrl = *url;
  if (chain) cfg.chain = *chain;
  if (netuid) cfg.netuid = static_cast<std::uint16_t>(*netuid);
  if (plugin) cfg.plugin = *plugin;
  if (pluginConfig) cfg.pluginConfigYaml = *pluginConfig;
  for (const auto& p : subnetPath) cfg.subnetPath.push_back(p);
  if (bind) cfg.bind = *bind;
  if (externalIp) cfg.externalIp = *externalIp;
  if (externalPort) cfg.externalPort = static_cast<std::uint16_t>(*externalPort);
  if (curve) cfg.curve = true;
  if (metricsPort) cfg.metricsPort = *metricsPort;
  if (autoRegister) cfg.autoRegister = true;
  if (passwordFile) cfg.passwordFile = *passwordFile;
  if (logLevel) cfg.logLevel = *logLevel;
  if (auto ok = log::configure(cfg.logLevel); !ok) return fatal(ok.error().message());
  // Plugins linking their own merit_util (fashion_mnist, charlm) read it when they are loaded.
  if (auto ok = log::exportToEnvironment(); !ok) return fatal(ok.error().message());
  if (cfg.plugin.empty()) return fatal("no subnet plugin: set plugin in the config or pass --plugin");
  if (workerMode) {
    std::string secretPath =
        workerSecretFile.value_or(cfg.remoteWorkers ? cfg.remoteWorkers->secretFile : "");
    if (!front) return fatal("--worker needs --front tcp://HOST:PORT (the front's remote_workers endpoint)");
    if (secretPath.empty())
      return fatal("--worker needs --worker-secret-file (or remote_workers.secret_file)");
    return runWorker(cfg, *front, secretPath, workerThreads.value_or(cfg.workers), hangup);
  }

  // The hotkey serves; the public coldkey proves the hotkey's registration is this wallet's.
  crypto::Wallet w(crypto::defaultMeritHome(), cfg.wallet);
  auto key = w.loadHotkeyAny(cfg.hotkey);  // sr25519 or ecdsa
  if (!key) return fatal(key.error().message());
  auto owner = w.coldkeyPublicAny();  // sr25519 or ecdsa
  if (!owner) {
    return fatal(owner.error().message() +
                 " (the miner needs coldkeypub.txt, not the coldkey, to check that its hotkey "
                 "is registered under this wallet; copy it from the machine that holds the coldkey)");
  }

  auto clock = std::make_shared<SystemClock>();
  auto loaded = subnet::ReloadableInstance::find(cfg.plugin, cfg.subnetPath, subnet::Role::kMiner,
                                                 cfg.pluginConfigYaml, {cfg.pluginDrainTimeout, clock});
  if (!loaded) return fatal(loaded.error().message());
  std::shared_ptr<subnet::ReloadableInstance> subnetPlugin(std::move(*loaded));
  std::vector<net::ModuleHandler> modules = {miner::pluginModule(subnetPlugin)};
  // The front of remote workers: the axon's handler hands batches to them instead of the plugin
  // (the plugin stays loaded here for its module name and live version). Started before the
  // Miner so it outlives the axon that calls it.
  std::unique_ptr<miner::WorkerFront> workerFront;
  if (cfg.remoteWorkers) {
    auto secret = miner::readWorkerSecret(cfg.remoteWorkers->secretFile);
    if (!secret) return fatal(secret.error().message());
    auto keys = miner::WorkerLinkKeys::derive(secret->reveal());
    if (!keys) return fatal(keys.error().message());
    miner::WorkerFrontOptions fo;
    fo.endpoint = cfg.remoteWorkers->endpoint;
    fo.module = subnetPlugin->name();
    fo.queueCapacity = cfg.remoteWorkers->queueCapacity;
    fo.heartbeatInterval = cfg.remoteWorkers->heartbeat;
    fo.heartbeatTimeout = cfg.remoteWorkers->heartbeatTimeout;
    auto started = miner::WorkerFront::start(fo, *keys, clock);
    if (!started) return fatal(started.error().message());
    workerFront = std::move(*started);
    modules[0].handler = workerFront->handler();
    MERIT_LOG_INFO(log::Category::kMiner, "serving through remote workers connecting to {}",
                   workerFront->endpoint());
  }
  auto pluginMetrics = [subnetPlugin, front = workerFront.get()](std::string& out) {
    miner::renderPluginMetrics(out, *subnetPlugin);
    if (front) front->renderMetrics(out);
  };

  miner::Miner::ColdkeyLoader coldkey = [&cfg, &w]() -> Result<crypto::AnyPrivateKey> {
    MERIT_ASSIGN_OR_RETURN(auto password,
                           crypto::readPassword(crypto::PasswordSource{cfg.passwordFile},
                                                "Password of the coldkey of '" + cfg.wallet + "': ", false));
    return w.unlockColdkeyAny(password);
  };
  // Signals first: start() may wait a long time for the chain, and must stop when asked to.
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  auto m = miner::Miner::start(cfg, std::move(*key), *owner, std::move(modules), coldkey, &g_signalled,
                               pluginMetrics);
  if (!m) {
    if (g_signalled.load()) {
      MERIT_LOG_INFO(log::Category::kMiner, "stopped before serving: {}", m.error().message());
      return 0;
    }
    int rc = fatal(m.error().message());
    return m.error().code() == ErrorCode::kUnauthorized ? miner::kExitNotOwned : rc;
  }
  // The reload thread: SIGHUP and the plugin file watch (plugin_watch_ms).
  subnet::PluginWatcher reloads(*subnetPlugin, {cfg.pluginWatch});
  std::thread reloader([&reloads, &clock] { reloads.run(*clock); });
  std::thread watcher([&m, &reloads, &hangup] {
    while (!g_signalled.load()) {
      if (hangup.wait(std::chrono::milliseconds(100))) reloads.request();
    }
    (*m)->stop();
  });
  std::printf(
      "{\"event\":\"ready\",\"axon\":\"%s\",\"plugin\":\"%s\",\"metrics_port\":%d,\"workers\":\"%s\"}\n",
      (*m)->axonEndpoint().c_str(), subnetPlugin->name().c_str(), (*m)->metricsPort(),
      workerFront ? workerFront->endpoint().c_str() : "");
  std::fflush(stdout);
  int rc = (*m)->run();
  g_signalled = true;
  watcher.join();
  reloads.stop();
  reloader.join();
  MERIT_LOG_INFO(log::Category::kMiner, "stopped");
  return rc;
}
