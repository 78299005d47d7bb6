#include "merit/chain/node.h"

#include <algorithm>
#include <deque>
#include <filesystem>

#include "merit/util/assert.h"
#include "merit/util/codec.h"
#include "merit/util/log.h"

namespace merit::chain {

namespace {

using log::Category;
constexpr std::size_t kMaxRememberedStatuses = 200'000;
constexpr std::string_view kHeadKey = "meta/head";
constexpr std::string_view kGenesisKey = "meta/genesis";
// The layout of what the database holds (blocks, extrinsics, state records). 2: extrinsic version
// 2 and tagged neuron keys (either scheme). A database without this record was written with
// format 1 (ECDSA-only extrinsics and neuron keys) and is refused rather than misread.
constexpr std::string_view kFormatKey = "meta/format";
constexpr std::uint32_t kStoreFormat = 2;

std::string blockKey(std::uint64_t n) {
  Bytes b;
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::byte>(n >> (8 * i)));
  return "block/" + toHex(b);
}
Bytes formatBytes(std::uint32_t format) {  // little-endian u32
  Bytes b;
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::byte>(format >> (8 * i)));
  return b;
}
std::string xtKey(const crypto::Hash256& h) {
  return "xt/" + toHex(h);
}

Bytes encodeIncluded(const XtStatus& s) {
  ByteWriter w;
  const std::string name = s.error ? std::string(s.error->name()) : std::string();
  w.u64(s.block).u32(s.index).boolean(s.success).str(name).str(s.error ? s.error->detail() : std::string());
  return std::move(w).take();
}

std::optional<XtStatus> decodeIncluded(ByteView b) {
  ByteReader r(b);
  XtStatus s;
  s.state = XtState::kIncluded;
  s.block = r.u64();
  s.index = r.u32();
  s.success = r.boolean();
  std::string name = r.str(1024);
  std::string detail = r.str(1024);
  if (!r.finish("status")) return std::nullopt;
  if (!s.success) s.error = tx::ChainError::fromName(name, std::move(detail));
  return s;
}

Bytes u64Bytes(std::uint64_t v) {
  Bytes b;
  appendU64Le(b, v);
  return b;
}

void signHeader(BlockHeader& h, const crypto::PrivateKey& author) {
  h.author = author.publicKey().bytes();
  h.signature = author.sign(h.signingBytes()).bytes();
}

using E = tx::ChainErrorCode;

}  // namespace

bool isOverload(tx::ChainErrorCode code) {
  return code == E::kPoolFull || code == E::kTooManyFromAccount || code == E::kTooManyFuture;
}

std::string_view xtStateName(XtState s) {
  switch (s) {
    case XtState::kUnknown: return "unknown";
    case XtState::kPending: return "pending";
    case XtState::kIncluded: return "included";
    case XtState::kDropped: return "dropped";
  }
  return "unknown";
}

Node::Node(NodeConfig config, crypto::PrivateKey author, const Clock& clock)
    : m_config(std::move(config)), m_author(std::move(author)), m_clock(clock) {}

Node::~Node() {
  stop();
}

Result<std::unique_ptr<Node>> Node::open(NodeConfig config, crypto::PrivateKey author, const Clock& clock) {
  std::unique_ptr<Node> node(new Node(std::move(config), std::move(author), clock));
  MERIT_TRY(node->init());
  return node;
}

