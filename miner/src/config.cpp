#include "merit/miner/config.h"

#include "merit/config/daemon_config.h"

namespace merit::miner {

namespace {

using config::bad;
using config::parseBool;
using config::parseInteger;
using config::parseNumber;

// One setter per key, shared by YAML and the environment.
void set(MinerConfig& c, const std::string& key, const std::string& v, const std::string& path) {
  if (key == "wallet")
    c.wallet = v;
  else if (key == "hotkey")
    c.hotkey = v;
  else if (key == "chain_url")
    c.chainUrl = v;
  else if (key == "chain") {
    if (v != "merit" && v != "subtensor") bad(path, "must be merit or subtensor, got '" + v + "'");
    c.chain = v;
  } else if (key == "netuid")
    c.netuid = static_cast<std::uint16_t>(parseInteger(v, path, 0, 65535));
  else if (key == "plugin")
    c.plugin = v;
  else if (key == "plugin_watch_ms")
    c.pluginWatch = std::chrono::milliseconds(parseInteger(v, path, 0, 3'600'000));
  else if (key == "plugin_drain_timeout_ms")
    c.pluginDrainTimeout = std::chrono::milliseconds(parseInteger(v, path, 0, 3'600'000));
  else if (key == "bind")
    c.bind = v;
  else if (key == "external_ip")
    c.externalIp = v;
  else if (key == "external_port")
    c.externalPort = static_cast<std::uint16_t>(parseInteger(v, path, 0, 65535));
  else if (key == "curve")
    c.curve = parseBool(v, path);
  else if (key == "shield")
    c.shield = parseBool(v, path);
  else if (key == "workers")
    c.workers = parseInteger(v, path, 0, 256);
  else if (key == "max_batch_size")
    c.maxBatchSize = parseInteger(v, path, 0, 4096);
  else if (key == "max_batch_wait_ms")
    c.maxBatchWait = std::chrono::milliseconds(parseInteger(v, path, 0, 60'000));
  else if (key == "queue_capacity")
    c.queueCapacity = parseInteger(v, path, 0, 1'000'000);
  else if (key == "rate_per_second")
    c.ratePerSecond = parseNumber(v, path, 1e-9, 1e9);
  else if (key == "max_connections")
    c.maxConnections = parseInteger(v, path, 1, 1'000'000);
  else if (key == "max_connections_per_address")
    c.maxConnectionsPerAddress = parseInteger(v, path, 1, 1'000'000);
  else if (key == "require_validator_permit")
    c.policy.requireValidatorPermit = parseBool(v, path);
  else if (key == "min_stake")
    c.policy.minStake = parseInteger(v, path, 0, UINT64_MAX);
  else if (key == "metrics_port")
    c.metricsPort = v == "-1" ? -1 : static_cast<int>(parseInteger(v, path, 0, 65535));
  else if (key == "metrics_host")
    c.metricsHost = v;
  else if (key == "auto_register")
    c.autoRegister = parseBool(v, path);
  else if (key == "metagraph_refresh_ms")
    c.metagraphRefresh = std::chrono::milliseconds(parseInteger(v, path, 0, 600'000));
  else if (key == "log_level")
    c.logLevel = v;
  else
    bad(path, "unknown key");
  if ((key == "workers" || key == "max_batch_size" || key == "queue_capacity") && v == "0")
    bad(path, "must be at least 1");
}

const std::set<std::string> kScalarKeys = {"wallet",
                                           "hotkey",
                                           "chain_url",
                                           "chain",
                                           "netuid",
                                           "plugin",
                                           "bind",
                                           "external_ip",
                                           "external_port",
                                           "curve",
                                           "shield",
                                           "workers",
                                           "max_batch_size",
                                           "max_batch_wait_ms",
                                           "queue_capacity",
                                           "rate_per_second",
                                           "max_connections",
                                           "max_connections_per_address",
                                           "require_validator_permit",
                                           "min_stake",
                                           "metrics_port",
                                           "metrics_host",
                                           "auto_register",
                                           "log_level",
                                           "metagraph_refresh_ms",
                                           "plugin_watch_ms",
                                           "plugin_drain_timeout_ms"};

config::Schema schemaFor(MinerConfig& c) {
  config::Schema s;
  s.scalarKeys = kScalarKeys;
  s.set = [&c](const std::string& key, const std::string& value, const std::string& path) {
    set(c, key, value, path);
  };
  s.listKeys = {{"subnet_path", &c.subnetPath}};
  s.sectionKeys = {{"plugin_config", &c.pluginConfigYaml},  // the plugin parses its own section
                   {"remote_workers", &c.remoteWorkersYaml}};
  s.documentedIn = "configs/miner.yaml";
  return s;
}

// The remote_workers section, kept as YAML text by the schema above.
Result<void> parseRemoteWorkers(MinerConfig& c, const std::string& name) {
  if (c.remoteWorkersYaml.empty()) return {};
  RemoteWorkersConfig w;
  config::Schema s;
  s.scalarKeys = {"endpoint", "secret_file", "queue_capacity", "heartbeat_ms", "heartbeat_timeout_ms"};
  s.set = [&w](const std::string& key, const std::string& v, const std::string& path) {
    const std::string at = "remote_workers." + path;
    if (key == "endpoint")
      w.endpoint = v;
    else if (key == "secret_file")
      w.secretFile = v;
    else if (key == "queue_capacity")
      w.queueCapacity = parseInteger(v, at, 1, 1'000'000);
    else if (key == "heartbeat_ms")
      w.heartbeat = std::chrono::milliseconds(parseInteger(v, at, 10, 60'000));
    else if (key == "heartbeat_timeout_ms")
      w.heartbeatTimeout = std::chrono::milliseconds(parseInteger(v, at, 30, 600'000));
  };
  s.documentedIn = "configs/miner.yaml";
  MERIT_TRY(config::applyYaml(c.remoteWorkersYaml, name + ": remote_workers", s));
  if (w.endpoint.empty())
    return fail(ErrorCode::kInvalidArgument,
                name + ": remote_workers.endpoint: required (e.g. tcp://0.0.0.0:8092)");
  if (w.secretFile.empty())
    return fail(ErrorCode::kInvalidArgument, name + ": remote_workers.secret_file: required");
  if (w.heartbeatTimeout <= w.heartbeat)
    return fail(ErrorCode::kInvalidArgument,
                name + ": remote_workers.heartbeat_timeout_ms: must be longer than heartbeat_ms");
  c.remoteWorkers = std::move(w);
  return {};
}

}  // namespace

Result<MinerConfig> parseMinerConfig(const std::string& yaml, const std::string& name, MinerConfig base) {
  MERIT_TRY(config::applyYaml(yaml, name, schemaFor(base)));
  MERIT_TRY(parseRemoteWorkers(base, name));
  return base;
}

Result<MinerConfig> loadMinerConfig(const std::string& path, MinerConfig base) {
  MERIT_TRY(config::applyFile(path, schemaFor(base)));
  MERIT_TRY(parseRemoteWorkers(base, path));
  return base;
}

Result<void> applyMinerEnvironment(MinerConfig& c) {
  return config::applyEnvironment("MERIT_MINER_", schemaFor(c));
}

}  // namespace merit::miner
