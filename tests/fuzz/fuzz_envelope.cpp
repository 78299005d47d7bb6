// libFuzzer target: envelope decoding and verification, the axon's and dendrite's parser of
// untrusted bytes. Checks that decode never crashes or throws, that everything it accepts
// re-encodes to a message that decodes to the same value, and that verification of any accepted
// message returns an answer (never crashes) and never accepts a forged MAC.
#include <cstddef>
#include <cstdint>

#include "merit/util/assert.h"
#include "merit/wire/auth.h"
#include "merit/wire/codec.h"

namespace {

const merit::wire::SessionKey& fixedKey() {
  static const merit::wire::SessionKey key{
      merit::ByteView(merit::crypto::blake2b256(merit::asBytes("fuzz")))};
  return key;
}

const merit::crypto::AnyPublicKey& fixedResponder() {
  static const merit::crypto::AnyPublicKey key = [] {
    merit::ByteArray<32> secret;
    secret.fill(std::byte{7});
    return merit::crypto::AnyPublicKey(merit::crypto::PrivateKey::fromBytes(secret).value().publicKey());
  }();
  return key;
}

const merit::crypto::AnyPublicKey& fixedSr25519Responder() {
  static const merit::crypto::AnyPublicKey key(
      merit::crypto::sr25519::keypairFromSuri("//Bob").value().publicKey());
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace merit;
  const ByteView frame(reinterpret_cast<const std::byte*>(data), size);
  auto decoded = wire::decode(frame, wire::DecodeLimits{1u << 20, 8});
  if (!decoded) return 0;
  auto again = wire::decode(wire::encode(*decoded));
  MERIT_ASSERT(again.has_value());
  MERIT_ASSERT(*again == *decoded);
  if (const auto* r = std::get_if<wire::Request>(&*decoded)) {
    (void)wire::verifyRequestSignature(*r);
    // The fuzzer cannot know the key, so a MAC it made up must never verify.
    MERIT_ASSERT(!wire::verifyRequestMac(*r, fixedKey()).has_value() ||
                 r->auth.mac ==
                     crypto::blake2b256Keyed(fixedKey().reveal(), wire::canonicalRequest(r->header)));
    (void)(wire::hashBody(r->body) == r->header.bodyHash);
  } else if (const auto* resp = std::get_if<wire::Response>(&*decoded)) {
    // Either scheme's responder: a signature of the other scheme must be refused, not crash.
    const wire::Hotkey caller = fixedSr25519Responder();
    (void)wire::verifyResponseSignature(*resp, caller, fixedResponder());
    (void)wire::verifyResponseSignature(*resp, caller, fixedSr25519Responder());
    (void)wire::verifyResponseMac(*resp, caller, fixedResponder(), fixedKey());
  } else if (const auto* init = std::get_if<wire::SessionInit>(&*decoded)) {
    (void)wire::verifySessionInit(*init);
    // The key agreement with an arbitrary (possibly low-order) ephemeral key answers, never crashes.
    static const wire::EphemeralKeyPair ours = wire::EphemeralKeyPair::generate();
    (void)wire::deriveSessionKey(
        ours.secretKey, init->clientEphemeral,
        wire::SessionTranscript{
            init->caller, init->target, init->clientEphemeral, ours.publicKey, init->clientNonce, {}, {}});
  } else if (const auto* reply = std::get_if<wire::SessionReply>(&*decoded)) {
    const wire::Hotkey caller = fixedSr25519Responder();
    (void)wire::verifySessionAccept(*reply, caller, wire::EphemeralKey{}, fixedResponder());
  }
  return 0;
}
