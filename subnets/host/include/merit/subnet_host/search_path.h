// Where subnet plugins are looked for, and how a plugin name becomes a file.
//
// Thread-safety: free functions; they read the environment (MERIT_SUBNET_PATH) and the file
// system but keep no state.
//
// Order: the caller's explicit directories (--subnet-path, subnet_path in a config), then
// $MERIT_SUBNET_PATH (colon-separated), then the install directory
// (<prefix>/<libdir>/meritnet/subnets, fixed at configure time), then the build tree's subnets
// directory (so in-tree binaries find in-tree plugins without installing). The first match wins.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "merit/util/result.h"

namespace merit::subnet {

// "libmerit_subnet_<name>.so".
std::string pluginFileName(std::string_view name);

// The directories searched, in order, without duplicates. `explicitDirs` come first; empty
// entries (also in MERIT_SUBNET_PATH) are skipped.
std::vector<std::filesystem::path> subnetSearchPath(std::span<const std::string> explicitDirs);

// The configured install directory, and the build tree's plugin directory.
std::filesystem::path subnetInstallDir();
std::filesystem::path subnetBuildDir();

// Resolves `nameOrPath`: something containing '/' or ending in ".so" is a path and must exist;
// anything else is a subnet name looked up as pluginFileName(name) along subnetSearchPath().
// kNotFound lists every place looked at; kInvalidArgument for a name that is not 1-64 characters
// of [a-z0-9_].
Result<std::filesystem::path> findSubnetPlugin(std::string_view nameOrPath,
                                               std::span<const std::string> explicitDirs);

// True for a valid subnet name (1-64 characters of [a-z0-9_]).
bool isValidSubnetName(std::string_view name);

}  // namespace merit::subnet
