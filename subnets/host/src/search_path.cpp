#include "merit/subnet_host/search_path.h"

#include <cstdlib>
#include <system_error>

namespace merit::subnet {

namespace fs = std::filesystem;

std::string pluginFileName(std::string_view name) {
  return "libmerit_subnet_" + std::string(name) + ".so";
}

bool isValidSubnetName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

fs::path subnetInstallDir() {
  return fs::path(MERIT_SUBNET_INSTALL_DIR);
}
fs::path subnetBuildDir() {
  return fs::path(MERIT_SUBNET_BUILD_DIR);
}

std::vector<fs::path> subnetSearchPath(std::span<const std::string> explicitDirs) {
  std::vector<fs::path> dirs;
  auto add = [&dirs](std::string_view dir) {
    if (dir.empty()) return;
    fs::path p(dir);
    for (const auto& existing : dirs) {
      if (existing == p) return;
    }
    dirs.push_back(std::move(p));
  };
  for (const auto& dir : explicitDirs) add(dir);
  if (const char* env = std::getenv("MERIT_SUBNET_PATH"); env != nullptr) {
    std::string_view rest(env);
    while (true) {
      const auto colon = rest.find(':');
      add(rest.substr(0, colon));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  add(MERIT_SUBNET_INSTALL_DIR);
  add(MERIT_SUBNET_BUILD_DIR);
  return dirs;
}

Result<fs::path> findSubnetPlugin(std::string_view nameOrPath, std::span<const std::string> explicitDirs) {
  std::error_code ec;
  const bool isPath = nameOrPath.find('/') != std::string_view::npos ||
                      (nameOrPath.size() > 3 && nameOrPath.substr(nameOrPath.size() - 3) == ".so");
  if (isPath) {
    fs::path file(nameOrPath);
    if (!fs::is_regular_file(file, ec)) {
      return fail(ErrorCode::kNotFound, "subnet plugin " + file.string() + " does not exist");
    }
    return file;
  }
  if (!isValidSubnetName(nameOrPath)) {
    return fail(ErrorCode::kInvalidArgument, "invalid subnet plugin name '" + std::string(nameOrPath) +
                                                 "' (1-64 characters of a-z, 0-9 and _, or a path to a .so)");
  }
  const std::string fileName = pluginFileName(nameOrPath);
  std::string searched;
  for (const auto& dir : subnetSearchPath(explicitDirs)) {
    fs::path candidate = dir / fileName;
    if (fs::is_regular_file(candidate, ec)) return candidate;
    searched += searched.empty() ? "" : ", ";
    searched += dir.string();
  }
  return fail(ErrorCode::kNotFound, "subnet plugin '" + std::string(nameOrPath) + "' not found: no " +
                                        fileName + " in " + searched +
                                        " (use --subnet-path or MERIT_SUBNET_PATH to add a directory)");
}

}  // namespace merit::subnet
