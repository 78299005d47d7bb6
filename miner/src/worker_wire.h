// Private to merit_miner: the framing of the worker link (docs/PROTOCOL.md, "Worker link").
// Every message is one ZeroMQ multipart message; the first frame is one command byte, integers
// are little-endian. Both ends are authenticated (CurveZMQ with the derived keys), so a frame
// that breaks this layout is a bug or a version mismatch, never a stranger: it is logged and
// answered (or dropped), never trusted for sizes.
//
// Thread-safety: free functions on values.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include <zmq.hpp>

namespace merit::miner::link {

inline constexpr std::uint32_t kVersion = 2;  // 2: callers are tagged hotkeys of either scheme
// Commands (first frame, one byte).
inline constexpr char kHello = 'H';      // worker → front: version:u32 capacity:u32 | module
inline constexpr char kWelcome = 'W';    // front → worker: heartbeat_ms:u32 timeout_ms:u32
inline constexpr char kHeartbeat = 'B';  // both ways, no payload
inline constexpr char kJob = 'J';        // front → worker: job:u64 | (meta | body) per request
inline constexpr char kResult = 'R';     // worker → front: job:u64 | (status:u8 | message | body) per reply
inline constexpr char kRefuse = 'X';     // front → worker: fatal:u8 | reason text
// Per request meta: module_version:u32 timeout_ms:u32 request_id[16] caller_len:u8 caller[34]:
// the caller's tagged hotkey (wire::Hotkey, 33 bytes sr25519 or 34 ecdsa; length 0: none),
// zero-padded to 34.
inline constexpr std::size_t kCallerOffset = 4 + 4 + 16;
inline constexpr std::size_t kRequestMetaBytes = kCallerOffset + 1 + 34;
inline constexpr std::size_t kMaxRequestsPerJob = 4096;

inline void putU32(unsigned char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline void putU64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline std::uint32_t getU32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}
inline std::uint64_t getU64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

inline zmq::message_t command(char c) {
  return zmq::message_t(&c, 1);
}
inline std::optional<char> commandOf(const zmq::message_t& m) {
  if (m.size() != 1) return std::nullopt;
  return *static_cast<const char*>(m.data());
}
inline zmq::message_t u64Frame(std::uint64_t v) {
  unsigned char b[8];
  putU64(b, v);
  return zmq::message_t(b, 8);
}
inline std::optional<std::uint64_t> u64Of(const zmq::message_t& m) {
  if (m.size() != 8) return std::nullopt;
  return getU64(static_cast<const unsigned char*>(m.data()));
}
inline zmq::message_t u32PairFrame(std::uint32_t a, std::uint32_t b) {
  unsigned char buf[8];
  putU32(buf, a);
  putU32(buf + 4, b);
  return zmq::message_t(buf, 8);
}

}  // namespace merit::miner::link
