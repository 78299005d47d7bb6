// The dynamic codec: SCALE values of any registry type <-> JSON, driven by the runtime's type
// registry, so calls, storage values, events and runtime-API results of a new runtime need no
// new code. `merit chain call Pallet.call name=value ...` and `merit chain storage` use these
// conventions, as does every higher layer of merit_substrate.
//
// Thread-safety: pure functions over an immutable registry.
//
// JSON conventions (decode produces exactly these forms; encode accepts them and the extra
// forms noted):
// - Composite with named fields <-> object keyed by field name (encode: every field is required,
//   unknown keys are an error; an array of the values in field order is also accepted).
// - Composite with exactly one unnamed field is transparent: its inner value.
// - Tuples and composites with several unnamed fields <-> arrays. Empty composites/tuples <-> null
//   (encode also accepts [] and {}).
// - Option<T> (path "Option", variants None/Some): null <-> None, the bare value <-> Some.
// - Other variants: a field-less variant <-> "Name"; a variant with fields <-> {"Name": payload},
//   the payload following the composite rules above (one unnamed field: the value itself; named:
//   an object; several unnamed: an array). Encode also accepts {"Name": null} for a field-less one.
// - Sequences <-> arrays; sequences and fixed arrays of u8 <-> "0x..." hex strings (encode also
//   accepts arrays of numbers, and for Vec<u8> a string without "0x", taken as its UTF-8 bytes).
// - AccountId32 (path sp_core::crypto::AccountId32) <-> "0x" + 64 hex digits; encode also accepts
//   an SS58 address of any network prefix.
// - bool <-> true/false; str <-> string (must be UTF-8); char <-> one-character string.
// - Integers of up to 64 bits <-> JSON numbers (encode also accepts decimal strings);
//   u128, i128, u256, i256 <-> decimal strings (encode also accepts JSON integers).
// - Compact<T> <-> number (decimal string when above 2^64-1); the range is T's.
// - BitSequence (store u8/u16/u32/u64, order Lsb0 or Msb0) <-> array of booleans.
// Errors are kInvalidArgument and name the path and the expected type:
// "set_weights.dests[3]: expected u16, got -1". Nesting deeper than kMaxValueDepth is refused;
// decoded element counts are checked against the bytes remaining before anything is allocated.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "merit/crypto/keys.h"
#include "merit/substrate/metadata.h"
#include "merit/substrate/scale.h"

namespace merit::substrate {

inline constexpr int kMaxValueDepth = 64;

// Encodes `value` as type `type`; `path` names the value in error messages ("set_weights.dests").
Result<void> encodeValue(const TypeRegistry& reg, TypeId type, const nlohmann::json& value, ScaleWriter& out,
                         std::string_view path = "value");
Result<Bytes> encodeValue(const TypeRegistry& reg, TypeId type, const nlohmann::json& value,
                          std::string_view path = "value");

// Decodes one value of type `type` from the reader (the reader may hold more after it).
Result<nlohmann::json> decodeValue(const TypeRegistry& reg, TypeId type, ScaleReader& in);
// Decodes a whole buffer as one value; trailing bytes are kInvalidArgument.
Result<nlohmann::json> decodeValue(const TypeRegistry& reg, TypeId type, ByteView bytes);

// True for sp_core::crypto::AccountId32.
bool isAccountId32(const TypeInfo& t);
// "0x" + 64 hex digits, or an SS58 address of any network prefix.
Result<crypto::AccountId> parseAccountId(std::string_view text);

}  // namespace merit::substrate
