// The `merit localnet` configuration (configs/localnet.yaml): the chain's block time, the dev
// funds, and per subnet its plugin, hyperparameters, root weight, validators and miners (each
// with a tier label, a plugin_config and optionally a model trained by merit-train). Parsing is
// strict: unknown keys, wrong types, duplicate names and out-of-range values are errors naming
// the file and the key, so a bad config is refused before anything starts.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "merit/crypto/any_key.h"
#include "merit/tx/extrinsic.h"
#include "merit/util/result.h"

namespace merit::cli::localnet {

// A model made by `merit-train <trainer> <args...> --out PATH`, cached by cacheKey().
struct ModelSpec {
  std::string trainer;
  std::vector<std::string> args;

  // 16 hex characters of BLAKE2b-256 over the trainer and its arguments: equal specs share a file.
  std::string cacheKey() const;
};

struct MinerSpec {
  std::string name;  // unique within its subnet; the hotkey is "<subnet>.<name>"
  crypto::KeyScheme scheme = crypto::KeyScheme::kEcdsa;  // of its hotkey (`scheme:`)
  std::string tier;                // a label; tiers are summarised in the order they first appear
  std::string pluginConfig;        // YAML text (a mapping), "{}" when absent
  std::optional<ModelSpec> model;  // its path is added to pluginConfig as `model`
  std::map<std::string, std::string> settings;  // extra configs/miner.yaml keys
};

struct ValidatorSpec {
  std::string name;
  crypto::KeyScheme scheme = crypto::KeyScheme::kEcdsa;  // of its hotkey (`scheme:`)
  tx::Balance stake = 0;                                 // rao
  std::string pluginConfig;
  std::map<std::string, std::string> settings;  // extra configs/validator.yaml keys
};

struct SubnetSpec {
  std::string name;    // label, [a-z0-9_]; defaults to the plugin name
  std::string plugin;  // plugin name (libmerit_subnet_<plugin>.so)
  std::uint16_t rootWeight = 1;
  std::vector<std::pair<tx::Hyper, std::uint64_t>> hyperparameters;
  std::vector<ValidatorSpec> validators;
  std::vector<MinerSpec> miners;
};

struct Config {
  std::string source;  // the file it came from, for messages
  std::uint64_t blockTimeMs = 200;
  std::string chainLogLevel = "warn";
  std::string logLevel = "info";  // miners' and validators' log level
  tx::Balance fund = 0;           // genesis balance of the dev coldkey (rao)
  tx::Balance rootStake = 0;      // stake of the root validator hotkey (rao)
  // The dev coldkey's and the root validator hotkey's scheme (`owner: {scheme: ...}`).
  crypto::KeyScheme ownerScheme = crypto::KeyScheme::kEcdsa;
  std::string modelCache;               // empty: $XDG_CACHE_HOME/meritnet/models (or ~/.cache/...)
  std::uint64_t startupTimeoutS = 240;  // per phase: process readiness, validators' first weights
  bool dashboard = true;                // `merit dashboard` runs beside the network (dashboard.enabled)
  int dashboardPort = 9980;             // on 127.0.0.1 (dashboard.port; 0 = any free port)
  std::map<std::string, std::string> minerDefaults;
  std::map<std::string, std::string> validatorDefaults;
  std::vector<SubnetSpec> subnets;
};

// Parses YAML text; `name` prefixes every error ("configs/localnet.yaml: subnets[0].miners[2]: ...").
Result<Config> parseConfig(const std::string& yaml, const std::string& name);
Result<Config> loadConfig(const std::filesystem::path& path);

// `pluginConfig` (a YAML mapping) with `model: path` set.
Result<std::string> withModel(const std::string& pluginConfig, const std::string& modelPath);

// A flat daemon config file (configs/miner.yaml or configs/validator.yaml keys): scalar `values`,
// `subnet_path` and the plugin_config section, as YAML text.
std::string daemonYaml(const std::map<std::string, std::string>& values,
                       const std::vector<std::string>& subnetPath, const std::string& pluginConfig);

}  // namespace merit::cli::localnet
