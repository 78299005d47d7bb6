// Chain state: a key-value map kept whole in memory and persisted in RocksDB, with nested
// overlays so an extrinsic's writes can be kept or dropped as a unit, and a block's writes
// committed in one atomic RocksDB write together with the block itself, made durable as the
// Durability mode says (synced every block by default).
//
// Thread-safety: a Store is owned by the block-producing thread, which alone reads its in-memory
// map and calls commit(). Other threads (RPC, extrinsic validation) read through snapshot(): a
// RocksDB snapshot of the last committed write, which takes no lock the writer waits for, so no
// number of readers can delay a block. With Durability::kGroup the Store owns one more thread,
// which only syncs the WAL (guarded by m_syncMutex, never held across a write or a sync).
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "merit/crypto/hash.h"
#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace rocksdb {
class DB;
class Snapshot;
}  // namespace rocksdb

namespace merit::chain {

// How hard Store::commit() works to make a block survive a crash (docs/OPERATIONS.md, "Chain
// durability"). Every mode hands each commit's write to the OS (write() into RocksDB's WAL file)
// before commit() returns, so a crash of the process alone (SIGKILL, abort, OOM kill) loses no
// committed block in any mode. The modes differ in when the WAL reaches stable storage (fsync),
// which is what an OS crash or a power loss needs:
enum class Durability {
  // Every commit syncs the WAL before it returns: a block reported as committed survives an OS
  // crash or power loss too. One fsync per block. The default.
  kSync,
  // Commits do not sync; the WAL is synced at most `groupInterval` after the first unsynced
  // commit, by a background thread (or by the next commit, if that comes later than the
  // interval). An OS crash or power loss loses at most the blocks committed in the last
  // groupInterval (plus the duration of the one fsync in progress); what survives is always a
  // prefix of the chain, never a block without its parent.
  kGroup,
  // Never syncs (tests, throwaway dev chains): the OS writes the WAL back when it chooses, so an
  // OS crash or power loss can lose every block since RocksDB last synced on its own (flushes,
  // compactions).
  kNone,
};

std::string_view durabilityName(Durability d);
std::optional<Durability> parseDurability(std::string_view name);

struct StoreOptions {
  Durability durability = Durability::kSync;
  std::chrono::milliseconds groupInterval{100};  // kGroup only; at least 1 ms
};

using StateMap = std::map<std::string, Bytes, std::less<>>;

// Read access to state, whatever layer it comes from.
class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual std::optional<Bytes> get(std::string_view key) const = 0;
};

// Writes buffered over a parent; commit() pushes them into the parent overlay.
class Overlay final : public StateReader {
 public:
  explicit Overlay(const StateReader& parent) : m_parent(parent) {}
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;

  std::optional<Bytes> get(std::string_view key) const override;
  void put(std::string key, Bytes value) { m_changes[std::move(key)] = std::move(value); }
  void erase(std::string key) { m_changes[std::move(key)] = std::nullopt; }

  // Moves this overlay's changes into `target` (which must be this overlay's parent).
  void mergeInto(Overlay& target);
  const std::map<std::string, std::optional<Bytes>, std::less<>>& changes() const { return m_changes; }

 private:
  const StateReader& m_parent;
  std::map<std::string, std::optional<Bytes>, std::less<>> m_changes;
};

// The state root: an additive multiset hash, Σ BLAKE2b-256(len(key) ‖ key ‖ value) mod 2^256
// over every entry. It is order-independent and updates in O(changed keys), so each block's
// root costs only its own writes. (Adequate for a single-authority dev chain; it is a
// commitment to the state, not a proof structure.)
class StateRoot {
 public:
  void add(std::string_view key, ByteView value);
  void remove(std::string_view key, ByteView value);
  crypto::Hash256 value() const;

 private:
  std::array<std::uint64_t, 4> m_limbs{};  // little-endian 256-bit accumulator
};

