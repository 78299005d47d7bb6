#include "merit/chain/state.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "merit/util/codec.h"
#include "merit/util/log.h"

namespace merit::chain {

std::optional<Bytes> Overlay::get(std::string_view key) const {
  auto it = m_changes.find(key);
  if (it != m_changes.end()) return it->second;
  return m_parent.get(key);
}

void Overlay::mergeInto(Overlay& target) {
  for (auto& [k, v] : m_changes) target.m_changes[k] = std::move(v);
  m_changes.clear();
}

namespace {

crypto::Hash256 entryHash(std::string_view key, ByteView value) {
  ByteWriter w;
  w.str(key).raw(value);
  return crypto::blake2b256(w.data());
}

std::array<std::uint64_t, 4> limbsOf(const crypto::Hash256& h) {
  std::array<std::uint64_t, 4> out{};
  for (int i = 0; i < 4; ++i) out[i] = readU64Le(ByteView(h).subspan(8 * i, 8));
  return out;
}

}  // namespace

void StateRoot::add(std::string_view key, ByteView value) {
  auto x = limbsOf(entryHash(key, value));
  unsigned __int128 carry = 0;
  for (int i = 0; i < 4; ++i) {
    carry += static_cast<unsigned __int128>(m_limbs[i]) + x[i];
    m_limbs[i] = static_cast<std::uint64_t>(carry);
    carry >>= 64;
  }
}

void StateRoot::remove(std::string_view key, ByteView value) {
  auto x = limbsOf(entryHash(key, value));
  std::uint64_t borrow = 0;
  for (int i = 0; i < 4; ++i) {
    std::uint64_t a = m_limbs[i];
    std::uint64_t d = a - x[i] - borrow;
    borrow = (a < x[i] || (a == x[i] && borrow)) ? 1 : 0;
    m_limbs[i] = d;
  }
}

crypto::Hash256 StateRoot::value() const {
  Bytes b;
  for (auto l : m_limbs) appendU64Le(b, l);
  // Hash the accumulator so the root looks like any other hash (and leaks no structure).
  return crypto::blake2b256(b);
}

std::string_view durabilityName(Durability d) {
  switch (d) {
    case Durability::kSync: return "sync";
    case Durability::kGroup: return "group";
    case Durability::kNone: return "none";
  }
  return "sync";
}

std::optional<Durability> parseDurability(std::string_view name) {
  if (name == "sync") return Durability::kSync;
  if (name == "group") return Durability::kGroup;
  if (name == "none") return Durability::kNone;
  return std::nullopt;
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path, StoreOptions storeOptions) {
  if (storeOptions.durability == Durability::kGroup && storeOptions.groupInterval.count() < 1) {
    return fail(ErrorCode::kInvalidArgument, "group commit interval must be at least 1 ms");
  }
  std::unique_ptr<Store> store(new Store(storeOptions));
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  // Every mode relies on this (RocksDB's default): each write is handed to the OS with write()
  // before Write() returns, so an unsynced commit still survives the process being killed.
  options.manual_wal_flush = false;
  rocksdb::DB* db = nullptr;
  auto status = rocksdb::DB::Open(options, path, &db);
  if (!status.ok()) {
    return fail(ErrorCode::kUnavailable, "cannot open chain database " + path + ": " + status.ToString());
  }
  store->m_db.reset(db);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(rocksdb::Slice(kStatePrefix.data(), kStatePrefix.size())); it->Valid(); it->Next()) {
    auto k = it->key();
    if (!k.starts_with(rocksdb::Slice(kStatePrefix.data(), kStatePrefix.size()))) break;
    std::string key(k.data() + kStatePrefix.size(), k.size() - kStatePrefix.size());
    Bytes value = toBytes(std::string_view(it->value().data(), it->value().size()));
    store->m_root.add(key, value);
    store->m_state.emplace(std::move(key), std::move(value));
  }
  if (!it->status().ok()) {
    return fail(ErrorCode::kCorruption,
                "cannot read chain database " + path + ": " + it->status().ToString());
  }
  it.reset();
  if (storeOptions.durability == Durability::kGroup) {
    Store* s = store.get();
    store->m_syncThread = std::thread([s] { s->groupSyncLoop(); });
  }
  return store;
}

