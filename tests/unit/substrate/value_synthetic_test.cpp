// The value codec's conventions on a hand-written registry (no runtime metadata needed).
#include <doctest/doctest.h>

#include "merit/crypto/ss58.h"
#include "merit/substrate/value.h"

#include "synthetic_registry.h"

namespace merit::substrate {
namespace {

using nlohmann::json;
using namespace testing;

const TypeRegistry& reg() {
  static const TypeRegistry r = syntheticRegistry();
  return r;
}

std::string enc(TypeId t, const json& v) {
  auto b = encodeValue(reg(), t, v);
  if (!b) return "error: " + b.error().message();
  return toHex(*b);
}

json dec(TypeId t, std::string_view hex) {
  auto v = decodeValue(reg(), t, fromHex(hex).value());
  if (!v) return json("error: " + v.error().message());
  return *v;
}

TEST_CASE("the synthetic registry decodes") {
  CHECK(reg().size() == kTypeCount + 1);
  CHECK(reg().displayName(kVecU16) == "Vec<u16>");
  CHECK(reg().displayName(kArrU8x4) == "[u8; 4]");
  CHECK(reg().displayName(kTupleU16U64) == "(u16, u64)");
  CHECK(reg().displayName(kCompactU64) == "Compact<u64>");
  CHECK(reg().displayName(kAccountId) == "AccountId32");
  CHECK(reg().isZeroSized(kUnit));
  CHECK(reg().isZeroSized(kLsb0));
  CHECK_FALSE(reg().isZeroSized(kNamedStruct));
}

TEST_CASE("integers, bool, str, char") {
  CHECK(enc(kU16, 42) == "2a00");
  CHECK(enc(kU16, "42") == "2a00");
  CHECK(enc(kU16, -1).find("expected u16, got -1") != std::string::npos);
  CHECK(enc(kU16, 1.5).find("expected u16") != std::string::npos);
  CHECK(enc(kU64, 18446744073709551615ULL) == "ffffffffffffffff");
  CHECK(dec(kU64, "ffffffffffffffff") == 18446744073709551615ULL);
  CHECK(enc(kI32, -2) == "feffffff");
  CHECK(dec(kI32, "feffffff") == -2);
  CHECK(enc(kU128, "340282366920938463463374607431768211455") == std::string(32, 'f'));
  CHECK(enc(kU128, 5) == "05000000000000000000000000000000");
  CHECK(dec(kU128, "05000000000000000000000000000000") == "5");
  CHECK(enc(kI128, "-1") == std::string(32, 'f'));
  CHECK(dec(kI128, std::string(32, 'f')) == "-1");
  CHECK(enc(kU256, "1") == "01" + std::string(62, '0'));
  CHECK(dec(kU256, std::string(64, 'f')) ==
        "115792089237316195423570985008687907853269984665640564039457584007913129639935");
  CHECK(enc(kBool, true) == "01");
  CHECK(enc(kBool, 1).find("expected bool") != std::string::npos);
  CHECK(dec(kBool, "02").get<std::string>().find("error") == 0);
  CHECK(enc(kStr, "hi") == "086869");
  CHECK(dec(kStr, "086869") == "hi");
  CHECK(dec(kStr, "04ff").get<std::string>().find("UTF-8") != std::string::npos);
  CHECK(enc(kChar, "é") == "e9000000");
  CHECK(dec(kChar, "e9000000") == "é");
  CHECK(enc(kChar, "ab").find("one character") != std::string::npos);
  CHECK(dec(kChar, "00d80000").get<std::string>().find("error") == 0);  // a surrogate
}

TEST_CASE("bytes, sequences, arrays, tuples") {
  CHECK(enc(kVecU8, "0x0102") == "080102");
  CHECK(enc(kVecU8, json::array({1, 2})) == "080102");
  CHECK(enc(kVecU8, "hi") == "086869");  // text without 0x: its UTF-8 bytes
  CHECK(dec(kVecU8, "080102") == "0x0102");
  CHECK(enc(kArrU8x4, "0x01020304") == "01020304");
  CHECK(enc(kArrU8x4, "0x010203").find("expected 4 bytes") != std::string::npos);
  CHECK(dec(kArrU8x4, "01020304") == "0x01020304");
  CHECK(enc(kVecU16, json::array({4, 8, 15, 16, 23, 42})) == "18040008000f00100017002a00");
  CHECK(enc(kArrU16x3, json::array({1, 2, 3})) == "010002000300");
  CHECK(enc(kArrU16x3, json::array({1, 2})).find("expected an array of 3") != std::string::npos);
  CHECK(dec(kArrU16x3, "010002000300") == json::array({1, 2, 3}));
  CHECK(enc(kTupleU16U64, json::array({1, 2})) == "01000200000000000000");
  CHECK(dec(kTupleU16U64, "01000200000000000000") == json::array({1, 2}));
  CHECK(enc(kUnit, nullptr).empty());
  CHECK(dec(kUnit, "").is_null());
  // Element counts beyond the input are refused before allocating.
  CHECK(dec(kVecU16, "feffffff").get<std::string>().find("exceeds") != std::string::npos);
  CHECK(dec(kVecNamedStruct, "feffffff").get<std::string>().find("exceeds") != std::string::npos);
}

TEST_CASE("composites, options, variants") {
  json named = {{"a", 1}, {"b", {2, 3}}, {"c", nullptr}};
  CHECK(enc(kNamedStruct, named) == "0100080200030000");
  CHECK(dec(kNamedStruct, "0100080200030000") == named);
  CHECK(enc(kNamedStruct, json::array({1, json::array({2, 3}), nullptr})) == "0100080200030000");
  json withSome = {{"a", 1}, {"b", json::array()}, {"c", 9}};
  CHECK(enc(kNamedStruct, withSome) == "010000010900");
  CHECK(dec(kNamedStruct, "010000010900") == withSome);
  auto err = encodeValue(reg(), kVecNamedStruct,
                         json::array({named, {{"a", 1}, {"b", {2, -3}}, {"c", nullptr}}}), "args.list");
  REQUIRE_FALSE(err.has_value());
  CHECK(err.error().message() == "args.list[1].b[1]: expected u16, got -3");
  CHECK(enc(kNamedStruct, {{"a", 1}}).find("missing field \"b\"") != std::string::npos);
  CHECK(enc(kNewtypeU64, 7) == "0700000000000000");  // one unnamed field: transparent
  CHECK(dec(kNewtypeU64, "0700000000000000") == 7);
  CHECK(enc(kEnum, "A") == "00");
  CHECK(enc(kEnum, {{"A", nullptr}}) == "00");
  CHECK(enc(kEnum, {{"B", 7}}) == "010700");
  CHECK(enc(kEnum, {{"C", {{"x", true}}}}) == "0501");
  CHECK(dec(kEnum, "00") == "A");
  CHECK(dec(kEnum, "010700") == json{{"B", 7}});
  CHECK(dec(kEnum, "0501") == json{{"C", {{"x", true}}}});
  CHECK(dec(kEnum, "02").get<std::string>().find("variant index 2") != std::string::npos);
  CHECK(enc(kEnum, "D").find("unknown variant \"D\"") != std::string::npos);
  CHECK(enc(kEnum, "B").find("expected u16") != std::string::npos);
  CHECK(enc(kOptionU16, nullptr) == "00");
  CHECK(enc(kOptionU16, 5) == "010500");
  CHECK(dec(kOptionU16, "010500") == 5);
}

TEST_CASE("compacts, bit sequences, account ids") {
  CHECK(enc(kCompactU64, 69) == "1501");
  CHECK(enc(kCompactU64, "100000000000000") == "0b00407a10f35a");
  CHECK(dec(kCompactU64, "0b00407a10f35a") == 100000000000000ULL);
  CHECK(dec(kCompactU64, "0500").get<std::string>().find("non-canonical") != std::string::npos);
  CHECK(enc(kCompactU128, "340282366920938463463374607431768211455") == "33" + std::string(32, 'f'));
  CHECK(dec(kCompactU128, "33" + std::string(32, 'f')) == "340282366920938463463374607431768211455");
  CHECK(enc(kCompactNewtype, 3) == "0c");
  CHECK(dec(kCompactNewtype, "0c") == 3);
  json bits = {true, false, true, true, false, false, false, false, true};
  CHECK(enc(kBitVec, bits) == "240d01");
  CHECK(dec(kBitVec, "240d01") == bits);
  CHECK(dec(kBitVec, "fdff").get<std::string>().find("exceeds") != std::string::npos);
  crypto::AccountId id{};
  id[0] = std::byte{0xd4};
  std::string hex = "0x" + toHex(id);
  CHECK(enc(kAccountId, hex) == hex.substr(2));
  CHECK(enc(kAccountId, crypto::ss58Encode(id)) == hex.substr(2));
  CHECK(enc(kAccountId, crypto::ss58Encode(id, 1234)) == hex.substr(2));
  CHECK(dec(kAccountId, hex.substr(2)) == hex);
}

TEST_CASE("depth limit and truncation") {
  // Every truncation of a valid encoding fails cleanly.
  Bytes full =
      encodeValue(reg(), kVecNamedStruct, json::array({{{"a", 1}, {"b", {2, 3}}, {"c", 4}}})).value();
  for (std::size_t n = 0; n < full.size(); ++n) {
    CHECK_FALSE(decodeValue(reg(), kVecNamedStruct, ByteView(full).first(n)).has_value());
  }
  CHECK(decodeValue(reg(), kVecNamedStruct, full).has_value());
  CHECK_FALSE(decodeValue(reg(), 9999, full).has_value());
  CHECK_FALSE(encodeValue(reg(), 9999, json(1)).has_value());
}

}  // namespace
}  // namespace merit::substrate
