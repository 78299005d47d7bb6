#include "zmtp.h"

#include <algorithm>
#include <cstring>

#include <sodium.h>

#include "merit/util/assert.h"
#include "merit/util/log.h"

namespace merit::net::zmtp {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kGreetingSize = 64;
constexpr std::uint8_t kFlagMore = 0x01;
constexpr std::uint8_t kFlagLong = 0x02;
constexpr std::uint8_t kFlagCommand = 0x04;
constexpr std::uint8_t kFlagsReserved = 0xF8;
// CURVE MESSAGE: "\x07MESSAGE" (8) + short nonce (8) + MAC (16) + flags (1) + payload.
constexpr std::size_t kCurveMessageHeader = 16;
constexpr std::size_t kCurveOverhead = kCurveMessageHeader + crypto_box_MACBYTES + 1;
constexpr std::size_t kMaxChunkReserve = 1u << 20;  // grow larger frames as their bytes arrive
// A graceful close (after an ERROR command) waits this long for libzmq to write the ERROR.
constexpr auto kGracefulClose = std::chrono::milliseconds(200);

const std::byte* bp(const char* s) {
  return reinterpret_cast<const std::byte*>(s);
}

void append(Bytes& out, ByteView b) {
  out.insert(out.end(), b.begin(), b.end());
}
void append(Bytes& out, std::string_view s) {
  append(out, ByteView(bp(s.data()), s.size()));
}
void appendU64(Bytes& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(std::byte((v >> (8 * i)) & 0xff));
}
void appendU32(Bytes& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(std::byte((v >> (8 * i)) & 0xff));
}
std::uint64_t readU64(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}
std::uint32_t readU32(const std::byte* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(p[i]);
  return v;
}
unsigned char* uc(std::byte* p) {
  return reinterpret_cast<unsigned char*>(p);
}
const unsigned char* uc(const std::byte* p) {
  return reinterpret_cast<const unsigned char*>(p);
}

// True if `body` is the command named `name` (its length byte and name).
bool isCommand(ByteView body, std::string_view name) {
  return body.size() >= 1 + name.size() && std::to_integer<std::size_t>(body[0]) == name.size() &&
         std::memcmp(body.data() + 1, name.data(), name.size()) == 0;
}

// A 24-byte nonce: a 16-byte text prefix and an 8-byte big-endian counter, or an 8-byte prefix
// and 16 bytes (long nonces).
std::array<unsigned char, crypto_box_NONCEBYTES> shortNonce(const char (&prefix)[17], std::uint64_t n) {
  std::array<unsigned char, crypto_box_NONCEBYTES> out{};
  std::memcpy(out.data(), prefix, 16);
  for (int i = 0; i < 8; ++i) out[16 + i] = static_cast<unsigned char>((n >> (8 * (7 - i))) & 0xff);
  return out;
}
std::array<unsigned char, crypto_box_NONCEBYTES> longNonce(const char (&prefix)[9], const std::byte* tail16) {
  std::array<unsigned char, crypto_box_NONCEBYTES> out{};
  std::memcpy(out.data(), prefix, 8);
  std::memcpy(out.data() + 8, tail16, 16);
  return out;
}

}  // namespace

// CurveZMQ state of one connection. Secrets are wiped as soon as they are no longer needed and
// on destruction (SecretArray).
struct Engine::Curve {
  enum class Expect : std::uint8_t { kHello, kWelcome, kInitiate, kReady, kDone };
  Expect expect = Expect::kHello;
  ByteArray<32> transientPublic{};                            // our C' or S'
  crypto::SecretArray<32> transientSecret;                    // our c' or s'
  ByteArray<32> peerTransient{};                              // their C' or S'
  crypto::SecretArray<32> cookieKey;                          // server: per-connection cookie key
  crypto::SecretArray<crypto_box_BEFORENMBYTES> precomputed;  // C'/S' shared key
  ByteArray<96> cookie{};                                     // client: the server's cookie
  std::uint64_t nonce = 1;                                    // our next short nonce
  std::uint64_t peerNonce = 0;                                // highest short nonce seen from the peer

  void newTransient() {
    MERIT_ASSERT(crypto_box_keypair(uc(transientPublic.data()), uc(transientSecret.mutableBytes().data())) ==
                 0);
  }
  // False for a peer key libsodium refuses (a low-order point).
  [[nodiscard]] bool precompute() {
    return crypto_box_beforenm(uc(precomputed.mutableBytes().data()), uc(peerTransient.data()),
                               uc(transientSecret.reveal().data())) == 0;
  }
};

std::shared_ptr<const CurveKeys> curveKeysFromSecret(ByteView secretKey,
                                                     std::optional<ByteArray<32>> serverKey) {
  MERIT_ASSERT(sodium_init() >= 0);
  MERIT_ASSERT(secretKey.size() == 32, secretKey.size());
  auto keys = std::make_shared<CurveKeys>();
  keys->secretKey = crypto::SecretArray<32>(secretKey);
  MERIT_ASSERT(crypto_scalarmult_base(uc(keys->publicKey.data()), uc(keys->secretKey.reveal().data())) == 0);
  if (serverKey) keys->serverKey = *serverKey;
  return keys;
}

