#include "merit/serving/batcher.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "merit/serving/model.h"

#include "test_support.h"
#include "torch_fixtures.h"

namespace merit::serving {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::randomFloats;

Deadline in(std::chrono::milliseconds d) {
  return Clock::now() + d;
}

Tensor row(float value, std::int64_t rows = 1) {
  return Tensor::fromFloats({rows, 2}, std::vector<float>(static_cast<std::size_t>(rows) * 2, value)).value();
}

// Adds one to every value: each result is visibly its own request's.
Result<std::vector<Tensor>> plusOne(std::span<const Tensor> inputs) {
  std::vector<Tensor> out;
  for (const Tensor& t : inputs) {
    std::vector<float> v(t.floats().begin(), t.floats().end());
    for (float& x : v) x += 1.0F;
    out.push_back(Tensor::fromFloats(t.shape(), std::move(v)).value());
  }
  return out;
}

// A batch function that holds the worker inside its first call until release(), so tests can
// fill the queue deterministically.
class Gate {
 public:
  BatchFunction function() {
    return [this](std::span<const Tensor> inputs) {
      if (!m_first.exchange(true)) {
        m_entered.set_value();
        m_release.get_future().wait();
      }
      return plusOne(inputs);
    };
  }
  void waitEntered() { REQUIRE(m_entered.get_future().wait_for(30s) == std::future_status::ready); }
  void release() { m_release.set_value(); }