Result<void> Node::init() {
  std::error_code ec;
  std::filesystem::create_directories(m_config.dataDir, ec);
  if (ec)
    return fail(ErrorCode::kUnavailable,
                "cannot create data directory " + m_config.dataDir + ": " + ec.message());
  MERIT_ASSIGN_OR_RETURN(m_store, Store::open(m_config.dataDir + "/chain.db", m_config.store));
  if (m_config.store.durability == Durability::kGroup) {
    MERIT_LOG_INFO(Category::kChain, "durability group: the WAL is synced within {} ms of a block",
                   m_config.store.groupInterval.count());
  } else if (m_config.store.durability == Durability::kNone) {
    MERIT_LOG_WARN(
        Category::kChain,
        "durability none: blocks are never synced; an OS crash or power loss can lose any of them");
  }

  auto headRaw = m_store->getRaw(std::string(kHeadKey));
  if (headRaw) {
    auto formatRaw = m_store->getRaw(std::string(kFormatKey));
    std::uint32_t format = 1;
    if (formatRaw && formatRaw->size() == 4) {
      format = 0;
      for (int i = 3; i >= 0; --i) format = (format << 8) | std::to_integer<std::uint32_t>((*formatRaw)[i]);
    } else if (formatRaw) {
      format = 0;
    }
    if (format != kStoreFormat) {
      return fail(ErrorCode::kCorruption,
                  "chain database " + m_config.dataDir + " has format " + std::to_string(format) +
                      (format == 1 ? " (ECDSA-only extrinsics and neuron keys, an older meritnet)" : "") +
                      "; this node reads format " + std::to_string(kStoreFormat) +
                      ": start it with a new data directory (a dev chain is rebuilt from its genesis)");
    }
    auto genesisRaw = m_store->getRaw(std::string(kGenesisKey));
    if (headRaw->size() != 8 || !genesisRaw || genesisRaw->size() != 32) {
      return fail(ErrorCode::kCorruption,
                  "chain database " + m_config.dataDir + " has a damaged head or genesis record");
    }
    std::uint64_t headNumber = readU64Le(*headRaw);
    std::copy(genesisRaw->begin(), genesisRaw->end(), m_genesisHash.begin());
    auto raw = m_store->getRaw(blockKey(headNumber));
    if (!raw) return fail(ErrorCode::kCorruption, "head block " + std::to_string(headNumber) + " is missing");
    auto blk = decodeBlock(*raw);
    if (!blk) return fail(blk.error().withContext("head block"));
    if (blk->header.stateRoot != m_store->stateRoot()) {
      return fail(ErrorCode::kCorruption, "state does not match the head block's state root");
    }
    m_head = blk->header;
    m_headNumber = headNumber;
    m_runtime = std::make_unique<Runtime>(m_config.runtime, m_genesisHash);
    MERIT_LOG_INFO(Category::kChain, "resumed at block {} (genesis {})", headNumber, toHex(m_genesisHash));
    return {};
  }

  // First start: genesis state and block 0.
  Runtime genesisRuntime(m_config.runtime, crypto::Hash256{});
  Overlay genesis(*m_store);
  MERIT_TRY(genesisRuntime.buildGenesis(genesis, m_config.genesis.balances, m_config.genesis.subnets));
  BlockHeader h;
  h.number = 0;
  h.timestampMs = static_cast<std::uint64_t>(m_clock.nowUnixMs());
  h.extrinsicsRoot = extrinsicsRoot({});
  h.stateRoot = m_store->stateRootWith(genesis);
  signHeader(h, m_author);
  m_genesisHash = h.hash();
  Block b{h, {}, {}};
  std::map<std::string, Bytes> extra = {{blockKey(0), encodeBlock(b)},
                                        {std::string(kHeadKey), u64Bytes(0)},
                                        {std::string(kGenesisKey), toBytes(ByteView(m_genesisHash))},
                                        {std::string(kFormatKey), formatBytes(kStoreFormat)}};
  MERIT_TRY(m_store->commit(genesis, extra));
  m_head = h;
  m_headNumber = 0;
  m_runtime = std::make_unique<Runtime>(m_config.runtime, m_genesisHash);
  MERIT_LOG_INFO(Category::kChain, "created genesis {} with {} accounts and {} subnets", toHex(m_genesisHash),
                 m_config.genesis.balances.size(), m_config.genesis.subnets.size());
  return {};
}

Result<std::vector<EpochRecord>> Node::epochs(NetUid netuid, std::size_t limit,
                                              std::optional<std::uint64_t> atOrBefore) const {
  auto view = readView();
  const std::string last = atOrBefore ? epochKey(netuid, *atOrBefore) : epochKeyPrefix(netuid) + "~";
  std::vector<EpochRecord> out;
  for (const auto& [key, value] : view.snapshot->scanRawBackward(epochKeyPrefix(netuid), last, limit)) {
    auto rec = decodeEpochRecord(value);
    if (!rec) return fail(ErrorCode::kCorruption, key + ": " + rec.error().message());
    out.push_back(std::move(*rec));
  }
  return out;
}

void Node::onBlock(std::function<void(const Block&)> listener) {
  std::lock_guard lock(m_mutex);
  m_listeners.push_back(std::move(listener));
}

