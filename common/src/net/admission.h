// Private to merit_net: the axon's per-caller admission state, bounded in memory.
//
// Thread-safety: not thread-safe; owned by the axon's I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>

#include "merit/wire/envelope.h"

namespace merit::net {

// One token bucket per caller. A bucket that has refilled completely is the same as no bucket,
// so such entries are pruned when the table is full and pruning loses nothing.
class RateLimiterTable {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class Outcome { kAllowed, kLimited, kTableFull };

  RateLimiterTable(double perSecond, double burst, std::size_t maxEntries)
      : m_perSecond(perSecond), m_burst(burst), m_maxEntries(maxEntries) {}

  // Takes one token from `caller`'s bucket if it has one.
  Outcome take(const wire::Hotkey& caller, TimePoint now);
  std::size_t size() const { return m_buckets.size(); }

 private:
  struct Bucket {
    double tokens;
    TimePoint last;
  };
  double refilled(const Bucket& b, TimePoint now) const;
  void pruneFull(TimePoint now);

  double m_perSecond;
  double m_burst;
  std::size_t m_maxEntries;
  std::map<wire::Hotkey, Bucket> m_buckets;
};

// The highest nonce accepted from each caller. An entry may be forgotten once every timestamp
// it accepted is older than the timestamp window: a replay of any of those messages is then
// rejected as STALE by the timestamp check, so forgetting cannot re-open a replay.
class NonceTable {
 public:
  enum class Outcome { kFresh, kReplayed, kTableFull };

  NonceTable(std::size_t maxEntries, std::chrono::milliseconds maxPastSkew)
      : m_maxEntries(maxEntries), m_maxPastSkewMs(maxPastSkew.count()) {}

  // Whether `nonce` is above everything accepted from `caller` (does not record it).
  Outcome check(const wire::Hotkey& caller, std::uint64_t nonce, std::int64_t nowMs);
  // Records an authenticated message.
  void commit(const wire::Hotkey& caller, std::uint64_t nonce, std::int64_t timestampMs);
  std::size_t size() const { return m_entries.size(); }

 private:
  struct Entry {
    std::uint64_t highestNonce;
    std::int64_t newestTimestampMs;
  };
  void pruneExpired(std::int64_t nowMs);

  std::size_t m_maxEntries;
  std::int64_t m_maxPastSkewMs;
  std::map<wire::Hotkey, Entry> m_entries;
};

}  // namespace merit::net
