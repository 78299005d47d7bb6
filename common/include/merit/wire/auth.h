// Canonical signing bytes and the two authenticators of the wire protocol: sr25519 or ECDSA
// signatures by hotkeys (signed mode) and keyed BLAKE2b MACs under a handshake-derived key (session mode).
//
// Thread-safety: free functions on values; no shared state. Signing with one key from several
// threads at once is safe (merit/crypto/any_key.h).
//
// What is signed is never the Cap'n Proto encoding but a canonical byte string with a domain tag
// (docs/PROTOCOL.md, "Canonical bytes"), so any implementation can verify and a signature for
// one message kind can never be replayed as another.
#pragma once

#include "merit/crypto/any_key.h"
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

// Canonical byte strings (docs/PROTOCOL.md gives the exact layouts). Hotkeys enter them tagged
// (tag ‖ key), so a key can never be read as one of the other scheme. `caller` and `responder`
// bind a response or handshake reply to both parties, although they are not sent with it; the
// handshake accept also binds the caller's ephemeral key, which the reply does not repeat.
Bytes canonicalRequest(const RequestHeader& header);
Bytes canonicalResponse(const Response& response, const Hotkey& caller, const Hotkey& responder);
Bytes canonicalSessionInit(const SessionInit& init);
Bytes canonicalSessionAccept(const SessionReply& reply, const Hotkey& caller, const Hotkey& responder,
                             const EphemeralKey& clientEphemeral);

// BLAKE2b-256 of a body, as carried in bodyHash.
crypto::Hash256 hashBody(ByteView body);

// Compares without a data-dependent early exit (for MACs).
bool constantTimeEqual(ByteView a, ByteView b);

// --- signed mode: failures are kUnauthorized with the reason ---------------------------------
//
// Each signature is made with the signer's own scheme (crypto::SignerRef::sign: ecdsa over
// BLAKE2b-256 of the canonical bytes, sr25519 over the bytes with context "substrate") and is
// checked with the scheme of the key it claims: a signature of the other scheme is unauthorized,
// whatever its bytes.

// Verifies a tagged signature over `canonical` by `signer` (`what` prefixes the error).
Result<void> verifySignature(const crypto::AnyPublicKey& signer, ByteView canonical,
                             const SignatureBytes& signature, std::string_view what);

// Sets request.auth to a signature by `caller` (whose public key must be request.header.caller).
void signRequest(Request& request, crypto::SignerRef caller);
// Verifies request.auth is a valid signature by request.header.caller (known key, no recovery).
Result<void> verifyRequestSignature(const Request& request);

void signResponse(Response& response, const Hotkey& caller, crypto::SignerRef responder);
Result<void> verifyResponseSignature(const Response& response, const Hotkey& caller,
                                     const crypto::AnyPublicKey& responder);

// --- session mode ------------------------------------------------------------------------------
//
// The handshake proves both hotkeys by signatures (either scheme, any mix) and agrees a key by an
// ephemeral X25519 exchange whose public halves are inside the signed bytes, so neither side's
// hotkey scheme matters for the key agreement and a recorded session's key is not recoverable
// from the hotkeys later (forward secrecy).

// A handshake's X25519 key pair: fresh for each handshake, the secret wiped when it is dropped.
struct EphemeralKeyPair {
  EphemeralKey publicKey{};
  crypto::SecretArray<32> secretKey;

  static EphemeralKeyPair generate();
  // The pair of a given 32-byte secret: for worked examples and tests only (a handshake's
  // secret must be fresh randomness).
  static EphemeralKeyPair fromSecret(ByteView secret32);
};

// Sets init.signature; init.caller must be the key of `caller`.
void signSessionInit(SessionInit& init, crypto::SignerRef caller);
Result<void> verifySessionInit(const SessionInit& init);

// Marks `reply` signed by the axon (`responder`) for the handshake with `caller`, whose ephemeral
// key was `clientEphemeral`.
void signSessionAccept(SessionReply& reply, const Hotkey& caller, const EphemeralKey& clientEphemeral,
                       crypto::SignerRef responder);
Result<void> verifySessionAccept(const SessionReply& reply, const Hotkey& caller,
                                 const EphemeralKey& clientEphemeral, const crypto::AnyPublicKey& responder);

// Everything one handshake binds its key to.
struct SessionTranscript {
  Hotkey caller;
  Hotkey target;
  EphemeralKey clientEphemeral{};
  EphemeralKey serverEphemeral{};
  HandshakeNonce clientNonce{};
  HandshakeNonce serverNonce{};
  SessionId sessionId{};
};

// The session key both sides derive: keyed BLAKE2b-256 with the X25519 shared secret of our
// ephemeral secret and their ephemeral public key as key, over tag ‖ caller ‖ target (tagged) ‖
// clientEphemeral ‖ serverEphemeral ‖ clientNonce ‖ serverNonce ‖ sessionId. An all-zero shared
// secret (their key is a low-order point) is kUnauthorized.
Result<SessionKey> deriveSessionKey(const crypto::SecretArray<32>& ourEphemeralSecret,
                                    const EphemeralKey& theirEphemeral, const SessionTranscript& transcript);

void macRequest(Request& request, const SessionKey& key, const SessionId& sessionId);
// Checks the MAC only; the caller checks that auth.sessionId names the session `key` belongs to.
Result<void> verifyRequestMac(const Request& request, const SessionKey& key);

void macResponse(Response& response, const Hotkey& caller, const Hotkey& responder, const SessionKey& key,
                 const SessionId& sessionId);
Result<void> verifyResponseMac(const Response& response, const Hotkey& caller, const Hotkey& responder,
                               const SessionKey& key);

}  // namespace merit::wire