Result<BlockHeader> Node::produceBlock() {
  std::lock_guard produce(m_produceMutex);
  const std::uint64_t number = m_headNumber.load() + 1;
  Overlay blk(*m_store);
  std::vector<EpochRecord> epochs;
  m_runtime->onInitialize(blk, number, m_config.epochHistory > 0 ? &epochs : nullptr);

  // Pick candidates: each account's consecutive nonces from its current one, accounts in order
  // of their oldest waiting extrinsic. Entries past their expiry or nonce leave the pool first.
  std::vector<PoolEntry> candidates;
  std::vector<std::pair<crypto::Hash256, tx::ChainError>> dropped;
  {
    std::lock_guard lock(m_mutex);
    StateView s(blk);
    std::vector<std::pair<std::uint64_t, AccountId>> order;
    for (auto& [account, entries] : m_pool) {
      const std::uint64_t stateNonce = s.account(account).nonce;
      for (auto it = entries.begin(); it != entries.end();) {
        if (it->first < stateNonce) {  // superseded by an included extrinsic with the same nonce
          dropped.emplace_back(it->second.hash, tx::ChainError(E::kStale));
        } else if (it->second.expiresAt < number) {
          dropped.emplace_back(
              it->second.hash,
              tx::ChainError(E::kExpired, "pooled until block " + std::to_string(it->second.expiresAt) +
                                              ", now at block " + std::to_string(number)));
        } else {
          ++it;
          continue;
        }
        auto gone = it++;
        eraseEntry(entries, gone);
      }
      refreshReadiness(entries, stateNonce);
      if (!entries.empty()) {
        std::uint64_t oldest = UINT64_MAX;
        for (const auto& [nonce, e] : entries) oldest = std::min(oldest, e.arrival);
        order.emplace_back(oldest, account);
      }
    }
    std::sort(order.begin(), order.end());
    // Up to the block's caps, oldest account first; an account whose next extrinsic does not fit
    // in the bytes left waits (its later nonces cannot go first), a smaller one of another
    // account may still fit. Whatever is left stays in the pool for the next block.
    std::size_t bytes = 0;
    for (const auto& [arrival, account] : order) {
      if (candidates.size() >= m_config.maxBlockExtrinsics) break;
      auto& entries = m_pool.find(account)->second;
      for (const auto& [nonce, e] : entries) {
        if (!e.ready || candidates.size() >= m_config.maxBlockExtrinsics) break;
        if (e.encoded.size() > m_config.maxBlockBytes - bytes) break;
        bytes += e.encoded.size();
        candidates.push_back(e);
      }
    }
  }

  Block block;
  std::map<std::string, Bytes> extra;
  std::vector<XtStatus> included;
  for (const auto& c : candidates) {
    // Everything but the signature is checked again against this block's state; the signature
    // only if admission did not verify it (it depends on the extrinsic and the genesis alone).
    auto valid = m_runtime->validate(
        c.xt, blk, number,
        c.signatureVerified ? Runtime::SignatureCheck::kAlreadyVerified : Runtime::SignatureCheck::kVerify);
    if (!valid) {
      dropped.emplace_back(c.hash, valid.error());
      continue;
    }
    Outcome out = m_runtime->apply(blk, c.xt, number);
    XtStatus st;
    st.state = XtState::kIncluded;
    st.block = number;
    st.index = static_cast<std::uint32_t>(block.extrinsics.size());
    st.success = out.success();
    st.error = out.error;
    extra[xtKey(c.hash)] = encodeIncluded(st);
    block.extrinsics.push_back(c.encoded);
    block.events.push_back(Event{c.hash, out.success(),
                                 out.error ? std::string(out.error->name()) : std::string(),
                                 out.error ? out.error->detail() : std::string()});
    included.push_back(st);
  }

  BlockHeader& h = block.header;
  h.number = number;
  h.parent = m_head.hash();
  h.timestampMs =
      std::max<std::uint64_t>(static_cast<std::uint64_t>(m_clock.nowUnixMs()), m_head.timestampMs);
  h.extrinsicsRoot = extrinsicsRoot(block.extrinsics);
  h.stateRoot = m_store->stateRootWith(blk);
  signHeader(h, m_author);
  extra[blockKey(number)] = encodeBlock(block);
  extra[std::string(kHeadKey)] = u64Bytes(number);
  // Epoch history goes into the same write as the block, with the subnet's records beyond the
  // bound deleted, so it is exactly as durable as the block and never grows past the bound.
  std::vector<std::string> pruned;
  for (const auto& rec : epochs) {
    auto kept = m_store->rawKeys(epochKeyPrefix(rec.netuid));
    if (kept.size() + 1 > m_config.epochHistory) {
      kept.resize(kept.size() + 1 - m_config.epochHistory);  // the oldest ones
      pruned.insert(pruned.end(), kept.begin(), kept.end());
    }
    extra[epochKey(rec.netuid, rec.block)] = encodeEpochRecord(rec);
  }
  MERIT_TRY(m_store->commit(blk, extra, pruned));

  std::vector<std::function<void(const Block&)>> listeners;
  {
    std::lock_guard lock(m_mutex);
    m_head = h;
    m_headNumber = number;
    for (const auto& c : candidates) {
      auto acc = m_pool.find(c.xt.signerAccount());
      if (acc == m_pool.end()) continue;
      auto it = acc->second.find(c.xt.nonce);
      if (it != acc->second.end()) eraseEntry(acc->second, it);
    }
    for (std::size_t i = 0; i < block.events.size(); ++i)
      recordStatus(block.events[i].extrinsic, included[i]);
    for (const auto& [hash, why] : dropped) {
      XtStatus st;
      st.state = XtState::kDropped;
      st.error = why;
      recordStatus(hash, st);
    }
    for (auto it = m_pool.begin(); it != m_pool.end();)
      it = it->second.empty() ? m_pool.erase(it) : std::next(it);
    listeners = m_listeners;
  }
  m_changed.notify_all();
  MERIT_LOG_DEBUG(Category::kChain, "block {}: {} extrinsics, {} dropped", number, block.extrinsics.size(),
                  dropped.size());
  for (const auto& l : listeners) l(block);
  return h;
}

