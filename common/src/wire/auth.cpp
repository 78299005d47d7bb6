#include "merit/wire/auth.h"

#include <algorithm>

#include "merit/util/assert.h"

namespace merit::wire {

namespace {

void appendTag(Bytes& out, std::string_view tag) {
  out.push_back(static_cast<std::byte>(tag.size()));
  append(out, asBytes(tag));
}

void appendI64(Bytes& out, std::int64_t v) {
  appendU64Le(out, static_cast<std::uint64_t>(v));
}

crypto::Signature toSignature(const SignatureBytes& bytes) {
  return crypto::Signature(bytes);
}

Result<void> verifyWith(const Hotkey& signer, ByteView canonical, const SignatureBytes& signature,
                        std::string_view what) {
  auto key = crypto::PublicKey::fromBytes(signer);
  if (!key) return fail(ErrorCode::kUnauthorized, std::string(what) + ": signer is not a valid public key");
  auto ok = crypto::verifyDigestKnownKey(*key, crypto::blake2b256(canonical), toSignature(signature));
  if (!ok) return fail(ok.error().withContext(what));
  return {};
}

}  // namespace

std::string_view statusName(Status status) {
  switch (status) {
    case Status::kOk: return "OK";
    case Status::kBadRequest: return "BAD_REQUEST";
    case Status::kUnauthorized: return "UNAUTHORIZED";
    case Status::kForbidden: return "FORBIDDEN";
    case Status::kNotFound: return "NOT_FOUND";
    case Status::kRateLimited: return "RATE_LIMITED";
    case Status::kStale: return "STALE";
    case Status::kOverloaded: return "OVERLOADED";
    case Status::kTimeout: return "TIMEOUT";
    case Status::kInternal: return "INTERNAL";
    case Status::kUnavailable: return "UNAVAILABLE";
    case Status::kInvalidResponse: return "INVALID_RESPONSE";
  }
  return "UNKNOWN";
}

Bytes canonicalRequest(const RequestHeader& h) {
  Bytes out;
  out.reserve(1 + kRequestTag.size() + 2 + 2 + 1 + h.module.size() + 4 + 16 + 33 + 33 + 8 + 8 + 4 + 32);
  appendTag(out, kRequestTag);
  appendU16Le(out, h.protocolVersion);
  appendU16Le(out, h.netuid);
  MERIT_ASSERT(h.module.size() <= kMaxModuleNameBytes, h.module.size());
  out.push_back(static_cast<std::byte>(h.module.size()));
  append(out, asBytes(h.module));
  appendU32Le(out, h.moduleVersion);
  append(out, h.requestId);
  append(out, h.caller);
  append(out, h.target);
  appendI64(out, h.timestampMs);
  appendU64Le(out, h.nonce);
  appendU32Le(out, h.timeoutMs);
  append(out, h.bodyHash);
  return out;
}

Bytes canonicalResponse(const Response& r, const Hotkey& caller, const Hotkey& responder) {
  Bytes out;
  out.reserve(1 + kResponseTag.size() + 16 + 33 + 33 + 1 + 2 + r.message.size() + 8 + 32);
  appendTag(out, kResponseTag);
  append(out, r.requestId);
  append(out, caller);
  append(out, responder);
  out.push_back(static_cast<std::byte>(r.status));
  MERIT_ASSERT(r.message.size() <= kMaxMessageTextBytes, r.message.size());
  appendU16Le(out, static_cast<std::uint16_t>(r.message.size()));
  append(out, asBytes(r.message));
  appendI64(out, r.timestampMs);
  append(out, r.bodyHash);
  return out;
}

Bytes canonicalSessionInit(const SessionInit& init) {
  Bytes out;
  appendTag(out, kSessionInitTag);
  appendU16Le(out, init.protocolVersion);
  append(out, init.caller);
  append(out, init.target);
  appendI64(out, init.timestampMs);
  append(out, init.clientNonce);
  return out;
}

Bytes canonicalSessionAccept(const SessionReply& reply, const Hotkey& caller, const Hotkey& responder) {
  Bytes out;
  appendTag(out, kSessionAcceptTag);
  append(out, caller);
  append(out, responder);
  append(out, reply.clientNonce);
  append(out, reply.serverNonce);
  append(out, reply.sessionId);
  appendI64(out, reply.timestampMs);
  return out;
}

crypto::Hash256 hashBody(ByteView body) {
  return crypto::blake2b256(body);
}

bool constantTimeEqual(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= std::to_integer<unsigned char>(a[i] ^ b[i]);
  // Reading through a volatile keeps the compiler from turning the loop into an early exit.
  volatile unsigned char result = diff;
  return result == 0;
}

void signRequest(Request& request, const crypto::PrivateKey& caller) {
  MERIT_ASSERT(caller.publicKey().bytes() == request.header.caller);
  request.auth = {};
  request.auth.kind = Authenticator::Kind::kSignature;
  request.auth.signature = caller.sign(canonicalRequest(request.header)).bytes();
}

Result<void> verifyRequestSignature(const Request& request) {
  if (request.auth.kind != Authenticator::Kind::kSignature) {
    return fail(ErrorCode::kUnauthorized, "request is not signed");
  }
  return verifyWith(request.header.caller, canonicalRequest(request.header), request.auth.signature,
                    "request signature");
}

void signResponse(Response& response, const Hotkey& caller, const crypto::PrivateKey& responder) {
  response.auth = {};
  response.auth.kind = Authenticator::Kind::kSignature;
  response.auth.signature =
      responder.sign(canonicalResponse(response, caller, responder.publicKey().bytes())).bytes();
}

Result<void> verifyResponseSignature(const Response& response, const Hotkey& caller,
                                     const crypto::PublicKey& responder) {
  if (response.auth.kind != Authenticator::Kind::kSignature) {
    return fail(ErrorCode::kUnauthorized, "response is not signed");
  }
  auto ok = crypto::verifyDigestKnownKey(
      responder, crypto::blake2b256(canonicalResponse(response, caller, responder.bytes())),
      toSignature(response.auth.signature));
  if (!ok) return fail(ok.error().withContext("response signature"));
  return {};
}

void signSessionInit(SessionInit& init, const crypto::PrivateKey& caller) {
  MERIT_ASSERT(caller.publicKey().bytes() == init.caller);
  init.signature = caller.sign(canonicalSessionInit(init)).bytes();
}

Result<void> verifySessionInit(const SessionInit& init) {
  return verifyWith(init.caller, canonicalSessionInit(init), init.signature, "session init signature");
}

void signSessionAccept(SessionReply& reply, const Hotkey& caller, const crypto::PrivateKey& responder) {
  reply.isSigned = true;
  reply.signature =
      responder.sign(canonicalSessionAccept(reply, caller, responder.publicKey().bytes())).bytes();
}

Result<void> verifySessionAccept(const SessionReply& reply, const Hotkey& caller,
                                 const crypto::PublicKey& responder) {
  if (!reply.isSigned) return fail(ErrorCode::kUnauthorized, "session reply is not signed");
  auto ok = crypto::verifyDigestKnownKey(
      responder, crypto::blake2b256(canonicalSessionAccept(reply, caller, responder.bytes())),
      toSignature(reply.signature));
  if (!ok) return fail(ok.error().withContext("session accept signature"));
  return {};
}

SessionKey deriveSessionKey(const crypto::PrivateKey& ours, const crypto::PublicKey& theirs,
                            const Hotkey& caller, const Hotkey& target, const HandshakeNonce& clientNonce,
                            const HandshakeNonce& serverNonce, const SessionId& sessionId) {
  crypto::SecretArray<32> shared = crypto::ecdh(ours, theirs);
  crypto::Blake2b h(32, shared.reveal());
  Bytes tag;
  appendTag(tag, kSessionKeyTag);
  h.update(tag).update(caller).update(target).update(clientNonce).update(serverNonce).update(sessionId);
  SessionKey key;
  h.finish(key.mutableBytes());
  return key;
}

void macRequest(Request& request, const SessionKey& key, const SessionId& sessionId) {
  request.auth = {};
  request.auth.kind = Authenticator::Kind::kSessionMac;
  request.auth.sessionId = sessionId;
  request.auth.mac = crypto::blake2b256Keyed(key.reveal(), canonicalRequest(request.header));
}

Result<void> verifyRequestMac(const Request& request, const SessionKey& key) {
  if (request.auth.kind != Authenticator::Kind::kSessionMac) {
    return fail(ErrorCode::kUnauthorized, "request has no session MAC");
  }
  const Mac expected = crypto::blake2b256Keyed(key.reveal(), canonicalRequest(request.header));
  if (!constantTimeEqual(expected, request.auth.mac)) {
    return fail(ErrorCode::kUnauthorized, "request MAC does not match");
  }
  return {};
}

void macResponse(Response& response, const Hotkey& caller, const Hotkey& responder, const SessionKey& key,
                 const SessionId& sessionId) {
  response.auth = {};
  response.auth.kind = Authenticator::Kind::kSessionMac;
  response.auth.sessionId = sessionId;
  response.auth.mac = crypto::blake2b256Keyed(key.reveal(), canonicalResponse(response, caller, responder));
}

Result<void> verifyResponseMac(const Response& response, const Hotkey& caller, const Hotkey& responder,
                               const SessionKey& key) {
  if (response.auth.kind != Authenticator::Kind::kSessionMac) {
    return fail(ErrorCode::kUnauthorized, "response has no session MAC");
  }
  const Mac expected = crypto::blake2b256Keyed(key.reveal(), canonicalResponse(response, caller, responder));
  if (!constantTimeEqual(expected, response.auth.mac)) {
    return fail(ErrorCode::kUnauthorized, "response MAC does not match");
  }
  return {};
}

}  // namespace merit::wire
