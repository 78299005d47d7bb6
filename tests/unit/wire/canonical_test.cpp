// The worked examples of docs/PROTOCOL.md: fixed keys and fields give these exact canonical
// bytes, signatures and session keys (RFC 6979 makes ECDSA deterministic; the sr25519 example
// signs with fixed randomness). If this test changes, the protocol did.
#include <fstream>
#include <sstream>

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

RequestHeader exampleHeader(const Hotkey& caller, const Hotkey& target) {
  RequestHeader h;
  h.protocolVersion = 2;
  h.netuid = 7;
  h.module = "echo";
  h.moduleVersion = 1;
  for (std::size_t i = 0; i < h.requestId.size(); ++i) h.requestId[i] = std::byte(i);
  h.caller = caller;
  h.target = target;
  h.timestampMs = 1'700'000'000'000;
  h.nonce = 1'700'000'000'000'000'000ull;
  h.timeoutMs = 12'000;
  h.bodyHash = hashBody(asBytes("hello"));
  return h;
}

// The sr25519 example signs with these 32 bytes as its randomness, so its signature is fixed.
// The worked example's handshake: ephemeral X25519 secrets 32 × 0x11 (caller) and 32 × 0x22
// (axon), and the transcript over them.
struct ExampleSession {
  EphemeralKeyPair callerEph;
  EphemeralKeyPair axonEph;
  SessionTranscript transcript;
};

ExampleSession exampleSession(const Hotkey& caller, const Hotkey& target) {
  ExampleSession ex;
  ByteArray<32> secret;
  secret.fill(std::byte{0x11});
  ex.callerEph = EphemeralKeyPair::fromSecret(secret);
  secret.fill(std::byte{0x22});
  ex.axonEph = EphemeralKeyPair::fromSecret(secret);
  ex.transcript.caller = caller;
  ex.transcript.target = target;
  ex.transcript.clientEphemeral = ex.callerEph.publicKey;
  ex.transcript.serverEphemeral = ex.axonEph.publicKey;
  return ex;
}

ByteArray<32> exampleRandomness() {
  ByteArray<32> r;
  r.fill(std::byte{0x42});
  return r;
}

}  // namespace

TEST_CASE("worked example: ecdsa request canonical bytes and signature") {
  const auto caller = keyOf(0x01);
  const auto target = keyOf(0x02);
  Request r;
  r.header = exampleHeader(caller.publicKey(), target.publicKey());
  r.body = toBytes("hello");

  CHECK(caller.publicKey().toHex() == "031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f");
  CHECK(target.publicKey().toHex() == "024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766");
  CHECK(toHex(r.header.bodyHash) == "324dcf027dd4a30a932c441f365a25e86b173defa4b8e58948253471b81b72cf");
  const Bytes canonical = canonicalRequest(r.header);
  CHECK(toHex(canonical) ==
        "136d657269746e65742f76312f726571756573740200070004"
        "6563686f01000000000102030405060708090a0b0c0d0e0f"
        "02031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f"
        "02024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766"
        "0068e5cf8b010000"
        "00002a36fe9c9717"
        "e02e0000"
        "324dcf027dd4a30a932c441f365a25e86b173defa4b8e58948253471b81b72cf");
  CHECK(toHex(crypto::blake2b256(canonical)) ==
        "4eb0f01c2fa7176ec285de16f90d508e881725df3c3a48deac815ae4de6b109e");
  signRequest(r, caller);
  CHECK(toHex(r.auth.signature.tagged()) ==
        "02ec7a16e0171f8fdee4c4961544f1950ca334a449e591dd10b6786a16a58ef7"
        "1e090475fe6a7fa334c244a5c15566d810453403099d8a828e576ce9e1b4e138"
        "9900");
  CHECK(verifyRequestSignature(r));
}

