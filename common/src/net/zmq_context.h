// Private to merit_net: the ZeroMQ context behind net::Context.
//
// Thread-safety: zmq::context_t is thread-safe.
#pragma once

#include <zmq.hpp>

#include "merit/net/context.h"

namespace merit::net {

class Context::Impl {
 public:
  Impl(int ioThreads, int maxSockets) : m_context(ioThreads, maxSockets) {}
  zmq::context_t& zmq() { return m_context; }

 private:
  zmq::context_t m_context;
};

}  // namespace merit::net
