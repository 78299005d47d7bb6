#include "merit/substrate/storage.h"

#include <doctest/doctest.h>

#include "fixtures.h"

namespace merit::substrate {
namespace {

using nlohmann::json;
using testing::fixtureMetadata;
using testing::kFixtureNames;

// Keys and values read with @polkadot/api 16.5.6 from spec 200 on Chopsticks (//Alice's account).
constexpr const char* kAlice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
constexpr const char* kAliceAccountKey =
    "26aa394eea5630e07c48ae0c9558cef7b99d880ec681799c0cf30e8886371da9de1e86a9a8c739864cf3cc5ec2bea59f"
    "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
constexpr const char* kAliceAccountValue =
    "000000000000000001000000000000000080c6a47e8d03000000000000000000000000000000000000000000000000000000"
    "000000000080";

TEST_CASE("storage keys match @polkadot/api") {
  for (const char* name : kFixtureNames) {
    CAPTURE(std::string(name));
    const Metadata& md = fixtureMetadata(name);
    CHECK(toHex(storageKey(md, "System", "Account", json::array({kAlice})).value()) == kAliceAccountKey);
    // A single key may be given bare.
    CHECK(toHex(storageKey(md, "System", "Account", json(kAlice)).value()) == kAliceAccountKey);
    CHECK(toHex(storageKey(md, "SubtensorModule", "Keys", json::array({3, 7})).value()) ==
          "658faa385070e074c85bf6b568cf05559f99a2ce711f3a31b2fc05604c93f17903000700");
    CHECK(toHex(storageKey(md, "SubtensorModule", "Tempo", json::array({1})).value()) ==
          "658faa385070e074c85bf6b568cf05557641384bb339f3758acddfd7053d33170100");
    // A prefix for paging, and a plain value.
    CHECK(toHex(storageKey(md, "SubtensorModule", "Keys", json::array({3})).value()) ==
          "658faa385070e074c85bf6b568cf05559f99a2ce711f3a31b2fc05604c93f1790300");
    CHECK(toHex(storageKey(md, "Sudo", "Key").value()) ==
          "5c0d1176a568c1f92944340dbfed9e9c530ebca703c85910e7164cb7d1c9e47b");
    CHECK(storageKey(md, "SubtensorModule", "Keys", json::array({1, 2, 3})).error().code() ==
          ErrorCode::kInvalidArgument);
    CHECK(storageKey(md, "SubtensorModule", "Nope").error().code() == ErrorCode::kNotFound);
    auto bad = storageKey(md, "SubtensorModule", "Keys", json::array({70000}));
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message() == "SubtensorModule.Keys key 1: expected u16, got 70000");

    // Keys read back from full keys.
    CHECK(decodeStorageKey(md, "System", "Account", fromHex(kAliceAccountKey).value()).value() ==
          json::array({"0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"}));
    CHECK(decodeStorageKey(md, "SubtensorModule", "Keys",
                           storageKey(md, "SubtensorModule", "Keys", {3, 7}).value())
              .value() == json::array({3, 7}));
    CHECK_FALSE(
        decodeStorageKey(md, "SubtensorModule", "Tempo", fromHex(kAliceAccountKey).value()).has_value());
  }
}

TEST_CASE("storage values: present, default, optional") {
  for (const char* name : kFixtureNames) {
    CAPTURE(std::string(name));
    const Metadata& md = fixtureMetadata(name);
    Bytes raw = fromHex(kAliceAccountValue).value();
    auto v = decodeStorageValue(md, "System", "Account", &raw);
    REQUIRE(v.has_value());
    // @polkadot/api: {"nonce":0,"consumers":0,"providers":1,"sufficients":0,"data":{"free":1000000000000000,
    // "reserved":0,"frozen":0,"flags":"0x80000000000000000000000000000000"}} (flags as hex there, decimal
    // here).
    CHECK((*v)["providers"] == 1);
    CHECK((*v)["data"]["free"] == 1000000000000000ULL);
    CHECK((*v)["data"]["flags"] == "170141183460469231731687303715884105728");
    auto absent = decodeStorageValue(md, "System", "Account", nullptr);
    REQUIRE(absent.has_value());
    CHECK((*absent)["nonce"] == 0);
    CHECK(decodeStorageValue(md, "Sudo", "Key", nullptr).value().is_null());
  }
}

TEST_CASE("runtime API calls by name (v15)") {
  const Metadata& md = fixtureMetadata("spec200_metadata_at_version_15.hex");
  auto call = encodeRuntimeApiCall(md, "NeuronInfoRuntimeApi", "get_neurons_lite", json{{"netuid", 1}});
  REQUIRE(call.has_value());
  CHECK(call->method == "NeuronInfoRuntimeApi_get_neurons_lite");
  CHECK(toHex(call->args) == "0100");
  CHECK(toHex(encodeRuntimeApiCall(md, "NeuronInfoRuntimeApi", "get_neurons_lite", json::array({1}))->args) ==
        "0100");
  CHECK_FALSE(
      encodeRuntimeApiCall(md, "NeuronInfoRuntimeApi", "get_neurons_lite", json::array()).has_value());
  CHECK_FALSE(
      encodeRuntimeApiCall(md, "NeuronInfoRuntimeApi", "get_neurons_lite", json{{"uid", 1}}).has_value());
  // state_call answered 0x0400 on spec 200 (a subnet without neurons): this runtime's method
  // returns Vec<u8> holding the SCALE bytes of the neuron list.
  auto result =
      decodeRuntimeApiResult(md, "NeuronInfoRuntimeApi", "get_neurons_lite", fromHex("0400").value());
  REQUIRE(result.has_value());
  MESSAGE(
      "get_neurons_lite output type: "
      << md.registry().displayName(md.runtimeApiMethod("NeuronInfoRuntimeApi", "get_neurons_lite")->output)
      << ", decoded: " << result->dump());
  // Whether the registry describes the neuron type, so the inner bytes can be decoded by name.
  for (const char* spec : kFixtureNames) {
    std::string found;
    for (const auto& t : fixtureMetadata(spec).registry().types()) {
      if (t.shortName() == "NeuronInfoLite") found += t.pathString() + " (id " + std::to_string(t.id) + ") ";
    }
    MESSAGE(std::string(spec) << ": NeuronInfoLite in the registry: " << (found.empty() ? "no" : found));
  }
  const Metadata& v14 = fixtureMetadata("spec200_state_getMetadata.hex");
  CHECK(encodeRuntimeApiCall(v14, "NeuronInfoRuntimeApi", "get_neurons_lite", json::array({1}))
            .error()
            .code() == ErrorCode::kNotFound);
}

}  // namespace
}  // namespace merit::substrate