TEST_CASE("worked example: sr25519 request (//Alice) canonical bytes and signature") {
  const auto alice = crypto::sr25519::keypairFromSuri("//Alice").value();
  const auto bob = crypto::sr25519::keypairFromSuri("//Bob").value();
  // Substrate's well-known dev keys.
  CHECK(alice.publicKey().toHex() == "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
  CHECK(bob.publicKey().toHex() == "8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48");
  Request r;
  r.header = exampleHeader(alice.publicKey(), bob.publicKey());
  r.body = toBytes("hello");
  const Bytes canonical = canonicalRequest(r.header);
  CHECK(toHex(canonical) ==
        "136d657269746e65742f76312f726571756573740200070004"
        "6563686f01000000000102030405060708090a0b0c0d0e0f"
        "01d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
        "018eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48"
        "0068e5cf8b010000"
        "00002a36fe9c9717"
        "e02e0000"
        "324dcf027dd4a30a932c441f365a25e86b173defa4b8e58948253471b81b72cf");
  // What signRequest does, with fixed randomness instead of fresh randomness.
  r.auth.kind = Authenticator::Kind::kSignature;
  r.auth.signature = crypto::AnySignature(alice.signWithRandomness(canonical, exampleRandomness()));
  CHECK(toHex(r.auth.signature.tagged()) ==
        "01b44abf4665777ab78ef485930733a21cadd5a9dc731ae462bc8c26a711da41"
        "4b6df160bdca12d013c7174f59c0637a58656ff7dd7b4bcdfe73ffbeb6dbc34d"
        "88");
  CHECK(verifyRequestSignature(r));
  // The account id of an sr25519 hotkey is the key itself (an ecdsa one's is BLAKE2b-256 of it).
  CHECK(toHex(r.header.caller.accountId()) == alice.publicKey().toHex());
  CHECK(r.header.caller.toPublicKey()->ss58Address() == "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");

  // The whole frame, as it travels.
  CHECK(toHex(encode(Message(r))) ==
        "000000002d000000000000000100010000000000000000000000000000000300"
        "08000000040005006d0000002a0000006c000000010002000200070001000000"
        "0068e5cf8b01000000002a36fe9c9717e02e000000000000110000002a000000"
        "1100000082000000150000000a010000250000000a0100003500000002010000"
        "6563686f00000000000102030405060708090a0b0c0d0e0f01d43593c715fdd3"
        "1c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d00000000000000"
        "018eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a"
        "4800000000000000324dcf027dd4a30a932c441f365a25e86b173defa4b8e589"
        "48253471b81b72cf68656c6c6f0000000100000000000000050000000a020000"
        "000000000000000001b44abf4665777ab78ef485930733a21cadd5a9dc731ae4"
        "62bc8c26a711da414b6df160bdca12d013c7174f59c0637a58656ff7dd7b4bcd"
        "fe73ffbeb6dbc34d8800000000000000");

  // A signature made by signRequest (fresh randomness) verifies too.
  Request fresh = r;
  signRequest(fresh, alice);
  CHECK(verifyRequestSignature(fresh));
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
  const Bytes canonical = canonicalResponse(resp, caller.publicKey(), target.publicKey());
  CHECK(toHex(canonical) ==
        "146d657269746e65742f76312f726573706f6e7365"
        "000102030405060708090a0b0c0d0e0f"
        "02031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f"
        "02024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766"
        "00"
        "0000"
        "fa68e5cf8b010000"
        "1d6413a84e7500157902f710cbd461d6b4c5ec41519a871c0e3aeafbfc418506");
  signResponse(resp, caller.publicKey(), target);
  CHECK(toHex(resp.auth.signature.tagged()) ==
        "02c0d6c13ef9bdb0ff629a7895ea949a80d1fcb971c1e0af6d3d6e7a74b5e94a"
        "2a6df051a3e78f7599e9e5f8fbe92f4a0be4298ee73d0235661cc16088f1b843"
        "2800");
  CHECK(verifyResponseSignature(resp, caller.publicKey(), target.publicKey()));
}

TEST_CASE("worked example: session key and MAC") {
  const auto caller = keyOf(0x01);
  const auto alice = crypto::sr25519::keypairFromSuri("//Alice").value();
  const ExampleSession ex =
      exampleSession(caller.publicKey(), alice.publicKey());  // ecdsa validator, sr25519 miner
  const EphemeralKeyPair& callerEph = ex.callerEph;
  SessionTranscript t = ex.transcript;
  CHECK(toHex(t.clientEphemeral) == "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13");
  CHECK(toHex(t.serverEphemeral) == "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20");
  t.clientNonce.fill(std::byte{0xaa});
  t.serverNonce.fill(std::byte{0xbb});
  t.sessionId.fill(std::byte{0xcc});
  auto callerSide = deriveSessionKey(callerEph.secretKey, t.serverEphemeral, t);
  auto axonSide = deriveSessionKey(ex.axonEph.secretKey, t.clientEphemeral, t);
  REQUIRE(callerSide);
  REQUIRE(axonSide);
  CHECK(toHex(callerSide->reveal()) == toHex(axonSide->reveal()));
  CHECK(toHex(callerSide->reveal()) == "c88b351227e77932b618f9e21e8eb28a872d239b9f24b5c65a4ec21116c4a401");
  Request r;
  r.header = exampleHeader(caller.publicKey(), alice.publicKey());
  r.body = toBytes("hello");
  macRequest(r, *callerSide, t.sessionId);
  CHECK(toHex(r.auth.mac) == "7fcf7c250b8d6bf116842da94ae360ccf95a5c95b18fa6311abb19516a9842d7");
  CHECK(verifyRequestMac(r, *axonSide));
}

// The worked examples in docs/PROTOCOL.md are the bytes the code makes: each value is looked for
// in the page with all whitespace removed (the page wraps long hex over lines).
TEST_CASE("docs/PROTOCOL.md shows the worked examples' bytes as the code makes them") {
  std::ifstream in(std::string(MERIT_SOURCE_DIR) + "/docs/PROTOCOL.md");
  REQUIRE(in);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string page;
  for (char c : buffer.str()) {
    if (c != ' ' && c != '\n') page += c;
  }
  auto shown = [&page](const std::string& hex) { return page.find(hex) != std::string::npos; };

  const auto caller = keyOf(0x01);
  const auto target = keyOf(0x02);
  Request ecdsa;
  ecdsa.header = exampleHeader(caller.publicKey(), target.publicKey());
  signRequest(ecdsa, caller);
  CHECK(shown(toHex(crypto::blake2b256(canonicalRequest(ecdsa.header)))));
  CHECK(shown(toHex(ecdsa.auth.signature.tagged())));

  const auto alice = crypto::sr25519::keypairFromSuri("//Alice").value();
  const auto bob = crypto::sr25519::keypairFromSuri("//Bob").value();
  Request sr;
  sr.header = exampleHeader(alice.publicKey(), bob.publicKey());
  sr.body = toBytes("hello");
  sr.auth.kind = Authenticator::Kind::kSignature;
  sr.auth.signature =
      crypto::AnySignature(alice.signWithRandomness(canonicalRequest(sr.header), exampleRandomness()));
  CHECK(shown(toHex(sr.auth.signature.tagged())));
  CHECK(shown(toHex(encode(Message(sr)))));
  CHECK(shown(crypto::AnyPublicKey(alice.publicKey()).ss58Address()));

  const ExampleSession ex = exampleSession(caller.publicKey(), alice.publicKey());
  const EphemeralKeyPair& callerEph = ex.callerEph;
  SessionTranscript t = ex.transcript;
  t.clientNonce.fill(std::byte{0xaa});
  t.serverNonce.fill(std::byte{0xbb});
  t.sessionId.fill(std::byte{0xcc});
  auto key = deriveSessionKey(callerEph.secretKey, t.serverEphemeral, t);
  REQUIRE(key);
  CHECK(shown(toHex(t.clientEphemeral)));
  CHECK(shown(toHex(t.serverEphemeral)));
  CHECK(shown(toHex(key->reveal())));
  Request maced;
  maced.header = exampleHeader(caller.publicKey(), alice.publicKey());
  macRequest(maced, *key, t.sessionId);
  CHECK(shown(toHex(maced.auth.mac)));
}

}  // namespace merit::wire
