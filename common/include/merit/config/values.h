// Checked conversions of configuration values from text (a YAML scalar or an environment
// variable), shared by every meritnet configuration reader. Each throws KeyError naming `path`
// with the reason; the readers (parseYaml, applyYaml, applyEnvironment) turn it into an Error.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace merit::config {

// What a reader throws for a bad value.
struct KeyError {
  std::string path;  // empty: the document itself
  std::string reason;
};
[[noreturn]] void bad(const std::string& path, const std::string& reason);

// An unsigned integer in [min, max]: "must be a non-negative integer, got 'x'"; out of range,
// "must be at most MAX" (min 0) or "must be in [MIN, MAX]".
std::uint64_t parseInteger(const std::string& text, const std::string& path, std::uint64_t min = 0,
                           std::uint64_t max = UINT64_MAX);
// A number in [min, max]: "must be a number in [min, max], got 'x'".
double parseNumber(const std::string& text, const std::string& path, double min, double max);
// true/false (and 1/0, for environment variables): "must be true or false, got 'x'".
bool parseBool(const std::string& text, const std::string& path);

}  // namespace merit::config
