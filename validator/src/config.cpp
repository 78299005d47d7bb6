#include "merit/validator/config.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <set>

#include <yaml-cpp/yaml.h>

#include "merit/util/file.h"

namespace merit::validator {

namespace {

struct ConfigError {
  std::string path;
  std::string reason;
};
[[noreturn]] void bad(const std::string& path, const std::string& reason) { throw ConfigError{path, reason}; }

std::uint64_t integer(const std::string& s, const std::string& path, std::uint64_t min, std::uint64_t max) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) bad(path, "must be a non-negative integer, got '" + s + "'");
  if (v < min || v > max) bad(path, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return v;
}

double real(const std::string& s, const std::string& path, double min, double max) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !(v >= min && v <= max)) {
    bad(path, "must be a number in [" + std::to_string(min) + ", " + std::to_string(max) + "], got '" + s + "'");
  }
  return v;
}

void set(ValidatorFileConfig& c, const std::string& key, const std::string& v, const std::string& path) {
  auto& l = c.loop;
  if (key == "wallet") c.wallet = v;
  else if (key == "hotkey") c.hotkey = v;
  else if (key == "plugin") c.plugin = v;
  else if (key == "log_level") c.logLevel = v;
  else if (key == "chain_url") l.chainUrl = v;
  else if (key == "netuid") l.netuid = static_cast<std::uint16_t>(integer(v, path, 0, 65535));
  else if (key == "sample_size") l.sampleSize = integer(v, path, 1, 4096);
  else if (key == "step_interval_ms") l.stepInterval = std::chrono::milliseconds(integer(v, path, 1, 3'600'000));
  else if (key == "query_timeout_ms") l.queryTimeout = std::chrono::milliseconds(integer(v, path, 1, 600'000));
  else if (key == "auth_mode") {
    if (v == "signed") l.authMode = net::AuthMode::kSigned;
    else if (v == "session") l.authMode = net::AuthMode::kSession;
    else bad(path, "must be signed or session, got '" + v + "'");
  } else if (key == "ema_alpha") l.emaAlpha = real(v, path, 0.000001, 1);
  else if (key == "latency_weight") l.latency.weight = real(v, path, 0, 1);
  else if (key == "sharpen") l.weights.sharpen = real(v, path, 0.01, 100);
  else if (key == "weights_interval_blocks") l.weights.minIntervalBlocks = integer(v, path, 0, 1'000'000);
  else if (key == "validator_stake_limit") l.validatorStakeLimit = integer(v, path, 0, UINT64_MAX);
  else if (key == "state_file") l.stateFile = v;
  else if (key == "metrics_host") l.metricsHost = v;
  else if (key == "metrics_port") l.metricsPort = v == "-1" ? -1 : static_cast<int>(integer(v, path, 0, 65535));
  else bad(path, "unknown key (see configs/validator.yaml)");
}

const std::set<std::string> kKeys = {"wallet",           "hotkey",         "plugin",           "log_level",
                                     "chain_url",        "netuid",         "sample_size",      "step_interval_ms",
                                     "query_timeout_ms", "auth_mode",      "ema_alpha",        "latency_weight",
                                     "sharpen",          "weights_interval_blocks", "validator_stake_limit", "state_file",
                                     "metrics_host",     "metrics_port"};

}  // namespace

Result<ValidatorFileConfig> parseValidatorConfig(const std::string& yaml, const std::string& name, ValidatorFileConfig base) {
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
        YAML::Emitter e;
        e << kv.second;
        base.pluginConfigYaml = e.c_str();
      } else {
        if (!kKeys.count(key)) bad(key, "unknown key (see configs/validator.yaml)");
        if (!kv.second.IsScalar()) bad(key, "must be a single value");
        set(base, key, kv.second.Scalar(), key);
      }
    }
  } catch (const ConfigError& e) {
    return fail(ErrorCode::kInvalidArgument, name + ": " + (e.path.empty() ? "" : e.path + ": ") + e.reason);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument, name + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return base;
}

Result<ValidatorFileConfig> loadValidatorConfig(const std::string& path, ValidatorFileConfig base) {
  auto text = readFile(path, 1 << 20);
  if (!text) return fail(text.error().withContext("cannot read config"));
  return parseValidatorConfig(*text, path, std::move(base));
}

Result<void> applyValidatorEnvironment(ValidatorFileConfig& config) {
  try {
    for (const auto& key : kKeys) {
      std::string var = "MERIT_VALIDATOR_";
      for (char ch : key) var += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (const char* v = std::getenv(var.c_str()); v != nullptr) set(config, key, v, var);
    }
  } catch (const ConfigError& e) {
    return fail(ErrorCode::kInvalidArgument, e.path + ": " + e.reason);
  }
  return {};
}

}  // namespace merit::validator
