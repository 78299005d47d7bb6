// merit-validator configuration: YAML (configs/validator.yaml documents every key), then
// MERIT_VALIDATOR_<KEY> environment variables, then command-line options.
//
// Thread-safety: values.
#pragma once

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
  std::string logLevel = "info";
  ValidatorConfig loop;  // chain URL, netuid, sampling, scoring, weights, state file
};

Result<ValidatorFileConfig> parseValidatorConfig(const std::string& yaml, const std::string& name,
                                                 ValidatorFileConfig base);
Result<ValidatorFileConfig> loadValidatorConfig(const std::string& path, ValidatorFileConfig base);
Result<void> applyValidatorEnvironment(ValidatorFileConfig& config);

}  // namespace merit::validator
