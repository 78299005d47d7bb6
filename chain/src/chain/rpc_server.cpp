#include "merit/chain/rpc_server.h"

#include <functional>
#include <map>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "merit/crypto/ss58.h"
#include "merit/util/log.h"

namespace merit::chain {

namespace {

using nlohmann::json;
using log::Category;

constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kRejected = -32000;    // the chain refused an extrinsic (data.name says why)
constexpr int kOverloaded = -32001;  // bounded queue full; retry later
constexpr int kNotFound = -32002;

// A handler failure carried as an exception inside this file only: thrown by parameter helpers
// and caught by the dispatcher, which turns it into a JSON-RPC error object.
struct RpcError {
  int code;
  std::string message;
  json data;
};

[[noreturn]] void invalidParams(const std::string& m) { throw RpcError{kInvalidParams, m, nullptr}; }

// Positional or named parameters.
class Params {
 public:
  Params(const json& p, std::vector<std::string> names) : m_p(p), m_names(std::move(names)) {
    if (!m_p.is_null() && !m_p.is_array() && !m_p.is_object()) invalidParams("params must be an array or an object");
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

std::string hex0x(ByteView b) { return "0x" + toHex(b); }
std::string address(const AccountId& a) { return crypto::ss58Encode(a); }

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

json statusJson(const crypto::Hash256& hash, const XtStatus& s) {
  json j = {{"hash", hex0x(hash)}, {"status", xtStateName(s.state)}};
  if (s.state == XtState::kIncluded) {
    j["block"] = s.block;
    j["index"] = s.index;
    j["success"] = s.success;
    if (!s.success) j["error"] = s.error;
    if (!s.detail.empty()) j["detail"] = s.detail;
  } else if (s.state == XtState::kDropped) {
    j["error"] = s.error;
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
            {"hotkey_public_key", hex0x(n.hotkeyPub)},
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

using Handler = std::function<json(Node&, const json& params)>;

const std::map<std::string, Handler, std::less<>>& methods() {
  static const std::map<std::string, Handler, std::less<>> table = {
      {"system_health",
       [](Node& node, const json&) {
         auto h = node.head();
         return json{{"ok", true}, {"head", h.number}, {"mempool", node.mempoolSize()}};
       }},
      {"system_info",
       [](Node& node, const json&) {
         return json{{"chain", "meritnet-dev"},
                     {"version", "0.1.0"},
                     {"genesis_hash", hex0x(node.genesisHash())},
                     {"block_time_ms", node.config().blockTime.count()},
                     {"dev", node.config().dev},
                     {"ss58_prefix", crypto::kSs58Prefix},
                     {"extrinsic_domain", tx::kExtrinsicDomain}};
       }},
      {"chain_getHead", [](Node& node, const json&) { return headerJson(node.head()); }},
      {"chain_getBlock",
       [](Node& node, const json& p) {
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
      {"chain_waitForBlock",
       [](Node& node, const json& p) {
         Params a(p, {"number", "timeout_ms"});
         auto timeout = std::min(a.u64Or(1, 10'000), kMaxRpcWaitMs);
         return headerJson(node.waitForBlock(a.u64(0), std::chrono::milliseconds(timeout)));
       }},
      {"account_get",
       [](Node& node, const json& p) {
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
           return json{{"address", address(id)}, {"free", acc.free}, {"nonce", acc.nonce},
                       {"staked", staked}, {"stakes", stakes}, {"hotkey_stake", s.totalHotkeyStake(id)}};
         });
       }},
      {"chain_getTotals",
       [](Node& node, const json&) {
         return node.read([](const StateView& s, std::uint64_t head) {
           Totals t = s.totals();
           return json{{"block", head},        {"issuance", t.issuance}, {"genesis", t.genesis},
                       {"emitted", t.emitted}, {"burned", t.burned},     {"staked", t.stake},
                       {"locked", t.locked}};
         });
       }},
      {"subnet_list",
       [](Node& node, const json&) {
         return node.read([](const StateView& s, std::uint64_t head) {
           json out = json::array();
           for (NetUid k : s.netuids()) {
             if (auto info = s.subnet(k)) out.push_back(subnetJson(s, k, *info, head, false));
           }
           return out;
         });
       }},
      {"subnet_get",
       [](Node& node, const json& p) {
         Params a(p, {"netuid"});
         NetUid k = a.netuid(0);
         return node.read([&](const StateView& s, std::uint64_t head) {
           auto info = s.subnet(k);
           if (!info) throw RpcError{kNotFound, "no subnet " + std::to_string(k), nullptr};
           return subnetJson(s, k, *info, head, true);
         });
       }},
      {"metagraph_get",
       [](Node& node, const json& p) {
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
             for (std::size_t i = 0; i < order.size(); ++i) pruneRank[order[i]] = static_cast<std::uint32_t>(i + 1);
           }
           for (Uid u = 0; u < info->n; ++u) {
             auto n = s.neuron(k, u);
             if (!n) continue;
             json j = neuronJson(s, *info, k, u, *n, head);
             j["prune_rank"] = pruneRank[u] == 0 ? json(nullptr) : json(pruneRank[u]);
             auto rows = [](const std::vector<consensus::UidValue>& r) {
               json out = json::array();
               for (const auto& e : r) out.push_back({e.uid, e.value});
               return out;
             };
             if (withWeights) {
               if (k == kRootNetUid) {
                 json out = json::array();
                 for (auto [nk, v] : s.rootWeights(u)) out.push_back({nk, v});
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
       [](Node& node, const json& p) {
         Params a(p, {"netuid", "uid"});
         NetUid k = a.netuid(0);
         auto uid = a.u64(1);
         return node.read([&](const StateView& s, std::uint64_t head) {
           auto info = s.subnet(k);
           auto n = info && uid < info->n ? s.neuron(k, static_cast<Uid>(uid)) : std::nullopt;
           if (!n) throw RpcError{kNotFound, "no neuron " + std::to_string(uid) + " on subnet " + std::to_string(k), nullptr};
           return neuronJson(s, *info, k, static_cast<Uid>(uid), *n, head);
         });
       }},
      {"author_submitExtrinsic",
       [](Node& node, const json& p) {
         Params a(p, {"extrinsic"});
         auto bytes = fromHex(a.str(0));
         if (!bytes) invalidParams("extrinsic: " + bytes.error().message());
         auto hash = node.submit(*bytes);
         if (!hash) {
           const auto& m = hash.error().message();
           auto name = m.substr(0, m.find(':'));
           throw RpcError{hash.error().code() == ErrorCode::kOverloaded ? kOverloaded : kRejected, m,
                          json{{"name", name}}};
         }
         return json(hex0x(*hash));
       }},
      {"author_submitAndWait",
       [](Node& node, const json& p) {
         Params a(p, {"extrinsic", "timeout_ms"});
         auto bytes = fromHex(a.str(0));
         if (!bytes) invalidParams("extrinsic: " + bytes.error().message());
         auto timeout = std::min(a.u64Or(1, 30'000), kMaxRpcWaitMs);
         auto hash = node.submit(*bytes);
         if (!hash) {
           const auto& m = hash.error().message();
           throw RpcError{hash.error().code() == ErrorCode::kOverloaded ? kOverloaded : kRejected, m,
                          json{{"name", m.substr(0, m.find(':'))}}};
         }
         return statusJson(*hash, node.waitForStatus(*hash, std::chrono::milliseconds(timeout)));
       }},
      {"author_extrinsicStatus",
       [](Node& node, const json& p) {
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

// Returns null for a notification (no id): nothing is sent back for it.
json handleOne(Node& node, const std::string& feedEndpoint, const json& req) {
  if (!req.is_object()) return errorObject(nullptr, kInvalidRequest, "request must be an object");
  json id = req.contains("id") ? req["id"] : json();
  bool notification = !req.contains("id");
  if (!id.is_null() && !id.is_string() && !id.is_number()) {
    return errorObject(nullptr, kInvalidRequest, "id must be a string, a number or null");
  }
  auto version = req.find("jsonrpc");
  if (version == req.end() || *version != "2.0") return errorObject(id, kInvalidRequest, "jsonrpc must be \"2.0\"");
  auto method = req.find("method");
  if (method == req.end() || !method->is_string()) return errorObject(id, kInvalidRequest, "method must be a string");
  auto it = methods().find(method->get<std::string>());
  if (it == methods().end()) {
    return notification ? json() : errorObject(id, kMethodNotFound, "no method '" + method->get<std::string>() + "'");
  }
  json params = req.contains("params") ? req["params"] : json();
  try {
    json result = it->second(node, params);
    if (it->first == "system_info") {
      result["feed_endpoint"] = feedEndpoint.empty() ? json(nullptr) : json(feedEndpoint);
    }
    if (notification) return json();
    return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
  } catch (const RpcError& e) {
    return notification ? json() : errorObject(id, e.code, e.message, e.data);
  } catch (const std::exception& e) {
    // A bug in a handler must not take the node down; the request fails and is logged.
    MERIT_LOG_ERROR(Category::kRpc, "internal error in {}: {}", method->get<std::string>(), e.what());
    return notification ? json() : errorObject(id, kInternalError, "internal error");
  }
}

}  // namespace

std::string RpcHandler::handle(std::string_view body) const {
  if (body.size() > kMaxRpcBodyBytes) return errorObject(nullptr, kInvalidRequest, "request too large").dump();
  json req = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (req.is_discarded()) return errorObject(nullptr, kParseError, "parse error: not valid JSON").dump();
  if (req.is_array()) {
    if (req.empty()) return errorObject(nullptr, kInvalidRequest, "empty batch").dump();
    if (req.size() > kMaxRpcBatch) {
      return errorObject(nullptr, kInvalidRequest, "batch larger than " + std::to_string(kMaxRpcBatch)).dump();
    }
    json out = json::array();
    for (const auto& r : req) {
      json one = handleOne(m_node, m_feedEndpoint, r);
      if (!one.is_null()) out.push_back(std::move(one));
    }
    return out.empty() ? std::string() : out.dump();
  }
  json one = handleOne(m_node, m_feedEndpoint, req);
  return one.is_null() ? std::string() : one.dump();
}

RpcServer::RpcServer(Node& node, std::string feedEndpoint)
    : m_handler(node, std::move(feedEndpoint)), m_server(std::make_unique<httplib::Server>()) {}

RpcServer::~RpcServer() { stop(); }

Result<std::unique_ptr<RpcServer>> RpcServer::start(Node& node, const std::string& host, int port,
                                                   std::string feedEndpoint) {
  std::unique_ptr<RpcServer> s(new RpcServer(node, std::move(feedEndpoint)));
  auto* server = s->m_server.get();
  server->new_task_queue = [] { return new httplib::ThreadPool(16); };
  server->set_payload_max_length(kMaxRpcBodyBytes);
  server->set_tcp_nodelay(true);  // small JSON replies must not wait for delayed ACKs
  server->set_read_timeout(std::chrono::seconds(10));
  const RpcHandler* handler = &s->m_handler;
  server->Post("/", [handler](const httplib::Request& req, httplib::Response& res) {
    std::string out = handler->handle(req.body);
    if (out.empty()) {
      res.status = 204;
      return;
    }
    res.set_content(out, "application/json");
  });
  server->Get("/health", [handler](const httplib::Request&, httplib::Response& res) {
    res.set_content(handler->handle(R"({"jsonrpc":"2.0","id":1,"method":"system_health"})"), "application/json");
  });
  if (port == 0) {
    s->m_port = server->bind_to_any_port(host);
  } else {
    s->m_port = server->bind_to_port(host, port) ? port : -1;
  }
  if (s->m_port <= 0) {
    return fail(ErrorCode::kUnavailable, "cannot listen for RPC on " + host + ":" + std::to_string(port));
  }
  s->m_thread = std::thread([server] { server->listen_after_bind(); });
  return s;
}

void RpcServer::stop() {
  if (m_server) m_server->stop();
  if (m_thread.joinable()) m_thread.join();
}

}  // namespace merit::chain
