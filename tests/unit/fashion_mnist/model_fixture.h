// Models made in the test with libtorch (model_fixture.cpp is the only file including it).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace merit::fashion_mnist::test {

// A nearest-class-mean classifier as TorchScript: logits_c = k (x·mu_c − |mu_c|²/2), a real if
// weak classifier. `means` is 10 × 784, pixels in [0, 1].
void saveCentroidModel(const std::string& path, std::span<const float> means, float k);
// A model that returns `rows` rows per input, whatever the input (breaks the [N, 10] contract).
void saveWrongShapeModel(const std::string& path);
// Runs a saved model on float32 [n, 1, 28, 28] and returns its output, flattened.
std::vector<float> runModel(const std::string& path, std::span<const float> input, std::int64_t n);

}  // namespace merit::fashion_mnist::test
