#include "merit/wire/auth.h"

#include <algorithm>

#include <sodium.h>

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

void appendKey(Bytes& out, const Hotkey& key) {
  MERIT_ASSERT(!key.empty());
  append(out, key.tagged());
}

Result<void> verifyWith(const Hotkey& signer, ByteView canonical, const SignatureBytes& signature,
                        std::string_view what) {
  auto key = signer.toPublicKey();
  if (!key) return fail(ErrorCode::kUnauthorized, std::string(what) + ": signer is not a valid public key");
  return verifySignature(*key, canonical, signature, what);
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
  out.reserve(1 + kRequestTag.size() + 2 + 2 + 1 + h.module.size() + 4 + 16 + 34 + 34 + 8 + 8 + 4 + 32);
  appendTag(out, kRequestTag);
  appendU16Le(out, h.protocolVersion);
  appendU16Le(out, h.netuid);
  MERIT_ASSERT(h.module.size() <= kMaxModuleNameBytes, h.module.size());
  out.push_back(static_cast<std::byte>(h.module.size()));
  append(out, asBytes(h.module));
  appendU32Le(out, h.moduleVersion);
  append(out, h.requestId);
  appendKey(out, h.caller);
  appendKey(out, h.target);
  appendI64(out, h.timestampMs);
  appendU64Le(out, h.nonce);
  appendU32Le(out, h.timeoutMs);
  append(out, h.bodyHash);
  return out;
}

Bytes canonicalResponse(const Response& r, const Hotkey& caller, const Hotkey& responder) {
  Bytes out;
  out.reserve(1 + kResponseTag.size() + 16 + 34 + 34 + 1 + 2 + r.message.size() + 8 + 32);
  appendTag(out, kResponseTag);
  append(out, r.requestId);
  appendKey(out, caller);
  appendKey(out, responder);
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
  appendKey(out, init.caller);
  appendKey(out, init.target);
  appendI64(out, init.timestampMs);
  append(out, init.clientNonce);
  append(out, init.clientEphemeral);
  return out;
}