Engine::Engine(std::shared_ptr<const Options> options) : m_options(std::move(options)) {
  MERIT_ASSERT(m_options != nullptr);
  if (m_options->curve) {
    MERIT_ASSERT(sodium_init() >= 0);
    m_curve = std::make_unique<Curve>();
    m_curve->expect = m_options->role == Role::kServer ? Curve::Expect::kHello : Curve::Expect::kWelcome;
  }
}

Engine::~Engine() = default;

void Engine::start(Bytes& out) {
  std::array<std::byte, kGreetingSize> g{};
  g[0] = std::byte{0xff};
  g[9] = std::byte{0x7f};
  g[10] = std::byte{3};
  g[11] = std::byte{0};
  const std::string_view mech = m_curve ? "CURVE" : "NULL";
  std::memcpy(g.data() + 12, mech.data(), mech.size());
  g[32] = std::byte{m_curve && m_options->role == Role::kServer ? std::uint8_t{1} : std::uint8_t{0}};
  append(out, g);
  m_greetingSent = true;
}

Result<void> Engine::failWith(Bytes& out, std::string reason, bool sendError) {
  if (sendError && m_phase != Phase::kFailed && m_greetingSent) {
    Bytes body;
    append(body, std::string_view("\x05"
                                  "ERROR"));
    const std::string r = reason.substr(0, 255);
    body.push_back(std::byte(r.size()));
    append(body, r);
    appendCommand(body, out);
  }
  if (m_phase == Phase::kReady) m_failedAfterHandshake = true;
  m_phase = Phase::kFailed;
  m_body.clear();
  m_body.shrink_to_fit();
  m_frames.clear();
  m_messageBytes = 0;
  return fail(ErrorCode::kInvalidArgument, std::move(reason));
}

Bytes Engine::metadata() const {
  Bytes md;
  auto property = [&md](std::string_view name, std::string_view value) {
    md.push_back(std::byte(name.size()));
    append(md, name);
    appendU32(md, static_cast<std::uint32_t>(value.size()));
    append(md, value);
  };
  property("Socket-Type", m_options->socketType);
  if (m_options->socketType != "PUB") property("Identity", "");
  return md;
}

Result<void> Engine::checkMetadata(ByteView md) {
  std::size_t pos = 0;
  bool typeOk = false;
  while (pos < md.size()) {
    const std::size_t nameLen = std::to_integer<std::size_t>(md[pos]);
    if (nameLen == 0 || pos + 1 + nameLen + 4 > md.size())
      return fail(ErrorCode::kInvalidArgument, "malformed metadata");
    std::string_view name(reinterpret_cast<const char*>(md.data() + pos + 1), nameLen);
    const std::size_t valueLen = readU32(md.data() + pos + 1 + nameLen);
    const std::size_t valuePos = pos + 1 + nameLen + 4;
    if (valueLen > md.size() - valuePos) return fail(ErrorCode::kInvalidArgument, "malformed metadata");
    std::string_view value(reinterpret_cast<const char*>(md.data() + valuePos), valueLen);
    if (name.size() == 11 && strncasecmp(name.data(), "Socket-Type", 11) == 0) {
      typeOk = std::find(m_options->peerTypes.begin(), m_options->peerTypes.end(), value) !=
               m_options->peerTypes.end();
      if (!typeOk) return fail(ErrorCode::kInvalidArgument, "incompatible socket type");
    }
    pos = valuePos + valueLen;
  }
  if (!typeOk) return fail(ErrorCode::kInvalidArgument, "no socket type in metadata");
  return {};
}

void Engine::appendCommand(ByteView body, Bytes& out) const {
  if (body.size() > 255) {
    out.push_back(std::byte{kFlagCommand | kFlagLong});
    appendU64(out, body.size());
  } else {
    out.push_back(std::byte{kFlagCommand});
    out.push_back(std::byte(body.size()));
  }
  append(out, body);
}

void Engine::appendFrame(ByteView body, bool more, Bytes& out) {
  if (!m_curve) {
    const std::uint8_t flags = more ? kFlagMore : 0;
    if (body.size() > 255) {
      out.push_back(std::byte{static_cast<std::uint8_t>(flags | kFlagLong)});
      appendU64(out, body.size());
    } else {
      out.push_back(std::byte{flags});
      out.push_back(std::byte(body.size()));
    }
    append(out, body);
    return;
  }
  // CURVE: every frame travels as one MESSAGE command box (sent as a plain frame, as libzmq does).
  appendSealed(body, more ? kFlagMore : std::uint8_t{0}, out);
}

void Engine::appendSealed(ByteView body, std::uint8_t innerFlags, Bytes& out) {
  const std::size_t size = kCurveOverhead + body.size();
  if (size > 255) {
    out.push_back(std::byte{kFlagLong});
    appendU64(out, size);
  } else {
    out.push_back(std::byte{0});
    out.push_back(std::byte(size));
  }
  const bool server = m_options->role == Role::kServer;
  const std::uint64_t n = m_curve->nonce++;
  const auto nonce = shortNonce(server ? "CurveZMQMESSAGES" : "CurveZMQMESSAGEC", n);
  append(out, std::string_view("\x07MESSAGE"));
  appendU64(out, n);
  const std::size_t boxAt = out.size();
  out.resize(boxAt + crypto_box_MACBYTES);  // room for the MAC, before the plaintext
  out.push_back(std::byte{innerFlags});
  append(out, body);
  // In place: libsodium's easy API allows the ciphertext to overlap the plaintext.
  MERIT_ASSERT(crypto_box_easy_afternm(uc(out.data() + boxAt), uc(out.data() + boxAt + crypto_box_MACBYTES),
                                       1 + body.size(), nonce.data(),
                                       uc(m_curve->precomputed.reveal().data())) == 0);
}

