#include "merit/rpc/metagraph.h"

#include <algorithm>

#include "merit/crypto/ss58.h"
#include "merit/rpc/block_feed.h"
#include "merit/util/log.h"

#include "metagraph_json.h"

namespace merit::rpc {

using nlohmann::json;

namespace {

std::int64_t nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// A parse failure, caught in parseMetagraph.
struct Bad {
  std::string what;
};

const json& field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw Bad{std::string("missing '") + key + "'"};
  return *it;
}

std::uint64_t u64(const json& j, const char* key) {
  const json& v = field(j, key);
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<std::int64_t>() < 0)) {
    throw Bad{std::string("'") + key + "' is not a non-negative integer"};
  }
  return v.get<std::uint64_t>();
}

template <std::size_t N>
ByteArray<N> hexField(const json& j, const char* key) {
  const json& v = field(j, key);
  if (!v.is_string()) throw Bad{std::string("'") + key + "' is not a string"};
  auto b = fromHexFixed<N>(v.get<std::string>());
  if (!b) throw Bad{std::string("'") + key + "': " + b.error().message()};
  return *b;
}

tx::AccountId address(const json& j, const char* key) {
  const json& v = field(j, key);
  if (!v.is_string()) throw Bad{std::string("'") + key + "' is not a string"};
  auto id = crypto::ss58Decode(v.get<std::string>());
  if (!id) throw Bad{std::string("'") + key + "': " + id.error().message()};
  return *id;
}

// "hotkey_public_key" under "hotkey_scheme" (absent: ecdsa, as nodes before sr25519 wrote it). A
// key that is not a valid point of its scheme reads as unknown: that neuron cannot be dialled,
// but the rest of the metagraph stays usable.
std::optional<crypto::AnyPublicKey> publicKey(const json& j) {
  auto it = j.find("hotkey_public_key");
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw Bad{"'hotkey_public_key' is not a string"};
  crypto::KeyScheme scheme = crypto::KeyScheme::kEcdsa;
  if (auto s = j.find("hotkey_scheme"); s != j.end()) {
    if (!s->is_string()) throw Bad{"'hotkey_scheme' is not a string"};
    auto parsed = crypto::parseScheme(s->get<std::string>());
    if (!parsed) throw Bad{"'hotkey_scheme': " + parsed.error().message()};
    scheme = *parsed;
  }
  auto bytes = fromHex(it->get<std::string>());
  if (!bytes) throw Bad{"'hotkey_public_key': " + bytes.error().message()};
  auto key = crypto::AnyPublicKey::fromBytes(scheme, *bytes);
  if (!key) return std::nullopt;
  return *key;
}

}  // namespace

const NeuronInfo* Metagraph::byHotkey(const tx::AccountId& hotkey) const {
  for (const auto& n : neurons) {
    if (n.hotkey == hotkey) return &n;
  }
  return nullptr;
}

Result<Metagraph> parseMetagraph(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return fail(ErrorCode::kInvalidArgument, "malformed metagraph: not JSON");
  return parseMetagraphJson(j);
}

