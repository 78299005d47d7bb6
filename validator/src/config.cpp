#include "merit/validator/config.h"

#include "merit/config/daemon_config.h"

namespace merit::validator {

namespace {

using config::bad;
using config::parseInteger;
using config::parseNumber;

void set(ValidatorFileConfig& c, const std::string& key, const std::string& v, const std::string& path) {
  auto& l = c.loop;
  if (key == "wallet")
    c.wallet = v;
  else if (key == "hotkey")
    c.hotkey = v;
  else if (key == "plugin")
    c.plugin = v;
  else if (key == "plugin_watch_ms")
    c.pluginWatch = std::chrono::milliseconds(parseInteger(v, path, 0, 3'600'000));
  else if (key == "plugin_drain_timeout_ms")
    c.pluginDrainTimeout = std::chrono::milliseconds(parseInteger(v, path, 0, 3'600'000));
  else if (key == "log_level")
    c.logLevel = v;
  else if (key == "chain_url")
    l.chainUrl = v;
  else if (key == "chain") {
    if (v != "merit" && v != "subtensor") bad(path, "must be merit or subtensor, got '" + v + "'");
    l.chain = v;
  } else if (key == "netuid")
    l.netuid = static_cast<std::uint16_t>(parseInteger(v, path, 0, 65535));
  else if (key == "sample_size")
    l.sampleSize = parseInteger(v, path, 1, 4096);
  else if (key == "step_interval_ms")
    l.stepInterval = std::chrono::milliseconds(parseInteger(v, path, 1, 3'600'000));
  else if (key == "query_timeout_ms")
    l.queryTimeout = std::chrono::milliseconds(parseInteger(v, path, 1, 600'000));
  else if (key == "auth_mode") {
    if (v == "signed")
      l.authMode = net::AuthMode::kSigned;
    else if (v == "session")
      l.authMode = net::AuthMode::kSession;
    else
      bad(path, "must be signed or session, got '" + v + "'");
  } else if (key == "ema_alpha")
    l.emaAlpha = parseNumber(v, path, 0.000001, 1);
  else if (key == "latency_weight")
    l.latency.weight = parseNumber(v, path, 0, 1);
  else if (key == "sharpen")
    l.weights.sharpen = parseNumber(v, path, 0.01, 100);
  else if (key == "weights_interval_blocks")
    l.weights.minIntervalBlocks = parseInteger(v, path, 0, 1'000'000);
  else if (key == "validator_stake_limit")
    l.validatorStakeLimit = parseInteger(v, path, 0, UINT64_MAX);
  else if (key == "max_consecutive_unmeasured") {
    l.maxConsecutiveUnmeasured = static_cast<std::uint32_t>(parseInteger(v, path, 0, 1'000'000));
  } else if (key == "state_file")
    l.stateFile = v;
  else if (key == "metrics_host")
    l.metricsHost = v;
  else if (key == "metrics_port")
    l.metricsPort = v == "-1" ? -1 : static_cast<int>(parseInteger(v, path, 0, 65535));
  else
    bad(path, "unknown key (see configs/validator.yaml)");
}

const std::set<std::string> kKeys = {"wallet",
                                     "hotkey",
                                     "plugin",
                                     "log_level",
                                     "chain_url",
                                     "chain",
                                     "netuid",
                                     "sample_size",
                                     "step_interval_ms",
                                     "query_timeout_ms",
                                     "auth_mode",
                                     "ema_alpha",
                                     "latency_weight",
                                     "sharpen",
                                     "weights_interval_blocks",
                                     "validator_stake_limit",
                                     "state_file",
                                     "metrics_host",
                                     "metrics_port",
                                     "max_consecutive_unmeasured",
                                     "plugin_watch_ms",
                                     "plugin_drain_timeout_ms"};

config::Schema schemaFor(ValidatorFileConfig& c) {
  config::Schema s;
  s.scalarKeys = kKeys;
  s.set = [&c](const std::string& key, const std::string& value, const std::string& path) {
    set(c, key, value, path);
  };
  s.listKeys = {{"subnet_path", &c.subnetPath}};
  s.sectionKeys = {{"plugin_config", &c.pluginConfigYaml}};
  s.documentedIn = "configs/validator.yaml";
  return s;
}

}  // namespace

Result<ValidatorFileConfig> parseValidatorConfig(const std::string& yaml, const std::string& name,
                                                 ValidatorFileConfig base) {
  MERIT_TRY(config::applyYaml(yaml, name, schemaFor(base)));
  return base;
}

Result<ValidatorFileConfig> loadValidatorConfig(const std::string& path, ValidatorFileConfig base) {
  MERIT_TRY(config::applyFile(path, schemaFor(base)));
  return base;
}

Result<void> applyValidatorEnvironment(ValidatorFileConfig& c) {
  return config::applyEnvironment("MERIT_VALIDATOR_", schemaFor(c));
}

}  // namespace merit::validator
