// Events: System.Events (Vec<EventRecord>) decoded with the registry, and dispatch errors turned
// into names, so an extrinsic's outcome reads like merit-chain's ("SettingWeightsTooFast").
//
// Thread-safety: pure functions over an immutable Metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "merit/substrate/metadata.h"

namespace merit::substrate {

struct EventRecord {
  // "ApplyExtrinsic" (then extrinsicIndex is set), "Finalization" or "Initialization".
  std::string phase;
  std::optional<std::uint32_t> extrinsicIndex;
  std::string pallet;  // "System", "SubtensorModule", ...
  std::string name;    // "ExtrinsicFailed", "WeightsSet", ...
  // The event's fields in value.h's conventions: an object for named fields, the value itself for
  // one unnamed field, an array for several, null for none.
  nlohmann::json fields;
  std::vector<std::string> topics;  // "0x..." hashes
};

// Decodes the raw storage value of System.Events (the bytes state_getStorage returns).
// Malformed bytes are kInvalidArgument; an empty value (no events stored) is an empty vector.
Result<std::vector<EventRecord>> decodeEvents(const Metadata& md, ByteView eventsValue);

// The name of a DispatchError given as decoded JSON (ExtrinsicFailed's dispatch_error field):
//   {"Module": {"index": 7, "error": "0x06000000"}} -> the pallet's error variant name,
//       "SettingWeightsTooFast" (the first error byte is the variant index; a bare u8 "error"
//       of older runtimes works too); an index the metadata lacks is kNotFound;
//   "BadOrigin", "CannotLookup", "Other", ... (field-less variants) -> that name;
//   {"Token": "FundsUnavailable"}, {"Arithmetic": "Overflow"}, {"Transactional": ...} and other
//       variants wrapping a field-less enum -> "Token.FundsUnavailable" (outer.inner);
//   any other shape -> the outer variant name.
Result<std::string> dispatchErrorName(const Metadata& md, const nlohmann::json& dispatchError);

// The outcome of the extrinsic at `extrinsicIndex` of a block, from that block's events:
// System.ExtrinsicSuccess, or System.ExtrinsicFailed with its error named by dispatchErrorName.
// kNotFound when neither event is there for that index.
struct ExtrinsicOutcome {
  bool success = false;
  std::string error;                       // empty on success
  nlohmann::json dispatchError;            // null on success
  std::vector<const EventRecord*> events;  // the extrinsic's events, in order (borrowed)
};
Result<ExtrinsicOutcome> extrinsicOutcome(const Metadata& md, const std::vector<EventRecord>& events,
                                          std::uint32_t extrinsicIndex);

}  // namespace merit::substrate
