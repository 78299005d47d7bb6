// The `charlm` subnet: next-character prediction. Validators send contexts of held-out text and
// ask for the distribution of the next byte; miners answer with a libtorch model served through
// merit_serving; quality is the log-likelihood of the true bytes against the uniform baseline.
// docs/subnets/charlm.md is the user's guide (configuration, model contract, scoring, what a
// cheater can do).
//
// Payload (version 1): see merit/charlm/payload.h. In short, the request is N contexts of T
// bytes plus the positions asked for; the response is N × positions distributions of 256
// float32 probabilities; quality = clamp(1 - bits_per_char / 8, 0, 1).
//
// Configuration (YAML mapping; every key optional except a miner's `model`; unknown keys are
// refused; keys of the other role are accepted and ignored):
//   miner:
//     model: PATH                 TorchScript file: int64 [N, T] byte values -> logits [N, T, 256]
//     device: cpu                 cpu, cuda or cuda:N (CPU with a warning when CUDA is absent)
//     intra_op_threads: 0         libtorch intra-op threads (0 = libtorch's default)
//     warmup_runs: 1              forward passes on a zero [8, 64] input at load
//     max_batch_rows: 64          contexts per model call (across concurrent requests)
//     max_batch_wait_ms: 2        how long a context may wait for others to batch with
//     queue_capacity: 1024        queued model calls; beyond: OVERLOADED
//     timeout_ms: 10000           a request not run by then is dropped
//     max_contexts: 256           larger requests are refused (INVALID_ARGUMENT)
//     max_context_length: 1024
//   validator:
//     corpus_dir: /usr/share/games/fortunes
//     split: held_out             held_out (the ~10% hashed split) or all (private text)
//     contexts: 16                contexts per challenge (1..256)
//     context_length: 64          bytes per context (1..1024)
//     seed: <random>              makes the challenge offsets reproducible
//
// Thread-safety: handleBatch, makeChallenge and scoreResponse may run concurrently. The miner's
// Model and Batcher are thread-safe; the validator's only mutable state, the RNG, is guarded
// by m_rngMutex; everything else is const after construction.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "merit/charlm/corpus.h"
#include "merit/charlm/payload.h"
#include "merit/serving/batcher.h"
#include "merit/serving/model.h"
#include "merit/subnet_sdk.h"
#include "merit/subnets/plugin_config.h"

