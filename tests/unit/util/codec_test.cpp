#include "merit/util/codec.h"

#include <doctest/doctest.h>

namespace merit {
namespace {

TEST_CASE("writer and reader agree") {
  ByteWriter w;
  w.u8(1).u16(0x0203).u32(0x04050607).u64(0x08090a0b0c0d0e0fULL).boolean(true).str("hi").u16s({1, 65535});
  w.raw(asBytes("xyz"));
  ByteReader r(w.data());
  CHECK(r.u8() == 1);
  CHECK(r.u16() == 0x0203);
  CHECK(r.u32() == 0x04050607);
  CHECK(r.u64() == 0x08090a0b0c0d0e0fULL);
  CHECK(r.boolean());
  CHECK(r.str(10) == "hi");
  CHECK(r.u16s(10) == std::vector<std::uint16_t>{1, 65535});
  auto raw = r.raw<3>();
  CHECK(asChars(raw) == "xyz");
  CHECK(r.finish("test"));
}

TEST_CASE("reader failures stick and are reported once") {
  ByteWriter w;
  w.u32(100);  // claims 100 bytes follow
  ByteReader r(w.data());
  CHECK(r.bytes(1000).empty());
  CHECK(r.u64() == 0);  // after a failure every read is zero
  auto f = r.finish("thing");
  REQUIRE_FALSE(f);
  CHECK(f.error().message().find("malformed thing: truncated") != std::string::npos);

  ByteWriter big;
  big.u32(5000);
  ByteReader r2(big.data());
  r2.bytes(10);
  CHECK(r2.finish("x").error().message().find("exceeds the limit") != std::string::npos);

  Bytes two = {std::byte{2}};
  ByteReader r3(two);
  r3.boolean();
  CHECK_FALSE(r3.finish("flag"));

  Bytes extra = {std::byte{1}, std::byte{2}};
  ByteReader r4(extra);
  r4.u8();
  CHECK(r4.finish("x").error().message().find("trailing") != std::string::npos);
}

}  // namespace
}  // namespace merit