Store::Store(StoreOptions options) : m_options(options) {}

Store::~Store() {
  if (m_syncThread.joinable()) {
    {
      std::lock_guard lock(m_syncMutex);
      m_stopSync = true;
    }
    m_syncCv.notify_all();
    m_syncThread.join();
  }
  // A clean shutdown leaves nothing unsynced in kGroup (kNone promises nothing across power loss).
  if (m_db && m_options.durability == Durability::kGroup) {
    auto status = m_db->SyncWAL();
    if (!status.ok()) {
      MERIT_LOG_ERROR(log::Category::kChain, "chain database WAL sync at close failed: {}",
                      status.ToString());
    }
  }
}

std::uint64_t Store::walSyncs() const {
  std::lock_guard lock(m_syncMutex);
  return m_walSyncs;
}

bool Store::waitForWalSyncs(std::uint64_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(m_syncMutex);
  return m_syncedCv.wait_for(lock, timeout, [&] { return m_walSyncs >= count; });
}

// The group commit thread: sleeps until a commit is unsynced, then until groupInterval after
// it, then syncs the WAL (concurrently with later commits, which RocksDB allows). A commit
// written during the sync may or may not be covered, so it stays pending, dated no later than
// the sync's start.
void Store::groupSyncLoop() {
  using SteadyClock = std::chrono::steady_clock;
  std::unique_lock lock(m_syncMutex);
  while (!m_stopSync) {
    if (!m_firstUnsynced) {
      m_syncCv.wait(lock);
      continue;
    }
    const auto due = *m_firstUnsynced + m_options.groupInterval;
    if (SteadyClock::now() < due) {
      m_syncCv.wait_until(lock, due);
      continue;
    }
    const std::uint64_t target = m_written;
    const auto started = SteadyClock::now();
    lock.unlock();
    auto status = m_db->SyncWAL();
    lock.lock();
    if (!status.ok()) {
      // The next commit syncs itself, so its caller sees the error; retry here after a pause.
      MERIT_LOG_ERROR(log::Category::kChain, "chain database WAL sync failed: {}", status.ToString());
      m_syncFailed = true;
      m_syncCv.wait_until(lock, SteadyClock::now() + m_options.groupInterval);
      continue;
    }
    ++m_walSyncs;
    m_syncedCv.notify_all();
    m_synced = std::max(m_synced, target);
    if (m_synced >= m_written) {
      m_firstUnsynced.reset();
    } else {
      m_firstUnsynced = started;
    }
  }
}

std::optional<Bytes> Store::get(std::string_view key) const {
  auto it = m_state.find(key);
  if (it == m_state.end()) return std::nullopt;
  return it->second;
}

crypto::Hash256 Store::stateRoot() const {
  return m_root.value();
}

crypto::Hash256 Store::stateRootWith(const Overlay& changes) const {
  StateRoot root = m_root;
  for (const auto& [k, v] : changes.changes()) {
    auto it = m_state.find(k);
    if (it != m_state.end()) root.remove(k, it->second);
    if (v) root.add(k, *v);
  }
  return root.value();
}

