// Private to merit_net: our own ZMTP 3.0 engine (greeting, NULL and CURVE mechanisms, framing),
// run over libzmq ZMQ_STREAM sockets (raw TCP), or over plain TCP by zmtp_tcp.h.
//
// Why not libzmq's ROUTER/DEALER/PUB: libzmq applies ZMQ_MAXMSGSIZE per frame and counts its
// high-water marks in complete messages, so the frames of an unfinished multi-frame message are
// buffered inside libzmq without any bound and are invisible to us until the last frame comes.
// One peer streaming frames marked "more" grows the process by hundreds of MiB a second. Over
// ZMQ_STREAM, libzmq hands us each TCP read (at most 8 KiB) as one complete message, so its own
// buffering per connection is bounded by RCVHWM; this engine then enforces frame, message and
// connection limits as bytes arrive and tells the caller to disconnect a peer that exceeds them.
//
// Peers are unchanged libzmq sockets: the wire format is ZMTP 3.0 (rfc.zeromq.org/spec/23) with
// the NULL mechanism or CurveZMQ (rfc.zeromq.org/spec/26), exactly what libzmq DEALER, ROUTER
// and SUB speak.
//
// Thread-safety: an Engine and a StreamServer each belong to one thread. The client side, our
// engine over plain TCP, is zmtp_tcp.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "merit/crypto/secret.h"
#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::net::zmtp {

// One message: its frames, in order.
using Message = std::vector<Bytes>;

// Limits on what one peer may make us hold. Checked when a frame's header arrives, before any
// of its body is buffered.
struct Limits {
  std::size_t maxFrameBytes = 32u << 20;    // one data frame (plaintext)
  std::size_t maxMessageFrames = 16;        // frames in one message
  std::size_t maxMessageBytes = 32u << 20;  // all frames of one message together
  std::size_t maxCommandBytes = 4096;       // a handshake or control command
};

// Called with the client's long-term CURVE public key once its INITIATE is verified; false
// refuses the handshake (ERROR, then close) before any message frame is accepted.
using CurveAuthorizer = std::function<bool(const ByteArray<32>& clientLongTermPublicKey)>;

struct CurveKeys {
  ByteArray<32> publicKey{};
  crypto::SecretArray<32> secretKey;
  ByteArray<32> serverKey{};  // client only: the server's long-term public key
};

// Keys for CURVE from a long-term secret key (the public key is derived from it).
std::shared_ptr<const CurveKeys> curveKeysFromSecret(ByteView secretKey,
                                                     std::optional<ByteArray<32>> serverKey);

enum class Role : std::uint8_t { kServer, kClient };

struct Options {
  Role role = Role::kServer;
  std::string socketType;              // ours: "ROUTER", "DEALER" or "PUB"
  std::vector<std::string> peerTypes;  // Socket-Type values we accept from the peer
  Limits limits;
  std::shared_ptr<const CurveKeys> curve;  // null: the NULL mechanism
  CurveAuthorizer authorizer;              // CURVE server only; empty admits every client
  // PUB: subscription messages (first byte 1 or 0) and SUBSCRIBE/CANCEL commands are delivered
  // as messages of one frame [1|0, topic...]; nothing else is accepted from the peer.
  bool publisher = false;
};

