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

std::string blockKey(std::uint64_t n) {
  Bytes b;
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::byte>(n >> (8 * i)));
  return "block/" + toHex(b);
}
std::string xtKey(const crypto::Hash256& h) { return "xt/" + toHex(h); }

Bytes encodeIncluded(const XtStatus& s) {
  ByteWriter w;
  w.u64(s.block).u32(s.index).boolean(s.success).str(s.error).str(s.detail);
  return std::move(w).take();
}

std::optional<XtStatus> decodeIncluded(ByteView b) {
  ByteReader r(b);
  XtStatus s;
  s.state = XtState::kIncluded;
  s.block = r.u64();
  s.index = r.u32();
  s.success = r.boolean();
  s.error = r.str(1024);
  s.detail = r.str(1024);
  if (!r.finish("status")) return std::nullopt;
  return s;
}

Bytes u64Bytes(std::uint64_t v) {
  Bytes b;
  appendU64Le(b, v);
  return b;
}

void signHeader(BlockHeader& h, const crypto::PrivateKey& author) {
  h.author = author.publicKey().bytes();
  auto sig = author.signDigest(h.hash());
  h.signature = sig.bytes();
}

// Name of a validation error ("Stale: nonce 3 ..." -> "Stale").
std::string errorName(const Error& e) {
  auto colon = e.message().find(':');
  return colon == std::string::npos ? e.message() : e.message().substr(0, colon);
}

}  // namespace

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

Node::~Node() { stop(); }

Result<std::unique_ptr<Node>> Node::open(NodeConfig config, crypto::PrivateKey author, const Clock& clock) {
  std::unique_ptr<Node> node(new Node(std::move(config), std::move(author), clock));
  MERIT_TRY(node->init());
  return node;
}

Result<void> Node::init() {
  std::error_code ec;
  std::filesystem::create_directories(m_config.dataDir, ec);
  if (ec) return fail(ErrorCode::kUnavailable, "cannot create data directory " + m_config.dataDir + ": " + ec.message());
  MERIT_ASSIGN_OR_RETURN(m_store, Store::open(m_config.dataDir + "/chain.db"));

  auto headRaw = m_store->getRaw(std::string(kHeadKey));
  if (headRaw) {
    auto genesisRaw = m_store->getRaw(std::string(kGenesisKey));
    if (headRaw->size() != 8 || !genesisRaw || genesisRaw->size() != 32) {
      return fail(ErrorCode::kCorruption, "chain database " + m_config.dataDir + " has a damaged head or genesis record");
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
                                        {std::string(kGenesisKey), toBytes(ByteView(m_genesisHash))}};
  MERIT_TRY(m_store->commit(genesis, extra));
  m_head = h;
  m_headNumber = 0;
  m_runtime = std::make_unique<Runtime>(m_config.runtime, m_genesisHash);
  MERIT_LOG_INFO(Category::kChain, "created genesis {} with {} accounts and {} subnets", toHex(m_genesisHash),
                 m_config.genesis.balances.size(), m_config.genesis.subnets.size());
  return {};
}

void Node::onBlock(std::function<void(const Block&)> listener) {
  std::lock_guard lock(m_mutex);
  m_listeners.push_back(std::move(listener));
}

Result<BlockHeader> Node::produceBlock() {
  std::lock_guard produce(m_produceMutex);
  const std::uint64_t number = m_headNumber.load() + 1;
  Overlay blk(*m_store);
  m_runtime->onInitialize(blk, number);

  // Pick candidates: each account's consecutive nonces from its current one, accounts in order
  // of their oldest waiting extrinsic.
  std::vector<PoolEntry> candidates;
  std::vector<std::pair<crypto::Hash256, std::string>> dropped;
  {
    std::lock_guard lock(m_mutex);
    std::vector<std::pair<std::uint64_t, AccountId>> order;
    for (auto& [account, entries] : m_pool) {
      if (!entries.empty()) {
        std::uint64_t oldest = UINT64_MAX;
        for (const auto& [nonce, e] : entries) oldest = std::min(oldest, e.arrival);
        order.emplace_back(oldest, account);
      }
    }
    std::sort(order.begin(), order.end());
    StateView s(blk);
    for (const auto& [arrival, account] : order) {
      auto& entries = m_pool[account];
      std::uint64_t next = s.account(account).nonce;
      for (auto it = entries.begin(); it != entries.end();) {
        if (it->first < next) {  // superseded by an included extrinsic with the same nonce
          dropped.emplace_back(it->second.hash, "Stale");
          it = entries.erase(it);
          --m_poolSize;
          continue;
        }
        if (it->first != next || candidates.size() >= m_config.maxBlockExtrinsics) break;
        candidates.push_back(it->second);
        ++next;
        ++it;
      }
    }
  }

  Block block;
  std::map<std::string, Bytes> extra;
  std::vector<XtStatus> included;
  for (const auto& c : candidates) {
    auto valid = m_runtime->validate(c.xt, blk, number);
    if (!valid) {
      dropped.emplace_back(c.hash, valid.error().message());
      continue;
    }
    Outcome out = m_runtime->apply(blk, c.xt, number);
    XtStatus st;
    st.state = XtState::kIncluded;
    st.block = number;
    st.index = static_cast<std::uint32_t>(block.extrinsics.size());
    st.success = out.success;
    st.error = out.error;
    st.detail = out.detail;
    extra[xtKey(c.hash)] = encodeIncluded(st);
    block.extrinsics.push_back(c.encoded);
    block.events.push_back(Event{c.hash, out.success, out.error, out.detail});
    included.push_back(st);
  }

  BlockHeader& h = block.header;
  h.number = number;
  h.parent = m_head.hash();
  h.timestampMs = std::max<std::uint64_t>(static_cast<std::uint64_t>(m_clock.nowUnixMs()), m_head.timestampMs);
  h.extrinsicsRoot = extrinsicsRoot(block.extrinsics);
  h.stateRoot = m_store->stateRootWith(blk);
  signHeader(h, m_author);
  extra[blockKey(number)] = encodeBlock(block);
  extra[std::string(kHeadKey)] = u64Bytes(number);
  MERIT_TRY(m_store->commit(blk, extra));

  std::vector<std::function<void(const Block&)>> listeners;
  {
    std::lock_guard lock(m_mutex);
    m_head = h;
    m_headNumber = number;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      auto& entries = m_pool[candidates[i].xt.signerAccount()];
      if (entries.erase(candidates[i].xt.nonce) > 0) --m_poolSize;
    }
    for (std::size_t i = 0; i < block.events.size(); ++i) recordStatus(block.events[i].extrinsic, included[i]);
    for (const auto& [hash, why] : dropped) {
      XtStatus st;
      st.state = XtState::kDropped;
      st.error = why;
      recordStatus(hash, st);
    }
    for (auto it = m_pool.begin(); it != m_pool.end();) it = it->second.empty() ? m_pool.erase(it) : std::next(it);
    listeners = m_listeners;
  }
  m_changed.notify_all();
  MERIT_LOG_DEBUG(Category::kChain, "block {}: {} extrinsics, {} dropped", number, block.extrinsics.size(),
                  dropped.size());
  for (const auto& l : listeners) l(block);
  return h;
}

