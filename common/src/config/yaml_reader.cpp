#include "merit/config/yaml_reader.h"

#include <charconv>
#include <cstdlib>

#include "merit/util/file.h"

namespace merit::config {

void bad(const std::string& path, const std::string& reason) {
  throw KeyError{path, reason};
}

std::string join(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string index(const std::string& parent, std::size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

Result<void> parseYaml(const std::string& yaml, const std::string& name,
                       const std::function<void(const YAML::Node& root)>& walk) {
  try {
    walk(YAML::Load(yaml));
  } catch (const KeyError& e) {
    return fail(ErrorCode::kInvalidArgument, name + ": " + (e.path.empty() ? "" : e.path + ": ") + e.reason);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument,
                name + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return {};
}

Result<void> parseYamlFile(const std::string& path, std::size_t maxBytes,
                           const std::function<void(const YAML::Node& root)>& walk) {
  auto text = readFile(path, maxBytes);
  if (!text) return fail(text.error().withContext("cannot read config"));
  return parseYaml(*text, path, walk);
}

void checkKeys(const YAML::Node& node, const std::string& path, const std::set<std::string>& allowed,
               const std::string& hint) {
  if (!node.IsMap()) bad(path, "must be a mapping");
  for (const auto& kv : node) {
    auto key = kv.first.as<std::string>();
    if (allowed.count(key)) continue;
    if (!hint.empty()) bad(join(path, key), "unknown key (see " + hint + ")");
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    bad(join(path, key), "unknown key (expected one of: " + list + ")");
  }
}

const YAML::Node& require(const YAML::Node& value, const std::string& path, const std::string& what) {
  if (!value) bad(path, "required" + what);
  return value;
}

std::string scalar(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) bad(path, "must be a single value");
  return node.Scalar();
}

std::uint64_t parseInteger(const std::string& s, const std::string& path, std::uint64_t min,
                           std::uint64_t max) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty())
    bad(path, "must be a non-negative integer, got '" + s + "'");
  if (v < min || v > max) {
    bad(path, min == 0 ? "must be at most " + std::to_string(max)
                       : "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return v;
}

std::uint64_t integer(const YAML::Node& node, const std::string& path, std::uint64_t min, std::uint64_t max) {
  if (!node.IsScalar()) bad(path, "must be a non-negative integer");
  return parseInteger(node.Scalar(), path, min, max);
}

double parseNumber(const std::string& s, const std::string& path, double min, double max) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !(v >= min && v <= max)) {
    bad(path,
        "must be a number in [" + std::to_string(min) + ", " + std::to_string(max) + "], got '" + s + "'");
  }
  return v;
}

bool boolean(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) bad(path, "must be true or false");
  const auto& s = node.Scalar();
  if (s == "true") return true;
  if (s == "false") return false;
  bad(path, "must be true or false, got '" + s + "'");
}

bool parseBool(const std::string& s, const std::string& path) {
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  bad(path, "must be true or false, got '" + s + "'");
}

}  // namespace merit::config
