// Byte buffers and hex: the vocabulary types for binary data.
//
// Thread-safety: free functions on values; no shared state.
//
// Owned bytes are `Bytes`, fixed-size values (hashes, keys) are `ByteArray<N>`, borrowed bytes
// are `ByteView`. C libraries (libsodium, libsecp256k1) take `unsigned char*`: use u8() for that
// conversion instead of scattering reinterpret_casts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "merit/util/result.h"

namespace merit {

using Bytes = std::vector<std::byte>;
using ByteView = std::span<const std::byte>;
using MutableByteView = std::span<std::byte>;
template <std::size_t N>
using ByteArray = std::array<std::byte, N>;

// The bytes of a string, borrowed (no copy, no terminator).
inline ByteView asBytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
// The bytes of a buffer as text, borrowed.
inline std::string_view asChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline const unsigned char* u8(ByteView b) {
  return reinterpret_cast<const unsigned char*>(b.data());
}
inline unsigned char* u8(MutableByteView b) {
  return reinterpret_cast<unsigned char*>(b.data());
}

inline Bytes toBytes(ByteView b) {
  return Bytes(b.begin(), b.end());
}
inline Bytes toBytes(std::string_view s) {
  return toBytes(asBytes(s));
}

// Appends `b` to `out`.
inline void append(Bytes& out, ByteView b) {
  out.insert(out.end(), b.begin(), b.end());
}

// Lower-case hex, no prefix.
std::string toHex(ByteView bytes);
template <std::size_t N>
std::string toHex(const ByteArray<N>& bytes) {
  return toHex(ByteView(bytes));
}

// Parses hex (either case, an optional "0x" prefix). Odd length or a non-hex character is
// kInvalidArgument naming the position.
Result<Bytes> fromHex(std::string_view hex);

// Parses hex that must decode to exactly N bytes.
template <std::size_t N>
Result<ByteArray<N>> fromHexFixed(std::string_view hex) {
  auto bytes = fromHex(hex);
  if (!bytes) return tl::unexpected(std::move(bytes).error());
  if (bytes->size() != N) {
    return fail(ErrorCode::kInvalidArgument,
                "expected " + std::to_string(N) + " bytes of hex, got " + std::to_string(bytes->size()));
  }
  ByteArray<N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = (*bytes)[i];
  return out;
}

// Big- and little-endian fixed-width integer encoding, for canonical byte strings.
void appendU16Le(Bytes& out, std::uint16_t v);
void appendU32Le(Bytes& out, std::uint32_t v);
void appendU64Le(Bytes& out, std::uint64_t v);
std::uint64_t readU64Le(ByteView in);  // requires in.size() >= 8

}  // namespace merit
