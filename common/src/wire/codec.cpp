#include "merit/wire/codec.h"

#include <cstring>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <kj/io.h>

#include "merit/util/assert.h"

#include "schema/wire.capnp.h"

namespace merit::wire {

namespace cs = capnp_schema;

namespace {

// Thrown only inside decode() and caught at its end: a compact way to leave a deep reader with a
// reason. Never escapes this file.
struct DecodeFailure {
  std::string reason;
};

template <std::size_t N>
ByteArray<N> fixed(capnp::Data::Reader data, const char* field) {
  if (data.size() != N) {
    throw DecodeFailure{std::string(field) + " must be " + std::to_string(N) + " bytes, got " +
                        std::to_string(data.size())};
  }
  ByteArray<N> out;
  std::memcpy(out.data(), data.begin(), N);
  return out;
}

Bytes copyData(capnp::Data::Reader data) {
  const auto* p = reinterpret_cast<const std::byte*>(data.begin());
  return Bytes(p, p + data.size());
}

std::string text(capnp::Text::Reader t, std::size_t maxBytes, const char* field) {
  if (t.size() > maxBytes) {
    throw DecodeFailure{std::string(field) + " longer than " + std::to_string(maxBytes) + " bytes"};
  }
  return std::string(t.cStr(), t.size());
}

Status status(cs::Status s) {
  const auto v = static_cast<std::uint16_t>(s);
  if (v > kMaxWireStatus) throw DecodeFailure{"unknown status " + std::to_string(v)};
  return static_cast<Status>(v);
}

// Runs before any other field is read, so a peer of another version learns that, and not that
// some field (a version-1 33-byte untagged key, say) has the wrong length.
void checkVersion(std::uint16_t v) {
  if (v == kProtocolVersion) return;
  const std::string speaks = "this axon speaks version " + std::to_string(kProtocolVersion) +
                             " (hotkeys and signatures tagged with their scheme, sr25519 or ecdsa)";
  throw DecodeFailure{
      "protocol version " + std::to_string(v) + " is not supported: " + speaks +
      (v < kProtocolVersion ? "; upgrade the caller" : "; this axon is older than the caller")};
}

Hotkey hotkey(capnp::Data::Reader data, const char* field) {
  auto key = Hotkey::fromTagged(ByteView(reinterpret_cast<const std::byte*>(data.begin()), data.size()));
  if (!key) throw DecodeFailure{std::string(field) + ": " + key.error().message()};
  return *key;
}

SignatureBytes signature(capnp::Data::Reader data, const char* field) {
  auto sig =
      SignatureBytes::fromTagged(ByteView(reinterpret_cast<const std::byte*>(data.begin()), data.size()));
  if (!sig) throw DecodeFailure{std::string(field) + ": " + sig.error().message()};
  return *sig;
}

Authenticator readAuth(cs::Authenticator::Reader r) {
  Authenticator a;
  switch (r.which()) {
    case cs::Authenticator::NONE: a.kind = Authenticator::Kind::kNone; break;
    case cs::Authenticator::SIGNATURE:
      a.kind = Authenticator::Kind::kSignature;
      a.signature = signature(r.getSignature(), "signature");
      break;
    case cs::Authenticator::SESSION_MAC:
      a.kind = Authenticator::Kind::kSessionMac;
      a.sessionId = fixed<kSessionIdSize>(r.getSessionMac().getSessionId(), "sessionId");
      a.mac = fixed<kMacSize>(r.getSessionMac().getMac(), "mac");
      break;
    default: throw DecodeFailure{"unknown authenticator kind"};
  }
  return a;
}

Request readRequest(cs::Request::Reader r) {
  if (!r.hasHeader()) throw DecodeFailure{"request has no header"};
  auto h = r.getHeader();
  Request out;
  checkVersion(h.getProtocolVersion());
  out.header.protocolVersion = h.getProtocolVersion();
  out.header.netuid = h.getNetuid();
  out.header.module = text(h.getModule(), kMaxModuleNameBytes, "module");
  if (!isValidModuleName(out.header.module)) throw DecodeFailure{"invalid module name"};
  out.header.moduleVersion = h.getModuleVersion();
  out.header.requestId = fixed<kRequestIdSize>(h.getRequestId(), "requestId");
  out.header.caller = hotkey(h.getCaller(), "caller");
  out.header.target = hotkey(h.getTarget(), "target");
  out.header.timestampMs = h.getTimestampMs();
  out.header.nonce = h.getNonce();
  out.header.timeoutMs = h.getTimeoutMs();
  out.header.bodyHash = fixed<32>(h.getBodyHash(), "bodyHash");
  out.body = copyData(r.getBody());
  out.auth = readAuth(r.getAuth());
  return out;
}

Response readResponse(cs::Response::Reader r) {
  Response out;
  out.requestId = fixed<kRequestIdSize>(r.getRequestId(), "requestId");
  out.status = status(r.getStatus());
  out.message = text(r.getMessage(), kMaxMessageTextBytes, "message");
  out.timestampMs = r.getTimestampMs();
  out.bodyHash = fixed<32>(r.getBodyHash(), "bodyHash");
  out.body = copyData(r.getBody());
  out.auth = readAuth(r.getAuth());
  return out;
}

SessionInit readSessionInit(cs::SessionInit::Reader r) {
  SessionInit out;
  checkVersion(r.getProtocolVersion());
  out.protocolVersion = r.getProtocolVersion();
  out.caller = hotkey(r.getCaller(), "caller");
  out.target = hotkey(r.getTarget(), "target");
  out.timestampMs = r.getTimestampMs();
  out.clientNonce = fixed<kNonceSize>(r.getClientNonce(), "clientNonce");
  out.clientEphemeral = fixed<kEphemeralSize>(r.getClientEphemeral(), "clientEphemeral");
  out.signature = signature(r.getSignature(), "signature");
  return out;
}

SessionReply readSessionReply(cs::SessionReply::Reader r) {
  SessionReply out;
  out.status = status(r.getStatus());
  out.message = text(r.getMessage(), kMaxMessageTextBytes, "message");
  out.clientNonce = fixed<kNonceSize>(r.getClientNonce(), "clientNonce");
  out.timestampMs = r.getTimestampMs();
  out.isSigned = r.getSignature().size() != 0;
  if (out.isSigned) {
    out.serverNonce = fixed<kNonceSize>(r.getServerNonce(), "serverNonce");
    out.sessionId = fixed<kSessionIdSize>(r.getSessionId(), "sessionId");
    out.serverEphemeral = fixed<kEphemeralSize>(r.getServerEphemeral(), "serverEphemeral");
    out.signature = signature(r.getSignature(), "signature");
  }
  return out;
}

capnp::Data::Reader dataOf(ByteView b) {
  return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(b.data()), b.size());
}
capnp::Text::Reader textOf(const std::string& s) {
  return capnp::Text::Reader(s.data(), s.size());
}

void writeAuth(cs::Authenticator::Builder b, const Authenticator& a) {
  switch (a.kind) {
    case Authenticator::Kind::kNone: b.setNone(); break;
    case Authenticator::Kind::kSignature: b.setSignature(dataOf(a.signature.tagged())); break;
    case Authenticator::Kind::kSessionMac: {
      auto g = b.initSessionMac();
      g.setSessionId(dataOf(a.sessionId));
      g.setMac(dataOf(a.mac));
      break;
    }
  }
}

cs::Status wireStatus(Status s) {
  MERIT_ASSERT(static_cast<std::uint8_t>(s) <= kMaxWireStatus, static_cast<int>(s));
  return static_cast<cs::Status>(static_cast<std::uint16_t>(s));
}

std::size_t bodySize(const Message& m) {
  if (const auto* r = std::get_if<Request>(&m)) return r->body.size();
  if (const auto* r = std::get_if<Response>(&m)) return r->body.size();
  return 0;
}

void build(capnp::MessageBuilder& mb, const Message& m) {
  auto env = mb.initRoot<cs::Envelope>();
  if (const auto* req = std::get_if<Request>(&m)) {
    auto r = env.initRequest();
    auto h = r.initHeader();
    const auto& hd = req->header;
    h.setProtocolVersion(hd.protocolVersion);
    h.setNetuid(hd.netuid);
    h.setModule(textOf(hd.module));
    h.setModuleVersion(hd.moduleVersion);
    h.setRequestId(dataOf(hd.requestId));
    h.setCaller(dataOf(hd.caller.tagged()));
    h.setTarget(dataOf(hd.target.tagged()));
    h.setTimestampMs(hd.timestampMs);
    h.setNonce(hd.nonce);
    h.setTimeoutMs(hd.timeoutMs);
    h.setBodyHash(dataOf(hd.bodyHash));
    r.setBody(dataOf(req->body));
    writeAuth(r.initAuth(), req->auth);
  } else if (const auto* resp = std::get_if<Response>(&m)) {
    auto r = env.initResponse();
    r.setRequestId(dataOf(resp->requestId));
    r.setStatus(wireStatus(resp->status));
    r.setMessage(textOf(resp->message));
    r.setTimestampMs(resp->timestampMs);
    r.setBodyHash(dataOf(resp->bodyHash));
    r.setBody(dataOf(resp->body));
    writeAuth(r.initAuth(), resp->auth);
  } else if (const auto* init = std::get_if<SessionInit>(&m)) {
    auto r = env.initSessionInit();
    r.setProtocolVersion(init->protocolVersion);
    r.setCaller(dataOf(init->caller.tagged()));
    r.setTarget(dataOf(init->target.tagged()));
    r.setTimestampMs(init->timestampMs);
    r.setClientNonce(dataOf(init->clientNonce));
    r.setSignature(dataOf(init->signature.tagged()));
    r.setClientEphemeral(dataOf(init->clientEphemeral));
  } else {
    const auto& reply = std::get<SessionReply>(m);
    auto r = env.initSessionReply();
    r.setStatus(wireStatus(reply.status));
    r.setMessage(textOf(reply.message));
    r.setClientNonce(dataOf(reply.clientNonce));
    r.setTimestampMs(reply.timestampMs);
    if (reply.isSigned) {
      r.setServerNonce(dataOf(reply.serverNonce));
      r.setSessionId(dataOf(reply.sessionId));
      r.setSignature(dataOf(reply.signature.tagged()));
      r.setServerEphemeral(dataOf(reply.serverEphemeral));
    }
  }
}

}  // namespace

