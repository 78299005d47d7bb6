// Private to merit_net: the axon's admission state (token buckets, nonces, handshake replay
// memory), bounded in memory.
//
// Thread-safety: not thread-safe. The axon guards its NonceTable and caller RateLimiterTable with
// a mutex (workers record nonces and charge callers after verifying signatures); the peer
// buckets and the handshake memory belong to its I/O thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "merit/wire/envelope.h"

namespace merit::net {

// One token bucket per key (a caller's hotkey, or a peer's network address). A bucket that has
// refilled completely is the same as no bucket, so such entries are pruned when the table is
// full and pruning loses nothing.
template <typename Key>
class TokenBucketTable {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class Outcome { kAllowed, kLimited, kTableFull };

  TokenBucketTable(double perSecond, double burst, std::size_t maxEntries)
      : m_perSecond(perSecond), m_burst(burst), m_maxEntries(maxEntries) {}

  // Takes one token from `key`'s bucket if it has one.
  Outcome take(const Key& key, TimePoint now) {
    auto it = m_buckets.find(key);
    if (it == m_buckets.end()) {
      if (m_buckets.size() >= m_maxEntries) {
        std::erase_if(m_buckets, [&](const auto& kv) { return refilled(kv.second, now) >= m_burst; });
        if (m_buckets.size() >= m_maxEntries) return Outcome::kTableFull;
      }
      it = m_buckets.emplace(key, Bucket{m_burst, now}).first;
    }
    Bucket& b = it->second;
    b.tokens = refilled(b, now);
    b.last = now;
    if (b.tokens < 1.0) return Outcome::kLimited;
    b.tokens -= 1.0;
    return Outcome::kAllowed;
  }
  std::size_t size() const { return m_buckets.size(); }

 private:
  struct Bucket {
    double tokens;
    TimePoint last;
  };
  double refilled(const Bucket& b, TimePoint now) const {
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    return std::min(m_burst, b.tokens + std::max(0.0, elapsed) * m_perSecond);
  }

  double m_perSecond;
  double m_burst;
  std::size_t m_maxEntries;
  std::map<Key, Bucket> m_buckets;
};

// Per-caller buckets, charged only once the caller is authenticated.
using RateLimiterTable = TokenBucketTable<wire::Hotkey>;
// Per-peer-address buckets, charged before authentication (see axon.h).
using PeerRateLimiterTable = TokenBucketTable<std::string>;

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
  // check() and, when fresh, commit() in one step: for an authenticated message whose check()
  // ran before its (concurrent) verification, so that of two messages with one nonce verified
  // at once exactly one is recorded.
  Outcome checkAndCommit(const wire::Hotkey& caller, std::uint64_t nonce, std::int64_t timestampMs,
                         std::int64_t nowMs);
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

// The client nonces of the session handshakes accepted within the timestamp window, so that a
// captured handshake cannot be replayed while its timestamp is still acceptable. Entries are
// kept in one-second buckets of their handshake's timestamp; a bucket is dropped as a whole
// once every timestamp in it is older than the window (the timestamp check then rejects a
// replay by itself). At most `maxEntries` nonces are remembered: when full, new handshakes are
// refused (OVERLOADED) rather than forgetting one that could still be replayed.
class HandshakeReplayTable {
 public:
  enum class Outcome { kFresh, kReplayed, kTableFull };

  HandshakeReplayTable(std::size_t maxEntries, std::chrono::milliseconds maxPastSkew)
      : m_maxEntries(maxEntries), m_maxPastSkewMs(maxPastSkew.count()) {}

  // Whether `nonce` was not seen in the window (does not record it).
  Outcome check(const wire::HandshakeNonce& nonce, std::int64_t nowMs);
  // Records the nonce of an authenticated handshake with timestamp `timestampMs`.
  void commit(const wire::HandshakeNonce& nonce, std::int64_t timestampMs);
  std::size_t size() const { return m_size; }

 private:
  void pruneExpired(std::int64_t nowMs);
  static std::int64_t bucketOf(std::int64_t timestampMs);

  std::size_t m_maxEntries;
  std::int64_t m_maxPastSkewMs;
  std::map<std::int64_t, std::set<wire::HandshakeNonce>> m_buckets;  // second → nonces
  std::size_t m_size = 0;
};

}  // namespace merit::net
