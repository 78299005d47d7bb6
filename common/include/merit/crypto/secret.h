// Secret material: private keys, seeds, passwords, mnemonics.
//
// Thread-safety: values owned by one thread at a time; no shared state.
//
// A secret is not copyable (copies are how secrets leak), is zeroed on destruction and when
// moved from, and has no operator<< or fmt formatter: printing one does not compile. Reveal the
// bytes explicitly with reveal() where a C library needs them.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <string_view>

#include "merit/util/assert.h"
#include "merit/util/bytes.h"

namespace merit::crypto {

// Overwrites memory in a way the compiler cannot elide.
void secureZero(void* data, std::size_t size);

// A fixed-size secret (e.g. a 32-byte private key).
template <std::size_t N>
class SecretArray {
 public:
  SecretArray() { m_bytes.fill(std::byte{0}); }
  explicit SecretArray(ByteView bytes) {
    MERIT_ASSERT(bytes.size() == N, bytes.size(), N);
    std::copy(bytes.begin(), bytes.end(), m_bytes.begin());
  }
  ~SecretArray() { secureZero(m_bytes.data(), N); }

  SecretArray(const SecretArray&) = delete;
  SecretArray& operator=(const SecretArray&) = delete;
  SecretArray(SecretArray&& other) noexcept : m_bytes(other.m_bytes) { secureZero(other.m_bytes.data(), N); }
  SecretArray& operator=(SecretArray&& other) noexcept {
    if (this != &other) {
      m_bytes = other.m_bytes;
      secureZero(other.m_bytes.data(), N);
    }
    return *this;
  }

  static constexpr std::size_t size() { return N; }
  ByteView reveal() const { return m_bytes; }
  MutableByteView mutableBytes() { return m_bytes; }

 private:
  std::array<std::byte, N> m_bytes;
};

// A variable-size secret (a password, a mnemonic phrase). The buffer never reallocates, so no
// stale copy is left behind in freed memory.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(ByteView bytes);
  explicit SecretBytes(std::string_view text) : SecretBytes(asBytes(text)) {}
  // Takes ownership of a std::string's content and wipes the string.
  static SecretBytes takeString(std::string& text);
  ~SecretBytes();

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;

  std::size_t size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  ByteView reveal() const { return {m_data.get(), m_size}; }
  std::string_view revealText() const { return asChars(reveal()); }

 private:
  void wipe();
  std::unique_ptr<std::byte[]> m_data;
  std::size_t m_size = 0;
};

}  // namespace merit::crypto
