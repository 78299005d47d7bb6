#include "admission.h"

#include <algorithm>

namespace merit::net {

double RateLimiterTable::refilled(const Bucket& b, TimePoint now) const {
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  return std::min(m_burst, b.tokens + std::max(0.0, elapsed) * m_perSecond);
}

void RateLimiterTable::pruneFull(TimePoint now) {
  std::erase_if(m_buckets, [&](const auto& kv) { return refilled(kv.second, now) >= m_burst; });
}

RateLimiterTable::Outcome RateLimiterTable::take(const wire::Hotkey& caller, TimePoint now) {
  auto it = m_buckets.find(caller);
  if (it == m_buckets.end()) {
    if (m_buckets.size() >= m_maxEntries) {
      pruneFull(now);
      if (m_buckets.size() >= m_maxEntries) return Outcome::kTableFull;
    }
    it = m_buckets.emplace(caller, Bucket{m_burst, now}).first;
  }
  Bucket& b = it->second;
  b.tokens = refilled(b, now);
  b.last = now;
  if (b.tokens < 1.0) return Outcome::kLimited;
  b.tokens -= 1.0;
  return Outcome::kAllowed;
}

void NonceTable::pruneExpired(std::int64_t nowMs) {
  std::erase_if(m_entries, [&](const auto& kv) { return kv.second.newestTimestampMs < nowMs - m_maxPastSkewMs; });
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

}  // namespace merit::net
