// Canonical binary encoding: little-endian fixed-width integers, fixed byte arrays, and
// u32-length-prefixed byte strings and u16 vectors. One value has exactly one encoding, so the
// bytes can be hashed and signed.
//
// Thread-safety: a ByteWriter or ByteReader belongs to one thread.
//
// ByteReader is for untrusted input: every read is bounds-checked, lengths are checked against
// caller-given limits before anything is allocated, and the first failure sticks (later reads
// return zero values) so a decoder can read a whole structure and check ok() once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit {

class ByteWriter {
 public:
  ByteWriter& u8(std::uint8_t v);
  ByteWriter& u16(std::uint16_t v);
  ByteWriter& u32(std::uint32_t v);
  ByteWriter& u64(std::uint64_t v);
  ByteWriter& boolean(bool v) { return u8(v ? 1 : 0); }
  ByteWriter& raw(ByteView bytes);    // no length prefix: fixed-size fields
  ByteWriter& bytes(ByteView bytes);  // u32 length ‖ bytes
  ByteWriter& str(std::string_view s) { return bytes(asBytes(s)); }
  ByteWriter& u16s(const std::vector<std::uint16_t>& v);  // u32 count ‖ u16...

  const Bytes& data() const& { return m_out; }
  Bytes take() && { return std::move(m_out); }

 private:
  Bytes m_out;
};

class ByteReader {
 public:
  explicit ByteReader(ByteView in) : m_in(in) {}

  std::uint8_t u8();
  std::uint16_t u16();
  std::uint32_t u32();
  std::uint64_t u64();
  bool boolean();  // only 0 or 1 are valid
  // Reads exactly N bytes into a fixed array.
  template <std::size_t N>
  ByteArray<N> raw() {
    ByteArray<N> out{};
    ByteView v = take(N, "fixed field");
    if (v.size() == N) std::copy(v.begin(), v.end(), out.begin());
    return out;
  }
  Bytes bytes(std::size_t maxLen);
  std::string str(std::size_t maxLen);
  std::vector<std::uint16_t> u16s(std::size_t maxCount);

  bool ok() const { return m_error.empty(); }
  std::size_t remaining() const { return m_in.size() - m_pos; }
  // Success only if every read succeeded and every byte was consumed; else kInvalidArgument
  // naming what went wrong and where.
  Result<void> finish(std::string_view what) const;
  // Records a semantic failure (e.g. an unknown tag) found by the decoder.
  void setError(std::string message);

 private:
  ByteView take(std::size_t n, const char* what);
  ByteView m_in;
  std::size_t m_pos = 0;
  std::string m_error;
};

}  // namespace merit
