// The wire protocol's messages as plain C++ values (docs/PROTOCOL.md specifies every field).
//
// Thread-safety: values; no shared state.
//
// These types never hold Cap'n Proto readers: decoding (codec.h) copies everything out of the
// frame, so after decode nothing can throw and nothing points into peer-controlled buffers.
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include "merit/crypto/any_key.h"
#include "merit/crypto/hash.h"
#include "merit/util/bytes.h"

namespace merit::wire {

// Version 2: hotkeys and signatures travel tagged with their scheme (sr25519 or ecdsa), and the
// session handshake agrees its key by an ephemeral X25519 exchange. Version 1 (untagged
// secp256k1 keys, ECDH of the hotkeys) is refused with a message naming both versions.
inline constexpr std::uint16_t kProtocolVersion = 2;

inline constexpr std::size_t kMinHotkeySize = 1 + crypto::sr25519::PublicKey::kSize;  // 33, tagged sr25519
inline constexpr std::size_t kMaxHotkeySize = crypto::kMaxTaggedKeySize;              // 34, tagged ecdsa
inline constexpr std::size_t kRequestIdSize = 16;
inline constexpr std::size_t kSessionIdSize = 16;
inline constexpr std::size_t kNonceSize = 32;      // handshake nonces
inline constexpr std::size_t kEphemeralSize = 32;  // X25519 public keys of the handshake
inline constexpr std::size_t kMaxSignatureSize = crypto::kMaxTaggedSignatureSize;  // 66, tagged ecdsa
inline constexpr std::size_t kMacSize = 32;
inline constexpr std::size_t kMaxModuleNameBytes = 64;
inline constexpr std::size_t kMaxMessageTextBytes = 1024;

// The tag byte of a key or signature as a readable scheme name for error messages: "sr25519",
// "ecdsa", "ed25519" (Substrate's tag 0, which meritnet does not accept) or "unknown".
std::string_view tagName(std::uint8_t tag);

// A hotkey as it travels: the scheme's tag byte (1 sr25519, 2 ecdsa) followed by the scheme's
// public key bytes (32 or 33). A value built by fromTagged() has a known tag and the tag's
// length, nothing more: the point itself is parsed by toPublicKey(), when a signature is checked
// against it, so decoding a message stays cheap. A default-constructed Hotkey is empty (no
// scheme); it is never valid on the wire.
class Hotkey {
 public:
  Hotkey() = default;
  Hotkey(const crypto::AnyPublicKey& key);        // NOLINT: implicit on purpose
  Hotkey(const crypto::PublicKey& key);           // NOLINT: implicit on purpose
  Hotkey(const crypto::sr25519::PublicKey& key);  // NOLINT: implicit on purpose

  // Checks the tag and that the length is the tag's; kInvalidArgument naming the scheme otherwise.
  static Result<Hotkey> fromTagged(ByteView tagged);

  bool empty() const { return m_size == 0; }
  // The scheme; must not be called on an empty Hotkey.
  crypto::KeyScheme scheme() const;
  // tag ‖ key bytes, as on the wire and in canonical bytes (empty for an empty Hotkey).
  ByteView tagged() const { return ByteView(m_bytes).first(m_size); }
  // The key bytes without the tag.
  ByteView keyBytes() const { return m_size == 0 ? ByteView() : tagged().subspan(1); }
  std::string toHex() const { return merit::toHex(tagged()); }
  // Parses the point; kInvalidArgument if it is not a valid key of its scheme.
  Result<crypto::AnyPublicKey> toPublicKey() const;
  // The chain account id, by the scheme's rule (crypto::AnyPublicKey::accountId): sr25519 the
  // key itself, ecdsa BLAKE2b-256 of the compressed key. Computed from the bytes, without
  // parsing the point; must not be called on an empty Hotkey.
  crypto::AccountId accountId() const;

  friend bool operator==(const Hotkey& a, const Hotkey& b) {
    return a.m_size == b.m_size && a.m_bytes == b.m_bytes;
  }
  friend auto operator<=>(const Hotkey& a, const Hotkey& b) {
    return std::lexicographical_compare_three_way(a.m_bytes.begin(), a.m_bytes.begin() + a.m_size,
                                                  b.m_bytes.begin(), b.m_bytes.begin() + b.m_size);
  }

 private:
  std::array<std::byte, kMaxHotkeySize> m_bytes{};  // unused tail stays zero
  std::uint8_t m_size = 0;
};

// A signature as it travels: tag byte ‖ the scheme's signature (64 bytes sr25519, 65 ecdsa).
// Like Hotkey, fromTagged() checks the tag and length only.
class SignatureBytes {
 public:
  SignatureBytes() = default;
  SignatureBytes(const crypto::AnySignature& signature);  // NOLINT: implicit on purpose

  static Result<SignatureBytes> fromTagged(ByteView tagged);

  bool empty() const { return m_size == 0; }
  crypto::KeyScheme scheme() const;
  ByteView tagged() const { return ByteView(m_bytes).first(m_size); }
  crypto::AnySignature toSignature() const;

  friend bool operator==(const SignatureBytes& a, const SignatureBytes& b) {
    return a.m_size == b.m_size && a.m_bytes == b.m_bytes;
  }

 private:
  std::array<std::byte, kMaxSignatureSize> m_bytes{};
  std::uint8_t m_size = 0;
};

using RequestId = ByteArray<kRequestIdSize>;
using SessionId = ByteArray<kSessionIdSize>;
using HandshakeNonce = ByteArray<kNonceSize>;
using EphemeralKey = ByteArray<kEphemeralSize>;  // an X25519 public key
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
  EphemeralKey clientEphemeral{};  // the caller's X25519 public key for this handshake only
  SignatureBytes signature{};

  friend bool operator==(const SessionInit&, const SessionInit&) = default;
};

struct SessionReply {
  Status status = Status::kOk;
  std::string message;
  HandshakeNonce clientNonce{};
  HandshakeNonce serverNonce{};    // all zero on rejection
  SessionId sessionId{};           // all zero on rejection
  EphemeralKey serverEphemeral{};  // the axon's X25519 public key (all zero on rejection)
  std::int64_t timestampMs = 0;
  bool isSigned = false;  // false on rejection (pre-authentication: not signed)
  SignatureBytes signature{};

  friend bool operator==(const SessionReply&, const SessionReply&) = default;
};

// One ZeroMQ frame's content.
using Message = std::variant<Request, Response, SessionInit, SessionReply>;

}  // namespace merit::wire

// Hash of a Hotkey (its tagged bytes), for unordered containers keyed by caller.
template <>
struct std::hash<merit::wire::Hotkey> {
  std::size_t operator()(const merit::wire::Hotkey& key) const noexcept;
};
