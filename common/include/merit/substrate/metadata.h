// Runtime metadata (v14 and v15) and its portable type registry: what a Substrate runtime says
// about its pallets, calls, storage, events, errors, constants, extrinsic format and runtime
// APIs. Everything else in merit_substrate is driven by it, by name, so one binary works across
// runtime upgrades.
//
// Thread-safety: a decoded Metadata/TypeRegistry is an immutable value; concurrent reads are safe.
//
// Decoding treats the bytes as untrusted (they come from a node): every length is checked against
// the bytes remaining, every type id referenced anywhere must exist in the registry, and any
// failure is kInvalidArgument (malformed SCALE) or kCorruption (well-formed but inconsistent: a
// dangling type id, a bad magic), never a crash. Documentation strings are read and dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "merit/substrate/hashing.h"
#include "merit/substrate/scale.h"
#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::substrate {

using TypeId = std::uint32_t;

enum class Primitive : std::uint8_t {
  kBool,
  kChar,
  kStr,
  kU8,
  kU16,
  kU32,
  kU64,
  kU128,
  kU256,
  kI8,
  kI16,
  kI32,
  kI64,
  kI128,
  kI256,
};
std::string_view primitiveName(Primitive p);
// The encoded size of a fixed-width primitive (bool, char, integers); 0 for str, whose size varies.
std::size_t primitiveWidth(Primitive p);  // "bool", "u16", "str", ...

struct Field {
  std::optional<std::string> name;  // absent for tuple-like fields
  TypeId type = 0;
  std::optional<std::string> typeName;  // the Rust type as written in the source ("T::AccountId")
};

struct Variant {
  std::string name;
  std::uint8_t index = 0;  // the SCALE tag byte, not the position in the list
  std::vector<Field> fields;
};

struct CompositeDef {
  std::vector<Field> fields;
};
struct VariantDef {
  std::vector<Variant> variants;
  const Variant* byName(std::string_view name) const;
  const Variant* byIndex(std::uint8_t index) const;
};
struct SequenceDef {
  TypeId type = 0;
};
struct ArrayDef {
  std::uint32_t len = 0;
  TypeId type = 0;
};
struct TupleDef {
  std::vector<TypeId> types;
};
struct PrimitiveDef {
  Primitive kind = Primitive::kBool;
};
struct CompactDef {
  TypeId type = 0;
};
struct BitSequenceDef {
  TypeId storeType = 0;
  TypeId orderType = 0;
};

using TypeDef = std::variant<CompositeDef, VariantDef, SequenceDef, ArrayDef, TupleDef, PrimitiveDef,
                             CompactDef, BitSequenceDef>;

struct TypeParam {
  std::string name;
  std::optional<TypeId> type;
};

struct TypeInfo {
  TypeId id = 0;
  std::vector<std::string> path;  // e.g. {"sp_core", "crypto", "AccountId32"}; empty for built-ins
  std::vector<TypeParam> params;
  TypeDef def;

  std::string pathString() const;  // "sp_core::crypto::AccountId32"
  // The last path segment ("AccountId32", "Option"), or "" for unnamed types.
  std::string_view shortName() const;
  // The type parameter named `name`, if present and bound.
  std::optional<TypeId> param(std::string_view name) const;
};

// The portable registry: type ids are the positions 0..size()-1 (checked on decode).
class TypeRegistry {
 public:
  // Decodes a PortableRegistry (Vec<PortableType>) and checks that every referenced id exists.
  static Result<TypeRegistry> decode(ScaleReader& r);

  const TypeInfo* get(TypeId id) const { return id < m_types.size() ? &m_types[id] : nullptr; }
  std::size_t size() const { return m_types.size(); }
  const std::vector<TypeInfo>& types() const { return m_types; }

  // A readable name for error messages and `merit chain metadata`: "u16", "Vec<u16>",
  // "[u8; 32]", "(u16, u64)", "Compact<u64>", "AccountId32", "Option<bool>".
  std::string displayName(TypeId id) const;
  // True when values of the type always encode to zero bytes (empty composites and tuples,
  // arrays of length 0, and composites/tuples of such). Unknown ids and cycles are not zero-sized.
  bool isZeroSized(TypeId id) const;
  // The smallest number of bytes any value of the type encodes to (for bounding element
  // counts against the input); 0 for zero-sized types, at most 1 for variants.
  std::size_t minEncodedSize(TypeId id) const;

 private:
  std::string displayName(TypeId id, int depth) const;
  bool isZeroSized(TypeId id, int depth) const;
  std::size_t minEncodedSize(TypeId id, int depth) const;
  std::vector<TypeInfo> m_types;
};

enum class StorageModifier : std::uint8_t { kOptional = 0, kDefault = 1 };

