#include "localnet_preflight.h"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "merit/crypto/wallet.h"
#include "merit/subnet_host/plugin.h"
#include "merit/util/file.h"
#include "merit/validator/config.h"

#include "localnet_process.h"
#include "localnet_signals.h"

namespace merit::cli::localnet {

namespace fs = std::filesystem;

namespace {

fs::path exeDir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : self.parent_path();
}

std::optional<fs::path> findBinary(const std::string& name, const std::string& buildSubdir) {
  fs::path dir = exeDir();
  std::vector<fs::path> candidates;
  if (!dir.empty()) {
    candidates.push_back(dir / name);                                            // installed: one bin dir
    candidates.push_back(dir.parent_path().parent_path() / buildSubdir / name);  // <build>/tools/merit
  }
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string item;
    while (std::getline(ss, item, ':')) {
      if (!item.empty()) candidates.push_back(fs::path(item) / name);
    }
  }
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return fs::absolute(c).lexically_normal();
  }
  return std::nullopt;
}

fs::path modelCacheDir(const Config& config, const fs::path& dataDir) {
  if (!config.modelCache.empty()) {
    fs::path p = config.modelCache;
    return p.is_absolute() ? p : dataDir / p;
  }
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && x[0] == '/') {
    return fs::path(x) / "meritnet" / "models";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] != '\0') {
    return fs::path(h) / ".cache" / "meritnet" / "models";
  }
  return dataDir / "models";
}

template <typename F>
auto quietly(F&& f) {
  std::fflush(stderr);
  int saved = ::dup(2);
  int devNull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (saved >= 0 && devNull >= 0) ::dup2(devNull, 2);
  auto result = f();
  std::fflush(stderr);
  if (saved >= 0) {
    ::dup2(saved, 2);
    ::close(saved);
  }
  if (devNull >= 0) ::close(devNull);
  return result;
}

}  // namespace

fs::path modelPath(const Config& config, const fs::path& dataDir, const ModelSpec& m) {
  return modelCacheDir(config, dataDir) / (m.trainer + "-" + m.cacheKey() + ".pt");
}

fs::path defaultDataDir() {
  return crypto::defaultMeritHome() / "localnet";
}

Result<Binaries> findBinaries() {
  Binaries b;
  auto need = [](const std::string& name, const std::string& sub) -> Result<fs::path> {
    auto p = findBinary(name, sub);
    if (!p) {
      return fail(ErrorCode::kNotFound, name + " not found next to merit (" + exeDir().string() +
                                            "), in the build tree or on PATH; build it (ninja " + name + ")");
    }
    return *p;
  };
  MERIT_ASSIGN_OR_RETURN(b.chain, need("merit-chain", "chain"));
  MERIT_ASSIGN_OR_RETURN(b.miner, need("merit-miner", "miner"));
  MERIT_ASSIGN_OR_RETURN(b.validator, need("merit-validator", "validator"));
  if (auto t = findBinary("merit-train", "tools/train")) b.train = *t;
  return b;
}

Result<void> checkDataDir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return {};
  if (!fs::is_directory(dir, ec))
    return fail(ErrorCode::kInvalidArgument, dir.string() + " is not a directory");
  bool empty = fs::directory_iterator(dir, ec) == fs::directory_iterator();
  if (!empty && !fs::exists(dir / ".merit-localnet", ec)) {
    return fail(ErrorCode::kInvalidArgument,
                dir.string() +
                    " is not empty and not a localnet data directory (no "
                    ".merit-localnet); refusing to wipe it: pick another --data-dir");
  }
  if (auto pidText = readFile(dir / "localnet.pid", 64)) {
    pid_t pid = static_cast<pid_t>(std::strtol(pidText->c_str(), nullptr, 10));
    if (pid > 0 && pid != ::getpid() && processAlive(pid) &&
        processCommandLine(pid).find("localnet") != std::string::npos) {
      return fail(ErrorCode::kAlreadyExists, "a localnet is already running in " + dir.string() +
                                                 " (supervisor pid " + std::to_string(pid) +
                                                 "); stop it with: merit localnet down --data-dir " +
                                                 dir.string());
    }
  }
  return {};
}

