#include "charlm_models.h"

#include <torch/script.h>

namespace merit::charlm::test {

namespace {

std::string save(torch::jit::Module& m, const std::filesystem::path& dir, const std::string& name) {
  m.eval();
  const std::string path = (dir / (name + ".pt")).string();
  m.save(path);
  return path;
}

}  // namespace

std::string saveBigramModel(const std::filesystem::path& dir, std::string_view text) {
  auto counts = torch::ones({256, 256}, torch::kFloat64);
  auto a = counts.accessor<double, 2>();
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    a[static_cast<unsigned char>(text[i])][static_cast<unsigned char>(text[i + 1])] += 1;
  }
  auto logp = torch::log(counts / counts.sum(1, true)).to(torch::kFloat32);
  torch::jit::Module m("Bigram");
  m.register_parameter("table", logp, false);
  m.define(R"(
def forward(self, x):
    return torch.embedding(self.table, x)
)");
  return save(m, dir, "bigram");
}

std::string saveUniformModel(const std::filesystem::path& dir) {
  torch::jit::Module m("Uniform");
  m.define(R"(
def forward(self, x):
    return torch.zeros([x.size(0), x.size(1), 256])
)");
  return save(m, dir, "uniform");
}

std::string saveWrongShapeModel(const std::filesystem::path& dir) {
  torch::jit::Module m("WrongShape");
  m.define(R"(
def forward(self, x):
    return torch.zeros([x.size(0), 256])
)");
  return save(m, dir, "wrong_shape");
}

std::string saveNanModel(const std::filesystem::path& dir) {
  torch::jit::Module m("Nan");
  m.define(R"(
def forward(self, x):
    return torch.full([x.size(0), x.size(1), 256], float('nan'))
)");
  return save(m, dir, "nan");
}

}  // namespace merit::charlm::test
