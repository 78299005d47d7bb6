#include "merit/substrate/scale.h"

#include <doctest/doctest.h>

namespace merit::substrate {
namespace {

std::string hexOf(const ScaleWriter& w) {
  return toHex(w.data());
}

Bytes unhex(std::string_view h) {
  return fromHex(h).value();
}

// Expected encodings: the table of the SCALE codec page of the Substrate documentation.
TEST_CASE("compact integers match the published encodings") {
  struct Case {
    std::uint64_t v;
    const char* hex;
  };
  for (const Case& c :
       {Case{0, "00"}, Case{1, "04"}, Case{42, "a8"}, Case{69, "1501"}, Case{63, "fc"}, Case{64, "0101"},
        Case{16383, "fdff"}, Case{16384, "02000100"}, Case{65535, "feff0300"}, Case{1073741823, "feffffff"},
        Case{1073741824, "0300000040"}, Case{100000000000000, "0b00407a10f35a"},
        Case{0xffffffffffffffffULL, "13ffffffffffffffff"}}) {
    ScaleWriter w;
    w.compact(c.v);
    CHECK_MESSAGE(hexOf(w) == c.hex, c.v);
    Bytes b = unhex(c.hex);
    ScaleReader r(b);
    auto back = r.compact();
    REQUIRE(back.has_value());
    CHECK(*back == c.v);
    CHECK(r.atEnd());
  }
}

TEST_CASE("u128 and compact u128") {
  ScaleWriter w;
  w.u128(~0ULL, ~0ULL);
  CHECK(hexOf(w) == "ffffffffffffffffffffffffffffffff");
  ScaleWriter c;
  c.compact(U128{~0ULL, ~0ULL});
  CHECK(hexOf(c) == "33ffffffffffffffffffffffffffffffff");
  ScaleReader r(c.data());
  auto v = r.compactU128();
  REQUIRE(v.has_value());
  CHECK(v->toDecimal() == "340282366920938463463374607431768211455");
  auto parsed = U128::fromDecimal("340282366920938463463374607431768211455");
  REQUIRE(parsed.has_value());
  CHECK(*parsed == U128{~0ULL, ~0ULL});
  CHECK_FALSE(U128::fromDecimal("340282366920938463463374607431768211456").has_value());
  CHECK_FALSE(U128::fromDecimal("").has_value());
  CHECK_FALSE(U128::fromDecimal("-1").has_value());
  CHECK_FALSE(U128::fromDecimal("12a").has_value());
  ScaleWriter d;
  REQUIRE(d.u128(std::string_view("1000000000")).has_value());
  CHECK(hexOf(d) == "00ca9a3b000000000000000000000000");
  // Compact u128 that fits 64 bits reads back through compact() too; larger does not.
  ScaleReader big(c.data());
  CHECK_FALSE(big.compact().has_value());
}

TEST_CASE("signed decimal conversion") {
  auto m = decimalToLeBytes("-1", 16, true);
  REQUIRE(m.has_value());
  CHECK(toHex(*m) == "ffffffffffffffffffffffffffffffff");
  CHECK(leBytesToDecimal(*m, true) == "-1");
  CHECK(leBytesToDecimal(*m, false) == "340282366920938463463374607431768211455");
  auto mn = decimalToLeBytes("-128", 1, true);
  REQUIRE(mn.has_value());
  CHECK(toHex(*mn) == "80");
  CHECK_FALSE(decimalToLeBytes("128", 1, true).has_value());
  CHECK_FALSE(decimalToLeBytes("-129", 1, true).has_value());
  CHECK_FALSE(decimalToLeBytes("256", 1, false).has_value());
  CHECK(leBytesToDecimal(ByteView{}, false) == "0");
}

TEST_CASE("fixed integers, bool, Option<bool>, Vec<u16>, strings") {
  ScaleWriter w;
  w.i8(-1).u16(42).u32(16777215).i64(-2).boolean(true).boolean(false);
  CHECK(hexOf(w) == "ff2a00ffffff00feffffffffffffff0100");
  ScaleReader r(w.data());
  CHECK(r.i8().value() == -1);
  CHECK(r.u16().value() == 42);
  CHECK(r.u32().value() == 16777215);
  CHECK(r.i64().value() == -2);
  CHECK(r.boolean().value() == true);
  CHECK(r.boolean().value() == false);
  CHECK(r.atEnd());
  // Option<bool>: None = 00, Some(true) = 01 01, Some(false) = 01 00.
  ScaleWriter o;
  o.u8(0).u8(1).boolean(true).u8(1).boolean(false);
  CHECK(hexOf(o) == "0001010100");
  // Vec<u16> [4, 8, 15, 16, 23, 42].
  ScaleWriter v;
  v.compact(6);
  for (std::uint16_t x : {4, 8, 15, 16, 23, 42}) v.u16(x);
  CHECK(hexOf(v) == "18040008000f00100017002a00");
  ScaleWriter s;
  s.str("meritnet");
  CHECK(hexOf(s) == "206d657269746e6574");
  ScaleReader sr(s.data());
  CHECK(sr.str().value() == "meritnet");
  Bytes taken = s.take();
  CHECK(taken.size() == 9);
}

TEST_CASE("malformed input is rejected cleanly") {
  // Truncated fixed-width and compact reads.
  Bytes one = unhex("01");
  ScaleReader r(one);
  auto u = r.u32();
  REQUIRE_FALSE(u.has_value());
  CHECK(u.error().code() == ErrorCode::kInvalidArgument);
  Bytes trunc = unhex("0300");
  CHECK_FALSE(ScaleReader(trunc).compact().has_value());
  // Non-canonical compacts: 1 in the 2-byte mode, 1 in the 4-byte mode, 2^30 - 1 in big mode,
  // and a big-integer mode with a zero top byte.
  for (const char* h : {"0500", "06000000", "03ffffff3f", "070000004000"}) {
    Bytes b = unhex(h);
    auto c = ScaleReader(b).compact();
    CHECK_MESSAGE(!c.has_value(), h);
  }
  // bool other than 0/1.
  Bytes two = unhex("02");
  CHECK_FALSE(ScaleReader(two).boolean().has_value());
  // A 4-byte compact claiming 10^9 elements with nothing behind it: refused before allocating.
  ScaleWriter w;
  w.compact(1000000000);
  CHECK(w.size() == 4);
  ScaleReader lr(w.data());
  auto n = lr.length(1);
  REQUIRE_FALSE(n.has_value());
  CHECK(n.error().code() == ErrorCode::kInvalidArgument);
  ScaleReader br(w.data());
  CHECK_FALSE(br.byteVec().has_value());
  // Zero-sized elements are capped instead.
  ScaleReader zr(w.data());
  CHECK_FALSE(zr.length(0).has_value());
  // take() past the end.
  ScaleReader tr(one);
  CHECK_FALSE(tr.take(2).has_value());
  CHECK(tr.take(1).has_value());
  CHECK(tr.atEnd());
}

TEST_CASE("round trips") {
  ScaleWriter w;
  for (std::uint64_t v = 1; v != 0 && v < (1ULL << 63); v = v * 3 + 1) w.compact(v);
  ScaleReader r(w.data());
  for (std::uint64_t v = 1; v != 0 && v < (1ULL << 63); v = v * 3 + 1) CHECK(r.compact().value() == v);
  CHECK(r.atEnd());
}

}  // namespace
}  // namespace merit::substrate
