#include "merit/chain/rpc_server.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "merit/chain/http_server.h"
#include "merit/consensus_json/epoch_json.h"
#include "merit/crypto/ss58.h"
#include "merit/util/log.h"

namespace merit::chain {

namespace {

using log::Category;
using nlohmann::json;

constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kRejected = -32000;    // the chain refused an extrinsic (data.name says why)
constexpr int kOverloaded = -32001;  // bounded queue full; retry later
constexpr int kNotFound = -32002;
constexpr int kResponseTooLarge = -32003;  // the answer would exceed kMaxRpcResponseBytes

// A handler failure carried as an exception inside this file only: thrown by parameter helpers
// and caught by the dispatcher, which turns it into a JSON-RPC error object.
struct RpcError {
  int code;
  std::string message;
  json data;
};

[[noreturn]] void invalidParams(const std::string& m) {
  throw RpcError{kInvalidParams, m, nullptr};
}

// Positional or named parameters.
class Params {
 public:
  Params(const json& p, std::vector<std::string> names) : m_p(p), m_names(std::move(names)) {
    if (!m_p.is_null() && !m_p.is_array() && !m_p.is_object())
      invalidParams("params must be an array or an object");
    if (m_p.is_array() && m_p.size() > m_names.size()) invalidParams("too many parameters");
  }
  const json* find(std::size_t i) const {
    if (m_p.is_array()) return i < m_p.size() ? &m_p[i] : nullptr;
    if (m_p.is_object()) {
      auto it = m_p.find(m_names[i]);
      return it == m_p.end() ? nullptr : &*it;
    }
    return nullptr;
  }
  const json& req(std::size_t i) const {
    const json* v = find(i);
    if (v == nullptr) invalidParams("missing parameter '" + m_names[i] + "'");
    return *v;
  }
  std::uint64_t u64(std::size_t i) const {
    const json& v = req(i);
    if (!v.is_number_unsigned()) invalidParams("'" + m_names[i] + "' must be a non-negative integer");
    return v.get<std::uint64_t>();
  }
  std::uint64_t u64Or(std::size_t i, std::uint64_t dflt) const { return find(i) ? u64(i) : dflt; }
  std::string str(std::size_t i) const {
    const json& v = req(i);
    if (!v.is_string()) invalidParams("'" + m_names[i] + "' must be a string");
    return v.get<std::string>();
  }
  bool flag(std::size_t i) const {
    const json* v = find(i);
    if (v == nullptr) return false;
    if (!v->is_boolean()) invalidParams("'" + m_names[i] + "' must be true or false");
    return v->get<bool>();
  }
  NetUid netuid(std::size_t i) const {
    auto v = u64(i);
    if (v > 65535) invalidParams("netuid out of range");
    return static_cast<NetUid>(v);
  }
  AccountId account(std::size_t i) const {
    auto id = crypto::ss58Decode(str(i));
    if (!id) invalidParams("'" + m_names[i] + "': " + id.error().message());
    return *id;
  }
  crypto::Hash256 hash(std::size_t i) const {
    auto h = fromHexFixed<32>(str(i));
    if (!h) invalidParams("'" + m_names[i] + "': " + h.error().message());
    return *h;
  }

