// The only translation unit of merit_serving that includes libtorch. Every libtorch call is
// wrapped here: c10::Error and std::exception become merit::Result errors and never leave this
// file.
#include "merit/serving/model.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include "merit/util/log.h"

namespace merit::serving {

namespace {

using log::Category;

// libtorch messages carry a C++ backtrace after the first line; users need the first line.
std::string firstLine(std::string_view message) {
  const auto end = message.find('\n');
  return std::string(message.substr(0, end));
}

std::string torchMessage(const c10::Error& e) {
  return firstLine(e.what_without_backtrace());
}

// The TorchScript interpreter rethrows an operator's c10::Error as std::runtime_error whose
// message is a header, a TorchScript traceback and, last, "RuntimeError: <the cause>"; the cause
// is what a user needs. Other messages keep their first line.
std::string interpreterMessage(std::string_view message) {
  constexpr std::string_view kHeader = "The following operation failed in the TorchScript interpreter";
  if (!message.starts_with(kHeader)) return firstLine(message);
  while (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  const auto lastBreak = message.rfind('\n');
  return std::string(lastBreak == std::string_view::npos ? message : message.substr(lastBreak + 1));
}

struct ParsedDevice {
  bool cuda = false;
  int index = 0;
};

Result<ParsedDevice> parseDevice(std::string_view text) {
  if (text == "cpu") return ParsedDevice{};
  if (text == "cuda") return ParsedDevice{true, 0};
  constexpr std::string_view kPrefix = "cuda:";
  if (text.starts_with(kPrefix)) {
    const std::string_view digits = text.substr(kPrefix.size());
    int index = -1;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec == std::errc() && ptr == digits.data() + digits.size() && !digits.empty() && index >= 0) {
      return ParsedDevice{true, index};
    }
  }
  return fail(ErrorCode::kInvalidArgument,
              fmt::format("device '{}': expected \"cpu\", \"cuda\" or \"cuda:N\"", text));
}

// Views a request's values as a torch tensor without copying. The view borrows `t`, which must
// outlive it; callers copy (torch::cat, clone) before the model sees it, because a model may
// write to its input in place.
at::Tensor borrowAsTorch(const Tensor& t) {
  if (t.dtype() == DType::kFloat32) {
    auto values = t.floats();
    return torch::from_blob(const_cast<float*>(values.data()), t.shape(),
                            torch::TensorOptions().dtype(torch::kFloat32));
  }
  auto values = t.int64s();
  return torch::from_blob(const_cast<std::int64_t*>(values.data()), t.shape(),
                          torch::TensorOptions().dtype(torch::kInt64));
}

// Copies rows [firstRow, firstRow + rows) of a contiguous CPU float32 or int64 tensor.
Result<Tensor> copyRows(const at::Tensor& out, std::int64_t firstRow, std::int64_t rows) {
  std::vector<std::int64_t> shape(out.sizes().begin(), out.sizes().end());
  std::int64_t rowElems = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) rowElems *= shape[i];
  const auto begin = static_cast<std::size_t>(firstRow * rowElems);
  const auto count = static_cast<std::size_t>(rows * rowElems);
  if (!shape.empty()) shape[0] = rows;
  if (out.scalar_type() == torch::kFloat32) {
    const float* p = out.data_ptr<float>() + begin;
    return Tensor::fromFloats(std::move(shape), std::vector<float>(p, p + count));
  }
  const std::int64_t* p = out.data_ptr<std::int64_t>() + begin;
  return Tensor::fromInt64(std::move(shape), std::vector<std::int64_t>(p, p + count));
}

// Brings a model output to a contiguous CPU tensor of float32 (from any floating type) or int64
// (from any integral type or bool).
Result<at::Tensor> normaliseOutput(const c10::IValue& value) {
  if (!value.isTensor()) {
    return fail(
        ErrorCode::kInvalidArgument,
        fmt::format("the model returned a {}; merit_serving expects a single tensor", value.tagKind()));
  }
  at::Tensor out = value.toTensor();
  if (out.is_complex()) {
    return fail(ErrorCode::kInvalidArgument,
                "the model returned a complex tensor; expected real or integer values");
  }
  const auto target = out.is_floating_point() ? torch::kFloat32 : torch::kInt64;
  return out.to(torch::kCPU, target).contiguous();
}

}  // namespace

