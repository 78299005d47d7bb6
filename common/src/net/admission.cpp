#include "admission.h"

#include <algorithm>

namespace merit::net {

void NonceTable::pruneExpired(std::int64_t nowMs) {
  std::erase_if(m_entries,
                [&](const auto& kv) { return kv.second.newestTimestampMs < nowMs - m_maxPastSkewMs; });
}

NonceTable::Outcome NonceTable::check(const wire::Hotkey& caller, std::uint64_t nonce, std::int64_t nowMs) {
  auto it = m_entries.find(caller);
  if (it != m_entries.end()) return nonce > it->second.highestNonce ? Outcome::kFresh : Outcome::kReplayed;
  if (m_entries.size() >= m_maxEntries) {
    pruneExpired(nowMs);
    if (m_entries.size() >= m_maxEntries) return Outcome::kTableFull;
  }
  return Outcome::kFresh;
}

void NonceTable::commit(const wire::Hotkey& caller, std::uint64_t nonce, std::int64_t timestampMs) {
  auto [it, inserted] = m_entries.try_emplace(caller, Entry{nonce, timestampMs});
  if (!inserted) {
    it->second.highestNonce = std::max(it->second.highestNonce, nonce);
    it->second.newestTimestampMs = std::max(it->second.newestTimestampMs, timestampMs);
  }
}

NonceTable::Outcome NonceTable::checkAndCommit(const wire::Hotkey& caller, std::uint64_t nonce,
                                               std::int64_t timestampMs, std::int64_t nowMs) {
  const Outcome outcome = check(caller, nonce, nowMs);
  if (outcome == Outcome::kFresh) commit(caller, nonce, timestampMs);
  return outcome;
}

std::int64_t HandshakeReplayTable::bucketOf(std::int64_t timestampMs) {
  // Floor division, so negative timestamps (a caller's broken clock) bucket correctly too.
  return timestampMs >= 0 ? timestampMs / 1000 : -((-timestampMs + 999) / 1000);
}

void HandshakeReplayTable::pruneExpired(std::int64_t nowMs) {
  const std::int64_t oldestAccepted = nowMs - m_maxPastSkewMs;
  // Bucket b holds timestamps in [b·1000, b·1000 + 999]: all are too old once b·1000 + 999 is.
  while (!m_buckets.empty() && m_buckets.begin()->first * 1000 + 999 < oldestAccepted) {
    m_size -= m_buckets.begin()->second.size();
    m_buckets.erase(m_buckets.begin());
  }
}

HandshakeReplayTable::Outcome HandshakeReplayTable::check(const wire::HandshakeNonce& nonce,
                                                          std::int64_t nowMs) {
  pruneExpired(nowMs);
  for (const auto& [second, nonces] : m_buckets) {
    if (nonces.contains(nonce)) return Outcome::kReplayed;
  }
  return m_size >= m_maxEntries ? Outcome::kTableFull : Outcome::kFresh;
}

void HandshakeReplayTable::commit(const wire::HandshakeNonce& nonce, std::int64_t timestampMs) {
  if (m_buckets[bucketOf(timestampMs)].insert(nonce).second) ++m_size;
}

}  // namespace merit::net
