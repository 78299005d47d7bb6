// merit_rpc: the client side of the chain's JSON-RPC. Every call has a timeout; transport
// failures are retried a bounded number of times with backoff, and a request that fails on a
// kept-alive connection the server has meanwhile closed (its idle timeout) is re-sent once at
// once on a fresh connection; extrinsics are built, signed with
// the account's next nonce (the chain's, or one past this client's pending submissions) and
// submitted with a typed outcome: included in block N (success or a named error), or rejected.
//
// The header is JSON-free: typed reads go through rpc::Chain, and the raw call takes and returns
// JSON text. merit/rpc_json/call.h (merit_rpc_json) wraps that text in nlohmann::json for the
// tools and tests that want it.
//
// Thread-safety: a ChainClient may be shared between threads; calls are serialised on one HTTP
// connection per client (use one client per thread for parallel calls).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "merit/crypto/keys.h"
#include "merit/rpc/chain.h"
#include "merit/tx/extrinsic.h"
#include "merit/util/result.h"

namespace httplib {
class Client;
}

namespace merit::rpc {

struct ClientOptions {
  std::chrono::milliseconds timeout{10'000};  // per HTTP request (waits add their own timeout)
  int retries = 2;                            // extra attempts after a transport failure
  std::chrono::milliseconds backoff{200};     // first delay; doubled (jittered, capped) per attempt
  std::uint64_t mortality = 64;               // extrinsics are valid for this many blocks
};

// The default chain URL: $MERIT_CHAIN_URL, else http://127.0.0.1:9933.
std::string defaultChainUrl();

// The `merit` backend of the chain-client interface: merit-chain's JSON-RPC over HTTP.
class ChainClient final : public Chain {
 public:
  // Connects and reads system_info (the genesis hash extrinsics are signed for).
  static Result<std::unique_ptr<ChainClient>> connect(const std::string& url, ClientOptions options = {});
  ~ChainClient() override;
  ChainClient(const ChainClient&) = delete;
  ChainClient& operator=(const ChainClient&) = delete;

  // One JSON-RPC call with `params` as JSON text (an array or an object); returns the result
  // as compact JSON text. A JSON-RPC error becomes kInvalidArgument (or kOverloaded for -32001,
  // kNotFound for -32002) with the server's message; `extraTimeout` extends the HTTP timeout
  // for methods that wait on the server. The result is re-printed from the parsed reply, so
  // merit_rpc's own reads (metagraph, head, submit) do not come through here.
  Result<std::string> callText(std::string_view method, std::string_view params = "[]",
                               std::chrono::milliseconds extraTimeout = std::chrono::milliseconds(0));

  const crypto::Hash256& genesisHash() const { return m_genesis; }

  // Chain.
  ChainKind kind() const override { return ChainKind::kMerit; }
  const std::string& url() const override { return m_url; }
  Result<ChainInfo> info() override;
  Result<std::uint64_t> headNumber() override;
  Result<Metagraph> metagraph(tx::NetUid netuid) override;
  Result<AccountInfo> account(const tx::AccountId& account) override;
  Result<std::vector<SubnetSummary>> subnets() override;
  Result<SubnetInfo> subnet(tx::NetUid netuid) override;

  // Signs `call` with `key` and submits it; waits up to `wait` for inclusion (0 = do not wait).
  // A refusal by the node is a rejected Submission with the typed chain error (docs/RPC.md's
  // -32000/-32001 with data.name); inclusion with a failed call has success = false and the error.
  Result<Submission> submit(crypto::SignerRef key, tx::Call call,
                            std::chrono::milliseconds wait = std::chrono::milliseconds(30'000)) override;

 private:
  ChainClient(std::string url, ClientOptions options);
  Result<std::uint64_t> nextNonce(const tx::AccountId& account);
  // One JSON-RPC exchange with transport retries (`params` is JSON text): the reply's body, a
  // JSON object holding either "result" or "error", unparsed. client.cpp parses it once, and
  // turns an error into an Error except where submit() reads a refusal from it.
  Result<std::string> exchange(std::string_view method, std::string_view params,
                               std::chrono::milliseconds extraTimeout = std::chrono::milliseconds(0));

  std::string m_url;
  ClientOptions m_options;
  std::unique_ptr<httplib::Client> m_http;
  std::mutex m_mutex;  // guards m_http, m_pendingNonce
  crypto::Hash256 m_genesis{};
  std::map<tx::AccountId, std::uint64_t> m_pendingNonce;  // next nonce after our own submissions
  std::uint64_t m_nextId = 1;
  bool m_connectionUsed = false;  // a request has succeeded on the kept-alive connection
};

}  // namespace merit::rpc
