#include "merit/substrate/value.h"

#include <doctest/doctest.h>

#include "merit/crypto/ss58.h"

#include "fixtures.h"

namespace merit::substrate {
namespace {

using nlohmann::json;
using testing::fixtureMetadata;
using testing::kFixtureNames;

TypeId fieldType(const Variant& v, std::string_view name) {
  for (const auto& f : v.fields) {
    if (f.name && *f.name == name) return f.type;
  }
  FAIL("no field " << name);
  return 0;
}

TEST_CASE("set_weights arguments encode as SCALE and decode back") {
  for (const char* name : kFixtureNames) {
    CAPTURE(std::string(name));
    const Metadata& m = fixtureMetadata(name);
    const Variant* sw = m.callVariant("SubtensorModule", "set_weights");
    REQUIRE(sw != nullptr);
    const TypeRegistry& reg = m.registry();
    auto dests = encodeValue(reg, fieldType(*sw, "dests"), json::array({4, 8, 15, 16, 23, 42}));
    REQUIRE(dests.has_value());
    CHECK(toHex(*dests) == "18040008000f00100017002a00");
    auto netuid = encodeValue(reg, fieldType(*sw, "netuid"), json(3));
    REQUIRE(netuid.has_value());
    CHECK(toHex(*netuid) == "0300");
    // Numbers given as decimal strings are accepted too (the CLI passes name=value text).
    CHECK(toHex(encodeValue(reg, fieldType(*sw, "version_key"), json("7")).value()) == "0700000000000000");
    auto back = decodeValue(reg, fieldType(*sw, "dests"), *dests);
    REQUIRE(back.has_value());
    CHECK(*back == json::array({4, 8, 15, 16, 23, 42}));

    // Errors name the path and the expected type.
    auto bad = encodeValue(reg, fieldType(*sw, "dests"), json::array({1, 2, 3, -1}), "set_weights.dests");
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code() == ErrorCode::kInvalidArgument);
    CHECK(bad.error().message() == "set_weights.dests[3]: expected u16, got -1");
    auto big = encodeValue(reg, fieldType(*sw, "netuid"), json(65536), "netuid");
    REQUIRE_FALSE(big.has_value());
    CHECK(big.error().message() == "netuid: expected u16, got 65536");
    CHECK_FALSE(encodeValue(reg, fieldType(*sw, "dests"), json("0x01")).has_value());
    CHECK_FALSE(encodeValue(reg, fieldType(*sw, "netuid"), json(1.5)).has_value());
  }
}

TEST_CASE("System.Account AccountInfo round trip, AccountId32 from hex or SS58") {
  for (const char* name : kFixtureNames) {
    CAPTURE(std::string(name));
    const Metadata& m = fixtureMetadata(name);
    const StorageEntry* account = m.storage("System", "Account");
    REQUIRE(account != nullptr);
    const TypeRegistry& reg = m.registry();
    // The default value decodes (all zeros) and re-encodes to the same bytes.
    auto def = decodeValue(reg, account->valueType, account->defaultValue);
    REQUIRE(def.has_value());
    CHECK((*def)["nonce"] == 0);
    CHECK((*def)["data"]["free"] == 0);  // subtensor balances are u64
    json info = *def;
    info["nonce"] = 5;
    info["providers"] = 1;
    info["data"]["free"] = 1000000000000ULL;
    info["data"]["flags"] = "1000000000000000000000";  // ExtraFlags is u128: a decimal string
    auto bytes = encodeValue(reg, account->valueType, info);
    REQUIRE(bytes.has_value());
    CHECK(bytes->size() == account->defaultValue.size());
    CHECK(decodeValue(reg, account->valueType, *bytes).value() == info);
    // Missing and unknown fields.
    json missing = info;
    missing.erase("nonce");
    auto e1 = encodeValue(reg, account->valueType, missing, "AccountInfo");
    REQUIRE_FALSE(e1.has_value());
    CHECK(e1.error().message().find("missing field \"nonce\"") != std::string::npos);
    json extra = info;
    extra["bogus"] = 1;
    CHECK_FALSE(encodeValue(reg, account->valueType, extra).has_value());
    // Trailing bytes after a value.
    Bytes longer = *bytes;
    longer.push_back(std::byte{0});
    CHECK_FALSE(decodeValue(reg, account->valueType, longer).has_value());

    // The key type is AccountId32: hex and SS58 (prefix 42 and Bittensor's 42 too; any prefix).
    REQUIRE(account->keyType.has_value());
    const TypeInfo* key = reg.get(*account->keyType);
    CHECK(isAccountId32(*key));
    crypto::AccountId id{};
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::byte>(i);
    auto fromHexKey = encodeValue(reg, *account->keyType, json("0x" + toHex(id)));
    auto fromSs58 = encodeValue(reg, *account->keyType, json(crypto::ss58Encode(id)));
    auto fromOtherPrefix = encodeValue(reg, *account->keyType, json(crypto::ss58Encode(id, 2)));
    REQUIRE(fromHexKey.has_value());
    REQUIRE(fromSs58.has_value());
    REQUIRE(fromOtherPrefix.has_value());
    CHECK(*fromHexKey == toBytes(id));
    CHECK(*fromSs58 == toBytes(id));
    CHECK(*fromOtherPrefix == toBytes(id));
    CHECK(decodeValue(reg, *account->keyType, *fromHexKey).value() == "0x" + toHex(id));
    CHECK_FALSE(encodeValue(reg, *account->keyType, json("5notanaddress")).has_value());
  }
}

TEST_CASE("AxonInfo, Option, variants and calls as values") {
  for (const char* name : kFixtureNames) {
    CAPTURE(std::string(name));
    const Metadata& m = fixtureMetadata(name);
    const TypeRegistry& reg = m.registry();
    const StorageEntry* axons = m.storage("SubtensorModule", "Axons");
    REQUIRE(axons != nullptr);
    json axon = {{"block", 12},  {"version", 100}, {"ip", "2130706433"}, {"port", 8091},
                 {"ip_type", 4}, {"protocol", 4},  {"placeholder1", 0},  {"placeholder2", 0}};
    auto bytes = encodeValue(reg, axons->valueType, axon);
    REQUIRE_MESSAGE(bytes.has_value(), bytes.error().toString());
    CHECK(decodeValue(reg, axons->valueType, *bytes).value() == axon);

    // Option<T> of an integer, wherever the registry has one.
    std::optional<TypeId> optInt;
    std::string some7;
    for (const auto& t : reg.types()) {
      for (auto [tname, hex] : {std::pair{"Option<u16>", "010700"}, std::pair{"Option<u32>", "0107000000"},
                                std::pair{"Option<u64>", "010700000000000000"}}) {
        if (!optInt && t.path == std::vector<std::string>{"Option"} && reg.displayName(t.id) == tname) {
          optInt = t.id;
          some7 = hex;
        }
      }
    }
    REQUIRE(optInt.has_value());
    CHECK(toHex(encodeValue(reg, *optInt, json(nullptr)).value()) == "00");
    CHECK(toHex(encodeValue(reg, *optInt, json(7)).value()) == some7);
    CHECK(decodeValue(reg, *optInt, encodeValue(reg, *optInt, json(7)).value()).value() == 7);
    CHECK(decodeValue(reg, *optInt, fromHex("00").value()).value().is_null());
    CHECK_FALSE(decodeValue(reg, *optInt, fromHex("02").value()).has_value());

    // The outer call enum: {"SubtensorModule": {"set_weights": {...}}}.
    json call = {
        {"SubtensorModule",
         {{"set_weights", {{"netuid", 1}, {"dests", {0, 1}}, {"weights", {65535, 0}}, {"version_key", 0}}}}}};
    auto callBytes = encodeValue(reg, m.extrinsic().callType, call);
    REQUIRE_MESSAGE(callBytes.has_value(), callBytes.error().toString());
    CHECK(std::to_integer<int>((*callBytes)[0]) == m.pallet("SubtensorModule")->index);
    CHECK(std::to_integer<int>((*callBytes)[1]) == m.callVariant("SubtensorModule", "set_weights")->index);
    CHECK(decodeValue(reg, m.extrinsic().callType, *callBytes).value() == call);
    auto unknown =
        encodeValue(reg, m.extrinsic().callType, json{{"SubtensorModule", {{"nope", {}}}}}, "call");
    REQUIRE_FALSE(unknown.has_value());
    CHECK(unknown.error().message().find("unknown variant \"nope\"") != std::string::npos);
    // A field-less variant as a plain string: System.remark_with_event is not field-less, but the
    // Phase of an event record (Finalization / Initialization) is.
    const StorageEntry* phase = m.storage("System", "ExecutionPhase");
    REQUIRE(phase != nullptr);
    CHECK(toHex(encodeValue(reg, phase->valueType, json("Finalization")).value()) == "01");
    CHECK(decodeValue(reg, phase->valueType, fromHex("0003000000").value()).value() ==
          json{{"ApplyExtrinsic", 3}});
  }
}

TEST_CASE("malformed bytes and deep values fail cleanly") {
  const Metadata& m = fixtureMetadata("spec200_state_getMetadata.hex");
  const TypeRegistry& reg = m.registry();
  const Variant* sw = m.callVariant("SubtensorModule", "set_weights");
  // A Vec<u16> claiming 10^9 elements.
  ScaleWriter w;
  w.compact(1000000000);
  auto r = decodeValue(reg, fieldType(*sw, "dests"), w.data());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kInvalidArgument);
  // Random bytes as the outer call enum: success or a clean error.
  std::uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 300; ++i) {
    Bytes b(1 + i % 64);
    for (auto& byte : b) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      byte = static_cast<std::byte>(x & 0xff);
    }
    b[0] = static_cast<std::byte>(m.pallet("SubtensorModule")->index);
    auto d = decodeValue(reg, m.extrinsic().callType, b);
    if (d) CHECK_FALSE(d->dump().empty());
  }
}

}  // namespace
}  // namespace merit::substrate
