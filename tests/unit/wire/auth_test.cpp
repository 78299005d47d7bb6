#include "merit/wire/auth.h"

#include <functional>

#include <doctest/doctest.h>

namespace merit::wire {
namespace {

Request signedRequest(const crypto::PrivateKey& caller, const crypto::PrivateKey& target) {
  Request r;
  r.header.netuid = 1;
  r.header.module = "matmul";
  r.header.moduleVersion = 1;
  crypto::randomBytes(r.header.requestId);
  r.header.caller = caller.publicKey().bytes();
  r.header.target = target.publicKey().bytes();
  r.header.timestampMs = 1'700'000'000'000;
  r.header.nonce = 7;
  r.header.timeoutMs = 1000;
  r.body = toBytes("body");
  r.header.bodyHash = hashBody(r.body);
  signRequest(r, caller);
  return r;
}

}  // namespace

TEST_CASE("a request signature covers every header field") {
  const auto caller = crypto::PrivateKey::generate();
  const auto target = crypto::PrivateKey::generate();
  const Request good = signedRequest(caller, target);
  REQUIRE(verifyRequestSignature(good));
  std::vector<std::function<void(RequestHeader&)>> tamper = {
      [](RequestHeader& h) { h.netuid ^= 1; },
      [](RequestHeader& h) { h.module = "matmuk"; },
      [](RequestHeader& h) { h.moduleVersion ^= 1; },
      [](RequestHeader& h) { h.requestId[0] ^= std::byte{1}; },
      [](RequestHeader& h) { h.target[5] ^= std::byte{1}; },
      [](RequestHeader& h) { h.timestampMs += 1; },
      [](RequestHeader& h) { h.nonce += 1; },
      [](RequestHeader& h) { h.timeoutMs += 1; },
      [](RequestHeader& h) { h.bodyHash[31] ^= std::byte{1}; },
  };
  for (auto& t : tamper) {
    Request r = good;
    t(r.header);
    auto v = verifyRequestSignature(r);
    CHECK_FALSE(v);
    if (!v) CHECK(v.error().code() == ErrorCode::kUnauthorized);
  }
  // Another key claiming to be the caller.
  Request forged = good;
  forged.auth.signature = crypto::PrivateKey::generate().sign(canonicalRequest(good.header)).bytes();
  CHECK_FALSE(verifyRequestSignature(forged));
  // An all-zero (empty) signature is never accepted.
  forged.auth.signature.fill(std::byte{0});
  CHECK_FALSE(verifyRequestSignature(forged));
  // A request without an authenticator.
  forged.auth = {};
  CHECK_FALSE(verifyRequestSignature(forged));
}

TEST_CASE("a message signature over a request's or handshake's canonical bytes does not verify") {
  const auto caller = crypto::PrivateKey::generate();
  const auto target = crypto::PrivateKey::generate();
  Request r = signedRequest(caller, target);
  r.auth.signature = crypto::signMessage(caller, canonicalRequest(r.header)).bytes();
  CHECK_FALSE(verifyRequestSignature(r));
  SessionInit init;
  init.protocolVersion = 1;
  init.caller = caller.publicKey().bytes();
  init.target = target.publicKey().bytes();
  init.timestampMs = 1'700'000'000'000;
  signSessionInit(init, caller);
  REQUIRE(verifySessionInit(init));
  init.signature = crypto::signMessage(caller, canonicalSessionInit(init)).bytes();
  CHECK_FALSE(verifySessionInit(init));
}

TEST_CASE("responses are bound to caller and responder") {
  const auto caller = crypto::PrivateKey::generate();
  const auto miner = crypto::PrivateKey::generate();
  Response r;
  crypto::randomBytes(r.requestId);
  r.body = toBytes("answer");
  r.bodyHash = hashBody(r.body);
  signResponse(r, caller.publicKey().bytes(), miner);
  CHECK(verifyResponseSignature(r, caller.publicKey().bytes(), miner.publicKey()));
  CHECK_FALSE(
      verifyResponseSignature(r, crypto::PrivateKey::generate().publicKey().bytes(), miner.publicKey()));
  CHECK_FALSE(
      verifyResponseSignature(r, caller.publicKey().bytes(), crypto::PrivateKey::generate().publicKey()));
  r.status = Status::kInternal;
  CHECK_FALSE(verifyResponseSignature(r, caller.publicKey().bytes(), miner.publicKey()));
}

TEST_CASE("session handshake: both sides derive one key; MACs reject forgeries") {
  const auto caller = crypto::PrivateKey::generate();
  const auto miner = crypto::PrivateKey::generate();
  SessionInit init;
  init.caller = caller.publicKey().bytes();
  init.target = miner.publicKey().bytes();
  init.timestampMs = 5;
  crypto::randomBytes(init.clientNonce);
  signSessionInit(init, caller);
  CHECK(verifySessionInit(init));
  SessionInit tampered = init;
  tampered.clientNonce[0] ^= std::byte{1};
  CHECK_FALSE(verifySessionInit(tampered));

  SessionReply reply;
  reply.clientNonce = init.clientNonce;
  crypto::randomBytes(reply.serverNonce);
  crypto::randomBytes(reply.sessionId);
  signSessionAccept(reply, init.caller, miner);
  CHECK(verifySessionAccept(reply, init.caller, miner.publicKey()));
  CHECK_FALSE(verifySessionAccept(reply, init.caller, caller.publicKey()));

  auto k1 = deriveSessionKey(caller, miner.publicKey(), init.caller, init.target, init.clientNonce,
                             reply.serverNonce, reply.sessionId);
  auto k2 = deriveSessionKey(miner, caller.publicKey(), init.caller, init.target, init.clientNonce,
                             reply.serverNonce, reply.sessionId);
  CHECK(toHex(k1.reveal()) == toHex(k2.reveal()));
  HandshakeNonce otherNonce = reply.serverNonce;
  otherNonce[0] ^= std::byte{1};
  auto k3 = deriveSessionKey(caller, miner.publicKey(), init.caller, init.target, init.clientNonce,
                             otherNonce, reply.sessionId);
  CHECK(toHex(k1.reveal()) != toHex(k3.reveal()));

  Request r = signedRequest(caller, miner);
  macRequest(r, k1, reply.sessionId);
  CHECK(verifyRequestMac(r, k2));
  CHECK_FALSE(verifyRequestMac(r, k3));
  Request forged = r;
  forged.auth.mac[0] ^= std::byte{1};
  CHECK_FALSE(verifyRequestMac(forged, k2));
  forged = r;
  forged.header.nonce += 1;
  CHECK_FALSE(verifyRequestMac(forged, k2));

  Response resp;
  resp.requestId = r.header.requestId;
  resp.bodyHash = hashBody({});
  macResponse(resp, init.caller, init.target, k2, reply.sessionId);
  CHECK(verifyResponseMac(resp, init.caller, init.target, k1));
  CHECK_FALSE(verifyResponseMac(resp, init.target, init.caller, k1));
}

TEST_CASE("constantTimeEqual") {
  CHECK(constantTimeEqual(asBytes("abc"), asBytes("abc")));
  CHECK_FALSE(constantTimeEqual(asBytes("abc"), asBytes("abd")));
  CHECK_FALSE(constantTimeEqual(asBytes("abc"), asBytes("ab")));
}

}  // namespace merit::wire