void Node::recordStatus(const crypto::Hash256& hash, XtStatus status) {
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

Result<crypto::Hash256> Node::submit(ByteView encoded) {
  auto xt = tx::decodeExtrinsic(encoded);
  if (!xt) return fail(ErrorCode::kInvalidArgument, "Malformed: " + xt.error().message());
  Bytes canonical = tx::encodeExtrinsic(*xt);
  crypto::Hash256 hash = crypto::blake2b256(canonical);
  AccountId account = xt->signerAccount();

  std::uint64_t stateNonce = 0;
  {
    auto snap = readView();  // validation never waits for (or delays) the producer
    Overlay view(*snap.snapshot);
    auto valid = m_runtime->validate(*xt, view, snap.head + 1);
    stateNonce = StateView(view).account(account).nonce;
    if (!valid) {
      if (errorName(valid.error()) != "Future") return fail(valid.error());
      if (xt->nonce - stateNonce > m_config.maxFutureNonceGap) {
        return fail(ErrorCode::kInvalidArgument, "FutureTooFar: nonce " + std::to_string(xt->nonce) +
                                                     " is more than " + std::to_string(m_config.maxFutureNonceGap) +
                                                     " ahead of " + std::to_string(stateNonce));
      }
      // A future nonce still needs a valid signature (validate stops at the nonce check).
      if (auto sig = tx::verifyExtrinsic(*xt, m_genesisHash); !sig) {
        return fail(ErrorCode::kUnauthorized, "BadSignature: " + sig.error().message());
      }
    }
  }

  std::lock_guard lock(m_mutex);
  auto known = m_statuses.find(toHex(hash));
  if (known != m_statuses.end() && known->second.state == XtState::kPending) {
    return fail(ErrorCode::kInvalidArgument, "AlreadyInPool: " + toHex(hash));
  }
  auto& entries = m_pool[account];
  if (entries.count(xt->nonce)) {
    return fail(ErrorCode::kInvalidArgument, "NonceInPool: another extrinsic with nonce " + std::to_string(xt->nonce) +
                                                 " is waiting");
  }
  if (m_poolSize >= m_config.mempoolCapacity) return fail(ErrorCode::kOverloaded, "PoolFull: try again later");
  if (entries.size() >= m_config.mempoolPerAccount) {
    return fail(ErrorCode::kOverloaded, "TooManyFromAccount: " + std::to_string(entries.size()) + " waiting");
  }
  entries.emplace(xt->nonce, PoolEntry{std::move(*xt), std::move(canonical), hash, m_arrivals++});
  ++m_poolSize;
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

void Node::start() {
  if (m_running.exchange(true)) return;
  m_producer = std::thread([this] { producerLoop(); });
}

void Node::stop() {
  if (!m_running.exchange(false)) return;
  {
    std::lock_guard lock(m_stopMutex);
  }
  m_stopCv.notify_all();
  if (m_producer.joinable()) m_producer.join();
}

void Node::producerLoop() {
  auto next = std::chrono::steady_clock::now() + m_config.blockTime;
  while (m_running.load()) {
    {
      std::unique_lock lock(m_stopMutex);
      if (m_stopCv.wait_until(lock, next, [this] { return !m_running.load(); })) break;
    }
    auto produced = produceBlock();
    if (!produced) {
      MERIT_LOG_ERROR(Category::kChain, "block production failed: {}", produced.error().toString());
    }
    next += m_config.blockTime;
    auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + m_config.blockTime;  // fell behind: do not burst to catch up
  }
}

}  // namespace merit::chain
