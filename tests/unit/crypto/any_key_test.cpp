#include "merit/crypto/any_key.h"

#include <doctest/doctest.h>

#include "merit/crypto/domains.h"
#include "merit/crypto/hash.h"

namespace merit::crypto {
namespace {

TEST_CASE("scheme names parse both ways, anything else is refused") {
  CHECK(parseScheme("ecdsa").value() == KeyScheme::kEcdsa);
  CHECK(parseScheme("sr25519").value() == KeyScheme::kSr25519);
  CHECK(schemeName(KeyScheme::kEcdsa) == "ecdsa");
  CHECK(schemeName(KeyScheme::kSr25519) == "sr25519");
  CHECK(parseScheme("ed25519").error().code() == ErrorCode::kInvalidArgument);
  CHECK_FALSE(parseScheme("SR25519"));
}

TEST_CASE("account ids: sr25519 is the key itself, ecdsa is BLAKE2b-256 of the compressed key") {
  AnyPrivateKey alice(sr25519::keypairFromSuri("//Alice").value());
  AnyPublicKey pub = alice.publicKey();
  CHECK(pub.scheme() == KeyScheme::kSr25519);
  CHECK(toHex(pub.accountId()) == pub.toHex());
  CHECK(pub.ss58Address() == "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
  CHECK(pub.bytes().size() == 32);

  AnyPrivateKey e(PrivateKey::generate());
  AnyPublicKey ep = e.publicKey();
  CHECK(ep.scheme() == KeyScheme::kEcdsa);
  CHECK(ep.bytes().size() == 33);
  CHECK(ep.accountId() == blake2b256(ep.bytes()));
  CHECK(ep.ss58Address() == ss58Address(*ep.ecdsa()));

  // Parsing by scheme: the other scheme's bytes are refused.
  CHECK(AnyPublicKey::fromBytes(KeyScheme::kSr25519, pub.bytes()).value() == pub);
  CHECK_FALSE(AnyPublicKey::fromBytes(KeyScheme::kEcdsa, pub.bytes()));
  CHECK_FALSE(AnyPublicKey::fromBytes(KeyScheme::kSr25519, ep.bytes()));
  CHECK_FALSE(AnyPublicKey::fromBytes(KeyScheme::kSr25519, Bytes(32)));  // the identity point
  CHECK(pub.requireEcdsa("x").error().message().find("sr25519") != std::string::npos);
  CHECK(ep.requireEcdsa("x").value() == *ep.ecdsa());
}

TEST_CASE("tagged keys and signatures: Substrate's variant index first, unknown tags and lengths refused") {
  AnyPrivateKey alice(sr25519::keypairFromSuri("//Alice").value());
  AnyPrivateKey e(PrivateKey::generate());
  const Bytes at = alice.publicKey().tagged();
  const Bytes et = e.publicKey().tagged();
  REQUIRE(at.size() == 33);
  REQUIRE(et.size() == 34);
  CHECK(at[0] == std::byte{1});
  CHECK(et[0] == std::byte{2});
  CHECK(Bytes(at.begin() + 1, at.end()) == alice.publicKey().bytes());
  CHECK(AnyPublicKey::fromTagged(at).value() == alice.publicKey());
  CHECK(AnyPublicKey::fromTagged(et).value() == e.publicKey());

  Bytes unknown = at;
  unknown[0] = std::byte{0};  // ed25519 in Substrate's numbering: not a meritnet scheme
  CHECK(AnyPublicKey::fromTagged(unknown).error().message().find("unknown signature scheme 0") !=
        std::string::npos);
  Bytes swapped = at;
  swapped[0] = std::byte{2};  // a 32-byte body under the ecdsa tag
  CHECK_FALSE(AnyPublicKey::fromTagged(swapped));
  CHECK_FALSE(AnyPublicKey::fromTagged(Bytes{}));
  CHECK_FALSE(AnyPublicKey::fromTagged(Bytes(at.begin(), at.end() - 1)));

  const Bytes msg = toBytes("tagged");
  for (const AnyPrivateKey* key : {&alice, &e}) {
    AnySignature sig = key->sign(msg);
    Bytes t = sig.tagged();
    CHECK(t.size() == 1 + sig.bytes().size());
    CHECK(AnySignature::fromTagged(t).value() == sig);
    t[0] = std::byte{7};
    CHECK_FALSE(AnySignature::fromTagged(t));
  }
  CHECK(schemeFromTag(3).error().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("a SignerRef borrows either kind of key and signs as the key itself does") {
  const PrivateKey ecdsa = PrivateKey::generate();
  const sr25519::Keypair sr = sr25519::keypairFromSuri("//Bob").value();
  const AnyPrivateKey any(sr25519::keypairFromSuri("//Alice").value());
  const Bytes msg = toBytes("signer-ref");
  for (SignerRef ref : {SignerRef(ecdsa), SignerRef(sr), SignerRef(any)}) {
    AnySignature sig = ref.sign(msg);
    CHECK(sig.scheme() == ref.scheme());
    CHECK(verifyAny(ref.publicKey(), msg, sig));
  }
  CHECK(SignerRef(ecdsa).publicKey() == AnyPublicKey(ecdsa.publicKey()));
  CHECK(SignerRef(ecdsa).ecdsa() == &ecdsa);
  CHECK(SignerRef(sr).sr25519() == &sr);
  CHECK(SignerRef(any).sr25519() == any.sr25519());
  CHECK(SignerRef(any).ecdsa() == nullptr);

  // clone(): a second owner of the same secret, for either scheme.
  const AnyPrivateKey e(PrivateKey::generate());
  for (const AnyPrivateKey* key : {&any, &e}) {
    AnyPrivateKey copy = key->clone();
    CHECK(copy.publicKey() == key->publicKey());
    CHECK(verifyAny(key->publicKey(), msg, copy.sign(msg)));
  }
}

TEST_CASE("signatures of both schemes: verify, refuse the other scheme, keep the message domain") {
  for (KeyScheme scheme : {KeyScheme::kEcdsa, KeyScheme::kSr25519}) {
    CAPTURE(schemeName(scheme));
    AnyPrivateKey key = AnyPrivateKey::generate(scheme);
    CHECK(key.scheme() == scheme);
    const Bytes msg = toBytes("transfer 5 to bob");
    AnySignature sig = key.signMessage(msg);
    CHECK(sig.scheme() == scheme);
    CHECK(sig.bytes().size() == (scheme == KeyScheme::kEcdsa ? 65U : 64U));
    CHECK(verifyAnyMessage(key.publicKey(), msg, sig));
    CHECK(verifyAnyMessageByAccount(key.publicKey().accountId(), msg, sig).value() == key.publicKey());
    CHECK_FALSE(verifyAnyMessage(key.publicKey(), toBytes("transfer 6 to bob"), sig));
    // A message signature is over the wrapped bytes, never the bare ones (domains.h).
    CHECK_FALSE(verifyAny(key.publicKey(), msg, sig));
    CHECK(verifyAny(key.publicKey(), wrapMessage(msg), sig));
    // Parsing by length gives the same signature back.
    CHECK(AnySignature::fromHexAnyScheme(sig.toHex()).value() == sig);

    AnyPrivateKey other =
        AnyPrivateKey::generate(scheme == KeyScheme::kEcdsa ? KeyScheme::kSr25519 : KeyScheme::kEcdsa);
    auto wrongScheme = verifyAnyMessage(other.publicKey(), msg, sig);
    REQUIRE_FALSE(wrongScheme);
    CHECK(wrongScheme.error().code() == ErrorCode::kUnauthorized);
    CHECK_FALSE(verifyAnyMessageByAccount(other.publicKey().accountId(), msg, sig));
  }
  CHECK_FALSE(AnySignature::fromHexAnyScheme("00ff"));
}

TEST_CASE("sr25519 signing uses the substrate context, readable by the primitive verifier") {
  auto kp = sr25519::keypairFromSuri("//Bob").value();
  const auto pub = kp.publicKey();
  AnyPrivateKey key(std::move(kp));
  const Bytes pre = toBytes(std::string(domain::kExtrinsic) + "payload");
  AnySignature sig = key.sign(pre);
  CHECK(sr25519::verify(pub, pre, *sig.sr25519(), "substrate"));
  CHECK_FALSE(sr25519::verify(pub, pre, *sig.sr25519(), "other"));
  CHECK(std::move(key).takeEcdsa("bob").error().message().find("sr25519") != std::string::npos);
}

}  // namespace
}  // namespace merit::crypto
