// Helpers shared by meritnet's tests: deterministic keys, temporary directories, and waiting for
// an event with a generous deadline instead of sleeping for a guessed time.
//
// Thread-safety: values; each TempDir belongs to one test.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdlib.h>
#include <string>
#include <thread>

#include "merit/crypto/keys.h"
#include "merit/crypto/sr25519.h"

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

// A deterministic sr25519 key, from a mini secret laid out as testKey's secret (with 0x5e in its
// second byte, so it is never testKey's secret).
inline crypto::sr25519::Keypair testSrKey(int n, std::uint8_t tag = 0) {
  ByteArray<32> secret{};
  secret[0] = static_cast<std::byte>(tag);
  secret[1] = std::byte{0x5e};
  secret[30] = static_cast<std::byte>((n >> 8) & 0xff);
  secret[31] = static_cast<std::byte>(n & 0xff);
  return crypto::sr25519::Keypair::fromMiniSecret(secret).value();
}

// Polls `pred` until it holds or `within` has passed (real time: the deadline is only there so a
// broken test fails instead of hanging, so make it generous); returns pred()'s last answer.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds within = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
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
