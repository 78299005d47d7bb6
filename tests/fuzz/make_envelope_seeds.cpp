// Writes the seed corpus of fuzz_envelope (tests/fuzz/corpus/envelope): one valid frame of each
// message kind, signed requests of both schemes, a MACed request and a session handshake, all from
// fixed keys. Run after a wire layout change:
//   build/tests/fuzz/make_envelope_seeds tests/fuzz/corpus/envelope
// v1_request.bin is kept as it is: a version-1 request, for the version check.
#include <cstdio>
#include <fstream>
#include <string>

#include "merit/wire/auth.h"
#include "merit/wire/codec.h"

namespace {

using namespace merit;

crypto::PrivateKey ecdsaKey(unsigned char fill) {
  ByteArray<32> secret;
  secret.fill(std::byte{fill});
  return crypto::PrivateKey::fromBytes(secret).value();
}

bool write(const std::string& dir, const char* name, const wire::Message& m) {
  const Bytes b = wire::encode(m);
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return static_cast<bool>(out);
}

wire::Request request(crypto::SignerRef caller, const wire::Hotkey& target) {
  wire::Request r;
  r.header.netuid = 7;
  r.header.module = "echo";
  r.header.moduleVersion = 1;
  for (std::size_t i = 0; i < r.header.requestId.size(); ++i) r.header.requestId[i] = std::byte(i);
  r.header.caller = caller.publicKey();
  r.header.target = target;
  r.header.timestampMs = 1'700'000'000'000;
  r.header.nonce = 1;
  r.header.timeoutMs = 12'000;
  r.body = toBytes("hello");
  r.header.bodyHash = wire::hashBody(r.body);
  wire::signRequest(r, caller);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_envelope_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const auto validator = ecdsaKey(1);
  const auto miner = ecdsaKey(2);
  const auto alice = crypto::sr25519::keypairFromSuri("//Alice").value();
  const auto bob = crypto::sr25519::keypairFromSuri("//Bob").value();

  bool ok = write(dir, "request.bin", request(validator, miner.publicKey()));
  ok = ok && write(dir, "request_sr25519.bin", request(alice, bob.publicKey()));
  ok = ok && write(dir, "request_mixed.bin", request(alice, miner.publicKey()));

  const auto session = wire::EphemeralKeyPair::generate();
  wire::SessionKey key(ByteView(crypto::blake2b256(asBytes("seed session"))));
  wire::SessionId id;
  id.fill(std::byte{0xcc});
  wire::Request maced = request(validator, bob.publicKey());
  wire::macRequest(maced, key, id);
  ok = ok && write(dir, "request_mac.bin", maced);

  wire::Response resp;
  resp.requestId = maced.header.requestId;
  resp.body = toBytes("HELLO");
  resp.bodyHash = wire::hashBody(resp.body);
  resp.timestampMs = 1'700'000'000'250;
  wire::signResponse(resp, maced.header.caller, bob);
  ok = ok && write(dir, "response.bin", resp);

  wire::SessionInit init;
  init.caller = validator.publicKey();
  init.target = alice.publicKey();
  init.timestampMs = 1'700'000'000'000;
  init.clientNonce.fill(std::byte{0xaa});
  init.clientEphemeral = session.publicKey;
  wire::signSessionInit(init, validator);
  ok = ok && write(dir, "init.bin", init);

  wire::SessionReply reply;
  reply.clientNonce = init.clientNonce;
  reply.serverNonce.fill(std::byte{0xbb});
  reply.sessionId = id;
  reply.serverEphemeral = wire::EphemeralKeyPair::generate().publicKey;
  reply.timestampMs = 1'700'000'000'001;
  wire::signSessionAccept(reply, init.caller, init.clientEphemeral, alice);
  ok = ok && write(dir, "reply.bin", reply);
  if (!ok) {
    std::fprintf(stderr, "make_envelope_seeds: cannot write into %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
