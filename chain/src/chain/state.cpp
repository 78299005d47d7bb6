#include "merit/chain/state.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "merit/util/codec.h"

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

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  std::unique_ptr<Store> store(new Store());
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
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
  return store;
}

Store::~Store() = default;

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
  options.sync = true;  // a block reported as included must survive a crash or power loss
  auto status = m_db->Write(options, &batch);
  if (!status.ok()) return fail(ErrorCode::kUnavailable, "chain database write failed: " + status.ToString());

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
