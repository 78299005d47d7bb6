// The dev chain node: genesis, the mempool, block production, persistence and queries.
//
// Thread-safety: every public method may be called from any thread. One producer thread (start())
// builds blocks; RPC threads submit extrinsics and read state. The store is written only by the
// producer (under its exclusive lock); readers take the shared lock through read(). The mempool,
// status table and head are guarded by m_mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "merit/chain/block.h"
#include "merit/chain/runtime.h"
#include "merit/chain/state.h"
#include "merit/util/clock.h"

namespace merit::chain {

struct GenesisSpec {
  std::vector<std::pair<AccountId, Balance>> balances;
  std::vector<Runtime::GenesisSubnet> subnets;
};

struct NodeConfig {
  std::string dataDir;
  std::chrono::milliseconds blockTime{1000};
  std::size_t maxBlockExtrinsics = 2000;
  std::size_t mempoolCapacity = 20'000;
  std::size_t mempoolPerAccount = 256;
  std::uint64_t maxFutureNonceGap = 256;
  // Started with the --dev preset (one host, loopback peers): reported as system_info "dev" so
  // validators know whether loopback/link-local axon addresses may be dialled.
  bool dev = false;
  RuntimeConfig runtime;
  GenesisSpec genesis;
};

enum class XtState { kUnknown, kPending, kIncluded, kDropped };
std::string_view xtStateName(XtState s);

struct XtStatus {
  XtState state = XtState::kUnknown;
  std::uint64_t block = 0;  // kIncluded
  std::uint32_t index = 0;  // position in the block
  bool success = false;     // kIncluded: the call's outcome
  std::string error;        // kIncluded and failed: the named error; kDropped: why
  std::string detail;
};

class Node {
 public:
  // Opens the node's database in config.dataDir, creating the genesis block on first start and
  // resuming from the stored head afterwards. `author` signs blocks.
  static Result<std::unique_ptr<Node>> open(NodeConfig config, crypto::PrivateKey author, const Clock& clock);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Starts producing a block every blockTime; stop() finishes the block in progress and joins.
  void start();
  void stop();

  // Builds, commits and announces one block now. (The producer thread calls this; tests may
  // call it directly instead of start().)
  Result<BlockHeader> produceBlock();

  // Validates and queues an encoded extrinsic. Errors: kInvalidArgument/kUnauthorized with the
  // name first (Malformed, BadSignature, Stale, Expired, FutureTooFar, AlreadyInPool),
  // kOverloaded (PoolFull, TooManyFromAccount).
  Result<crypto::Hash256> submit(ByteView encoded);
  XtStatus status(const crypto::Hash256& hash) const;
  // Waits until the extrinsic is included or dropped, or the timeout passes.
  XtStatus waitForStatus(const crypto::Hash256& hash, std::chrono::milliseconds timeout) const;

  BlockHeader head() const;
  std::optional<Block> block(std::uint64_t number) const;
  // Waits until the head reaches `number`; returns the head then (possibly still lower).
  BlockHeader waitForBlock(std::uint64_t number, std::chrono::milliseconds timeout) const;

  const crypto::Hash256& genesisHash() const { return m_genesisHash; }
  const Runtime& runtime() const { return *m_runtime; }
  const NodeConfig& config() const { return m_config; }
  std::size_t mempoolSize() const;

  // Runs `f(StateView&, headNumber)` on a consistent snapshot of committed state.
  template <typename F>
  auto read(F&& f) const {
    std::shared_lock lock(m_store->mutex());
    Overlay o(*m_store);
    StateView s(o);
    return f(s, m_headNumber.load());
  }

  // Called on the producer thread after each committed block (e.g. the block feed).
  void onBlock(std::function<void(const Block&)> listener);

 private:
  struct PoolEntry {
    tx::Extrinsic xt;
    Bytes encoded;
    crypto::Hash256 hash;
    std::uint64_t arrival;
  };

  Node(NodeConfig config, crypto::PrivateKey author, const Clock& clock);
  Result<void> init();
  void producerLoop();
  void recordStatus(const crypto::Hash256& hash, XtStatus status);

  NodeConfig m_config;
  crypto::PrivateKey m_author;
  const Clock& m_clock;
  std::unique_ptr<Store> m_store;
  std::unique_ptr<Runtime> m_runtime;
  crypto::Hash256 m_genesisHash{};

  mutable std::mutex m_mutex;
  mutable std::condition_variable m_changed;  // head advanced or statuses changed
  BlockHeader m_head;
  std::atomic<std::uint64_t> m_headNumber{0};
  std::map<AccountId, std::map<std::uint64_t, PoolEntry>> m_pool;  // account -> nonce -> entry
  std::size_t m_poolSize = 0;
  std::uint64_t m_arrivals = 0;
  std::unordered_map<std::string, XtStatus> m_statuses;  // pending and dropped, by hex hash
  std::vector<std::string> m_statusOrder;                 // eviction order of m_statuses
  std::vector<std::function<void(const Block&)>> m_listeners;

  std::mutex m_produceMutex;  // one block at a time; serialises m_runtime->onInitialize()
  std::atomic<bool> m_running{false};
  std::thread m_producer;
  std::mutex m_stopMutex;
  std::condition_variable m_stopCv;
};

}  // namespace merit::chain
