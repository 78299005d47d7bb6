#include "merit/substrate/scale.h"

#include <algorithm>
#include <cstring>

namespace merit::substrate {

namespace {

Error truncated(std::size_t want, std::size_t have) {
  return Error(ErrorCode::kInvalidArgument, "SCALE input truncated: need " + std::to_string(want) +
                                                " bytes, " + std::to_string(have) + " remain");
}

// Multiplies the little-endian magnitude by 10 and adds `digit`; false on overflow.
bool mulAdd10(Bytes& le, unsigned digit) {
  unsigned carry = digit;
  for (auto& b : le) {
    unsigned v = std::to_integer<unsigned>(b) * 10 + carry;
    b = static_cast<std::byte>(v & 0xff);
    carry = v >> 8;
  }
  return carry == 0;
}

// Divides the little-endian magnitude by 10 in place, returning the remainder.
unsigned divmod10(Bytes& le) {
  unsigned rem = 0;
  for (std::size_t i = le.size(); i-- > 0;) {
    unsigned v = (rem << 8) | std::to_integer<unsigned>(le[i]);
    le[i] = static_cast<std::byte>(v / 10);
    rem = v % 10;
  }
  return rem;
}

void negate(Bytes& le) {
  unsigned carry = 1;
  for (auto& b : le) {
    unsigned v = (~std::to_integer<unsigned>(b) & 0xff) + carry;
    b = static_cast<std::byte>(v & 0xff);
    carry = v >> 8;
  }
}

}  // namespace

std::string leBytesToDecimal(ByteView le, bool isSigned) {
  Bytes mag(le.begin(), le.end());
  bool negative = isSigned && !mag.empty() && (std::to_integer<unsigned>(mag.back()) & 0x80);
  if (negative) negate(mag);
  std::string digits;
  auto isZero = [&] {
    return std::all_of(mag.begin(), mag.end(), [](std::byte b) { return b == std::byte{0}; });
  };
  do {
    digits.push_back(static_cast<char>('0' + divmod10(mag)));
  } while (!isZero());
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

Result<Bytes> decimalToLeBytes(std::string_view text, std::size_t width, bool isSigned) {
  bool negative = false;
  std::string_view digits = text;
  if (isSigned && !digits.empty() && digits.front() == '-') {
    negative = true;
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 100) {
    return fail(ErrorCode::kInvalidArgument,
                "not a decimal integer: \"" + std::string(text.substr(0, 100)) + "\"");
  }
  Bytes mag(width + 1);  // one spare byte so the sign check below sees overflow
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return fail(ErrorCode::kInvalidArgument, "not a decimal integer: \"" + std::string(text) + "\"");
    }
    if (!mulAdd10(mag, static_cast<unsigned>(c - '0'))) {
      return fail(ErrorCode::kInvalidArgument, "integer out of range: " + std::string(text));
    }
  }
  auto top = std::to_integer<unsigned>(mag[width]);
  auto msb = std::to_integer<unsigned>(mag[width - 1]) & 0x80;
  bool ok = top == 0;
  if (isSigned && ok && msb) {
    // Only -2^(8w-1) has the top bit set in its magnitude.
    bool isMinMagnitude = msb && std::to_integer<unsigned>(mag[width - 1]) == 0x80 &&
                          std::all_of(mag.begin(), mag.begin() + static_cast<std::ptrdiff_t>(width - 1),
                                      [](std::byte b) { return b == std::byte{0}; });
    ok = negative && isMinMagnitude;
  }
  if (!ok) return fail(ErrorCode::kInvalidArgument, "integer out of range: " + std::string(text));
  mag.resize(width);
  if (negative) negate(mag);
  return mag;
}

Result<U128> U128::fromDecimal(std::string_view text) {
  MERIT_ASSIGN_OR_RETURN(Bytes le, decimalToLeBytes(text, 16, false));
  U128 v;
  v.lo = readU64Le(ByteView(le).first(8));
  v.hi = readU64Le(ByteView(le).subspan(8, 8));
  return v;
}

std::string U128::toDecimal() const {
  Bytes le;
  appendU64Le(le, lo);
  appendU64Le(le, hi);
  return leBytesToDecimal(le, false);
}

// --- ScaleWriter ---

