#include "merit/substrate/client.h"

#include <algorithm>
#include <condition_variable>
#include <deque>

#include "merit/crypto/hash.h"
#include "merit/crypto/ss58.h"
#include "merit/substrate/events.h"
#include "merit/substrate/extrinsic.h"
#include "merit/substrate/hashing.h"
#include "merit/substrate/storage.h"
#include "merit/substrate/value.h"
#include "merit/util/log.h"

namespace merit::substrate {

using nlohmann::json;

std::string hex0x(ByteView bytes) {
  return "0x" + toHex(bytes);
}

Result<Bytes> fromHex0x(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  return fromHex(text);
}

namespace {

Result<crypto::Hash256> hashFromJson(const json& j, std::string_view what) {
  if (!j.is_string()) return fail(ErrorCode::kUnavailable, std::string(what) + ": not a hash string");
  MERIT_ASSIGN_OR_RETURN(Bytes b, fromHex0x(j.get<std::string>()));
  if (b.size() != 32) return fail(ErrorCode::kUnavailable, std::string(what) + ": not 32 bytes");
  crypto::Hash256 h;
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

json atParam(const std::optional<crypto::Hash256>& at) {
  return at ? json(hex0x(*at)) : json(nullptr);
}

// "0x…" number fields of block headers.
Result<std::uint64_t> hexNumber(const json& j) {
  if (!j.is_string()) return fail(ErrorCode::kUnavailable, "block number is not a hex string");
  std::string s = j.get<std::string>();
  if (s.rfind("0x", 0) == 0) s = s.substr(2);
  if (s.empty() || s.size() > 16) return fail(ErrorCode::kUnavailable, "bad block number '" + s + "'");
  std::uint64_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return fail(ErrorCode::kUnavailable, "bad block number '" + s + "'");
    v = v * 16 + static_cast<std::uint64_t>(d);
  }
  return v;
}

}  // namespace

SubstrateClient::SubstrateClient(std::string url, SubstrateOptions options)
    : m_url(std::move(url)), m_options(options) {}

SubstrateClient::~SubstrateClient() = default;

Result<std::unique_ptr<SubstrateClient>> SubstrateClient::connect(const std::string& url,
                                                                  SubstrateOptions options) {
  std::unique_ptr<SubstrateClient> c(new SubstrateClient(url, options));
  MERIT_ASSIGN_OR_RETURN(c->m_rpc, RpcClient::connect(url, options.rpc));
  auto batch = c->m_rpc->callMany({{"chain_getBlockHash", json::array({0})},
                                   {"system_chain", json::array()},
                                   {"system_chainType", json::array()}});
  if (!batch) return fail(batch.error());
  if (!(*batch)[0])
    return fail(ErrorCode::kUnavailable, url + " is not a Substrate node: " + (*batch)[0].error().message());
  MERIT_ASSIGN_OR_RETURN(c->m_genesis, hashFromJson(*(*batch)[0], "genesis hash"));
  if ((*batch)[1] && (*batch)[1]->is_string()) c->m_chainName = (*batch)[1]->get<std::string>();
  if ((*batch)[2] && (*batch)[2]->is_string()) c->m_chainType = (*batch)[2]->get<std::string>();
  MERIT_TRY(c->loadRuntime());
  // Extrinsics are signed for the hash the runtime itself holds for block 0. On a node that is
  // chain_getBlockHash(0); a node that made up its own first block (a fork tool) may answer
  // otherwise, and the runtime's System.BlockHash(0) is the one CheckGenesis compares with.
  if (auto stored = c->storage("System", "BlockHash", json::array({0})); stored && stored->is_string()) {
    auto h = hashFromJson(*stored, "System.BlockHash(0)");
    if (h && *h != crypto::Hash256{}) c->m_genesis = *h;
  }
  return c;
}

Result<void> SubstrateClient::loadRuntime() {
  MERIT_ASSIGN_OR_RETURN(json v, m_rpc->call("state_getRuntimeVersion"));
  RuntimeVersion version;
  version.specName = v.value("specName", std::string());
  version.specVersion = v.value("specVersion", 0u);
  version.transactionVersion = v.value("transactionVersion", 0u);
  // Metadata v15 (runtime API types) where the runtime offers it, else what state_getMetadata gives.
  std::shared_ptr<const Metadata> md;
  auto v15 = m_rpc->call("state_call", json::array({"Metadata_metadata_at_version", "0x0f000000"}));
  if (v15 && v15->is_string()) {
    MERIT_ASSIGN_OR_RETURN(Bytes raw, fromHex0x(v15->get<std::string>()));
    auto decoded = Metadata::decodeAny(raw);
    if (decoded) md = std::make_shared<const Metadata>(std::move(*decoded));
  }
  if (!md) {
    MERIT_ASSIGN_OR_RETURN(json meta, m_rpc->call("state_getMetadata"));
    if (!meta.is_string())
      return fail(ErrorCode::kUnavailable, m_url + ": state_getMetadata did not return bytes");
    MERIT_ASSIGN_OR_RETURN(Bytes raw, fromHex0x(meta.get<std::string>()));
    MERIT_ASSIGN_OR_RETURN(Metadata decoded, Metadata::decodeAny(raw));
    md = std::make_shared<const Metadata>(std::move(decoded));
  }
  std::lock_guard lock(m_mutex);
  m_metadata = std::move(md);
  m_version = version;
  return {};
}

Result<void> SubstrateClient::refreshRuntime() {
  MERIT_ASSIGN_OR_RETURN(json v, m_rpc->call("state_getRuntimeVersion"));
  if (v.value("specVersion", 0u) == runtimeVersion().specVersion) return {};
  MERIT_LOG_INFO(log::Category::kRpc, "runtime of {} changed to spec {}: reloading its metadata", m_url,
                 v.value("specVersion", 0u));
  return loadRuntime();
}

std::shared_ptr<const Metadata> SubstrateClient::metadata() const {
  std::lock_guard lock(m_mutex);
  return m_metadata;
}

RuntimeVersion SubstrateClient::runtimeVersion() const {
  std::lock_guard lock(m_mutex);
  return m_version;
}

std::uint8_t SubstrateClient::metadataVersion() const {
  return metadata()->version();
}

Result<std::uint64_t> SubstrateClient::headNumber() {
  MERIT_ASSIGN_OR_RETURN(json h, m_rpc->call("chain_getHeader"));
  if (!h.is_object() || !h.contains("number"))
    return fail(ErrorCode::kUnavailable, "malformed chain_getHeader reply");
  return hexNumber(h["number"]);
}

Result<crypto::Hash256> SubstrateClient::headHash() {
  MERIT_ASSIGN_OR_RETURN(json h, m_rpc->call("chain_getBlockHash"));
  return hashFromJson(h, "head hash");
}

Result<Bytes> SubstrateClient::storageKey(std::string_view pallet, std::string_view item,
                                          const json& keys) const {
  return substrate::storageKey(*metadata(), pallet, item, keys);
}

Result<json> SubstrateClient::decodeStorageValue(std::string_view pallet, std::string_view item,
                                                 ByteView raw) const {
  Bytes copy(raw.begin(), raw.end());
  return substrate::decodeStorageValue(*metadata(), pallet, item, &copy);
}

Result<json> SubstrateClient::storage(std::string_view pallet, std::string_view item, const json& keys,
                                      std::optional<crypto::Hash256> at) {
  auto values = storageMany({StorageQuery{std::string(pallet), std::string(item), keys}}, at);
  if (!values) return fail(values.error());
  return std::move((*values)[0]);
}

Result<std::vector<std::optional<Bytes>>> SubstrateClient::rawMany(const std::vector<Bytes>& keys,
                                                                   std::optional<crypto::Hash256> at) {
  std::vector<std::optional<Bytes>> out(keys.size());
  if (keys.empty()) return out;
  json list = json::array();
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::string k = hex0x(keys[i]);
    index.emplace(k, i);
    list.push_back(std::move(k));
  }
  MERIT_ASSIGN_OR_RETURN(json sets, m_rpc->call("state_queryStorageAt", json::array({list, atParam(at)})));
  if (!sets.is_array()) return fail(ErrorCode::kUnavailable, "malformed state_queryStorageAt reply");
  for (const auto& set : sets) {
    if (!set.is_object() || !set.contains("changes") || !set["changes"].is_array()) continue;
    for (const auto& change : set["changes"]) {
      if (!change.is_array() || change.size() != 2 || !change[0].is_string()) continue;
      std::string k = change[0].get<std::string>();
      std::transform(k.begin(), k.end(), k.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto it = index.find(k);
      if (it == index.end() || change[1].is_null()) continue;
      if (!change[1].is_string()) return fail(ErrorCode::kUnavailable, "malformed storage value for " + k);
      MERIT_ASSIGN_OR_RETURN(Bytes v, fromHex0x(change[1].get<std::string>()));
      out[it->second] = std::move(v);
    }
  }
  return out;
}

Result<std::vector<json>> SubstrateClient::storageMany(const std::vector<StorageQuery>& queries,
                                                       std::optional<crypto::Hash256> at) {
  std::vector<Bytes> keys;
  keys.reserve(queries.size());
  for (const auto& q : queries) {
    MERIT_ASSIGN_OR_RETURN(Bytes k, storageKey(q.pallet, q.item, q.keys));
    keys.push_back(std::move(k));
  }
  MERIT_ASSIGN_OR_RETURN(auto raws, rawMany(keys, at));
  auto md = metadata();
  std::vector<json> out;
  out.reserve(queries.size());
  for (std::size_t i = 0; i < queries.size(); ++i) {
    MERIT_ASSIGN_OR_RETURN(json v, substrate::decodeStorageValue(*md, queries[i].pallet, queries[i].item,
                                                                 raws[i] ? &*raws[i] : nullptr));
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<std::pair<Bytes, Bytes>>> SubstrateClient::prefixEntries(const Bytes& prefix,
                                                                            std::size_t maxEntries,
                                                                            std::optional<crypto::Hash256> at,
                                                                            std::size_t page) {
  if (!at) {
    MERIT_ASSIGN_OR_RETURN(crypto::Hash256 head, headHash());
    at = head;
  }
  std::vector<Bytes> keys;
  json startKey = nullptr;
  while (keys.size() < maxEntries) {
    std::size_t want = std::min(page, maxEntries - keys.size());
    MERIT_ASSIGN_OR_RETURN(json got, m_rpc->call("state_getKeysPaged",
                                                 json::array({hex0x(prefix), want, startKey, hex0x(*at)})));
    if (!got.is_array()) return fail(ErrorCode::kUnavailable, "malformed state_getKeysPaged reply");
    for (const auto& k : got) {
      if (!k.is_string()) return fail(ErrorCode::kUnavailable, "malformed key in state_getKeysPaged reply");
      MERIT_ASSIGN_OR_RETURN(Bytes b, fromHex0x(k.get<std::string>()));
      keys.push_back(std::move(b));
    }
    if (got.size() < want || got.empty()) break;
    startKey = got.back();
  }
  MERIT_ASSIGN_OR_RETURN(auto values, rawMany(keys, at));
  std::vector<std::pair<Bytes, Bytes>> out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (values[i]) out.emplace_back(std::move(keys[i]), std::move(*values[i]));
  }
  return out;
}

Result<json> SubstrateClient::constant(std::string_view pallet, std::string_view name) const {
  auto md = metadata();
  const Constant* c = md->constant(pallet, name);
  if (c == nullptr) {
    return fail(ErrorCode::kNotFound,
                "no constant " + std::string(pallet) + "." + std::string(name) + " in this runtime");
  }
  ScaleReader r(c->value);
  return decodeValue(md->registry(), c->type, r);
}

Result<Bytes> SubstrateClient::stateCall(std::string_view method, ByteView args,
                                         std::optional<crypto::Hash256> at) {
  MERIT_ASSIGN_OR_RETURN(
      json r, m_rpc->call("state_call", json::array({std::string(method), hex0x(args), atParam(at)})));
  if (!r.is_string()) return fail(ErrorCode::kUnavailable, "malformed state_call reply");
  return fromHex0x(r.get<std::string>());
}

Result<json> SubstrateClient::runtimeApi(std::string_view api, std::string_view method, const json& args,
                                         std::optional<crypto::Hash256> at) {
  auto md = metadata();
  MERIT_ASSIGN_OR_RETURN(RuntimeApiCall call, encodeRuntimeApiCall(*md, api, method, args));
  MERIT_ASSIGN_OR_RETURN(Bytes raw, stateCall(call.method, call.args, at));
  return decodeRuntimeApiResult(*md, api, method, raw);
}

Result<Bytes> SubstrateClient::encodeCall(std::string_view pallet, std::string_view call,
                                          const json& args) const {
  auto md = metadata();
  return substrate::encodeCall(*md, pallet, call, args);
}

// The node's answer counts the account's extrinsics waiting in its pool, so consecutive
// submissions get consecutive nonces without any bookkeeping here.
Result<std::uint64_t> SubstrateClient::nextNonce(const crypto::AccountId& account) {
  MERIT_ASSIGN_OR_RETURN(json n,
                         m_rpc->call("system_accountNextIndex", json::array({crypto::ss58Encode(account)})));
  if (!n.is_number_unsigned())
    return fail(ErrorCode::kUnavailable, "malformed system_accountNextIndex reply");
  return n.get<std::uint64_t>();
}

Result<Bytes> SubstrateClient::signedExtrinsic(crypto::SignerRef key, ByteView call, std::uint64_t tip) {
  auto md = metadata();
  RuntimeVersion v = runtimeVersion();
  SigningParams p;
  p.specVersion = v.specVersion;
  p.txVersion = v.transactionVersion;
  p.genesisHash = m_genesis;
  p.tip = tip;
  MERIT_ASSIGN_OR_RETURN(p.nonce, nextNonce(key.publicKey().accountId()));
  // A mortal era needs a block to anchor it; at block 0 (a fresh chain) sign an immortal one.
  MERIT_ASSIGN_OR_RETURN(json header, m_rpc->call("chain_getHeader"));
  MERIT_ASSIGN_OR_RETURN(std::uint64_t head, hexNumber(header.value("number", json())));
  if (head > 0) {
    MERIT_ASSIGN_OR_RETURN(json hash, m_rpc->call("chain_getBlockHash", json::array({head})));
    MERIT_ASSIGN_OR_RETURN(p.eraBlockHash, hashFromJson(hash, "block hash"));
    p.mortalEra = std::make_pair(m_options.mortality, head);
  } else {
    p.eraBlockHash = m_genesis;
  }
  return buildSignedExtrinsic(*md, call, p, key);
}

// The runtime's own TransactionPaymentApi where the metadata describes it (its answer decoded by
// the registry: weight, class, partial_fee), else the node's payment_queryInfo RPC.
Result<json> SubstrateClient::queryFee(ByteView extrinsic) {
  auto md = metadata();
  if (md->runtimeApiMethod("TransactionPaymentApi", "query_info") != nullptr) {
    ScaleWriter args;
    args.raw(extrinsic);  // the encoded extrinsic (it carries its own length prefix)
    args.u32(static_cast<std::uint32_t>(extrinsic.size()));
    MERIT_ASSIGN_OR_RETURN(Bytes raw, stateCall("TransactionPaymentApi_query_info", args.data()));
    return decodeRuntimeApiResult(*md, "TransactionPaymentApi", "query_info", raw);
  }
  return m_rpc->call("payment_queryInfo", json::array({hex0x(extrinsic)}));
}

Result<std::vector<EventRecord>> SubstrateClient::events(const crypto::Hash256& blockHash) {
  MERIT_ASSIGN_OR_RETURN(Bytes key, storageKey("System", "Events", json::array()));
  MERIT_ASSIGN_OR_RETURN(json raw,
                         m_rpc->call("state_getStorage", json::array({hex0x(key), hex0x(blockHash)})));
  std::vector<EventRecord> out;
  if (raw.is_null()) return out;
  MERIT_ASSIGN_OR_RETURN(Bytes bytes, fromHex0x(raw.get<std::string>()));
  return decodeEvents(*metadata(), bytes);
}

Result<void> SubstrateClient::findOutcome(SubmitResult& out) {
  MERIT_ASSIGN_OR_RETURN(json block, m_rpc->call("chain_getBlock", json::array({hex0x(out.blockHash)})));
  const json* xts = nullptr;
  if (block.is_object() && block.contains("block") && block["block"].is_object()) {
    const json& b = block["block"];
    if (b.contains("extrinsics") && b["extrinsics"].is_array()) xts = &b["extrinsics"];
    if (b.contains("header") && b["header"].is_object() && b["header"].contains("number")) {
      MERIT_ASSIGN_OR_RETURN(out.block, hexNumber(b["header"]["number"]));
    }
  }
  if (xts == nullptr) return fail(ErrorCode::kUnavailable, "malformed chain_getBlock reply");
  bool found = false;
  for (std::size_t i = 0; i < xts->size(); ++i) {
    if (!(*xts)[i].is_string()) continue;
    MERIT_ASSIGN_OR_RETURN(Bytes x, fromHex0x((*xts)[i].get<std::string>()));
    if (blake2_256(x) == out.hash) {
      out.index = static_cast<std::uint32_t>(i);
      found = true;
      break;
    }
  }
  if (!found) return fail(ErrorCode::kUnavailable, "the extrinsic is not in block " + hex0x(out.blockHash));
  MERIT_ASSIGN_OR_RETURN(auto all, events(out.blockHash));
  MERIT_ASSIGN_OR_RETURN(ExtrinsicOutcome outcome, extrinsicOutcome(*metadata(), all, out.index));
  out.success = outcome.success;
  if (!outcome.success) out.error = tx::ChainError::fromName(outcome.error, outcome.dispatchError.dump());
  for (const EventRecord* e : outcome.events) out.events.push_back(*e);
  return {};
}

namespace {

// The refusal of an extrinsic by the pool, named: "Invalid Transaction" with data such as
// "Transaction has a bad signature" becomes "BadProof", "Inability to pay some fees" "Payment", ...
std::string refusalName(const std::string& message) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"bad signature", "BadProof"},
      {"Inability to pay", "Payment"},
      {"outdated", "Stale"},
      {"in the future", "Future"},
      {"ancient birth block", "AncientBirthBlock"},
      {"would exhaust the resources", "ExhaustsResources"},
      {"Priority is too low", "Priority"},
      {"already in the pool", "AlreadyImported"},
      {"Custom error", "Custom"},
  };
  for (const auto& [needle, name] : kNames) {
    if (message.find(needle) != std::string::npos) return name;
  }
  return "Invalid";
}

}  // namespace