struct Model::Impl {
  // torch::jit::Module is a shared handle whose forward() is not const; running it does not
  // change the model (it is in eval mode and we hold no state), hence mutable.
  mutable torch::jit::Module module;
  torch::Device device{torch::kCPU};
  std::string deviceName;
  std::string deviceNote;
  std::string path;
  std::chrono::nanoseconds warmupTime{0};

  // Runs forward() on an input already on the right device. Errors keep libtorch's first line.
  Result<at::Tensor> run(const at::Tensor& input) const {
    try {
      c10::InferenceMode guard;
      c10::IValue value = module.forward({input});
      return normaliseOutput(value);
    } catch (const c10::OutOfMemoryError& e) {
      return fail(ErrorCode::kOverloaded, "out of memory running the model: " + torchMessage(e));
    } catch (const c10::Error& e) {
      return rejected(input, torchMessage(e));
    } catch (const std::runtime_error& e) {
      // What the interpreter throws when an operator of the model fails on this input.
      return rejected(input, interpreterMessage(e.what()));
    } catch (const std::exception& e) {
      return fail(ErrorCode::kInternal, "running the model: " + firstLine(e.what()));
    }
  }

  static tl::unexpected<Error> rejected(const at::Tensor& input, const std::string& cause) {
    // An allocator failure is load, not a bad input: the caller may retry with a smaller batch.
    const ErrorCode code = cause.find("out of memory") != std::string::npos ? ErrorCode::kOverloaded
                                                                            : ErrorCode::kInvalidArgument;
    return fail(code,
                fmt::format("the model failed on input [{}]: {}", fmt::join(input.sizes(), ", "), cause));
  }
};

