#include "merit/rpc/client.h"

#include <cstdlib>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "merit/crypto/ss58.h"
#include "merit/rpc/metagraph.h"
#include "merit/util/backoff.h"

#include "metagraph_json.h"

namespace merit::rpc {

using nlohmann::json;

std::string defaultChainUrl() {
  if (const char* u = std::getenv("MERIT_CHAIN_URL"); u != nullptr && u[0] != '\0') return u;
  return "http://127.0.0.1:9933";
}

ChainClient::ChainClient(std::string url, ClientOptions options)
    : m_url(std::move(url)), m_options(options), m_http(std::make_unique<httplib::Client>(m_url)) {
  m_http->set_keep_alive(true);
  m_http->set_tcp_nodelay(true);
  m_http->set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(m_options.timeout).count() +
                                 1);
}

ChainClient::~ChainClient() = default;

namespace {

// The reply body of one exchange, parsed once; malformed is kUnavailable (the node is not
// speaking JSON-RPC), as a transport failure would be.
Result<json> parseReply(const std::string& url, std::string_view method, const std::string& body) {
  json reply = json::parse(body, nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) {
    return fail(ErrorCode::kUnavailable, url + ": malformed JSON-RPC reply to " + std::string(method));
  }
  if (auto e = reply.find("error"); e != reply.end() && e->is_object()) return reply;
  if (!reply.contains("result")) return fail(ErrorCode::kUnavailable, url + ": reply without result");
  return reply;
}

// The result of a parsed reply, or its JSON-RPC error as an Error.
Result<json> resultOf(json reply) {
  if (auto e = reply.find("error"); e != reply.end() && e->is_object()) {
    int code = e->value("code", 0);
    std::string message = e->value("message", std::string("error"));
    ErrorCode ec = code == -32001   ? ErrorCode::kOverloaded
                   : code == -32002 ? ErrorCode::kNotFound
                                    : ErrorCode::kInvalidArgument;
    return fail(ec, message);
  }
  return std::move(reply["result"]);
}

// The result of `method`'s exchange (`body`), parsed once.
Result<json> resultOf(const std::string& url, std::string_view method, Result<std::string> body) {
  if (!body) return fail(body.error());
  MERIT_ASSIGN_OR_RETURN(json reply, parseReply(url, method, *body));
  return resultOf(std::move(reply));
}

// A reply field that merit-chain always sends, typed; a missing or mistyped one fails the read.
struct Malformed {
  std::string what;
};

const json& member(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw Malformed{std::string("no '") + key + "'"};
  return *it;
}

std::uint64_t u64(const json& j, const char* key) {
  const json& v = member(j, key);
  if (!v.is_number_unsigned()) throw Malformed{std::string("'") + key + "' is not an unsigned integer"};
  return v.get<std::uint64_t>();
}

std::string text(const json& j, const char* key) {
  const json& v = member(j, key);
  if (!v.is_string()) throw Malformed{std::string("'") + key + "' is not a string"};
  return v.get<std::string>();
}

tx::AccountId accountOf(const json& j, const char* key) {
  auto id = crypto::ss58Decode(text(j, key));
  if (!id) throw Malformed{std::string("'") + key + "': " + id.error().message()};
  return *id;
}

// Runs `parse` on a reply; a Malformed becomes kInvalidArgument naming the method and the field
// (as parseMetagraph's errors do: not transient, so retryChain does not wait on it).
template <typename T, typename F>
Result<T> parsed(const std::string& url, const char* method, F&& parse) {
  try {
    return parse();
  } catch (const Malformed& m) {
    return fail(ErrorCode::kInvalidArgument, url + ": malformed " + method + " reply: " + m.what);
  } catch (const json::exception& e) {
    return fail(ErrorCode::kInvalidArgument, url + ": malformed " + method + " reply: " + e.what());
  }
}

void readSummary(const json& j, SubnetSummary& s) {
  s.netuid = static_cast<tx::NetUid>(u64(j, "netuid"));
  s.plugin = text(j, "plugin");
  s.pluginVersion = static_cast<std::uint32_t>(u64(j, "plugin_version"));
  if (const json& owner = member(j, "owner"); !owner.is_null()) s.owner = accountOf(j, "owner");
  s.n = u64(j, "n");
  s.maxUids = u64(j, "max_uids");
  s.tempo = u64(j, "tempo");
  s.blocksUntilNextEpoch = u64(j, "blocks_until_next_epoch");
  s.emissionPerBlock = u64(j, "emission_per_block");
  s.burn = u64(j, "burn");
}

// The names in `hyper` that SubnetParams has, in SubnetParams::forEach order.
std::vector<std::string> reportedNames(const json& hyper) {
  std::vector<std::string> names;
  SubnetParams{}.forEach([&](std::string_view name, std::uint64_t) {
    if (hyper.contains(name)) names.emplace_back(name);
  });
  return names;
}

}  // namespace

