// Metadata fixtures captured from the subtensor runtimes (hex files written by the subtensor test
// harness into <build>/subtensor/fixtures; the directory comes from MERIT_SUBTENSOR_FIXTURES).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

#include "merit/substrate/metadata.h"
#include "merit/util/bytes.h"
#include "merit/util/file.h"

namespace merit::substrate::testing {

inline std::filesystem::path fixturesDir() {
  const char* dir = std::getenv("MERIT_SUBTENSOR_FIXTURES");
  return dir ? std::filesystem::path(dir) : std::filesystem::path();
}

inline constexpr const char* kFixtureNames[] = {
    "spec200_state_getMetadata.hex", "spec200_metadata_at_version_15.hex", "spec218_state_getMetadata.hex",
    "spec218_metadata_at_version_15.hex"};

// The bytes of a hex fixture ("0x..." plus optional whitespace); aborts the test on failure.
inline Bytes loadFixture(const std::string& name) {
  auto text = readFile(fixturesDir() / name, 64u << 20);
  if (!text) throw std::runtime_error(text.error().toString());
  std::string hex;
  for (char c : *text) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '"') hex.push_back(c);
  }
  auto bytes = fromHex(hex);
  if (!bytes) throw std::runtime_error(name + ": " + bytes.error().toString());
  return std::move(*bytes);
}

inline const Metadata& fixtureMetadata(const std::string& name) {
  static std::map<std::string, Metadata> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    auto m = Metadata::decodeAny(loadFixture(name));
    if (!m) throw std::runtime_error(name + ": " + m.error().toString());
    it = cache.emplace(name, std::move(*m)).first;
  }
  return it->second;
}

}  // namespace merit::substrate::testing
