#include "merit/net/context.h"

#include <cstring>

#include <zmq.h>

#include "merit/util/assert.h"

#include "zmq_context.h"

namespace merit::net {

Context::Context(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Context::~Context() = default;

Result<std::shared_ptr<Context>> Context::create(Options options) {
  try {
    auto impl = std::make_unique<Impl>(options.ioThreads, options.maxSockets);
    return std::shared_ptr<Context>(new Context(std::move(impl)));
  } catch (const zmq::error_t& e) {
    return fail(ErrorCode::kInternal, std::string("cannot create a ZeroMQ context: ") + e.what());
  }
}

bool curveAvailable() {
  return zmq_has("curve") == 1;
}

Result<CurveKeyPair> CurveKeyPair::generate() {
  if (!curveAvailable()) return fail(ErrorCode::kInternal, "libzmq was built without CURVE support");
  char pub[41];
  char sec[41];
  if (zmq_curve_keypair(pub, sec) != 0) {
    return fail(ErrorCode::kInternal, std::string("zmq_curve_keypair: ") + zmq_strerror(zmq_errno()));
  }
  CurveKeyPair pair;
  ByteArray<32> secret{};
  MERIT_ASSERT(zmq_z85_decode(u8(MutableByteView(pair.publicKey)), pub) != nullptr);
  MERIT_ASSERT(zmq_z85_decode(u8(MutableByteView(secret)), sec) != nullptr);
  pair.secretKey = crypto::SecretArray<32>(secret);
  crypto::secureZero(secret.data(), secret.size());
  crypto::secureZero(sec, sizeof sec);
  return pair;
}

std::string curveKeyToZ85(const ByteArray<32>& key) {
  char out[41];
  MERIT_ASSERT(zmq_z85_encode(out, u8(ByteView(key)), key.size()) != nullptr);
  return std::string(out, 40);
}

Result<ByteArray<32>> curveKeyFromZ85(std::string_view text) {
  if (text.size() != 40) return fail(ErrorCode::kInvalidArgument, "a Z85 CURVE key has 40 characters");
  std::string z(text);
  ByteArray<32> out{};
  if (zmq_z85_decode(u8(MutableByteView(out)), z.c_str()) == nullptr) {
    return fail(ErrorCode::kInvalidArgument, "invalid Z85 text");
  }
  return out;
}

}  // namespace merit::net