// One connection's protocol state. Pure: bytes in, bytes and messages out, no I/O.
class Engine {
 public:
  explicit Engine(std::shared_ptr<const Options> options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Our greeting; send it as soon as the connection is up.
  void start(Bytes& out);
  // Parses received bytes. Bytes to send (handshake, PONG, ERROR) are appended to `out`;
  // complete messages are passed to `onMessage`. An error means the peer broke the protocol or
  // a limit: send `out` (it may hold an ERROR command) and close; the engine takes no more input.
  Result<void> receive(ByteView in, Bytes& out, const std::function<void(Message&&)>& onMessage);
  // True once the handshake completed both ways.
  bool ready() const { return m_phase == Phase::kReady; }
  bool failed() const { return m_phase == Phase::kFailed; }
  // Failed after the handshake had completed (the peer broke a limit or the framing with its
  // messages), rather than during it (refused, wrong keys, not a ZMTP peer).
  bool failedAfterHandshake() const { return m_failedAfterHandshake; }
  // Appends the wire bytes of one message. Requires ready().
  void encode(std::span<const ByteView> frames, Bytes& out);
  // Bytes of a partial frame or message held for this peer now.
  std::size_t buffered() const { return m_body.size() + m_messageBytes; }
  // CURVE server: the client's verified long-term key.
  const std::optional<ByteArray<32>>& peerKey() const { return m_peerKey; }

 private:
  enum class Phase : std::uint8_t { kGreeting, kHandshake, kReady, kFailed };
  enum class Step : std::uint8_t { kHeaderFlags, kHeaderSize, kBody };
  struct Curve;

  Result<void> onGreeting(Bytes& out);
  Result<void> onFrame(Bytes& out, const std::function<void(Message&&)>& onMessage);
  Result<void> onHandshakeCommand(ByteView body, Bytes& out);
  Result<void> onDataFrame(Bytes&& frame, bool more, const std::function<void(Message&&)>& onMessage);
  Result<void> onControlCommand(ByteView body, Bytes& out, const std::function<void(Message&&)>& onMessage);
  Result<void> checkMetadata(ByteView metadata);
  Result<void> failWith(Bytes& out, std::string reason, bool sendError);
  void appendCommand(ByteView body, Bytes& out) const;
  void appendFrame(ByteView body, bool more, Bytes& out);
  // One CURVE MESSAGE box holding `body` with the inner flags byte (MORE, or COMMAND for a
  // command sent after the handshake); advances the send nonce.
  void appendSealed(ByteView body, std::uint8_t innerFlags, Bytes& out);
  Bytes metadata() const;

  const std::shared_ptr<const Options> m_options;
  Phase m_phase = Phase::kGreeting;
  bool m_failedAfterHandshake = false;
  Step m_step = Step::kHeaderFlags;
  std::array<std::byte, 64> m_greeting{};
  std::size_t m_greetingHave = 0;
  bool m_greetingSent = false;
  std::uint8_t m_flags = 0;
  std::array<std::byte, 8> m_sizeBytes{};
  std::size_t m_sizeHave = 0;
  std::size_t m_sizeNeed = 0;
  std::uint64_t m_frameSize = 0;
  Bytes m_body;  // the frame being received
  // The message being assembled.
  Message m_frames;
  std::size_t m_messageBytes = 0;
  std::unique_ptr<Curve> m_curve;
  std::optional<ByteArray<32>> m_peerKey;
};

// Identifies one connection of a StreamServer (libzmq's routing id for it) and its address.
struct PeerInfo {
  std::string id;
  std::string address;  // the peer's IP as text, "" if unknown
};

struct ServerConfig {
  std::shared_ptr<const Options> engine;
  std::size_t maxConnections = 1024;
  std::size_t maxConnectionsPerAddress = 64;
  // Partial messages held for all peers together; the peer that would pass it is disconnected.
  std::size_t maxBufferedBytes = 256u << 20;
  // Whole outgoing messages queued per peer inside libzmq (ZMQ_SNDHWM), and received chunks of
  // at most 8 KiB (ZMQ_RCVHWM): these bound libzmq's own buffers per connection.
  int sendQueueMessages = 1000;
  int receiveQueueChunks = 64;
  std::chrono::milliseconds handshakeTimeout{10'000};
};

struct ServerStats {
  std::size_t connections = 0;
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;       // over a connection limit
  std::uint64_t disconnected = 0;  // broke the protocol or a limit
  std::uint64_t sendDropped = 0;   // queue full or peer gone
};

// A ZMTP server (ROUTER- or PUB-like) over a libzmq ZMQ_STREAM socket.
class StreamServer {
 public:
  static Result<std::unique_ptr<StreamServer>> bind(zmq::context_t& context, const std::string& endpoint,
                                                    ServerConfig config);
  ~StreamServer();
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  const std::string& endpoint() const { return m_endpoint; }
  zmq::socket_t& socket() { return m_socket; }

  using MessageHandler = std::function<void(const PeerInfo& peer, Message&& message)>;
  // Reads at most `maxChunks` chunks already waiting and passes each complete message on.
  // Returns the number of chunks read (0: nothing was waiting).
  std::size_t receive(std::size_t maxChunks, const MessageHandler& onMessage);
  // Sends one message whole, or drops it (peer gone, handshake not done, queue full): false.
  bool send(const std::string& peerId, std::span<const ByteView> frames);
  // Peers whose handshake completed.
  std::vector<std::string> readyPeers() const;
  // Closes connections whose handshake is overdue and finishes delayed closes. Call regularly.
  void tick();
  void disconnect(const std::string& peerId);
  ServerStats stats() const;
  // Partial messages held for all peers now.
  std::size_t bufferedBytes() const;

 private:
  struct Peer;
  StreamServer(zmq::socket_t socket, ServerConfig config);
  bool sendRaw(const std::string& peerId, ByteView bytes);
  void closePeer(std::map<std::string, std::unique_ptr<Peer>>::iterator it, bool graceful);

  zmq::socket_t m_socket;
  const ServerConfig m_config;
  std::string m_endpoint;
  std::map<std::string, std::unique_ptr<Peer>> m_peers;
  std::map<std::string, std::size_t> m_perAddress;
  ServerStats m_stats;
};

}  // namespace merit::net::zmtp
