// merit-miner: serves a subnet plugin over the axon. Thin: options and config, keys, the plugin,
// then the Miner lifecycle (miner/include/merit/miner/miner.h), and a thread reloading the plugin
// on SIGHUP or when its file changes (merit/subnet_host/reload.h).
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
  bool curve = false, autoRegister = false;
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

  // The hotkey serves; the public coldkey proves the hotkey's registration is this wallet's.
  crypto::Wallet w(crypto::defaultMeritHome(), cfg.wallet);
  auto key = w.loadHotkey(cfg.hotkey);
  if (!key) return fatal(key.error().message());
  auto owner = w.coldkeyPublic();
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
  auto pluginMetrics = [subnetPlugin](std::string& out) { miner::renderPluginMetrics(out, *subnetPlugin); };

  miner::Miner::ColdkeyLoader coldkey = [&cfg, &w]() -> Result<crypto::PrivateKey> {
    MERIT_ASSIGN_OR_RETURN(auto password,
                           crypto::readPassword(crypto::PasswordSource{cfg.passwordFile},
                                                "Password of the coldkey of '" + cfg.wallet + "': ", false));
    return w.unlockColdkey(password);
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
  std::printf("{\"event\":\"ready\",\"axon\":\"%s\",\"plugin\":\"%s\",\"metrics_port\":%d}\n",
              (*m)->axonEndpoint().c_str(), subnetPlugin->name().c_str(), (*m)->metricsPort());
  std::fflush(stdout);
  int rc = (*m)->run();
  g_signalled = true;
  watcher.join();
  reloads.stop();
  reloader.join();
  MERIT_LOG_INFO(log::Category::kMiner, "stopped");
  return rc;
}
