#include "merit/wire/auth.h"

#include <functional>

#include <doctest/doctest.h>

namespace merit::wire {
namespace {

using crypto::AnyPrivateKey;
using crypto::KeyScheme;

constexpr KeyScheme kSchemes[] = {KeyScheme::kEcdsa, KeyScheme::kSr25519};

Request signedRequest(const AnyPrivateKey& caller, const AnyPrivateKey& target) {
  Request r;
  r.header.netuid = 1;
  r.header.module = "matmul";
  r.header.moduleVersion = 1;
  crypto::randomBytes(r.header.requestId);
  r.header.caller = caller.publicKey();
  r.header.target = target.publicKey();
  r.header.timestampMs = 1'700'000'000'000;
  r.header.nonce = 7;
  r.header.timeoutMs = 1000;
  r.body = toBytes("body");
  r.header.bodyHash = hashBody(r.body);
  signRequest(r, caller);
  return r;
}

std::string name(KeyScheme s) {
  return std::string(crypto::schemeName(s));
}

}  // namespace

TEST_CASE("a request signature covers every header field, in both schemes") {
  for (KeyScheme scheme : kSchemes) {
    CAPTURE(name(scheme));
    const auto caller = AnyPrivateKey::generate(scheme);
    const auto target = AnyPrivateKey::generate(KeyScheme::kEcdsa);
    const Request good = signedRequest(caller, target);
    REQUIRE(verifyRequestSignature(good));
    CHECK(good.auth.signature.scheme() == scheme);
    const Hotkey otherTarget = AnyPrivateKey::generate(KeyScheme::kSr25519).publicKey();
    std::vector<std::function<void(RequestHeader&)>> tamper = {
        [](RequestHeader& h) { h.netuid ^= 1; },
        [](RequestHeader& h) { h.module = "matmuk"; },
        [](RequestHeader& h) { h.moduleVersion ^= 1; },
        [](RequestHeader& h) { h.requestId[0] ^= std::byte{1}; },
        [&](RequestHeader& h) { h.target = otherTarget; },
        [](RequestHeader& h) { h.timestampMs += 1; },
        [](RequestHeader& h) { h.nonce += 1; },
        [](RequestHeader& h) { h.timeoutMs += 1; },
        [](RequestHeader& h) { h.bodyHash[31] ^= std::byte{1}; },
    };
    for (auto& t : tamper) {
      Request r = good;
      t(r.header);
      auto v = verifyRequestSignature(r);
      CHECK_FALSE(v);
      if (!v) CHECK(v.error().code() == ErrorCode::kUnauthorized);
    }
    // Another key of the same scheme claiming to be the caller.
    Request forged = good;
    forged.auth.signature = AnyPrivateKey::generate(scheme).sign(canonicalRequest(good.header));
    CHECK_FALSE(verifyRequestSignature(forged));
    // A request without an authenticator.
    forged.auth = {};
    CHECK_FALSE(verifyRequestSignature(forged));
  }
}

TEST_CASE("a signature of the other scheme than the caller's hotkey is unauthorized") {
  for (KeyScheme scheme : kSchemes) {
    CAPTURE(name(scheme));
    const KeyScheme other = scheme == KeyScheme::kEcdsa ? KeyScheme::kSr25519 : KeyScheme::kEcdsa;
    const auto caller = AnyPrivateKey::generate(scheme);
    const auto target = AnyPrivateKey::generate(KeyScheme::kEcdsa);
    Request r = signedRequest(caller, target);
    // A valid signature by a key of the other scheme over the same bytes.
    r.auth.signature = AnyPrivateKey::generate(other).sign(canonicalRequest(r.header));
    auto v = verifyRequestSignature(r);
    REQUIRE_FALSE(v);
    CHECK(v.error().code() == ErrorCode::kUnauthorized);
    CHECK(v.error().message().find(name(other) + " signature for an " + name(scheme) + " hotkey") !=
          std::string::npos);
  }
}

TEST_CASE("a message signature over a request's or handshake's canonical bytes does not verify") {
  for (KeyScheme scheme : kSchemes) {
    CAPTURE(name(scheme));
    const auto caller = AnyPrivateKey::generate(scheme);
    const auto target = AnyPrivateKey::generate(KeyScheme::kEcdsa);
    Request r = signedRequest(caller, target);
    r.auth.signature = caller.signMessage(canonicalRequest(r.header));
    CHECK_FALSE(verifyRequestSignature(r));
    SessionInit init;
    init.caller = caller.publicKey();
    init.target = target.publicKey();
    init.timestampMs = 1'700'000'000'000;
    signSessionInit(init, caller);
    REQUIRE(verifySessionInit(init));
    init.signature = caller.signMessage(canonicalSessionInit(init));
    CHECK_FALSE(verifySessionInit(init));
  }
}

TEST_CASE("responses are bound to caller and responder, in both schemes") {
  for (KeyScheme scheme : kSchemes) {
    CAPTURE(name(scheme));
    const auto caller = AnyPrivateKey::generate(KeyScheme::kEcdsa);
    const auto miner = AnyPrivateKey::generate(scheme);
    const Hotkey callerKey = caller.publicKey();
    Response r;
    crypto::randomBytes(r.requestId);
    r.body = toBytes("answer");
    r.bodyHash = hashBody(r.body);
    signResponse(r, callerKey, miner);
    CHECK(verifyResponseSignature(r, callerKey, miner.publicKey()));
    CHECK_FALSE(verifyResponseSignature(r, AnyPrivateKey::generate(scheme).publicKey(), miner.publicKey()));
    CHECK_FALSE(verifyResponseSignature(r, callerKey, AnyPrivateKey::generate(scheme).publicKey()));
    r.status = Status::kInternal;
    CHECK_FALSE(verifyResponseSignature(r, callerKey, miner.publicKey()));
  }
}

TEST_CASE("session handshake for every scheme pair: both sides derive one key; MACs reject forgeries") {
  for (KeyScheme callerScheme : kSchemes) {
    for (KeyScheme minerScheme : kSchemes) {
      CAPTURE(name(callerScheme));
      CAPTURE(name(minerScheme));
      const auto caller = AnyPrivateKey::generate(callerScheme);
      const auto miner = AnyPrivateKey::generate(minerScheme);
      const EphemeralKeyPair callerEph = EphemeralKeyPair::generate();
      const EphemeralKeyPair minerEph = EphemeralKeyPair::generate();
      SessionInit init;
      init.caller = caller.publicKey();
      init.target = miner.publicKey();
      init.timestampMs = 5;
      crypto::randomBytes(init.clientNonce);
      init.clientEphemeral = callerEph.publicKey;
      signSessionInit(init, caller);
      CHECK(verifySessionInit(init));
      SessionInit tampered = init;
      tampered.clientNonce[0] ^= std::byte{1};
      CHECK_FALSE(verifySessionInit(tampered));
      tampered = init;
      tampered.clientEphemeral[0] ^= std::byte{1};  // a man in the middle's key
      CHECK_FALSE(verifySessionInit(tampered));

      SessionReply reply;
      reply.clientNonce = init.clientNonce;
      crypto::randomBytes(reply.serverNonce);
      crypto::randomBytes(reply.sessionId);
      reply.serverEphemeral = minerEph.publicKey;
      signSessionAccept(reply, init.caller, init.clientEphemeral, miner);
      CHECK(verifySessionAccept(reply, init.caller, init.clientEphemeral, miner.publicKey()));
      CHECK_FALSE(verifySessionAccept(reply, init.caller, init.clientEphemeral, caller.publicKey()));
      SessionReply swapped = reply;
      swapped.serverEphemeral[0] ^= std::byte{1};
      CHECK_FALSE(verifySessionAccept(swapped, init.caller, init.clientEphemeral, miner.publicKey()));
      EphemeralKey otherClientEph = init.clientEphemeral;
      otherClientEph[0] ^= std::byte{1};
      CHECK_FALSE(verifySessionAccept(reply, init.caller, otherClientEph, miner.publicKey()));

      const SessionTranscript t{init.caller,           init.target,      init.clientEphemeral,
                                reply.serverEphemeral, init.clientNonce, reply.serverNonce,
                                reply.sessionId};
      auto k1 = deriveSessionKey(callerEph.secretKey, reply.serverEphemeral, t);
      auto k2 = deriveSessionKey(minerEph.secretKey, init.clientEphemeral, t);
      REQUIRE(k1);
      REQUIRE(k2);
      CHECK(toHex(k1->reveal()) == toHex(k2->reveal()));
      SessionTranscript other = t;
      other.serverNonce[0] ^= std::byte{1};
      auto k3 = deriveSessionKey(callerEph.secretKey, reply.serverEphemeral, other);
      REQUIRE(k3);
      CHECK(toHex(k1->reveal()) != toHex(k3->reveal()));
      // A third party with another ephemeral key derives something else.
      const EphemeralKeyPair eve = EphemeralKeyPair::generate();
      auto k4 = deriveSessionKey(eve.secretKey, reply.serverEphemeral, t);
      REQUIRE(k4);
      CHECK(toHex(k1->reveal()) != toHex(k4->reveal()));

      Request r = signedRequest(caller, miner);
      macRequest(r, *k1, reply.sessionId);
      CHECK(verifyRequestMac(r, *k2));
      CHECK_FALSE(verifyRequestMac(r, *k3));
      Request forged = r;
      forged.auth.mac[0] ^= std::byte{1};
      CHECK_FALSE(verifyRequestMac(forged, *k2));
      forged = r;
      forged.header.nonce += 1;
      CHECK_FALSE(verifyRequestMac(forged, *k2));

      Response resp;
      resp.requestId = r.header.requestId;
      resp.bodyHash = hashBody({});
      macResponse(resp, init.caller, init.target, *k2, reply.sessionId);
      CHECK(verifyResponseMac(resp, init.caller, init.target, *k1));
      CHECK_FALSE(verifyResponseMac(resp, init.target, init.caller, *k1));
    }
  }
}

TEST_CASE("a low-order ephemeral key (all-zero shared secret) is refused") {
  const EphemeralKeyPair ours = EphemeralKeyPair::generate();
  SessionTranscript t;
  t.caller = AnyPrivateKey::generate(KeyScheme::kSr25519).publicKey();
  t.target = AnyPrivateKey::generate(KeyScheme::kEcdsa).publicKey();
  const EphemeralKey zero{};  // the identity: every scalar maps it to zero
  EphemeralKey one{};
  one[0] = std::byte{1};  // a point of order 4
  for (const EphemeralKey& bad : {zero, one}) {
    auto key = deriveSessionKey(ours.secretKey, bad, t);
    REQUIRE_FALSE(key);
    CHECK(key.error().code() == ErrorCode::kUnauthorized);
    CHECK(key.error().message().find("low-order") != std::string::npos);
  }
}

TEST_CASE("hotkeys: tagged bytes, the per-scheme account id, ordering") {
  const auto ecdsa = AnyPrivateKey::generate(KeyScheme::kEcdsa).publicKey();
  const auto sr = AnyPrivateKey::generate(KeyScheme::kSr25519).publicKey();
  const Hotkey e = ecdsa;
  const Hotkey s = sr;
  CHECK(e.tagged().size() == 34);
  CHECK(s.tagged().size() == 33);
  CHECK(std::to_integer<int>(e.tagged()[0]) == 2);
  CHECK(std::to_integer<int>(s.tagged()[0]) == 1);
  CHECK(e.accountId() == ecdsa.accountId());
  CHECK(s.accountId() == sr.accountId());
  CHECK(toHex(s.accountId()) == toHex(s.keyBytes()));  // sr25519: the key itself
  CHECK(*e.toPublicKey() == ecdsa);
  CHECK(*s.toPublicKey() == sr);
  CHECK(e != s);
  CHECK((s < e) != (e < s));
  CHECK(std::hash<Hotkey>{}(e) == std::hash<Hotkey>{}(Hotkey(ecdsa)));
  CHECK(Hotkey::fromTagged(e.tagged()).value() == e);

  // fromTagged checks tag and length only; the point is parsed by toPublicKey.
  Bytes notAPoint(33, std::byte{0xff});
  notAPoint[0] = std::byte{1};
  auto unparsed = Hotkey::fromTagged(notAPoint);
  REQUIRE(unparsed);
  CHECK_FALSE(unparsed->toPublicKey());
  Bytes wrongLength(34, std::byte{0});
  wrongLength[0] = std::byte{1};
  CHECK_FALSE(Hotkey::fromTagged(wrongLength));
  Bytes ed25519(33, std::byte{0});
  auto unknown = Hotkey::fromTagged(ed25519);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message().find("ed25519") != std::string::npos);
}

TEST_CASE("constantTimeEqual") {
  CHECK(constantTimeEqual(asBytes("abc"), asBytes("abc")));
  CHECK_FALSE(constantTimeEqual(asBytes("abc"), asBytes("abd")));
  CHECK_FALSE(constantTimeEqual(asBytes("abc"), asBytes("ab")));
}

}  // namespace merit::wire
