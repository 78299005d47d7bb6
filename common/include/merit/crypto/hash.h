// BLAKE2b (libsodium): the hash of meritnet. Message digests, account ids and block hashes are
// BLAKE2b-256; SS58 checksums use BLAKE2b-512.
//
// Thread-safety: free functions are stateless; a Blake2b object belongs to one thread.
#pragma once

#include <cstddef>

#include "merit/util/bytes.h"

namespace merit::crypto {

using Hash256 = ByteArray<32>;
using Hash512 = ByteArray<64>;

Hash256 blake2b256(ByteView data);
Hash512 blake2b512(ByteView data);

// Keyed BLAKE2b-256 (a MAC). `key` is 16..64 bytes.
Hash256 blake2b256Keyed(ByteView key, ByteView data);

// Incremental BLAKE2b with a digest size of 32 or 64 bytes, optionally keyed.
class Blake2b {
 public:
  explicit Blake2b(std::size_t digestSize = 32, ByteView key = {});
  ~Blake2b();
  Blake2b(const Blake2b&) = delete;
  Blake2b& operator=(const Blake2b&) = delete;

  Blake2b& update(ByteView data);
  // Writes the digest; the object must not be updated afterwards.
  void finish(MutableByteView out);
  Hash256 finish256();

 private:
  alignas(64) unsigned char m_state[384];
  std::size_t m_digestSize;
};

// Ensures libsodium is initialised (idempotent, thread-safe). Every merit_crypto entry point
// calls it; callers using libsodium directly call it first.
void ensureSodium();

// Fills `out` from the operating system's CSPRNG.
void randomBytes(MutableByteView out);

}  // namespace merit::crypto
