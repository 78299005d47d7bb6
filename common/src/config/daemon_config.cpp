#include "merit/config/daemon_config.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

#include <yaml-cpp/yaml.h>

#include "merit/util/file.h"

namespace merit::config {

void bad(const std::string& path, const std::string& reason) {
  throw KeyError{path, reason};
}

std::uint64_t parseInteger(const std::string& s, const std::string& path, std::uint64_t min,
                           std::uint64_t max) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    bad(path, "must be a non-negative integer, got '" + s + "'");
  if (v < min || v > max) {
    bad(path, min == 0 ? "must be at most " + std::to_string(max)
                       : "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return v;
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

bool parseBool(const std::string& s, const std::string& path) {
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  bad(path, "must be true or false, got '" + s + "'");
}

Result<void> applyYaml(const std::string& yaml, const std::string& name, const Schema& schema) {
  try {
    YAML::Node root = YAML::Load(yaml);
    if (root.IsNull()) return {};
    if (!root.IsMap()) bad("", "the file must be a mapping");
    for (const auto& kv : root) {
      auto key = kv.first.as<std::string>();
      if (auto list = schema.listKeys.find(key); list != schema.listKeys.end()) {
        if (!kv.second.IsSequence()) bad(key, "must be a list");
        for (const auto& item : kv.second) list->second->push_back(item.as<std::string>());
      } else if (auto section = schema.sectionKeys.find(key); section != schema.sectionKeys.end()) {
        YAML::Emitter e;
        e << kv.second;
        *section->second = e.c_str();
      } else if (schema.scalarKeys.count(key)) {
        if (!kv.second.IsScalar()) bad(key, "must be a single value");
        schema.set(key, kv.second.Scalar(), key);
      } else {
        bad(key, "unknown key (see " + schema.documentedIn + ")");
      }
    }
  } catch (const KeyError& e) {
    return fail(ErrorCode::kInvalidArgument, name + ": " + (e.path.empty() ? "" : e.path + ": ") + e.reason);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument,
                name + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return {};
}

Result<void> applyFile(const std::string& path, const Schema& schema) {
  auto text = readFile(path, 1 << 20);
  if (!text) return fail(text.error().withContext("cannot read config"));
  return applyYaml(*text, path, schema);
}

Result<void> applyEnvironment(const std::string& prefix, const Schema& schema) {
  try {
    for (const auto& key : schema.scalarKeys) {
      std::string var = prefix;
      for (char ch : key) var += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (const char* v = std::getenv(var.c_str()); v != nullptr) schema.set(key, v, var);
    }
  } catch (const KeyError& e) {
    return fail(ErrorCode::kInvalidArgument, e.path + ": " + e.reason);
  }
  return {};
}

}  // namespace merit::config
