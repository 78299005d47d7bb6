// Every signing domain of meritnet, in one place (docs/WALLETS.md, "Signing domains";
// docs/PROTOCOL.md, "Canonical bytes").
//
// Thread-safety: constants.
//
// Every signature a meritnet key makes (ECDSA over BLAKE2b-256 of the preimage, or sr25519 over
// the preimage; any_key.h) is over a preimage that starts with exactly one of these domains, so a
// signature made for one purpose can never verify for another:
//
//   domain            preimage starts with                        made by
//   extrinsic         "meritnet/extrinsic/v2" (21 bytes, raw)     tx::signExtrinsic
//   wire request      0x13 "meritnet/v1/request"                  wire::signRequest
//   wire response     0x14 "meritnet/v1/response"                 wire::signResponse
//   session init      0x18 "meritnet/v1/session-init"             wire::signSessionInit
//   session accept    0x1a "meritnet/v1/session-accept"           wire::signSessionAccept
//   block header      "meritnet/block/v1" (17 bytes, raw)         the chain's block author
//   message           "<Bytes>" message "</Bytes>"                 crypto::signMessage (merit wallet sign)
//
// The first bytes tell the domains apart: 'm' (0x6d) for the raw tags, a length byte 0x13..0x1a for
// the wire tags, '<' (0x3c) for messages. A user-chosen message is always wrapped, so no message
// signature is ever an extrinsic, wire or handshake signature (which would otherwise be a way to
// trick a user into authorising a transfer by "signing a message"). `session-key` is not a
// signature domain: it tags the keyed hash that derives a session key.
//
// A new domain gets a new tag here, starting with "meritnet/", and a line in both docs; a new
// version of a layout gets a new tag (".../v2"), never a reuse.
#pragma once

#include <string_view>

namespace merit::crypto::domain {

inline constexpr std::string_view kExtrinsic = "meritnet/extrinsic/v2";
inline constexpr std::string_view kWireRequest = "meritnet/v1/request";
inline constexpr std::string_view kWireResponse = "meritnet/v1/response";
inline constexpr std::string_view kSessionInit = "meritnet/v1/session-init";
inline constexpr std::string_view kSessionAccept = "meritnet/v1/session-accept";
inline constexpr std::string_view kSessionKey = "meritnet/v1/session-key";  // key derivation, not signing
inline constexpr std::string_view kBlockHeader = "meritnet/block/v1";
// Message signing wraps the message as Substrate wallets do ("<Bytes>" ‖ message ‖ "</Bytes>").
inline constexpr std::string_view kMessagePrefix = "<Bytes>";
inline constexpr std::string_view kMessageSuffix = "</Bytes>";

// The tags the protocol signs under (for tests that check none can collide with a message).
inline constexpr std::string_view kProtocolTags[] = {kExtrinsic,   kWireRequest,   kWireResponse,
                                                     kSessionInit, kSessionAccept, kBlockHeader};

}  // namespace merit::crypto::domain
