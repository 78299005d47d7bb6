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

PublicKey readPublicKey(ByteReader& r) {
  auto raw = r.raw<PublicKey::kSize>();
  if (!r.ok()) return fillerKey();
  auto key = PublicKey::fromBytes(raw);
  if (!key) {
    r.setError("invalid public key: " + key.error().message());
    return fillerKey();
  }
  return *key;
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
  void operator()(const BurnedRegister& c) const { w.u16(c.netuid).raw(c.hotkey.bytes()); }
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
  void operator()(const RootRegister& c) const { w.raw(c.hotkey.bytes()); }
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
      return BurnedRegister{netuid, readPublicKey(r)};
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
    case 10: return RootRegister{readPublicKey(r)};
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

Bytes signingPayload(const Hash256& genesis, const PublicKey& signer, std::uint64_t nonce,
                     std::uint64_t validUntil, const Call& call) {
  ByteWriter w;
  w.raw(asBytes(kExtrinsicDomain))
      .raw(genesis)
      .raw(signer.bytes())
      .u64(nonce)
      .u64(validUntil)
      .raw(encodeCall(call));
  return std::move(w).take();
}

Extrinsic signExtrinsic(const crypto::PrivateKey& key, const Hash256& genesis, std::uint64_t nonce,
                        std::uint64_t validUntil, Call call) {
  auto sig = key.sign(signingPayload(genesis, key.publicKey(), nonce, validUntil, call));
  return Extrinsic{key.publicKey(), nonce, validUntil, std::move(call), sig};
}

Result<void> verifyExtrinsic(const Extrinsic& xt, const Hash256& genesis) {
  Bytes payload = signingPayload(genesis, xt.signer, xt.nonce, xt.validUntil, xt.call);
  // Recovery, not the known-key fast path: it also pins v, so an extrinsic has exactly one valid
  // encoding and so one hash (duplicate detection in the mempool relies on that).
  return crypto::verifyDigest(xt.signer, crypto::blake2b256(payload), xt.signature);
}

Bytes encodeExtrinsic(const Extrinsic& xt) {
  ByteWriter w;
  w.u8(kExtrinsicVersion).raw(xt.signer.bytes()).u64(xt.nonce).u64(xt.validUntil).bytes(encodeCall(xt.call));
  w.raw(xt.signature.bytes());
  return std::move(w).take();
}

Result<Extrinsic> decodeExtrinsic(ByteView bytes) {
  if (bytes.size() > kMaxExtrinsicBytes) {
    return fail(ErrorCode::kInvalidArgument, "extrinsic of " + std::to_string(bytes.size()) +
                                                 " bytes exceeds " + std::to_string(kMaxExtrinsicBytes));
  }
  ByteReader r(bytes);
  std::uint8_t version = r.u8();
  if (r.ok() && version != kExtrinsicVersion)
    r.setError("unsupported extrinsic version " + std::to_string(version));
  PublicKey signer = readPublicKey(r);
  std::uint64_t nonce = r.u64();
  std::uint64_t validUntil = r.u64();
  Bytes callBytes = r.bytes(kMaxExtrinsicBytes);
  auto sig = r.raw<crypto::Signature::kSize>();
  MERIT_TRY(r.finish("extrinsic"));
  auto call = decodeCall(callBytes);
  if (!call) return fail(call.error());
  return Extrinsic{signer, nonce, validUntil, std::move(*call), crypto::Signature(sig)};
}

Hash256 extrinsicHash(const Extrinsic& xt) {
  return crypto::blake2b256(encodeExtrinsic(xt));
}

}  // namespace merit::tx
