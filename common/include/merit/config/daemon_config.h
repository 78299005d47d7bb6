// Flat YAML configuration for the daemons (merit-miner, merit-validator): one mapping of
// scalar keys, plus list-valued keys and opaque YAML sections (a plugin's own config), with the
// same keys overridable from the environment (PREFIX<KEY>, upper case). Errors name the file or
// variable, the key and the reason; unknown keys are errors.
//
// Thread-safety: pure functions over the caller's values; applyEnvironment reads the environment.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "merit/config/values.h"
#include "merit/util/result.h"

namespace merit::config {

struct Schema {
  std::set<std::string> scalarKeys;
  // Applies one scalar value; `path` is the key (YAML) or the variable name (environment).
  std::function<void(const std::string& key, const std::string& value, const std::string& path)> set;
  std::map<std::string, std::vector<std::string>*> listKeys;  // appended to
  std::map<std::string, std::string*> sectionKeys;            // re-emitted as YAML text
  std::string documentedIn;                                   // e.g. "configs/miner.yaml"
};

// Applies YAML text; `name` (usually the file) prefixes error messages.
Result<void> applyYaml(const std::string& yaml, const std::string& name, const Schema& schema);
// Reads a file (at most 1 MiB) and applies it.
Result<void> applyFile(const std::string& path, const Schema& schema);
// Applies PREFIX<KEY> variables for every scalar key.
Result<void> applyEnvironment(const std::string& prefix, const Schema& schema);

}  // namespace merit::config
