#include "merit/miner/miner.h"

#include <thread>

#include <zmq.h>

#include "merit/crypto/ss58.h"
#include "merit/rpc/connect.h"
#include "merit/rpc/reconnect.h"
#include "merit/tx/axon_endpoint.h"
#include "merit/util/log.h"

namespace merit::miner {

using log::Category;
using metrics::Histogram;
using metrics::MetricsServer;
using metrics::renderCounter;
using metrics::renderGauge;

struct Miner::HandlerMetrics {
  Histogram batchSize{"merit_miner_batch_size", "Requests per handler batch", {1, 2, 4, 8, 16, 32, 64, 128}};
  Histogram inference{"merit_miner_inference_seconds",
                      "Time the subnet handler took per batch",
                      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};
  std::atomic<std::uint64_t> handled{0};
  std::atomic<std::int64_t> inFlight{0};
};

namespace {

Result<tx::ServeAxon> axonCall(std::uint16_t netuid, const std::string& ip, std::uint16_t port,
                               tx::AxonProtocol protocol, const std::array<std::uint8_t, 32>& curveKey) {
  MERIT_ASSIGN_OR_RETURN(tx::AxonAddress address, tx::AxonAddress::parse(ip, port));
  tx::ServeAxon c{};
  c.netuid = netuid;
  c.version = 1;
  c.ip = address.ip;
  c.ipType = static_cast<std::uint8_t>(address.ipType);
  c.port = address.port;
  c.protocol = static_cast<std::uint8_t>(protocol);
  c.curveKey = curveKey;
  return c;
}

}  // namespace

Miner::Miner(MinerConfig config, crypto::AnyPrivateKey hotkey, crypto::AnyPublicKey owner,
             ColdkeyLoader coldkey)
    : m_config(std::move(config)),
      m_hotkey(std::move(hotkey)),
      m_owner(owner),
      m_coldkey(std::move(coldkey)),
      m_handlerMetrics(std::make_shared<HandlerMetrics>()) {}

Miner::~Miner() {
  if (m_axon) m_axon->stop();
  if (m_cache) m_cache->stop();
}

const std::string& Miner::axonEndpoint() const {
  return m_axon->endpoint();
}

Result<void> Miner::checkOwner(const rpc::NeuronInfo& me) const {
  if (me.coldkey == m_owner.accountId()) return {};
  return fail(ErrorCode::kUnauthorized,
              "hotkey " + m_hotkey.publicKey().ss58Address() + " is registered on subnet " +
                  std::to_string(m_config.netuid) + " (uid " + std::to_string(me.uid) + ") under coldkey " +
                  crypto::ss58Encode(me.coldkey) + ", not under wallet '" + m_config.wallet + "' (coldkey " +
                  m_owner.ss58Address() + "); refusing to serve: its rewards would go to that coldkey");
}

Result<void> Miner::ensureRegistered() {
  auto account = m_hotkey.publicKey().accountId();
  if (const auto* me = m_cache->current()->byHotkey(account)) return checkOwner(*me);
  std::string command = "merit register --netuid " + std::to_string(m_config.netuid) + " -w " +
                        m_config.wallet + " -k " + m_config.hotkey;
  if (!m_config.autoRegister) {
    return fail(ErrorCode::kNotFound, "hotkey " + m_hotkey.publicKey().ss58Address() +
                                          " is not registered on subnet " + std::to_string(m_config.netuid) +
                                          ". Register it with:\n  " + command +
                                          "\nor start with --auto-register");
  }
  auto unlocked = m_coldkey();
  if (!unlocked) {
    // Not kUnauthorized: that code means "registered under another coldkey" to merit-miner.
    return fail(ErrorCode::kInvalidArgument,
                "cannot unlock the coldkey to register: " + unlocked.error().message());
  }
  crypto::AnyPrivateKey coldkey = std::move(*unlocked);
  if (coldkey.publicKey() != m_owner) {
    return fail(ErrorCode::kInvalidArgument,
                "the coldkey of wallet '" + m_config.wallet + "' does not match its coldkeypub.txt");
  }
  MERIT_LOG_INFO(Category::kMiner, "registering {} on subnet {}", m_hotkey.publicKey().ss58Address(),
                 m_config.netuid);
  MERIT_ASSIGN_OR_RETURN(
      rpc::Submission sub,
      m_client->submit(coldkey, tx::BurnedRegister{m_config.netuid, m_hotkey.publicKey()}));
  if (!sub.included || !sub.success) {
    return fail(ErrorCode::kUnavailable,
                "registration failed: " + (sub.error ? sub.errorText() : "not included in time"));
  }
  // Wait for the cache to see it.
  for (int i = 0; i < 100 && m_cache->current()->byHotkey(account) == nullptr; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (m_cache->current()->byHotkey(account) == nullptr) {
    MERIT_ASSIGN_OR_RETURN(rpc::Metagraph mg, rpc::fetchMetagraph(*m_client, m_config.netuid));
    if (mg.byHotkey(account) == nullptr)
      return fail(ErrorCode::kUnavailable, "registered, but not in the metagraph");
  }
  return {};
}

Result<void> Miner::serveAxonIfChanged() {
  auto bound = tx::parseTcpEndpoint(m_axon->endpoint());
  if (!bound) return fail(ErrorCode::kInternal, "cannot parse the axon endpoint: " + bound.error().message());
  std::uint16_t port = bound->port;
  std::string ip = m_config.externalIp.empty() ? bound->host : m_config.externalIp;
  if (m_config.externalPort != 0) port = m_config.externalPort;
  if (ip == "0.0.0.0" || ip == "*" || ip == "::") {
    return fail(ErrorCode::kInvalidArgument, "the axon binds every interface (" + m_axon->endpoint() +
                                                 "): set external_ip to the address validators should use");
  }
  const tx::AxonProtocol protocol = m_config.shield  ? tx::AxonProtocol::kCurveShield
                                    : m_config.curve ? tx::AxonProtocol::kCurve
                                                     : tx::AxonProtocol::kPlain;
  MERIT_ASSIGN_OR_RETURN(tx::ServeAxon call, axonCall(m_config.netuid, ip, port, protocol, m_curvePublic));
  const auto* me = m_cache->current()->byHotkey(m_hotkey.publicKey().accountId());
  if (me != nullptr && me->axon && me->axon->ip == ip && me->axon->port == port &&
      me->axon->protocol == call.protocol &&
      std::equal(me->axon->curveKey.begin(), me->axon->curveKey.end(),
                 reinterpret_cast<const std::byte*>(m_curvePublic.data()))) {
    MERIT_LOG_INFO(Category::kMiner, "axon {}:{} already on chain", ip, port);
    return {};
  }
  MERIT_ASSIGN_OR_RETURN(rpc::Submission sub, m_client->submit(m_hotkey, call));
  if (!sub.included || !sub.success) {
    return fail(ErrorCode::kUnavailable,
                "serve_axon failed: " + (sub.error ? sub.errorText() : "not included in time"));
  }
  MERIT_LOG_INFO(Category::kMiner, "serving {}:{} on subnet {} (block {})", ip, port, m_config.netuid,
                 sub.block);
  return {};
}

void Miner::updateShield(const rpc::Metagraph& metagraph) {
  std::vector<crypto::PublicKey> validators;
  for (const auto& n : metagraph.neurons) {
    if (!n.validatorPermit || n.stake < m_config.policy.minStake) continue;
    if (n.hotkeyPublicKey && n.hotkeyPublicKey->ecdsa() != nullptr)
      validators.push_back(*n.hotkeyPublicKey->ecdsa());
  }
  m_shield->update(validators);
}

Result<std::unique_ptr<Miner>> Miner::start(MinerConfig config, crypto::AnyPrivateKey hotkey,
                                            crypto::AnyPublicKey owner,
                                            std::vector<net::ModuleHandler> modules, ColdkeyLoader coldkey,
                                            const std::atomic<bool>* stop, ExtraMetrics extraMetrics) {
  if (config.shield) config.curve = true;  // shield mode is a CurveZMQ mode
  std::unique_ptr<Miner> m(new Miner(std::move(config), std::move(hotkey), owner, std::move(coldkey)));
  m->m_extraMetrics = std::move(extraMetrics);
  const MinerConfig& c = m->m_config;
  MERIT_ASSIGN_OR_RETURN(rpc::ChainEndpoint endpoint, rpc::makeEndpoint(c.chain, c.chainUrl));
  const std::string& url = endpoint.url;

  // The chain may not be up yet (or be restarting): wait for it, however long, until stopped.
  rpc::MetagraphCache::Options cacheOptions;
  cacheOptions.minRefreshInterval = c.metagraphRefresh;
  Miner* self = m.get();
  auto connected = rpc::retryChain<bool>(url, Category::kMiner, {}, stop, [&]() -> Result<bool> {
    MERIT_ASSIGN_OR_RETURN(self->m_client, rpc::connectChain(endpoint));
    MERIT_ASSIGN_OR_RETURN(auto own, rpc::connectChain(endpoint));
    MERIT_ASSIGN_OR_RETURN(self->m_cache, rpc::MetagraphCache::start(std::move(own), c.netuid, cacheOptions));
    return true;
  });
  if (!connected) return fail(connected.error());
  auto registered = rpc::retryChain<bool>(url, Category::kMiner, {}, stop, [&]() -> Result<bool> {
    return self->ensureRegistered().map([] { return true; });
  });
  if (!registered) return fail(registered.error());

  m->m_policy = std::make_shared<MetagraphCallerPolicy>(c.netuid, c.policy);
  m->m_policy->update(*m->m_cache->current());

  net::AxonConfig ac;
  ac.bindEndpoint = c.bind;
  ac.workerThreads = c.workers;
  ac.maxBatchSize = c.maxBatchSize;
  ac.maxBatchWait = c.maxBatchWait;
  ac.queueCapacity = c.queueCapacity;
  ac.rateLimitPerSecond = c.ratePerSecond;
  ac.rateLimitBurst = c.ratePerSecond * 2;
  ac.maxConnections = c.maxConnections;
  ac.maxConnectionsPerAddress = c.maxConnectionsPerAddress;
  if (c.curve) {
    char pub[41], sec[41];
    if (zmq_curve_keypair(pub, sec) != 0)
      return fail(ErrorCode::kInternal, "CurveZMQ is not available in libzmq");
    ByteArray<32> secret;
    zmq_z85_decode(reinterpret_cast<std::uint8_t*>(secret.data()), sec);
    zmq_z85_decode(m->m_curvePublic.data(), pub);
    ac.curveSecretKey = secret;
  }
  if (c.shield) {
    if (m->m_hotkey.ecdsa() == nullptr) {
      return fail(ErrorCode::kInvalidArgument,
                  "shield mode derives its CURVE keys by ECDH of ecdsa hotkeys; this miner's hotkey is " +
                      std::string(crypto::schemeName(m->m_hotkey.scheme())) + " (turn shield off)");
    }
    m->m_shield = std::make_shared<net::ShieldAllowlist>(
        crypto::PrivateKey::fromBytes(m->m_hotkey.ecdsa()->revealSecret()).value());
    m->updateShield(*m->m_cache->current());
    ac.curveClientAuthorizer = net::ShieldAllowlist::authorizer(m->m_shield);
    MERIT_LOG_INFO(Category::kMiner, "shield mode: admitting the CURVE keys of {} validators",
                   m->m_shield->size());
  }
  // Wrap handlers to measure batches and inference time.
  auto metrics = m->m_handlerMetrics;
  for (auto& mod : modules) {
    net::BatchHandler inner = std::move(mod.handler);
    mod.handler = [inner, metrics](std::span<const wire::Request> batch) {
      metrics->batchSize.observe(static_cast<double>(batch.size()));
      metrics->inFlight += static_cast<std::int64_t>(batch.size());
      auto t0 = std::chrono::steady_clock::now();
      struct Done {
        HandlerMetrics& m;
        std::size_t n;
        std::chrono::steady_clock::time_point t0;
        ~Done() {
          m.inference.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
          m.inFlight -= static_cast<std::int64_t>(n);
          m.handled += n;
        }
      } done{*metrics, batch.size(), t0};
      return inner(batch);
    };
  }
  MERIT_ASSIGN_OR_RETURN(m->m_axon, net::Axon::start(ac, m->m_hotkey.clone(), m->m_policy, std::move(modules),
                                                     std::make_shared<SystemClock>()));
  auto served = rpc::retryChain<bool>(url, Category::kMiner, {}, stop, [&]() -> Result<bool> {
    return self->serveAxonIfChanged().map([] { return true; });
  });
  if (!served) return fail(served.error());
  if (c.metricsPort >= 0) {
    MERIT_ASSIGN_OR_RETURN(m->m_metrics, MetricsServer::start(c.metricsHost, c.metricsPort,
                                                              [self] { return self->renderMetrics(); }));
  }
  return m;
}

std::string Miner::renderMetrics() const {
  static constexpr const char* kStatusNames[] = {"ok",        "bad_request",  "unauthorized", "forbidden",
                                                 "not_found", "rate_limited", "stale",        "overloaded",
                                                 "timeout",   "internal"};
  std::string out;
  auto stats = m_axon->stats();
  std::vector<std::pair<std::string, std::uint64_t>> byStatus;
  for (std::size_t i = 0; i < stats.responses.size(); ++i)
    byStatus.emplace_back(kStatusNames[i], stats.responses[i]);
  renderCounter(out, "merit_miner_responses_total", "Responses sent, by status", byStatus, "status");
  m_handlerMetrics->batchSize.render(out);
  m_handlerMetrics->inference.render(out);
  // Admission to response, from the axon.
  out +=
      "# HELP merit_miner_request_seconds Time from admission to response\n# TYPE "
      "merit_miner_request_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < net::kServiceTimeBucketsMs.size(); ++b) {
    cumulative += stats.serviceTimeBuckets[b];
    out += "merit_miner_request_seconds_bucket{le=\"" +
           std::to_string(net::kServiceTimeBucketsMs[b] / 1000.0) + "\"} " + std::to_string(cumulative) +
           "\n";
  }
  cumulative += stats.serviceTimeBuckets.back();
  out += "merit_miner_request_seconds_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += "merit_miner_request_seconds_sum " + std::to_string(stats.serviceTimeSumMs / 1000.0) + "\n";
  out += "merit_miner_request_seconds_count " + std::to_string(stats.serviceTimeCount) + "\n";
  renderGauge(out, "merit_miner_queue_depth", "Requests admitted and waiting for a worker",
              static_cast<double>(stats.queueDepth));
  renderGauge(out, "merit_miner_requests_in_handler", "Requests currently being handled",
              static_cast<double>(m_handlerMetrics->inFlight.load()));
  renderGauge(out, "merit_miner_handler_batches_total", "Handler batches run",
              static_cast<double>(stats.handlerBatches));
  renderGauge(out, "merit_miner_sessions_opened_total", "Session handshakes accepted",
              static_cast<double>(stats.sessionsOpened));
  renderGauge(out, "merit_miner_shield_refused_total", "CurveZMQ handshakes refused by shield mode",
              static_cast<double>(stats.curveClientsRefused));
  auto mg = m_cache->current();
  renderGauge(out, "merit_miner_metagraph_block", "Block of the metagraph snapshot in use",
              static_cast<double>(mg->block));
  if (m_extraMetrics) m_extraMetrics(out);
  return out;
}

int Miner::run() {
  std::uint64_t seen = m_cache->refreshCount();
  bool warnedStale = false;
  while (!m_stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (m_cache->stale() != warnedStale) {
      warnedStale = m_cache->stale();
      if (warnedStale)
        MERIT_LOG_WARN(Category::kMiner,
                       "no new block from the chain for a while; serving with the last metagraph");
    }
    std::uint64_t now = m_cache->refreshCount();
    if (now == seen) continue;
    seen = now;
    auto mg = m_cache->current();
    m_policy->update(*mg);
    if (m_shield) updateShield(*mg);
    if (const auto* me = mg->byHotkey(m_hotkey.publicKey().accountId())) {
      if (auto owned = checkOwner(*me); !owned) {
        MERIT_LOG_ERROR(Category::kMiner, "{}", owned.error().message());
        m_axon->stop();
        return kExitNotOwned;
      }
    } else {
      MERIT_LOG_ERROR(Category::kMiner, "DEREGISTERED: hotkey {} is no longer on subnet {} (block {})",
                      m_hotkey.publicKey().ss58Address(), m_config.netuid, mg->block);
      if (!m_config.autoRegister) {
        m_axon->stop();
        return kExitDeregistered;
      }
      if (auto r = ensureRegistered(); !r) {
        MERIT_LOG_ERROR(Category::kMiner, "re-registration failed: {}", r.error().message());
        m_axon->stop();
        return kExitDeregistered;
      }
      if (auto s = serveAxonIfChanged(); !s)
        MERIT_LOG_ERROR(Category::kMiner, "serve_axon failed: {}", s.error().message());
    }
  }
  m_axon->stop();
  return 0;
}

}  // namespace merit::miner
