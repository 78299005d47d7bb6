// The worked example of docs/PROTOCOL.md: fixed keys and fields give these exact canonical bytes
// and signatures (RFC 6979 makes ECDSA deterministic). If this test changes, the protocol did.
#include <doctest/doctest.h>

#include "merit/wire/auth.h"
#include "merit/wire/codec.h"

namespace merit::wire {
namespace {

crypto::PrivateKey keyOf(unsigned char fill) {
  ByteArray<32> secret;
  secret.fill(std::byte{fill});
  return crypto::PrivateKey::fromBytes(secret).value();
}

RequestHeader exampleHeader(const crypto::PrivateKey& caller, const crypto::PrivateKey& target) {
  RequestHeader h;
  h.protocolVersion = 1;
  h.netuid = 7;
  h.module = "echo";
  h.moduleVersion = 1;
  for (std::size_t i = 0; i < h.requestId.size(); ++i) h.requestId[i] = std::byte(i);
  h.caller = caller.publicKey().bytes();
  h.target = target.publicKey().bytes();
  h.timestampMs = 1'700'000'000'000;
  h.nonce = 1'700'000'000'000'000'000ull;
  h.timeoutMs = 12'000;
  h.bodyHash = hashBody(asBytes("hello"));
  return h;
}

}  // namespace

TEST_CASE("worked example: request canonical bytes and signature") {
  const auto caller = keyOf(0x01);
  const auto target = keyOf(0x02);
  Request r;
  r.header = exampleHeader(caller, target);
  r.body = toBytes("hello");

  CHECK(caller.publicKey().toHex() == "031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f");
  CHECK(target.publicKey().toHex() == "024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766");
  CHECK(toHex(r.header.bodyHash) == "324dcf027dd4a30a932c441f365a25e86b173defa4b8e58948253471b81b72cf");
  const Bytes canonical = canonicalRequest(r.header);
  CHECK(toHex(canonical) ==
        "136d657269746e65742f76312f726571756573740100070004"
        "6563686f01000000000102030405060708090a0b0c0d0e0f"
        "031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f"
        "024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766"
        "0068e5cf8b010000"
        "00002a36fe9c9717"
        "e02e0000"
        "324dcf027dd4a30a932c441f365a25e86b173defa4b8e58948253471b81b72cf");
  CHECK(toHex(crypto::blake2b256(canonical)) ==
        "5d6a6147af8d071fadce6feae912952dc83122b1d019a3e6bfcbc14f86023147");
  signRequest(r, caller);
  CHECK(toHex(r.auth.signature) ==
        "e8a9170004d64db1e708b21cc30ca3264fde3c355bd4fb2ce413f876349ba409"
        "3fbc5d26257fdec2fb697903c27755a988ecf322994e13a1e449f94ebdb9f48100");
  CHECK(verifyRequestSignature(r));
}

TEST_CASE("worked example: signed response") {
  const auto caller = keyOf(0x01);
  const auto target = keyOf(0x02);
  Response resp;
  for (std::size_t i = 0; i < resp.requestId.size(); ++i) resp.requestId[i] = std::byte(i);
  resp.status = Status::kOk;
  resp.message = "";
  resp.timestampMs = 1'700'000'000'250;
  resp.body = toBytes("HELLO");
  resp.bodyHash = hashBody(resp.body);
  const Bytes canonical = canonicalResponse(resp, caller.publicKey().bytes(), target.publicKey().bytes());
  CHECK(toHex(canonical) ==
        "146d657269746e65742f76312f726573706f6e7365"
        "000102030405060708090a0b0c0d0e0f"
        "031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f"
        "024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766"
        "00"
        "0000"
        "fa68e5cf8b010000"
        "1d6413a84e7500157902f710cbd461d6b4c5ec41519a871c0e3aeafbfc418506");
  signResponse(resp, caller.publicKey().bytes(), target);
  CHECK(toHex(resp.auth.signature) ==
        "9661f68cfcc873db97a54ddb5d7955145e5d0af4a3a2d73684087d88f33e4e83"
        "2bd26b84999e6ae4f336836d87b12e90af5c7559aa9678648ad90b706b07810f01");
  CHECK(verifyResponseSignature(resp, caller.publicKey().bytes(), target.publicKey()));
}

TEST_CASE("worked example: session key and MAC") {
  const auto caller = keyOf(0x01);
  const auto target = keyOf(0x02);
  HandshakeNonce clientNonce;
  HandshakeNonce serverNonce;
  SessionId sessionId;
  clientNonce.fill(std::byte{0xaa});
  serverNonce.fill(std::byte{0xbb});
  sessionId.fill(std::byte{0xcc});
  const auto c = caller.publicKey().bytes();
  const auto t = target.publicKey().bytes();
  SessionKey callerSide =
      deriveSessionKey(caller, target.publicKey(), c, t, clientNonce, serverNonce, sessionId);
  SessionKey axonSide =
      deriveSessionKey(target, caller.publicKey(), c, t, clientNonce, serverNonce, sessionId);
  CHECK(toHex(callerSide.reveal()) == toHex(axonSide.reveal()));
  CHECK(toHex(callerSide.reveal()) == "24c5876a73c950167245af2f3f4c22f55258336495145111d8b37da225346a17");
  Request r;
  r.header = exampleHeader(caller, target);
  r.body = toBytes("hello");
  macRequest(r, callerSide, sessionId);
  CHECK(toHex(r.auth.mac) == "d9c388b4eeec434e3d7b69ca2360e98ae5a47382b1b3b2cd1ae3c7f751525313");
  CHECK(verifyRequestMac(r, axonSide));
}

}  // namespace merit::wire