Result<std::unique_ptr<ChainClient>> ChainClient::connect(const std::string& url, ClientOptions options) {
  if (url.rfind("http://", 0) != 0) {
    return fail(ErrorCode::kInvalidArgument, "chain URL must start with http:// (got '" + url + "')");
  }
  std::unique_ptr<ChainClient> c(new ChainClient(url, options));
  MERIT_ASSIGN_OR_RETURN(json info, resultOf(url, "system_info", c->exchange("system_info", "[]")));
  auto g = info.is_object() && info.contains("genesis_hash") && info["genesis_hash"].is_string()
               ? fromHexFixed<32>(info["genesis_hash"].get<std::string>())
               : Result<ByteArray<32>>(fail(ErrorCode::kInvalidArgument, "no genesis_hash"));
  if (!g) return fail(ErrorCode::kUnavailable, url + " is not a meritnet chain node: " + g.error().message());
  c->m_genesis = *g;
  return c;
}

Result<std::string> ChainClient::callText(std::string_view method, std::string_view params,
                                          std::chrono::milliseconds extraTimeout) {
  MERIT_ASSIGN_OR_RETURN(json result, resultOf(m_url, method, exchange(method, params, extraTimeout)));
  return result.dump();
}

Result<std::string> ChainClient::exchange(std::string_view method, std::string_view params,
                                          std::chrono::milliseconds extraTimeout) {
  std::lock_guard lock(m_mutex);
  // The envelope is printed around the caller's params text; the server parses (and refuses)
  // malformed params like any other bad request.
  std::string body = R"({"jsonrpc":"2.0","id":)" + std::to_string(m_nextId++) + R"(,"method":)" +
                     json(std::string(method)).dump() + R"(,"params":)" + std::string(params) + "}";
  auto timeout = m_options.timeout + extraTimeout;
  m_http->set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(timeout).count() + 1);
  m_http->set_write_timeout(std::chrono::duration_cast<std::chrono::seconds>(m_options.timeout).count() + 1);
  const auto first = static_cast<std::uint64_t>(std::max<std::int64_t>(m_options.backoff.count(), 1));
  Backoff backoff({.initial = first, .cap = first << 4, .jitterPercent = 20});
  bool staleRetried = false;
  bool transportFailed = false;  // only a failure to exchange the request is worth another try
  auto attempt = [&]() -> Result<std::string> {
    transportFailed = false;
    auto sent = std::chrono::steady_clock::now();
    auto res = m_http->Post("/", body, "application/json");
    // The server closes idle keep-alive connections; a request sent on one just as it was closed
    // fails at once on read or write, before the server saw it. Re-send it once, at once, on a
    // new connection (not counted as a retry). A refused connect or a timeout is not this case.
    bool quick = std::chrono::steady_clock::now() - sent < std::chrono::seconds(1);
    if (!res && quick && m_connectionUsed && !staleRetried &&
        (res.error() == httplib::Error::Read || res.error() == httplib::Error::Write)) {
      staleRetried = true;
      m_http->stop();
      res = m_http->Post("/", body, "application/json");
    }
    if (!res) {
      transportFailed = true;
      m_connectionUsed = false;
      m_http->stop();  // never reuse a socket that failed
      return fail(ErrorCode::kUnavailable,
                  "cannot reach the chain at " + m_url + " (" + httplib::to_string(res.error()) + ")");
    }
    m_connectionUsed = true;
    if (res->status != 200) {
      // The server's own refusals (overload, deadlines) carry a JSON-RPC error in the body.
      std::string why = "HTTP " + std::to_string(res->status);
      json reply = json::parse(res->body, nullptr, false);
      if (reply.is_object() && reply.contains("error") && reply["error"].is_object()) {
        why += ": " + reply["error"].value("message", std::string());
      }
      return fail(res->status == 503 ? ErrorCode::kOverloaded : ErrorCode::kUnavailable,
                  m_url + ": " + why + " for " + std::string(method));
    }
    return std::move(res->body);
  };
  RetryHooks hooks;
  hooks.retryable = [&](const Error&) { return transportFailed; };
  hooks.maxAttempts = 1 + std::max(m_options.retries, 0);
  return retryWithBackoff<std::string>(backoff, hooks, attempt);
}

