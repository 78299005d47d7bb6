#include "merit/tx/extrinsic.h"

#include <array>

#include "merit/util/assert.h"
#include "merit/util/codec.h"

namespace merit::tx {

namespace {

constexpr std::array<std::string_view, 25> kHyperNames = {"tempo",
                                                          "kappa",
                                                          "bonds_moving_average",
                                                          "bonds_penalty",
                                                          "yuma3",
                                                          "liquid_alpha",
                                                          "alpha_low",
                                                          "alpha_high",
                                                          "activity_cutoff",
                                                          "max_allowed_validators",
                                                          "max_allowed_uids",
                                                          "immunity_period",
                                                          "weights_rate_limit",
                                                          "min_allowed_weights",
                                                          "max_weight_limit",
                                                          "weights_version_key",
                                                          "commit_reveal",
                                                          "reveal_period_epochs",
                                                          "target_registrations_per_interval",
                                                          "adjustment_interval",
                                                          "min_burn",
                                                          "max_burn",
                                                          "serving_rate_limit",
                                                          "registration_allowed",
                                                          "stake_threshold"};
static_assert(kHyperNames.size() == static_cast<std::size_t>(Hyper::kStakeThreshold));

constexpr std::array<std::string_view, 12> kCallNames = {
    "transfer",       "create_subnet",  "set_hyperparameter", "burned_register",
    "serve_axon",     "add_stake",      "remove_stake",       "set_weights",
    "commit_weights", "reveal_weights", "root_register",      "set_root_weights"};
static_assert(std::variant_size_v<Call> == kCallNames.size());

// A valid key to stand in while a decode that has already failed runs to its end (the secp256k1
// generator point); the result is discarded.
const PublicKey& fillerKey() {
  static const PublicKey key =
      PublicKey::fromHex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798").value();
  return key;
}

// Reads a scheme tag (MultiSigner / MultiSignature index). An unknown tag fails the reader, and
// the scheme returned then means nothing (the decode's result is discarded).
crypto::KeyScheme readScheme(ByteReader& r, std::string_view what) {
  std::uint8_t tag = r.u8();
  if (!r.ok()) return crypto::KeyScheme::kEcdsa;
  auto scheme = crypto::schemeFromTag(tag);
  if (!scheme) {
    r.setError(std::string(what) + ": " + scheme.error().message());
    return crypto::KeyScheme::kEcdsa;
  }
  return *scheme;
}

// Reads the scheme's fixed-size body; the caller has read the tag.
template <std::size_t EcdsaN, std::size_t Sr25519N>
Bytes readBody(ByteReader& r, crypto::KeyScheme scheme) {
  if (scheme == crypto::KeyScheme::kEcdsa) {
    auto b = r.raw<EcdsaN>();
    return Bytes(b.begin(), b.end());
  }
  auto b = r.raw<Sr25519N>();
  return Bytes(b.begin(), b.end());
}

AnyPublicKey readKeyBody(ByteReader& r, crypto::KeyScheme scheme, std::string_view what) {
  Bytes raw = readBody<PublicKey::kSize, crypto::sr25519::PublicKey::kSize>(r, scheme);
  if (!r.ok()) return fillerKey();
  auto key = AnyPublicKey::fromBytes(scheme, raw);
  if (!key) {
    r.setError(std::string(what) + ": invalid public key: " + key.error().message());
    return fillerKey();
  }
  return *key;
}

// tag ‖ key bytes, the tag telling the length.
AnyPublicKey readTaggedKey(ByteReader& r, std::string_view what) {
  crypto::KeyScheme scheme = readScheme(r, what);
  if (!r.ok()) return fillerKey();
  return readKeyBody(r, scheme, what);
}

Hyper readHyper(ByteReader& r) {
  auto v = r.u16();
  if (r.ok() && (v < 1 || v > static_cast<std::uint16_t>(Hyper::kStakeThreshold))) {
    r.setError("unknown hyperparameter id " + std::to_string(v));
  }
  return static_cast<Hyper>(v);
}

template <std::size_t N>
std::array<std::uint8_t, N> toU8Array(const ByteArray<N>& b) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = std::to_integer<std::uint8_t>(b[i]);
  return out;
}
template <std::size_t N>
ByteView view(const std::array<std::uint8_t, N>& a) {
  return {reinterpret_cast<const std::byte*>(a.data()), N};
}

struct Encoder {
  ByteWriter& w;
  void operator()(const Transfer& c) const { w.raw(c.dest).u64(c.amount); }
  void operator()(const CreateSubnet& c) const {
    w.str(c.plugin).u32(c.pluginVersion).u32(static_cast<std::uint32_t>(c.overrides.size()));
    for (const auto& [h, v] : c.overrides) w.u16(static_cast<std::uint16_t>(h)).u64(v);
  }
  void operator()(const SetHyperparameter& c) const {
    w.u16(c.netuid).u16(static_cast<std::uint16_t>(c.param)).u64(c.value);
  }
  void operator()(const BurnedRegister& c) const { w.u16(c.netuid).raw(c.hotkey.tagged()); }
  void operator()(const ServeAxon& c) const {
    w.u16(c.netuid)
        .u32(c.version)
        .raw(view(c.ip))
        .u16(c.port)
        .u8(c.ipType)
        .u8(c.protocol)
        .raw(view(c.curveKey));
  }
  void operator()(const AddStake& c) const { w.raw(c.hotkey).u64(c.amount); }
  void operator()(const RemoveStake& c) const { w.raw(c.hotkey).u64(c.amount); }
  void operator()(const SetWeights& c) const {
    w.u16(c.netuid).u16s(c.uids).u16s(c.values).u64(c.versionKey);
  }
  void operator()(const CommitWeights& c) const { w.u16(c.netuid).raw(c.commitHash); }
  void operator()(const RevealWeights& c) const {
    w.u16(c.netuid).u16s(c.uids).u16s(c.values).u16s(c.salt).u64(c.versionKey);
  }
  void operator()(const RootRegister& c) const { w.raw(c.hotkey.tagged()); }
  void operator()(const SetRootWeights& c) const { w.u16s(c.netuids).u16s(c.values).u64(c.versionKey); }
};

Call decodeBody(ByteReader& r, std::uint8_t tag) {
  switch (tag) {
    case 0: {
      Transfer c{r.raw<32>(), 0};
      c.amount = r.u64();
      return c;
    }
    case 1: {
      CreateSubnet c;
      c.plugin = r.str(kMaxNameLen);
      c.pluginVersion = r.u32();
      std::uint32_t n = r.u32();
      if (n > 64) r.setError("too many hyperparameter overrides");
      for (std::uint32_t i = 0; r.ok() && i < n; ++i) {
        Hyper h = readHyper(r);
        c.overrides.emplace_back(h, r.u64());
      }
      return c;
    }
    case 2: {
      SetHyperparameter c{};
      c.netuid = r.u16();
      c.param = readHyper(r);
      c.value = r.u64();
      return c;
    }
    case 3: {
      NetUid netuid = r.u16();
      return BurnedRegister{netuid, readTaggedKey(r, "hotkey")};
    }
    case 4: {
      ServeAxon c{};
      c.netuid = r.u16();
      c.version = r.u32();
      c.ip = toU8Array(r.raw<16>());
      c.port = r.u16();
      c.ipType = r.u8();
      c.protocol = r.u8();
      c.curveKey = toU8Array(r.raw<32>());
      return c;
    }
    case 5: {
      AddStake c{r.raw<32>(), 0};
      c.amount = r.u64();
      return c;
    }
    case 6: {
      RemoveStake c{r.raw<32>(), 0};
      c.amount = r.u64();
      return c;
    }
    case 7: {
      SetWeights c{};
      c.netuid = r.u16();
      c.uids = r.u16s(kMaxWeightsLen);
      c.values = r.u16s(kMaxWeightsLen);
      c.versionKey = r.u64();
      return c;
    }
    case 8: {
      CommitWeights c{};
      c.netuid = r.u16();
      c.commitHash = r.raw<32>();
      return c;
    }
    case 9: {
      RevealWeights c{};
      c.netuid = r.u16();
      c.uids = r.u16s(kMaxWeightsLen);
      c.values = r.u16s(kMaxWeightsLen);
      c.salt = r.u16s(kMaxWeightsLen);
      c.versionKey = r.u64();
      return c;
    }
    case 10: return RootRegister{readTaggedKey(r, "hotkey")};
    case 11: {
      SetRootWeights c{};
      c.netuids = r.u16s(kMaxWeightsLen);
      c.values = r.u16s(kMaxWeightsLen);
      c.versionKey = r.u64();
      return c;
    }
    default: r.setError("unknown call tag " + std::to_string(tag)); return Transfer{};
  }
}

}  // namespace

