// merit-validator: queries miners with a subnet plugin's challenges, scores them and sets
// weights. Thin: options and config, the hotkey, the plugin, then the Validator loop, and a
// thread reloading the plugin on SIGHUP or when its file changes (merit/subnet_host/reload.h).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include <CLI/CLI.hpp>

#include "merit/crypto/wallet.h"
#include "merit/subnet_host/reload.h"
#include "merit/util/log.h"
#include "merit/util/signals.h"
#include "merit/validator/config.h"
#include "merit/validator/plugin_task.h"

namespace {

std::atomic<bool> g_signalled{false};
void onSignal(int) {
  g_signalled = true;
}

int fatal(const std::string& message) {
  std::fprintf(stderr, "merit-validator: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace merit;
  CLI::App app{"merit-validator: query, score and weight a meritnet subnet's miners"};
  std::string configPath;
  std::vector<std::string> subnetPath;
  std::optional<std::string> wallet, hotkey, url, chain, plugin, pluginConfig, stateFile, logLevel;
  std::optional<int> netuid, metricsPort;
  app.add_option("-c,--config", configPath, "YAML config (see configs/validator.yaml)");
  app.add_option("-w,--wallet", wallet, "Wallet name");
  app.add_option("-k,--hotkey", hotkey, "Hotkey name");
  app.add_option("--url", url, "Chain JSON-RPC URL (ws://... for a subtensor node)");
  app.add_option("--chain", chain, "Chain backend: merit (the dev chain, default) or subtensor");
  app.add_option("--netuid", netuid, "Subnet");
  app.add_option("--plugin", plugin, "Subnet plugin name or .so path");
  app.add_option("--plugin-config", pluginConfig, "The plugin's config as YAML text");
  app.add_option("--subnet-path", subnetPath, "Directories to search for plugins (repeatable)");
  app.add_option("--state-file", stateFile, "Where scores are saved (reloaded at start)");
  app.add_option("--metrics-port", metricsPort, "Prometheus /metrics port (0 = any free port)");
  app.add_option("--log-level", logLevel, "Log levels: LEVEL or LEVEL,category=LEVEL,...");
  CLI11_PARSE(app, argc, argv);
  // SIGHUP asks for a plugin reload: blocked here, before any thread is started, and taken by the
  // watcher thread below (merit/util/signals.h).
  const SyncSignal hangup(SIGHUP);

  validator::ValidatorFileConfig cfg;
  if (!configPath.empty()) {
    auto loaded = validator::loadValidatorConfig(configPath, cfg);
    if (!loaded) return fatal(loaded.error().message());
    cfg = std::move(*loaded);
  }
  if (auto env = validator::applyValidatorEnvironment(cfg); !env) return fatal(env.error().message());
  if (wallet) cfg.wallet = *wallet;
  if (hotkey) cfg.hotkey = *hotkey;
  if (url) cfg.loop.chainUrl = *url;
  if (chain) cfg.loop.chain = *chain;
  if (netuid) cfg.loop.netuid = static_cast<std::uint16_t>(*netuid);
  if (plugin) cfg.plugin = *plugin;
  if (pluginConfig) cfg.pluginConfigYaml = *pluginConfig;
  for (const auto& p : subnetPath) cfg.subnetPath.push_back(p);
  if (stateFile) cfg.loop.stateFile = *stateFile;
  if (metricsPort) cfg.loop.metricsPort = *metricsPort;
  if (logLevel) cfg.logLevel = *logLevel;
  if (auto ok = log::configure(cfg.logLevel); !ok) return fatal(ok.error().message());
  // Plugins linking their own merit_util (fashion_mnist, charlm) read it when they are loaded.
  if (auto ok = log::exportToEnvironment(); !ok) return fatal(ok.error().message());
  if (cfg.plugin.empty()) return fatal("no subnet plugin: set plugin in the config or pass --plugin");
  if (cfg.loop.stateFile.empty()) {
    cfg.loop.stateFile = (crypto::defaultMeritHome() / "validators" /
                          (cfg.wallet + "-" + cfg.hotkey + "-" + std::to_string(cfg.loop.netuid) + ".json"))
                             .string();
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(cfg.loop.stateFile).parent_path(), ec);

  crypto::Wallet w(crypto::defaultMeritHome(), cfg.wallet);
  auto key = w.loadHotkeyAny(cfg.hotkey);  // sr25519 or ecdsa
  if (!key) return fatal(key.error().message());
  auto clock = std::make_shared<SystemClock>();
  auto loaded = subnet::ReloadableInstance::find(cfg.plugin, cfg.subnetPath, subnet::Role::kValidator,
                                                 cfg.pluginConfigYaml, {cfg.pluginDrainTimeout, clock});
  if (!loaded) return fatal(loaded.error().message());
  std::shared_ptr<subnet::ReloadableInstance> subnetPlugin(std::move(*loaded));

  // Signals first: start() may wait a long time for the chain, and must stop when asked to.
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  auto v = validator::Validator::start(cfg.loop, std::move(*key),
                                       std::make_unique<validator::PluginTask>(subnetPlugin), &g_signalled);
  if (!v) {
    if (g_signalled.load()) {
      MERIT_LOG_INFO(log::Category::kValidator, "stopped before running: {}", v.error().message());
      return 0;
    }
    return fatal(v.error().message());
  }
  (*v)->setExtraMetrics(
      [subnetPlugin](std::string& out) { validator::PluginTask::renderMetrics(out, *subnetPlugin); });
  // The reload thread: SIGHUP and the plugin file watch (plugin_watch_ms).
  subnet::PluginWatcher reloads(*subnetPlugin, {cfg.pluginWatch});
  std::thread reloader([&reloads, &clock] { reloads.run(*clock); });
  std::thread watcher([&v, &reloads, &hangup] {
    while (!g_signalled.load()) {
      if (hangup.wait(std::chrono::milliseconds(100))) reloads.request();
    }
    (*v)->stop();
  });
  std::printf("{\"event\":\"ready\",\"plugin\":\"%s\",\"state_file\":\"%s\",\"metrics_port\":%d}\n",
              subnetPlugin->name().c_str(), cfg.loop.stateFile.c_str(), (*v)->metricsPort());
  std::fflush(stdout);
  int rc = (*v)->run();
  g_signalled = true;
  watcher.join();
  reloads.stop();
  reloader.join();
  return rc;
}
