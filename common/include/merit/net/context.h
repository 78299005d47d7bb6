// A ZeroMQ context shared by axons and dendrites of one process, and CurveZMQ key pairs.
//
// Thread-safety: a Context may be used from any thread (ZeroMQ contexts are thread-safe); the
// sockets made from it are not, and each belongs to exactly one thread (axon.h, dendrite.h).
//
// Sharing one Context lets many axons and dendrites live in one process (tests, benchmarks, a
// validator with many miners) without one ZeroMQ I/O thread each.
#pragma once

#include <memory>
#include <string>

#include "merit/crypto/secret.h"
#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::net {

class Context {
 public:
  struct Options {
    int ioThreads = 1;
    int maxSockets = 8192;
  };
  // Fails with kInternal if ZeroMQ cannot create a context.
  static Result<std::shared_ptr<Context>> create(Options options);
  static Result<std::shared_ptr<Context>> create() { return create(Options{}); }
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // For merit_net internals (src/net/zmq_context.h defines Impl).
  class Impl;
  Impl& impl() { return *m_impl; }

 private:
  explicit Context(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// A CurveZMQ (Curve25519) key pair. The axon keeps the secret; the public key goes into the
// miner's axon info on chain, from where validators pass it to the dendrite (AxonTarget).
struct CurveKeyPair {
  ByteArray<32> publicKey{};
  crypto::SecretArray<32> secretKey;

  // Fails with kInternal if libzmq was built without CURVE support.
  static Result<CurveKeyPair> generate();
};

// Z85 text of a 32-byte CURVE key (40 characters), as ZeroMQ tools print it.
std::string curveKeyToZ85(const ByteArray<32>& key);
Result<ByteArray<32>> curveKeyFromZ85(std::string_view text);

// True if this libzmq supports CURVE.
bool curveAvailable();

}  // namespace merit::net
