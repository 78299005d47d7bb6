// merit-validator configuration: YAML (configs/validator.yaml documents every key), then
// MERIT_VALIDATOR_<KEY> environment variables, then command-line options.
//
// Thread-safety: values.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "merit/validator/validator.h"

namespace merit::validator {

struct ValidatorFileConfig {
  std::string wallet = "default";
  std::string hotkey = "default";
  std::string plugin;
  std::string pluginConfigYaml;
  std::vector<std::string> subnetPath;
  // Reloading the plugin without a restart, as for the miner (docs/OPERATIONS.md, "Reloading the
  // subnet plugin"): on SIGHUP, and when the file changes, looked at every pluginWatch (0 = SIGHUP
  // only); a reload waits up to pluginDrainTimeout for the step using the old build to end.
  std::chrono::milliseconds pluginWatch{2000};
  std::chrono::milliseconds pluginDrainTimeout{30'000};
  std::string logLevel = "info";
  ValidatorConfig loop;  // chain URL, netuid, sampling, scoring, weights, state file
};

Result<ValidatorFileConfig> parseValidatorConfig(const std::string& yaml, const std::string& name,
                                                 ValidatorFileConfig base);
Result<ValidatorFileConfig> loadValidatorConfig(const std::string& path, ValidatorFileConfig base);
Result<void> applyValidatorEnvironment(ValidatorFileConfig& config);

}  // namespace merit::validator