// A consistent read-only view of everything one commit() wrote (state and raw keys), read from
// RocksDB at a snapshot. It sees no later commit. Safe to use from any one thread; it borrows the
// Store, which must outlive it.
class StateSnapshot final : public StateReader {
 public:
  StateSnapshot(rocksdb::DB& db, const rocksdb::Snapshot* snapshot) : m_db(db), m_snapshot(snapshot) {}
  ~StateSnapshot() override;
  StateSnapshot(const StateSnapshot&) = delete;
  StateSnapshot& operator=(const StateSnapshot&) = delete;

  std::optional<Bytes> get(std::string_view key) const override;
  // A raw (non-state) key as of this snapshot, e.g. the head pointer.
  std::optional<Bytes> getRaw(const std::string& key) const;
  // Raw entries whose key starts with `prefix` and is at most `last`, newest (greatest key)
  // first, at most `limit` of them.
  std::vector<std::pair<std::string, Bytes>> scanRawBackward(std::string_view prefix, std::string_view last,
                                                             std::size_t limit) const;

 private:
  rocksdb::DB& m_db;
  const rocksdb::Snapshot* m_snapshot;
};

// The committed state and its database.
class Store final : public StateReader {
 public:
  // Opens (creating if needed) the RocksDB at `path` and loads all state into memory. With
  // Durability::kGroup, starts the thread that syncs the WAL; the destructor syncs once more (a
  // clean shutdown loses nothing in kGroup) and joins it.
  static Result<std::unique_ptr<Store>> open(const std::string& path, StoreOptions options = {});
  ~Store() override;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  std::optional<Bytes> get(std::string_view key) const override;
  crypto::Hash256 stateRoot() const;
  // The root the state would have with `changes` applied on top (nothing is written).
  crypto::Hash256 stateRootWith(const Overlay& changes) const;

  // Applies `changes` to state and writes them, plus `extra` raw key/values (the block, its
  // index entries, the head pointer), in one atomic RocksDB write, synced as the Durability
  // mode says. Either all of it survives a crash or none of it does.
  // `eraseRaw` lists raw keys deleted in the same write (pruned epoch history).
  Result<void> commit(const Overlay& changes, const std::map<std::string, Bytes>& extra,
                      const std::vector<std::string>& eraseRaw = {});

  // Reads a raw (non-state) key, e.g. a stored block.
  std::optional<Bytes> getRaw(const std::string& key) const;
  // The raw keys starting with `prefix`, in ascending order (producer thread only).
  std::vector<std::string> rawKeys(std::string_view prefix) const;

  // WAL syncs done so far (by commit() with kSync, the group thread, or a late commit with
  // kGroup), for tests and benchmarks. Any thread.
  std::uint64_t walSyncs() const;
  // Waits until walSyncs() reaches `count` or `timeout` passes; true if it did.
  bool waitForWalSyncs(std::uint64_t count, std::chrono::milliseconds timeout) const;

  // The last committed state, for readers on other threads. Takes no lock that commit() waits
  // for (RocksDB's snapshot list is guarded by a mutex held only for the list update).
  std::unique_ptr<StateSnapshot> snapshot() const;

 private:
  explicit Store(StoreOptions options);
  void groupSyncLoop();

  StoreOptions m_options;
  std::unique_ptr<rocksdb::DB> m_db;
  StateMap m_state;
  StateRoot m_root;

  // Group commit bookkeeping, guarded by m_syncMutex. Commits are counted when written; a sync
  // covers every commit counted before it started.
  mutable std::mutex m_syncMutex;
  std::condition_variable m_syncCv;            // wakes the group thread
  mutable std::condition_variable m_syncedCv;  // a sync finished (waitForWalSyncs)
  std::uint64_t m_written = 0;                 // commits written
  std::uint64_t m_synced = 0;                  // commits known to be on stable storage
  // When the oldest commit not known to be synced was written (or, after a sync that raced a
  // commit, when that sync started: never later than the truth, so the bound holds).
  std::optional<std::chrono::steady_clock::time_point> m_firstUnsynced;
  bool m_syncFailed = false;  // the group thread's last sync failed: the next commit syncs itself
  bool m_stopSync = false;
  std::uint64_t m_walSyncs = 0;
  std::thread m_syncThread;  // kGroup only
};

// Key prefix of state entries in RocksDB (everything else is blocks and indexes).
inline constexpr std::string_view kStatePrefix = "s/";

}  // namespace merit::chain
