// Private to merit_net: a ZeroMQ Authentication Protocol (ZAP, RFC 27) handler that lets
// AxonConfig::curveClientAuthorizer decide which CURVE clients may complete a handshake with a
// libzmq ROUTER. Only the libzmq transport needs it; a transport with its own CURVE server calls
// the authorizer directly, and this file goes away with libzmq.
//
// libzmq asks the handler bound at inproc://zeromq.zap.01 of the socket's context during every
// CURVE handshake, before the connection is attached to the socket: a refused client never gets
// a message through. A context has at most one such handler, so a ZapHandler needs a context of
// its own axon.
//
// Thread-safety: start() and the destructor from the owning thread; the handler runs on a
// thread of its own, which alone owns the REP socket and calls the authorizer.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include <zmq.hpp>

#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::net {

class ZapHandler {
 public:
  using Authorizer = std::function<bool(const ByteArray<32>& clientLongTermPublicKey)>;

  // Binds the ZAP endpoint of `context` and starts answering. `refused` counts refused
  // handshakes and must outlive the handler. Fails with kInternal if the endpoint is taken.
  static Result<std::unique_ptr<ZapHandler>> start(zmq::context_t& context, Authorizer authorizer,
                                                   std::atomic<std::uint64_t>& refused);
  // Stops the thread and closes the socket (before the context may be terminated).
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

 private:
  ZapHandler(zmq::socket_t socket, Authorizer authorizer, std::atomic<std::uint64_t>& refused);
  void run();
  void answerOne();

  zmq::socket_t m_socket;  // owned by m_thread once started
  const Authorizer m_authorizer;
  std::atomic<std::uint64_t>& m_refused;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
};

}  // namespace merit::net
