#include "torch_fixtures.h"

#include <c10/core/InferenceMode.h>
#include <cmath>
#include <limits>
#include <random>

#include <torch/cuda.h>
#include <torch/script.h>

namespace merit::serving::test {

namespace {

at::Tensor toTorch(const Tensor& t) {
  if (t.dtype() == DType::kFloat32) {
    return torch::from_blob(const_cast<float*>(t.floats().data()), t.shape(), torch::kFloat32).clone();
  }
  return torch::from_blob(const_cast<std::int64_t*>(t.int64s().data()), t.shape(), torch::kInt64).clone();
}

Tensor fromTorch(const at::Tensor& value) {
  at::Tensor t = value.contiguous();
  std::vector<std::int64_t> shape(t.sizes().begin(), t.sizes().end());
  if (t.scalar_type() == torch::kFloat32) {
    const float* p = t.data_ptr<float>();
    return Tensor::fromFloats(shape, std::vector<float>(p, p + t.numel())).value();
  }
  at::Tensor l = t.to(torch::kInt64);
  const std::int64_t* p = l.data_ptr<std::int64_t>();
  return Tensor::fromInt64(shape, std::vector<std::int64_t>(p, p + l.numel())).value();
}

SavedModel save(torch::jit::Module module, const std::filesystem::path& dir, const std::string& name) {
  module.eval();
  const std::string path = (dir / (name + ".pt")).string();
  module.save(path);
  return SavedModel{path, [module](const Tensor& input) mutable {
                      c10::InferenceMode guard;
                      return fromTorch(module.forward({toTorch(input)}).toTensor());
                    }};
}

}  // namespace

SavedModel saveLinearModel(const std::filesystem::path& dir, int inFeatures, int outFeatures) {
  torch::manual_seed(7);
  torch::jit::Module m("Linear");
  m.register_parameter("weight", torch::randn({outFeatures, inFeatures}), false);
  m.register_parameter("bias", torch::randn({outFeatures}), false);
  m.define(R"(
def forward(self, x):
    return torch.relu(torch.linear(x, self.weight, self.bias))
)");
  return save(m, dir, "linear");
}

SavedModel saveCnnModel(const std::filesystem::path& dir) {
  torch::manual_seed(11);
  torch::jit::Module m("Cnn");
  m.register_parameter("conv1_w", torch::randn({8, 1, 3, 3}) * 0.3, false);
  m.register_parameter("conv1_b", torch::zeros({8}), false);
  m.register_parameter("conv2_w", torch::randn({16, 8, 3, 3}) * 0.1, false);
  m.register_parameter("conv2_b", torch::zeros({16}), false);
  m.register_parameter("fc_w", torch::randn({10, 16 * 7 * 7}) * 0.02, false);
  m.register_parameter("fc_b", torch::zeros({10}), false);
  m.define(R"(
def forward(self, x):
    x = torch.max_pool2d(torch.relu(torch.conv2d(x, self.conv1_w, self.conv1_b, [1, 1], [1, 1])), [2, 2])
    x = torch.max_pool2d(torch.relu(torch.conv2d(x, self.conv2_w, self.conv2_b, [1, 1], [1, 1])), [2, 2])
    return torch.linear(torch.flatten(x, 1), self.fc_w, self.fc_b)
)");
  return save(m, dir, "cnn");
}

SavedModel saveInt64Model(const std::filesystem::path& dir) {
  torch::jit::Module m("Affine");
  m.define(R"(
def forward(self, x):
    return x * 3 + 1
)");
  return save(m, dir, "int64");
}

SavedModel saveTupleModel(const std::filesystem::path& dir) {
  torch::jit::Module m("Tuple");
  m.define(R"(
def forward(self, x):
    return (x, x)
)");
  torch::jit::Module saved = m;
  saved.eval();
  const std::string path = (dir / "tuple.pt").string();
  saved.save(path);
  return SavedModel{path, [](const Tensor& input) { return input; }};
}

SavedModel saveRowCollapsingModel(const std::filesystem::path& dir) {
  torch::jit::Module m("Collapse");
  m.define(R"(
def forward(self, x):
    return torch.sum(x).reshape([1])
)");
  return save(m, dir, "collapse");
}

bool cudaAvailable() {
  return torch::cuda::is_available();
}

Tensor randomFloats(std::vector<std::int64_t> shape, std::uint32_t seed) {
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0F, 1.0F);
  std::vector<float> data(n);
  for (float& v : data) v = dist(rng);
  return Tensor::fromFloats(std::move(shape), std::move(data)).value();
}

double maxAbsDiff(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  if (a.dtype() == DType::kFloat32) {
    for (std::size_t i = 0; i < a.numel(); ++i) {
      worst = std::max(worst, std::fabs(static_cast<double>(a.floats()[i]) - b.floats()[i]));
    }
  } else {
    for (std::size_t i = 0; i < a.numel(); ++i) {
      worst = std::max(worst, std::fabs(static_cast<double>(a.int64s()[i] - b.int64s()[i])));
    }
  }
  return worst;
}

}  // namespace merit::serving::test