bool isValidModuleName(std::string_view name) {
  if (name.empty() || name.size() > kMaxModuleNameBytes) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<Message> decode(ByteView frame, const DecodeLimits& limits) {
  if (frame.size() > limits.maxFrameBytes) {
    return fail(ErrorCode::kInvalidArgument, "frame of " + std::to_string(frame.size()) +
                                                 " bytes exceeds the limit of " +
                                                 std::to_string(limits.maxFrameBytes));
  }
  if (frame.empty() || frame.size() % sizeof(capnp::word) != 0) {
    return fail(ErrorCode::kInvalidArgument, "frame size is not a positive multiple of 8 bytes");
  }
  const std::size_t words = frame.size() / sizeof(capnp::word);
  // Cap'n Proto reads words in place; a frame that is not word-aligned is copied once.
  kj::Array<capnp::word> copy;
  kj::ArrayPtr<const capnp::word> view;
  if (reinterpret_cast<std::uintptr_t>(frame.data()) % alignof(capnp::word) == 0) {
    view = kj::arrayPtr(reinterpret_cast<const capnp::word*>(frame.data()), words);
  } else {
    copy = kj::heapArray<capnp::word>(words);
    std::memcpy(copy.begin(), frame.data(), frame.size());
    view = copy.asPtr();
  }
  capnp::ReaderOptions options;
  // Every byte of a well-formed message is read once; the slack covers the segment table and
  // list tags. Anything needing more is an amplification attempt.
  options.traversalLimitInWords = words + 64;
  options.nestingLimit = static_cast<int>(limits.nestingLimit);
  try {
    capnp::FlatArrayMessageReader reader(view, options);
    if (reader.getEnd() != view.end())
      return fail(ErrorCode::kInvalidArgument, "trailing bytes after the message");
    auto env = reader.getRoot<cs::Envelope>();
    switch (env.which()) {
      case cs::Envelope::REQUEST: return Message(readRequest(env.getRequest()));
      case cs::Envelope::RESPONSE: return Message(readResponse(env.getResponse()));
      case cs::Envelope::SESSION_INIT: return Message(readSessionInit(env.getSessionInit()));
      case cs::Envelope::SESSION_REPLY: return Message(readSessionReply(env.getSessionReply()));
      default: return fail(ErrorCode::kInvalidArgument, "unknown envelope kind");
    }
  } catch (const DecodeFailure& f) {
    return fail(ErrorCode::kInvalidArgument, f.reason);
  } catch (const kj::Exception& e) {
    return fail(ErrorCode::kInvalidArgument,
                std::string("malformed Cap'n Proto: ") + e.getDescription().cStr());
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInvalidArgument, std::string("malformed message: ") + e.what());
  }
}

void encodeInto(const Message& message, const std::function<MutableByteView(std::size_t)>& allocate) {
  // One first segment large enough for the body keeps the message in a single segment.
  const auto firstSegmentWords = static_cast<unsigned>(bodySize(message) / sizeof(capnp::word) + 128);
  capnp::MallocMessageBuilder mb(firstSegmentWords);
  try {
    build(mb, message);
    const std::size_t size = capnp::computeSerializedSizeInWords(mb) * sizeof(capnp::word);
    MutableByteView out = allocate(size);
    MERIT_ASSERT(out.size() == size, out.size(), size);
    kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data()), out.size()));
    capnp::writeMessage(stream, mb);
    MERIT_ASSERT(stream.getArray().size() == size, stream.getArray().size(), size);
  } catch (const kj::Exception& e) {
    // Our own values always encode; reaching this is a bug, not input.
    MERIT_ASSERT(false, e.getDescription().cStr());
  }
}

Bytes encode(const Message& message) {
  Bytes out;
  encodeInto(message, [&out](std::size_t size) {
    out.resize(size);
    return MutableByteView(out);
  });
  return out;
}

}  // namespace merit::wire
