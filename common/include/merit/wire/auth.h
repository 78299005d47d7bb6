// Canonical signing bytes and the two authenticators of the wire protocol: ECDSA signatures by
// hotkeys (signed mode) and keyed BLAKE2b MACs under a handshake-derived key (session mode).
//
// Thread-safety: free functions on values; no shared state. Signing with one PrivateKey from
// several threads at once is safe (merit/crypto/keys.h).
//
// What is signed is never the Cap'n Proto encoding but a canonical byte string with a domain tag
// (docs/PROTOCOL.md, "Canonical bytes"), so any implementation can verify and a signature for
// one message kind can never be replayed as another.
#pragma once

#include "merit/crypto/domains.h"
#include "merit/crypto/keys.h"
#include "merit/crypto/secret.h"
#include "merit/util/result.h"
#include "merit/wire/envelope.h"

namespace merit::wire {

using SessionKey = crypto::SecretArray<32>;

// Domain tags (ASCII; each canonical string starts with one length byte and the tag). Defined
// with every other signing domain in merit/crypto/domains.h.
inline constexpr std::string_view kRequestTag = crypto::domain::kWireRequest;
inline constexpr std::string_view kResponseTag = crypto::domain::kWireResponse;
inline constexpr std::string_view kSessionInitTag = crypto::domain::kSessionInit;
inline constexpr std::string_view kSessionAcceptTag = crypto::domain::kSessionAccept;
inline constexpr std::string_view kSessionKeyTag = crypto::domain::kSessionKey;

// Canonical byte strings (docs/PROTOCOL.md gives the exact layouts). `caller` and `responder`
// bind a response or handshake reply to both parties, although they are not sent with it.
Bytes canonicalRequest(const RequestHeader& header);
Bytes canonicalResponse(const Response& response, const Hotkey& caller, const Hotkey& responder);
Bytes canonicalSessionInit(const SessionInit& init);
Bytes canonicalSessionAccept(const SessionReply& reply, const Hotkey& caller, const Hotkey& responder);

// BLAKE2b-256 of a body, as carried in bodyHash.
crypto::Hash256 hashBody(ByteView body);

// Compares without a data-dependent early exit (for MACs).
bool constantTimeEqual(ByteView a, ByteView b);

// --- signed mode: failures are kUnauthorized with the reason ---------------------------------

// Sets request.auth to a signature by `caller` (whose public key must be request.header.caller).
void signRequest(Request& request, const crypto::PrivateKey& caller);
// Verifies request.auth is a valid signature by request.header.caller (known key, no recovery).
Result<void> verifyRequestSignature(const Request& request);

void signResponse(Response& response, const Hotkey& caller, const crypto::PrivateKey& responder);
Result<void> verifyResponseSignature(const Response& response, const Hotkey& caller,
                                     const crypto::PublicKey& responder);

// --- session mode ------------------------------------------------------------------------------

void signSessionInit(SessionInit& init, const crypto::PrivateKey& caller);
Result<void> verifySessionInit(const SessionInit& init);

// Marks `reply` signed by the axon (`responder`) for the handshake with `caller`.
void signSessionAccept(SessionReply& reply, const Hotkey& caller, const crypto::PrivateKey& responder);
Result<void> verifySessionAccept(const SessionReply& reply, const Hotkey& caller,
                                 const crypto::PublicKey& responder);

// The session key both sides derive: keyed BLAKE2b-256 with the secp256k1 ECDH secret of the two
// hotkeys as key, over tag ‖ caller ‖ target ‖ clientNonce ‖ serverNonce ‖ sessionId. `ours` is
// either side's hotkey and `theirs` the other side's public key.
SessionKey deriveSessionKey(const crypto::PrivateKey& ours, const crypto::PublicKey& theirs,
                            const Hotkey& caller, const Hotkey& target, const HandshakeNonce& clientNonce,
                            const HandshakeNonce& serverNonce, const SessionId& sessionId);

void macRequest(Request& request, const SessionKey& key, const SessionId& sessionId);
// Checks the MAC only; the caller checks that auth.sessionId names the session `key` belongs to.
Result<void> verifyRequestMac(const Request& request, const SessionKey& key);

void macResponse(Response& response, const Hotkey& caller, const Hotkey& responder, const SessionKey& key,
                 const SessionId& sessionId);
Result<void> verifyResponseMac(const Response& response, const Hotkey& caller, const Hotkey& responder,
                               const SessionKey& key);

}  // namespace merit::wire
