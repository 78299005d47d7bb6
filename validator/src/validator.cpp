#include "merit/validator/validator.h"

#include <algorithm>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "merit/crypto/ss58.h"
#include "merit/rpc/connect.h"
#include "merit/rpc/reconnect.h"
#include "merit/util/ip_address.h"
#include "merit/util/log.h"

namespace merit::validator {

using log::Category;

Validator::Validator(ValidatorConfig config, crypto::AnyPrivateKey hotkey, std::unique_ptr<Task> task)
    : m_config(std::move(config)), m_hotkey(std::move(hotkey)), m_task(std::move(task)) {}

Validator::~Validator() {
  {
    std::lock_guard lock(m_weightsMutex);
    m_weightsStop = true;
  }
  m_weightsCv.notify_all();
  if (m_weightsThread.joinable()) m_weightsThread.join();
  if (m_cache) m_cache->stop();
}

ValidatorState Validator::state() const {
  std::lock_guard lock(m_stateMutex);
  return m_state;
}

void Validator::postWeights(std::shared_ptr<const rpc::Metagraph> mg, std::vector<double> scores) {
  {
    std::lock_guard lock(m_weightsMutex);
    if (m_weightsBusy) return;  // a submission is under way: it will look again when done
    m_weightsMetagraph = std::move(mg);
    m_weightsScores = std::move(scores);
  }
  m_weightsCv.notify_all();
}

void Validator::weightsLoop() {
  while (true) {
    std::shared_ptr<const rpc::Metagraph> mg;
    std::vector<double> scores;
    {
      std::unique_lock lock(m_weightsMutex);
      m_weightsCv.wait(lock, [&] { return m_weightsStop || m_weightsMetagraph != nullptr; });
      if (m_weightsStop) return;
      mg = std::move(m_weightsMetagraph);
      m_weightsMetagraph = nullptr;
      scores = std::move(m_weightsScores);
      m_weightsBusy = true;
    }
    // The setter reads and updates only the commit part of the state; work on a copy so the
    // query loop can save the state meanwhile.
    ValidatorState s = state();
    WeightOutcome out = m_setter->step(*mg, scores, s);
    {
      std::lock_guard lock(m_stateMutex);
      m_state.pendingCommits = std::move(s.pendingCommits);
      m_state.lastWeightsBlock = s.lastWeightsBlock;
    }
    std::lock_guard lock(m_weightsMutex);
    m_weightsBusy = false;
    if (out.kind != WeightOutcome::Kind::kNotDue || !m_weightsDone) m_weightsDone = std::move(out);
  }
}

Result<std::unique_ptr<Validator>> Validator::start(ValidatorConfig config, crypto::AnyPrivateKey hotkey,
                                                    std::unique_ptr<Task> task,
                                                    const std::atomic<bool>* stop) {
  if (!config.clock) config.clock = std::make_shared<SystemClock>();
  std::unique_ptr<Validator> v(new Validator(std::move(config), std::move(hotkey), std::move(task)));
  const auto& c = v->m_config;
  MERIT_ASSIGN_OR_RETURN(rpc::ChainEndpoint endpoint, rpc::makeEndpoint(c.chain, c.chainUrl));
  const std::string& url = endpoint.url;
  // The chain may not be up yet (or be restarting): wait for it, however long, until stopped.
  Validator* self = v.get();
  auto connected = rpc::retryChain<bool>(url, Category::kValidator, {}, stop, [&]() -> Result<bool> {
    MERIT_ASSIGN_OR_RETURN(self->m_client, rpc::connectChain(endpoint));
    MERIT_ASSIGN_OR_RETURN(auto own, rpc::connectChain(endpoint));
    MERIT_ASSIGN_OR_RETURN(
        self->m_cache, rpc::MetagraphCache::start(std::move(own), c.netuid, rpc::MetagraphCache::Options{}));
    return true;
  });
  if (!connected) return fail(connected.error());
  if (!v->m_cache->devChain()) {
    MERIT_LOG_INFO(
        Category::kValidator,
        "the chain is not in dev mode: miners advertising unspecified, loopback or link-local addresses "
        "are not dialled and score 0");
  }
  auto me = v->m_hotkey.publicKey().accountId();
  if (v->m_cache->current()->byHotkey(me) == nullptr) {
    return fail(ErrorCode::kNotFound, "hotkey " + v->m_hotkey.publicKey().ss58Address() +
                                          " is not registered on subnet " + std::to_string(c.netuid) +
                                          " (register it with: merit register --netuid " +
                                          std::to_string(c.netuid) + " -w WALLET -k HOTKEY)");
  }
  // Reload scores so a restart keeps validator trust; a state of another key or subnet is refused.
  v->m_state.netuid = c.netuid;
  v->m_state.hotkey = me;
  if (!c.stateFile.empty()) {
    auto loaded = loadState(c.stateFile);
    if (loaded) {
      if (loaded->hotkey != me || loaded->netuid != c.netuid) {
        return fail(ErrorCode::kInvalidArgument,
                    "state file " + c.stateFile + " belongs to another hotkey or subnet");
      }
      v->m_state = std::move(*loaded);
      v->m_scores.restore(v->m_state.scores);
      MERIT_LOG_INFO(Category::kValidator, "resumed {} scores after {} steps from {}",
                     v->m_state.scores.size(), v->m_state.steps, c.stateFile);
    } else if (loaded.error().code() != ErrorCode::kNotFound) {
      return fail(loaded.error());
    }
  }
  net::DendriteConfig dc;
  dc.mode = c.authMode;
  MERIT_ASSIGN_OR_RETURN(v->m_dendrite, net::Dendrite::create(v->m_hotkey.clone(), dc, c.clock));
  v->m_setter = std::make_unique<WeightSetter>(*v->m_client, v->m_hotkey, c.netuid, c.weights);
  v->m_weightsThread = std::thread([self] { self->weightsLoop(); });
  std::uint64_t seed = c.seed;
  if (seed == 0) seed = std::random_device{}();
  v->m_sampler = std::make_unique<MinerSampler>(seed);
  if (c.metricsPort >= 0) {
    MERIT_ASSIGN_OR_RETURN(v->m_metricsServer,
                           metrics::MetricsServer::start(c.metricsHost, c.metricsPort,
                                                         [self] { return self->renderMetrics(); }));
  }
  return v;
}

Result<StepReport> Validator::step() {
  // One build of the subnet for the whole step (challenges and their scores).
  m_task->beginStep();
  struct EndStep {
    Task& task;
    ~EndStep() { task.endStep(); }
  } endStep{*m_task};
  StepReport report;
  auto mg = m_cache->current();
  report.block = mg->block;
  const auto me = m_hotkey.publicKey().accountId();

  std::vector<crypto::AccountId> hotkeys;
  for (const auto& n : mg->neurons) hotkeys.push_back(n.hotkey);
  m_scores.sync(hotkeys);

  // Who to ask: serving miners, not ourselves, not validators above the stake limit.
  std::vector<std::uint16_t> eligible;
  for (const auto& n : mg->neurons) {
    if (n.hotkey == me || !n.axon || n.axon->port == 0) continue;
    if (m_config.validatorStakeLimit > 0 && n.validatorPermit && n.stake > m_config.validatorStakeLimit)
      continue;
    eligible.push_back(n.uid);
  }
  auto sample = m_sampler->next(eligible, m_config.sampleSize);

  std::vector<net::AxonTarget> targets;
  std::vector<net::OutboundRequest> requests;
  std::vector<Bytes> expectations;
  std::vector<std::uint16_t> uids;
  for (auto uid : sample) {
    const auto& n = mg->neurons[uid];
    if (!n.hotkeyPublicKey) continue;                      // the chain gave no public key to address it by
    const crypto::AnyPublicKey& pub = *n.hotkeyPublicKey;  // sr25519 or ecdsa
    // An address no remote validator could reach is the miner's fault (misconfigured, or aiming
    // validators at their own host's services): outside dev chains it is never dialled.
    const auto scope = classifyAddress(n.axon->ip);
    if (!m_cache->devChain() && (!scope || isHostLocal(*scope))) {
      MERIT_LOG_RATE_LIMITED(
          Category::kValidator, log::Level::kWarn,
          "not dialling uid {}: it advertises {} address {}:{} and the chain is not in dev mode; "
          "scored 0",
          uid, scope ? addressScopeName(*scope) : std::string_view("unparseable"), n.axon->ip, n.axon->port);
      ++report.unreachable;
      m_scores.observe(uid, n.hotkey, 0, m_config.emaAlpha);
      continue;
    }
    auto challenge = m_task->makeChallenge();
    if (!challenge) {
      MERIT_LOG_RATE_LIMITED(Category::kValidator, log::Level::kWarn, "cannot make a challenge: {}",
                             challenge.error().message());
      continue;
    }
    net::AxonTarget t{n.axon->dialEndpoint(), pub, std::nullopt};
    // CurveZMQ dials with the axon's key; in shield mode our client key is derived from both
    // hotkeys (docs/PROTOCOL.md "Shield mode").
    if (n.axon->usesCurve()) t.curvePublicKey = n.axon->curveKey;
    t.shield = n.axon->shield();
    targets.push_back(std::move(t));
    requests.push_back(net::OutboundRequest{m_config.netuid, m_task->module(), m_task->version(),
                                            std::move(challenge->request)});
    expectations.push_back(std::move(challenge->expectation));
    uids.push_back(uid);
  }
  report.queried = targets.size();
  if (!targets.empty()) {
    auto deadline = std::chrono::steady_clock::now() + m_config.queryTimeout;
    auto results = m_dendrite->query(targets, requests, deadline);
    const double timeout = std::chrono::duration<double>(m_config.queryTimeout).count();
    std::vector<double> latenciesMs;
    double qualitySum = 0;
    std::size_t qualityCount = 0;
    for (const auto& r : results) {
      std::uint16_t uid = uids[r.index];
      MERIT_LOG_DEBUG(Category::kValidator, "uid {}: status {} ({}), authenticated {}, {} us", uid,
                      static_cast<int>(r.status), r.message, r.authenticated,
                      std::chrono::duration_cast<std::chrono::microseconds>(r.latency).count());
      const Measurement measured = classify(r, m_config.queryTimeout);
      if (measured == Measurement::kOurFailure || measured == Measurement::kUnmeasured) {
        // Could not measure: leave the average alone, within limits for what the miner reports.
        auto& [hotkey, count] = m_unmeasured[uid];
        if (hotkey != mg->neurons[uid].hotkey) {
          hotkey = mg->neurons[uid].hotkey;
          count = 0;
        }
        if (measured == Measurement::kOurFailure || ++count <= m_config.maxConsecutiveUnmeasured) {
          ++report.unmeasured;
          continue;
        }
      } else {
        m_unmeasured.erase(uid);
      }
      double s = 0;  // failures, timeouts and unauthenticated answers score 0
      if (measured == Measurement::kAnswered) {
        ++report.answered;
        latenciesMs.push_back(std::chrono::duration<double, std::milli>(r.latency).count());
        m_latency.observe(std::chrono::duration<double>(r.latency).count());
        auto q = m_task->score(expectations[r.index], r.body);
        if (q) {
          qualitySum += *q;
          ++qualityCount;
        }
        if (!q) {
          MERIT_LOG_RATE_LIMITED(Category::kValidator, log::Level::kWarn, "cannot score uid {}: {}", uid,
                                 q.error().message());
          continue;  // our failure: leave the miner's average alone
        }
        s = *q * latencyFactor(std::chrono::duration<double>(r.latency).count(), timeout, m_config.latency);
      }
      m_scores.observe(uid, mg->neurons[uid].hotkey, s, m_config.emaAlpha);
    }
    if (qualityCount > 0) report.meanQuality = qualitySum / static_cast<double>(qualityCount);
    if (!latenciesMs.empty()) {
      std::nth_element(latenciesMs.begin(), latenciesMs.begin() + latenciesMs.size() / 2, latenciesMs.end());
      report.medianLatencyMs = latenciesMs[latenciesMs.size() / 2];
    }
  }

  {
    std::lock_guard lock(m_stateMutex);
    m_state.scores = m_scores.entries();
    m_state.steps += 1;
  }
  postWeights(mg, m_scores.scores());
  {
    std::lock_guard lock(m_weightsMutex);
    if (m_weightsDone) {
      report.weights = std::move(*m_weightsDone);
      m_weightsDone.reset();
    }
  }
  if (const auto* self = mg->byHotkey(me)) {
    std::uint64_t limit = mg->params.weightsRateLimit;
    std::uint64_t interval =
        m_config.weights.minIntervalBlocks > 0 ? m_config.weights.minIntervalBlocks : mg->tempo;
    report.nextWeightsBlock = std::max(self->lastUpdate + limit, state().lastWeightsBlock + interval);
  }
  MERIT_LOG_INFO(Category::kValidator, "{}", formatStep(report));
  ++m_weightOutcomes[static_cast<std::size_t>(report.weights.kind)];
  {
    std::lock_guard lock(m_metricsMutex);
    m_publishedScores = m_scores.scores();
    if (const auto* self = mg->byHotkey(me)) m_validatorTrust = self->validatorTrust;
  }
  if (report.weights.kind == WeightOutcome::Kind::kFailed) {
    MERIT_LOG_WARN(Category::kValidator, "weights not set: {} {}", report.weights.error,
                   report.weights.detail);
  }
  if (!m_config.stateFile.empty()) {
    if (auto saved = saveState(m_config.stateFile, state()); !saved) {
      MERIT_LOG_ERROR(Category::kValidator, "cannot save state: {}", saved.error().message());
    }
  }
  return report;
}

std::string formatStep(const StepReport& r) {
  std::string out =
      fmt::format("block {}: queried {}, answered {}, mean quality {:.2f}, median latency {:.1f} ms", r.block,
                  r.queried, r.answered, r.meanQuality, r.medianLatencyMs);
  if (r.unreachable > 0) out += fmt::format(", {} with unreachable addresses", r.unreachable);
  if (r.unmeasured > 0) out += fmt::format(", {} not measured", r.unmeasured);
  if (r.weights.kind == WeightOutcome::Kind::kFailed) {
    out += fmt::format(", weights failed: {} {}", r.weights.error, r.weights.detail);
  } else if (r.weights.kind != WeightOutcome::Kind::kNotDue) {
    out += fmt::format(", weights {} in block {}", weightOutcomeName(r.weights.kind), r.weights.block);
  }
  if (r.nextWeightsBlock > 0) out += fmt::format(", next weights at block {}", r.nextWeightsBlock);
  return out;
}

std::string Validator::renderMetrics() const {
  std::string out;
  std::vector<std::pair<std::string, std::uint64_t>> outcomes;
  for (std::size_t k = 0; k < m_weightOutcomes.size(); ++k) {
    outcomes.emplace_back(weightOutcomeName(static_cast<WeightOutcome::Kind>(k)), m_weightOutcomes[k].load());
  }
  metrics::renderCounter(out, "merit_validator_weight_steps_total", "Steps by weight-setting outcome",
                         outcomes, "outcome");
  m_latency.render(out);
  std::lock_guard lock(m_metricsMutex);
  out += "# HELP merit_validator_score Moving-average score per uid\n# TYPE merit_validator_score gauge\n";
  for (std::size_t uid = 0; uid < m_publishedScores.size(); ++uid) {
    out += fmt::format("merit_validator_score{{uid=\"{}\"}} {:.6f}\n", uid, m_publishedScores[uid]);
  }
  metrics::renderGauge(out, "merit_validator_trust",
                       "This validator's validator trust on chain (u16 proportion)", m_validatorTrust);
  if (m_extraMetrics) m_extraMetrics(out);
  return out;
}

void Validator::setExtraMetrics(std::function<void(std::string& out)> extra) {
  std::lock_guard lock(m_metricsMutex);
  m_extraMetrics = std::move(extra);
}

void Validator::stop() {
  {
    std::lock_guard lock(m_stopMutex);
    m_stop = true;
  }
  m_stopCv.notify_all();
}

int Validator::run() {
  const Clock& clock = *m_config.clock;
  while (!m_stop.load()) {
    const auto next = clock.monotonicNow() + m_config.stepInterval;
    auto r = step();
    if (!r) MERIT_LOG_ERROR(Category::kValidator, "step failed: {}", r.error().message());
    std::unique_lock lock(m_stopMutex);
    waitUntil(clock, m_stopCv, lock, next, [this] { return m_stop.load(); });
  }
  return 0;
}

}  // namespace merit::validator
