// Storage keys and values by name, and runtime-API calls by name, driven by the metadata (the
// offline half of storage reads and state_call; the client sends the bytes).
//
// Thread-safety: pure functions over an immutable Metadata.
//
// A storage key is twox128(pallet storage prefix) ‖ twox128(item) ‖ hash_1(key_1) ‖ ... with
// hash_i the entry's i-th hasher applied to the SCALE encoding of key_i (value.h conventions).
// Giving fewer keys than the entry has hashers yields a prefix, for paged key listing
// (state_getKeysPaged) of a map or of one row of a double map.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "merit/substrate/metadata.h"

namespace merit::substrate {

// `keys` is an array with at most as many values as the entry has hashers (a plain value takes
// none). Unknown pallet or item: kNotFound; a bad key: kInvalidArgument naming it.
Result<Bytes> storageKey(const Metadata& md, std::string_view pallet, std::string_view item,
                         const nlohmann::json& keys = nlohmann::json::array());

// The keys of a full storage key of this entry, as a JSON array: the decoded key for the
// hashers that keep it (Blake2_128Concat, Twox64Concat, Identity), null for the others.
// A key of another entry or with bytes left over is kInvalidArgument.
Result<nlohmann::json> decodeStorageKey(const Metadata& md, std::string_view pallet, std::string_view item,
                                        ByteView fullKey);

// The value of the entry from the bytes a node returned, or from nothing when the key is absent
// (pass nullptr): the entry's default for a kDefault entry, JSON null for a kOptional one.
Result<nlohmann::json> decodeStorageValue(const Metadata& md, std::string_view pallet, std::string_view item,
                                          const Bytes* raw);

// A runtime-API call for state_call: the method name ("NeuronInfoRuntimeApi_get_neurons_lite")
// and its SCALE-encoded arguments. `args` is an object keyed by parameter name or an array in
// parameter order. Needs metadata v15 (v14 does not describe runtime APIs: kNotFound says so).
struct RuntimeApiCall {
  std::string method;
  Bytes args;
};
Result<RuntimeApiCall> encodeRuntimeApiCall(const Metadata& md, std::string_view api, std::string_view method,
                                            const nlohmann::json& args);
// Decodes state_call's result bytes with the method's output type.
Result<nlohmann::json> decodeRuntimeApiResult(const Metadata& md, std::string_view api,
                                              std::string_view method, ByteView result);

}  // namespace merit::substrate
