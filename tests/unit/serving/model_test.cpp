#include "merit/serving/model.h"

#include <fstream>
#include <iterator>
#include <string>

#include <doctest/doctest.h>

#include "merit/util/log.h"

#include "torch_fixtures.h"

namespace merit::serving {
namespace {

using test::maxAbsDiff;
using test::randomFloats;
using test::TempDir;

Tensor linearInput(std::int64_t rows, std::uint32_t seed) {
  return randomFloats({rows, 4}, seed);
}

TEST_CASE("tensor: shape checks and row compatibility") {
  CHECK(Tensor::fromFloats({2, 3}, std::vector<float>(6)).has_value());
  auto bad = Tensor::fromFloats({2, 3}, std::vector<float>(5));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code() == ErrorCode::kInvalidArgument);
  CHECK(Tensor::fromInt64({-1}, {}).error().code() == ErrorCode::kInvalidArgument);
  CHECK(Tensor::fromFloats({}, {1.5F})->numel() == 1);

  auto a = Tensor::fromFloats({1, 4}, std::vector<float>(4)).value();
  auto b = Tensor::fromFloats({3, 4}, std::vector<float>(12)).value();
  auto c = Tensor::fromFloats({1, 5}, std::vector<float>(5)).value();
  auto d = Tensor::fromInt64({1, 4}, std::vector<std::int64_t>(4)).value();
  CHECK(sameRowShape(a, b));
  CHECK_FALSE(sameRowShape(a, c));
  CHECK_FALSE(sameRowShape(a, d));
  CHECK(b.describe() == "float32[3, 4]");
  CHECK(std::move(b).takeFloats().size() == 12);
}

TEST_CASE("model: a TorchScript file built in C++ loads and matches a direct forward") {
  TempDir dir;
  auto saved = test::saveLinearModel(dir.path(), 4, 3);
  auto model = Model::load({.path = saved.path, .device = "cpu", .intraOpThreads = 1});
  REQUIRE_MESSAGE(model.has_value(), model.error().toString());
  CHECK((*model)->device() == "cpu");
  CHECK((*model)->deviceNote().empty());

  for (std::uint32_t seed = 1; seed <= 5; ++seed) {
    Tensor input = linearInput(seed, seed);
    auto out = (*model)->forward(input);
    REQUIRE_MESSAGE(out.has_value(), out.error().toString());
    Tensor expected = saved.direct(input);
    CHECK(out->shape() == std::vector<std::int64_t>{seed, 3});
    CHECK(maxAbsDiff(*out, expected) < 1e-5);
  }
}

TEST_CASE("model: forwardBatch concatenates, runs once and splits back per request") {
  TempDir dir;
  auto saved = test::saveCnnModel(dir.path());
  auto model = Model::load({.path = saved.path}).value();
  std::vector<Tensor> inputs;
  inputs.push_back(randomFloats({1, 1, 28, 28}, 1));
  inputs.push_back(randomFloats({3, 1, 28, 28}, 2));
  inputs.push_back(randomFloats({2, 1, 28, 28}, 3));
  auto outs = model->forwardBatch(inputs);
  REQUIRE_MESSAGE(outs.has_value(), outs.error().toString());
  REQUIRE(outs->size() == 3);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    CHECK((*outs)[i].shape() == std::vector<std::int64_t>{inputs[i].rows(), 10});
    CHECK(maxAbsDiff((*outs)[i], saved.direct(inputs[i])) < 1e-4);
  }

  std::vector<Tensor> mixed;
  mixed.push_back(randomFloats({1, 1, 28, 28}, 4));
  mixed.push_back(randomFloats({1, 1, 28, 27}, 5));
  auto refused = model->forwardBatch(mixed);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
  CHECK(model->forwardBatch({})->empty());
}

TEST_CASE("model: int64 inputs and outputs") {
  TempDir dir;
  auto saved = test::saveInt64Model(dir.path());
  auto model = Model::load({.path = saved.path}).value();
  auto input = Tensor::fromInt64({2, 3}, {0, 1, 2, -3, 4, 5}).value();
  auto out = model->forward(input);
  REQUIRE_MESSAGE(out.has_value(), out.error().toString());
  REQUIRE(out->dtype() == DType::kInt64);
  CHECK(std::vector<std::int64_t>(out->int64s().begin(), out->int64s().end()) ==
        std::vector<std::int64_t>{1, 4, 7, -8, 13, 16});
  CHECK(*out == saved.direct(input));
}

