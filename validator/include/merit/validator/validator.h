// The validator loop: follow the chain, query a sample of miners with the subnet's challenges,
// score each answer as quality × latency factor, keep per-uid moving averages, persist them, and
// put weights on chain without ever being too fast.
//
// Thread-safety: step()/run() on one thread (they own the dendrite and the chain client); stop()
// from any thread. The metagraph cache and metrics server run their own threads.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "merit/metrics/metrics.h"
#include "merit/net/dendrite.h"
#include "merit/rpc/client.h"
#include "merit/rpc/metagraph.h"
#include "merit/validator/scoring.h"
#include "merit/validator/state.h"
#include "merit/validator/weights.h"

namespace merit::validator {

// The subnet's task as the validator needs it; merit-validator backs it with a subnet plugin.
class Task {
 public:
  struct Challenge {
    Bytes request;      // sent to the miner
    Bytes expectation;  // kept private, given back to score()
  };
  virtual ~Task() = default;
  virtual std::string module() const = 0;
  virtual std::uint32_t version() const = 0;
  // Bracket each step: between them the task answers from one build of the subnet, so a plugin
  // reloaded mid-step scores the answers to its own challenges (PluginTask).
  virtual void beginStep() {}
  virtual void endStep() {}
  // Our failure (never held against a miner) is an error.
  virtual Result<Challenge> makeChallenge() = 0;
  // Quality in [0, 1]; a wrong or malformed response is 0 (the miner's fault). An error means
  // we could not score, and the miner's average is left alone.
  virtual Result<double> score(ByteView expectation, ByteView response) = 0;
};

struct ValidatorConfig {
  std::string chainUrl;         // empty: $MERIT_CHAIN_URL or http://127.0.0.1:9933
  std::string chain = "merit";  // the chain backend: "merit" or "subtensor" (docs/SUBTENSOR.md)
  std::uint16_t netuid = 1;
  std::size_t sampleSize = 50;
  std::chrono::milliseconds stepInterval{2000};
  std::chrono::milliseconds queryTimeout{2000};
  net::AuthMode authMode = net::AuthMode::kSession;
  double emaAlpha = 0.1;
  LatencyModel latency;
  WeightPolicy weights;
  // Miners with a validator permit and more stake than this are not queried (0 = query all).
  std::uint64_t validatorStakeLimit = 0;
  // A miner whose answers could not be measured (RATE_LIMITED, OVERLOADED) keeps its average for
  // up to this many consecutive queries; after that each such answer scores 0, so a miner
  // cannot keep an old score by refusing to be measured.
  std::uint32_t maxConsecutiveUnmeasured = 10;
  std::string stateFile;   // empty: no persistence
  std::uint64_t seed = 0;  // sampler seed; 0 = from the OS
  std::string metricsHost = "127.0.0.1";
  int metricsPort = -1;  // Prometheus /metrics; -1 = off, 0 = any free port
  // Time for the step interval and the dendrite's timestamps and idle eviction (tests pass a
  // ManualClock); null: the system clock. A query round's deadline (queryTimeout) bounds real
  // socket waits and is always on the real monotonic clock.
  std::shared_ptr<const Clock> clock{};
};

struct StepReport {
  std::uint64_t block = 0;
  std::size_t queried = 0;
  // Sampled miners whose advertised address no remote peer can reach (unspecified, loopback,
  // link-local) on a chain that is not in dev mode: not dialled, scored 0 (their own fault).
  std::size_t unreachable = 0;
  std::size_t answered = 0;    // authenticated OK answers
  std::size_t unmeasured = 0;  // results that could not measure the miner (its average was left alone)
  double meanQuality = 0;      // over answered, scored responses
  double medianLatencyMs = 0;  // over answered responses
  std::uint64_t nextWeightsBlock = 0;  // earliest block the next weights may land (0 = unknown)
  WeightOutcome weights;
};

// The one-line operator status of a step, e.g.
// "block 412: queried 50, answered 47, mean quality 0.91, median latency 12.3 ms, weights set in block 410,
// next at 432".
std::string formatStep(const StepReport& r);

class Validator {
 public:
  // Connects to the chain, waiting for it with backoff while it is unreachable (until `stop` is
  // set), and checks the hotkey is registered on the netuid.
  static Result<std::unique_ptr<Validator>> start(ValidatorConfig config, crypto::AnyPrivateKey hotkey,
                                                  std::unique_ptr<Task> task,
                                                  const std::atomic<bool>* stop = nullptr);
  ~Validator();

