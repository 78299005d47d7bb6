// `merit chain metadata|call|storage`: the runtime's own calls and storage, driven by its
// metadata, on a Substrate/subtensor chain (--chain subtensor). A runtime upgrade that adds a call
// or a storage item needs no new code here. Values are JSON in the forms of
// merit/substrate/value.h; a bare word that is not JSON is taken as a string (an SS58 address,
// a hex string).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "merit/substrate/client.h"
#include "merit/substrate/extrinsic.h"
#include "merit/substrate/hashing.h"
#include "merit/substrate/subtensor_chain.h"

#include "chain_util.h"
#include "commands.h"

namespace merit::cli {

using nlohmann::json;

Result<SubmitOutcome> submitRuntimeCall(substrate::SubstrateClient& client, crypto::SignerRef key,
                                        ByteView call, const KeyOptions& o) {
  SubmitOutcome out;
  auto outcome = client.submit(key, call, std::chrono::milliseconds(o.waitMs));
  if (!outcome) return fail(outcome.error());
  if (outcome->rejected) {
    out.rejected = true;
    out.error = outcome->error;
    out.json = {{"hash", nullptr},
                {"block", nullptr},
                {"success", false},
                {"error", outcome->error ? std::string(outcome->error->name()) : std::string("Rejected")},
                {"rejected", true},
                {"detail", outcome->error ? outcome->error->detail() : std::string()}};
    out.exitCode = kExitFailure;
  } else {
    out.hash = substrate::hex0x(outcome->hash);
    out.included = outcome->included;
    out.success = outcome->success;
    out.block = outcome->block;
    out.timedOut = !outcome->included && o.waitMs != 0;
    out.error = outcome->error;
    json error = nullptr;
    if (out.timedOut) error = "Timeout";
    if (outcome->included && outcome->error) error = std::string(outcome->error->name());
    json events = json::array();
    for (const auto& e : outcome->events)
      events.push_back({{"pallet", e.pallet}, {"name", e.name}, {"fields", e.fields}});
    out.json = {{"hash", out.hash},
                {"block", outcome->included ? json(outcome->block) : json(nullptr)},
                {"success", outcome->success},
                {"error", error},
                {"events", events}};
    // Sudo reports the inner call's failure in its Sudid event, not as a failed extrinsic.
    for (const auto& e : outcome->events) {
      if (e.pallet == "Sudo" && e.name == "Sudid" && e.fields.dump().find("Err") != std::string::npos) {
        out.success = false;
        out.error = tx::ChainError::fromName("SudoCallFailed", e.fields.dump());
        out.json["success"] = false;
        out.json["error"] = "SudoCallFailed";
      }
    }
    out.exitCode = !out.included ? (o.waitMs == 0 ? kExitOk : kExitError)
                   : out.success ? kExitOk
                                 : kExitFailure;
  }
  return out;
}

namespace {

using nlohmann::json;

Result<substrate::SubtensorChain*> substrateOf(rpc::Chain& chain, std::string_view what) {
  if (auto* s = dynamic_cast<substrate::SubtensorChain*>(&chain)) return s;
  return fail(ErrorCode::kInvalidArgument,
              std::string(what) +
                  " reads a Substrate runtime's metadata: use it with --chain subtensor "
                  "--url ws://NODE:9944");
}

// "Pallet.name" -> {"Pallet", "name"}.
Result<std::pair<std::string, std::string>> splitDotted(const std::string& text, std::string_view what) {
  auto dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
    return fail(ErrorCode::kInvalidArgument, std::string(what) + " must be Pallet.name, got '" + text + "'");
  }
  return std::make_pair(text.substr(0, dot), text.substr(dot + 1));
}

// A command-line value: JSON when it parses as JSON, else the word as a string.
json argValue(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(text) : j;
}

std::string fieldsText(const substrate::TypeRegistry& reg, const std::vector<substrate::Field>& fields) {
  std::string out;
  for (const auto& f : fields) {
    if (!out.empty()) out += ", ";
    out += f.name.value_or("_") + ": " + (f.typeName ? *f.typeName : reg.displayName(f.type));
  }
  return out;
}

const substrate::VariantDef* variantsOf(const substrate::TypeRegistry& reg,
                                        std::optional<substrate::TypeId> id) {
  if (!id) return nullptr;
  const auto* t = reg.get(*id);
  return t != nullptr ? std::get_if<substrate::VariantDef>(&t->def) : nullptr;
}

int runMetadata(const ChainSettings& chain, const KeyOptions& o, const std::string& palletName) {
  auto connected = connectChain(chain);
  if (!connected) return report(connected.error());
  auto sub = substrateOf(**connected, "chain metadata");
  if (!sub) return report(sub.error());
  auto md = (*sub)->client().metadata();
  const auto& reg = md->registry();
  auto version = (*sub)->client().runtimeVersion();
  json out = {{"spec_name", version.specName},
              {"spec_version", version.specVersion},
              {"metadata_version", md->version()},
              {"pallets", json::array()}};
  for (const auto& p : md->pallets()) {
    if (!palletName.empty() && p.name != palletName) continue;
    json pj = {{"name", p.name}, {"index", p.index}};
    if (!palletName.empty()) {
      json calls = json::array(), errors = json::array(), events = json::array(), storage = json::array(),
           constants = json::array();
      if (const auto* v = variantsOf(reg, p.callType)) {
        for (const auto& c : v->variants)
          calls.push_back({{"name", c.name}, {"index", c.index}, {"args", fieldsText(reg, c.fields)}});
      }
      if (const auto* v = variantsOf(reg, p.errorType)) {
        for (const auto& e : v->variants) errors.push_back(e.name);
      }
      if (const auto* v = variantsOf(reg, p.eventType)) {
        for (const auto& e : v->variants)
          events.push_back({{"name", e.name}, {"fields", fieldsText(reg, e.fields)}});
      }
      for (const auto& s : p.storage) {
        json keys = json::array();
        if (s.isMap && s.keyType) {
          for (std::size_t i = 0; i < s.hashers.size(); ++i)
            keys.push_back(std::string(substrate::hasherName(s.hashers[i])));
        }
        storage.push_back({{"name", s.name},
                           {"hashers", keys},
                           {"key", s.keyType ? reg.displayName(*s.keyType) : ""},
                           {"value", reg.displayName(s.valueType)},
                           {"default", s.modifier == substrate::StorageModifier::kDefault}});
      }
      for (const auto& c : p.constants)
        constants.push_back({{"name", c.name}, {"type", reg.displayName(c.type)}});
      pj["calls"] = calls;
      pj["storage"] = storage;
      pj["events"] = events;
      pj["errors"] = errors;
      pj["constants"] = constants;
    }
    out["pallets"].push_back(std::move(pj));
  }
  if (!palletName.empty() && out["pallets"].empty()) {
    return report(Error(ErrorCode::kNotFound, "no pallet '" + palletName + "' in this runtime"));
  }
  if (palletName.empty()) {
    json exts = json::array();
    for (const auto& e : md->extrinsic().signedExtensions) exts.push_back(e.identifier);
    out["signed_extensions"] = exts;
    json apis = json::array();
    for (const auto& a : md->runtimeApis()) {
      for (const auto& m : a.methods) apis.push_back(a.name + "_" + m.name);
    }
    out["runtime_apis"] = apis;
  }
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("runtime %s spec %u, metadata v%u\n", version.specName.c_str(), version.specVersion,
              static_cast<unsigned>(md->version()));
  for (const auto& p : out["pallets"]) {
    std::printf("%s (index %u)\n", p["name"].get<std::string>().c_str(), p["index"].get<unsigned>());
    if (palletName.empty()) continue;
    std::printf("  calls:\n");
    for (const auto& c : p["calls"]) {
      std::printf("    %s(%s)\n", c["name"].get<std::string>().c_str(), c["args"].get<std::string>().c_str());
    }
    std::printf("  storage:\n");
    for (const auto& s : p["storage"]) {
      std::string keys;
      for (const auto& h : s["hashers"]) keys += (keys.empty() ? "" : ", ") + h.get<std::string>();
      std::printf("    %s%s -> %s\n", s["name"].get<std::string>().c_str(),
                  keys.empty() ? "" : ("[" + s["key"].get<std::string>() + " by " + keys + "]").c_str(),
                  s["value"].get<std::string>().c_str());
    }
    std::printf("  events:\n");
    for (const auto& e : p["events"]) {
      std::printf("    %s(%s)\n", e["name"].get<std::string>().c_str(),
                  e["fields"].get<std::string>().c_str());
    }
    std::printf("  errors:\n");
    for (const auto& e : p["errors"]) std::printf("    %s\n", e.get<std::string>().c_str());
    std::printf("  constants:\n");
    for (const auto& c : p["constants"]) {
      std::printf("    %s: %s\n", c["name"].get<std::string>().c_str(), c["type"].get<std::string>().c_str());
    }
  }
  if (palletName.empty()) {
    std::printf("signed extensions: %s\n", out["signed_extensions"].dump().c_str());
    std::printf(
        "(merit chain metadata --pallet NAME lists its calls, storage, events, errors and constants)\n");
  }
  return kExitOk;
}

struct CallOptions {
  std::string target;             // Pallet.call
  std::vector<std::string> args;  // name=value
  std::string signer = "coldkey";
  bool sudo = false;
  bool dryRun = false;
};

int runCall(const ChainSettings& chain, const KeyOptions& o, const CallOptions& c) {
  auto names = splitDotted(c.target, "the call");
  if (!names) return report(names.error());
  json args = json::object();
  for (const auto& a : c.args) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return report(Error(ErrorCode::kInvalidArgument, "argument '" + a + "' is not name=value"));
    }
    args[a.substr(0, eq)] = argValue(a.substr(eq + 1));
  }
  Result<crypto::AnyPrivateKey> key = c.signer == "hotkey" ? loadHotkeyOf(o) : unlockColdkeyOf(o);
  if (!key) return report(key.error());
  auto connected = connectChain(chain);
  if (!connected) return report(connected.error());
  auto sub = substrateOf(**connected, "chain call");
  if (!sub) return report(sub.error());
  auto& client = (*sub)->client();
  // The variant's fields in metadata order, so errors name a missing or unknown argument.
  auto md = client.metadata();
  const auto* variant = md->callVariant(names->first, names->second);
  if (variant == nullptr) {
    return report(Error(
        ErrorCode::kNotFound,
        "no call " + c.target + " in this runtime (see merit chain metadata --pallet " + names->first + ")"));
  }
  for (const auto& [name, value] : args.items()) {
    bool known = false;
    for (const auto& f : variant->fields) known = known || f.name == name;
    if (!known) {
      return report(
          Error(ErrorCode::kInvalidArgument, c.target + " has no argument '" + name + "' (it takes " +
                                                 fieldsText(md->registry(), variant->fields) + ")"));
    }
  }
  Result<Bytes> call = client.encodeCall(names->first, names->second, args);
  if (call && c.sudo) {
    json inner = {{names->first, {{names->second, args}}}};
    call = client.encodeCall("Sudo", "sudo", json{{"call", inner}});
  }
  if (!call) return report(call.error());
  if (c.dryRun) {
    // Sign with the account's next nonce and ask the node what it would charge; submit nothing.
    auto xt = client.signedExtrinsic(*key, *call);
    if (!xt) return report(xt.error());
    auto fee = client.queryFee(*xt);
    if (!fee) return report(fee.error());
    json out = {{"call", substrate::hex0x(*call)},
                {"extrinsic", substrate::hex0x(*xt)},
                {"hash", substrate::hex0x(substrate::extrinsicHash(*xt))},
                {"fee", *fee}};
    if (o.json) {
      std::printf("%s\n", out.dump(2).c_str());
    } else {
      std::printf(
          "%s%s: not submitted (--dry-run)\n  call       %s\n  extrinsic  %zu bytes\n  fee        %s\n",
          c.sudo ? "sudo " : "", c.target.c_str(), out["call"].get<std::string>().c_str(), xt->size(),
          fee->dump().c_str());
    }
    return kExitOk;
  }
  auto out = submitRuntimeCall(client, *key, *call, o);
  if (!out) return report(out.error());
  return printOutcome(*out, (c.sudo ? "sudo " : "") + c.target, o.json);
}

