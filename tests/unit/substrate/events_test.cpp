#include "merit/substrate/events.h"

#include <doctest/doctest.h>

#include "merit/substrate/value.h"

#include "fixtures.h"

namespace merit::substrate {
namespace {

using nlohmann::json;
using testing::fixtureMetadata;

// System.Events read from spec 200 on Chopsticks at the block holding a failing extrinsic,
// submitted by //Alice with @polkadot/api: set_weights(99, [0], [1], 0) on a netuid that does not
// exist. @polkadot/api decoded the same bytes as: ApplyExtrinsic(0) System.ExtrinsicSuccess,
// ApplyExtrinsic(1) TransactionPayment.TransactionFeePaid, ApplyExtrinsic(1)
// System.ExtrinsicFailed {module: {index: 7, error: 0x00000000}} = SubtensorModule.NetworkDoesNotExist.
constexpr const char* kFailedSetWeights =
    "0c000000000000004248ed43551702000000010000000600d43593c715fdd31c61141abd04a99fd6822c8558854c"
    "cde39a5684e7a56da27d00000000000000000000000000000000000001000000000103070000000007b0bfa11c1d"
    "00000100";
// The same for balances.force_set_balance signed by //Alice (not root): DispatchError::BadOrigin,
// with Balances.Withdraw and TransactionPayment.TransactionFeePaid before it.
constexpr const char* kBadOrigin =
    "10000000000000004248ed43551702000000010000000508d43593c715fdd31c61141abd04a99fd6822c8558854c"
    "cde39a5684e7a56da27d8ae60100000000000000010000000600d43593c715fdd31c61141abd04a99fd6822c8558"
    "854ccde39a5684e7a56da27d8ae60100000000000000000000000000000001000000000102627120402538000000";

TEST_CASE("System.Events of a failed set_weights: records and the module error by name") {
  for (const char* name : {"spec200_state_getMetadata.hex", "spec200_metadata_at_version_15.hex"}) {
    CAPTURE(std::string(name));
    const Metadata& md = fixtureMetadata(name);
    auto events = decodeEvents(md, fromHex(kFailedSetWeights).value());
    REQUIRE_MESSAGE(events.has_value(), events.error().toString());
    REQUIRE(events->size() == 3);
    CHECK((*events)[0].phase == "ApplyExtrinsic");
    CHECK((*events)[0].extrinsicIndex == 0u);
    CHECK((*events)[0].pallet == "System");
    CHECK((*events)[0].name == "ExtrinsicSuccess");
    CHECK((*events)[1].pallet == "TransactionPayment");
    CHECK((*events)[1].name == "TransactionFeePaid");
    CHECK((*events)[1].fields["who"] == "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
    const EventRecord& failed = (*events)[2];
    CHECK(failed.name == "ExtrinsicFailed");
    CHECK(failed.extrinsicIndex == 1u);
    CHECK(failed.fields["dispatch_error"] == json{{"Module", {{"index", 7}, {"error", "0x00000000"}}}});
    CHECK(dispatchErrorName(md, failed.fields["dispatch_error"]).value() == "NetworkDoesNotExist");

    auto outcome = extrinsicOutcome(md, *events, 1);
    REQUIRE(outcome.has_value());
    CHECK_FALSE(outcome->success);
    CHECK(outcome->error == "NetworkDoesNotExist");
    CHECK(outcome->events.size() == 2);
    auto inherent = extrinsicOutcome(md, *events, 0);
    REQUIRE(inherent.has_value());
    CHECK(inherent->success);
    CHECK(inherent->error.empty());
    CHECK(extrinsicOutcome(md, *events, 2).error().code() == ErrorCode::kNotFound);
  }
}

TEST_CASE("System.Events with BadOrigin, and other DispatchError names") {
  const Metadata& md = fixtureMetadata("spec200_state_getMetadata.hex");
  auto events = decodeEvents(md, fromHex(kBadOrigin).value());
  REQUIRE(events.has_value());
  REQUIRE(events->size() == 4);
  CHECK((*events)[1].pallet == "Balances");
  CHECK((*events)[1].name == "Withdraw");
  auto outcome = extrinsicOutcome(md, *events, 1);
  REQUIRE(outcome.has_value());
  CHECK(outcome->error == "BadOrigin");

  CHECK(dispatchErrorName(md, json{{"Token", "FundsUnavailable"}}).value() == "Token.FundsUnavailable");
  CHECK(dispatchErrorName(md, json{{"Arithmetic", "Overflow"}}).value() == "Arithmetic.Overflow");
  CHECK(dispatchErrorName(md, json{{"Module", {{"index", 7}, {"error", 0}}}}).value() ==
        "NetworkDoesNotExist");
  CHECK(dispatchErrorName(md, json{{"Module", {{"index", 7}, {"error", "0xfa000000"}}}}).error().code() ==
        ErrorCode::kNotFound);
  CHECK(dispatchErrorName(md, json(42)).error().code() == ErrorCode::kInvalidArgument);

  // SettingWeightsTooFast round trip through the registry's DispatchError type.
  const StorageEntry* ev = md.storage("System", "Events");
  REQUIRE(ev != nullptr);
  const Variant* failed = md.eventVariant("System", "ExtrinsicFailed");
  REQUIRE(failed != nullptr);
  TypeId dispatchError = failed->fields[0].type;
  const Pallet* st = md.pallet("SubtensorModule");
  const Variant* tooFast =
      std::get<VariantDef>(md.registry().get(*st->errorType)->def).byName("SettingWeightsTooFast");
  REQUIRE(tooFast != nullptr);
  Bytes err = {std::byte{tooFast->index}, std::byte{0}, std::byte{0}, std::byte{0}};
  json value = {{"Module", {{"index", st->index}, {"error", "0x" + toHex(err)}}}};
  auto bytes = encodeValue(md.registry(), dispatchError, value);
  REQUIRE(bytes.has_value());
  auto back = decodeValue(md.registry(), dispatchError, *bytes);
  REQUIRE(back.has_value());
  CHECK(dispatchErrorName(md, *back).value() == "SettingWeightsTooFast");
}

TEST_CASE("malformed System.Events fail cleanly") {
  const Metadata& md = fixtureMetadata("spec200_state_getMetadata.hex");
  Bytes good = fromHex(kFailedSetWeights).value();
  CHECK(decodeEvents(md, ByteView{}).value().empty());
  for (std::size_t cut = 1; cut < good.size(); cut += 7) {
    auto r = decodeEvents(md, ByteView(good).first(cut));
    CHECK_FALSE(r.has_value());
  }
  Bytes flipped = good;
  flipped[10] = std::byte{0xff};  // an unknown phase / event tag somewhere in the first record
  auto r = decodeEvents(md, flipped);
  if (!r) CHECK(r.error().code() == ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace merit::substrate