void Node::recordStatus(const crypto::Hash256& hash, const XtStatus& status) {
  auto key = toHex(hash);
  if (m_statuses.emplace(key, status).second) {
    m_statusOrder.push_back(key);
    if (m_statusOrder.size() > kMaxRememberedStatuses) {
      // Forget the oldest half; included ones remain readable from the database.
      std::size_t drop = m_statusOrder.size() / 2;
      for (std::size_t i = 0; i < drop; ++i) {
        auto it = m_statuses.find(m_statusOrder[i]);
        if (it != m_statuses.end() && it->second.state != XtState::kPending) m_statuses.erase(it);
      }
      m_statusOrder.erase(m_statusOrder.begin(), m_statusOrder.begin() + static_cast<std::ptrdiff_t>(drop));
    }
  } else {
    m_statuses[key] = status;
  }
}

void Node::eraseEntry(AccountPool& entries, AccountPool::iterator it) {
  if (!it->second.ready) --m_poolFuture;
  m_poolBytes -= it->second.encoded.size();
  --m_poolSize;
  entries.erase(it);
}

void Node::refreshReadiness(AccountPool& entries, std::uint64_t stateNonce) {
  std::uint64_t expect = stateNonce;
  bool chained = true;
  for (auto& [nonce, e] : entries) {
    bool ready = chained && nonce == expect;
    if (ready) {
      ++expect;
    } else {
      chained = false;
    }
    if (e.ready != ready) {
      if (ready) {
        --m_poolFuture;
      } else {
        ++m_poolFuture;
      }
      e.ready = ready;
    }
  }
}

tx::ChainResult<crypto::Hash256> Node::submit(ByteView encoded) {
  return admit(encoded, true);
}

