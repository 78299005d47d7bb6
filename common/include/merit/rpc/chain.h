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
// Reads that the CLI prints (account, subnets, subnet) return typed values named after the fields
// of merit-chain's RPC (docs/RPC.md: account_get, subnet_list, subnet_get): AccountInfo,
// SubnetSummary and SubnetInfo. A backend fills the fields it has; a field that only one backend
// has is a std::optional left empty by the other (subtensor has no plugin, no per-coldkey stake
// list, ...). Nothing here is JSON: the CLI formats these values itself (its --json output keeps
// merit-chain's field names), and tools/check_layering.py keeps nlohmann out of merit/rpc/.
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
#include <variant>
#include <vector>

#include "merit/crypto/any_key.h"
#include "merit/crypto/keys.h"
#include "merit/rpc/subnet_params.h"
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

// A backend-specific fact about the chain, for display: its name (snake_case, e.g. "spec_version")
// and a value that is text, a number or a flag.
struct ChainFact {
  std::string name;
  std::variant<std::string, std::uint64_t, bool> value;

  friend bool operator==(const ChainFact&, const ChainFact&) = default;
};

// What a client learns about the chain once, at connection.
struct ChainInfo {
  std::string name;  // the node's chain name
  bool dev = false;  // a development preset (loopback axons are dialled)
  std::chrono::milliseconds blockTime{0};
  std::string feedEndpoint;  // merit-chain's ZeroMQ block feed ("" = none: poll the head)
  crypto::Hash256 genesisHash{};
  // Facts only this backend has, sorted by name: subtensor's runtime (chain_type,
  // metadata_version, spec_name, spec_version, transaction_version); merit-chain's system_info
  // fields that have no member above (extrinsic_domain, extrinsic_fee, local_axons_allowed,
  // ss58_prefix, version).
  std::vector<ChainFact> extra;
};

// One stake of an account as a coldkey: `amount` rao staked on `hotkey`.
struct AccountStake {
  tx::AccountId hotkey{};
  tx::Balance amount = 0;

  friend bool operator==(const AccountStake&, const AccountStake&) = default;
};

// One account (account_get). An account the chain has never seen is all zeros.
struct AccountInfo {
  tx::AccountId address{};
  tx::Balance free = 0;     // rao
  std::uint64_t nonce = 0;  // the nonce its next extrinsic must carry
  // merit-chain only: what it has staked as a coldkey, in all and per hotkey (in the chain's
  // order), and the stake held on it as a hotkey, from all coldkeys.
  std::optional<tx::Balance> staked;
  std::optional<std::vector<AccountStake>> stakes;
  std::optional<tx::Balance> hotkeyStake;
  // subtensor only: Balances' reserved balance (set when the chain has the account).
  std::optional<tx::Balance> reserved;

  friend bool operator==(const AccountInfo&, const AccountInfo&) = default;
};

// One subnet as subnet_list lists it. The root network (netuid 0) is listed on merit-chain.
struct SubnetSummary {
  tx::NetUid netuid = 0;
  std::optional<std::string> plugin;           // merit-chain only
  std::optional<std::uint32_t> pluginVersion;  // merit-chain only
  // The owner's account; nullopt when the subnet has none (merit-chain's root network) or the
  // chain does not say.
  std::optional<tx::AccountId> owner;
  std::optional<std::uint64_t> n;  // uids in use
  std::uint64_t maxUids = 0;
  std::uint64_t tempo = 0;  // blocks between epochs
  std::uint64_t blocksUntilNextEpoch = 0;
  std::optional<tx::Balance> emissionPerBlock;  // this subnet's share, rao per block
  std::optional<tx::Balance> burn;              // the current registration price, rao

  friend bool operator==(const SubnetSummary&, const SubnetSummary&) = default;
};

// One subnet as subnet_get reports it: the summary, every hyperparameter, and its bookkeeping.
struct SubnetInfo : SubnetSummary {
  // The hyperparameters. Only the ones named in `reportedParams` came from the chain (merit-chain
  // reports all but rho; a subtensor runtime the storage items it has); the others keep
  // subnet_params.h's defaults. A parameter SubnetParams has no member for is not kept.
  SubnetParams params;
  std::vector<std::string> reportedParams;      // SubnetParams names, in SubnetParams::forEach order
  std::optional<tx::Balance> pendingEmission;   // accrued since the last epoch, paid at the next
  std::optional<tx::Balance> locked;            // the lock paid at creation
  std::optional<std::uint64_t> lastEpochBlock;  // merit-chain only
  std::optional<std::uint64_t> createdBlock;
  std::optional<std::uint64_t> registrationsThisInterval;

  friend bool operator==(const SubnetInfo&, const SubnetInfo&) = default;
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

  // One account at the head (an unknown one is all zeros).
  virtual Result<AccountInfo> account(const tx::AccountId& account) = 0;
  // Every subnet, in the order the chain lists them.
  virtual Result<std::vector<SubnetSummary>> subnets() = 0;
  // One subnet with its hyperparameters; kNotFound when it does not exist.
  virtual Result<SubnetInfo> subnet(tx::NetUid netuid) = 0;

  // Signs `call` with `key` and submits it; waits up to `wait` for inclusion (0 = do not wait).
  // A refusal by the chain (before or after the pool took it) is a Submission with rejected set
  // and the chain's error; inclusion with a failed call one with success = false and the error.
  // An error Result means the chain could not be asked: unreachable (kUnavailable), or a call this
  // chain does not have (kInvalidArgument "NotSupported: ...").
  virtual Result<Submission> submit(crypto::SignerRef key, tx::Call call,
                                    std::chrono::milliseconds wait = std::chrono::milliseconds(30'000)) = 0;
};

// Makes a new connection to the same endpoint (MetagraphCache owns one for its thread).
using ChainConnector = std::function<Result<std::unique_ptr<Chain>>()>;

}  // namespace merit::rpc
