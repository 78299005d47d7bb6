#include "merit/crypto/secret.h"

#include <cstring>

#include <sodium.h>

namespace merit::crypto {

void secureZero(void* data, std::size_t size) {
  sodium_memzero(data, size);
}

SecretBytes::SecretBytes(ByteView bytes)
    : m_data(new std::byte[bytes.size() == 0 ? 1 : bytes.size()]), m_size(bytes.size()) {
  if (m_size > 0) std::memcpy(m_data.get(), bytes.data(), m_size);
}

SecretBytes SecretBytes::takeString(std::string& text) {
  SecretBytes out{std::string_view(text)};
  secureZero(text.data(), text.size());
  text.clear();
  text.shrink_to_fit();
  return out;
}

SecretBytes::~SecretBytes() {
  wipe();
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : m_data(std::move(other.m_data)), m_size(other.m_size) {
  other.m_size = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    m_data = std::move(other.m_data);
    m_size = other.m_size;
    other.m_size = 0;
  }
  return *this;
}

void SecretBytes::wipe() {
  if (m_data) secureZero(m_data.get(), m_size);
  m_data.reset();
  m_size = 0;
}

}  // namespace merit::crypto