ScaleWriter& ScaleWriter::u8(std::uint8_t v) {
  m_out.push_back(static_cast<std::byte>(v));
  return *this;
}
ScaleWriter& ScaleWriter::u16(std::uint16_t v) {
  appendU16Le(m_out, v);
  return *this;
}
ScaleWriter& ScaleWriter::u32(std::uint32_t v) {
  appendU32Le(m_out, v);
  return *this;
}
ScaleWriter& ScaleWriter::u64(std::uint64_t v) {
  appendU64Le(m_out, v);
  return *this;
}
ScaleWriter& ScaleWriter::u128(std::uint64_t lo, std::uint64_t hi) {
  appendU64Le(m_out, lo);
  appendU64Le(m_out, hi);
  return *this;
}
Result<void> ScaleWriter::u128(std::string_view decimal) {
  MERIT_ASSIGN_OR_RETURN(U128 v, U128::fromDecimal(decimal));
  u128(v);
  return {};
}

ScaleWriter& ScaleWriter::compact(std::uint64_t v) {
  if (v < (1u << 6)) return u8(static_cast<std::uint8_t>(v << 2));
  if (v < (1u << 14)) return u16(static_cast<std::uint16_t>((v << 2) | 1));
  if (v < (1u << 30)) return u32(static_cast<std::uint32_t>((v << 2) | 2));
  return compact(U128{v, 0});
}

ScaleWriter& ScaleWriter::compact(const U128& v) {
  if (v.hi == 0 && v.lo < (1u << 30)) return compact(v.lo);
  Bytes le;
  appendU64Le(le, v.lo);
  appendU64Le(le, v.hi);
  std::size_t n = le.size();
  while (n > 4 && le[n - 1] == std::byte{0}) --n;
  u8(static_cast<std::uint8_t>(((n - 4) << 2) | 3));
  m_out.insert(m_out.end(), le.begin(), le.begin() + static_cast<std::ptrdiff_t>(n));
  return *this;
}

ScaleWriter& ScaleWriter::raw(ByteView bytes) {
  append(m_out, bytes);
  return *this;
}

ScaleWriter& ScaleWriter::byteVec(ByteView bytes) {
  compact(static_cast<std::uint64_t>(bytes.size()));
  return raw(bytes);
}

// --- ScaleReader ---

Result<ByteView> ScaleReader::take(std::size_t n) {
  if (n > remaining()) return fail(truncated(n, remaining()));
  ByteView out = m_in.subspan(m_pos, n);
  m_pos += n;
  return out;
}

Result<std::uint8_t> ScaleReader::u8() {
  MERIT_ASSIGN_OR_RETURN(ByteView b, take(1));
  return std::to_integer<std::uint8_t>(b[0]);
}

namespace {
std::uint64_t leValue(ByteView b) {
  std::uint64_t v = 0;
  for (std::size_t i = b.size(); i-- > 0;) v = (v << 8) | std::to_integer<std::uint64_t>(b[i]);
  return v;
}
}  // namespace

Result<std::uint16_t> ScaleReader::u16() {
  MERIT_ASSIGN_OR_RETURN(ByteView b, take(2));
  return static_cast<std::uint16_t>(leValue(b));
}
Result<std::uint32_t> ScaleReader::u32() {
  MERIT_ASSIGN_OR_RETURN(ByteView b, take(4));
  return static_cast<std::uint32_t>(leValue(b));
}
Result<std::uint64_t> ScaleReader::u64() {
  MERIT_ASSIGN_OR_RETURN(ByteView b, take(8));
  return leValue(b);
}
Result<U128> ScaleReader::u128() {
  MERIT_ASSIGN_OR_RETURN(ByteView b, take(16));
  return U128{leValue(b.first(8)), leValue(b.subspan(8))};
}
Result<std::int8_t> ScaleReader::i8() {
  MERIT_ASSIGN_OR_RETURN(auto v, u8());
  return static_cast<std::int8_t>(v);
}
Result<std::int16_t> ScaleReader::i16() {
  MERIT_ASSIGN_OR_RETURN(auto v, u16());
  return static_cast<std::int16_t>(v);
}
Result<std::int32_t> ScaleReader::i32() {
  MERIT_ASSIGN_OR_RETURN(auto v, u32());
  return static_cast<std::int32_t>(v);
}
Result<std::int64_t> ScaleReader::i64() {
  MERIT_ASSIGN_OR_RETURN(auto v, u64());
  return static_cast<std::int64_t>(v);
}

