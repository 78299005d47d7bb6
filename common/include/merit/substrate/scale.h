// SCALE: the Substrate codec. Little-endian fixed-width integers, compact (variable-length)
// unsigned integers, length-prefixed vectors and strings, one-byte booleans and enum tags.
//
// Thread-safety: a ScaleWriter or ScaleReader belongs to one thread; free functions are pure.
//
// ScaleReader is for untrusted input (node answers, metadata): every read is bounds-checked and
// fails with kInvalidArgument instead of reading past the end; every length prefix is checked
// against the bytes remaining before the caller allocates anything (checkCount()). Compact
// integers must be canonical (the shortest mode), as the reference codec requires.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::substrate {

// An unsigned 128-bit integer as two 64-bit halves (balances, stake amounts).
struct U128 {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;

  // Parses a decimal string of digits only (no sign, no spaces, no leading "+"); overflow or an
  // empty string is kInvalidArgument.
  static Result<U128> fromDecimal(std::string_view text);
  std::string toDecimal() const;

  friend bool operator==(const U128&, const U128&) = default;
};

// Little-endian two's-complement integer bytes <-> decimal text, for any width (u128, i128, u256).
std::string leBytesToDecimal(ByteView le, bool isSigned);
// Parses an optional '-' (only if isSigned) followed by decimal digits into `width` bytes;
// out of range is kInvalidArgument.
Result<Bytes> decimalToLeBytes(std::string_view text, std::size_t width, bool isSigned);

class ScaleWriter {
 public:
  ScaleWriter& u8(std::uint8_t v);
  ScaleWriter& u16(std::uint16_t v);
  ScaleWriter& u32(std::uint32_t v);
  ScaleWriter& u64(std::uint64_t v);
  ScaleWriter& u128(std::uint64_t lo, std::uint64_t hi);
  ScaleWriter& u128(const U128& v) { return u128(v.lo, v.hi); }
  // A decimal string; not a valid u128 is kInvalidArgument and nothing is written.
  Result<void> u128(std::string_view decimal);
  ScaleWriter& i8(std::int8_t v) { return u8(static_cast<std::uint8_t>(v)); }
  ScaleWriter& i16(std::int16_t v) { return u16(static_cast<std::uint16_t>(v)); }
  ScaleWriter& i32(std::int32_t v) { return u32(static_cast<std::uint32_t>(v)); }
  ScaleWriter& i64(std::int64_t v) { return u64(static_cast<std::uint64_t>(v)); }
  ScaleWriter& boolean(bool v) { return u8(v ? 1 : 0); }
  // Compact<u64> / Compact<u128>, in the shortest mode.
  ScaleWriter& compact(std::uint64_t v);
  ScaleWriter& compact(const U128& v);
  ScaleWriter& raw(ByteView bytes);      // no prefix: fixed arrays, already-encoded values
  ScaleWriter& byteVec(ByteView bytes);  // Vec<u8>: compact length ‖ bytes
  ScaleWriter& str(std::string_view s) { return byteVec(asBytes(s)); }

  const Bytes& data() const& { return m_out; }
  Bytes take() { return std::move(m_out); }
  std::size_t size() const { return m_out.size(); }

 private:
  Bytes m_out;
};

class ScaleReader {
 public:
  explicit ScaleReader(ByteView in) : m_in(in) {}

  Result<std::uint8_t> u8();
  Result<std::uint16_t> u16();
  Result<std::uint32_t> u32();
  Result<std::uint64_t> u64();
  Result<U128> u128();
  Result<std::int8_t> i8();
  Result<std::int16_t> i16();
  Result<std::int32_t> i32();
  Result<std::int64_t> i64();
  // 0 or 1; any other byte is kInvalidArgument.
  Result<bool> boolean();
  // A compact integer that must fit in 64 bits (lengths, indices, nonces).
  Result<std::uint64_t> compact();
  Result<U128> compactU128();
  // A compact element count, checked with checkCount() before the caller reserves anything.
  Result<std::uint64_t> length(std::size_t minElementSize = 1);
  Result<ByteView> take(std::size_t n);
  Result<Bytes> byteVec();
  Result<std::string> str();

  // Checks that `count` elements of at least `minElementSize` bytes each can fit in what remains.
  Result<void> checkCount(std::uint64_t count, std::size_t minElementSize) const;

  std::size_t remaining() const { return m_in.size() - m_pos; }
  std::size_t position() const { return m_pos; }
  bool atEnd() const { return m_pos == m_in.size(); }
  ByteView rest() const { return m_in.subspan(m_pos); }

  // Elements of zero encoded size cannot be bounded by the input; cap their count instead.
  static constexpr std::uint64_t kMaxZeroSizedCount = 1u << 16;

 private:
  ByteView m_in;
  std::size_t m_pos = 0;
};

}  // namespace merit::substrate
