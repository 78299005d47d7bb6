// The wire protocol's messages as plain C++ values (docs/PROTOCOL.md specifies every field).
//
// Thread-safety: values; no shared state.
//
// These types never hold Cap'n Proto readers: decoding (codec.h) copies everything out of the
// frame, so after decode nothing can throw and nothing points into peer-controlled buffers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "merit/crypto/hash.h"
#include "merit/util/bytes.h"

namespace merit::wire {

inline constexpr std::uint16_t kProtocolVersion = 1;

inline constexpr std::size_t kHotkeySize = 33;  // compressed secp256k1 public key
inline constexpr std::size_t kRequestIdSize = 16;
inline constexpr std::size_t kSessionIdSize = 16;
inline constexpr std::size_t kNonceSize = 32;  // handshake nonces
inline constexpr std::size_t kSignatureSize = 65;
inline constexpr std::size_t kMacSize = 32;
inline constexpr std::size_t kMaxModuleNameBytes = 64;
inline constexpr std::size_t kMaxMessageTextBytes = 1024;

using Hotkey = ByteArray<kHotkeySize>;
using RequestId = ByteArray<kRequestIdSize>;
using SessionId = ByteArray<kSessionIdSize>;
using HandshakeNonce = ByteArray<kNonceSize>;
using SignatureBytes = ByteArray<kSignatureSize>;
using Mac = ByteArray<kMacSize>;

// Outcome of a request. Values 0..9 travel on the wire (schema enum Status); kUnavailable and
// kInvalidResponse are produced only by the dendrite and are never sent.
enum class Status : std::uint8_t {
  kOk = 0,
  kBadRequest = 1,
  kUnauthorized = 2,
  kForbidden = 3,
  kNotFound = 4,
  kRateLimited = 5,
  kStale = 6,
  kOverloaded = 7,
  kTimeout = 8,
  kInternal = 9,
  kUnavailable = 10,      // dendrite only: never connected to the axon before the deadline
  kInvalidResponse = 11,  // dendrite only: the axon's reply failed decoding or authentication
};
inline constexpr std::uint8_t kMaxWireStatus = 9;

// Stable upper-case name ("OK", "BAD_REQUEST", ...).
std::string_view statusName(Status status);

// How a message proves its sender. kNone appears only on unsigned pre-authentication rejections.
struct Authenticator {
  enum class Kind : std::uint8_t { kNone, kSignature, kSessionMac };
  Kind kind = Kind::kNone;
  SignatureBytes signature{};  // kSignature
  SessionId sessionId{};       // kSessionMac
  Mac mac{};                   // kSessionMac

  friend bool operator==(const Authenticator&, const Authenticator&) = default;
};

struct RequestHeader {
  std::uint16_t protocolVersion = kProtocolVersion;
  std::uint16_t netuid = 0;
  std::string module;
  std::uint32_t moduleVersion = 0;
  RequestId requestId{};
  Hotkey caller{};
  Hotkey target{};
  std::int64_t timestampMs = 0;
  std::uint64_t nonce = 0;
  std::uint32_t timeoutMs = 0;
  crypto::Hash256 bodyHash{};

  friend bool operator==(const RequestHeader&, const RequestHeader&) = default;
};

struct Request {
  RequestHeader header;
  Bytes body;
  Authenticator auth;

  friend bool operator==(const Request&, const Request&) = default;
};

struct Response {
  RequestId requestId{};
  Status status = Status::kOk;
  std::string message;
  std::int64_t timestampMs = 0;
  crypto::Hash256 bodyHash{};
  Bytes body;
  Authenticator auth;

  friend bool operator==(const Response&, const Response&) = default;
};

struct SessionInit {
  std::uint16_t protocolVersion = kProtocolVersion;
  Hotkey caller{};
  Hotkey target{};
  std::int64_t timestampMs = 0;
  HandshakeNonce clientNonce{};
  SignatureBytes signature{};

  friend bool operator==(const SessionInit&, const SessionInit&) = default;
};

struct SessionReply {
  Status status = Status::kOk;
  std::string message;
  HandshakeNonce clientNonce{};
  HandshakeNonce serverNonce{};  // all zero on rejection
  SessionId sessionId{};         // all zero on rejection
  std::int64_t timestampMs = 0;
  bool isSigned = false;  // false on rejection (pre-authentication: not signed)
  SignatureBytes signature{};

  friend bool operator==(const SessionReply&, const SessionReply&) = default;
};

// One ZeroMQ frame's content.
using Message = std::variant<Request, Response, SessionInit, SessionReply>;

}  // namespace merit::wire