Result<void> preflight(const Config& config, const fs::path& dataDir, const Binaries& bins, bool quiet) {
  // Plugins exist, load, and accept every configured plugin_config.
  for (const auto& s : config.subnets) {
    auto plugin = subnet::SubnetPlugin::find(s.plugin, {});
    if (!plugin) return fail(plugin.error().withContext(config.source + ": subnet " + s.name));
    for (const auto& v : s.validators) {
      auto inst = quietly([&] { return (*plugin)->create(subnet::Role::kValidator, v.pluginConfig); });
      if (!inst) {
        return fail(inst.error().withContext(config.source + ": subnet " + s.name + ": validator " + v.name +
                                             ": plugin_config"));
      }
      // The generated validator config must be accepted too (values of `settings`).
      std::map<std::string, std::string> values = {{"plugin", s.plugin}};
      for (const auto& [k, val] : config.validatorDefaults) values[k] = val;
      for (const auto& [k, val] : v.settings) values[k] = val;
      auto parsed = validator::parseValidatorConfig(
          daemonYaml(values, {}, "{}"), config.source + ": subnet " + s.name + ": validator " + v.name,
          validator::ValidatorFileConfig{});
      if (!parsed) return fail(parsed.error());
    }
  }
  // Models: train the missing ones into the cache (atomically: a partial file never looks done).
  for (const auto& s : config.subnets) {
    for (const auto& m : s.miners) {
      if (!m.model) continue;
      fs::path out = modelPath(config, dataDir, *m.model);
      std::error_code ec;
      if (fs::exists(out, ec)) {
        if (!quiet) std::printf("model for %s.%s: cached %s\n", s.name.c_str(), m.name.c_str(), out.c_str());
        continue;
      }
      if (bins.train.empty()) {
        return fail(ErrorCode::kNotFound,
                    config.source + ": subnet " + s.name + ": miner " + m.name +
                        ": needs merit-train (not found next to merit, in the build tree or on PATH)");
      }
      fs::create_directories(out.parent_path(), ec);
      if (ec) return fail(ErrorCode::kUnavailable, out.parent_path().string() + ": " + ec.message());
      fs::path partial = out;
      partial += ".partial-" + std::to_string(::getpid()) + ".pt";
      fs::path log = out;
      log += ".log";
      ProcessSpec spec;
      spec.name = "merit-train";
      spec.binary = bins.train;
      spec.args.push_back(m.model->trainer);
      spec.args.insert(spec.args.end(), m.model->args.begin(), m.model->args.end());
      spec.args.push_back("--out");
      spec.args.push_back(partial.string());
      spec.log = log;
      std::string cmd = "merit-train";
      for (const auto& a : spec.args) cmd += " " + a;
      if (!quiet) {
        std::printf("training model for %s.%s: %s (log: %s)\n", s.name.c_str(), m.name.c_str(), cmd.c_str(),
                    log.c_str());
        std::fflush(stdout);
      }
      ProcessGroup trainer;
      MERIT_ASSIGN_OR_RETURN(pid_t pid, trainer.spawn(spec));
      std::string how;
      while (how.empty()) {
        for (const auto& e : trainer.reap()) how = e.how;
        if (!how.empty()) break;
        if (stopRequested()) {
          trainer.stopAll(std::chrono::milliseconds(3000));
          fs::remove(partial, ec);
          return fail(ErrorCode::kUnavailable, "interrupted while training");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      (void)pid;
      if (how != "exited with code 0" || !fs::exists(partial, ec)) {
        fs::remove(partial, ec);
        return fail(ErrorCode::kInternal,
                    fmt::format("{} {}; {} ends with:{}", cmd, how, log.string(), logTail(log, 8)));
      }
      fs::rename(partial, out, ec);
      if (ec) return fail(ErrorCode::kUnavailable, out.string() + ": " + ec.message());
    }
  }
  // Miner plugin configs, with the model path in place.
  for (const auto& s : config.subnets) {
    auto plugin = subnet::SubnetPlugin::find(s.plugin, {});
    if (!plugin) return fail(plugin.error());
    for (const auto& m : s.miners) {
      std::string pc = m.pluginConfig;
      if (m.model) {
        MERIT_ASSIGN_OR_RETURN(pc, withModel(pc, modelPath(config, dataDir, *m.model).string()));
      }
      auto inst = quietly([&] { return (*plugin)->create(subnet::Role::kMiner, pc); });
      if (!inst) {
        return fail(inst.error().withContext(config.source + ": subnet " + s.name + ": miner " + m.name +
                                             ": plugin_config"));
      }
    }
  }
  return {};
}

}  // namespace merit::cli::localnet