 private:
  std::atomic<bool> m_first{false};
  std::promise<void> m_entered;
  std::promise<void> m_release;
};

float firstValue(const Result<Tensor>& r) {
  return r.value().floats()[0];
}

TEST_CASE("batcher: 64 concurrent requesters get their own results, equal to unbatched forwards") {
  test::TempDir dir;
  auto saved = test::saveCnnModel(dir.path());
  auto model = Model::load({.path = saved.path, .intraOpThreads = 1}).value();

  std::mutex sizesMutex;
  std::vector<std::size_t> batchSizes;
  BatcherOptions options;
  options.maxBatchRows = 16;
  options.maxWait = 20ms;
  options.queueCapacity = 256;
  options.onBatch = [&](const BatchInfo& info) {
    std::lock_guard lock(sizesMutex);
    batchSizes.push_back(info.requests);
    CHECK(info.ok);
    CHECK(info.rows == static_cast<std::int64_t>(info.requests));
  };
  Batcher batcher(*model, options);

  constexpr int kThreads = 64;
  constexpr int kPerThread = 6;
  std::atomic<int> mismatches{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Tensor input = randomFloats({1, 1, 28, 28}, static_cast<std::uint32_t>(t * 1000 + i));
        Tensor expected = model->forward(input).value();
        auto result = batcher.submit(input, in(60s)).get();
        if (!result) {
          ++errors;
        } else if (test::maxAbsDiff(*result, expected) > 1e-4) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(errors.load() == 0);
  CHECK(mismatches.load() == 0);

  const auto stats = batcher.stats();
  CHECK(stats.submitted == kThreads * kPerThread);
  CHECK(stats.completed == kThreads * kPerThread);
  std::lock_guard lock(sizesMutex);
  CHECK(stats.batches == batchSizes.size());
  const std::size_t largest = *std::max_element(batchSizes.begin(), batchSizes.end());
  MESSAGE("batches: " << batchSizes.size() << ", largest " << largest);
  CHECK(largest > 1);    // batches formed
  CHECK(largest <= 16);  // and respected the limit
  CHECK(batchSizes.size() < static_cast<std::size_t>(kThreads * kPerThread));
}

// On a ManualClock: the lone request leaves exactly when maxWait has passed, however slow the
// machine; with the batcher on the real clock it would never leave (maxWait is an hour).
TEST_CASE("batcher: a lone request waits maxWait for company, a full batch does not wait") {
  {
    auto clock = std::make_shared<ManualClock>();
    BatcherOptions options;
    options.maxBatchRows = 8;
    options.maxWait = 1h;
    options.clock = clock;
    Batcher batcher(plusOne, options);
    auto result = batcher.submit(row(1.0F), clock->monotonicNow() + 2h);
    clock->advance(59min);
    CHECK(result.wait_for(100ms) == std::future_status::timeout);  // still waiting for company
    clock->advance(1min);
    REQUIRE(result.wait_for(30s) == std::future_status::ready);
    CHECK(firstValue(result.get()) == 2.0F);
  }
  {
    auto clock = std::make_shared<ManualClock>();
    BatcherOptions options;
    options.maxBatchRows = 4;
    options.maxWait = 1h;
    options.clock = clock;
    std::vector<std::size_t> sizes;
    options.onBatch = [&](const BatchInfo& info) { sizes.push_back(info.requests); };
    Batcher batcher(plusOne, options);
    std::vector<std::future<Result<Tensor>>> futures;
    for (int i = 0; i < 4; ++i)
      futures.push_back(batcher.submit(row(static_cast<float>(i)), clock->monotonicNow() + 2h));
    // Time stands still: the full batch left at once, without waiting for maxWait.
    for (int i = 0; i < 4; ++i) {
      auto& f = futures[static_cast<std::size_t>(i)];
      REQUIRE(f.wait_for(30s) == std::future_status::ready);
      CHECK(firstValue(f.get()) == static_cast<float>(i + 1));
    }
    CHECK(sizes == std::vector<std::size_t>{4});
  }
}

TEST_CASE("batcher: a full queue answers overloaded at once") {
  Gate gate;
  BatcherOptions options;
  options.maxBatchRows = 1;
  options.maxWait = 0ms;
  options.queueCapacity = 2;
  Batcher batcher(gate.function(), options);

  auto first = batcher.submit(row(0.0F), in(60s));
  gate.waitEntered();  // the worker holds request 0; the queue is empty again
  auto second = batcher.submit(row(1.0F), in(60s));
  auto third = batcher.submit(row(2.0F), in(60s));
  CHECK(batcher.queueDepth() == 2);

  auto refused = batcher.submit(row(3.0F), in(60s));
  REQUIRE(refused.wait_for(0s) == std::future_status::ready);  // answered inside submit()
  auto error = refused.get();
  REQUIRE_FALSE(error.has_value());
  CHECK(error.error().code() == ErrorCode::kOverloaded);
  bool called = false;
  auto viaCallback = batcher.submit(row(4.0F), in(60s), [&](Result<Tensor>) { called = true; });
  REQUIRE_FALSE(viaCallback.has_value());
  CHECK(viaCallback.error().code() == ErrorCode::kOverloaded);

  gate.release();
  CHECK(firstValue(first.get()) == 1.0F);
  CHECK(firstValue(second.get()) == 2.0F);
  CHECK(firstValue(third.get()) == 3.0F);
  CHECK_FALSE(called);
  CHECK(batcher.stats().overloaded == 2);
}

TEST_CASE("batcher: requests past their deadline are dropped with deadline_exceeded") {
  Gate gate;
  auto clock = std::make_shared<ManualClock>();
  auto in = [&](std::chrono::milliseconds d) { return clock->monotonicNow() + d; };
  BatcherOptions options;
  options.maxBatchRows = 4;
  options.maxWait = 0ms;
  options.clock = clock;
  std::atomic<std::int64_t> rowsRun{0};
  options.onBatch = [&](const BatchInfo& info) { rowsRun += info.rows; };
  Batcher batcher(gate.function(), options);

  auto holding = batcher.submit(row(0.0F), in(60s));
  gate.waitEntered();
  auto shortLived = batcher.submit(row(1.0F), in(50ms));
  auto patient = batcher.submit(row(2.0F), in(60s));
  clock->advance(300ms);  // shortLived expires while the worker is busy
  gate.release();

  CHECK(firstValue(holding.get()) == 1.0F);
  auto expired = shortLived.get();
  REQUIRE_FALSE(expired.has_value());
  CHECK(expired.error().code() == ErrorCode::kDeadlineExceeded);
  CHECK(firstValue(patient.get()) == 3.0F);
  CHECK(rowsRun.load() == 2);  // the expired request never reached the model

  auto late = batcher.submit(row(5.0F), in(-1ms)).get();
  REQUIRE_FALSE(late.has_value());
  CHECK(late.error().code() == ErrorCode::kDeadlineExceeded);
  CHECK(batcher.stats().expired == 2);
}

TEST_CASE("batcher: shutdown fails or drains pending requests, and later submits are unavailable") {
  for (ShutdownMode mode : {ShutdownMode::kFailPending, ShutdownMode::kDrain}) {
    CAPTURE(static_cast<int>(mode));
    Gate gate;
    BatcherOptions options;
    options.maxBatchRows = 1;
    options.maxWait = 0ms;
    Batcher batcher(gate.function(), options);
    auto inFlight = batcher.submit(row(0.0F), in(60s));
    gate.waitEntered();
    std::vector<std::future<Result<Tensor>>> pending;
    for (int i = 1; i <= 3; ++i) pending.push_back(batcher.submit(row(static_cast<float>(i)), in(60s)));

    std::thread stopper([&] { batcher.shutdown(mode); });
    // shutdown() is waiting for the batch in flight; new work is refused already. Until it has
    // begun, a request already past its deadline is refused deadline_exceeded instead (and
    // never queued), so probing with one changes nothing.
    CHECK(merit::test::eventually([&] {
      auto probe = batcher.submit(row(9.0F), in(-1ms)).get();
      return !probe.has_value() && probe.error().code() == ErrorCode::kUnavailable;
    }));
    auto refused = batcher.submit(row(9.0F), in(60s)).get();
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code() == ErrorCode::kUnavailable);
    gate.release();
    stopper.join();

    CHECK(firstValue(inFlight.get()) == 1.0F);  // the batch in flight always finishes
    for (int i = 0; i < 3; ++i) {
      auto r = pending[static_cast<std::size_t>(i)].get();
      if (mode == ShutdownMode::kDrain) {
        CHECK(firstValue(r) == static_cast<float>(i + 2));
      } else {
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::kUnavailable);
      }
    }
    batcher.shutdown(mode);  // idempotent
    CHECK(batcher.submit(row(1.0F), in(60s)).get().error().code() == ErrorCode::kUnavailable);
  }
}

