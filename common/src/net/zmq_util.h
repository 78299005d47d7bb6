// Private to merit_net: small helpers between merit_wire and ZeroMQ messages.
//
// Thread-safety: free functions on values.
#pragma once

#include <zmq.hpp>

#include "merit/wire/codec.h"

namespace merit::net {

// Encodes `message` straight into a ZeroMQ message buffer (one copy of the body, not two).
inline zmq::message_t encodeToZmq(const wire::Message& message) {
  zmq::message_t out;
  wire::encodeInto(message, [&out](std::size_t size) {
    out.rebuild(size);
    return MutableByteView(static_cast<std::byte*>(out.data()), size);
  });
  return out;
}

inline ByteView viewOf(const zmq::message_t& m) {
  return {static_cast<const std::byte*>(m.data()), m.size()};
}

}  // namespace merit::net