Bytes canonicalSessionAccept(const SessionReply& reply, const Hotkey& caller, const Hotkey& responder,
                             const EphemeralKey& clientEphemeral) {
  Bytes out;
  appendTag(out, kSessionAcceptTag);
  appendKey(out, caller);
  appendKey(out, responder);
  append(out, reply.clientNonce);
  append(out, reply.serverNonce);
  append(out, reply.sessionId);
  appendI64(out, reply.timestampMs);
  append(out, clientEphemeral);
  append(out, reply.serverEphemeral);
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

Result<void> verifySignature(const crypto::AnyPublicKey& signer, ByteView canonical,
                             const SignatureBytes& signature, std::string_view what) {
  if (signature.empty()) return fail(ErrorCode::kUnauthorized, std::string(what) + ": no signature");
  if (signature.scheme() != signer.scheme()) {
    return fail(ErrorCode::kUnauthorized,
                std::string(what) + ": an " + std::string(crypto::schemeName(signature.scheme())) +
                    " signature for an " + std::string(crypto::schemeName(signer.scheme())) + " hotkey");
  }
  const crypto::AnySignature sig = signature.toSignature();
  Result<void> ok;
  if (const auto* key = signer.ecdsa()) {
    // The signer's key is known: plain verification, no recovery (the fast path).
    ok = crypto::verifyDigestKnownKey(*key, crypto::blake2b256(canonical), *sig.ecdsa());
  } else {
    ok = crypto::sr25519::verify(*signer.sr25519(), canonical, *sig.sr25519());
  }
  if (!ok) return fail(ok.error().withContext(what));
  return {};
}

void signRequest(Request& request, crypto::SignerRef caller) {
  MERIT_ASSERT(Hotkey(caller.publicKey()) == request.header.caller);
  request.auth = {};
  request.auth.kind = Authenticator::Kind::kSignature;
  request.auth.signature = caller.sign(canonicalRequest(request.header));
}

Result<void> verifyRequestSignature(const Request& request) {
  if (request.auth.kind != Authenticator::Kind::kSignature) {
    return fail(ErrorCode::kUnauthorized, "request is not signed");
  }
  return verifyWith(request.header.caller, canonicalRequest(request.header), request.auth.signature,
                    "request signature");
}

void signResponse(Response& response, const Hotkey& caller, crypto::SignerRef responder) {
  response.auth = {};
  response.auth.kind = Authenticator::Kind::kSignature;
  response.auth.signature =
      responder.sign(canonicalResponse(response, caller, Hotkey(responder.publicKey())));
}

Result<void> verifyResponseSignature(const Response& response, const Hotkey& caller,
                                     const crypto::AnyPublicKey& responder) {
  if (response.auth.kind != Authenticator::Kind::kSignature) {
    return fail(ErrorCode::kUnauthorized, "response is not signed");
  }
  return verifySignature(responder, canonicalResponse(response, caller, Hotkey(responder)),
                         response.auth.signature, "response signature");
}

void signSessionInit(SessionInit& init, crypto::SignerRef caller) {
  MERIT_ASSERT(Hotkey(caller.publicKey()) == init.caller);
  init.signature = caller.sign(canonicalSessionInit(init));
}

Result<void> verifySessionInit(const SessionInit& init) {
  return verifyWith(init.caller, canonicalSessionInit(init), init.signature, "session init signature");
}

void signSessionAccept(SessionReply& reply, const Hotkey& caller, const EphemeralKey& clientEphemeral,
                       crypto::SignerRef responder) {
  reply.isSigned = true;
  reply.signature =
      responder.sign(canonicalSessionAccept(reply, caller, Hotkey(responder.publicKey()), clientEphemeral));
}

Result<void> verifySessionAccept(const SessionReply& reply, const Hotkey& caller,
                                 const EphemeralKey& clientEphemeral, const crypto::AnyPublicKey& responder) {
  if (!reply.isSigned) return fail(ErrorCode::kUnauthorized, "session reply is not signed");
  return verifySignature(responder, canonicalSessionAccept(reply, caller, Hotkey(responder), clientEphemeral),
                         reply.signature, "session accept signature");
}

EphemeralKeyPair EphemeralKeyPair::generate() {
  MERIT_ASSERT(sodium_init() >= 0);
  crypto::SecretArray<32> secret;
  randombytes_buf(secret.mutableBytes().data(), secret.size());
  return fromSecret(secret.reveal());
}

EphemeralKeyPair EphemeralKeyPair::fromSecret(ByteView secret32) {
  MERIT_ASSERT(secret32.size() == 32, secret32.size());
  EphemeralKeyPair pair;
  pair.secretKey = crypto::SecretArray<32>(secret32);
  // libsodium clamps the scalar inside crypto_scalarmult; the base-point multiple of a clamped
  // scalar is never zero, but the result is checked as the contract says.
  MERIT_ASSERT(crypto_scalarmult_curve25519_base(u8(MutableByteView(pair.publicKey)),
                                                 u8(pair.secretKey.reveal())) == 0);
  return pair;
}

Result<SessionKey> deriveSessionKey(const crypto::SecretArray<32>& ourEphemeralSecret,
                                    const EphemeralKey& theirEphemeral, const SessionTranscript& t) {
  crypto::SecretArray<32> shared;
  // libsodium returns -1 when the result is all zero: their key is a low-order point, and the
  // "shared" secret would be known to anyone.
  if (crypto_scalarmult_curve25519(u8(shared.mutableBytes()), u8(ourEphemeralSecret.reveal()),
                                   u8(ByteView(theirEphemeral))) != 0) {
    return fail(ErrorCode::kUnauthorized, "session handshake: the peer's ephemeral key is a low-order point");
  }
  crypto::Blake2b h(32, shared.reveal());
  Bytes tag;
  appendTag(tag, kSessionKeyTag);
  h.update(tag)
      .update(t.caller.tagged())
      .update(t.target.tagged())
      .update(t.clientEphemeral)
      .update(t.serverEphemeral)
      .update(t.clientNonce)
      .update(t.serverNonce)
      .update(t.sessionId);
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
