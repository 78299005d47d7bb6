#include "merit/rpc/client.h"

#include <cstdlib>

#include <httplib.h>

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

Result<std::unique_ptr<ChainClient>> ChainClient::connect(const std::string& url, ClientOptions options) {
  if (url.rfind("http://", 0) != 0) {
    return fail(ErrorCode::kInvalidArgument, "chain URL must start with http:// (got '" + url + "')");
  }
  std::unique_ptr<ChainClient> c(new ChainClient(url, options));
  MERIT_ASSIGN_OR_RETURN(json info, c->call("system_info"));
  auto g = info.is_object() && info.contains("genesis_hash") && info["genesis_hash"].is_string()
               ? fromHexFixed<32>(info["genesis_hash"].get<std::string>())
               : Result<ByteArray<32>>(fail(ErrorCode::kInvalidArgument, "no genesis_hash"));
  if (!g) return fail(ErrorCode::kUnavailable, url + " is not a meritnet chain node: " + g.error().message());
  c->m_genesis = *g;
  return c;
}

Result<json> ChainClient::call(const std::string& method, const json& params,
                               std::chrono::milliseconds extraTimeout) {
  MERIT_ASSIGN_OR_RETURN(json reply, exchange(method, params, extraTimeout));
  if (auto e = reply.find("error"); e != reply.end() && e->is_object()) {
    int code = e->value("code", 0);
    std::string message = e->value("message", std::string("error"));
    ErrorCode ec = code == -32001   ? ErrorCode::kOverloaded
                   : code == -32002 ? ErrorCode::kNotFound
                                    : ErrorCode::kInvalidArgument;
    return fail(ec, message);
  }
  return reply["result"];
}

Result<json> ChainClient::exchange(const std::string& method, const json& params,
                                   std::chrono::milliseconds extraTimeout) {
  std::lock_guard lock(m_mutex);
  json req = {{"jsonrpc", "2.0"}, {"id", m_nextId++}, {"method", method}, {"params", params}};
  std::string body = req.dump();
  auto timeout = m_options.timeout + extraTimeout;
  m_http->set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(timeout).count() + 1);
  m_http->set_write_timeout(std::chrono::duration_cast<std::chrono::seconds>(m_options.timeout).count() + 1);
  const auto first = static_cast<std::uint64_t>(std::max<std::int64_t>(m_options.backoff.count(), 1));
  Backoff backoff({.initial = first, .cap = first << 4, .jitterPercent = 20});
  bool staleRetried = false;
  bool transportFailed = false;  // only a failure to exchange the request is worth another try
  auto attempt = [&]() -> Result<json> {
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
    json reply = json::parse(res->body, nullptr, false);
    if (res->status != 200) {
      // The server's own refusals (overload, deadlines) carry a JSON-RPC error in the body.
      std::string why = "HTTP " + std::to_string(res->status);
      if (reply.is_object() && reply.contains("error") && reply["error"].is_object()) {
        why += ": " + reply["error"].value("message", std::string());
      }
      return fail(res->status == 503 ? ErrorCode::kOverloaded : ErrorCode::kUnavailable,
                  m_url + ": " + why + " for " + method);
    }
    if (reply.is_discarded() || !reply.is_object()) {
      return fail(ErrorCode::kUnavailable, m_url + ": malformed JSON-RPC reply to " + method);
    }
    if (auto e = reply.find("error"); e != reply.end() && e->is_object()) return reply;
    if (!reply.contains("result")) return fail(ErrorCode::kUnavailable, m_url + ": reply without result");
    return reply;
  };
  RetryHooks hooks;
  hooks.retryable = [&](const Error&) { return transportFailed; };
  hooks.maxAttempts = 1 + std::max(m_options.retries, 0);
  return retryWithBackoff<json>(backoff, hooks, attempt);
}

Result<std::uint64_t> ChainClient::headNumber() {
  MERIT_ASSIGN_OR_RETURN(json head, call("chain_getHead"));
  if (!head.contains("number") || !head["number"].is_number_unsigned()) {
    return fail(ErrorCode::kUnavailable, "malformed chain_getHead reply");
  }
  return head["number"].get<std::uint64_t>();
}

Result<ChainInfo> ChainClient::info() {
  MERIT_ASSIGN_OR_RETURN(json j, call("system_info"));
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
  info.extra = j;
  return info;
}

Result<Metagraph> ChainClient::metagraph(tx::NetUid netuid) {
  MERIT_ASSIGN_OR_RETURN(json j, call("metagraph_get", json::array({netuid, false, false})));
  return parseMetagraphJson(j);
}

Result<json> ChainClient::account(const tx::AccountId& account) {
  return call("account_get", json::array({crypto::ss58Encode(account)}));
}

Result<json> ChainClient::subnets() {
  return call("subnet_list");
}

Result<json> ChainClient::subnet(tx::NetUid netuid) {
  return call("subnet_get", json::array({netuid}));
}

Result<std::uint64_t> ChainClient::nextNonce(const tx::AccountId& account) {
  MERIT_ASSIGN_OR_RETURN(json acc, call("account_get", json::array({crypto::ss58Encode(account)})));
  if (!acc.contains("nonce") || !acc["nonce"].is_number_unsigned()) {
    return fail(ErrorCode::kUnavailable, "malformed account_get reply");
  }
  std::uint64_t chainNonce = acc["nonce"].get<std::uint64_t>();
  std::lock_guard lock(m_mutex);
  auto it = m_pendingNonce.find(account);
  return it == m_pendingNonce.end() ? chainNonce : std::max(chainNonce, it->second);
}

Result<Submission> ChainClient::submit(const crypto::PrivateKey& key, tx::Call txCall,
                                       std::chrono::milliseconds wait) {
  tx::AccountId account = key.publicKey().accountId();
  for (int attempt = 0; attempt < 2; ++attempt) {
    MERIT_ASSIGN_OR_RETURN(std::uint64_t head, headNumber());
    MERIT_ASSIGN_OR_RETURN(std::uint64_t nonce, nextNonce(account));
    auto xt = tx::signExtrinsic(key, m_genesis, nonce, head + m_options.mortality, txCall);
    std::string hex = "0x" + toHex(tx::encodeExtrinsic(xt));
    MERIT_ASSIGN_OR_RETURN(json reply,
                           wait.count() > 0
                               ? exchange("author_submitAndWait", json::array({hex, wait.count()}), wait)
                               : exchange("author_submitExtrinsic", json::array({hex})));
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
