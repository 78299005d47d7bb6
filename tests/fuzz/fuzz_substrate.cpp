// Fuzz target: merit_substrate's parsers of what a Substrate node sends: runtime metadata, and
// SCALE values decoded through a type registry (storage values, events, runtime-API results).
// None may crash or allocate without bound; every value decoded must re-encode to the same bytes
// (bit sequences: the same length, their padding bits being ignored).
#include <cstddef>
#include <cstdint>

#include "merit/substrate/metadata.h"
#include "merit/substrate/value.h"
#include "merit/util/assert.h"

#include "../unit/substrate/synthetic_registry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace merit;
  using namespace merit::substrate;
  static const TypeRegistry registry = testing::syntheticRegistry();
  if (size == 0) return 0;
  ByteView bytes(reinterpret_cast<const std::byte*>(data), size);
  ByteView rest = bytes.subspan(1);
  // The first byte picks what to parse: a type of the synthetic registry, or metadata.
  auto selector = std::to_integer<unsigned>(bytes[0]);
  if (selector >= registry.size()) {
    (void)Metadata::decodeAny(rest);
    ScaleReader r(rest);
    (void)TypeRegistry::decode(r);
    return 0;
  }
  auto type = static_cast<TypeId>(selector);
  ScaleReader r(rest);
  auto value = decodeValue(registry, type, r);
  if (value) {
    (void)value->dump();  // decoded strings are valid UTF-8, so this never throws
    auto again = encodeValue(registry, type, *value);
    MERIT_ASSERT(again.has_value(), type, again.error().message());
    Bytes consumed(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(r.position()));
    // Bit sequences ignore the padding bits of their last word, so only their length must match.
    if (type == testing::kBitVec) {
      MERIT_ASSERT(again->size() == consumed.size(), type);
    } else {
      MERIT_ASSERT(*again == consumed, type);
    }
  }
  return 0;
}
