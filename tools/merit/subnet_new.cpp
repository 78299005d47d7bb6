#include "subnet_new.h"

#include <cstdio>
#include <memory>
#include <system_error>

#include <CLI/CLI.hpp>

#include "merit/util/bytes.h"
#include "merit/util/file.h"

#include "commands.h"

namespace merit::cli {

namespace fs = std::filesystem;

namespace {

std::string substituteToken(std::string_view text, std::string_view token, const std::string& value) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (true) {
    const std::size_t next = text.find(token, at);
    out.append(text.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
    if (next == std::string_view::npos) break;
    out += value;
    at = next + token.size();
  }
  return out;
}

std::string substitute(std::string_view text, const std::string& name, const std::string& dir) {
  return substituteToken(substituteToken(text, "{{name}}", name), "{{dir}}", dir);
}

int runNew(const std::string& name, const std::string& lang, const std::string& dirOption) {
  const fs::path dir = dirOption.empty() ? fs::path(name) : fs::path(dirOption);
  auto written = writeSubnetProject(name, lang, dir);
  if (!written) return report(written.error());
  std::printf("created the %s subnet project '%s' in %s:\n", lang.c_str(), name.c_str(),
              dir.string().c_str());
  for (const auto& f : *written) std::printf("  %s\n", f.string().c_str());
  if (lang == "python") {
    std::printf(
        "next (README.md says what to edit):\n"
        "  cd %s\n"
        "  /usr/bin/python3 -m unittest\n"
        "  merit subnet check .\n"
        "  merit localnet up --config localnet.yaml --epochs 4\n",
        dir.string().c_str());
    return kExitOk;
  }
  std::printf(
      "next (README.md says what to edit):\n"
      "  cd %s\n"
      "  cmake -S . -B build -DCMAKE_PREFIX_PATH=<meritnet install prefix>\n"
      "  cmake --build build && ctest --test-dir build\n"
      "  merit subnet check .\n"
      "  MERIT_SUBNET_PATH=$PWD/build/subnets merit localnet up --config localnet.yaml --epochs 2\n",
      dir.string().c_str());
  return kExitOk;
}

}  // namespace

bool isValidNewSubnetName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

Result<std::vector<fs::path>> writeSubnetProject(const std::string& name, const std::string& lang,
                                                 const fs::path& dir) {
  if (!isValidNewSubnetName(name)) {
    return fail(ErrorCode::kInvalidArgument,
                "invalid subnet name '" + name +
                    "': 1-64 characters of a-z, 0-9 and _, starting with a letter (it names the plugin "
                    "libmerit_subnet_<name>.so and its C++ namespace)");
  }
  if (lang != "cpp" && lang != "python") {
    return fail(ErrorCode::kInvalidArgument, "--lang " + lang + ": one of cpp, python");
  }
  std::error_code ec;
  // The Python template writes the project's absolute path into its YAML (double-quoted), so that
  // its configs work from any working directory.
  const fs::path absolute = fs::absolute(dir, ec).lexically_normal();
  std::string absoluteText = absolute.string();
  while (absoluteText.size() > 1 && absoluteText.back() == '/') absoluteText.pop_back();
  if (lang == "python" && absoluteText.find_first_of("\"\\\n\r") != std::string::npos) {
    return fail(ErrorCode::kInvalidArgument,
                "--dir " + dir.string() + ": the python project writes its absolute path into YAML, which " +
                    "cannot hold a quote, a backslash or a line break: pick another directory");
  }
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      return fail(ErrorCode::kAlreadyExists, dir.string() + " exists and is not a directory");
    }
    if (!fs::is_empty(dir, ec) || ec) {
      return fail(ErrorCode::kAlreadyExists,
                  dir.string() + " exists and is not empty: refusing to write into it (pick another --dir)");
    }
  }
  std::vector<fs::path> written;
  for (const TemplateFile& file : lang == "python" ? pythonSubnetTemplate() : cppSubnetTemplate()) {
    const fs::path relative = substitute(file.path, name, absoluteText);
    const fs::path target = dir / relative;
    MERIT_TRY(createDirectories(target.parent_path(), 0755));
    const std::string text = substitute(file.text, name, absoluteText);
    MERIT_TRY(writeFileAtomic(target, asBytes(text), 0644, false));
    written.push_back(relative);
  }
  return written;
}

void addSubnetNewCommand(CLI::App& subnet, int& exitCode) {
  auto name = std::make_shared<std::string>();
  auto lang = std::make_shared<std::string>("cpp");
  auto dir = std::make_shared<std::string>();
  auto* cmd = subnet.add_subcommand("new",
                                    "Write a new out-of-tree subnet project: plugin (C++) or module "
                                    "(Python), tests, localnet config, README");
  cmd->add_option("name", *name, "The subnet's name (a-z, 0-9, _; starting with a letter)")->required();
  cmd->add_option("--lang", *lang,
                  "The subnet's language: cpp (a plugin built against the SDK) or python (a module for the "
                  "python plugin host)")
      ->capture_default_str();
  cmd->add_option("--dir", *dir, "Where to write it (default: ./NAME); must not exist or be empty");
  cmd->callback([&exitCode, name, lang, dir] { exitCode = runNew(*name, *lang, *dir); });
}

}  // namespace merit::cli