void Engine::encode(std::span<const ByteView> frames, Bytes& out) {
  MERIT_ASSERT(ready());
  std::size_t total = 0;
  for (const auto& f : frames) total += f.size() + 9 + (m_curve ? kCurveOverhead : 0);
  out.reserve(out.size() + total);
  for (std::size_t i = 0; i < frames.size(); ++i) appendFrame(frames[i], i + 1 < frames.size(), out);
}

Result<void> Engine::receive(ByteView in, Bytes& out, const std::function<void(Message&&)>& onMessage) {
  if (m_phase == Phase::kFailed) return fail(ErrorCode::kInvalidArgument, "connection already failed");
  const Limits& lim = m_options->limits;
  while (!in.empty()) {
    if (m_phase == Phase::kGreeting) {
      const std::size_t take = std::min(in.size(), kGreetingSize - m_greetingHave);
      std::memcpy(m_greeting.data() + m_greetingHave, in.data(), take);
      m_greetingHave += take;
      in = in.subspan(take);
      // Fail early on a wrong signature, before waiting for all 64 bytes.
      if (m_greeting[0] != std::byte{0xff} || (m_greetingHave >= 10 && m_greeting[9] != std::byte{0x7f})) {
        return failWith(out, "not a ZMTP peer", false);
      }
      if (m_greetingHave == kGreetingSize) MERIT_TRY(onGreeting(out));
      continue;
    }
    switch (m_step) {
      case Step::kHeaderFlags: {
        m_flags = std::to_integer<std::uint8_t>(in[0]);
        in = in.subspan(1);
        if (m_flags & kFlagsReserved) return failWith(out, "reserved frame flags set", true);
        m_sizeNeed = (m_flags & kFlagLong) ? 8 : 1;
        m_sizeHave = 0;
        m_step = Step::kHeaderSize;
        break;
      }
      case Step::kHeaderSize: {
        const std::size_t take = std::min(in.size(), m_sizeNeed - m_sizeHave);
        std::memcpy(m_sizeBytes.data() + m_sizeHave, in.data(), take);
        m_sizeHave += take;
        in = in.subspan(take);
        if (m_sizeHave < m_sizeNeed) break;
        m_frameSize =
            m_sizeNeed == 8 ? readU64(m_sizeBytes.data()) : std::to_integer<std::uint64_t>(m_sizeBytes[0]);
        // Limits, before a single byte of the body is held.
        const bool command = (m_flags & kFlagCommand) != 0;
        if (command && (m_flags & kFlagMore)) return failWith(out, "command frame marked more", true);
        if (m_phase != Phase::kReady || command) {
          if (m_phase != Phase::kReady && !command)
            return failWith(out, "message frame before the handshake", true);
          if (m_frameSize > lim.maxCommandBytes &&
              !(m_curve && m_phase == Phase::kReady && m_frameSize <= lim.maxFrameBytes + kCurveOverhead)) {
            return failWith(out, "command too large", true);
          }
        }
        if (m_phase == Phase::kReady && !command && !m_curve) {
          if (m_frameSize > lim.maxFrameBytes) return failWith(out, "frame too large", true);
          if (m_frames.size() + 1 > lim.maxMessageFrames)
            return failWith(out, "too many frames in one message", true);
          if (m_messageBytes + m_frameSize > lim.maxMessageBytes)
            return failWith(out, "message too large", true);
        }
        if (m_phase == Phase::kReady && m_curve) {
          if (m_frameSize < kCurveOverhead) return failWith(out, "malformed MESSAGE", true);
          const std::uint64_t plain = m_frameSize - kCurveOverhead;
          if (plain > std::max(lim.maxFrameBytes, lim.maxCommandBytes))
            return failWith(out, "frame too large", true);
          if (m_messageBytes + plain > std::max(lim.maxMessageBytes, lim.maxCommandBytes)) {
            return failWith(out, "message too large", true);
          }
        }
        m_body.clear();
        m_body.reserve(std::min<std::size_t>(m_frameSize, kMaxChunkReserve));
        m_step = Step::kBody;
        if (m_frameSize == 0) {
          m_step = Step::kHeaderFlags;
          MERIT_TRY(onFrame(out, onMessage));
        }
        break;
      }
      case Step::kBody: {
        const std::size_t take = std::min<std::size_t>(in.size(), m_frameSize - m_body.size());
        m_body.insert(m_body.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
        in = in.subspan(take);
        if (m_body.size() == m_frameSize) {
          m_step = Step::kHeaderFlags;
          MERIT_TRY(onFrame(out, onMessage));
        }
        break;
      }
    }
    if (m_phase == Phase::kFailed) return fail(ErrorCode::kInvalidArgument, "connection failed");
  }
  return {};
}

Result<void> Engine::onGreeting(Bytes& out) {
  if (std::to_integer<int>(m_greeting[10]) < 3) return failWith(out, "ZMTP version below 3.0", false);
  std::array<std::byte, 20> mech{};
  const std::string_view ours = m_curve ? "CURVE" : "NULL";
  std::memcpy(mech.data(), ours.data(), ours.size());
  if (std::memcmp(mech.data(), m_greeting.data() + 12, 20) != 0)
    return failWith(out, "security mechanism mismatch", false);
  m_phase = Phase::kHandshake;
  if (!m_curve) {
    Bytes body;
    append(body, std::string_view("\x05READY"));
    append(body, metadata());
    appendCommand(body, out);
    return {};
  }
  if (m_options->role == Role::kClient) {
    // HELLO: version 1.0, 72 bytes of padding (so HELLO is not smaller than WELCOME), C',
    // short nonce, and a box of 64 zero bytes from C' to S proving we know S.
    Curve& c = *m_curve;
    c.newTransient();
    const std::uint64_t n = c.nonce++;
    const auto nonce = shortNonce("CurveZMQHELLO---", n);
    std::array<unsigned char, 64> zeros{};
    std::array<unsigned char, 80> box{};
    if (crypto_box_easy(box.data(), zeros.data(), zeros.size(), nonce.data(),
                        uc(m_options->curve->serverKey.data()), uc(c.transientSecret.reveal().data())) != 0) {
      return failWith(out, "unusable server key", false);
    }
    Bytes body;
    append(body, std::string_view("\x05HELLO"));
    body.push_back(std::byte{1});
    body.push_back(std::byte{0});
    body.resize(body.size() + 72);
    append(body, c.transientPublic);
    appendU64(body, n);
    append(body, ByteView(reinterpret_cast<const std::byte*>(box.data()), box.size()));
    appendCommand(body, out);
  }
  return {};
}

Result<void> Engine::onFrame(Bytes& out, const std::function<void(Message&&)>& onMessage) {
  const bool command = (m_flags & kFlagCommand) != 0;
  // A command is handled whole here: its body is not a partial message, and buffered() must not
  // count it afterwards (a connection that completed its handshake holds nothing).
  if (m_phase == Phase::kHandshake) {
    auto handled = onHandshakeCommand(m_body, out);
    m_body.clear();
    return handled;
  }
  if (!m_curve) {
    if (command) {
      auto handled = onControlCommand(m_body, out, onMessage);
      m_body.clear();
      return handled;
    }
    Bytes frame = std::move(m_body);
    m_body = Bytes();
    return onDataFrame(std::move(frame), (m_flags & kFlagMore) != 0, onMessage);
  }
  // CURVE: every frame is a MESSAGE box.
  Curve& c = *m_curve;
  if (!isCommand(m_body, "MESSAGE") || m_body.size() < kCurveOverhead)
    return failWith(out, "expected MESSAGE", true);
  const std::uint64_t n = readU64(m_body.data() + 8);
  if (n <= c.peerNonce) return failWith(out, "MESSAGE nonce not increasing", true);
  const bool server = m_options->role == Role::kServer;
  const auto nonce = shortNonce(server ? "CurveZMQMESSAGEC" : "CurveZMQMESSAGES", n);
  const std::size_t clen = m_body.size() - kCurveMessageHeader;
  // In place: the plaintext lands at the start of m_body.
  if (crypto_box_open_easy_afternm(uc(m_body.data()), uc(m_body.data() + kCurveMessageHeader), clen,
                                   nonce.data(), uc(c.precomputed.reveal().data())) != 0) {
    return failWith(out, "MESSAGE does not authenticate", false);
  }
  c.peerNonce = n;
  const std::size_t plainLen = clen - crypto_box_MACBYTES;
  const std::uint8_t flags = std::to_integer<std::uint8_t>(m_body[0]);
  Bytes frame(m_body.begin() + 1, m_body.begin() + static_cast<std::ptrdiff_t>(plainLen));
  m_body.clear();
  if (flags & 0x02) {
    if (frame.size() > m_options->limits.maxCommandBytes) return failWith(out, "command too large", true);
    return onControlCommand(frame, out, onMessage);
  }
  const Limits& lim = m_options->limits;
  if (frame.size() > lim.maxFrameBytes || m_messageBytes + frame.size() > lim.maxMessageBytes) {
    return failWith(out, "message too large", true);
  }
  if (m_frames.size() + 1 > lim.maxMessageFrames)
    return failWith(out, "too many frames in one message", true);
  return onDataFrame(std::move(frame), (flags & kFlagMore) != 0, onMessage);
}

Result<void> Engine::onDataFrame(Bytes&& frame, bool more, const std::function<void(Message&&)>& onMessage) {
  m_messageBytes += frame.size();
  m_frames.push_back(std::move(frame));
  if (more) return {};
  Message message = std::move(m_frames);
  m_frames = Message();
  m_messageBytes = 0;
  if (m_options->publisher) {
    // A subscriber sends only subscriptions: one frame starting with 1 (subscribe) or 0 (cancel).
    if (message.size() != 1 || message[0].empty() || std::to_integer<int>(message[0][0]) > 1) {
      Bytes ignored;
      return failWith(ignored, "a subscriber sent a message", false);
    }
  }
  onMessage(std::move(message));
  return {};
}

Result<void> Engine::onControlCommand(ByteView body, Bytes& out,
                                      const std::function<void(Message&&)>& onMessage) {
  if (isCommand(body, "PING")) {
    // PING: TTL (2 bytes) and up to 16 bytes of context, echoed in PONG.
    if (body.size() < 7 || body.size() > 7 + 16) return failWith(out, "malformed PING", true);
    Bytes pong;
    append(pong, std::string_view("\x04PONG"));
    append(pong, body.subspan(7));
    if (m_curve) {
      // Commands after a CURVE handshake travel boxed, with the command flag inside.
      appendSealed(pong, 0x02, out);
    } else {
      appendCommand(pong, out);
    }
    return {};
  }
  if (isCommand(body, "PONG")) return {};
  if (isCommand(body, "ERROR")) return failWith(out, "peer sent ERROR", false);
  if (m_options->publisher && (isCommand(body, "SUBSCRIBE") || isCommand(body, "CANCEL"))) {
    const bool subscribe = isCommand(body, "SUBSCRIBE");
    const std::size_t nameLen = 1 + std::to_integer<std::size_t>(body[0]);
    Bytes sub;
    sub.push_back(std::byte{subscribe ? std::uint8_t{1} : std::uint8_t{0}});
    append(sub, body.subspan(nameLen));
    Message m;
    m.push_back(std::move(sub));
    onMessage(std::move(m));
    return {};
  }
  return failWith(out, "unexpected command", true);
}

Result<void> Engine::onHandshakeCommand(ByteView body, Bytes& out) {
  if (isCommand(body, "ERROR")) return failWith(out, "peer refused the handshake", false);
  if (!m_curve) {
    if (!isCommand(body, "READY")) return failWith(out, "expected READY", true);
    if (auto ok = checkMetadata(body.subspan(6)); !ok) return failWith(out, ok.error().message(), true);
    m_phase = Phase::kReady;
    return {};
  }
  Curve& c = *m_curve;
  const CurveKeys& keys = *m_options->curve;
  switch (c.expect) {
    case Curve::Expect::kHello: {
      if (!isCommand(body, "HELLO") || body.size() != 200) return failWith(out, "expected HELLO", true);
      if (body[6] != std::byte{1} || body[7] != std::byte{0})
        return failWith(out, "unsupported CURVE version", true);
      std::memcpy(c.peerTransient.data(), body.data() + 80, 32);
      const std::uint64_t n = readU64(body.data() + 112);
      const auto nonce = shortNonce("CurveZMQHELLO---", n);
      std::array<unsigned char, 64> plain{};
      if (crypto_box_open_easy(plain.data(), uc(body.data() + 120), 80, nonce.data(),
                               uc(c.peerTransient.data()), uc(keys.secretKey.reveal().data())) != 0) {
        return failWith(out, "HELLO does not authenticate", false);
      }
      c.peerNonce = n;
      // WELCOME: a box from S to C' holding S' and a cookie. The cookie (C' and s', sealed under
      // a key only this connection knows) comes back in INITIATE.
      c.newTransient();
      crypto_secretbox_keygen(uc(c.cookieKey.mutableBytes().data()));
      std::array<std::byte, 16> cookieNonceTail{};
      randombytes_buf(cookieNonceTail.data(), cookieNonceTail.size());
      const auto cookieNonce = longNonce("COOKIE--", cookieNonceTail.data());
      crypto::SecretArray<64> cookiePlain;
      std::memcpy(cookiePlain.mutableBytes().data(), c.peerTransient.data(), 32);
      std::memcpy(cookiePlain.mutableBytes().data() + 32, c.transientSecret.reveal().data(), 32);
      crypto::SecretArray<128> welcomePlain;
      std::byte* wp = welcomePlain.mutableBytes().data();
      std::memcpy(wp, c.transientPublic.data(), 32);
      std::memcpy(wp + 32, cookieNonceTail.data(), 16);
      MERIT_ASSERT(crypto_secretbox_easy(uc(wp + 48), uc(cookiePlain.reveal().data()), 64, cookieNonce.data(),
                                         uc(c.cookieKey.reveal().data())) == 0);
      std::array<std::byte, 16> welcomeNonceTail{};
      randombytes_buf(welcomeNonceTail.data(), welcomeNonceTail.size());
      const auto welcomeNonce = longNonce("WELCOME-", welcomeNonceTail.data());
      std::array<std::byte, 144> welcomeBox{};
      if (crypto_box_easy(uc(welcomeBox.data()), uc(welcomePlain.reveal().data()), 128, welcomeNonce.data(),
                          uc(c.peerTransient.data()), uc(keys.secretKey.reveal().data())) != 0) {
        return failWith(out, "unusable client key", false);
      }
      Bytes cmd;
      append(cmd, std::string_view("\x07WELCOME"));
      append(cmd, welcomeNonceTail);
      append(cmd, welcomeBox);
      appendCommand(cmd, out);
      c.expect = Curve::Expect::kInitiate;
      return {};
    }
    case Curve::Expect::kInitiate: {
      if (!isCommand(body, "INITIATE") || body.size() < 257) return failWith(out, "expected INITIATE", true);
      // The cookie must be ours and name this connection's C' and s'.
      const auto cookieNonce = longNonce("COOKIE--", body.data() + 9);
      crypto::SecretArray<64> cookiePlain;
      if (crypto_secretbox_open_easy(uc(cookiePlain.mutableBytes().data()), uc(body.data() + 25), 80,
                                     cookieNonce.data(), uc(c.cookieKey.reveal().data())) != 0) {
        return failWith(out, "INITIATE cookie does not authenticate", false);
      }
      if (sodium_memcmp(cookiePlain.reveal().data(), c.peerTransient.data(), 32) != 0 ||
          sodium_memcmp(cookiePlain.reveal().data() + 32, c.transientSecret.reveal().data(), 32) != 0) {
        return failWith(out, "INITIATE cookie names another connection", false);
      }
      const std::uint64_t n = readU64(body.data() + 105);
      if (n <= c.peerNonce) return failWith(out, "INITIATE nonce not increasing", true);
      if (!c.precompute()) return failWith(out, "unusable client key", false);
      const auto nonce = shortNonce("CurveZMQINITIATE", n);
      const std::size_t clen = body.size() - 113;
      Bytes plain(clen - crypto_box_MACBYTES);
      if (crypto_box_open_easy_afternm(uc(plain.data()), uc(body.data() + 113), clen, nonce.data(),
                                       uc(c.precomputed.reveal().data())) != 0) {
        return failWith(out, "INITIATE does not authenticate", false);
      }
      c.peerNonce = n;
      // The vouch: a box from the client's long-term key C to S', holding C' and S. It proves C
      // belongs to whoever holds c' on this connection.
      ByteArray<32> clientKey{};
      std::memcpy(clientKey.data(), plain.data(), 32);
      const auto vouchNonce = longNonce("VOUCH---", plain.data() + 32);
      std::array<std::byte, 64> vouch{};
      const int vouchOk = crypto_box_open_easy(uc(vouch.data()), uc(plain.data() + 48), 80, vouchNonce.data(),
                                               uc(clientKey.data()), uc(c.transientSecret.reveal().data()));
      const ByteView metadataView = ByteView(plain).subspan(128);
      Bytes metadata(metadataView.begin(), metadataView.end());
      sodium_memzero(plain.data(), plain.size());
      if (vouchOk != 0) return failWith(out, "vouch does not authenticate", false);
      if (sodium_memcmp(vouch.data(), c.peerTransient.data(), 32) != 0 ||
          sodium_memcmp(vouch.data() + 32, keys.publicKey.data(), 32) != 0) {
        return failWith(out, "vouch names other keys", false);
      }
      // The cookie key and s' are no longer needed (the precomputed key stays).
      c.cookieKey = crypto::SecretArray<32>();
      c.transientSecret = crypto::SecretArray<32>();
      if (m_options->authorizer && !m_options->authorizer(clientKey)) {
        return failWith(out, "400", true);  // libzmq's code for "not authorized"
      }
      if (auto ok = checkMetadata(metadata); !ok) return failWith(out, ok.error().message(), true);
      m_peerKey = clientKey;
      // READY: our metadata, boxed with the short-term keys.
      const Bytes md = this->metadata();
      const std::uint64_t rn = c.nonce++;
      const auto readyNonce = shortNonce("CurveZMQREADY---", rn);
      Bytes cmd;
      append(cmd, std::string_view("\x05READY"));
      appendU64(cmd, rn);
      const std::size_t boxAt = cmd.size();
      cmd.resize(boxAt + crypto_box_MACBYTES + md.size());
      MERIT_ASSERT(crypto_box_easy_afternm(uc(cmd.data() + boxAt), uc(md.data()), md.size(),
                                           readyNonce.data(), uc(c.precomputed.reveal().data())) == 0);
      appendCommand(cmd, out);
      c.expect = Curve::Expect::kDone;
      m_phase = Phase::kReady;
      return {};
    }
    case Curve::Expect::kWelcome: {
      if (!isCommand(body, "WELCOME") || body.size() != 168) return failWith(out, "expected WELCOME", true);
      const auto nonce = longNonce("WELCOME-", body.data() + 8);
      crypto::SecretArray<128> plain;
      if (crypto_box_open_easy(uc(plain.mutableBytes().data()), uc(body.data() + 24), 144, nonce.data(),
                               uc(keys.serverKey.data()), uc(c.transientSecret.reveal().data())) != 0) {
        return failWith(out, "WELCOME does not authenticate", false);
      }
      std::memcpy(c.peerTransient.data(), plain.reveal().data(), 32);
      std::memcpy(c.cookie.data(), plain.reveal().data() + 32, 96);
      if (!c.precompute()) return failWith(out, "unusable server key", false);
      // Vouch: from our long-term key to S', holding C' and S.
      std::array<std::byte, 16> vouchTail{};
      randombytes_buf(vouchTail.data(), vouchTail.size());
      const auto vouchNonce = longNonce("VOUCH---", vouchTail.data());
      std::array<std::byte, 64> vouchPlain{};
      std::memcpy(vouchPlain.data(), c.transientPublic.data(), 32);
      std::memcpy(vouchPlain.data() + 32, keys.serverKey.data(), 32);
      std::array<std::byte, 80> vouchBox{};
      if (crypto_box_easy(uc(vouchBox.data()), uc(vouchPlain.data()), 64, vouchNonce.data(),
                          uc(c.peerTransient.data()), uc(keys.secretKey.reveal().data())) != 0) {
        return failWith(out, "unusable server key", false);
      }
      Bytes initPlain;
      append(initPlain, keys.publicKey);
      append(initPlain, vouchTail);
      append(initPlain, vouchBox);
      append(initPlain, metadata());
      const std::uint64_t n = c.nonce++;
      const auto initNonce = shortNonce("CurveZMQINITIATE", n);
      Bytes cmd;
      append(cmd, std::string_view("\x08INITIATE"));
      append(cmd, c.cookie);
      appendU64(cmd, n);
      const std::size_t boxAt = cmd.size();
      cmd.resize(boxAt + crypto_box_MACBYTES + initPlain.size());
      MERIT_ASSERT(crypto_box_easy_afternm(uc(cmd.data() + boxAt), uc(initPlain.data()), initPlain.size(),
                                           initNonce.data(), uc(c.precomputed.reveal().data())) == 0);
      appendCommand(cmd, out);
      // c' is no longer needed once the precomputed key exists.
      c.transientSecret = crypto::SecretArray<32>();
      c.expect = Curve::Expect::kReady;
      return {};
    }
    case Curve::Expect::kReady: {
      if (!isCommand(body, "READY") || body.size() < 14 + crypto_box_MACBYTES)
        return failWith(out, "expected READY", true);
      const std::uint64_t n = readU64(body.data() + 6);
      const auto nonce = shortNonce("CurveZMQREADY---", n);
      const std::size_t clen = body.size() - 14;
      Bytes md(clen - crypto_box_MACBYTES);
      if (crypto_box_open_easy_afternm(uc(md.data()), uc(body.data() + 14), clen, nonce.data(),
                                       uc(c.precomputed.reveal().data())) != 0) {
        return failWith(out, "READY does not authenticate", false);
      }
      c.peerNonce = n;
      if (auto ok = checkMetadata(md); !ok) return failWith(out, ok.error().message(), true);
      c.expect = Curve::Expect::kDone;
      m_phase = Phase::kReady;
      return {};
    }
    case Curve::Expect::kDone: break;
  }
  return failWith(out, "unexpected handshake command", true);
}

// ------------------------------------------------------------------------------------------------
// StreamServer

struct StreamServer::Peer {
  explicit Peer(std::shared_ptr<const Options> o) : engine(std::move(o)) {}
  Engine engine;
  std::string address;
  SteadyClock::time_point connectedAt = SteadyClock::now();
  std::optional<SteadyClock::time_point> closeAt;  // set: closing after an ERROR, input ignored
  std::size_t buffered = 0;                        // engine.buffered() as last counted in m_buffered
};

StreamServer::StreamServer(zmq::socket_t socket, ServerConfig config)
    : m_socket(std::move(socket)), m_config(std::move(config)) {}

StreamServer::~StreamServer() = default;

Result<std::unique_ptr<StreamServer>> StreamServer::bind(zmq::context_t& context, const std::string& endpoint,
                                                         ServerConfig config) {
  if (!config.engine || config.maxConnections == 0 || config.maxConnectionsPerAddress == 0) {
    return fail(ErrorCode::kInvalidArgument,
                "a ZMTP server needs engine options and positive connection limits");
  }
  try {
    zmq::socket_t s(context, zmq::socket_type::stream);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::rcvhwm, config.receiveQueueChunks);
    s.set(zmq::sockopt::sndhwm, config.sendQueueMessages);
    s.bind(endpoint);
    std::unique_ptr<StreamServer> server(new StreamServer(std::move(s), std::move(config)));
    server->m_endpoint = server->m_socket.get(zmq::sockopt::last_endpoint);
    return server;
  } catch (const zmq::error_t& e) {
    return fail(ErrorCode::kUnavailable, "cannot bind " + endpoint + ": " + e.what());
  }
}