Result<Metagraph> parseMetagraphJson(const json& j) {
  try {
    if (!j.is_object()) throw Bad{"not an object"};
    Metagraph m;
    m.netuid = static_cast<tx::NetUid>(u64(j, "netuid"));
    m.block = u64(j, "block");
    m.tempo = u64(j, "tempo");
    m.blocksUntilNextEpoch = u64(j, "blocks_until_next_epoch");
    if (auto h = j.find("hyperparameters"); h != j.end()) {
      if (!h->is_object()) throw Bad{"'hyperparameters' is not an object"};
      for (const auto& [name, value] : h->items()) {
        auto set = m.params.set(name, u64(*h, name.c_str()));
        if (!set) throw Bad{set.error().message()};
      }
    }
    const json& neurons = field(j, "neurons");
    if (!neurons.is_array()) throw Bad{"'neurons' is not an array"};
    for (const auto& nj : neurons) {
      NeuronInfo n;
      n.uid = static_cast<std::uint16_t>(u64(nj, "uid"));
      n.hotkey = address(nj, "hotkey");
      n.hotkeyPublicKey = publicKey(nj);
      n.coldkey = address(nj, "coldkey");
      n.stake = u64(nj, "stake");
      n.active = field(nj, "active").get<bool>();
      n.validatorPermit = field(nj, "validator_permit").get<bool>();
      n.consensus = static_cast<std::uint16_t>(u64(nj, "consensus"));
      n.incentive = static_cast<std::uint16_t>(u64(nj, "incentive"));
      n.dividends = static_cast<std::uint16_t>(u64(nj, "dividends"));
      n.validatorTrust = static_cast<std::uint16_t>(u64(nj, "validator_trust"));
      n.emission = u64(nj, "emission");
      n.lastUpdate = u64(nj, "last_update");
      n.blockAtRegistration = u64(nj, "block_at_registration");
      const json& axon = field(nj, "axon");
      if (!axon.is_null()) {
        AxonEndpoint a;
        const json& ip = field(axon, "ip");
        if (!ip.is_string()) throw Bad{"axon 'ip' is not a string"};
        a.ip = ip.get<std::string>();
        a.port = static_cast<std::uint16_t>(u64(axon, "port"));
        a.ipType = static_cast<std::uint8_t>(u64(axon, "ip_type"));
        a.protocol = static_cast<std::uint8_t>(u64(axon, "protocol"));
        a.curveKey = hexField<32>(axon, "curve_key");
        a.block = u64(axon, "block");
        n.axon = a;
      }
      if (n.uid != m.neurons.size()) throw Bad{"neurons out of uid order"};
      m.neurons.push_back(std::move(n));
    }
    return m;
  } catch (const Bad& b) {
    return fail(ErrorCode::kInvalidArgument, "malformed metagraph: " + b.what);
  } catch (const json::exception& e) {
    return fail(ErrorCode::kInvalidArgument, std::string("malformed metagraph: ") + e.what());
  }
}

Result<Metagraph> fetchMetagraph(Chain& client, tx::NetUid netuid) {
  return client.metagraph(netuid);
}

MetagraphCache::MetagraphCache(std::unique_ptr<Chain> client, tx::NetUid netuid, Options options)
    : m_client(std::move(client)), m_netuid(netuid), m_options(options) {}

Result<std::unique_ptr<MetagraphCache>> MetagraphCache::start(const std::string& url, tx::NetUid netuid,
                                                              Options options) {
  MERIT_ASSIGN_OR_RETURN(auto client, ChainClient::connect(url, options.client));
  return start(std::move(client), netuid, options);
}

Result<std::unique_ptr<MetagraphCache>> MetagraphCache::start(std::unique_ptr<Chain> client,
                                                              tx::NetUid netuid, Options options) {
  MERIT_ASSIGN_OR_RETURN(ChainInfo info, client->info());
  MERIT_ASSIGN_OR_RETURN(Metagraph first, fetchMetagraph(*client, netuid));
  std::string url = client->url();
  std::unique_ptr<MetagraphCache> cache(new MetagraphCache(std::move(client), netuid, options));
  cache->m_url = url;
  cache->m_devChain = info.dev;
  cache->m_blockTime = info.blockTime;
  // Without a feed the head is polled once per block time; a long block time (12 s on a
  // Substrate chain) is polled every second so a new block is seen within a second of it.
  if (info.feedEndpoint.empty() && cache->m_blockTime > std::chrono::milliseconds(1000)) {
    cache->m_pollEvery = std::chrono::milliseconds(1000);
  }
  cache->m_current = std::make_shared<const Metagraph>(std::move(first));
  cache->m_lastNewBlockMs = nowMs();
  cache->m_thread = std::thread([c = cache.get(), feed = info.feedEndpoint] { c->run(feed); });
  return cache;
}

MetagraphCache::~MetagraphCache() {
  stop();
}

void MetagraphCache::stop() {
  m_running = false;
  if (m_thread.joinable()) m_thread.join();
}

