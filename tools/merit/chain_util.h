// Pieces shared by the chain commands (`merit chain`, `balance`, `transfer`, `subnet`, `register`,
// `stake`, `weights`, `root`, `metagraph`): connecting to the node, keys from wallets, exact MERIT
// amounts, list arguments, and printing the typed outcome of a submitted extrinsic.
//
// Thread-safety: single-threaded CLI.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "merit/crypto/keys.h"
#include "merit/crypto/prompt.h"
#include "merit/rpc/client.h"
#include "merit/rpc/connect.h"
#include "merit/rpc_json/call.h"
#include "merit/tx/extrinsic.h"
#include "merit/util/result.h"

#include "amounts.h"
#include "cli_app.h"

namespace merit::substrate {
class SubstrateClient;
}

namespace merit::cli {

// Options of a command that reads wallets or submits extrinsics.
struct KeyOptions {
  std::string wallet = "default";
  std::string hotkey = "default";
  std::string hotkeyAddress;  // stake commands: a hotkey given by address instead of by name
  crypto::PasswordSource password;
  bool json = false;
  std::uint64_t waitMs = 30'000;  // how long to wait for inclusion; 0 = submit only
};

void addWalletOpt(CLI::App* cmd, KeyOptions& o);
void addHotkeyOpt(CLI::App* cmd, KeyOptions& o);
void addPasswordOpt(CLI::App* cmd, KeyOptions& o);
void addJsonOpt(CLI::App* cmd, KeyOptions& o);
// --json and --wait-ms, for commands that submit an extrinsic.
void addSubmitOpts(CLI::App* cmd, KeyOptions& o);

struct ChainSettings;
// Connects to the chain the global options name (--chain, --url).
Result<std::unique_ptr<rpc::Chain>> connectChain(const ChainSettings& chain);
// The merit-chain client behind `chain`, for the commands that only the dev chain has (blocks,
// totals, subnet creation by plugin, ...); on subtensor a kInvalidArgument error that says so
// and points to the metadata-driven `merit chain call` / `merit chain storage`.
Result<rpc::ChainClient*> meritOnly(rpc::Chain& chain, std::string_view what);

// "0,1,2" -> {0, 1, 2}; each item a u16. `what` names the option in errors.
Result<std::vector<std::uint16_t>> parseU16List(std::string_view text, std::string_view what);
Result<std::uint64_t> parseU64(std::string_view text, std::string_view what);
Result<tx::AccountId> parseAddress(std::string_view text, std::string_view what);
// The first 8 characters of an address and an ellipsis, for tables.
std::string shortAddress(const std::string& address);

// Keys of the wallet named in `o`, of either scheme. The coldkey's private part asks for its
// password (--password-file, MERIT_PASSWORD or a prompt).
Result<crypto::AnyPublicKey> coldkeyPublicOf(const KeyOptions& o);
Result<crypto::AnyPrivateKey> unlockColdkeyOf(const KeyOptions& o);
Result<crypto::AnyPublicKey> hotkeyPublicOf(const KeyOptions& o);
Result<crypto::AnyPrivateKey> loadHotkeyOf(const KeyOptions& o);

// The typed outcome of one submission, ready to print.
struct SubmitOutcome {
  nlohmann::json json;  // {"hash", "block", "success", "error"} (+ "detail", and fields callers add)
  bool included = false;
  bool success = false;
  std::uint64_t block = 0;
  std::string hash;
  bool rejected = false;                // refused by the chain, never included
  bool timedOut = false;                // not included within the wait ("Timeout" in the JSON)
  std::optional<tx::ChainError> error;  // the failed call's or the refusal's error
  std::string detail;                   // the timeout's explanation (an error carries its own)
  int exitCode = 0;
};

// Signs and submits `call`, waiting up to o.waitMs for inclusion. A failed call, a rejection by
// the mempool and a timeout are outcomes (exit 1, 1 and 3); only a failure to talk to the chain
// is an error.
Result<SubmitOutcome> submitCall(rpc::Chain& client, crypto::SignerRef key, tx::Call call,
                                 const KeyOptions& o);
// Signs and submits runtime call bytes on a Substrate chain (merit chain call, and calls whose
// signer differs from meritnet's mapping), with the same outcomes as submitCall; a Sudo call
// whose inner call failed (Sudid with Err) is a failure named SudoCallFailed.
Result<SubmitOutcome> submitRuntimeCall(substrate::SubstrateClient& client, crypto::SignerRef key,
                                        ByteView call, const KeyOptions& o);
// Prints the outcome: JSON on stdout with --json, else "<what>: included in block N" on stdout,
// or the named error on stderr. `extra` is printed after a successful human line.
int printOutcome(const SubmitOutcome& out, const std::string& what, bool json, const std::string& extra = {});

// The typed reads of rpc::Chain in the JSON that `--json` prints: merit-chain's field names and
// shapes (docs/RPC.md account_get, subnet_list, subnet_get). A field the backend did not fill is
// left out, except `owner`, which is null for a subnet without one. Object keys print sorted.
nlohmann::json accountJson(const rpc::AccountInfo& account);
nlohmann::json summaryJson(const rpc::SubnetSummary& subnet);
nlohmann::json subnetJson(const rpc::SubnetInfo& subnet);  // with "hyperparameters": the reported ones
// A chain fact's value as JSON (a string, a number or a bool).
nlohmann::json factJson(const rpc::ChainFact& fact);

// Reads a JSON-RPC result field that the node always sends; a missing one is a malformed reply.
template <typename T>
T field(const nlohmann::json& j, const char* key) {
  return j.at(key).get<T>();
}

}  // namespace merit::cli