tx::ChainResult<crypto::Hash256> Node::admit(ByteView encoded, bool verifySignature) {
  auto xt = tx::decodeExtrinsic(encoded);
  if (!xt) return tx::chainFail(E::kMalformed, xt.error().message());
  Bytes canonical = tx::encodeExtrinsic(*xt);
  crypto::Hash256 hash = crypto::blake2b256(canonical);
  AccountId account = xt->signerAccount();
  const Balance fee = m_config.runtime.extrinsicFee;

  std::uint64_t stateNonce = 0;
  Balance freeBalance = 0;
  std::uint64_t head = 0;
  {
    auto snap = readView();  // validation never waits for (or delays) the producer
    Overlay view(*snap.snapshot);
    head = snap.head;
    Account acc = StateView(view).account(account);
    stateNonce = acc.nonce;
    freeBalance = acc.free;
    // The cheap refusals of a future nonce, before any signature is checked.
    if (xt->nonce > stateNonce) {
      if (xt->nonce - stateNonce > m_config.maxFutureNonceGap) {
        return tx::chainFail(E::kFutureTooFar, "nonce " + std::to_string(xt->nonce) + " is more than " +
                                                   std::to_string(m_config.maxFutureNonceGap) + " ahead of " +
                                                   std::to_string(stateNonce));
      }
      // With fees off there is no fee to cover, but a future nonce is still a promise the sender
      // must back: an account holding nothing (any fresh key) cannot queue ahead of itself.
      if (freeBalance < std::max<Balance>(fee, 1)) {
        return tx::chainFail(E::kPayment, "free balance " + std::to_string(freeBalance) +
                                              " cannot back a future nonce (needs at least " +
                                              std::to_string(std::max<Balance>(fee, 1)) + ")");
      }
    }
    // Accepted below only if this passes or fails with kFuture alone, which both mean the
    // signature verified (when asked to).
    auto valid = m_runtime->validate(
        *xt, view, head + 1,
        verifySignature ? Runtime::SignatureCheck::kVerify : Runtime::SignatureCheck::kAlreadyVerified);
    if (!valid && !valid.error().is(E::kFuture)) return tl::unexpected(valid.error());
  }

  std::lock_guard lock(m_mutex);
  auto known = m_statuses.find(toHex(hash));
  if (known != m_statuses.end() && known->second.state == XtState::kPending) {
    return tx::chainFail(E::kAlreadyInPool, toHex(hash));
  }
  static const AccountPool kNone;
  auto found = m_pool.find(account);
  const AccountPool& entries = found == m_pool.end() ? kNone : found->second;
  if (entries.count(xt->nonce)) {
    return tx::chainFail(E::kNonceInPool,
                         "another extrinsic with nonce " + std::to_string(xt->nonce) + " is waiting");
  }
  if (entries.size() >= m_config.mempoolPerAccount) {
    return tx::chainFail(E::kTooManyFromAccount, std::to_string(entries.size()) + " waiting");
  }
  // Everything the account has queued must be payable too, or its queue is free to hold.
  if (fee > 0) {
    unsigned __int128 owed = static_cast<unsigned __int128>(fee) * (entries.size() + 1);
    if (owed > freeBalance) {
      return tx::chainFail(E::kPayment, "free balance " + std::to_string(freeBalance) +
                                            " cannot pay the fees of " + std::to_string(entries.size()) +
                                            " waiting extrinsics and this one");
    }
  }
  bool ready = xt->nonce == stateNonce;
  if (!ready) {
    auto before = entries.find(xt->nonce - 1);
    ready = before != entries.end() && before->second.ready;
  }
  if (!ready) {
    std::size_t future = 0;
    for (const auto& [nonce, e] : entries) future += e.ready ? 0 : 1;
    if (future >= m_config.mempoolFuturePerAccount) {
      return tx::chainFail(E::kTooManyFuture,
                           std::to_string(future) + " extrinsics of this account wait for an earlier nonce");
    }
  }

  // Make room by evicting lower-ranked entries (each the last nonce of its account).
  const std::uint64_t expiresAt = std::min(xt->validUntil, head + m_config.mempoolLongevity);
  PoolEntry entry{std::move(*xt), std::move(canonical), hash, m_arrivals++, expiresAt, fee, ready};
  entry.signatureVerified = verifySignature;
  const auto rank = evictionRank(entry);
  std::vector<crypto::Hash256> evicted;
  while (m_poolSize + 1 > m_config.mempoolCapacity ||
         m_poolBytes + entry.encoded.size() > m_config.mempoolBytes) {
    AccountPool* victimPool = nullptr;
    for (auto& [other, pool] : m_pool) {
      if (other == account || pool.empty()) continue;
      if (victimPool == nullptr ||
          evictionRank(std::prev(pool.end())->second) < evictionRank(std::prev(victimPool->end())->second)) {
        victimPool = &pool;
      }
    }
    if (victimPool == nullptr || !(evictionRank(std::prev(victimPool->end())->second) < rank)) {
      return tx::chainFail(E::kPoolFull, std::to_string(m_poolSize) + " extrinsics (" +
                                             std::to_string(m_poolBytes) +
                                             " bytes) wait, none ranks below this one");
    }
    auto victim = std::prev(victimPool->end());
    evicted.push_back(victim->second.hash);
    eraseEntry(*victimPool, victim);
  }
  for (const auto& h : evicted) {
    XtStatus st;
    st.state = XtState::kDropped;
    st.error = tx::ChainError(E::kEvicted, "the pool was full and a higher-priority extrinsic arrived");
    recordStatus(h, st);
  }
  if (!evicted.empty()) {
    MERIT_LOG_DEBUG(Category::kChain, "mempool full: evicted {} lower-priority extrinsics", evicted.size());
  }

  const std::uint64_t nonce = entry.xt.nonce;
  m_poolBytes += entry.encoded.size();
  if (!entry.ready) ++m_poolFuture;
  ++m_poolSize;
  auto& pool = m_pool[account];
  auto inserted = pool.emplace(nonce, std::move(entry)).first;
  // Its arrival may close a gap: the consecutive nonces after it become ready.
  if (ready) {
    for (auto prev = inserted, it = std::next(inserted); it != pool.end() && it->first == prev->first + 1;
         prev = it++) {
      if (!it->second.ready) {
        it->second.ready = true;
        --m_poolFuture;
      }
    }
  }
  XtStatus st;
  st.state = XtState::kPending;
  recordStatus(hash, st);
  return hash;
}

