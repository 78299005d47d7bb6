#include "model_fixture.h"

#include <torch/script.h>
#include <torch/torch.h>

namespace merit::fashion_mnist::test {

void saveCentroidModel(const std::string& path, std::span<const float> means, float k) {
  torch::Tensor mu = torch::from_blob(const_cast<float*>(means.data()), {10, 784}, torch::kFloat32).clone();
  torch::jit::Module m("Centroid");
  m.register_parameter("weight", mu * k, false);
  m.register_parameter("bias", -0.5f * k * (mu * mu).sum(1), false);
  m.define(R"(
def forward(self, x):
    return torch.linear(torch.flatten(x, 1), self.weight, self.bias)
)");
  m.eval();
  m.save(path);
}

void saveWrongShapeModel(const std::string& path) {
  torch::jit::Module m("WrongShape");
  m.define(R"(
def forward(self, x):
    return torch.zeros([x.size(0), 7])
)");
  m.save(path);
}

std::vector<float> runModel(const std::string& path, std::span<const float> input, std::int64_t n) {
  torch::jit::Module m = torch::jit::load(path);
  m.eval();
  torch::NoGradGuard noGrad;
  torch::Tensor x =
      torch::from_blob(const_cast<float*>(input.data()), {n, 1, 28, 28}, torch::kFloat32).clone();
  torch::Tensor out = m.forward({x}).toTensor().contiguous();
  return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
}

}  // namespace merit::fashion_mnist::test
