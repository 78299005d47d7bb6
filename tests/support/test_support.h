// Helpers shared by meritnet's tests: deterministic keys and temporary directories.
//
// Thread-safety: values; each TempDir belongs to one test.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdlib.h>
#include <string>

#include "merit/crypto/keys.h"

namespace merit::test {

// A deterministic key: the secret is `tag` in its first byte and `n` big-endian in its last two
// bytes, so tests name their actors by number and different suites can keep their keys apart.
inline crypto::PrivateKey testKey(int n, std::uint8_t tag = 0) {
  ByteArray<32> secret{};
  secret[0] = static_cast<std::byte>(tag);
  secret[30] = static_cast<std::byte>((n >> 8) & 0xff);
  secret[31] = static_cast<std::byte>(n & 0xff);
  return crypto::PrivateKey::fromBytes(secret).value();
}

// A fresh directory under /tmp, removed with everything in it when the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "merit_test") {
    std::string tmpl = "/tmp/" + prefix + "_XXXXXX";
    char* made = ::mkdtemp(tmpl.data());
    m_path = made != nullptr ? std::filesystem::path(made) : std::filesystem::path();
  }
  ~TempDir() {
    std::error_code ec;
    if (!m_path.empty()) std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

}  // namespace merit::test