bool StreamServer::sendRaw(const std::string& peerId, ByteView bytes) {
  try {
    if (!m_socket.send(zmq::buffer(peerId), zmq::send_flags::sndmore | zmq::send_flags::dontwait))
      return false;
    (void)m_socket.send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait);
    return true;
  } catch (const zmq::error_t&) {
    return false;  // EHOSTUNREACH: the peer is gone
  }
}

void StreamServer::closePeer(std::map<std::string, std::unique_ptr<Peer>>::iterator it, bool graceful) {
  if (graceful && !it->second->closeAt) {
    it->second->closeAt = SteadyClock::now() + kGracefulClose;
    m_stats.disconnected++;
    return;
  }
  // A zero-length message closes the connection (ZMQ_STREAM).
  try {
    if (m_socket.send(zmq::buffer(it->first), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      (void)m_socket.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::dontwait);
    }
  } catch (const zmq::error_t&) {
  }
  auto a = m_perAddress.find(it->second->address);
  if (a != m_perAddress.end() && --a->second == 0) m_perAddress.erase(a);
  m_peers.erase(it);
}

void StreamServer::disconnect(const std::string& peerId) {
  if (auto it = m_peers.find(peerId); it != m_peers.end()) {
    ++m_stats.disconnected;
    closePeer(it, false);
  }
}

