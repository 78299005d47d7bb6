// The dev chain node: genesis, the mempool, block production, persistence and queries.
//
// Thread-safety: every public method may be called from any thread. One producer thread (start())
// builds blocks; RPC threads submit extrinsics and read state. The store is written only by the
// producer; readers (read(), submit's validation) use a RocksDB snapshot of the last committed
// block and take no lock the producer waits for, so readers can never delay a block. The
// mempool, status table and head are guarded by m_mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
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

// Mempool bounds (docs/RPC.md, "Mempool rejections"). An extrinsic is *ready* when its nonce is
// the account's next one, or follows a ready extrinsic of the same account in the pool; otherwise
// it is *future* and waits for the gap to fill. Future extrinsics cost their sender nothing until
// included, so they are the cheap way to pin a pool: they are capped per account, need a funded
// sender, are the first to be evicted, and expire like every entry.
struct NodeConfig {
  std::string dataDir;
  std::chrono::milliseconds blockTime{1000};
  // A block holds at most this many extrinsics and this many bytes of them (encoded), so its
  // commit stays small; the rest wait in the pool for the next block. maxBlockBytes is at least
  // tx::kMaxExtrinsicBytes, so every admissible extrinsic fits in some block.
  std::size_t maxBlockExtrinsics = 2000;
  std::size_t maxBlockBytes = 2 * 1024 * 1024;
  // When a committed block reaches stable storage (state.h, Durability; docs/OPERATIONS.md).
  StoreOptions store;
  std::size_t mempoolCapacity = 20'000;         // entries in all
  std::size_t mempoolBytes = 64 * 1024 * 1024;  // encoded bytes in all
  std::size_t mempoolPerAccount = 256;          // entries of one account (TooManyFromAccount)
  std::size_t mempoolFuturePerAccount = 16;     // future entries of one account (TooManyFuture)
  std::uint64_t maxFutureNonceGap = 256;        // FutureTooFar beyond this
  // Blocks an entry may wait: it leaves the pool (dropped, "Expired") after block
  // min(valid_until, head at submission + longevity), eligible or not.
  std::uint64_t mempoolLongevity = 64;
  // Runs the --dev preset (devPreset()): reported as "dev" by system_info, which validators use
  // to decide whether loopback axons may be dialled.
  bool dev = false;
  // Epochs kept per subnet as epoch history (docs/RPC.md, "Epoch history"): each is the epoch's
  // whole input and output, about 40 bytes per uid plus 12 per weight/bond entry. 0 keeps none.
  std::size_t epochHistory = 64;
  RuntimeConfig runtime;
  GenesisSpec genesis;
};

// What the mempool holds, for system_health and tests.
struct PoolStats {
  std::size_t entries = 0;
  std::size_t bytes = 0;
  std::size_t future = 0;  // entries not yet eligible (a nonce gap before them)
  std::size_t accounts = 0;
};

enum class XtState { kUnknown, kPending, kIncluded, kDropped };
std::string_view xtStateName(XtState s);

struct XtStatus {
  XtState state = XtState::kUnknown;
  std::uint64_t block = 0;              // kIncluded
  std::uint32_t index = 0;              // position in the block
  bool success = false;                 // kIncluded: the call's outcome
  std::optional<tx::ChainError> error;  // kIncluded and failed: the call's error; kDropped: why
};

// The mempool refusals that mean "full, retry later" (JSON-RPC -32001) rather than "refused".
bool isOverload(tx::ChainErrorCode code);

class Node {
 public:
  // Opens the node's database in config.dataDir, creating the genesis block on first start and
  // resuming from the stored head afterwards. `author` signs blocks.
  static Result<std::unique_ptr<Node>> open(NodeConfig config, crypto::PrivateKey author, const Clock& clock);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Starts producing a block every blockTime of the node's clock (a ManualClock: only as the
  // test advances it); stop() finishes the block in progress and joins.
  void start();
  void stop();

  // Builds, commits and announces one block now. (The producer thread calls this; tests may
  // call it directly instead of start().)
  Result<BlockHeader> produceBlock();

  // Validates and queues an encoded extrinsic. Refusals: Malformed, Expired, Stale, Payment,
  // BadSignature, FutureTooFar, AlreadyInPool, NonceInPool, and the overloads (isOverload):
  // PoolFull, TooManyFromAccount, TooManyFuture.
  //
  // Admission, cheapest check first: the extrinsic decodes, is not expired or stale, its signer can
  // pay the fees of everything it has queued plus this one (with fees off, a future nonce still
  // needs a non-zero free balance), the signature verifies, and a future nonce is at most
  // maxFutureNonceGap ahead. Then the caps: per account, future per account, and the pool's
  // entries and bytes. A full pool evicts its lowest-priority entries for a newcomer that ranks
  // higher; priority is (ready before future, higher fee, older arrival), and only the last nonce
  // of an account is ever evicted, so no ready chain is broken. Evicted entries are dropped
  // ("Evicted").
  tx::ChainResult<crypto::Hash256> submit(ByteView encoded);
  XtStatus status(const crypto::Hash256& hash) const;
  // Waits until the extrinsic is included or dropped, or the timeout passes. The timeouts of the
  // waits here bound how long a caller (an RPC client) blocks: they are real time.
  XtStatus waitForStatus(const crypto::Hash256& hash, std::chrono::milliseconds timeout) const;