Result<SubmitResult> SubstrateClient::watch(const Bytes& xt, const crypto::Hash256& hash,
                                            std::chrono::milliseconds wait) {
  SubmitResult out;
  out.hash = hash;
  if (wait.count() == 0) {
    auto r = m_rpc->call("author_submitExtrinsic", json::array({hex0x(xt)}));
    if (!r) {
      if (!rpcErrorCode(r.error())) return fail(r.error());
      out.rejected = true;
      out.error = tx::ChainError::fromName(refusalName(r.error().message()), r.error().message());
    }
    return out;
  }
  struct State {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<crypto::Hash256> inBlock;
    std::string dropped;  // "dropped", "invalid", "usurped": the pool gave up on it
    std::optional<Error> ended;
  };
  auto state = std::make_shared<State>();
  auto sub = m_rpc->subscribe(
      "author_submitAndWatchExtrinsic", json::array({hex0x(xt)}), "author_unwatchExtrinsic",
      [state](const json& status) {
        std::lock_guard lock(state->mutex);
        if (status.is_object()) {
          for (const char* k : {"inBlock", "finalized"}) {
            if (status.contains(k) && status[k].is_string() && !state->inBlock) {
              auto h = hashFromJson(status[k], k);
              if (h) state->inBlock = *h;
            }
          }
          if (status.contains("usurped")) state->dropped = "Usurped";
        } else if (status.is_string()) {
          std::string s = status.get<std::string>();
          if (s == "dropped") state->dropped = "Dropped";
          if (s == "invalid") state->dropped = "Invalid";
        }
        state->cv.notify_all();
      },
      [state](const Error& e) {
        std::lock_guard lock(state->mutex);
        state->ended = e;
        state->cv.notify_all();
      });
  if (!sub) {
    if (!rpcErrorCode(sub.error())) return fail(sub.error());
    out.rejected = true;
    out.error = tx::ChainError::fromName(refusalName(sub.error().message()), sub.error().message());
    return out;
  }
  {
    std::unique_lock lock(state->mutex);
    state->cv.wait_for(lock, wait, [&] { return state->inBlock || !state->dropped.empty() || state->ended; });
  }
  m_rpc->unsubscribe(*sub);
  std::optional<crypto::Hash256> inBlock;
  std::string dropped;
  {
    std::lock_guard lock(state->mutex);
    inBlock = state->inBlock;
    dropped = state->dropped;
  }
  if (!dropped.empty()) {
    out.rejected = true;
    out.error = tx::ChainError::fromName(dropped, "the node's pool dropped the extrinsic");
    return out;
  }
  if (!inBlock) return out;  // not included within the wait (or the watch ended with the connection)
  out.included = true;
  out.blockHash = *inBlock;
  MERIT_TRY(findOutcome(out));
  return out;
}

Result<SubmitResult> SubstrateClient::submit(crypto::SignerRef key, ByteView call,
                                             std::chrono::milliseconds wait) {
  std::lock_guard submitLock(m_submitMutex);
  MERIT_TRY(refreshRuntime());
  MERIT_ASSIGN_OR_RETURN(Bytes xt, signedExtrinsic(key, call));
  return watch(xt, blake2_256(xt), wait);
}

Result<SubmitResult> SubstrateClient::submitExtrinsic(ByteView extrinsic, std::chrono::milliseconds wait) {
  std::lock_guard submitLock(m_submitMutex);
  Bytes xt(extrinsic.begin(), extrinsic.end());
  return watch(xt, blake2_256(xt), wait);
}

}  // namespace merit::substrate
