// Encoding and decoding of wire messages (Cap'n Proto, one message per frame).
//
// Thread-safety: free functions; no shared state.
//
// decode() is the parser of untrusted bytes: it enforces a size limit, Cap'n Proto reader limits
// (traversal and nesting), exact sizes of every fixed-size field, the protocol version and the
// module-name alphabet, and copies everything out, so it never throws and never leaves a pointer
// into the frame. Authentication is not its job (auth.h).
#pragma once

#include <cstddef>
#include <functional>

#include "merit/util/result.h"
#include "merit/wire/envelope.h"

namespace merit::wire {

struct DecodeLimits {
  std::size_t maxFrameBytes = 64u << 20;
  unsigned nestingLimit = 8;  // our schema nests 4 deep
};

// Decodes one frame. Every failure is kInvalidArgument with a reason (the peer's fault).
Result<Message> decode(ByteView frame, const DecodeLimits& limits = {});

// Encodes into one buffer.
Bytes encode(const Message& message);

// Encodes into a buffer obtained from `allocate(size)`, which must return exactly `size`
// writable bytes (e.g. a ZeroMQ message's data), so the encoding is written once, not copied.
void encodeInto(const Message& message, const std::function<MutableByteView(std::size_t)>& allocate);

// True if `name` is a valid module name: 1..64 bytes of [a-z0-9_.-].
bool isValidModuleName(std::string_view name);

}  // namespace merit::wire
