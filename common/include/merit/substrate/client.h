// A client of one Substrate node, driven by the runtime's metadata: storage reads by pallet and
// item name, runtime API calls, constants, and signed extrinsics submitted and watched until they
// are in a block, with the outcome read from System.Events and errors named as the metadata
// names them. Nothing here knows subtensor; SubtensorChain (subtensor_chain.h) builds on it.
//
// Deadlines: every node call has one (RpcOptions::callTimeout, or the caller's wait for a
// submission); nothing here can block forever on a silent node.
//
// Runtime upgrades: the metadata and runtime version are read at connect() and again whenever
// the node reports another spec version (checked before each submission), so calls keep
// encoding against the runtime that will execute them.
//
// Thread-safety: all member functions may be called from several threads; the metadata is held
// as a shared_ptr snapshot, and submissions are serialised (the node hands out nonces that count
// its pool, so each submission gets the next one).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "merit/crypto/any_key.h"
#include "merit/crypto/keys.h"
#include "merit/substrate/events.h"
#include "merit/substrate/jsonrpc.h"
#include "merit/substrate/metadata.h"
#include "merit/tx/chain_error.h"
#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::substrate {

struct SubstrateOptions {
  RpcOptions rpc;
  std::uint64_t mortality = 64;  // extrinsics are valid for this many blocks (rounded to a power of two)
};

struct RuntimeVersion {
  std::string specName;
  std::uint32_t specVersion = 0;
  std::uint32_t transactionVersion = 0;
};

// What became of a submitted extrinsic.
struct SubmitResult {
  crypto::Hash256 hash{};
  bool included = false;  // false: not in a block when the wait ended (or wait was 0)
  std::uint64_t block = 0;
  crypto::Hash256 blockHash{};
  std::uint32_t index = 0;
  bool success = false;
  bool rejected = false;  // the node's pool refused the extrinsic, or dropped it: `error` says why
  // A failed dispatch under the runtime metadata's name (SettingWeightsTooFast is typed, a name
  // meritnet does not know is kept as kUnknown with that name) and the dispatch error as JSON;
  // or the pool's refusal (Stale, Payment, Priority, Dropped, ...) with the node's words.
  std::optional<tx::ChainError> error;
  std::vector<EventRecord> events;  // the extrinsic's own events
};

// A storage query: pallet, item and the map keys as JSON values of the key types (value.h).
struct StorageQuery {
  std::string pallet;
  std::string item;
  nlohmann::json keys = nlohmann::json::array();
};

class SubstrateClient {
 public:
  static Result<std::unique_ptr<SubstrateClient>> connect(const std::string& url,
                                                          SubstrateOptions options = {});
  ~SubstrateClient();
  SubstrateClient(const SubstrateClient&) = delete;
  SubstrateClient& operator=(const SubstrateClient&) = delete;

  RpcClient& rpc() { return *m_rpc; }
  const std::string& url() const { return m_url; }
  std::shared_ptr<const Metadata> metadata() const;
  RuntimeVersion runtimeVersion() const;
  const crypto::Hash256& genesisHash() const { return m_genesis; }
  const std::string& chainName() const { return m_chainName; }
  const std::string& chainType() const { return m_chainType; }  // "Development", "Local", "Live"
  std::uint8_t metadataVersion() const;

  // Re-reads the runtime version and, if the spec changed, the metadata.
  Result<void> refreshRuntime();

  Result<std::uint64_t> headNumber();
  Result<crypto::Hash256> headHash();