Result<std::uint64_t> ChainClient::headNumber() {
  MERIT_ASSIGN_OR_RETURN(json head, resultOf(m_url, "chain_getHead", exchange("chain_getHead", "[]")));
  if (!head.contains("number") || !head["number"].is_number_unsigned()) {
    return fail(ErrorCode::kUnavailable, "malformed chain_getHead reply");
  }
  return head["number"].get<std::uint64_t>();
}

Result<ChainInfo> ChainClient::info() {
  MERIT_ASSIGN_OR_RETURN(json j, resultOf(m_url, "system_info", exchange("system_info", "[]")));
  if (!j.is_object()) return fail(ErrorCode::kUnavailable, m_url + ": malformed system_info reply");
  ChainInfo info;
  info.name = j.value("chain", std::string("merit"));
  info.dev = j.value("dev", false) == true;
  if (j.contains("block_time_ms") && j["block_time_ms"].is_number_unsigned()) {
    info.blockTime = std::chrono::milliseconds(j["block_time_ms"].get<std::uint64_t>());
  }
  if (j.contains("feed_endpoint") && j["feed_endpoint"].is_string())
    info.feedEndpoint = j["feed_endpoint"].get<std::string>();
  info.genesisHash = m_genesis;
  // The rest of system_info, in name order (json objects iterate sorted).
  for (const auto& [name, v] : j.items()) {
    if (name == "chain" || name == "dev" || name == "block_time_ms" || name == "feed_endpoint" ||
        name == "genesis_hash") {
      continue;
    }
    if (v.is_string()) {
      info.extra.push_back({name, v.get<std::string>()});
    } else if (v.is_number_unsigned()) {
      info.extra.push_back({name, v.get<std::uint64_t>()});
    } else if (v.is_boolean()) {
      info.extra.push_back({name, v.get<bool>()});
    }
  }
  return info;
}

Result<Metagraph> ChainClient::metagraph(tx::NetUid netuid) {
  MERIT_ASSIGN_OR_RETURN(json j,
                         resultOf(m_url, "metagraph_get",
                                  exchange("metagraph_get", json::array({netuid, false, false}).dump())));
  return parseMetagraphJson(j);
}

Result<AccountInfo> ChainClient::account(const tx::AccountId& id) {
  MERIT_ASSIGN_OR_RETURN(
      json j,
      resultOf(m_url, "account_get", exchange("account_get", json::array({crypto::ss58Encode(id)}).dump())));
  return parsed<AccountInfo>(m_url, "account_get", [&] {
    AccountInfo a;
    a.address = accountOf(j, "address");
    a.free = u64(j, "free");
    a.nonce = u64(j, "nonce");
    a.staked = u64(j, "staked");
    a.hotkeyStake = u64(j, "hotkey_stake");
    const json& stakes = member(j, "stakes");
    if (!stakes.is_array()) throw Malformed{"'stakes' is not an array"};
    a.stakes.emplace();
    for (const auto& s : stakes) a.stakes->push_back({accountOf(s, "hotkey"), u64(s, "amount")});
    return a;
  });
}

Result<std::vector<SubnetSummary>> ChainClient::subnets() {
  MERIT_ASSIGN_OR_RETURN(json j, resultOf(m_url, "subnet_list", exchange("subnet_list", "[]")));
  return parsed<std::vector<SubnetSummary>>(m_url, "subnet_list", [&] {
    if (!j.is_array()) throw Malformed{"not an array"};
    std::vector<SubnetSummary> out;
    for (const auto& e : j) readSummary(e, out.emplace_back());
    return out;
  });
}

Result<SubnetInfo> ChainClient::subnet(tx::NetUid netuid) {
  MERIT_ASSIGN_OR_RETURN(json j,
                         resultOf(m_url, "subnet_get", exchange("subnet_get", json::array({netuid}).dump())));
  return parsed<SubnetInfo>(m_url, "subnet_get", [&] {
    SubnetInfo s;
    readSummary(j, s);
    const json& hyper = member(j, "hyperparameters");
    if (!hyper.is_object()) throw Malformed{"'hyperparameters' is not an object"};
    for (const auto& [name, v] : hyper.items()) {
      if (!v.is_number_unsigned())
        throw Malformed{"hyperparameter '" + name + "' is not an unsigned integer"};
      // A name SubnetParams does not have (a newer chain's) is left out.
      auto set = s.params.set(name, v.get<std::uint64_t>());
      if (!set) throw Malformed{set.error().message()};
    }
    s.reportedParams = reportedNames(hyper);
    s.pendingEmission = u64(j, "pending_emission");
    s.locked = u64(j, "locked");
    s.lastEpochBlock = u64(j, "last_epoch_block");
    s.createdBlock = u64(j, "created_block");
    s.registrationsThisInterval = u64(j, "registrations_this_interval");
    return s;
  });
}

