#include "merit/util/bytes.h"

#include <doctest/doctest.h>

namespace merit {
namespace {

TEST_CASE("hex round trip") {
  Bytes b = {std::byte{0x00}, std::byte{0x7f}, std::byte{0x80}, std::byte{0xff}};
  CHECK(toHex(b) == "007f80ff");
  CHECK(fromHex("007f80ff").value() == b);
  CHECK(fromHex("0x007F80FF").value() == b);
  CHECK(fromHex("").value().empty());
}

TEST_CASE("bad hex is rejected with the reason") {
  auto odd = fromHex("abc");
  REQUIRE_FALSE(odd);
  CHECK(odd.error().code() == ErrorCode::kInvalidArgument);
  CHECK(odd.error().message().find("odd length") != std::string::npos);
  auto bad = fromHex("00zz");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("position 2") != std::string::npos);
  CHECK_FALSE(fromHexFixed<4>("0011"));
  CHECK(fromHexFixed<2>("0011").value() == ByteArray<2>{std::byte{0}, std::byte{0x11}});
}

TEST_CASE("little-endian integers") {
  Bytes out;
  appendU16Le(out, 0x0102);
  appendU32Le(out, 0x03040506);
  appendU64Le(out, 0x0708090a0b0c0d0eULL);
  CHECK(toHex(out) == "0201060504030e0d0c0b0a090807");
  CHECK(readU64Le(ByteView(out).subspan(6)) == 0x0708090a0b0c0d0eULL);
}

TEST_CASE("string views of bytes") {
  CHECK(asChars(asBytes("abc")) == "abc");
  CHECK(toBytes("hi").size() == 2);
}

}  // namespace
}  // namespace merit
