// The strict YAML reading rules every meritnet configuration follows (the chain's, the daemons'
// and the localnet's): a file is parsed in one call that turns every problem into an error
// "NAME: KEY.PATH: reason" (or "NAME: line N: ..." for YAML syntax); the walk over the tree uses
// the helpers below, which refuse unknown keys (listing the known ones), wrong types and values
// out of range, naming the key path ("genesis.balances[1].amount"). The plugin-side reader
// (merit/subnet_config.h) stays separate: plugins may not link meritnet libraries.
//
// yaml-cpp throws; it is caught in parseYaml(), so its exceptions never leave this library's
// callers' parse functions.
//
// Thread-safety: pure functions over the caller's values.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include <yaml-cpp/yaml.h>

#include "merit/config/values.h"
#include "merit/util/result.h"

namespace merit::config {

// "parent.key" (just "key" at the top level) and "parent[i]".
std::string join(const std::string& parent, const std::string& key);
std::string index(const std::string& parent, std::size_t i);

// Parses `yaml` and runs `walk` on its root (a null node for an empty document). Errors:
// kInvalidArgument "NAME: PATH: reason" for a KeyError, "NAME: line N: ..." for bad YAML.
Result<void> parseYaml(const std::string& yaml, const std::string& name,
                       const std::function<void(const YAML::Node& root)>& walk);
// Reads a file of at most `maxBytes` and parses it with the file's path as NAME.
Result<void> parseYamlFile(const std::string& path, std::size_t maxBytes,
                           const std::function<void(const YAML::Node& root)>& walk);

// Refuses a node that is not a mapping ("must be a mapping") and any key not in `allowed`
// ("unknown key (expected one of: a, b)", or "unknown key (see HINT)" when a hint is given).
void checkKeys(const YAML::Node& node, const std::string& path, const std::set<std::string>& allowed,
               const std::string& hint = "");
// A key that must be present: refuses its absence with "required" plus `what` (e.g. " (a label)").
const YAML::Node& require(const YAML::Node& value, const std::string& path, const std::string& what = "");

// A scalar's text ("must be a single value" for lists, mappings and null).
std::string scalar(const YAML::Node& node, const std::string& path);
// An unsigned integer in [min, max], by the rules of parseInteger() (merit/config/values.h).
std::uint64_t integer(const YAML::Node& node, const std::string& path, std::uint64_t min = 0,
                      std::uint64_t max = UINT64_MAX);
// true or false (YAML; the environment's parseBool also takes 1 and 0).
bool boolean(const YAML::Node& node, const std::string& path);

}  // namespace merit::config
