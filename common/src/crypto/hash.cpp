#include "merit/crypto/hash.h"

#include <cstdio>
#include <cstdlib>

#include <sodium.h>

#include "merit/util/assert.h"

namespace merit::crypto {

static_assert(sizeof(crypto_generichash_state) <= 384, "Blake2b state buffer too small");

void ensureSodium() {
  // sodium_init is thread-safe and idempotent; it fails only without a usable entropy source.
  static const int rc = sodium_init();
  if (rc < 0) {
    std::fprintf(stderr, "fatal: libsodium failed to initialise (no OS randomness?)\n");
    std::abort();
  }
}

void randomBytes(MutableByteView out) {
  ensureSodium();
  randombytes_buf(out.data(), out.size());
}

Hash256 blake2b256(ByteView data) {
  Hash256 out;
  crypto_generichash(u8(MutableByteView(out)), out.size(), u8(data), data.size(), nullptr, 0);
  return out;
}

Hash512 blake2b512(ByteView data) {
  Hash512 out;
  crypto_generichash(u8(MutableByteView(out)), out.size(), u8(data), data.size(), nullptr, 0);
  return out;
}

Hash256 blake2b256Keyed(ByteView key, ByteView data) {
  MERIT_ASSERT(key.size() >= crypto_generichash_KEYBYTES_MIN && key.size() <= crypto_generichash_KEYBYTES_MAX,
               key.size());
  Hash256 out;
  crypto_generichash(u8(MutableByteView(out)), out.size(), u8(data), data.size(), u8(key), key.size());
  return out;
}

Blake2b::Blake2b(std::size_t digestSize, ByteView key) : m_digestSize(digestSize) {
  MERIT_ASSERT(digestSize >= crypto_generichash_BYTES_MIN && digestSize <= crypto_generichash_BYTES_MAX,
               digestSize);
  MERIT_ASSERT(key.empty() || key.size() >= crypto_generichash_KEYBYTES_MIN, key.size());
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(m_state),
                          key.empty() ? nullptr : u8(key), key.size(), digestSize);
}

Blake2b::~Blake2b() {
  sodium_memzero(m_state, sizeof m_state);
}

Blake2b& Blake2b::update(ByteView data) {
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(m_state), u8(data), data.size());
  return *this;
}

void Blake2b::finish(MutableByteView out) {
  MERIT_ASSERT(out.size() == m_digestSize, out.size(), m_digestSize);
  crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(m_state), u8(out), out.size());
}

Hash256 Blake2b::finish256() {
  Hash256 out;
  finish(out);
  return out;
}

}  // namespace merit::crypto
