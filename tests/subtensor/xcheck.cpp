// substrate_xcheck: merit_substrate's side of the cross-check against @polkadot/api
// (tools/encode.mjs and tools/storage.mjs). It takes EXACTLY the requests those tools take, on
// stdin, and prints the same fields, computed only with our own library, so xcheck_test.sh can
// require identical bytes field by field. A test helper, not an installed tool.
//
//   substrate_xcheck <ws-url> encode  < request.json     (as encode.mjs <ws-url>)
//   substrate_xcheck <ws-url> storage < request.json     (as storage.mjs <ws-url>)
//
// encode: one request or an array.
//   {"pallet","call","args":[positional]} -> {"callHex"}. Arguments are positional as in the
//     api (mapped onto the call's field names from the metadata). An argument of the runtime's
//     call type given as "0x<call hex>" (Sudo.sudo's call) is decoded with our registry and
//     encoded again, so a nested call goes through our decoder and encoder.
//   {"seedHex","call","nonce","tip","era":{"period","current"}|"immortal","blockHash",
//    "genesisHash","submit"} -> publicKey, accountId, ss58, callHex, genesisHash, payloadHex,
//     signedDataHex, signatureHex, extrinsicHex; with "submit" our extrinsic bytes are submitted
//     and watched until in a block: "submitted" (hash) and "outcome" {included, block, success,
//     error}.
// storage: one request or an array.
//   {"pallet","item","keys":[...],"at"} -> {key, raw, value}
//   {"pallet","item","keys":[prefix keys],"entries":true,"at"} -> {prefix, entries: [{key, keys,
//     raw, value}] sorted by key} (every key under the prefix, paged, read at one block).
// Errors print {"error": "..."} and exit 1, as the tools do.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "merit/crypto/keys.h"
#include "merit/crypto/ss58.h"
#include "merit/substrate/client.h"
#include "merit/substrate/extrinsic.h"
#include "merit/substrate/hashing.h"
#include "merit/substrate/storage.h"
#include "merit/substrate/value.h"

namespace {

using nlohmann::json;
using namespace merit;
using namespace merit::substrate;

std::string str(const json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_string()) return {};
  return j[name].get<std::string>();
}

// A u64 request field given as a JSON number or a decimal string (the api takes both; numbers
// above 2^53 only survive JSON as strings).
Result<std::uint64_t> u64Field(const json& r, const char* name) {
  if (!r.contains(name) || r[name].is_null()) return std::uint64_t{0};
  const json& v = r[name];
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  std::uint64_t x = 0;
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return x;
  }
  return fail(ErrorCode::kInvalidArgument, std::string(name) + ": expected a u64, got " + v.dump());
}

Result<crypto::Hash256> hash32(const std::string& hex) {
  MERIT_ASSIGN_OR_RETURN(Bytes b, fromHex0x(hex));
  if (b.size() != 32) return fail(ErrorCode::kInvalidArgument, "expected a 32-byte hash, got " + hex);
  crypto::Hash256 h{};
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

// The api's positional arguments as our object keyed by field name.
Result<Bytes> buildCall(const Metadata& md, const json& c) {
  if (c.is_string()) return fromHex0x(c.get<std::string>());
  if (!c.is_object())
    return fail(ErrorCode::kInvalidArgument, "a call is {pallet, call, args} or \"0x<call hex>\"");
  std::string pallet = str(c, "pallet"), call = str(c, "call");
  const Variant* v = md.callVariant(pallet, call);
  if (!v) return fail(ErrorCode::kNotFound, "no call " + pallet + "." + call);
  json args = c.value("args", json::array());
  if (!args.is_array() || args.size() != v->fields.size()) {
    return fail(ErrorCode::kInvalidArgument,
                pallet + "." + call + " takes " + std::to_string(v->fields.size()) + " positional arguments");
  }
  json named = json::object();
  for (std::size_t i = 0; i < v->fields.size(); ++i) {
    json a = args[i];
    if (v->fields[i].type == md.extrinsic().callType && a.is_string()) {
      MERIT_ASSIGN_OR_RETURN(Bytes inner, fromHex0x(a.get<std::string>()));
      MERIT_ASSIGN_OR_RETURN(a, decodeValue(md.registry(), md.extrinsic().callType, ByteView(inner)));
    }
    named[v->fields[i].name.value_or("")] = std::move(a);
  }
  return encodeCall(md, pallet, call, named);
}

Result<json> sign(SubstrateClient& client, const json& r) {
  auto md = client.metadata();
  MERIT_ASSIGN_OR_RETURN(Bytes seed, fromHex0x(str(r, "seedHex")));
  MERIT_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::fromBytes(seed));
  MERIT_ASSIGN_OR_RETURN(Bytes call, buildCall(*md, r.at("call")));
  RuntimeVersion version = client.runtimeVersion();
  SigningParams p;
  p.specVersion = version.specVersion;
  p.txVersion = version.transactionVersion;
  p.genesisHash = client.genesisHash();  // the runtime's System.BlockHash(0), as encode.mjs
  if (!str(r, "genesisHash").empty()) {
    MERIT_ASSIGN_OR_RETURN(p.genesisHash, hash32(str(r, "genesisHash")));
  }
  MERIT_ASSIGN_OR_RETURN(p.nonce, u64Field(r, "nonce"));
  MERIT_ASSIGN_OR_RETURN(p.tip, u64Field(r, "tip"));
  bool immortal = !r.contains("era") || r["era"] == "immortal";
  if (immortal) {
    p.eraBlockHash = p.genesisHash;
    if (!str(r, "blockHash").empty()) {
      MERIT_ASSIGN_OR_RETURN(p.eraBlockHash, hash32(str(r, "blockHash")));
    }
  } else {
    const json& era = r["era"];
    p.mortalEra =
        std::make_pair(era.at("period").get<std::uint64_t>(), era.at("current").get<std::uint64_t>());
    if (str(r, "blockHash").empty()) return fail(ErrorCode::kInvalidArgument, "a mortal era needs blockHash");
    MERIT_ASSIGN_OR_RETURN(p.eraBlockHash, hash32(str(r, "blockHash")));
  }
  MERIT_ASSIGN_OR_RETURN(ExtensionBytes ext, encodeSignedExtensions(*md, p));
  Bytes payload = call;
  payload.insert(payload.end(), ext.extra.begin(), ext.extra.end());
  payload.insert(payload.end(), ext.additional.begin(), ext.additional.end());
  MERIT_ASSIGN_OR_RETURN(Bytes signedData, signingPayload(*md, call, p));
  MERIT_ASSIGN_OR_RETURN(Bytes xt, buildSignedExtrinsic(*md, call, p, key));
  crypto::Signature sig = key.sign(signedData);
  const auto& pub = key.publicKey();
  json out = {
      {"publicKey", hex0x(pub.bytes())},
      {"accountId", hex0x(pub.accountId())},
      {"ss58", crypto::ss58Encode(pub.accountId())},
      {"callHex", hex0x(call)},
      {"genesisHash", hex0x(p.genesisHash)},
      {"payloadHex", hex0x(payload)},
      {"signedDataHex", hex0x(signedData)},
      {"signatureHex", hex0x(sig.bytes())},
      {"extrinsicHex", hex0x(xt)},
  };
  if (r.value("submit", false)) {
    auto res = client.submitExtrinsic(xt, std::chrono::seconds(60));
    if (!res) {
      out["submitted"] = {{"error", res.error().message()}};
    } else if (res->rejected) {
      out["submitted"] = {{"error", res->error->toString()}};
    } else {
      out["submitted"] = hex0x(res->hash);
      out["outcome"] = {{"included", res->included},
                        {"block", res->block},
                        {"success", res->success},
                        {"error", res->error ? std::string(res->error->name()) : std::string()}};
    }
  }
  return out;
}

