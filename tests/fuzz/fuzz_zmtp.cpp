// Our ZMTP engine (merit_net, src/net/zmtp.h) on arbitrary bytes from a peer: never crashes,
// never holds more than its limits allow, and once failed takes no more input. The first byte
// picks the role (NULL server, CURVE server, NULL client, publisher) and whether a valid NULL
// greeting and READY come first, so the fuzzer reaches the framing states too; the next bytes
// pick how the input is cut into reads.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "merit/util/assert.h"

#include "zmtp.h"

namespace {

using namespace merit;
using namespace merit::net;

std::shared_ptr<const zmtp::Options> options(int which) {
  auto o = std::make_shared<zmtp::Options>();
  o->limits.maxFrameBytes = 4096;
  o->limits.maxMessageFrames = 4;
  o->limits.maxMessageBytes = 8192;
  o->limits.maxCommandBytes = 512;
  switch (which) {
    case 0:
      o->role = zmtp::Role::kServer;
      o->socketType = "ROUTER";
      o->peerTypes = {"DEALER"};
      break;
    case 1: {
      o->role = zmtp::Role::kServer;
      o->socketType = "ROUTER";
      o->peerTypes = {"DEALER"};
      ByteArray<32> secret{};
      secret[0] = std::byte{7};
      o->curve = zmtp::curveKeysFromSecret(ByteView(secret), std::nullopt);
      break;
    }
    case 2:
      o->role = zmtp::Role::kClient;
      o->socketType = "DEALER";
      o->peerTypes = {"ROUTER"};
      break;
    default:
      o->role = zmtp::Role::kServer;
      o->socketType = "PUB";
      o->peerTypes = {"SUB"};
      o->publisher = true;
      o->limits.maxFrameBytes = 65;
      o->limits.maxMessageFrames = 1;
      o->limits.maxMessageBytes = 65;
      break;
  }
  return o;
}

// CURVE client and server back to back in memory; the fuzz bytes become messages the client
// encrypts, so the server's decryption, flags and limits run on well-authenticated boxes.
void curvePair(const std::uint8_t* data, std::size_t size) {
  auto server = options(1);
  auto client = std::make_shared<zmtp::Options>(*server);
  client->role = zmtp::Role::kClient;
  client->socketType = "DEALER";
  client->peerTypes = {"ROUTER"};
  ByteArray<32> secret{};
  secret[0] = std::byte{9};
  client->curve = zmtp::curveKeysFromSecret(ByteView(secret), server->curve->publicKey);
  zmtp::Engine s(server), c(client);
  Bytes toServer, toClient;
  c.start(toServer);
  s.start(toClient);
  for (int i = 0; i < 8 && !(toServer.empty() && toClient.empty()); ++i) {
    Bytes a, b;
    if (!toServer.empty()) MERIT_ASSERT(s.receive(toServer, b, [](zmtp::Message&&) {}));
    if (!toClient.empty()) MERIT_ASSERT(c.receive(toClient, a, [](zmtp::Message&&) {}));
    toServer = std::move(a);
    toClient = std::move(b);
  }
  MERIT_ASSERT(s.ready() && c.ready());
  // Each input byte n starts a frame of n bytes (taken from what follows); 0 ends a message.
  std::vector<ByteView> frames;
  std::size_t pos = 0;
  while (pos < size && !s.failed()) {
    const std::size_t n = std::min<std::size_t>(data[pos], size - pos - 1);
    frames.emplace_back(reinterpret_cast<const std::byte*>(data + pos + 1), n);
    pos += 1 + n;
    if (n == 0 || frames.size() == 6 || pos >= size) {
      Bytes wire, out;
      c.encode(frames, wire);
      std::size_t delivered = 0;
      (void)s.receive(wire, out, [&](zmtp::Message&& m) {
        ++delivered;
        MERIT_ASSERT(m.size() == frames.size(), m.size(), frames.size());
      });
      MERIT_ASSERT(delivered == 1 || s.failed(), delivered);
      frames.clear();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  if ((data[0] & 8) != 0) {
    curvePair(data + 1, size - 1);
    return 0;
  }
  const int which = data[0] & 3;
  const bool prefix = (data[0] & 4) != 0 && which != 1;
  const std::size_t chunk = 1 + data[1];
  auto opts = options(which);
  zmtp::Engine engine(opts);
  Bytes out;
  engine.start(out);
  Bytes input;
  if (prefix) {
    std::uint8_t g[64] = {0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0, 'N', 'U', 'L', 'L'};
    input.insert(input.end(), reinterpret_cast<std::byte*>(g), reinterpret_cast<std::byte*>(g) + 64);
    const char* type = which == 2 ? "ROUTER" : which == 3 ? "SUB" : "DEALER";
    std::string ready = "\x05READY\x0bSocket-Type";
    const std::size_t n = std::strlen(type);
    ready += std::string("\0\0\0", 3) + static_cast<char>(n) + type;
    input.push_back(std::byte{0x04});
    input.push_back(std::byte(ready.size()));
    for (char c : ready) input.push_back(std::byte(static_cast<unsigned char>(c)));
  }
  input.insert(input.end(), reinterpret_cast<const std::byte*>(data + 2),
               reinterpret_cast<const std::byte*>(data + size));
  std::size_t messages = 0;
  for (std::size_t pos = 0; pos < input.size(); pos += chunk) {
    const std::size_t n = std::min(chunk, input.size() - pos);
    out.clear();
    auto ok = engine.receive(ByteView(input).subspan(pos, n), out, [&](zmtp::Message&& m) {
      ++messages;
      MERIT_ASSERT(!m.empty() && m.size() <= opts->limits.maxMessageFrames, m.size());
    });
    // Held at most: the frames of an unfinished message and one frame or command being read
    // (a command may be up to maxCommandBytes, which can exceed maxFrameBytes).
    const auto& lim = opts->limits;
    MERIT_ASSERT(
        engine.buffered() <= lim.maxMessageBytes + std::max(lim.maxFrameBytes, lim.maxCommandBytes) + 64,
        engine.buffered());
    if (!ok) {
      MERIT_ASSERT(engine.failed());
      break;
    }
  }
  if (engine.ready()) {
    const ByteView frames[] = {ByteView(input).first(std::min<std::size_t>(input.size(), 32))};
    out.clear();
    engine.encode(frames, out);
  }
  return 0;
}
