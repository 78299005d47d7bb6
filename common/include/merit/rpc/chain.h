// The chain-client interface: what the miner, the validator and the CLI need from a chain, with
// two implementations chosen by configuration:
//   - `merit`:     the embedded dev chain, merit-chain (rpc::ChainClient, JSON-RPC over HTTP);
//   - `subtensor`: a Substrate node running a subtensor runtime (substrate::SubtensorChain:
//                  JSON-RPC over WebSocket, SCALE, calls/storage/errors driven by the metadata).
// Everything above this interface (axon, dendrite, scoring, weight policy, plugins) is the same
// on both. Values crossing it use meritnet's types: tx::Call for what to submit, Metagraph for
// what a subnet looks like, and tx::ChainError (e.g. kSettingWeightsTooFast) for a refused or
// failed call, whichever chain refused it.
//
// Reads that the CLI prints (account, subnets, subnet) return JSON in the shape merit-chain's
// RPC documents (docs/RPC.md: account_get, subnet_list, subnet_get); a backend fills the fields
// it has and leaves out the others.
//
// Thread-safety: one Chain object is used by one thread at a time unless the implementation says
// otherwise (both current ones serialise their calls internally and may be shared).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "merit/crypto/keys.h"
#include "merit/tx/chain_error.h"
#include "merit/tx/extrinsic.h"
#include "merit/util/result.h"

namespace merit::rpc {

struct Metagraph;

enum class ChainKind { kMerit, kSubtensor };
std::string_view chainKindName(ChainKind kind);  // "merit" | "subtensor"
Result<ChainKind> parseChainKind(std::string_view name);

// Where a chain is and what speaks there.
struct ChainEndpoint {
  ChainKind kind = ChainKind::kMerit;
  std::string url;  // empty: the backend's default ($MERIT_CHAIN_URL or http://127.0.0.1:9933 for merit)
};

// The outcome of a submitted extrinsic: included (the call succeeded or failed), rejected (refused
// by the node's pool, or dropped from it, so never included), or neither (still pending when the
// wait ended, or not waited for).
struct Submission {
  crypto::Hash256 hash{};
  bool included = false;  // in block `block` at `index`; `success` says whether the call did its work
  bool rejected = false;  // refused or dropped before inclusion; `error` says why
  std::uint64_t block = 0;
  std::uint32_t index = 0;
  bool success = false;
  std::optional<tx::ChainError> error;  // set when rejected or when the included call failed

  // "Name: detail" of the error for logs and messages; "" without one.
  std::string errorText() const;
};

// What a client learns about the chain once, at connection.
struct ChainInfo {
  std::string name;  // the node's chain name
  bool dev = false;  // a development preset (loopback axons are dialled)
  std::chrono::milliseconds blockTime{0};
  std::string feedEndpoint;  // merit-chain's ZeroMQ block feed ("" = none: poll the head)
  crypto::Hash256 genesisHash{};
  nlohmann::json extra = nlohmann::json::object();  // backend-specific facts (runtime version, ...)
};

class Chain {
 public:
  virtual ~Chain() = default;

  virtual ChainKind kind() const = 0;
  virtual const std::string& url() const = 0;
  virtual Result<ChainInfo> info() = 0;
  virtual Result<std::uint64_t> headNumber() = 0;

  // The subnet's metagraph at the head: neurons in uid order, hyperparameters under the names of
  // merit-chain's subnet_get (tempo, weights_rate_limit, weights_version_key, commit_reveal,
  // reveal_period_epochs, min_allowed_weights, max_weight_limit, ...). kNotFound: no such subnet.
  virtual Result<Metagraph> metagraph(tx::NetUid netuid) = 0;

  // {"address", "free", "nonce", ...} of one account.
  virtual Result<nlohmann::json> account(const tx::AccountId& account) = 0;
  // [{"netuid", "n", "max_uids", "tempo", "owner", ...}] of every subnet.
  virtual Result<nlohmann::json> subnets() = 0;
  // One subnet with "hyperparameters"; kNotFound when it does not exist.
  virtual Result<nlohmann::json> subnet(tx::NetUid netuid) = 0;

  // Signs `call` with `key` and submits it; waits up to `wait` for inclusion (0 = do not wait).
  // A refusal by the chain (before or after the pool took it) is a Submission with rejected set
  // and the chain's error; inclusion with a failed call one with success = false and the error.
  // An error Result means the chain could not be asked: unreachable (kUnavailable), or a call this
  // chain does not have (kInvalidArgument "NotSupported: ...").
  virtual Result<Submission> submit(const crypto::PrivateKey& key, tx::Call call,
                                    std::chrono::milliseconds wait = std::chrono::milliseconds(30'000)) = 0;
};

// Makes a new connection to the same endpoint (MetagraphCache owns one for its thread).
using ChainConnector = std::function<Result<std::unique_ptr<Chain>>()>;

}  // namespace merit::rpc