std::size_t StreamServer::bufferedBytes() const {
  std::size_t total = 0;
  for (const auto& [id, p] : m_peers) total += p->buffered;
  return total;
}

std::size_t StreamServer::receive(std::size_t maxChunks, const MessageHandler& onMessage) {
  std::size_t chunks = 0;
  std::vector<Message> messages;
  Bytes out;
  for (; chunks < maxChunks; ++chunks) {
    zmq::message_t id;
    zmq::message_t data;
    try {
      if (!m_socket.recv(id, zmq::recv_flags::dontwait)) break;
      if (!id.more()) continue;
      (void)m_socket.recv(data, zmq::recv_flags::none);
    } catch (const zmq::error_t& e) {
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug, "zmtp {}: receive failed: {}",
                             m_endpoint, e.what());
      break;
    }
    std::string peerId(static_cast<const char*>(id.data()), id.size());
    auto it = m_peers.find(peerId);
    if (data.size() == 0) {
      if (it != m_peers.end()) {  // the peer disconnected
        auto a = m_perAddress.find(it->second->address);
        if (a != m_perAddress.end() && --a->second == 0) m_perAddress.erase(a);
        m_peers.erase(it);
        continue;
      }
      // A new connection.
      const char* addr = zmq_msg_gets(data.handle(), "Peer-Address");
      std::string address = addr != nullptr ? addr : "";
      const auto perAddress = m_perAddress.find(address);
      if (m_peers.size() >= m_config.maxConnections ||
          (perAddress != m_perAddress.end() && perAddress->second >= m_config.maxConnectionsPerAddress)) {
        ++m_stats.refused;
        MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug,
                               "zmtp {}: refused a connection from {}", m_endpoint, address);
        try {
          if (m_socket.send(zmq::buffer(peerId), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
            (void)m_socket.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::dontwait);
          }
        } catch (const zmq::error_t&) {
        }
        continue;
      }
      auto peer = std::make_unique<Peer>(m_config.engine);
      peer->address = address;
      out.clear();
      peer->engine.start(out);
      // A disconnect notice for a connection we closed ourselves looks like a new connection;
      // sending to it fails, and it is forgotten.
      if (!sendRaw(peerId, out)) continue;
      ++m_perAddress[address];
      ++m_stats.accepted;
      m_peers.emplace(peerId, std::move(peer));
      continue;
    }
    if (it == m_peers.end() || it->second->closeAt) continue;  // closed or closing: input ignored
    Peer& p = *it->second;
    out.clear();
    messages.clear();
    auto ok = p.engine.receive(ByteView(static_cast<const std::byte*>(data.data()), data.size()), out,
                               [&messages](Message&& m) { messages.push_back(std::move(m)); });
    if (!out.empty()) (void)sendRaw(peerId, out);
    p.buffered = p.engine.buffered();
    if (!ok) {
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug, "zmtp {}: disconnecting {}: {}",
                             m_endpoint, p.address, ok.error().message());
      closePeer(it, !out.empty());
      if (out.empty()) ++m_stats.disconnected;
      continue;
    }
    if (p.buffered > 0 && bufferedBytes() > m_config.maxBufferedBytes) {
      MERIT_LOG_RATE_LIMITED(log::Category::kNet, log::Level::kDebug,
                             "zmtp {}: disconnecting {}: partial messages of all peers over {} bytes",
                             m_endpoint, p.address, m_config.maxBufferedBytes);
      ++m_stats.disconnected;
      closePeer(it, false);
      continue;
    }
    const PeerInfo info{peerId, p.address};
    for (auto& m : messages) onMessage(info, std::move(m));
  }
  return chunks;
}

