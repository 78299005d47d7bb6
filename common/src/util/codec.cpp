#include "merit/util/codec.h"

namespace merit {

ByteWriter& ByteWriter::u8(std::uint8_t v) {
  m_out.push_back(static_cast<std::byte>(v));
  return *this;
}
ByteWriter& ByteWriter::u16(std::uint16_t v) {
  appendU16Le(m_out, v);
  return *this;
}
ByteWriter& ByteWriter::u32(std::uint32_t v) {
  appendU32Le(m_out, v);
  return *this;
}
ByteWriter& ByteWriter::u64(std::uint64_t v) {
  appendU64Le(m_out, v);
  return *this;
}
ByteWriter& ByteWriter::raw(ByteView b) {
  append(m_out, b);
  return *this;
}
ByteWriter& ByteWriter::bytes(ByteView b) {
  u32(static_cast<std::uint32_t>(b.size()));
  return raw(b);
}
ByteWriter& ByteWriter::u16s(const std::vector<std::uint16_t>& v) {
  u32(static_cast<std::uint32_t>(v.size()));
  for (auto x : v) u16(x);
  return *this;
}

ByteView ByteReader::take(std::size_t n, const char* what) {
  if (!ok()) return {};
  if (n > remaining()) {
    setError(std::string("truncated ") + what + " at byte " + std::to_string(m_pos));
    return {};
  }
  ByteView v = m_in.subspan(m_pos, n);
  m_pos += n;
  return v;
}

namespace {
template <typename T>
T readLe(ByteView v) {
  T out = 0;
  for (std::size_t i = v.size(); i > 0; --i) out = static_cast<T>((out << 8) | std::to_integer<T>(v[i - 1]));
  return out;
}
}  // namespace

std::uint8_t ByteReader::u8() {
  auto v = take(1, "u8");
  return v.empty() ? 0 : std::to_integer<std::uint8_t>(v[0]);
}
std::uint16_t ByteReader::u16() {
  auto v = take(2, "u16");
  return v.empty() ? 0 : readLe<std::uint16_t>(v);
}
std::uint32_t ByteReader::u32() {
  auto v = take(4, "u32");
  return v.empty() ? 0 : readLe<std::uint32_t>(v);
}
std::uint64_t ByteReader::u64() {
  auto v = take(8, "u64");
  return v.empty() ? 0 : readLe<std::uint64_t>(v);
}
bool ByteReader::boolean() {
  auto b = u8();
  if (b > 1) setError("boolean byte must be 0 or 1 at byte " + std::to_string(m_pos - 1));
  return b == 1;
}

Bytes ByteReader::bytes(std::size_t maxLen) {
  std::uint32_t n = u32();
  if (!ok()) return {};
  if (n > maxLen) {
    setError("length " + std::to_string(n) + " exceeds the limit of " + std::to_string(maxLen) + " at byte " +
             std::to_string(m_pos - 4));
    return {};
  }
  return toBytes(take(n, "byte string"));
}

std::string ByteReader::str(std::size_t maxLen) {
  Bytes b = bytes(maxLen);
  return std::string(asChars(b));
}

std::vector<std::uint16_t> ByteReader::u16s(std::size_t maxCount) {
  std::uint32_t n = u32();
  if (!ok()) return {};
  if (n > maxCount || static_cast<std::size_t>(n) * 2 > remaining()) {
    setError("u16 vector of " + std::to_string(n) + " entries exceeds the limit or the input");
    return {};
  }
  std::vector<std::uint16_t> out(n);
  for (auto& x : out) x = u16();
  return out;
}

void ByteReader::setError(std::string message) {
  if (m_error.empty()) m_error = std::move(message);
}

Result<void> ByteReader::finish(std::string_view what) const {
  if (!ok()) return fail(ErrorCode::kInvalidArgument, "malformed " + std::string(what) + ": " + m_error);
  if (remaining() != 0) {
    return fail(ErrorCode::kInvalidArgument,
                "malformed " + std::string(what) + ": " + std::to_string(remaining()) + " trailing bytes");
  }
  return {};
}

}  // namespace merit
