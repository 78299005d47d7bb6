// The `fashion_mnist` subnet: image classification on Fashion-MNIST (docs/subnets/fashion_mnist.md).
// The validator sends a batch of held-out test images, each shifted and noised afresh; the miner
// runs a TorchScript CNN on them and answers class probabilities; the validator scores them with
// a normalised log score (a proper scoring rule), see fashion_mnist_data.h.
//
// Payload (version 1): see fashion_mnist_data.h.
//
// Model contract (miner): a TorchScript module whose forward takes float32 [N, 1, 28, 28]
// (pixels scaled to [0, 1], background 0) and returns float32 logits [N, 10] in the class order
// of the dataset; the plugin applies the softmax. `merit-train fashion-mnist` writes such a
// model, and so does torch.jit.save of any PyTorch nn.Module with that signature.
//
// Configuration (YAML mapping; every key optional except `model` for a miner; unknown keys are
// refused). Both roles accept every key, so miners and validators can share one file.
//   Validator:
//     data_dir: /usr/share/datasets/fashion-mnist   where t10k-{images-idx3,labels-idx1}-ubyte[.gz] are
//     batch_size: 16             test images per challenge (1..256)
//     max_shift: 2               per-image random translation, pixels (0..8)
//     noise: 8                   per-pixel uniform noise amplitude, of 255 (0..128)
//     probability_floor: 0.0001  smallest p_true counted (caps one image's penalty; 1e-12..0.1)
//     seed: <random>             makes the challenges reproducible (tests only)
//   Miner:
//     model: PATH                the TorchScript .pt file (required)
//     device: cpu                cpu, cuda or cuda:N (falls back to the CPU with a warning)
//     intra_op_threads: 0        libtorch's intra-op threads (0 = libtorch's default)
//     warmup_runs: 1             forward passes at load on a zero batch of max_batch_rows
//     max_batch_rows: 256        images per model call (also the most one request may carry)
//     max_wait_us: 2000          how long the dynamic batcher waits for more requests
//     queue_capacity: 256        requests waiting for the model; beyond: OVERLOADED answers
//     request_timeout_ms: 2000   a request not run by then is dropped (the caller times out)
//     faults:                    misbehave on purpose, for tests
//       drop_rate: 0.0           fraction of requests left unanswered
//       delay_ms: 0              every batch is answered this much later
//       seed: <random>
//
// Thread-safety: handleBatch, makeChallenge and scoreResponse may run concurrently. The miner's
// concurrent handleBatch calls share one Batcher (thread-safe), so their images are batched into
// common model calls; the fault RNG is inside m_faults (merit_subnet_config's FaultInjector,
// guarded by its own mutex); the validator's test split is immutable after construction and each
// challenge draws a fresh seed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <future>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <sodium.h>

#include "merit/serving/batcher.h"
#include "merit/serving/model.h"
#include "merit/serving/tensor.h"
#include "merit/subnet_sdk.h"
#include "merit/subnets/plugin_config.h"

#include "fashion_mnist_data.h"