  // The full storage key: twox128(prefix) ‖ twox128(item) ‖ hashed keys. `keys` holds one JSON
  // value per hasher (fewer: a prefix of a map, for iteration).
  Result<Bytes> storageKey(std::string_view pallet, std::string_view item, const nlohmann::json& keys) const;
  // Decoded value at `at` (default: the head). An absent entry is its default for a Default
  // storage, and null for an Optional one.
  Result<nlohmann::json> storage(std::string_view pallet, std::string_view item,
                                 const nlohmann::json& keys = nlohmann::json::array(),
                                 std::optional<crypto::Hash256> at = std::nullopt);
  // Many storage values in one round trip (state_queryStorageAt) at one block.
  Result<std::vector<nlohmann::json>> storageMany(const std::vector<StorageQuery>& queries,
                                                  std::optional<crypto::Hash256> at = std::nullopt);
  // Raw values of many keys at one block, one round trip; nullopt for absent keys.
  Result<std::vector<std::optional<Bytes>>> rawMany(const std::vector<Bytes>& keys,
                                                    std::optional<crypto::Hash256> at = std::nullopt);
  // Every key under `prefix` (paged by `page` keys per call) and its raw value, at one block.
  Result<std::vector<std::pair<Bytes, Bytes>>> prefixEntries(const Bytes& prefix, std::size_t maxEntries,
                                                             std::optional<crypto::Hash256> at = std::nullopt,
                                                             std::size_t page = 1000);
  // Decodes a raw value of pallet.item with the registry.
  Result<nlohmann::json> decodeStorageValue(std::string_view pallet, std::string_view item,
                                            ByteView raw) const;

  Result<nlohmann::json> constant(std::string_view pallet, std::string_view name) const;

  // state_call of a runtime API method with SCALE arguments; its raw SCALE answer.
  Result<Bytes> stateCall(std::string_view method, ByteView args,
                          std::optional<crypto::Hash256> at = std::nullopt);
  // A runtime API method by name with JSON arguments, decoded by the registry (metadata v15).
  Result<nlohmann::json> runtimeApi(std::string_view api, std::string_view method, const nlohmann::json& args,
                                    std::optional<crypto::Hash256> at = std::nullopt);

  // The call's SCALE bytes: pallet and call by name, arguments by field name.
  Result<Bytes> encodeCall(std::string_view pallet, std::string_view call, const nlohmann::json& args) const;

  // The signed extrinsic for `call` from `key` (sr25519 or ECDSA, extrinsic.h), with the next nonce
  // of the key's account id.
  Result<Bytes> signedExtrinsic(crypto::SignerRef key, ByteView call, std::uint64_t tip = 0);
  // The node's fee estimate for a signed extrinsic (payment_queryInfo): {"partialFee", "weight", ...}.
  Result<nlohmann::json> queryFee(ByteView extrinsic);

  // Signs, submits and watches `call` until it is in a block or `wait` passes (0: submit only).
  // A refusal before inclusion (bad signature, no funds for fees, a runtime's own validity check)
  // is an outcome with rejected set and the refusal's name (Payment, BadProof, ...); inclusion
  // with a failed dispatch is an outcome with success = false and the runtime's error.
  Result<SubmitResult> submit(crypto::SignerRef key, ByteView call, std::chrono::milliseconds wait);
  // Submits an extrinsic built elsewhere (buildSignedExtrinsic with chosen nonce and era) and
  // watches it as submit() does.
  Result<SubmitResult> submitExtrinsic(ByteView extrinsic, std::chrono::milliseconds wait);

  // The decoded System.Events of a block.
  Result<std::vector<EventRecord>> events(const crypto::Hash256& blockHash);

 private:
  SubstrateClient(std::string url, SubstrateOptions options);
  Result<void> loadRuntime();
  Result<std::uint64_t> nextNonce(const crypto::AccountId& account);
  Result<SubmitResult> watch(const Bytes& extrinsic, const crypto::Hash256& hash,
                             std::chrono::milliseconds wait);
  Result<void> findOutcome(SubmitResult& out);

  std::string m_url;
  SubstrateOptions m_options;
  std::unique_ptr<RpcClient> m_rpc;
  crypto::Hash256 m_genesis{};
  std::string m_chainName;
  std::string m_chainType;
  mutable std::mutex m_mutex;  // guards m_metadata, m_version
  std::shared_ptr<const Metadata> m_metadata;
  RuntimeVersion m_version;
  std::mutex m_submitMutex;  // one submission at a time: nonces stay in order
};

// "0x…" for bytes and hashes, the form node RPC takes.
std::string hex0x(ByteView bytes);
Result<Bytes> fromHex0x(std::string_view text);

}  // namespace merit::substrate