  BlockHeader head() const;
  std::optional<Block> block(std::uint64_t number) const;
  // Waits until the head reaches `number`; returns the head then (possibly still lower).
  BlockHeader waitForBlock(std::uint64_t number, std::chrono::milliseconds timeout) const;

  const crypto::Hash256& genesisHash() const { return m_genesisHash; }
  const Runtime& runtime() const { return *m_runtime; }
  const NodeConfig& config() const { return m_config; }
  std::size_t mempoolSize() const;
  PoolStats poolStats() const;

  // Runs `f(StateView&, headNumber)` on a consistent snapshot of committed state: the state
  // after block `headNumber`, exactly. Never blocks block production.
  template <typename F>
  auto read(F&& f) const {
    auto view = readView();
    Overlay o(*view.snapshot);
    StateView s(o);
    return f(s, view.head);
  }

  // The stored epochs of `netuid` (epoch history), newest first: at most `limit`, each at or
  // before block `atOrBefore` (nullopt: the newest). Read from a snapshot, like read(). A
  // record that does not decode is kCorruption.
  Result<std::vector<EpochRecord>> epochs(NetUid netuid, std::size_t limit,
                                          std::optional<std::uint64_t> atOrBefore = std::nullopt) const;

  // Called on the producer thread after each committed block (e.g. the block feed).
  void onBlock(std::function<void(const Block&)> listener);

 private:
  struct PoolEntry {
    tx::Extrinsic xt;
    Bytes encoded;
    crypto::Hash256 hash;
    std::uint64_t arrival;    // admission order (lower = older)
    std::uint64_t expiresAt;  // last block it may be included in
    tx::Balance fee;          // what it pays when included (the flat fee at admission)
    bool ready = false;       // see NodeConfig; recomputed after every block
    // The signature of exactly `xt` was verified against this node's genesis hash on admission
    // (submit()), so inclusion skips that check (and only that one). False for an entry that came
    // any other way: inclusion verifies it.
    bool signatureVerified = false;
  };
  using AccountPool = std::map<std::uint64_t, PoolEntry>;  // nonce -> entry

  // Priority for eviction: lower compares first = evicted first.
  static std::tuple<bool, tx::Balance, std::uint64_t> evictionRank(const PoolEntry& e) {
    return {e.ready, e.fee, UINT64_MAX - e.arrival};
  }
  // Marks the account's entries ready from `stateNonce` on while the nonces are consecutive and
  // the rest future; updates m_poolFuture. Caller holds m_mutex.
  void refreshReadiness(AccountPool& entries, std::uint64_t stateNonce);
  // Removes one entry and its byte/future counts (not its status). Caller holds m_mutex.
  void eraseEntry(AccountPool& entries, AccountPool::iterator it);

  struct ReadView {
    std::unique_ptr<StateSnapshot> snapshot;
    std::uint64_t head;  // the block whose state the snapshot holds
  };
  ReadView readView() const;

  Node(NodeConfig config, crypto::PrivateKey author, const Clock& clock);
  Result<void> init();
  void producerLoop();
  // submit() with the signature check at admission on (`verifySignature`) or off. Off is for
  // tests only (NodeTestAccess): it models an extrinsic entering the pool by a path that did
  // not verify it, which inclusion must then verify.
  tx::ChainResult<crypto::Hash256> admit(ByteView encoded, bool verifySignature);
  friend struct NodeTestAccess;
  void recordStatus(const crypto::Hash256& hash, const XtStatus& status);

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
  std::map<AccountId, AccountPool> m_pool;  // account -> nonce -> entry
  std::size_t m_poolSize = 0;
  std::size_t m_poolBytes = 0;
  std::size_t m_poolFuture = 0;
  std::uint64_t m_arrivals = 0;
  std::unordered_map<std::string, XtStatus> m_statuses;  // pending and dropped, by hex hash
  std::vector<std::string> m_statusOrder;                // eviction order of m_statuses
  std::vector<std::function<void(const Block&)>> m_listeners;

  std::mutex m_produceMutex;  // one block at a time; serialises m_runtime->onInitialize()
  std::atomic<bool> m_running{false};
  std::thread m_producer;
  std::mutex m_stopMutex;
  std::condition_variable m_stopCv;
};

}  // namespace merit::chain