namespace {

namespace fm = merit::fashion_mnist;
using merit::subnet_sdk::Buffer;
using merit::subnet_sdk::ByteSpan;
using merit::subnet_sdk::Challenge;
using merit::subnet_sdk::Reply;
using merit::subnet_sdk::Role;
using merit::subnet_sdk::Status;
using merit::subnet_sdk::SubnetError;

namespace cfg = merit::plugin_config;

// faults: drop_rate, delay_ms, seed.
const cfg::FaultSpec kFaultSpec{.wrong = false, .extraKinds = {}};

struct Config {
  // Validator.
  std::string dataDir = fm::kDefaultDataDir;
  std::uint32_t batchSize = 16;
  fm::AugmentOptions augment{};
  double probabilityFloor = 1e-4;
  std::optional<std::uint64_t> seed;
  // Miner.
  std::string model;
  std::string device = "cpu";
  int intraOpThreads = 0;
  int warmupRuns = 1;
  std::uint32_t maxBatchRows = 256;
  std::uint32_t maxWaitUs = 2000;
  std::uint32_t queueCapacity = 256;
  std::uint32_t requestTimeoutMs = 2000;
  cfg::Faults faults;
};

[[noreturn]] void badKey(const std::string& key, const std::string& reason) {
  cfg::fail("fashion_mnist", key, reason);
}

Config parseConfig(std::string_view yaml, Role role) {
  using V = const cfg::Value&;
  Config c;
  cfg::parse("fashion_mnist", yaml)
      .read({
          {"data_dir", [&](V v) { c.dataDir = v.string(); }},
          {"batch_size", [&](V v) { c.batchSize = v.integer<std::uint32_t>(1, 256); }},
          {"max_shift", [&](V v) { c.augment.maxShift = v.integer<int>(0, 8); }},
          {"noise", [&](V v) { c.augment.noise = v.integer<int>(0, 128); }},
          {"probability_floor", [&](V v) { c.probabilityFloor = v.number(1e-12, 0.1); }},
          {"seed", [&](V v) { c.seed = v.unsignedInt(0, std::numeric_limits<std::uint64_t>::max()); }},
          {"model", [&](V v) { c.model = v.string(); }},
          {"device", [&](V v) { c.device = v.string(); }},
          {"intra_op_threads", [&](V v) { c.intraOpThreads = v.integer<int>(0, 1024); }},
          {"warmup_runs", [&](V v) { c.warmupRuns = v.integer<int>(0, 100); }},
          {"max_batch_rows",
           [&](V v) { c.maxBatchRows = v.integer<std::uint32_t>(1, fm::kMaxImagesPerRequest); }},
          {"max_wait_us", [&](V v) { c.maxWaitUs = v.integer<std::uint32_t>(0, 1'000'000); }},
          {"queue_capacity", [&](V v) { c.queueCapacity = v.integer<std::uint32_t>(1, 1'000'000); }},
          {"request_timeout_ms", [&](V v) { c.requestTimeoutMs = v.integer<std::uint32_t>(1, 600'000); }},
          {"faults", [&](V v) { c.faults = cfg::parseFaults(v, kFaultSpec); }},
      });
  if (role == Role::kMiner && c.model.empty()) {
    badKey("model",
           "required for a miner: the path of a TorchScript .pt file taking float32 [N, 1, 28, 28] and "
           "returning logits [N, 10] (make one with `merit-train fashion-mnist --epochs 1 --out model.pt`)");
  }
  return c;
}

std::uint64_t randomSeed() {
  std::uint64_t seed = 0;
  randombytes_buf(&seed, sizeof seed);
  return seed;
}

class FashionMnistSubnet final : public merit::subnet_sdk::Subnet {
 public:
  FashionMnistSubnet(std::string_view configYaml, Role role)
      : m_config(parseConfig(configYaml, role)), m_faults(m_config.faults, role) {
    if (sodium_init() < 0) throw SubnetError(Status::kInternal, "libsodium failed to initialise");
    if (role == Role::kValidator) {
      auto split = fm::loadSplit(m_config.dataDir, fm::SplitName::kTest);
      if (!split) badKey("data_dir", split.error().message());
      if (split->count < m_config.batchSize) {
        badKey("batch_size", std::to_string(m_config.batchSize) + " exceeds the " +
                                 std::to_string(split->count) + " test images in " + m_config.dataDir);
      }
      m_test = std::move(*split);
    } else {
      loadModel();
    }
  }

  std::vector<Reply> handleBatch(std::span<const ByteSpan> requests) override {
    m_faults.delayBatch();
    std::vector<Reply> replies(requests.size());
    std::vector<std::optional<std::future<merit::Result<merit::serving::Tensor>>>> pending(requests.size());
    std::vector<std::size_t> counts(requests.size(), 0);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(m_config.requestTimeoutMs);
    // Submit every request first, so this call's images and other threads' share model calls.
    for (std::size_t i = 0; i < requests.size(); ++i) {
      auto pixels = fm::decodeRequest(requests[i], m_config.maxBatchRows);
      if (!pixels) {
        replies[i] = Reply::failed(Status::kInvalidArgument, pixels.error().message());
        continue;
      }
      if (m_faults.decide().drop()) {
        replies[i] = Reply::drop();
        continue;
      }
      counts[i] = pixels->size() / fm::kPixels;
      std::vector<float> input(pixels->size());
      std::transform(pixels->begin(), pixels->end(), input.begin(),
                     [](std::uint8_t p) { return float(p) / 255.0f; });
      auto tensor = merit::serving::Tensor::fromFloats(
          {static_cast<std::int64_t>(counts[i]), 1, static_cast<std::int64_t>(fm::kRows),
           static_cast<std::int64_t>(fm::kCols)},
          std::move(input));
      if (!tensor) {
        replies[i] = Reply::failed(Status::kInternal, tensor.error().message());
        continue;
      }
      pending[i] = m_batcher->submit(std::move(*tensor), deadline);
    }
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (pending[i]) replies[i] = finish(pending[i]->get(), counts[i]);
    }
    return replies;
  }

  Challenge makeChallenge() override {
    // A fresh unpredictable seed per challenge, or (with `seed`) a reproducible sequence.
    const std::uint64_t n = m_challenges.fetch_add(1, std::memory_order_relaxed);
    std::mt19937_64 rng(m_config.seed ? *m_config.seed + n * 0x9E3779B97F4A7C15ull : randomSeed());
    // batch_size distinct test images.
    std::unordered_set<std::size_t> chosen;
    std::uniform_int_distribution<std::size_t> pick(0, m_test.count - 1);
    std::vector<std::uint8_t> pixels(m_config.batchSize * fm::kPixels);
    Buffer labels;
    labels.reserve(m_config.batchSize);
    while (labels.size() < m_config.batchSize) {
      const std::size_t index = pick(rng);
      if (!chosen.insert(index).second) continue;
      fm::augment(m_test.image(index), std::span(pixels).subspan(labels.size() * fm::kPixels, fm::kPixels),
                  m_config.augment, rng);
      labels.push_back(m_test.labels[index]);
    }
    return Challenge{fm::encodeRequest(pixels), std::move(labels)};
  }

  double scoreResponse(ByteSpan expectation, ByteSpan response) override {
    if (expectation.empty() || expectation.size() > fm::kMaxImagesPerRequest) {
      throw SubnetError(Status::kInternal, "fashion_mnist: corrupt expectation (" +
                                               std::to_string(expectation.size()) + " labels)");
    }
    return fm::scoreResponse(expectation, response, fm::ScoreOptions{m_config.probabilityFloor, 1e-2});
  }

 private:
  void loadModel() {
    merit::serving::ModelOptions options;
    options.path = m_config.model;
    options.device = m_config.device;
    options.intraOpThreads = m_config.intraOpThreads;
    options.warmupRuns = m_config.warmupRuns;
    options.warmupShape = {static_cast<std::int64_t>(m_config.maxBatchRows), 1,
                           static_cast<std::int64_t>(fm::kRows), static_cast<std::int64_t>(fm::kCols)};
    auto model = merit::serving::Model::load(options);
    if (!model) badKey("model", model.error().toString());
    m_model = std::move(*model);
    // Check the contract once, with a clear message, rather than failing every request.
    auto probe =
        merit::serving::Tensor::fromFloats({2, 1, 28, 28}, std::vector<float>(2 * fm::kPixels, 0.0f));
    auto out = m_model->forward(*probe);
    if (!out) badKey("model", m_config.model + ": rejects float32[2, 1, 28, 28]: " + out.error().message());
    if (out->dtype() != merit::serving::DType::kFloat32 || out->shape() != std::vector<std::int64_t>{2, 10}) {
      badKey("model", m_config.model + ": returned " + out->describe() +
                          " for float32[2, 1, 28, 28]; expected logits float32[2, 10]");
    }
    merit::serving::BatcherOptions batching;
    batching.maxBatchRows = m_config.maxBatchRows;
    batching.maxWait = std::chrono::microseconds(m_config.maxWaitUs);
    batching.queueCapacity = m_config.queueCapacity;
    batching.name = "fashion_mnist";
    m_batcher = std::make_unique<merit::serving::Batcher>(*m_model, batching);
  }

  Reply finish(merit::Result<merit::serving::Tensor> result, std::size_t count) {
    using merit::ErrorCode;
    if (!result) {
      switch (result.error().code()) {
        case ErrorCode::kOverloaded:
          return Reply::failed(Status::kOverloaded, "fashion_mnist: " + result.error().message());
        case ErrorCode::kDeadlineExceeded: return Reply::drop();  // the caller has given up by now
        default: return Reply::failed(Status::kInternal, "fashion_mnist: model: " + result.error().message());
      }
    }
    if (result->dtype() != merit::serving::DType::kFloat32 ||
        result->shape() != std::vector<std::int64_t>{static_cast<std::int64_t>(count), 10}) {
      return Reply::failed(Status::kInternal, "fashion_mnist: the model returned " + result->describe() +
                                                  " for " + std::to_string(count) +
                                                  " images; expected logits [N, 10]");
    }
    return Reply::ok(fm::encodeResponse(fm::softmaxRows(result->floats())));
  }

  const Config m_config;
  cfg::FaultInjector m_faults;  // miner; thread-safe
  // Validator.
  fm::Split m_test;  // the held-out test split only; immutable after construction
  std::atomic<std::uint64_t> m_challenges{0};
  // Miner. The batcher is declared after the model so it is destroyed (and joined) first.
  std::unique_ptr<merit::serving::Model> m_model;
  std::unique_ptr<merit::serving::Batcher> m_batcher;
};

}  // namespace

MERIT_SUBNET_PLUGIN(FashionMnistSubnet, "fashion_mnist", 1)
