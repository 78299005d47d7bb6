#include "merit/crypto/sr25519.h"

#include <algorithm>
#include <optional>

#include <sodium.h>

#include "merit/crypto/merlin.h"
#include "merit/crypto/mnemonic.h"
#include "merit/util/assert.h"

namespace merit::crypto::sr25519 {

namespace {

using Scalar = ByteArray<32>;

unsigned char* uc(MutableByteView b) {
  return u8(b);
}

// schnorrkel's cofactor helpers on little-endian 256-bit integers; branch-free.
void divideByCofactor(MutableByteView s) {
  std::uint8_t low = 0;
  for (std::size_t i = s.size(); i-- > 0;) {
    auto v = std::to_integer<std::uint8_t>(s[i]);
    const std::uint8_t r = v & 0x07;
    s[i] = std::byte(static_cast<std::uint8_t>((v >> 3) + low));
    low = static_cast<std::uint8_t>(r << 5);
  }
}

void multiplyByCofactor(MutableByteView s) {
  std::uint8_t high = 0;
  for (std::byte& b : s) {
    auto v = std::to_integer<std::uint8_t>(b);
    const std::uint8_t r = v & 0xE0;
    b = std::byte(static_cast<std::uint8_t>((v << 3) + high));
    high = static_cast<std::uint8_t>(r >> 5);
  }
}

// True when `s` (32 bytes) is below the group order ℓ. Constant time in `s`.
bool isCanonicalScalar(ByteView s) {
  SecretArray<64> wide;
  std::copy(s.begin(), s.end(), wide.mutableBytes().begin());
  SecretArray<32> reduced;
  crypto_core_ristretto255_scalar_reduce(uc(reduced.mutableBytes()), u8(wide.reveal()));
  return sodium_memcmp(u8(reduced.reveal()), u8(s), 32) == 0;
}

// scalar · B; false for the zero scalar (the identity).
bool basepointMul(MutableByteView out, ByteView scalar) {
  return crypto_scalarmult_ristretto255_base(uc(out), u8(scalar)) == 0;
}

void challengeScalar(Transcript& t, std::string_view label, MutableByteView out) {
  SecretArray<64> wide;
  t.challengeBytes(label, wide.mutableBytes());
  crypto_core_ristretto255_scalar_reduce(uc(out), u8(wide.reveal()));
}

Transcript signingTranscript(std::string_view context, ByteView message, const PublicKey& key) {
  Transcript t("SigningContext");
  t.appendMessage("", asBytes(context));
  t.appendMessage("sign-bytes", message);
  t.appendMessage("proto-name", asBytes("Schnorr-sig"));
  t.appendMessage("sign:pk", key.bytes());
  return t;
}

// The HDKD soft-derivation transcript after its two challenges: delta and the chain code.
Transcript softTranscript(const PublicKey& key, const ChainCode& chainCode, MutableByteView delta) {
  Transcript t("SchnorrRistrettoHDKD");
  t.appendMessage("sign-bytes", {});
  t.appendMessage("chain-code", chainCode);
  t.appendMessage("public-key", key.bytes());
  challengeScalar(t, "HDKD-scalar", delta);
  ChainCode next;
  t.challengeBytes("HDKD-chaincode", next);
  return t;
}

// Builds a pair through fromSchnorrkelBytes, so every pair passes the same checks.
Result<Keypair> fromScalarAndNonce(const SecretArray<32>& scalar, const SecretArray<32>& nonce) {
  SecretArray<64> both;
  std::copy(scalar.reveal().begin(), scalar.reveal().end(), both.mutableBytes().begin());
  std::copy(nonce.reveal().begin(), nonce.reveal().end(), both.mutableBytes().begin() + 32);
  return Keypair::fromSchnorrkelBytes(both.reveal());
}

}  // namespace

Result<PublicKey> PublicKey::fromBytes(ByteView bytes) {
  if (bytes.size() != kSize) {
    return fail(ErrorCode::kInvalidArgument,
                "sr25519 public key must be 32 bytes, got " + std::to_string(bytes.size()));
  }
  ensureSodium();
  if (crypto_core_ristretto255_is_valid_point(u8(bytes)) != 1) {
    return fail(ErrorCode::kInvalidArgument, "sr25519 public key is not a canonical Ristretto255 encoding");
  }
  if (sodium_is_zero(u8(bytes), bytes.size())) {
    return fail(ErrorCode::kInvalidArgument, "sr25519 public key is the identity point");
  }
  ByteArray<kSize> out;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return PublicKey(out);
}

Result<PublicKey> PublicKey::fromHex(std::string_view hex) {
  MERIT_ASSIGN_OR_RETURN(Bytes bytes, merit::fromHex(hex));
  return fromBytes(bytes);
}

Result<Signature> Signature::fromBytes(ByteView bytes) {
  if (bytes.size() != kSize) {
    return fail(ErrorCode::kInvalidArgument,
                "sr25519 signature must be 64 bytes (R||s), got " + std::to_string(bytes.size()));
  }
  ByteArray<kSize> out;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return Signature(out);
}

Result<Signature> Signature::fromHex(std::string_view hex) {
  MERIT_ASSIGN_OR_RETURN(Bytes bytes, merit::fromHex(hex));
  return fromBytes(bytes);
}

Result<Keypair> Keypair::fromSchnorrkelBytes(ByteView secret64) {
  if (secret64.size() != kSecretSize) {
    return fail(ErrorCode::kInvalidArgument,
                "sr25519 secret key must be 64 bytes, got " + std::to_string(secret64.size()));
  }
  ensureSodium();
  ByteView scalar = secret64.first(32);
  if (!isCanonicalScalar(scalar)) {
    return fail(ErrorCode::kInvalidArgument, "sr25519 secret scalar is not canonical (an ed25519-form key?)");
  }
  ByteArray<PublicKey::kSize> pub;
  if (!basepointMul(pub, scalar)) {
    return fail(ErrorCode::kInvalidArgument, "sr25519 secret scalar is zero");
  }
  auto pk = PublicKey::fromBytes(pub);
  MERIT_ASSERT(pk.has_value());
  return Keypair(SecretArray<32>(scalar), SecretArray<32>(secret64.subspan(32)), *pk);
}

SecretArray<64> Keypair::toSchnorrkelBytes() const {
  SecretArray<64> out;
  auto o = out.mutableBytes();
  std::copy(m_scalar.reveal().begin(), m_scalar.reveal().end(), o.begin());
  std::copy(m_nonce.reveal().begin(), m_nonce.reveal().end(), o.begin() + 32);
  return out;
}

Result<Keypair> Keypair::fromEd25519Bytes(ByteView secret64) {
  if (secret64.size() != kSecretSize) {
    return fail(ErrorCode::kInvalidArgument,
                "sr25519 secret key must be 64 bytes, got " + std::to_string(secret64.size()));
  }
  SecretArray<64> raw(secret64);
  divideByCofactor(raw.mutableBytes().first(32));
  return fromSchnorrkelBytes(raw.reveal());
}

SecretArray<64> Keypair::toEd25519Bytes() const {
  SecretArray<64> out = toSchnorrkelBytes();
  multiplyByCofactor(out.mutableBytes().first(32));
  return out;
}

Result<Keypair> Keypair::fromMiniSecret(ByteView miniSecret) {
  if (miniSecret.size() != kMiniSecretSize) {
    return fail(ErrorCode::kInvalidArgument,
                "sr25519 mini secret must be 32 bytes, got " + std::to_string(miniSecret.size()));
  }
  ensureSodium();
  SecretArray<64> h;
  crypto_hash_sha512(uc(h.mutableBytes()), u8(miniSecret), miniSecret.size());
  SecretArray<32> scalar(h.reveal().first(32));
  auto s = scalar.mutableBytes();
  s[0] &= std::byte{248};
  s[31] &= std::byte{63};
  s[31] |= std::byte{64};
  divideByCofactor(s);
  return fromScalarAndNonce(scalar, SecretArray<32>(h.reveal().subspan(32)));
}

Keypair Keypair::generate() {
  SecretArray<32> mini;
  randomBytes(mini.mutableBytes());
  auto kp = fromMiniSecret(mini.reveal());
  MERIT_ASSERT(kp.has_value());
  return std::move(*kp);
}

Signature Keypair::sign(ByteView message, std::string_view context) const {
  SecretArray<32> random;
  randomBytes(random.mutableBytes());
  return signWithRandomness(message, random.reveal(), context);
}

Signature Keypair::signWithRandomness(ByteView message, ByteView random32, std::string_view context) const {
  MERIT_ASSERT(random32.size() == 32, random32.size());
  ensureSodium();
  Transcript t = signingTranscript(context, message, m_public);

  SecretArray<64> wide;
  {
    TranscriptRngBuilder builder = t.buildRng();
    builder.rekeyWithWitnessBytes("signing", m_nonce.reveal());
    TranscriptRng rng = std::move(builder).finalize(random32);
    rng.fillBytes(wide.mutableBytes());
  }
  SecretArray<32> r;
  crypto_core_ristretto255_scalar_reduce(uc(r.mutableBytes()), u8(wide.reveal()));

  ByteArray<Signature::kSize> sig{};
  MutableByteView big(sig);
  // r = 0 has probability 2^-252; its point would be the identity, whose encoding (zeros) the
  // failed call leaves in place, which is still a correct R.
  static_cast<void>(basepointMul(big.first(32), r.reveal()));
  t.appendMessage("sign:R", big.first(32));

  Scalar k;
  challengeScalar(t, "sign:c", k);
  SecretArray<32> kx;
  crypto_core_ristretto255_scalar_mul(uc(kx.mutableBytes()), u8(ByteView(k)), u8(m_scalar.reveal()));
  crypto_core_ristretto255_scalar_add(uc(big.subspan(32)), u8(kx.reveal()), u8(r.reveal()));
  sig[63] |= std::byte{0x80};
  return Signature(sig);
}

Keypair Keypair::deriveHard(const ChainCode& chainCode) const {
  Transcript t("SchnorrRistrettoHDKD");
  t.appendMessage("sign-bytes", {});
  t.appendMessage("chain-code", chainCode);
  t.appendMessage("secret-key", m_scalar.reveal());
  SecretArray<32> mini;
  t.challengeBytes("HDKD-hard", mini.mutableBytes());
  auto kp = fromMiniSecret(mini.reveal());
  MERIT_ASSERT(kp.has_value());
  return std::move(*kp);
}

Keypair Keypair::deriveSoft(const ChainCode& chainCode) const {
  Scalar delta;
  Transcript t = softTranscript(m_public, chainCode, delta);
  SecretArray<32> scalar;
  crypto_core_ristretto255_scalar_add(uc(scalar.mutableBytes()), u8(m_scalar.reveal()), u8(ByteView(delta)));

  // The derived nonce only guards against a bad RNG at signing time, so schnorrkel draws it
  // from the transcript, both secret halves and fresh randomness; we do the same.
  SecretArray<32> random;
  randomBytes(random.mutableBytes());
  SecretArray<64> secret = toSchnorrkelBytes();
  SecretArray<32> nonce;
  {
    TranscriptRngBuilder builder = t.buildRng();
    builder.rekeyWithWitnessBytes("HDKD-nonce", m_nonce.reveal());
    builder.rekeyWithWitnessBytes("HDKD-nonce", secret.reveal());
    TranscriptRng rng = std::move(builder).finalize(random.reveal());
    rng.fillBytes(nonce.mutableBytes());
  }
  auto kp = fromScalarAndNonce(scalar, nonce);
  MERIT_ASSERT(kp.has_value());
  return std::move(*kp);
}

Keypair Keypair::derive(const DeriveJunction& junction) const {
  return junction.hard ? deriveHard(junction.chainCode) : deriveSoft(junction.chainCode);
}

PublicKey deriveSoftPublic(const PublicKey& key, const ChainCode& chainCode) {
  ensureSodium();
  Scalar delta;
  static_cast<void>(softTranscript(key, chainCode, delta));
  ByteArray<32> deltaPoint{}, sum{};
  const bool nonZero = basepointMul(deltaPoint, delta);
  MERIT_ASSERT(nonZero);
  MERIT_ASSERT(crypto_core_ristretto255_add(u8(MutableByteView(sum)), u8(ByteView(key.bytes())),
                                            u8(ByteView(deltaPoint))) == 0);
  auto pk = PublicKey::fromBytes(sum);
  MERIT_ASSERT(pk.has_value());
  return *pk;
}

Result<void> verify(const PublicKey& key, ByteView message, const Signature& signature,
                    std::string_view context) {
  ensureSodium();
  const auto& sig = signature.bytes();
  if ((sig[63] & std::byte{0x80}) == std::byte{0}) {
    return fail(ErrorCode::kUnauthorized,
                "sr25519 signature lacks the schnorrkel marker bit (a pre-0.8 or non-sr25519 signature)");
  }
  Scalar s;
  std::copy(sig.begin() + 32, sig.end(), s.begin());
  s[31] &= std::byte{0x7F};
  if (!isCanonicalScalar(s)) {
    return fail(ErrorCode::kUnauthorized, "sr25519 signature scalar is not canonical");
  }
  ByteView rBytes = ByteView(sig).first(32);
  Transcript t = signingTranscript(context, message, key);
  t.appendMessage("sign:R", rBytes);
  Scalar k;
  challengeScalar(t, "sign:c", k);

  // R' = s·B − k·A. A zero product leaves the identity's encoding (zeros) in place.
  ByteArray<32> sB{}, kA{}, expected{};
  if (!basepointMul(sB, s)) sB.fill(std::byte{0});
  if (crypto_scalarmult_ristretto255(u8(MutableByteView(kA)), u8(ByteView(k)), u8(ByteView(key.bytes()))) !=
      0) {
    kA.fill(std::byte{0});
  }
  if (crypto_core_ristretto255_sub(u8(MutableByteView(expected)), u8(ByteView(sB)), u8(ByteView(kA))) != 0 ||
      !std::equal(expected.begin(), expected.end(), rBytes.begin())) {
    return fail(ErrorCode::kUnauthorized, "sr25519 signature does not verify");
  }
  return {};
}

namespace {

// The pair a URI's phrase part stands for, before its junctions.
Result<Keypair> rootFromPhrase(std::string_view phrase, const std::optional<SecretBytes>& password) {
  if (phrase.starts_with("0x")) {
    auto seed = merit::fromHex(phrase.substr(2));
    if (!seed) return fail(ErrorCode::kInvalidArgument, "secret URI: a 0x seed must be 32 bytes of hex");
    auto root = seed->size() == Keypair::kMiniSecretSize
                    ? Keypair::fromMiniSecret(*seed)
                    : fail(ErrorCode::kInvalidArgument, "secret URI: a 0x seed must be 32 bytes of hex");
    secureZero(seed->data(), seed->size());
    return root;
  }
  MERIT_ASSIGN_OR_RETURN(SecretBytes entropy, mnemonicToEntropy(phrase));
  std::string_view pass = password ? password->revealText() : std::string_view{};
  MERIT_ASSIGN_OR_RETURN(SecretArray<64> seed, substrateSeed(entropy.reveal(), pass));
  return Keypair::fromMiniSecret(seed.reveal().first(32));
}

}  // namespace

Result<Keypair> keypairFromSuri(std::string_view uri) {
  MERIT_ASSIGN_OR_RETURN(SecretUri parsed, parseSecretUri(uri));
  MERIT_ASSIGN_OR_RETURN(Keypair kp, rootFromPhrase(parsed.phrase.revealText(), parsed.password));
  for (const DeriveJunction& j : parsed.path) kp = kp.derive(j);
  return kp;
}

}  // namespace merit::crypto::sr25519