XtStatus Node::status(const crypto::Hash256& hash) const {
  {
    std::lock_guard lock(m_mutex);
    auto it = m_statuses.find(toHex(hash));
    if (it != m_statuses.end()) return it->second;
  }
  if (auto raw = m_store->getRaw(xtKey(hash))) {
    if (auto st = decodeIncluded(*raw)) return *st;
  }
  return {};
}

XtStatus Node::waitForStatus(const crypto::Hash256& hash, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    XtStatus st = status(hash);
    if (st.state == XtState::kIncluded || st.state == XtState::kDropped) return st;
    std::unique_lock lock(m_mutex);
    if (m_changed.wait_until(lock, deadline) == std::cv_status::timeout) {
      lock.unlock();
      return status(hash);
    }
  }
}

Node::ReadView Node::readView() const {
  ReadView v{m_store->snapshot(), 0};
  // The head pointer is written in the same atomic batch as the block's state.
  auto raw = v.snapshot->getRaw(std::string(kHeadKey));
  MERIT_ASSERT(raw && raw->size() == 8, "head pointer missing from a committed snapshot");
  v.head = readU64Le(*raw);
  return v;
}

BlockHeader Node::head() const {
  std::lock_guard lock(m_mutex);
  return m_head;
}

std::optional<Block> Node::block(std::uint64_t number) const {
  auto raw = m_store->getRaw(blockKey(number));
  if (!raw) return std::nullopt;
  auto b = decodeBlock(*raw);
  if (!b) return std::nullopt;
  return *b;
}

BlockHeader Node::waitForBlock(std::uint64_t number, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(m_mutex);
  m_changed.wait_for(lock, timeout, [&] { return m_head.number >= number; });
  return m_head;
}

std::size_t Node::mempoolSize() const {
  std::lock_guard lock(m_mutex);
  return m_poolSize;
}

PoolStats Node::poolStats() const {
  std::lock_guard lock(m_mutex);
  PoolStats p;
  p.entries = m_poolSize;
  p.bytes = m_poolBytes;
  p.future = m_poolFuture;
  for (const auto& [account, entries] : m_pool) p.accounts += entries.empty() ? 0 : 1;
  return p;
}

void Node::start() {
  if (m_running.exchange(true)) return;
  m_producer = std::thread([this] { producerLoop(); });
}

void Node::stop() {
  if (!m_running.exchange(false)) return;
  { std::lock_guard lock(m_stopMutex); }
  m_stopCv.notify_all();
  if (m_producer.joinable()) m_producer.join();
}

// Block times are on the node's clock: with a ManualClock a block is produced only when the
// test advances time by blockTime.
void Node::producerLoop() {
  auto next = m_clock.monotonicNow() + m_config.blockTime;
  while (m_running.load()) {
    {
      std::unique_lock lock(m_stopMutex);
      if (waitUntil(m_clock, m_stopCv, lock, next, [this] { return !m_running.load(); })) break;
    }
    auto produced = produceBlock();
    if (!produced) {
      MERIT_LOG_ERROR(Category::kChain, "block production failed: {}", produced.error().toString());
    }
    next += m_config.blockTime;
    auto now = m_clock.monotonicNow();
    if (next < now) next = now + m_config.blockTime;  // fell behind: do not burst to catch up
  }
}

}  // namespace merit::chain