Result<json> encodeOne(SubstrateClient& client, const json& r) {
  if (r.contains("seedHex")) return sign(client, r);
  MERIT_ASSIGN_OR_RETURN(Bytes call, buildCall(*client.metadata(), r));
  return json{{"callHex", hex0x(call)}};
}

Result<crypto::Hash256> atOrHead(SubstrateClient& client, const json& r) {
  if (!str(r, "at").empty()) return hash32(str(r, "at"));
  return client.headHash();
}

Result<json> storageOne(SubstrateClient& client, const json& r) {
  auto md = client.metadata();
  std::string pallet = str(r, "pallet"), item = str(r, "item");
  json keys = r.value("keys", json::array());
  MERIT_ASSIGN_OR_RETURN(crypto::Hash256 at, atOrHead(client, r));
  MERIT_ASSIGN_OR_RETURN(Bytes key, storageKey(*md, pallet, item, keys));
  if (r.value("entries", false)) {
    MERIT_ASSIGN_OR_RETURN(auto entries, client.prefixEntries(key, 100000, at));
    std::sort(entries.begin(), entries.end());
    json list = json::array();
    for (const auto& [k, raw] : entries) {
      MERIT_ASSIGN_OR_RETURN(json decodedKeys, decodeStorageKey(*md, pallet, item, k));
      MERIT_ASSIGN_OR_RETURN(json value, decodeStorageValue(*md, pallet, item, &raw));
      list.push_back({{"key", hex0x(k)}, {"keys", decodedKeys}, {"raw", hex0x(raw)}, {"value", value}});
    }
    return json{{"prefix", hex0x(key)}, {"entries", list}};
  }
  MERIT_ASSIGN_OR_RETURN(auto raws, client.rawMany({key}, at));
  const std::optional<Bytes>& raw = raws.at(0);
  MERIT_ASSIGN_OR_RETURN(json value, decodeStorageValue(*md, pallet, item, raw ? &*raw : nullptr));
  return json{{"key", hex0x(key)}, {"raw", raw ? json(hex0x(*raw)) : json(nullptr)}, {"value", value}};
}

int failWith(const std::string& message) {
  std::cout << json{{"error", message}}.dump(1) << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[2]) != "encode" && std::string(argv[2]) != "storage")) {
    return failWith("usage: substrate_xcheck <ws-url> encode|storage < request.json");
  }
  std::string url = argv[1], mode = argv[2];
  if (url.rfind("ws://127.0.0.1:", 0) != 0 && url.rfind("ws://localhost:", 0) != 0) {
    return failWith("refusing " + url + ": the cross-check only talks to loopback");
  }
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  json req = json::parse(text, nullptr, false);
  if (req.is_discarded()) return failWith("stdin is not JSON");
  auto client = SubstrateClient::connect(url);
  if (!client) return failWith("connect: " + client.error().message());
  auto one = [&](const json& r) -> Result<json> {
    try {
      return mode == "encode" ? encodeOne(**client, r) : storageOne(**client, r);
    } catch (const json::exception& e) {
      return fail(ErrorCode::kInvalidArgument, std::string("malformed request: ") + e.what());
    }
  };
  json out;
  if (req.is_array()) {
    out = json::array();
    for (const auto& r : req) {
      auto x = one(r);
      if (!x) return failWith(x.error().message());
      out.push_back(std::move(*x));
    }
  } else {
    auto x = one(req);
    if (!x) return failWith(x.error().message());
    out = std::move(*x);
  }
  std::cout << out.dump(1) << "\n";
  return 0;
}