namespace {

namespace charlm = merit::charlm;
namespace serving = merit::serving;
using merit::subnet_sdk::Buffer;
using merit::subnet_sdk::ByteSpan;
using merit::subnet_sdk::Challenge;
using merit::subnet_sdk::Reply;
using merit::subnet_sdk::Role;
using merit::subnet_sdk::Status;
using merit::subnet_sdk::SubnetError;

constexpr std::int64_t kWarmupRows = 8;
constexpr std::int64_t kWarmupLength = 64;

struct CharlmConfig {
  // Miner.
  std::string model;
  std::string device = "cpu";
  int intraOpThreads = 0;
  int warmupRuns = 1;
  std::int64_t maxBatchRows = 64;
  std::uint32_t maxBatchWaitMs = 2;
  std::size_t queueCapacity = 1024;
  std::uint32_t timeoutMs = 10'000;
  charlm::RequestLimits limits;
  // Validator.
  std::string corpusDir{charlm::kDefaultCorpusDir};
  charlm::Split split = charlm::Split::kHashed;
  std::uint16_t contexts = 16;
  std::uint16_t contextLength = 64;
  std::optional<std::uint64_t> seed;
};

[[noreturn]] void badKey(const std::string& key, const std::string& reason) {
  merit::plugin_config::fail("charlm", key, reason);
}

CharlmConfig parseConfig(std::string_view yaml) {
  namespace cfg = merit::plugin_config;
  using V = const cfg::Value&;
  CharlmConfig c;
  cfg::parse("charlm", yaml)
      .read({
          {"model", [&](V v) { c.model = v.string(); }},
          {"device", [&](V v) { c.device = v.string(); }},
          {"intra_op_threads", [&](V v) { c.intraOpThreads = v.integer<int>(0, 1024); }},
          {"warmup_runs", [&](V v) { c.warmupRuns = v.integer<int>(0, 100); }},
          {"max_batch_rows", [&](V v) { c.maxBatchRows = v.integer<std::int64_t>(1, 4096); }},
          {"max_batch_wait_ms", [&](V v) { c.maxBatchWaitMs = v.integer<std::uint32_t>(0, 10'000); }},
          {"queue_capacity", [&](V v) { c.queueCapacity = v.integer<std::size_t>(1, 1'000'000); }},
          {"timeout_ms", [&](V v) { c.timeoutMs = v.integer<std::uint32_t>(1, 600'000); }},
          {"max_contexts", [&](V v) { c.limits.maxContexts = v.integer<std::size_t>(1, 65'535); }},
          {"max_context_length", [&](V v) { c.limits.maxLength = v.integer<std::size_t>(1, 65'535); }},
          {"corpus_dir", [&](V v) { c.corpusDir = v.string(); }},
          {"split",
           [&](V v) {
             const std::string s = v.string();
             if (s == "held_out") {
               c.split = charlm::Split::kHashed;
             } else if (s == "all") {
               c.split = charlm::Split::kAllHeldOut;
             } else {
               v.fail("'" + s + "' is neither held_out nor all");
             }
           }},
          {"contexts", [&](V v) { c.contexts = v.integer<std::uint16_t>(1, 256); }},
          {"context_length", [&](V v) { c.contextLength = v.integer<std::uint16_t>(1, 1024); }},
          {"seed", [&](V v) { c.seed = v.unsignedInt(0, std::numeric_limits<std::uint64_t>::max()); }},
      });
  return c;
}

Status statusFor(const merit::Error& e) {
  switch (e.code()) {
    case merit::ErrorCode::kOverloaded: return Status::kOverloaded;
    case merit::ErrorCode::kDeadlineExceeded: return Status::kDrop;  // too late: the caller times out
    default: return Status::kInternal;
  }
}

class CharlmSubnet final : public merit::subnet_sdk::Subnet {
 public:
  CharlmSubnet(std::string_view configYaml, Role role) : m_config(parseConfig(configYaml)) {
    if (role == Role::kMiner) {
      startMiner();
    } else {
      startValidator();
    }
  }

  ~CharlmSubnet() override {
    if (m_batcher) m_batcher->shutdown(serving::ShutdownMode::kFailPending);
  }

  std::vector<Reply> handleBatch(std::span<const ByteSpan> requests) override {
    struct Job {
      charlm::Request request;
      std::vector<std::future<merit::Result<serving::Tensor>>> parts;  // one per chunk of rows
    };
    std::vector<Reply> replies(requests.size());
    std::vector<std::optional<Job>> jobs(requests.size());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(m_config.timeoutMs);
    for (std::size_t i = 0; i < requests.size(); ++i) {
      auto decoded = charlm::decodeRequest(requests[i], m_config.limits);
      if (!decoded) {
        replies[i] = Reply::failed(Status::kInvalidArgument, decoded.error().message());
        continue;
      }
      Job& job = jobs[i].emplace(Job{std::move(*decoded), {}});
      const std::int64_t length = job.request.length;
      for (std::int64_t row = 0; row < job.request.contexts; row += m_config.maxBatchRows) {
        const std::int64_t rows = std::min<std::int64_t>(m_config.maxBatchRows, job.request.contexts - row);
        const auto first = job.request.text.begin() + static_cast<std::ptrdiff_t>(row * length);
        std::vector<std::int64_t> values(first, first + static_cast<std::ptrdiff_t>(rows * length));
        auto input = serving::Tensor::fromInt64({rows, length}, std::move(values));
        if (!input) throw SubnetError(Status::kInternal, input.error().message());
        job.parts.push_back(m_batcher->submit(std::move(*input), deadline));
      }
    }
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (jobs[i]) replies[i] = answer(*jobs[i]);
    }
    return replies;
  }

  Challenge makeChallenge() override {
    charlm::Challenge c;
    {
      std::lock_guard lock(m_rngMutex);
      c = charlm::sampleChallenge(m_corpus.heldOut, m_config.contexts, m_config.contextLength, m_rng);
    }
    return Challenge{charlm::encodeRequest(c.request), charlm::encodeExpectation(c.expectation)};
  }

  double scoreResponse(ByteSpan expectation, ByteSpan response) override {
    auto expected = charlm::decodeExpectation(expectation);
    if (!expected) throw SubnetError(Status::kInternal, expected.error().message());
    auto bits = charlm::bitsPerChar(*expected, response);
    if (!bits) {
      if (bits.error().code() == merit::ErrorCode::kInvalidArgument) return 0.0;  // the miner's fault
      throw SubnetError(Status::kInternal, bits.error().message());
    }
    return charlm::qualityFromBits(*bits);
  }

 private:
  template <typename Job>
  Reply answer(Job& job) {
    const charlm::Request& request = job.request;
    Buffer body;
    body.reserve(charlm::responseBytes(request.contexts, request.positions.size()));
    for (auto& part : job.parts) {
      auto out = part.get();
      if (!out) return Reply::failed(statusFor(out.error()), "charlm model: " + out.error().message());
      const auto& shape = out->shape();
      if (out->dtype() != serving::DType::kFloat32 || shape.size() != 3 || shape[1] != request.length ||
          shape[2] != static_cast<std::int64_t>(charlm::kAlphabet)) {
        return Reply::failed(Status::kInternal, "charlm model: returned " + out->describe() + " for " +
                                                    std::to_string(shape.empty() ? 0 : shape[0]) +
                                                    " contexts of " + std::to_string(request.length) +
                                                    " bytes; expected logits [N, " +
                                                    std::to_string(request.length) + ", 256]");
      }
      const auto logits = out->floats();
      const std::size_t rowElems = std::size_t{request.length} * charlm::kAlphabet;
      for (std::int64_t row = 0; row < shape[0]; ++row) {
        for (std::uint16_t p : request.positions) {
          const auto at = static_cast<std::size_t>(row) * rowElems + std::size_t{p} * charlm::kAlphabet;
          if (!charlm::appendSoftmax(logits.subspan(at, charlm::kAlphabet), body)) {
            return Reply::failed(Status::kInternal, "charlm model: produced NaN or infinite logits");
          }
        }
      }
    }
    return Reply::ok(std::move(body));
  }

  void startMiner() {
    if (m_config.model.empty()) {
      badKey("model",
             "required for a miner: a TorchScript file (train one with `merit-train charlm --out model.pt`)");
    }
    serving::ModelOptions options;
    options.path = m_config.model;
    options.device = m_config.device;
    options.intraOpThreads = m_config.intraOpThreads;
    options.warmupRuns = m_config.warmupRuns;
    options.warmupShape = {kWarmupRows, kWarmupLength};
    options.warmupDType = serving::DType::kInt64;
    auto model = serving::Model::load(options);
    if (!model) {
      const Status status =
          model.error().code() == merit::ErrorCode::kInternal ? Status::kInternal : Status::kInvalidArgument;
      throw SubnetError(status, "charlm config: model: " + model.error().message());
    }
    m_model = std::move(*model);
    serving::BatcherOptions batching;
    batching.maxBatchRows = m_config.maxBatchRows;
    batching.maxWait = std::chrono::milliseconds(m_config.maxBatchWaitMs);
    batching.queueCapacity = m_config.queueCapacity;
    batching.name = "charlm";
    m_batcher = std::make_unique<serving::Batcher>(*m_model, std::move(batching));
  }

  void startValidator() {
    auto corpus = charlm::loadCorpus(m_config.corpusDir, m_config.split);
    if (!corpus) {
      const Status status = corpus.error().code() == merit::ErrorCode::kUnavailable
                                ? Status::kInternal
                                : Status::kInvalidArgument;
      throw SubnetError(status, "charlm config: corpus_dir: " + corpus.error().message());
    }
    m_corpus = std::move(*corpus);
    if (m_corpus.heldOut.size() <= m_config.contextLength) {
      badKey("corpus_dir", m_config.corpusDir + " has " + std::to_string(m_corpus.heldOut.size()) +
                               " bytes of held-out text; context_length " +
                               std::to_string(m_config.contextLength) + " needs more");
    }
    std::uint64_t seed = 0;
    if (m_config.seed) {
      seed = *m_config.seed;
    } else {
      std::random_device device;
      seed = (static_cast<std::uint64_t>(device()) << 32) ^ device();
    }
    m_rng.seed(seed);
  }

  const CharlmConfig m_config;
  // Miner. m_batcher refers to m_model, so it is declared (and destroyed) after it.
  std::unique_ptr<serving::Model> m_model;
  std::unique_ptr<serving::Batcher> m_batcher;
  // Validator.
  charlm::Corpus m_corpus;
  std::mutex m_rngMutex;
  std::mt19937_64 m_rng;  // guarded by m_rngMutex
};

}  // namespace

MERIT_SUBNET_PLUGIN(CharlmSubnet, "charlm", merit::charlm::kPayloadVersion)
