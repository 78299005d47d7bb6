#include "merit/substrate/metadata.h"

#include <random>

#include <doctest/doctest.h>

#include "fixtures.h"

namespace merit::substrate {
namespace {

using testing::fixtureMetadata;
using testing::kFixtureNames;
using testing::loadFixture;

TEST_CASE("both runtimes' metadata decodes as v14 and v15") {
  for (const char* name : kFixtureNames) {
    CAPTURE(std::string(name));
    const Metadata& m = fixtureMetadata(name);
    bool v15 = std::string(name).find("version_15") != std::string::npos;
    CHECK(m.version() == (v15 ? 15 : 14));
    CHECK(m.registry().size() > 100);
    CHECK(m.extrinsic().version == 4);
    CHECK(m.pallet("System") != nullptr);
    CHECK(m.pallet("System")->index == 0);
    // The extrinsic's parts resolve to the expected types in both versions.
    const TypeRegistry& reg = m.registry();
    CHECK(reg.get(m.extrinsic().addressType)->shortName() == "MultiAddress");
    CHECK(reg.get(m.extrinsic().signatureType)->shortName() == "MultiSignature");
    CHECK(reg.get(m.extrinsic().callType)->shortName() == "RuntimeCall");
  }
}

TEST_CASE("v14 and v15 of one runtime agree") {
  for (std::string spec : {"spec200", "spec218"}) {
    const Metadata& a = fixtureMetadata(spec + "_state_getMetadata.hex");
    const Metadata& b = fixtureMetadata(spec + "_metadata_at_version_15.hex");
    CHECK(a.pallets().size() == b.pallets().size());
    CHECK(a.extrinsic().signedExtensions.size() == b.extrinsic().signedExtensions.size());
    CHECK(a.registry().displayName(a.extrinsic().addressType) ==
          b.registry().displayName(b.extrinsic().addressType));
  }
}

TEST_CASE("SubtensorModule calls, errors, storage and constants by name") {
  for (const char* name : kFixtureNames) {
    CAPTURE(std::string(name));
    const Metadata& m = fixtureMetadata(name);
    const Pallet* st = m.pallet("SubtensorModule");
    REQUIRE(st != nullptr);
    for (const char* call : {"set_weights", "commit_weights", "reveal_weights", "burned_register",
                             "serve_axon", "add_stake", "register_network"}) {
      CHECK_MESSAGE(m.callVariant("SubtensorModule", call) != nullptr, call);
    }
    const Variant* sw = m.callVariant("SubtensorModule", "set_weights");
    REQUIRE(sw != nullptr);
    REQUIRE(sw->fields.size() == 4);
    CHECK(*sw->fields[0].name == "netuid");
    CHECK(*sw->fields[1].name == "dests");
    CHECK(m.registry().displayName(sw->fields[1].type) == "Vec<u16>");
    CHECK(m.callVariant("SubtensorModule", "no_such_call") == nullptr);

    // The error by pallet index and error index, both from the registry.
    const TypeInfo* errors = m.registry().get(*st->errorType);
    const Variant* tooFast = std::get<VariantDef>(errors->def).byName("SettingWeightsTooFast");
    REQUIRE(tooFast != nullptr);
    CHECK(m.errorName(st->index, tooFast->index).value() == "SettingWeightsTooFast");
    CHECK_FALSE(m.errorName(st->index, 250).has_value());
    CHECK(m.errorName(250, 0).error().code() == ErrorCode::kNotFound);

    const StorageEntry* keys = m.storage("SubtensorModule", "Keys");
    REQUIRE(keys != nullptr);
    CHECK(keys->isMap);
    REQUIRE(keys->hashers.size() == 2);
    CHECK(keys->keyType.has_value());
    CHECK(m.registry().displayName(*keys->keyType).find('(') == 0);
    const StorageEntry* account = m.storage("System", "Account");
    REQUIRE(account != nullptr);
    CHECK(account->hashers == std::vector<Hasher>{Hasher::kBlake2_128Concat});
    CHECK(m.registry().get(account->valueType)->shortName() == "AccountInfo");
    CHECK(m.storage("System", "Number")->isMap == false);

    const Constant* ss58 = m.constant("System", "SS58Prefix");
    REQUIRE(ss58 != nullptr);
    CHECK(ss58->value.size() == 2);
  }
}

TEST_CASE("v15 runtime APIs and outer enums") {
  for (std::string spec : {"spec200", "spec218"}) {
    const Metadata& m = fixtureMetadata(spec + "_metadata_at_version_15.hex");
    const RuntimeApiMethod* lite = m.runtimeApiMethod("NeuronInfoRuntimeApi", "get_neurons_lite");
    REQUIRE(lite != nullptr);
    REQUIRE(lite->inputs.size() == 1);
    CHECK(lite->inputs[0].name == "netuid");
    CHECK(m.runtimeApiMethod("NeuronInfoRuntimeApi", "nope") == nullptr);
    REQUIRE(m.outerEnums().has_value());
    CHECK(m.outerEnums()->callEnum == m.extrinsic().callType);
    std::string apis;
    for (const auto& a : m.runtimeApis()) apis += a.name + " ";
    MESSAGE(spec << " runtime APIs: " << apis);
  }
  CHECK(fixtureMetadata("spec200_state_getMetadata.hex").runtimeApis().empty());
}

TEST_CASE("signed extensions of both runtimes") {
  for (const char* name : kFixtureNames) {
    const Metadata& m = fixtureMetadata(name);
    std::string list;
    std::vector<std::string> ids;
    for (const auto& s : m.extrinsic().signedExtensions) {
      ids.push_back(s.identifier);
      list += s.identifier + "(extra " + m.registry().displayName(s.type) + ", additional " +
              m.registry().displayName(s.additionalSigned) + ") ";
    }
    MESSAGE(std::string(name) << " signed extensions: " << list);
    for (const char* want : {"CheckMortality", "CheckNonce", "ChargeTransactionPayment", "CheckGenesis",
                             "CheckSpecVersion", "CheckTxVersion"}) {
      CHECK_MESSAGE(std::find(ids.begin(), ids.end(), want) != ids.end(), want);
    }
  }
}

TEST_CASE("malformed metadata is a clean error") {
  Bytes good = loadFixture("spec218_state_getMetadata.hex");
  // Wrong magic, unknown version, empty.
  Bytes bad = good;
  bad[0] = std::byte{'x'};
  CHECK(Metadata::decode(bad).error().code() == ErrorCode::kCorruption);
  bad = good;
  bad[4] = std::byte{13};
  CHECK(Metadata::decode(bad).error().code() == ErrorCode::kInvalidArgument);
  CHECK_FALSE(Metadata::decode(ByteView{}).has_value());
  // Option None from Metadata_metadata_at_version.
  Bytes none = {std::byte{0}};
  CHECK(Metadata::decodeAny(none).error().code() == ErrorCode::kNotFound);
  // Truncations at many points: always an error, never a crash.
  for (std::size_t cut : {std::size_t{5}, std::size_t{6}, std::size_t{100}, good.size() / 3, good.size() / 2,
                          good.size() - 1}) {
    auto r = Metadata::decode(ByteView(good).first(cut));
    CHECK_FALSE(r.has_value());
    if (!r) {
      CHECK((r.error().code() == ErrorCode::kInvalidArgument || r.error().code() == ErrorCode::kCorruption));
    }
  }
  // Trailing bytes.
  Bytes longer = good;
  longer.push_back(std::byte{0});
  CHECK(Metadata::decode(longer).error().code() == ErrorCode::kCorruption);
}

TEST_CASE("fuzz: flipped bytes and truncations give success or a clean error") {
  Bytes good = loadFixture("spec200_state_getMetadata.hex");
  std::mt19937_64 rng(14);
  int errors = 0;
  for (int i = 0; i < 150; ++i) {
    Bytes b = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) b[rng() % b.size()] ^= static_cast<std::byte>(1 + rng() % 255);
    if (i % 3 == 0) b.resize(rng() % b.size());
    auto r = Metadata::decode(b);
    if (!r) {
      ++errors;
      CHECK(!r.error().message().empty());
    }
  }
  MESSAGE(errors << " of 150 mutated fixtures were rejected, the rest decoded");
}

}  // namespace
}  // namespace merit::substrate
