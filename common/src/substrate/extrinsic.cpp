#include "merit/substrate/extrinsic.h"

#include <algorithm>
#include <bit>

#include "merit/substrate/hashing.h"
#include "merit/substrate/value.h"

namespace merit::substrate {

using nlohmann::json;

Result<Bytes> encodeCall(const Metadata& md, std::string_view pallet, std::string_view call,
                         const json& args) {
  const Pallet* p = md.pallet(pallet);
  if (!p) return fail(ErrorCode::kNotFound, "the runtime has no pallet " + std::string(pallet));
  const Variant* v = md.callVariant(pallet, call);
  if (!v) return fail(ErrorCode::kNotFound, "pallet " + p->name + " has no call " + std::string(call));
  const json& a = args.is_null() ? json::object() : args;
  if (!a.is_object()) {
    return fail(ErrorCode::kInvalidArgument,
                std::string(call) + ": arguments must be an object keyed by argument name");
  }
  for (auto it = a.begin(); it != a.end(); ++it) {
    bool known = std::any_of(v->fields.begin(), v->fields.end(),
                             [&](const Field& f) { return f.name && *f.name == it.key(); });
    if (!known) {
      std::string names;
      for (const auto& f : v->fields) names += (names.empty() ? "" : ", ") + f.name.value_or("?");
      return fail(ErrorCode::kInvalidArgument,
                  std::string(call) + ": unknown argument \"" + it.key() + "\" (arguments: " + names + ")");
    }
  }
  ScaleWriter w;
  w.u8(p->index).u8(v->index);
  for (const auto& f : v->fields) {
    if (!f.name) return fail(ErrorCode::kInvalidArgument, std::string(call) + " has an unnamed argument");
    auto it = a.find(*f.name);
    if (it == a.end()) {
      return fail(ErrorCode::kInvalidArgument, std::string(call) + ": missing argument \"" + *f.name +
                                                   "\" (" + md.registry().displayName(f.type) + ")");
    }
    MERIT_TRY(encodeValue(md.registry(), f.type, *it, w, std::string(call) + "." + *f.name));
  }
  return w.take();
}

namespace {
std::uint64_t eraPeriod(std::uint64_t period) {
  std::uint64_t p = period <= 1 ? 1 : std::bit_ceil(std::min<std::uint64_t>(period, 1u << 16));
  return std::clamp<std::uint64_t>(p, 4, 1u << 16);
}
}  // namespace

ByteArray<2> encodeMortalEra(std::uint64_t period, std::uint64_t current) {
  std::uint64_t p = eraPeriod(period);
  std::uint64_t phase = current % p;
  std::uint64_t quantum = std::max<std::uint64_t>(p >> 12, 1);
  std::uint64_t quantizedPhase = phase / quantum * quantum;
  auto low = static_cast<std::uint64_t>(std::clamp(std::countr_zero(p) - 1, 1, 15));
  auto encoded = static_cast<std::uint16_t>(low | ((quantizedPhase / quantum) << 4));
  return {static_cast<std::byte>(encoded & 0xff), static_cast<std::byte>(encoded >> 8)};
}

std::uint64_t mortalEraBirth(std::uint64_t period, std::uint64_t current) {
  std::uint64_t p = eraPeriod(period);
  std::uint64_t quantum = std::max<std::uint64_t>(p >> 12, 1);
  std::uint64_t phase = current % p / quantum * quantum;
  return (std::max(current, phase) - phase) / p * p + phase;
}

Result<ExtensionBytes> encodeSignedExtensions(const Metadata& md, const SigningParams& params) {
  const TypeRegistry& reg = md.registry();
  ScaleWriter extra, additional;
  auto hashJson = [](const crypto::Hash256& h) { return json("0x" + toHex(h)); };
  for (const auto& ext : md.extrinsic().signedExtensions) {
    const std::string& id = ext.identifier;
    std::string where = "signed extension " + id;
    // The JSON of the extra and of the additional value; null for "nothing" (checked to be a
    // zero-sized type by encoding null through the registry).
    json x = nullptr, add = nullptr;
    if (id == "CheckNonZeroSender" || id == "CheckWeight") {
    } else if (id == "CheckSpecVersion") {
      add = params.specVersion;
    } else if (id == "CheckTxVersion") {
      add = params.txVersion;
    } else if (id == "CheckGenesis") {
      add = hashJson(params.genesisHash);
    } else if (id == "CheckMortality" || id == "CheckEra") {
      // The Era type is an enum of 256 variants (Immortal, Mortal1..Mortal255) whose tag is the
      // first byte; its SCALE form is the era encoding itself, written raw after a type check.
      const TypeInfo* era = reg.get(ext.type);
      const TypeInfo* inner = era;
      if (auto* c = era ? std::get_if<CompositeDef>(&era->def) : nullptr; c && c->fields.size() == 1) {
        inner = reg.get(c->fields[0].type);
      }
      if (!inner || inner->shortName() != "Era" || !std::holds_alternative<VariantDef>(inner->def)) {
        return fail(ErrorCode::kInvalidArgument,
                    where + ": unexpected extra type " + reg.displayName(ext.type));
      }
      if (params.mortalEra) {
        extra.raw(encodeMortalEra(params.mortalEra->first, params.mortalEra->second));
      } else {
        extra.u8(0);
      }
      MERIT_TRY(encodeValue(reg, ext.additionalSigned, hashJson(params.eraBlockHash), additional, where));
      continue;
    } else if (id == "CheckNonce") {
      x = params.nonce;
    } else if (id == "ChargeTransactionPayment") {
      x = params.tip;
    } else if (id == "ChargeAssetTxPayment") {
      x = json{{"tip", params.tip}, {"asset_id", nullptr}};
    } else if (id == "CheckMetadataHash") {
      x = json{{"mode", "Disabled"}};
    } else if (!reg.isZeroSized(ext.type) || !reg.isZeroSized(ext.additionalSigned)) {
      return fail(ErrorCode::kInvalidArgument, "unknown signed extension " + id + " carries data (extra " +
                                                   reg.displayName(ext.type) + ", additional " +
                                                   reg.displayName(ext.additionalSigned) +
                                                   "): cannot sign for this runtime");
    }
    MERIT_TRY(encodeValue(reg, ext.type, x, extra, where + " (extra)"));
    MERIT_TRY(encodeValue(reg, ext.additionalSigned, add, additional, where + " (additional)"));
  }
  return ExtensionBytes{extra.take(), additional.take()};
}

namespace {
Bytes payloadOf(ByteView call, const ExtensionBytes& ext) {
  Bytes payload;
  payload.reserve(call.size() + ext.extra.size() + ext.additional.size());
  append(payload, call);
  append(payload, ext.extra);
  append(payload, ext.additional);
  if (payload.size() > 256) return toBytes(blake2_256(payload));
  return payload;
}
}  // namespace

Result<Bytes> signingPayload(const Metadata& md, ByteView call, const SigningParams& params) {
  MERIT_ASSIGN_OR_RETURN(ExtensionBytes ext, encodeSignedExtensions(md, params));
  return payloadOf(call, ext);
}

namespace {
Result<void> checkVersion(const Metadata& md) {
  if (md.extrinsic().version != 4) {
    return fail(ErrorCode::kInvalidArgument,
                "extrinsic format v" + std::to_string(md.extrinsic().version) + " is not supported (v4 is)");
  }
  return {};
}

Bytes withLength(ByteView body) {
  ScaleWriter w;
  w.byteVec(body);
  return w.take();
}
}  // namespace

Result<Bytes> buildSignedExtrinsic(const Metadata& md, ByteView call, const SigningParams& params,
                                   crypto::SignerRef key) {
  MERIT_TRY(checkVersion(md));
  const TypeRegistry& reg = md.registry();
  MERIT_ASSIGN_OR_RETURN(ExtensionBytes ext, encodeSignedExtensions(md, params));
  // SignerRef::sign is the scheme's own rule: ECDSA over BLAKE2b-256 of the bytes, sr25519 over
  // the bytes with context "substrate", which are exactly Substrate's two signing rules.
  const crypto::AnySignature sig = key.sign(payloadOf(call, ext));
  const crypto::AnyPublicKey pub = key.publicKey();

  ScaleWriter body;
  body.u8(0x80 | 4);
  json address = {{"Id", "0x" + toHex(pub.accountId())}};
  MERIT_TRY(encodeValue(reg, md.extrinsic().addressType, address, body, "address"));
  const char* variant = sig.scheme() == crypto::KeyScheme::kSr25519 ? "Sr25519" : "Ecdsa";
  json signature = {{variant, "0x" + toHex(sig.bytes())}};
  MERIT_TRY(encodeValue(reg, md.extrinsic().signatureType, signature, body, "signature"));
  body.raw(ext.extra);
  body.raw(call);
  return withLength(body.data());
}

Result<Bytes> buildUnsignedExtrinsic(const Metadata& md, ByteView call) {
  MERIT_TRY(checkVersion(md));
  ScaleWriter body;
  body.u8(4);
  body.raw(call);
  return withLength(body.data());
}

crypto::Hash256 extrinsicHash(ByteView extrinsic) {
  return blake2_256(extrinsic);
}

}  // namespace merit::substrate