bool StreamServer::send(const std::string& peerId, std::span<const ByteView> frames) {
  auto it = m_peers.find(peerId);
  if (it == m_peers.end() || !it->second->engine.ready() || it->second->closeAt) {
    ++m_stats.sendDropped;
    return false;
  }
  Bytes out;
  it->second->engine.encode(frames, out);
  if (!sendRaw(peerId, out)) {
    ++m_stats.sendDropped;
    return false;
  }
  return true;
}

std::vector<std::string> StreamServer::readyPeers() const {
  std::vector<std::string> out;
  for (const auto& [id, p] : m_peers) {
    if (p->engine.ready() && !p->closeAt) out.push_back(id);
  }
  return out;
}

void StreamServer::tick() {
  const auto now = SteadyClock::now();
  for (auto it = m_peers.begin(); it != m_peers.end();) {
    auto next = std::next(it);
    const Peer& p = *it->second;
    if (p.closeAt && now >= *p.closeAt) {
      closePeer(it, false);
    } else if (!p.closeAt && !p.engine.ready() && now - p.connectedAt > m_config.handshakeTimeout) {
      ++m_stats.disconnected;
      closePeer(it, false);
    }
    it = next;
  }
}

ServerStats StreamServer::stats() const {
  ServerStats s = m_stats;
  s.connections = m_peers.size();
  return s;
}

}  // namespace merit::net::zmtp