std::shared_ptr<const Metagraph> MetagraphCache::current() const {
  std::lock_guard lock(m_mutex);
  return m_current;
}

bool MetagraphCache::stale() const {
  return nowMs() - m_lastNewBlockMs.load() > m_options.staleAfter.count();
}

bool MetagraphCache::refresh(std::string& why) {
  ++m_fetches;
  auto m = fetchMetagraph(*m_client, m_netuid);
  if (!m) {
    why = m.error().message();
    return false;
  }
  std::uint64_t previous = current()->block;
  if (m->block > previous) m_lastNewBlockMs = nowMs();
  {
    std::lock_guard lock(m_mutex);
    m_current = std::make_shared<const Metagraph>(std::move(*m));
  }
  ++m_refreshes;
  return true;
}

void MetagraphCache::run(std::string feedEndpoint) {
  using Clock = std::chrono::steady_clock;
  BlockFeed feed(feedEndpoint);
  if (!feed.connected() && !feed.error().empty()) {
    MERIT_LOG_WARN(log::Category::kRpc, "cannot subscribe to the block feed {}: {}; polling instead",
                   feedEndpoint, feed.error());
  }
  const auto blockTime = m_pollEvery.count() > 0   ? m_pollEvery
                         : m_blockTime.count() > 0 ? m_blockTime
                                                   : std::chrono::milliseconds(1000);
  // How long the feed may be silent before the head is polled over RPC (see Options).
  const auto silence = feed.connected() ? std::max(m_options.pollInterval, 3 * blockTime)
                                        : std::max(blockTime, std::chrono::milliseconds(100));
  Backoff backoff(m_options.retry);
  bool down = false;                // the last RPC failed: wait for nextAttempt
  Clock::time_point nextAttempt{};  // while down: earliest next RPC
  bool pending = false;             // a newer block is known than the one we hold
  auto lastHeard = Clock::now();    // last time a block was announced or polled
  auto lastAnnounce = lastHeard;    // last feed message
  Clock::time_point lastFetch{};
  auto failed = [&](const std::string& why) {
    auto delay = backoff.nextMs();
    nextAttempt = Clock::now() + delay;  // from the end of the failed call, which took a while
    down = true;
    MERIT_LOG_WARN(log::Category::kRpc, "chain unreachable at {} ({}); retrying in {:.1f}s", m_url, why,
                   static_cast<double>(delay.count()) / 1000.0);
  };
  while (m_running.load()) {
    if (feed.waitNewest(std::chrono::milliseconds(100))) {
      const auto at = Clock::now();
      // A feed that comes back after a silence is a restarted node: try now rather than at the
      // end of the backoff. A feed that never stopped while the RPC fails (an overloaded or
      // restarting RPC server) does not cut the backoff short: no retry per block.
      if (down && at - lastAnnounce >= silence) nextAttempt = at;
      pending = true;
      lastHeard = at;
      lastAnnounce = at;
    }
    auto now = Clock::now();
    if (down && now < nextAttempt) continue;
    if (!pending && (down || now - lastHeard >= silence)) {
      // Fallback: the feed may have dropped a message, the node restarted, or there is no feed.
      ++m_headPolls;
      auto head = m_client->headNumber();
      lastHeard = now;
      if (!head) {
        failed(head.error().message());
        continue;
      }
      pending = *head > current()->block;
      if (!pending && down) {
        down = false;
        backoff.reset();
        MERIT_LOG_INFO(log::Category::kRpc, "chain at {} reachable again", m_url);
      }
    }
    if (!pending || now - lastFetch < m_options.minRefreshInterval) continue;
    std::string why;
    if (!refresh(why)) {
      failed(why);
      continue;
    }
    if (down) MERIT_LOG_INFO(log::Category::kRpc, "chain at {} reachable again", m_url);
    down = false;
    backoff.reset();
    pending = false;
    lastFetch = now;
    lastHeard = now;
  }
}

}  // namespace merit::rpc