struct StorageEntry {
  std::string name;
  StorageModifier modifier = StorageModifier::kOptional;
  // Plain values have no hashers and no key type; maps have one hasher per key (a double map
  // has two, and then keyType is a tuple of the two key types).
  bool isMap = false;
  std::vector<Hasher> hashers;
  std::optional<TypeId> keyType;
  TypeId valueType = 0;
  Bytes defaultValue;  // SCALE bytes of the value used when a kDefault entry is absent
};

struct Constant {
  std::string name;
  TypeId type = 0;
  Bytes value;  // SCALE bytes
};

struct Pallet {
  std::string name;
  std::uint8_t index = 0;           // the call/event/error tag of the pallet in the outer enums
  std::optional<TypeId> callType;   // a variant type: one variant per call
  std::optional<TypeId> eventType;  // a variant type: one variant per event
  std::optional<TypeId> errorType;  // a variant type: one variant per error
  std::string storagePrefix;        // usually the pallet name; empty when the pallet has no storage
  std::vector<StorageEntry> storage;
  std::vector<Constant> constants;

  const StorageEntry* storageEntry(std::string_view item) const;
  const Constant* constant(std::string_view name) const;
};

struct SignedExtension {
  std::string identifier;       // "CheckNonce", "ChargeTransactionPayment", ...
  TypeId type = 0;              // what the extrinsic carries ("extra")
  TypeId additionalSigned = 0;  // what only the signing payload carries
};

struct ExtrinsicInfo {
  std::uint8_t version = 0;  // 4 on these runtimes
  TypeId addressType = 0;    // MultiAddress<AccountId32, ...>
  TypeId callType = 0;       // the outer RuntimeCall enum
  TypeId signatureType = 0;  // MultiSignature
  TypeId extraType = 0;      // the tuple of the extensions' extra types
  std::vector<SignedExtension> signedExtensions;
};

struct RuntimeApiParam {
  std::string name;
  TypeId type = 0;
};
struct RuntimeApiMethod {
  std::string name;
  std::vector<RuntimeApiParam> inputs;
  TypeId output = 0;
};
struct RuntimeApi {
  std::string name;  // "NeuronInfoRuntimeApi"; the state_call method is "<api>_<method>"
  std::vector<RuntimeApiMethod> methods;
};

struct OuterEnums {
  TypeId callEnum = 0;
  TypeId eventEnum = 0;
  TypeId errorEnum = 0;
};

class Metadata {
 public:
  // Decodes RuntimeMetadataPrefixed: "meta" magic, version byte (14 or 15), then the metadata.
  // Trailing bytes are kCorruption.
  static Result<Metadata> decode(ByteView bytes);
  // Accepts either state_getMetadata's bytes (RuntimeMetadataPrefixed) or the SCALE
  // Option<Vec<u8>> that the runtime API Metadata_metadata_at_version returns. None (the
  // runtime lacks that version) is kNotFound.
  static Result<Metadata> decodeAny(ByteView bytes);

  std::uint8_t version() const { return m_version; }
  const TypeRegistry& registry() const { return m_registry; }
  const std::vector<Pallet>& pallets() const { return m_pallets; }
  const ExtrinsicInfo& extrinsic() const { return m_extrinsic; }
  TypeId runtimeType() const { return m_runtimeType; }
  // v15 only (empty / nullopt for v14).
  const std::vector<RuntimeApi>& runtimeApis() const { return m_apis; }
  const std::optional<OuterEnums>& outerEnums() const { return m_outerEnums; }

  // Lookups by name (exact, case-sensitive); nullptr when absent.
  const Pallet* pallet(std::string_view name) const;
  const Pallet* palletByIndex(std::uint8_t index) const;
  const StorageEntry* storage(std::string_view pallet, std::string_view item) const;
  // The call's variant in the pallet's call enum: its index and its argument fields in order.
  const Variant* callVariant(std::string_view pallet, std::string_view call) const;
  const Variant* eventVariant(std::string_view pallet, std::string_view event) const;
  const Variant* errorVariant(std::uint8_t palletIndex, std::uint8_t errorIndex) const;
  // "SettingWeightsTooFast" for a module error; kNotFound for an unknown pallet or index.
  Result<std::string> errorName(std::uint8_t palletIndex, std::uint8_t errorIndex) const;
  const Constant* constant(std::string_view pallet, std::string_view name) const;
  const RuntimeApi* runtimeApi(std::string_view api) const;
  const RuntimeApiMethod* runtimeApiMethod(std::string_view api, std::string_view method) const;

 private:
  std::uint8_t m_version = 0;
  TypeRegistry m_registry;
  std::vector<Pallet> m_pallets;
  ExtrinsicInfo m_extrinsic;
  TypeId m_runtimeType = 0;
  std::vector<RuntimeApi> m_apis;
  std::optional<OuterEnums> m_outerEnums;
};

}  // namespace merit::substrate