int runStorage(const ChainSettings& chain, const KeyOptions& o, const std::string& target,
               const std::vector<std::string>& keyTexts, std::size_t limit) {
  auto names = splitDotted(target, "the storage item");
  if (!names) return report(names.error());
  auto connected = connectChain(chain);
  if (!connected) return report(connected.error());
  auto sub = substrateOf(**connected, "chain storage");
  if (!sub) return report(sub.error());
  auto& client = (*sub)->client();
  auto md = client.metadata();
  const auto* entry = md->storage(names->first, names->second);
  if (entry == nullptr) {
    return report(Error(ErrorCode::kNotFound, "no storage " + target +
                                                  " in this runtime (see merit chain metadata --pallet " +
                                                  names->first + ")"));
  }
  json keys = json::array();
  for (const auto& k : keyTexts) keys.push_back(argValue(k));
  const std::size_t needed = entry->isMap ? entry->hashers.size() : 0;
  if (keys.size() > needed) {
    return report(Error(ErrorCode::kInvalidArgument, target + " takes " + std::to_string(needed) + " keys"));
  }
  if (keys.size() == needed) {
    auto v = client.storage(names->first, names->second, keys);
    if (!v) return report(v.error());
    std::printf("%s\n", o.json ? v->dump(2).c_str() : v->dump().c_str());
    return kExitOk;
  }
  // Fewer keys: every entry under that prefix (raw key, decoded value).
  auto prefix = client.storageKey(names->first, names->second, keys);
  if (!prefix) return report(prefix.error());
  auto entries = client.prefixEntries(*prefix, limit);
  if (!entries) return report(entries.error());
  json out = json::array();
  for (const auto& [k, raw] : *entries) {
    auto v = client.decodeStorageValue(names->first, names->second, raw);
    if (!v) return report(v.error());
    out.push_back({{"key", substrate::hex0x(k)}, {"value", *v}});
  }
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    for (const auto& e : out)
      std::printf("%s  %s\n", e["key"].get<std::string>().c_str(), e["value"].dump().c_str());
    std::printf("(%zu entries%s)\n", out.size(), out.size() == limit ? ", limited by --limit" : "");
  }
  return kExitOk;
}

}  // namespace

