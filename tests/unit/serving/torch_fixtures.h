// Test models built in C++ with torch::jit::Module::define (no Python, no downloads), saved as
// .pt files, plus a direct forward through libtorch that bypasses merit_serving. Only
// torch_fixtures.cpp includes libtorch, so the test files stay quick to compile.
//
// Thread-safety: a SavedModel's direct() may be called from any thread.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "merit/serving/tensor.h"

#include "test_support.h"

namespace merit::serving::test {

// Temporary directories: the shared test helper (tests/support/test_support.h).
using TempDir = merit::test::TempDir;

struct SavedModel {
  std::string path;
  // forward() of the in-memory module that was saved, on the CPU, in inference mode.
  std::function<Tensor(const Tensor&)> direct;
};

// relu(x W^T + b) with W [outFeatures, inFeatures]: input [N, inFeatures] float32.
SavedModel saveLinearModel(const std::filesystem::path& dir, int inFeatures, int outFeatures);
// A small CNN for [N, 1, 28, 28] float32 inputs, 10 logits per row.
SavedModel saveCnnModel(const std::filesystem::path& dir);
// x * 3 + 1 on int64 inputs of any shape.
SavedModel saveInt64Model(const std::filesystem::path& dir);
// Returns the tuple (x, x): not a single tensor.
SavedModel saveTupleModel(const std::filesystem::path& dir);
// Sums each row to one value, returning [1] for any batch: maps N rows to 1 row.
SavedModel saveRowCollapsingModel(const std::filesystem::path& dir);

bool cudaAvailable();

// A float32 tensor of the given shape filled with reproducible pseudo-random values in [-1, 1).
Tensor randomFloats(std::vector<std::int64_t> shape, std::uint32_t seed);

// Largest absolute element-wise difference; +infinity if dtype or shape differ.
double maxAbsDiff(const Tensor& a, const Tensor& b);

}  // namespace merit::serving::test
