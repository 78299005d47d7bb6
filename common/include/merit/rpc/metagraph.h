// The metagraph of one subnet as clients see it (from metagraph_get), and a cache that keeps it
// current by following the chain's block feed.
//
// Thread-safety: Metagraph is an immutable value once built. MetagraphCache owns one background
// thread (it alone owns the feed socket and its own ChainClient); current() may be called from
// any thread and returns a snapshot that stays valid while held.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "merit/crypto/any_key.h"
#include "merit/rpc/client.h"
#include "merit/rpc/subnet_params.h"
#include "merit/tx/axon_endpoint.h"
#include "merit/util/backoff.h"

namespace merit::rpc {

// A neuron's axon as the metagraph reports it (tx::AxonAddress has the on-chain form).
struct AxonEndpoint {
  std::string ip;  // as text, without brackets
  std::uint16_t port = 0;
  std::uint8_t ipType = 0;    // tx::IpType
  std::uint8_t protocol = 0;  // tx::AxonProtocol
  ByteArray<32> curveKey{};
  std::uint64_t block = 0;  // when it was served

  // The ZeroMQ endpoint to dial ("tcp://1.2.3.4:9000", "tcp://[::1]:9000").
  std::string dialEndpoint() const { return tx::tcpEndpoint(ip, ipType, port); }
  bool usesCurve() const { return tx::usesCurve(protocol); }
  bool shield() const { return tx::isShield(protocol); }
};

struct NeuronInfo {
  std::uint16_t uid = 0;
  tx::AccountId hotkey{};
  // The hotkey's public key, so peers can verify its signatures: from the dev chain's state, or
  // on subtensor the key an ecdsa hotkey committed (an sr25519 account id is its key). Unset when
  // the chain does not know it; such a neuron cannot be dialled or authenticated.
  std::optional<crypto::AnyPublicKey> hotkeyPublicKey;
  tx::AccountId coldkey{};
  tx::Balance stake = 0;
  bool active = false;
  bool validatorPermit = false;
  std::uint16_t consensus = 0, incentive = 0, dividends = 0, validatorTrust = 0;
  std::uint64_t emission = 0;
  std::uint64_t lastUpdate = 0;
  std::uint64_t blockAtRegistration = 0;
  std::optional<AxonEndpoint> axon;
};

struct Metagraph {
  tx::NetUid netuid = 0;
  std::uint64_t block = 0;  // head when it was read
  std::uint64_t tempo = 0;  // params.tempo, as the chain counts epochs
  std::uint64_t blocksUntilNextEpoch = 0;
  SubnetParams params;
  std::vector<NeuronInfo> neurons;  // index = uid

  const NeuronInfo* byHotkey(const tx::AccountId& hotkey) const;
};

// Parses metagraph_get's result (JSON text); malformed input is kInvalidArgument naming the field.
Result<Metagraph> parseMetagraph(std::string_view json);
Result<Metagraph> fetchMetagraph(Chain& client, tx::NetUid netuid);

class MetagraphCache {
 public:
  struct Options {
    // The block feed drives refreshes. Only when it has been silent for this long (and at least
    // three block times) is the head polled over RPC, to catch a dropped feed message or a
    // restarted node; without a feed, the head is polled once per block time.
    std::chrono::milliseconds pollInterval{5000};
    std::chrono::milliseconds staleAfter{30'000};  // no new block for this long: stale()
    // At most one metagraph_get per this interval however fast blocks come (0 = every block).
    // Miners need the caller table fresh to seconds, not to the block.
    std::chrono::milliseconds minRefreshInterval{0};
    // While the chain does not answer, polls back off on this schedule (milliseconds), logging
    // "chain unreachable at URL (reason); retrying in Ns" for each wait.
    BackoffPolicy retry{.initial = 500, .cap = 5'000, .jitterPercent = 25};
    ClientOptions client;
  };

  // Fetches the metagraph once (failing if the chain is unreachable: wrap it in retryChain to
  // wait), subscribes to the block feed announced in system_info, and refreshes on new blocks
  // in the background.
  static Result<std::unique_ptr<MetagraphCache>> start(const std::string& url, tx::NetUid netuid,
                                                       Options options);
  // The same on any chain backend: `chain` becomes the cache's own (used only by its thread).
  // Without a block feed (subtensor) the head is polled every min(block time, 1 s).
  static Result<std::unique_ptr<MetagraphCache>> start(std::unique_ptr<Chain> chain, tx::NetUid netuid,
                                                       Options options);
  static Result<std::unique_ptr<MetagraphCache>> start(const std::string& url, tx::NetUid netuid) {
    return start(url, netuid, Options{});
  }
  ~MetagraphCache();
  MetagraphCache(const MetagraphCache&) = delete;
  MetagraphCache& operator=(const MetagraphCache&) = delete;

  std::shared_ptr<const Metagraph> current() const;
  std::uint64_t refreshCount() const { return m_refreshes.load(); }
  // True when no new block has been seen for staleAfter (the chain or the link is down).
  bool stale() const;
  // The chain's "dev" flag (a development preset; absent = false), read at start.
  bool devChain() const { return m_devChain; }
  // The chain's block time, read at start (0 if the node did not say).
  std::chrono::milliseconds blockTime() const { return m_blockTime; }
  // metagraph_get calls made by the background thread, and head polls (the fallback).
  std::uint64_t fetches() const { return m_fetches.load(); }
  std::uint64_t headPolls() const { return m_headPolls.load(); }
  void stop();

 private:
  MetagraphCache(std::unique_ptr<Chain> client, tx::NetUid netuid, Options options);
  void run(std::string feedEndpoint);
  // Fetches and publishes the metagraph; false (with the error in `why`) when the chain failed.
  bool refresh(std::string& why);

  std::unique_ptr<Chain> m_client;  // used only by the background thread after start
  tx::NetUid m_netuid;
  Options m_options;
  mutable std::mutex m_mutex;  // guards m_current
  std::shared_ptr<const Metagraph> m_current;
  std::atomic<std::uint64_t> m_refreshes{0};
  std::atomic<std::int64_t> m_lastNewBlockMs{0};
  std::atomic<std::uint64_t> m_fetches{0};
  std::atomic<std::uint64_t> m_headPolls{0};
  bool m_devChain = false;                   // set before the thread starts
  std::chrono::milliseconds m_blockTime{0};  // set before the thread starts
  std::chrono::milliseconds m_pollEvery{0};  // head poll interval without a feed (0 = block time)
  std::string m_url;
  std::atomic<bool> m_running{true};
  std::thread m_thread;
};

}  // namespace merit::rpc