Result<std::uint64_t> ChainClient::nextNonce(const tx::AccountId& account) {
  MERIT_ASSIGN_OR_RETURN(
      json acc, resultOf(m_url, "account_get",
                         exchange("account_get", json::array({crypto::ss58Encode(account)}).dump())));
  if (!acc.contains("nonce") || !acc["nonce"].is_number_unsigned()) {
    return fail(ErrorCode::kUnavailable, "malformed account_get reply");
  }
  std::uint64_t chainNonce = acc["nonce"].get<std::uint64_t>();
  std::lock_guard lock(m_mutex);
  auto it = m_pendingNonce.find(account);
  return it == m_pendingNonce.end() ? chainNonce : std::max(chainNonce, it->second);
}

Result<Submission> ChainClient::submit(crypto::SignerRef signer, tx::Call txCall,
                                       std::chrono::milliseconds wait) {
  // Either scheme: the nonce is the signer's account's (sr25519: the key; ecdsa: its hash).
  tx::AccountId account = signer.publicKey().accountId();
  for (int attempt = 0; attempt < 2; ++attempt) {
    MERIT_ASSIGN_OR_RETURN(std::uint64_t head, headNumber());
    MERIT_ASSIGN_OR_RETURN(std::uint64_t nonce, nextNonce(account));
    auto xt = tx::signExtrinsic(signer, m_genesis, nonce, head + m_options.mortality, txCall);
    std::string hex = "0x" + toHex(tx::encodeExtrinsic(xt));
    const char* method = wait.count() > 0 ? "author_submitAndWait" : "author_submitExtrinsic";
    MERIT_ASSIGN_OR_RETURN(std::string body,
                           wait.count() > 0 ? exchange(method, json::array({hex, wait.count()}).dump(), wait)
                                            : exchange(method, json::array({hex}).dump()));
    MERIT_ASSIGN_OR_RETURN(json reply, parseReply(m_url, method, body));
    Submission s;
    s.hash = tx::extrinsicHash(xt);
    if (auto e = reply.find("error"); e != reply.end()) {
      // A refusal names its chain error in data.name (docs/RPC.md); any other JSON-RPC error
      // (bad parameters, a bug in the node) is not the chain's verdict on the extrinsic.
      const json* data = e->contains("data") ? &(*e)["data"] : nullptr;
      std::string message = e->value("message", std::string("error"));
      if (data == nullptr || !data->is_object() || !data->contains("name") || !(*data)["name"].is_string()) {
        return fail(ErrorCode::kInvalidArgument, message);
      }
      s.rejected = true;
      s.error = tx::ChainError::fromWire((*data)["name"].get<std::string>(), message);
      // Our idea of the nonce was wrong (another client used the account): forget it, retry once.
      if (s.error->is(tx::ChainErrorCode::kStale) || s.error->is(tx::ChainErrorCode::kNonceInPool)) {
        std::lock_guard lock(m_mutex);
        m_pendingNonce.erase(account);
        if (attempt == 0) continue;
      }
      return s;
    }
    {
      std::lock_guard lock(m_mutex);
      m_pendingNonce[account] = nonce + 1;
    }
    if (wait.count() == 0) return s;
    const json& r = reply["result"];
    std::string status = r.is_object() ? r.value("status", std::string()) : std::string();
    if (status == "included") {
      s.included = true;
      s.block = r.value("block", std::uint64_t{0});
      s.index = r.value("index", std::uint32_t{0});
      s.success = r.value("success", false);
      if (!s.success)
        s.error = tx::ChainError::fromName(r.value("error", std::string()), r.value("detail", std::string()));
    } else if (status == "dropped") {
      std::lock_guard lock(m_mutex);
      m_pendingNonce.erase(account);
      s.rejected = true;
      s.error = tx::ChainError::parse(r.value("error", std::string("dropped")));
    }
    return s;
  }
  return fail(ErrorCode::kUnavailable, "could not find a usable nonce");
}

}  // namespace merit::rpc