std::string_view hyperName(Hyper h) {
  auto i = static_cast<std::size_t>(h);
  return i >= 1 && i <= kHyperNames.size() ? kHyperNames[i - 1] : "unknown";
}

Result<Hyper> parseHyper(std::string_view name) {
  for (std::size_t i = 0; i < kHyperNames.size(); ++i) {
    if (kHyperNames[i] == name) return static_cast<Hyper>(i + 1);
  }
  return fail(ErrorCode::kInvalidArgument, "unknown hyperparameter '" + std::string(name) + "'");
}

std::string_view callName(const Call& call) {
  return kCallNames[call.index()];
}

Bytes encodeCall(const Call& call) {
  ByteWriter w;
  w.u8(static_cast<std::uint8_t>(call.index()));
  std::visit(Encoder{w}, call);
  return std::move(w).take();
}

Result<Call> decodeCall(ByteView bytes) {
  ByteReader r(bytes);
  std::uint8_t tag = r.u8();
  Call call = decodeBody(r, tag);
  MERIT_TRY(r.finish("call"));
  return call;
}

Bytes signingPayload(const Hash256& genesis, const AnyPublicKey& signer, std::uint64_t nonce,
                     std::uint64_t validUntil, const Call& call) {
  ByteWriter w;
  w.raw(asBytes(kExtrinsicDomain))
      .raw(genesis)
      .raw(signer.tagged())
      .u64(nonce)
      .u64(validUntil)
      .raw(encodeCall(call));
  return std::move(w).take();
}