Model::Model(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Model::~Model() = default;

Result<std::unique_ptr<Model>> Model::load(const ModelOptions& options) {
  MERIT_ASSIGN_OR_RETURN(ParsedDevice parsed, parseDevice(options.device));
  if (options.intraOpThreads < 0) {
    return fail(
        ErrorCode::kInvalidArgument,
        fmt::format("intra-op threads must be >= 0 (0 = libtorch default), got {}", options.intraOpThreads));
  }
  if (options.warmupRuns < 0) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("warm-up runs must be >= 0, got {}", options.warmupRuns));
  }
  std::error_code ec;
  const auto status = std::filesystem::status(options.path, ec);
  if (!std::filesystem::exists(status)) {
    return fail(ErrorCode::kNotFound, fmt::format("model file {} does not exist", options.path));
  }
  if (!std::filesystem::is_regular_file(status)) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("model path {} is not a regular file", options.path));
  }

  auto impl = std::make_unique<Impl>();
  impl->path = options.path;
  try {
    if (parsed.cuda) {
      if (!torch::cuda::is_available()) {
        impl->deviceNote = fmt::format(
            "device {} requested for model {} but CUDA is not available (no GPU or driver, or a "
            "libtorch built without CUDA); running on the CPU",
            options.device, options.path);
        MERIT_LOG_WARN(Category::kServing, "{}", impl->deviceNote);
      } else {
        const auto count = static_cast<int>(torch::cuda::device_count());
        if (parsed.index >= count) {
          return fail(ErrorCode::kInvalidArgument,
                      fmt::format("device {}: only {} CUDA device(s) present", options.device, count));
        }
        impl->device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(parsed.index));
      }
    }
    impl->deviceName = impl->device.str();
    if (options.intraOpThreads > 0) at::set_num_threads(options.intraOpThreads);
  } catch (const c10::Error& e) {
    return fail(ErrorCode::kInternal, "setting up libtorch: " + torchMessage(e));
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInternal, "setting up libtorch: " + firstLine(e.what()));
  }

  try {
    impl->module = torch::jit::load(options.path, impl->device);
    impl->module.eval();
  } catch (const c10::Error& e) {
    return fail(ErrorCode::kCorruption, fmt::format("model file {} is not a loadable TorchScript archive: {}",
                                                    options.path, torchMessage(e)));
  } catch (const std::exception& e) {
    return fail(ErrorCode::kCorruption, fmt::format("model file {} is not a loadable TorchScript archive: {}",
                                                    options.path, firstLine(e.what())));
  }
  if (!impl->module.find_method("forward")) {
    return fail(ErrorCode::kInvalidArgument, fmt::format("model {} has no forward() method", options.path));
  }

  if (options.warmupRuns > 0 && !options.warmupShape.empty()) {
    const auto start = std::chrono::steady_clock::now();
    at::Tensor input;
    try {
      const auto dtype = options.warmupDType == DType::kFloat32 ? torch::kFloat32 : torch::kInt64;
      input = torch::zeros(options.warmupShape, torch::TensorOptions().dtype(dtype).device(impl->device));
    } catch (const c10::Error& e) {
      return fail(
          ErrorCode::kInvalidArgument,
          fmt::format("warm-up shape [{}]: {}", fmt::join(options.warmupShape, ", "), torchMessage(e)));
    }
    for (int i = 0; i < options.warmupRuns; ++i) {
      auto out = impl->run(input);
      if (!out) return fail(std::move(out).error().withContext(fmt::format("warm-up of {}", options.path)));
    }
    impl->warmupTime = std::chrono::steady_clock::now() - start;
  }
  MERIT_LOG_INFO(Category::kServing, "loaded model {} on {} ({} intra-op threads, warm-up {} ms)",
                 options.path, impl->deviceName, at::get_num_threads(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(impl->warmupTime).count());
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

Result<Tensor> Model::forward(const Tensor& input) const {
  at::Tensor device;
  try {
    // clone()/to() copy, so a model that writes to its input never touches the caller's values.
    device = m_impl->device.is_cpu() ? borrowAsTorch(input).clone() : borrowAsTorch(input).to(m_impl->device);
  } catch (const c10::Error& e) {
    return fail(ErrorCode::kInternal, "copying the input to " + m_impl->deviceName + ": " + torchMessage(e));
  }
  MERIT_ASSIGN_OR_RETURN(at::Tensor out, m_impl->run(device));
  try {
    return copyRows(out, 0, out.dim() == 0 ? 1 : out.size(0));
  } catch (const c10::Error& e) {
    return fail(ErrorCode::kInternal, "reading the model output: " + torchMessage(e));
  }
}

Result<std::vector<Tensor>> Model::forwardBatch(std::span<const Tensor> inputs) const {
  if (inputs.empty()) return std::vector<Tensor>{};
  std::int64_t totalRows = 0;
  for (const Tensor& t : inputs) {
    if (!sameRowShape(inputs.front(), t)) {
      return fail(ErrorCode::kInvalidArgument,
                  fmt::format("cannot batch {} with {}: dtype and sizes after dimension 0 must match",
                              inputs.front().describe(), t.describe()));
    }
    totalRows += t.rows();
  }

  at::Tensor batch;
  try {
    std::vector<at::Tensor> views;
    views.reserve(inputs.size());
    for (const Tensor& t : inputs) views.push_back(borrowAsTorch(t));
    // torch::cat copies into one new tensor, so the model never sees the callers' memory.
    batch = torch::cat(views, 0);
    if (!m_impl->device.is_cpu()) batch = batch.to(m_impl->device);
  } catch (const c10::Error& e) {
    return fail(ErrorCode::kInternal,
                "assembling a batch of " + std::to_string(inputs.size()) + " requests: " + torchMessage(e));
  }

  MERIT_ASSIGN_OR_RETURN(at::Tensor out, m_impl->run(batch));
  if (out.dim() == 0 || out.size(0) != totalRows) {
    return fail(ErrorCode::kInternal,
                fmt::format("the model mapped {} input rows to output [{}]; batching needs one output row "
                            "per input row",
                            totalRows, fmt::join(out.sizes(), ", ")));
  }

  std::vector<Tensor> results;
  results.reserve(inputs.size());
  try {
    std::int64_t row = 0;
    for (const Tensor& t : inputs) {
      MERIT_ASSIGN_OR_RETURN(Tensor part, copyRows(out, row, t.rows()));
      results.push_back(std::move(part));
      row += t.rows();
    }
  } catch (const c10::Error& e) {
    return fail(ErrorCode::kInternal, "splitting the model output: " + torchMessage(e));
  }
  return results;
}

const std::string& Model::device() const {
  return m_impl->deviceName;
}
const std::string& Model::deviceNote() const {
  return m_impl->deviceNote;
}
const std::string& Model::path() const {
  return m_impl->path;
}
std::chrono::nanoseconds Model::warmupTime() const {
  return m_impl->warmupTime;
}

}  // namespace merit::serving