TEST_CASE("model: cuda:0 without CUDA falls back to the CPU and says so") {
  if (test::cudaAvailable()) {
    MESSAGE("CUDA is available here; the fall-back path is not exercised");
    return;
  }
  TempDir dir;
  auto saved = test::saveLinearModel(dir.path(), 4, 3);
  const auto logPath = (dir.path() / "serving.log").string();
  REQUIRE(log::setOutputFile(logPath).has_value());

  auto model = Model::load({.path = saved.path, .device = "cuda:0"});
  REQUIRE_MESSAGE(model.has_value(), model.error().toString());
  CHECK((*model)->device() == "cpu");
  CHECK((*model)->deviceNote().find("CUDA is not available") != std::string::npos);
  CHECK((*model)->deviceNote().find("running on the CPU") != std::string::npos);
  Tensor input = linearInput(2, 9);
  CHECK(maxAbsDiff((*model)->forward(input).value(), saved.direct(input)) < 1e-5);

  std::ifstream in(logPath);
  const std::string logged((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(logged.find("[serving]") != std::string::npos);
  CHECK(logged.find("device cuda:0 requested") != std::string::npos);
  CHECK(logged.find("running on the CPU") != std::string::npos);
}

TEST_CASE("model: bad device strings and option values are refused") {
  TempDir dir;
  auto saved = test::saveLinearModel(dir.path(), 4, 3);
  for (const char* device : {"gpu", "cuda:", "cuda:x", "cuda:-1", "cuda:0x", "CPU", ""}) {
    auto model = Model::load({.path = saved.path, .device = device});
    REQUIRE_FALSE(model.has_value());
    CHECK(model.error().code() == ErrorCode::kInvalidArgument);
    CHECK(model.error().message().find("cuda:N") != std::string::npos);
  }
  CHECK(Model::load({.path = saved.path, .intraOpThreads = -1}).error().code() ==
        ErrorCode::kInvalidArgument);
  CHECK(Model::load({.path = saved.path, .warmupRuns = -2}).error().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("model: a missing or corrupt .pt file gives a clear error") {
  TempDir dir;
  const auto missing = (dir.path() / "nope.pt").string();
  auto notFound = Model::load({.path = missing});
  REQUIRE_FALSE(notFound.has_value());
  CHECK(notFound.error().code() == ErrorCode::kNotFound);
  CHECK(notFound.error().message().find(missing) != std::string::npos);

  const auto garbage = (dir.path() / "garbage.pt").string();
  std::ofstream(garbage) << "this is not a TorchScript archive, only some text\n";
  auto corrupt = Model::load({.path = garbage});
  REQUIRE_FALSE(corrupt.has_value());
  CHECK(corrupt.error().code() == ErrorCode::kCorruption);
  CHECK(corrupt.error().message().find("not a loadable TorchScript archive") != std::string::npos);
  CHECK(corrupt.error().message().find('\n') == std::string::npos);  // no C++ backtrace

  // A real archive cut in half.
  auto saved = test::saveCnnModel(dir.path());
  const auto size = std::filesystem::file_size(saved.path);
  std::filesystem::resize_file(saved.path, size / 2);
  auto truncated = Model::load({.path = saved.path});
  REQUIRE_FALSE(truncated.has_value());
  CHECK(truncated.error().code() == ErrorCode::kCorruption);

  auto directory = Model::load({.path = dir.path().string()});
  REQUIRE_FALSE(directory.has_value());
  CHECK(directory.error().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("model: warm-up runs at load, and a shape the model rejects fails the load") {
  TempDir dir;
  auto saved = test::saveCnnModel(dir.path());
  auto warm = Model::load({.path = saved.path, .warmupRuns = 2, .warmupShape = {4, 1, 28, 28}});
  REQUIRE_MESSAGE(warm.has_value(), warm.error().toString());
  CHECK((*warm)->warmupTime().count() > 0);

  auto bad = Model::load({.path = saved.path, .warmupRuns = 1, .warmupShape = {4, 3, 28, 28}});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code() == ErrorCode::kInvalidArgument);
  CHECK(bad.error().message().find("warm-up") != std::string::npos);
}

TEST_CASE("model: inputs the model rejects and outputs that are not one tensor are errors, not crashes") {
  TempDir dir;
  auto cnn = Model::load({.path = test::saveCnnModel(dir.path()).path}).value();
  auto wrong = cnn->forward(randomFloats({1, 2, 28, 28}, 1));
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().code() == ErrorCode::kInvalidArgument);
  CHECK(wrong.error().message().find("expected input[1, 2, 28, 28] to have 1 channels") != std::string::npos);
  CHECK(wrong.error().message().find('\n') == std::string::npos);

  auto tuple = Model::load({.path = test::saveTupleModel(dir.path()).path}).value();
  auto notTensor = tuple->forward(randomFloats({1, 4}, 1));
  REQUIRE_FALSE(notTensor.has_value());
  CHECK(notTensor.error().code() == ErrorCode::kInvalidArgument);
  CHECK(notTensor.error().message().find("single tensor") != std::string::npos);

  auto collapse = Model::load({.path = test::saveRowCollapsingModel(dir.path()).path}).value();
  std::vector<Tensor> two{randomFloats({1, 4}, 1), randomFloats({1, 4}, 2)};
  auto unsplittable = collapse->forwardBatch(two);
  REQUIRE_FALSE(unsplittable.has_value());
  CHECK(unsplittable.error().code() == ErrorCode::kInternal);
  CHECK(unsplittable.error().message().find("one output row per input row") != std::string::npos);
}

}  // namespace
}  // namespace merit::serving
