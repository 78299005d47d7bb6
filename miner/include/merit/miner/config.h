// merit-miner configuration: YAML (configs/miner.yaml documents every key), then environment
// variables (MERIT_MINER_<KEY>, e.g. MERIT_MINER_NETUID), then command-line options.
//
// Thread-safety: values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "merit/miner/policy.h"
#include "merit/util/result.h"

namespace merit::miner {

// The `remote_workers` section: serve through worker processes instead of in-process
// (docs/OPERATIONS.md, "Workers on other hosts"; merit/miner/worker_link.h).
struct RemoteWorkersConfig {
  std::string endpoint;              // the front binds it, e.g. tcp://0.0.0.0:8092; workers connect to it
  std::string secretFile;            // the shared worker secret (at least 32 bytes, mode 0600)
  std::size_t queueCapacity = 1024;  // batches waiting for a free worker
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds heartbeatTimeout{3000};  // a worker silent this long is dead
};

struct MinerConfig {
  std::string wallet = "default";
  std::string hotkey = "default";
  std::string chainUrl;  // empty: $MERIT_CHAIN_URL or http://127.0.0.1:9933
  // The chain backend: "merit" (the embedded dev chain, merit-chain) or "subtensor" (a Substrate
  // node running a subtensor runtime; chain_url is then its ws:// endpoint). docs/SUBTENSOR.md.
  std::string chain = "merit";
  std::uint16_t netuid = 1;

  std::string plugin;            // subnet plugin name (file libmerit_subnet_<name>.so) or path
  std::string pluginConfigYaml;  // the plugin's own config section, as YAML text
  std::vector<std::string> subnetPath;
  // Reloading the plugin without a restart (docs/OPERATIONS.md, "Reloading the subnet plugin"):
  // on SIGHUP, and when the plugin file changes, looked at every pluginWatch (0 = SIGHUP only).
  // A reload waits up to pluginDrainTimeout for calls on the old build to end.
  std::chrono::milliseconds pluginWatch{2000};
  std::chrono::milliseconds pluginDrainTimeout{30'000};

  std::string bind = "tcp://0.0.0.0:8091";  // axon bind endpoint
  std::string externalIp;                   // advertised on chain (NAT, containers); default: bind IP
  std::uint16_t externalPort = 0;           // default: the bound port
  bool curve = false;                       // CurveZMQ encryption (key advertised on chain)
  // Shield mode (implies curve): the axon completes CurveZMQ handshakes only with the client keys
  // of the subnet's current validator-permit holders (docs/PROTOCOL.md, "Shield mode"); everyone
  // else is refused by the transport. Advertised on chain as axon protocol 2.
  bool shield = false;

  // Axon worker threads: signature checks and handler calls. With remote_workers, a handler
  // call waits for a remote worker, so set it to at least the workers' total capacity.
  std::size_t workers = 2;
  // Set when the config has a remote_workers section (its raw YAML is kept in remoteWorkersYaml).
  std::optional<RemoteWorkersConfig> remoteWorkers;
  std::string remoteWorkersYaml;
  std::size_t maxBatchSize = 8;
  std::chrono::milliseconds maxBatchWait{5};
  std::size_t queueCapacity = 1024;
  double ratePerSecond = 200;  // per caller
  // Transport limits (docs/PROTOCOL.md, "Transport limits"): open connections in all and per
  // peer IP address.
  std::size_t maxConnections = 1024;
  std::size_t maxConnectionsPerAddress = 64;
  PolicyOptions policy;

  std::string metricsHost = "127.0.0.1";
  int metricsPort = -1;  // -1 = no metrics endpoint, 0 = any free port

  // The metagraph (caller table, deregistration) is refreshed on new blocks from the chain's
  // feed, at most once per this interval: a subnet of hundreds of miners must not ask the chain
  // for the whole metagraph every block. 0 = every block.
  std::chrono::milliseconds metagraphRefresh{1000};

  bool autoRegister = false;  // register (and re-register) with the coldkey; asks for its password
  std::string passwordFile;
  std::string logLevel = "info";
};

// Applies the YAML file `path` over `base`. Errors name file, key and reason.
Result<MinerConfig> loadMinerConfig(const std::string& path, MinerConfig base);
Result<MinerConfig> parseMinerConfig(const std::string& yaml, const std::string& name, MinerConfig base);
// Applies MERIT_MINER_* environment variables; errors name the variable.
Result<void> applyMinerEnvironment(MinerConfig& config);

}  // namespace merit::miner