void addSubstrateCommands(CLI::App& chainCmd, int& exitCode, const ChainSettings& chain) {
  auto o = std::make_shared<KeyOptions>();
  auto text = std::make_shared<std::string>();
  auto keys = std::make_shared<std::vector<std::string>>();
  auto limit = std::make_shared<std::size_t>(1000);
  auto call = std::make_shared<CallOptions>();

  auto* meta = chainCmd.add_subcommand(
      "metadata", "The runtime's pallets; with --pallet its calls (argument types), storage, events, errors");
  meta->add_option("--pallet", *text, "One pallet in detail");
  addJsonOpt(meta, *o);
  meta->callback([&exitCode, &chain, o, text] { exitCode = runMetadata(chain, *o, *text); });

  auto* callCmd = chainCmd.add_subcommand(
      "call", "Sign and submit any runtime call: merit chain call Pallet.call name=value ...");
  callCmd->add_option("CALL", call->target, "Pallet.call, e.g. SubtensorModule.register_network")->required();
  callCmd->add_option("ARGS", call->args, "name=value (JSON, or a plain string)");
  callCmd->add_option("--signer", call->signer, "Sign with the wallet's coldkey or hotkey")
      ->capture_default_str()
      ->check(CLI::IsMember({"coldkey", "hotkey"}));
  callCmd->add_flag("--sudo", call->sudo, "Wrap the call in Sudo.sudo (the signer must be the sudo key)");
  callCmd->add_flag("--dry-run", call->dryRun,
                    "Build and sign it, print the bytes and the fee estimate (the runtime's "
                    "TransactionPaymentApi, else payment_queryInfo); submit nothing");
  addWalletOpt(callCmd, *o);
  addHotkeyOpt(callCmd, *o);
  addPasswordOpt(callCmd, *o);
  addSubmitOpts(callCmd, *o);
  callCmd->callback([&exitCode, &chain, o, call] { exitCode = runCall(chain, *o, *call); });

  auto* storage =
      chainCmd.add_subcommand("storage", "Read runtime storage: merit chain storage Pallet.Item [KEY...]");
  storage->add_option("ITEM", *text, "Pallet.Item, e.g. SubtensorModule.Tempo")->required();
  storage->add_option("KEYS", *keys,
                      "Map keys (JSON, or a plain string); fewer than the map has lists entries");
  storage->add_option("--limit", *limit, "At most this many entries when listing")->capture_default_str();
  addJsonOpt(storage, *o);
  storage->callback(
      [&exitCode, &chain, o, text, keys, limit] { exitCode = runStorage(chain, *o, *text, *keys, *limit); });
}

}  // namespace merit::cli
