// Model: a TorchScript model (a `.pt` file written by PyTorch's torch.jit.save or by
// torch::jit::Module::save) loaded with libtorch and run in inference mode on CPU or one CUDA
// device. libtorch stays behind a pimpl: this header, like the rest of merit_serving's public
// interface, includes no torch headers, so only src/serving/model.cpp pays for them.
//
// Thread-safety: load() may be called from any thread. After load(), forward() and
// forwardBatch() may be called concurrently from any number of threads (TorchScript methods are
// re-entrant and every call is stateless here); the accessors are const and safe anywhere. The
// intra-op thread count is process-wide in libtorch (at::set_num_threads), so the last model
// loaded with a non-zero `intraOpThreads` decides it for the whole process.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "merit/serving/tensor.h"
#include "merit/util/result.h"

namespace merit::serving {

struct ModelOptions {
  std::string path{};          // the .pt file
  std::string device = "cpu";  // "cpu", "cuda" (= "cuda:0") or "cuda:N"
  // libtorch's intra-op thread pool size (process-wide); 0 leaves libtorch's default.
  int intraOpThreads = 0;
  // Forward passes run once at load on a zero input of warmupShape (e.g. {32, 1, 28, 28}) and
  // warmupDType, so the first real request does not pay for TorchScript's profiling and
  // optimisation passes or for allocator growth. warmupRuns = 0 or an empty shape: no warm-up.
  int warmupRuns = 0;
  std::vector<std::int64_t> warmupShape{};
  DType warmupDType = DType::kFloat32;
};

class Model {
 public:
  // Loads the model and moves it to the device. Errors: not_found (no such file),
  // corruption (the file is not a loadable TorchScript archive), invalid_argument (a bad device
  // string, a CUDA index past the devices present, a bad thread count, a warm-up shape the
  // model rejects), internal (anything else libtorch reports). When CUDA is requested but
  // libtorch reports none (no GPU, no driver, or a CPU-only libtorch) the model runs on the CPU
  // and a warning saying so is logged (category "serving"); deviceNote() repeats it.
  static Result<std::unique_ptr<Model>> load(const ModelOptions& options);

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Runs the model's forward() on one input. Float inputs go in as float32 and int64 inputs as
  // int64. The output must be a single tensor; floating outputs come back as float32 and
  // integral or boolean ones as int64. A model that rejects the input (wrong shape, dtype) gives
  // invalid_argument with libtorch's first message line.
  Result<Tensor> forward(const Tensor& input) const;

  // Runs many requests as one batch: the inputs (which must all have the same dtype and the
  // same sizes after dimension 0) are concatenated along dimension 0 with torch::cat, run once,
  // and the output is split back along dimension 0 in the same proportions, so result i belongs
  // to inputs[i]. The model must map N input rows to N output rows (internal error otherwise).
  Result<std::vector<Tensor>> forwardBatch(std::span<const Tensor> inputs) const;

  // The device the model runs on, normalised: "cpu" or "cuda:N".
  const std::string& device() const;
  // Empty, or the reason the requested device was not used (the CPU fall-back warning).
  const std::string& deviceNote() const;
  const std::string& path() const;
  // Time the warm-up runs took (zero without warm-up).
  std::chrono::nanoseconds warmupTime() const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace merit::serving