Result<void> Store::commit(const Overlay& changes, const std::map<std::string, Bytes>& extra,
                           const std::vector<std::string>& eraseRaw) {
  rocksdb::WriteBatch batch;
  for (const auto& [k, v] : changes.changes()) {
    std::string dbKey = std::string(kStatePrefix) + k;
    if (v) {
      batch.Put(dbKey, rocksdb::Slice(reinterpret_cast<const char*>(v->data()), v->size()));
    } else {
      batch.Delete(dbKey);
    }
  }
  for (const auto& [k, v] : extra)
    batch.Put(k, rocksdb::Slice(reinterpret_cast<const char*>(v.data()), v.size()));
  for (const auto& k : eraseRaw) batch.Delete(k);
  rocksdb::WriteOptions options;
  const auto now = std::chrono::steady_clock::now();
  switch (m_options.durability) {
    case Durability::kSync:
      options.sync = true;  // a block reported as included survives a crash or power loss
      break;
    case Durability::kGroup: {
      // A commit that finds the oldest unsynced one already due (the group thread is late) syncs
      // itself, and with it everything before it.
      std::lock_guard lock(m_syncMutex);
      options.sync = m_syncFailed || (m_firstUnsynced && now - *m_firstUnsynced >= m_options.groupInterval);
      break;
    }
    case Durability::kNone: options.sync = false; break;
  }
  auto status = m_db->Write(options, &batch);
  if (!status.ok()) return fail(ErrorCode::kUnavailable, "chain database write failed: " + status.ToString());
  if (m_options.durability != Durability::kNone) {
    std::lock_guard lock(m_syncMutex);
    ++m_written;
    if (options.sync) {
      ++m_walSyncs;
      m_syncedCv.notify_all();
      m_synced = m_written;
      m_syncFailed = false;
      m_firstUnsynced.reset();
    } else if (!m_firstUnsynced) {
      m_firstUnsynced = now;
      m_syncCv.notify_all();
    }
  }

  // Only the producer thread reads m_state; other threads read RocksDB snapshots, so no lock.
  for (const auto& [k, v] : changes.changes()) {
    auto it = m_state.find(k);
    if (it != m_state.end()) {
      m_root.remove(k, it->second);
      if (v) {
        it->second = *v;
        m_root.add(k, *v);
      } else {
        m_state.erase(it);
      }
    } else if (v) {
      m_root.add(k, *v);
      m_state.emplace(k, *v);
    }
  }
  return {};
}

std::unique_ptr<StateSnapshot> Store::snapshot() const {
  return std::make_unique<StateSnapshot>(*m_db, m_db->GetSnapshot());
}

StateSnapshot::~StateSnapshot() {
  m_db.ReleaseSnapshot(m_snapshot);
}

std::optional<Bytes> StateSnapshot::get(std::string_view key) const {
  std::string dbKey;
  dbKey.reserve(kStatePrefix.size() + key.size());
  dbKey.append(kStatePrefix).append(key);
  return getRaw(dbKey);
}

std::optional<Bytes> StateSnapshot::getRaw(const std::string& key) const {
  rocksdb::ReadOptions options;
  options.snapshot = m_snapshot;
  std::string value;
  auto status = m_db.Get(options, key, &value);
  if (!status.ok()) return std::nullopt;
  return toBytes(value);
}

std::optional<Bytes> Store::getRaw(const std::string& key) const {
  std::string value;
  auto status = m_db->Get(rocksdb::ReadOptions(), key, &value);
  if (!status.ok()) return std::nullopt;
  return toBytes(value);
}

std::vector<std::string> Store::rawKeys(std::string_view prefix) const {
  std::vector<std::string> keys;
  std::unique_ptr<rocksdb::Iterator> it(m_db->NewIterator(rocksdb::ReadOptions()));
  const rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) keys.push_back(it->key().ToString());
  return keys;
}

std::vector<std::pair<std::string, Bytes>> StateSnapshot::scanRawBackward(std::string_view prefix,
                                                                          std::string_view last,
                                                                          std::size_t limit) const {
  std::vector<std::pair<std::string, Bytes>> out;
  rocksdb::ReadOptions options;
  options.snapshot = m_snapshot;
  std::unique_ptr<rocksdb::Iterator> it(m_db.NewIterator(options));
  const rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->SeekForPrev(rocksdb::Slice(last.data(), last.size()));
       it->Valid() && it->key().starts_with(p) && out.size() < limit; it->Prev()) {
    out.emplace_back(it->key().ToString(), toBytes(std::string_view(it->value().data(), it->value().size())));
  }
  return out;
}

}  // namespace merit::chain