 private:
  const json& m_p;
  std::vector<std::string> m_names;
};

std::string hex0x(ByteView b) {
  return "0x" + toHex(b);
}
std::string address(const AccountId& a) {
  return crypto::ss58Encode(a);
}

json headerJson(const BlockHeader& h) {
  return {{"number", h.number},
          {"hash", hex0x(h.hash())},
          {"parent_hash", hex0x(h.parent)},
          {"timestamp_ms", h.timestampMs},
          {"extrinsics_root", hex0x(h.extrinsicsRoot)},
          {"state_root", hex0x(h.stateRoot)},
          {"author", hex0x(h.author)},
          {"signature", hex0x(h.signature)}};
}

// -32000 (or -32001 for an overload) with the message "Name: detail" and {"name": "Name"}.
[[noreturn]] void refuseSubmission(const tx::ChainError& e) {
  throw RpcError{isOverload(e.code()) ? kOverloaded : kRejected, e.toString(),
                 json{{"name", std::string(e.name())}}};
}

json statusJson(const crypto::Hash256& hash, const XtStatus& s) {
  json j = {{"hash", hex0x(hash)}, {"status", xtStateName(s.state)}};
  if (s.state == XtState::kIncluded) {
    j["block"] = s.block;
    j["index"] = s.index;
    j["success"] = s.success;
    if (!s.success && s.error) j["error"] = std::string(s.error->name());
    if (s.error && !s.error->detail().empty()) j["detail"] = s.error->detail();
  } else if (s.state == XtState::kDropped && s.error) {
    j["error"] = s.error->toString();  // "Name: detail", as the node has always said it
  }
  return j;
}

json paramsJson(const SubnetParams& p) {
  json j = json::object();
  for (std::size_t i = 1; i <= kHyperCount; ++i) {
    auto h = static_cast<Hyper>(i);
    j[std::string(tx::hyperName(h))] = p.get(h);
  }
  return j;
}

std::string ipString(const AxonInfo& a) {
  if (a.ipType == 4) {
    return std::to_string(a.ip[12]) + "." + std::to_string(a.ip[13]) + "." + std::to_string(a.ip[14]) + "." +
           std::to_string(a.ip[15]);
  }
  std::string out;
  for (int i = 0; i < 16; i += 2) {
    if (i) out += ":";
    char buf[8];
    std::snprintf(buf, sizeof buf, "%x", (a.ip[i] << 8) | a.ip[i + 1]);
    out += buf;
  }
  return out;
}

json axonJson(const AxonInfo& a) {
  return {{"ip", ipString(a)},
          {"port", a.port},
          {"ip_type", a.ipType},
          {"protocol", a.protocol},
          {"version", a.version},
          {"block", a.block},
          {"curve_key", hex0x(ByteView(reinterpret_cast<const std::byte*>(a.curveKey.data()), 32))}};
}

json neuronJson(const StateView& s, const SubnetInfo& info, NetUid netuid, Uid uid, const Neuron& n,
                std::uint64_t head) {
  std::uint64_t immunity = info.params.get(Hyper::kImmunityPeriod);
  std::uint64_t age = head - n.blockAtRegistration;
  json j = {{"uid", uid},
            {"hotkey", address(n.hotkey)},
            {"hotkey_scheme", crypto::schemeName(n.hotkeyPub.scheme())},
            {"hotkey_public_key", "0x" + n.hotkeyPub.toHex()},
            {"coldkey", address(n.coldkey)},
            {"stake", s.totalHotkeyStake(n.hotkey)},
            {"active", n.active},
            {"last_update", n.lastUpdate},
            {"block_at_registration", n.blockAtRegistration},
            {"immunity_left", age < immunity ? immunity - age : 0},
            {"validator_permit", n.validatorPermit},
            {"stake_weight", n.stakeWeight},
            {"consensus", n.consensus},
            {"incentive", n.incentive},
            {"dividends", n.dividends},
            {"validator_trust", n.validatorTrust},
            {"emission", n.emission},
            {"axon", n.axon ? axonJson(*n.axon) : json(nullptr)}};
  (void)netuid;
  return j;
}

json subnetJson(const StateView& s, NetUid netuid, const SubnetInfo& info, std::uint64_t head, bool full) {
  std::uint64_t tempo = info.params.get(Hyper::kTempo);
  json j = {{"netuid", netuid},
            {"plugin", info.plugin},
            {"plugin_version", info.pluginVersion},
            {"owner", netuid == kRootNetUid ? json(nullptr) : json(address(info.owner))},
            {"n", info.n},
            {"max_uids", info.params.get(Hyper::kMaxAllowedUids)},
            {"tempo", tempo},
            {"emission_per_block", info.emissionPerBlock},
            {"burn", info.burn},
            {"blocks_until_next_epoch", Runtime::blocksUntilNextEpoch(head, netuid, tempo)}};
  if (full) {
    j["hyperparameters"] = paramsJson(info.params);
    j["pending_emission"] = info.pendingEmission;
    j["locked"] = info.locked;
    j["last_epoch_block"] = info.lastEpochBlock;
    j["created_block"] = info.createdBlock;
    j["registrations_this_interval"] = info.registrationsThisInterval;
  }
  (void)s;
  return j;
}

[[noreturn]] void tooLarge(const std::string& what, std::size_t limit, const std::string& hint) {
  throw RpcError{kResponseTooLarge,
                 what + " exceeds the answer limit of " + std::to_string(limit) + " bytes; " + hint,
                 json{{"limit", limit}}};
}

void requireSubnet(Node& node, NetUid k) {
  bool exists = node.read([&](const StateView& s, std::uint64_t) { return s.subnet(k).has_value(); });
  if (!exists) throw RpcError{kNotFound, "no subnet " + std::to_string(k), nullptr};
}

std::vector<EpochRecord> epochsOrThrow(Node& node, NetUid k, std::size_t count,
                                       std::optional<std::uint64_t> at) {
  auto records = node.epochs(k, count, at);
  if (!records) throw RpcError{kInternalError, records.error().message(), nullptr};
  return std::move(*records);
}

// `limit`: the most bytes the answer may have (RpcHandler's maxResponseBytes).
using Handler = std::function<json(Node&, const json& params, std::size_t limit)>;

const std::map<std::string, Handler, std::less<>>& methods() {
  static const std::map<std::string, Handler, std::less<>> table = {
      {"system_health",
       [](Node& node, const json&, std::size_t) {
         auto h = node.head();
         auto pool = node.poolStats();
         return json{{"ok", true},
                     {"head", h.number},
                     {"mempool", pool.entries},
                     {"mempool_bytes", pool.bytes},
                     {"mempool_future", pool.future},
                     {"mempool_accounts", pool.accounts}};
       }},
      {"system_info",
       [](Node& node, const json&, std::size_t) {
         return json{{"chain", "meritnet-dev"},
                     {"version", "0.1.0"},
                     {"genesis_hash", hex0x(node.genesisHash())},
                     {"block_time_ms", node.config().blockTime.count()},
                     {"ss58_prefix", crypto::kSs58Prefix},
                     {"extrinsic_domain", tx::kExtrinsicDomain},
                     {"dev", node.config().dev},
                     {"local_axons_allowed", node.config().runtime.allowLoopbackAxons},
                     {"extrinsic_fee", node.config().runtime.extrinsicFee}};
       }},
      {"chain_getHead", [](Node& node, const json&, std::size_t) { return headerJson(node.head()); }},
      {"chain_getBlock",
       [](Node& node, const json& p, std::size_t) {
         Params a(p, {"number"});
         auto b = node.block(a.u64(0));
         if (!b) throw RpcError{kNotFound, "no block " + std::to_string(a.u64(0)), nullptr};
         json xts = json::array();
         for (std::size_t i = 0; i < b->extrinsics.size(); ++i) {
           json x = {{"hex", hex0x(b->extrinsics[i])}};
           if (auto d = tx::decodeExtrinsic(b->extrinsics[i])) {
             x["call"] = tx::callName(d->call);
             x["signer"] = address(d->signerAccount());
             x["nonce"] = d->nonce;
           }
           if (i < b->events.size()) {
             const auto& e = b->events[i];
             x["hash"] = hex0x(e.extrinsic);
             x["success"] = e.success;
             if (!e.success) x["error"] = e.error;
             if (!e.detail.empty()) x["detail"] = e.detail;
           }
           xts.push_back(std::move(x));
         }
         return json{{"header", headerJson(b->header)}, {"extrinsics", xts}};
       }},
      {"account_get",
       [](Node& node, const json& p, std::size_t) {
         Params a(p, {"address"});
         AccountId id = a.account(0);
         return node.read([&](const StateView& s, std::uint64_t) {
           Account acc = s.account(id);
           json stakes = json::array();
           Balance staked = 0;
           for (const auto& hk : s.stakedHotkeysOf(id)) {
             Balance v = s.stake(hk, id);
             staked += v;
             stakes.push_back({{"hotkey", address(hk)}, {"amount", v}});
           }
           return json{{"address", address(id)}, {"free", acc.free},
                       {"nonce", acc.nonce},     {"staked", staked},
                       {"stakes", stakes},       {"hotkey_stake", s.totalHotkeyStake(id)}};
         });
       }},
      {"chain_getTotals",
       [](Node& node, const json&, std::size_t) {
         return node.read([](const StateView& s, std::uint64_t head) {
           Totals t = s.totals();
           return json{{"block", head},        {"issuance", t.issuance}, {"genesis", t.genesis},
                       {"emitted", t.emitted}, {"burned", t.burned},     {"staked", t.stake},
                       {"locked", t.locked}};
         });
       }},
      {"subnet_list",
       [](Node& node, const json&, std::size_t) {
         return node.read([](const StateView& s, std::uint64_t head) {
           json out = json::array();
           for (NetUid k : s.netuids()) {
             if (auto info = s.subnet(k)) out.push_back(subnetJson(s, k, *info, head, false));
           }
           return out;
         });
       }},
      {"subnet_get",
       [](Node& node, const json& p, std::size_t) {
         Params a(p, {"netuid"});
         NetUid k = a.netuid(0);
         return node.read([&](const StateView& s, std::uint64_t head) {
           auto info = s.subnet(k);
           if (!info) throw RpcError{kNotFound, "no subnet " + std::to_string(k), nullptr};
           return subnetJson(s, k, *info, head, true);
         });
       }},
      {"metagraph_get",
       [](Node& node, const json& p, std::size_t limit) {
         Params a(p, {"netuid", "weights", "bonds"});
         NetUid k = a.netuid(0);
         bool withWeights = a.flag(1), withBonds = a.flag(2);
         return node.read([&](const StateView& s, std::uint64_t head) {
           auto info = s.subnet(k);
           if (!info) throw RpcError{kNotFound, "no subnet " + std::to_string(k), nullptr};
           json neurons = json::array();
           // 1 = the uid the next registration into a full subnet replaces; null = never (owner).
           std::vector<std::uint32_t> pruneRank(info->n, 0);
           if (k != kRootNetUid) {
             auto order = Runtime::pruningOrder(s, k, *info, head + 1);
             for (std::size_t i = 0; i < order.size(); ++i)
               pruneRank[order[i]] = static_cast<std::uint32_t>(i + 1);
           }
           // A running estimate of the answer's size, so an answer over the limit is refused
           // before it is built (neuron fields ~700 bytes, each [uid, value] pair ~20).
           std::size_t estimate = 1024;
           auto charge = [&](std::size_t bytes) {
             estimate += bytes;
             if (estimate > limit) {
               throw RpcError{kResponseTooLarge,
                              "the metagraph of subnet " + std::to_string(k) +
                                  (withWeights || withBonds ? " with weights/bonds" : "") +
                                  " exceeds the answer limit of " + std::to_string(limit) +
                                  " bytes; ask without weights and bonds, or per neuron with neuron_get",
                              json{{"limit", limit}}};
             }
           };
           for (Uid u = 0; u < info->n; ++u) {
             auto n = s.neuron(k, u);
             if (!n) continue;
             charge(700);
             json j = neuronJson(s, *info, k, u, *n, head);
             j["prune_rank"] = pruneRank[u] == 0 ? json(nullptr) : json(pruneRank[u]);
             auto rows = [&](const std::vector<consensus::UidValue>& r) {
               charge(20 * r.size());
               json out = json::array();
               for (const auto& e : r) out.push_back({e.uid, e.value});
               return out;
             };
             if (withWeights) {
               if (k == kRootNetUid) {
                 json out = json::array();
                 auto rw = s.rootWeights(u);
                 charge(20 * rw.size());
                 for (auto [nk, v] : rw) out.push_back({nk, v});
                 j["weights"] = out;
               } else {
                 j["weights"] = rows(s.weights(k, u));
               }
             }
             if (withBonds) j["bonds"] = rows(s.bonds(k, u));
             neurons.push_back(std::move(j));
           }
           json out = subnetJson(s, k, *info, head, true);
           out["block"] = head;
           out["neurons"] = std::move(neurons);
           return out;
         });
       }},
      {"neuron_get",
       [](Node& node, const json& p, std::size_t) {
         Params a(p, {"netuid", "uid"});
         NetUid k = a.netuid(0);
         auto uid = a.u64(1);
         return node.read([&](const StateView& s, std::uint64_t head) {
           auto info = s.subnet(k);
           auto n = info && uid < info->n ? s.neuron(k, static_cast<Uid>(uid)) : std::nullopt;
           if (!n)
             throw RpcError{kNotFound, "no neuron " + std::to_string(uid) + " on subnet " + std::to_string(k),
                            nullptr};
           return neuronJson(s, *info, k, static_cast<Uid>(uid), *n, head);
         });
       }},
      {"epoch_list",
       [](Node& node, const json& p, std::size_t limit) {
         Params a(p, {"netuid", "limit"});
         NetUid k = a.netuid(0);
         std::uint64_t count = std::min<std::uint64_t>(a.u64Or(1, 16), node.config().epochHistory);
         requireSubnet(node, k);
         std::vector<EpochRecord> records = epochsOrThrow(node, k, count, std::nullopt);
         std::size_t estimate = 1024;
         json epochs = json::array();
         for (const auto& rec : records) {
           // ~250 bytes of JSON per uid: refuse before building an answer over the limit.
           estimate += 256 + 250 * rec.hotkeys.size();
           if (estimate > limit)
             tooLarge("epoch_list of subnet " + std::to_string(k), limit, "ask a smaller limit");
           json hotkeys = json::array();
           for (const auto& hk : rec.hotkeys) hotkeys.push_back(address(hk));
           json stake = json::array();
           for (const auto& n : rec.input.neurons) stake.push_back(n.stake);
           const auto& o = rec.output;
           epochs.push_back(json{{"block", rec.block},
                                 {"rao_emission", rec.input.raoEmission},
                                 {"n", rec.hotkeys.size()},
                                 {"hotkeys", std::move(hotkeys)},
                                 {"stake", std::move(stake)},
                                 {"active", o.active},
                                 {"stake_weight", o.stakeWeight},
                                 {"consensus", o.consensus},
                                 {"incentive", o.incentive},
                                 {"dividends", o.dividends},
                                 {"validator_trust", o.validatorTrust},
                                 {"emission", o.emission},
                                 {"server_emission", o.serverEmission},
                                 {"validator_emission", o.validatorEmission},
                                 {"validator_permit", o.validatorPermit}});
         }
         return json{{"netuid", k}, {"retained", node.config().epochHistory}, {"epochs", std::move(epochs)}};
       }},
      {"epoch_get",
       [](Node& node, const json& p, std::size_t limit) {
         Params a(p, {"netuid", "block"});
         NetUid k = a.netuid(0);
         std::optional<std::uint64_t> at;
         if (a.find(1) && !a.find(1)->is_null()) at = a.u64(1);
         requireSubnet(node, k);
         std::vector<EpochRecord> records = epochsOrThrow(node, k, 1, at);
         if (records.empty()) {
           throw RpcError{kNotFound,
                          "no stored epoch of subnet " + std::to_string(k) +
                              (at ? " at or before block " + std::to_string(*at) : std::string()) +
                              " (the node keeps the last " + std::to_string(node.config().epochHistory) + ")",
                          nullptr};
         }
         const EpochRecord& rec = records.front();
         std::size_t entries = 0;
         for (const auto& n : rec.input.neurons) entries += n.weights.size() + n.bonds.size();
         for (const auto& b : rec.output.bonds) entries += b.size();
         if (1024 + 400 * rec.hotkeys.size() + 16 * entries > limit) {
           tooLarge("epoch " + std::to_string(rec.block) + " of subnet " + std::to_string(k), limit,
                    "recompute it from a node with a larger answer limit");
         }
         json hotkeys = json::array();
         for (const auto& hk : rec.hotkeys) hotkeys.push_back(address(hk));
         return json{{"netuid", k},
                     {"block", rec.block},
                     {"hotkeys", std::move(hotkeys)},
                     {"input", consensus::epochInputJson(rec.input)},
                     {"output", consensus::epochOutputJson(rec.output)}};
       }},
      {"author_submitExtrinsic",
       [](Node& node, const json& p, std::size_t) {
         Params a(p, {"extrinsic"});
         auto bytes = fromHex(a.str(0));
         if (!bytes) invalidParams("extrinsic: " + bytes.error().message());
         auto hash = node.submit(*bytes);
         if (!hash) refuseSubmission(hash.error());
         return json(hex0x(*hash));
       }},
      {"author_extrinsicStatus",
       [](Node& node, const json& p, std::size_t) {
         Params a(p, {"hash"});
         auto h = a.hash(0);
         return statusJson(h, node.status(h));
       }},
  };
  return table;
}

json errorObject(const json& id, int code, const std::string& message, const json& data = nullptr) {
  json e = {{"code", code}, {"message", message}};
  if (!data.is_null()) e["data"] = data;
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", e}};
}

bool isLongPoll(std::string_view method) {
  return method == "chain_waitForBlock" || method == "author_submitAndWait";
}

// The long polls. They never block here: an answer that needs a future block becomes a RpcWait
// (`wait` set, null returned), which the transport parks or handle() waits on.
json startLongPoll(Node& node, std::string_view method, const json& params, const json& id, bool notification,
                   std::optional<RpcWait>& wait) {
  auto deadlineAfter = [](std::uint64_t ms) {
    return std::chrono::steady_clock::now() + std::chrono::milliseconds(std::min(ms, kMaxRpcWaitMs));
  };
  if (method == "chain_waitForBlock") {
    Params a(params, {"number", "timeout_ms"});
    std::uint64_t number = a.u64(0);
    std::uint64_t timeout = a.u64Or(1, 10'000);
    BlockHeader head = node.head();
    if (number > head.number && number - head.number > kMaxRpcWaitBlocksAhead) {
      invalidParams("block " + std::to_string(number) + " is more than " +
                    std::to_string(kMaxRpcWaitBlocksAhead) + " blocks ahead of the head (" +
                    std::to_string(head.number) + ")");
    }
    if (head.number >= number || notification || timeout == 0) return headerJson(head);
    wait = RpcWait{RpcWait::Kind::kBlock, number, {}, deadlineAfter(timeout), id.dump()};
    return nullptr;
  }
  Params a(params, {"extrinsic", "timeout_ms"});
  auto bytes = fromHex(a.str(0));
  if (!bytes) invalidParams("extrinsic: " + bytes.error().message());
  std::uint64_t timeout = a.u64Or(1, 30'000);
  auto hash = node.submit(*bytes);
  if (!hash) refuseSubmission(hash.error());
  XtStatus st = node.status(*hash);
  bool final = st.state == XtState::kIncluded || st.state == XtState::kDropped;
  if (final || notification || timeout == 0) return statusJson(*hash, st);
  wait = RpcWait{RpcWait::Kind::kStatus, 0, *hash, deadlineAfter(timeout), id.dump()};
  return nullptr;
}

// Returns null for a notification (no id): nothing is sent back for it. A long poll sent alone
// (`wait` not null) may come back as a wait instead (null returned, *wait set).
json handleOne(Node& node, const std::string& feedEndpoint, std::size_t limit, const json& req,
               std::optional<RpcWait>* wait) {
  if (!req.is_object()) return errorObject(nullptr, kInvalidRequest, "request must be an object");
  json id = req.contains("id") ? req["id"] : json();
  bool notification = !req.contains("id");
  if (!id.is_null() && !id.is_string() && !id.is_number()) {
    return errorObject(nullptr, kInvalidRequest, "id must be a string, a number or null");
  }
  auto version = req.find("jsonrpc");
  if (version == req.end() || *version != "2.0")
    return errorObject(id, kInvalidRequest, "jsonrpc must be \"2.0\"");
  auto method = req.find("method");
  if (method == req.end() || !method->is_string())
    return errorObject(id, kInvalidRequest, "method must be a string");
  const std::string& name = method->get_ref<const std::string&>();
  bool longPoll = isLongPoll(name);
  auto it = methods().find(name);
  if (!longPoll && it == methods().end()) {
    return notification ? json() : errorObject(id, kMethodNotFound, "no method '" + name + "'");
  }
  if (longPoll && wait == nullptr) {
    // A batch is answered as a whole, so one waiting member would hold all of it (and a worker).
    return notification ? json()
                        : errorObject(id, kInvalidRequest,
                                      name + " waits, so it is not allowed in a batch; send it alone");
  }
  json params = req.contains("params") ? req["params"] : json();
  try {
    json result = longPoll ? startLongPoll(node, name, params, id, notification, *wait)
                           : it->second(node, params, limit);
    if (longPoll && wait->has_value()) return json();
    if (name == "system_info") {
      result["feed_endpoint"] = feedEndpoint.empty() ? json(nullptr) : json(feedEndpoint);
    }
    if (notification) return json();
    return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
  } catch (const RpcError& e) {
    return notification ? json() : errorObject(id, e.code, e.message, e.data);
  } catch (const std::exception& e) {
    // A bug in a handler must not take the node down; the request fails and is logged.
    MERIT_LOG_ERROR(Category::kRpc, "internal error in {}: {}", name, e.what());
    return notification ? json() : errorObject(id, kInternalError, "internal error");
  }
}

std::string tooLarge(std::size_t bytes, std::size_t limit) {
  return errorObject(nullptr, kResponseTooLarge,
                     "the answer (" + std::to_string(bytes) + " bytes so far) exceeds the limit of " +
                         std::to_string(limit) + " bytes; ask for less (smaller batches, no weights/bonds)",
                     json{{"limit", limit}})
      .dump();
}

}  // namespace

RpcStart RpcHandler::start(std::string_view body) const {
  RpcStart out;
  if (body.size() > kMaxRpcBodyBytes) {
    out.body = errorObject(nullptr, kInvalidRequest, "request too large").dump();
    return out;
  }
  json req = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (req.is_discarded()) {
    out.body = errorObject(nullptr, kParseError, "parse error: not valid JSON").dump();
    return out;
  }
  if (req.is_array()) {
    if (req.empty()) {
      out.body = errorObject(nullptr, kInvalidRequest, "empty batch").dump();
      return out;
    }
    if (req.size() > kMaxRpcBatch) {
      out.body =
          errorObject(nullptr, kInvalidRequest, "batch larger than " + std::to_string(kMaxRpcBatch)).dump();
      return out;
    }
    // Serialised member by member so the whole batch is held to the answer limit.
    std::string joined = "[";
    bool any = false;
    for (const auto& r : req) {
      json one = handleOne(m_node, m_feedEndpoint, m_maxResponseBytes, r, nullptr);
      if (one.is_null()) continue;
      if (any) joined += ',';
      joined += one.dump();
      any = true;
      if (joined.size() > m_maxResponseBytes) {
        out.body = tooLarge(joined.size(), m_maxResponseBytes);
        return out;
      }
    }
    if (any) out.body = joined + "]";
    return out;
  }
  json one = handleOne(m_node, m_feedEndpoint, m_maxResponseBytes, req, &out.wait);
  if (!one.is_null()) {
    out.body = one.dump();
    if (out.body.size() > m_maxResponseBytes) out.body = tooLarge(out.body.size(), m_maxResponseBytes);
  }
  return out;
}

std::optional<std::string> RpcHandler::finish(const RpcWait& wait, bool expired) const {
  json result;
  if (wait.kind == RpcWait::Kind::kBlock) {
    BlockHeader head = m_node.head();
    if (head.number < wait.number && !expired) return std::nullopt;
    result = headerJson(head);
  } else {
    XtStatus st = m_node.status(wait.hash);
    bool final = st.state == XtState::kIncluded || st.state == XtState::kDropped;
    if (!final && !expired) return std::nullopt;
    result = statusJson(wait.hash, st);
  }
  json id = json::parse(wait.id, nullptr, false);
  return json{{"jsonrpc", "2.0"}, {"id", id.is_discarded() ? json() : id}, {"result", std::move(result)}}
      .dump();
}

std::string RpcHandler::handle(std::string_view body) const {
  RpcStart s = start(body);
  if (!s.wait) return std::move(s.body);
  const RpcWait& w = *s.wait;
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(w.deadline - std::chrono::steady_clock::now());
  left = std::max(left, std::chrono::milliseconds(0));
  if (w.kind == RpcWait::Kind::kBlock) {
    m_node.waitForBlock(w.number, left);
  } else {
    m_node.waitForStatus(w.hash, left);
  }
  return *finish(w, /*expired=*/true);
}

RpcServer::RpcServer(Node& node, std::string feedEndpoint, std::size_t maxResponseBytes)
    : m_handler(node, std::move(feedEndpoint), maxResponseBytes) {}

RpcServer::~RpcServer() {
  stop();
}

Result<std::unique_ptr<RpcServer>> RpcServer::start(Node& node, const std::string& host, int port,
                                                    std::string feedEndpoint, RpcLimits limits) {
  std::unique_ptr<RpcServer> s(new RpcServer(node, std::move(feedEndpoint), limits.maxResponseBytes));
  const RpcHandler* handler = &s->m_handler;
  auto serve = [handler](const HttpRequest& req) -> HttpOutcome {
    if (req.target == "/health") {
      return HttpResponse{200, handler->handle(R"({"jsonrpc":"2.0","id":1,"method":"system_health"})")};
    }
    RpcStart started = handler->start(req.body);
    if (!started.wait) {
      if (started.body.empty()) return HttpResponse{204, {}};
      return HttpResponse{200, std::move(started.body)};
    }
    // Parked in the event loop: no thread waits for the block.
    return Parked{started.wait->deadline,
                  [handler, w = *started.wait](bool expired) -> std::optional<HttpResponse> {
                    auto answer = handler->finish(w, expired);
                    if (!answer) return std::nullopt;
                    return HttpResponse{200, std::move(*answer)};
                  }};
  };
  auto refusal = [](int status, const std::string& message) {
    int code = status == 503 ? kOverloaded : status >= 500 ? kInternalError : kInvalidRequest;
    return errorObject(nullptr, code, message).dump();
  };
  MERIT_ASSIGN_OR_RETURN(s->m_http, HttpServer::start(host, port, limits, serve, refusal));
  s->m_port = s->m_http->port();
  node.onBlock([wake = s->m_http->waker()](const Block&) { wake(); });
  return s;
}

void RpcServer::stop() {
  if (m_http) m_http->stop();
}

}  // namespace merit::chain
