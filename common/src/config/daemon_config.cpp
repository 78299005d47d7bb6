#include "merit/config/daemon_config.h"

#include <cctype>
#include <cstdlib>

#include "merit/config/yaml_reader.h"
#include "merit/util/file.h"

namespace merit::config {

Result<void> applyYaml(const std::string& yaml, const std::string& name, const Schema& schema) {
  return parseYaml(yaml, name, [&schema](const YAML::Node& root) {
    if (root.IsNull()) return;
    if (!root.IsMap()) bad("", "the file must be a mapping");
    for (const auto& kv : root) {
      auto key = kv.first.as<std::string>();
      if (auto list = schema.listKeys.find(key); list != schema.listKeys.end()) {
        if (!kv.second.IsSequence()) bad(key, "must be a list");
        for (std::size_t i = 0; i < kv.second.size(); ++i)
          list->second->push_back(scalar(kv.second[i], index(key, i)));
      } else if (auto section = schema.sectionKeys.find(key); section != schema.sectionKeys.end()) {
        YAML::Emitter e;
        e << kv.second;
        *section->second = e.c_str();
      } else if (schema.scalarKeys.count(key)) {
        schema.set(key, scalar(kv.second, key), key);
      } else {
        bad(key, "unknown key (see " + schema.documentedIn + ")");
      }
    }
  });
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