Result<bool> ScaleReader::boolean() {
  MERIT_ASSIGN_OR_RETURN(auto v, u8());
  if (v > 1) return fail(ErrorCode::kInvalidArgument, "SCALE bool must be 0 or 1, got " + std::to_string(v));
  return v == 1;
}

Result<U128> ScaleReader::compactU128() {
  MERIT_ASSIGN_OR_RETURN(std::uint8_t first, u8());
  switch (first & 3) {
    case 0: return U128{static_cast<std::uint64_t>(first >> 2), 0};
    case 1: {
      MERIT_ASSIGN_OR_RETURN(std::uint8_t second, u8());
      std::uint64_t v = (static_cast<std::uint64_t>(first) | (static_cast<std::uint64_t>(second) << 8)) >> 2;
      if (v < (1u << 6))
        return fail(ErrorCode::kInvalidArgument, "non-canonical SCALE compact (2-byte mode)");
      return U128{v, 0};
    }
    case 2: {
      MERIT_ASSIGN_OR_RETURN(ByteView rest, take(3));
      std::uint64_t v = (static_cast<std::uint64_t>(first) | (leValue(rest) << 8)) >> 2;
      if (v < (1u << 14))
        return fail(ErrorCode::kInvalidArgument, "non-canonical SCALE compact (4-byte mode)");
      return U128{v, 0};
    }
    default: {
      std::size_t n = static_cast<std::size_t>(first >> 2) + 4;
      if (n > 16) {
        return fail(ErrorCode::kInvalidArgument,
                    "SCALE compact of " + std::to_string(n) + " bytes exceeds 128 bits");
      }
      MERIT_ASSIGN_OR_RETURN(ByteView b, take(n));
      if (b[n - 1] == std::byte{0}) {
        return fail(ErrorCode::kInvalidArgument, "non-canonical SCALE compact (leading zero byte)");
      }
      U128 v{leValue(b.first(std::min<std::size_t>(n, 8))), n > 8 ? leValue(b.subspan(8)) : 0};
      if (v.hi == 0 && v.lo < (1u << 30)) {
        return fail(ErrorCode::kInvalidArgument, "non-canonical SCALE compact (big-integer mode)");
      }
      return v;
    }
  }
}

Result<std::uint64_t> ScaleReader::compact() {
  MERIT_ASSIGN_OR_RETURN(U128 v, compactU128());
  if (v.hi != 0) return fail(ErrorCode::kInvalidArgument, "SCALE compact exceeds 64 bits");
  return v.lo;
}

Result<void> ScaleReader::checkCount(std::uint64_t count, std::size_t minElementSize) const {
  if (minElementSize == 0) {
    if (count > kMaxZeroSizedCount) {
      return fail(ErrorCode::kInvalidArgument,
                  "SCALE sequence of " + std::to_string(count) + " zero-sized elements exceeds the limit");
    }
    return {};
  }
  if (count > remaining() / minElementSize) {
    return fail(ErrorCode::kInvalidArgument, "SCALE length " + std::to_string(count) + " exceeds the " +
                                                 std::to_string(remaining()) + " bytes remaining");
  }
  return {};
}

Result<std::uint64_t> ScaleReader::length(std::size_t minElementSize) {
  MERIT_ASSIGN_OR_RETURN(std::uint64_t n, compact());
  MERIT_TRY(checkCount(n, minElementSize));
  return n;
}

Result<Bytes> ScaleReader::byteVec() {
  MERIT_ASSIGN_OR_RETURN(std::uint64_t n, length(1));
  MERIT_ASSIGN_OR_RETURN(ByteView b, take(static_cast<std::size_t>(n)));
  return toBytes(b);
}

Result<std::string> ScaleReader::str() {
  MERIT_ASSIGN_OR_RETURN(std::uint64_t n, length(1));
  MERIT_ASSIGN_OR_RETURN(ByteView b, take(static_cast<std::size_t>(n)));
  return std::string(asChars(b));
}

}  // namespace merit::substrate