Extrinsic signExtrinsic(crypto::SignerRef key, const Hash256& genesis, std::uint64_t nonce,
                        std::uint64_t validUntil, Call call) {
  AnyPublicKey signer = key.publicKey();
  AnySignature sig = key.sign(signingPayload(genesis, signer, nonce, validUntil, call));
  return Extrinsic{signer, nonce, validUntil, std::move(call), sig};
}

Result<void> verifyExtrinsic(const Extrinsic& xt, const Hash256& genesis) {
  Bytes payload = signingPayload(genesis, xt.signer, xt.nonce, xt.validUntil, xt.call);
  // ECDSA goes through recovery, not the known-key fast path: it also pins v, so an extrinsic
  // has exactly one valid encoding and so one hash (duplicate detection in the mempool relies on
  // that). sr25519 verification refuses a non-canonical s.
  return crypto::verifyAny(xt.signer, payload, xt.signature);
}

Bytes encodeExtrinsic(const Extrinsic& xt) {
  ByteWriter w;
  w.u8(kExtrinsicVersion).raw(xt.signer.tagged()).u64(xt.nonce).u64(xt.validUntil).bytes(encodeCall(xt.call));
  w.raw(xt.signature.tagged());
  return std::move(w).take();
}

Result<Extrinsic> decodeExtrinsic(ByteView bytes) {
  if (bytes.size() > kMaxExtrinsicBytes) {
    return fail(ErrorCode::kInvalidArgument, "extrinsic of " + std::to_string(bytes.size()) +
                                                 " bytes exceeds " + std::to_string(kMaxExtrinsicBytes));
  }
  ByteReader r(bytes);
  std::uint8_t version = r.u8();
  if (r.ok() && version != kExtrinsicVersion) {
    return fail(ErrorCode::kInvalidArgument,
                version == 1 ? std::string("extrinsic version 1 (ECDSA-only, untagged signer) is no longer "
                                           "accepted; this chain accepts version 2 (signer and signature "
                                           "tagged: 1 = sr25519, 2 = ecdsa)")
                             : "unsupported extrinsic version " + std::to_string(version) +
                                   " (this chain accepts version 2)");
  }
  AnyPublicKey signer = readTaggedKey(r, "signer");
  std::uint64_t nonce = r.u64();
  std::uint64_t validUntil = r.u64();
  Bytes callBytes = r.bytes(kMaxExtrinsicBytes);
  crypto::KeyScheme sigScheme = readScheme(r, "signature");
  if (r.ok() && sigScheme != signer.scheme()) {
    r.setError("the signature is " + std::string(crypto::schemeName(sigScheme)) + " but the signer is " +
               std::string(crypto::schemeName(signer.scheme())));
  }
  Bytes sigBytes = readBody<crypto::Signature::kSize, crypto::sr25519::Signature::kSize>(r, sigScheme);
  MERIT_TRY(r.finish("extrinsic"));
  MERIT_ASSIGN_OR_RETURN(AnySignature sig, AnySignature::fromBytes(sigScheme, sigBytes));
  auto call = decodeCall(callBytes);
  if (!call) return fail(call.error());
  return Extrinsic{signer, nonce, validUntil, std::move(*call), sig};
}

Hash256 extrinsicHash(const Extrinsic& xt) {
  return crypto::blake2b256(encodeExtrinsic(xt));
}

}  // namespace merit::tx
