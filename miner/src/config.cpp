#include "merit/miner/config.h"

#include <charconv>
#include <cstdlib>
#include <set>

#include <yaml-cpp/yaml.h>

#include "merit/util/file.h"

namespace merit::miner {

namespace {

struct ConfigError {
  std::string path;
  std::string reason;
};
[[noreturn]] void bad(const std::string& path, const std::string& reason) { throw ConfigError{path, reason}; }

std::uint64_t parseU64(const std::string& s, const std::string& path, std::uint64_t max) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) bad(path, "must be a non-negative integer, got '" + s + "'");
  if (v > max) bad(path, "must be at most " + std::to_string(max));
  return v;
}

bool parseBool(const std::string& s, const std::string& path) {
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  bad(path, "must be true or false, got '" + s + "'");
}

double parsePositive(const std::string& s, const std::string& path) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !(v > 0)) bad(path, "must be a positive number, got '" + s + "'");
  return v;
}

// One setter per key, shared by YAML and the environment.
void set(MinerConfig& c, const std::string& key, const std::string& v, const std::string& path) {
  if (key == "wallet") c.wallet = v;
  else if (key == "hotkey") c.hotkey = v;
  else if (key == "chain_url") c.chainUrl = v;
  else if (key == "netuid") c.netuid = static_cast<std::uint16_t>(parseU64(v, path, 65535));
  else if (key == "plugin") c.plugin = v;
  else if (key == "bind") c.bind = v;
  else if (key == "external_ip") c.externalIp = v;
  else if (key == "external_port") c.externalPort = static_cast<std::uint16_t>(parseU64(v, path, 65535));
  else if (key == "curve") c.curve = parseBool(v, path);
  else if (key == "workers") c.workers = parseU64(v, path, 256);
  else if (key == "max_batch_size") c.maxBatchSize = parseU64(v, path, 4096);
  else if (key == "max_batch_wait_ms") c.maxBatchWait = std::chrono::milliseconds(parseU64(v, path, 60'000));
  else if (key == "queue_capacity") c.queueCapacity = parseU64(v, path, 1'000'000);
  else if (key == "rate_per_second") c.ratePerSecond = parsePositive(v, path);
  else if (key == "require_validator_permit") c.policy.requireValidatorPermit = parseBool(v, path);
  else if (key == "min_stake") c.policy.minStake = parseU64(v, path, UINT64_MAX);
  else if (key == "metrics_port") c.metricsPort = v == "-1" ? -1 : static_cast<int>(parseU64(v, path, 65535));
  else if (key == "metrics_host") c.metricsHost = v;
  else if (key == "auto_register") c.autoRegister = parseBool(v, path);
  else if (key == "log_level") c.logLevel = v;
  else bad(path, "unknown key");
  if ((key == "workers" || key == "max_batch_size" || key == "queue_capacity") && v == "0") bad(path, "must be at least 1");
}

const std::set<std::string> kScalarKeys = {
    "wallet", "hotkey", "chain_url", "netuid", "plugin", "bind", "external_ip", "external_port", "curve",
    "workers", "max_batch_size", "max_batch_wait_ms", "queue_capacity", "rate_per_second",
    "require_validator_permit", "min_stake", "metrics_port", "metrics_host", "auto_register", "log_level"};

}  // namespace

Result<MinerConfig> parseMinerConfig(const std::string& yaml, const std::string& name, MinerConfig base) {
  try {
    YAML::Node root = YAML::Load(yaml);
    if (root.IsNull()) return base;
    if (!root.IsMap()) bad("", "the file must be a mapping");
    for (const auto& kv : root) {
      auto key = kv.first.as<std::string>();
      if (key == "subnet_path") {
        if (!kv.second.IsSequence()) bad(key, "must be a list of directories");
        for (const auto& p : kv.second) base.subnetPath.push_back(p.as<std::string>());
      } else if (key == "plugin_config") {
        // The plugin parses its own section; hand it over as YAML text.
        YAML::Emitter e;
        e << kv.second;
        base.pluginConfigYaml = e.c_str();
      } else if (kScalarKeys.count(key)) {
        if (!kv.second.IsScalar()) bad(key, "must be a single value");
        set(base, key, kv.second.Scalar(), key);
      } else {
        bad(key, "unknown key (see configs/miner.yaml)");
      }
    }
  } catch (const ConfigError& e) {
    return fail(ErrorCode::kInvalidArgument, name + ": " + (e.path.empty() ? "" : e.path + ": ") + e.reason);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument, name + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return base;
}

Result<MinerConfig> loadMinerConfig(const std::string& path, MinerConfig base) {
  auto text = readFile(path, 1 << 20);
  if (!text) return fail(text.error().withContext("cannot read config"));
  return parseMinerConfig(*text, path, std::move(base));
}

Result<void> applyMinerEnvironment(MinerConfig& config) {
  try {
    for (const auto& key : kScalarKeys) {
      std::string var = "MERIT_MINER_";
      for (char ch : key) var += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (const char* v = std::getenv(var.c_str()); v != nullptr) set(config, key, v, var);
    }
  } catch (const ConfigError& e) {
    return fail(ErrorCode::kInvalidArgument, e.path + ": " + e.reason);
  }
  return {};
}

}  // namespace merit::miner