  // One step (see the top of this file).
  Result<StepReport> step();
  // Steps every stepInterval until stop(); returns 0.
  int run();
  // Ends run() without waiting for the rest of the step interval.
  void stop();

  const ScoreBoard& scores() const { return m_scores; }
  int metricsPort() const { return m_metricsServer ? m_metricsServer->port() : -1; }
  // Appended to /metrics by renderMetrics (e.g. the plugin's reloads); set before run(), called
  // by the metrics server's threads.
  void setExtraMetrics(std::function<void(std::string& out)> extra);
  // /metrics text: scores per uid, query latency, weight submissions by outcome, validator trust.
  std::string renderMetrics() const;
  // A copy: the weights thread updates the commit part of the state.
  ValidatorState state() const;

 private:
  Validator(ValidatorConfig config, crypto::AnyPrivateKey hotkey, std::unique_ptr<Task> task);
  // Weights are submitted by their own thread: a submission waits for inclusion (seconds on a
  // Substrate chain, longer when the node is slow or gone), and the query loop must not wait
  // with it. step() hands the newest metagraph and scores over and reports the outcome of the
  // last finished submission.
  void weightsLoop();
  void postWeights(std::shared_ptr<const rpc::Metagraph> mg, std::vector<double> scores);

  ValidatorConfig m_config;
  crypto::AnyPrivateKey m_hotkey;  // sr25519 or ecdsa
  std::unique_ptr<Task> m_task;
  std::unique_ptr<rpc::Chain> m_client;
  std::unique_ptr<rpc::MetagraphCache> m_cache;
  std::unique_ptr<net::Dendrite> m_dendrite;
  std::unique_ptr<WeightSetter> m_setter;
  std::unique_ptr<MinerSampler> m_sampler;
  ScoreBoard m_scores;
  mutable std::mutex m_stateMutex;  // guards m_state (the weights thread writes its commit part)
  ValidatorState m_state;
  std::mutex m_weightsMutex;  // guards the hand-over below
  std::condition_variable m_weightsCv;
  std::shared_ptr<const rpc::Metagraph> m_weightsMetagraph;  // the newest job; null: none waiting
  std::vector<double> m_weightsScores;
  std::optional<WeightOutcome> m_weightsDone;  // the last finished outcome, not yet reported
  bool m_weightsBusy = false;
  bool m_weightsStop = false;
  std::thread m_weightsThread;
  // Consecutive unmeasured results per uid, with the hotkey they were for (step()'s thread).
  std::map<std::uint16_t, std::pair<crypto::AccountId, std::uint32_t>> m_unmeasured;
  std::atomic<bool> m_stop{false};
  std::mutex m_stopMutex;  // with m_stopCv: run() waits out the step interval, stop() wakes it
  std::condition_variable m_stopCv;

  // Metrics, read by the metrics server's threads.
  metrics::Histogram m_latency{"merit_validator_query_latency_seconds",
                               "Send-to-answer time of answered queries",
                               {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}};
  std::array<std::atomic<std::uint64_t>, 5> m_weightOutcomes{};  // by WeightOutcome::Kind
  mutable std::mutex m_metricsMutex;                             // guards m_publishedScores, m_validatorTrust
  std::vector<double> m_publishedScores;
  std::uint16_t m_validatorTrust = 0;
  std::function<void(std::string& out)> m_extraMetrics;  // guarded by m_metricsMutex
  std::unique_ptr<metrics::MetricsServer> m_metricsServer;
};

}  // namespace merit::validator