TEST_CASE("batcher: a failing batch fails each of its requests; incompatible shapes are never mixed") {
  BatcherOptions options;
  options.maxBatchRows = 8;
  options.maxWait = 200ms;
  std::atomic<int> calls{0};
  Batcher failing(
      [&](std::span<const Tensor>) -> Result<std::vector<Tensor>> {
        ++calls;
        return fail(ErrorCode::kInternal, "the model broke");
      },
      options);
  auto a = failing.submit(row(1.0F), in(60s));
  auto b = failing.submit(row(2.0F), in(60s));
  for (auto* f : {&a, &b}) {
    auto r = f->get();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kInternal);
    CHECK(r.error().message() == "the model broke");
  }
  CHECK(failing.stats().failed == 2);

  std::atomic<int> mixedBatches{0};
  Batcher shapes(
      [&](std::span<const Tensor> inputs) {
        for (const Tensor& t : inputs) {
          if (!sameRowShape(inputs.front(), t)) ++mixedBatches;
        }
        return plusOne(inputs);
      },
      options);
  std::vector<std::future<Result<Tensor>>> futures;
  for (int i = 0; i < 6; ++i) {
    const std::int64_t width = i % 2 == 0 ? 2 : 3;
    futures.push_back(shapes.submit(
        Tensor::fromFloats({1, width}, std::vector<float>(static_cast<std::size_t>(width), 1.0F)).value(),
        in(60s)));
  }
  futures.push_back(shapes.submit(row(5.0F, 3), in(60s)));  // three rows in one request
  for (auto& f : futures) CHECK(f.get().has_value());
  CHECK(mixedBatches.load() == 0);

  auto tooBig = shapes.submit(row(1.0F, 9), in(60s)).get();
  CHECK(tooBig.error().code() == ErrorCode::kInvalidArgument);
  auto scalar = shapes.submit(Tensor::fromFloats({}, {1.0F}).value(), in(60s)).get();
  CHECK(scalar.error().code() == ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace merit::serving
