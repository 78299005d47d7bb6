// merit-train fashion-mnist: trains the fashion_mnist subnet's CNN on the training split of
// Debian's dataset-fashion-mnist, on the CPU, and writes it as TorchScript for the miner.
//
// The network is built and trained with libtorch's C++ frontend (torch::nn), then exported to a
// torch::jit::Module that holds the same parameters and defines forward() in TorchScript source,
// so the archive needs no C++ class to load: merit_serving::Model (and PyTorch's torch.jit.load)
// read it like any torch.jit.save output. The export is checked: its outputs must equal the
// frontend model's on test images.
//
// Model contract (the subnet's): float32 [N, 1, 28, 28], pixels in [0, 1] -> logits [N, 10].
//
// Training uses the validator's augmentation (random shifts of up to 2 pixels and pixel noise,
// fashion_mnist_data.h) so the model is scored on the kind of images it was trained on.
// Deterministic for a given --seed and --threads.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <torch/script.h>
#include <torch/torch.h>

#include "fashion_mnist_data.h"
#include "progress.h"
#include "train.h"

namespace merit::train {
namespace {

namespace fm = merit::fashion_mnist;

struct Options {
  double epochs = 1;
  std::string out;
  std::uint64_t seed = 1;
  int batchSize = 64;
  double lr = 2e-3;
  // One thread by default: this network's operations are too small for libtorch's intra-op
  // parallelism to pay, and on a busy machine its spinning worker threads cost several times over.
  int threads = 1;
  std::string dataDir = fm::kDefaultDataDir;
  bool noAugment = false;
};

// Two 3×3 convolutions with max-pooling and two linear layers (about 106k parameters): small
// enough for an epoch in well under a minute on two cores, good for about 90% test accuracy.
struct CnnImpl : torch::nn::Module {
  CnnImpl()
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 16, 3).padding(1)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(16, 32, 3).padding(1)))),
        fc1(register_module("fc1", torch::nn::Linear(32 * 7 * 7, 64))),
        fc2(register_module("fc2", torch::nn::Linear(64, 10))) {}

  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(conv1(x)), 2);
    x = torch::max_pool2d(torch::relu(conv2(x)), 2);
    x = torch::relu(fc1(torch::flatten(x, 1)));
    return fc2(x);
  }

  torch::nn::Conv2d conv1;
  torch::nn::Conv2d conv2;
  torch::nn::Linear fc1;
  torch::nn::Linear fc2;
};
TORCH_MODULE(Cnn);

// The same network as TorchScript source over the frontend model's parameters (copied).
torch::jit::Module exportModule(Cnn& net) {
  torch::NoGradGuard noGrad;
  torch::jit::Module m("FashionMnistCnn");
  auto add = [&m](const char* name, const torch::Tensor& t) {
    m.register_parameter(name, t.detach().clone(), false);
  };
  add("conv1_weight", net->conv1->weight);
  add("conv1_bias", net->conv1->bias);
  add("conv2_weight", net->conv2->weight);
  add("conv2_bias", net->conv2->bias);
  add("fc1_weight", net->fc1->weight);
  add("fc1_bias", net->fc1->bias);
  add("fc2_weight", net->fc2->weight);
  add("fc2_bias", net->fc2->bias);
  m.define(R"(
def forward(self, x):
    x = torch.max_pool2d(torch.relu(torch.conv2d(x, self.conv1_weight, self.conv1_bias, [1, 1], [1, 1])), [2, 2])
    x = torch.max_pool2d(torch.relu(torch.conv2d(x, self.conv2_weight, self.conv2_bias, [1, 1], [1, 1])), [2, 2])
    x = torch.relu(torch.linear(torch.flatten(x, 1), self.fc1_weight, self.fc1_bias))
    return torch.linear(x, self.fc2_weight, self.fc2_bias)
)");
  m.eval();
  return m;
}

// The first `count` images of `pixels` (u8, 784 bytes each) as float32 [count, 1, 28, 28] in [0, 1].
torch::Tensor toInput(const std::vector<std::uint8_t>& pixels, std::size_t count) {
  auto bytes = torch::from_blob(const_cast<std::uint8_t*>(pixels.data()),
                                {static_cast<std::int64_t>(count), 1, 28, 28}, torch::kUInt8);
  return bytes.to(torch::kFloat32).div_(255.0f);
}

struct Evaluation {
  double accuracy = 0;
  double logLoss = 0;
  double quality = 0;  // mean validator score over challenges of 16 augmented test images
};

// Runs `model` over the test split, clean (accuracy, log loss) and as the validator augments it
// (the subnet's quality score, challenge by challenge).
Evaluation evaluate(torch::jit::Module& model, const fm::Split& test, std::uint64_t seed) {
  torch::NoGradGuard noGrad;
  constexpr std::size_t kChunk = 500;
  auto probabilities = [&](const std::vector<std::uint8_t>& images) {
    std::vector<float> probs;
    probs.reserve(test.count * fm::kClasses);
    for (std::size_t first = 0; first < test.count; first += kChunk) {
      const std::size_t n = std::min(kChunk, test.count - first);
      std::vector<std::uint8_t> chunk(
          images.begin() + static_cast<std::ptrdiff_t>(first * fm::kPixels),
          images.begin() + static_cast<std::ptrdiff_t>((first + n) * fm::kPixels));
      torch::Tensor logits = model.forward({toInput(chunk, n)}).toTensor().contiguous();
      auto soft = fm::softmaxRows(std::span<const float>(logits.data_ptr<float>(), n * fm::kClasses));
      probs.insert(probs.end(), soft.begin(), soft.end());
    }
    return probs;
  };
  Evaluation e;
  const auto clean = probabilities(test.images);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < test.count; ++i) {
    const float* row = clean.data() + i * fm::kClasses;
    const auto best = static_cast<std::size_t>(std::max_element(row, row + fm::kClasses) - row);
    correct += best == test.labels[i] ? 1 : 0;
  }
  e.accuracy = static_cast<double>(correct) / static_cast<double>(test.count);
  e.logLoss = fm::meanLogLoss(test.labels, clean, fm::ScoreOptions{}.floor);

  std::vector<std::uint8_t> augmented(test.images.size());
  std::mt19937_64 rng(seed ^ 0x5eed5eed5eed5eedull);
  for (std::size_t i = 0; i < test.count; ++i) {
    fm::augment(test.image(i), std::span(augmented).subspan(i * fm::kPixels, fm::kPixels),
                fm::AugmentOptions{}, rng);
  }
  const auto noisy = probabilities(augmented);
  constexpr std::size_t kChallenge = 16;
  double total = 0;
  std::size_t challenges = 0;
  for (std::size_t first = 0; first + kChallenge <= test.count; first += kChallenge, ++challenges) {
    total += fm::scoreProbabilities(std::span(test.labels).subspan(first, kChallenge),
                                    std::span(noisy).subspan(first * fm::kClasses, kChallenge * fm::kClasses),
                                    fm::ScoreOptions{});
  }
  e.quality = challenges > 0 ? total / static_cast<double>(challenges) : 0.0;
  return e;
}

int run(const Options& o) {
  if (!(o.epochs >= 0 && o.epochs <= 1000)) {
    std::fprintf(stderr, "error: --epochs must be between 0 and 1000\n");
    return kExitUsage;
  }
  if (o.threads > 0) at::set_num_threads(o.threads);
  torch::manual_seed(o.seed);

  auto test = fm::loadSplit(o.dataDir, fm::SplitName::kTest);
  if (!test) {
    std::fprintf(stderr, "error: %s\n", test.error().message().c_str());
    return kExitError;
  }
  Cnn net;
  const auto start = std::chrono::steady_clock::now();
  if (o.epochs > 0) {
    auto train = fm::loadSplit(o.dataDir, fm::SplitName::kTrain);
    if (!train) {
      std::fprintf(stderr, "error: %s\n", train.error().message().c_str());
      return kExitError;
    }
    const auto total = static_cast<std::uint64_t>(std::llround(o.epochs * static_cast<double>(train->count)));
    std::fprintf(stderr, "training on %zu images for %g epochs (%llu samples), batch %d, lr %g, %d threads\n",
                 train->count, o.epochs, static_cast<unsigned long long>(total), o.batchSize, o.lr,
                 at::get_num_threads());
    torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(o.lr));
    std::mt19937_64 rng(o.seed);
    std::vector<std::size_t> order(train->count);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::size_t position = order.size();  // reshuffle on first use
    std::vector<std::uint8_t> batchPixels;
    std::vector<std::int64_t> batchLabels;
    const fm::AugmentOptions augment = o.noAugment ? fm::AugmentOptions{0, 0} : fm::AugmentOptions{};
    Progress progress("fashion-mnist", total);
    net->train();
    double smoothed = std::log(10.0);
    std::uint64_t done = 0;
    while (done < total) {
      const std::size_t n = static_cast<std::size_t>(
          std::min<std::uint64_t>(static_cast<std::uint64_t>(o.batchSize), total - done));
      batchPixels.resize(n * fm::kPixels);
      batchLabels.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        if (position == order.size()) {
          std::shuffle(order.begin(), order.end(), rng);
          position = 0;
        }
        const std::size_t index = order[position++];
        fm::augment(train->image(index), std::span(batchPixels).subspan(i * fm::kPixels, fm::kPixels),
                    augment, rng);
        batchLabels[i] = train->labels[index];
      }
      torch::Tensor input = toInput(batchPixels, n);
      torch::Tensor target =
          torch::from_blob(batchLabels.data(), {static_cast<std::int64_t>(n)}, torch::kInt64);
      optimizer.zero_grad();
      torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(input), target);
      loss.backward();
      optimizer.step();
      smoothed = 0.98 * smoothed + 0.02 * loss.item<double>();
      done += n;
      progress.update(done, smoothed);
    }
    progress.finish(smoothed);
  }
  const double trainSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  net->eval();

  torch::jit::Module exported = exportModule(net);
  {
    // The export must compute what was trained.
    torch::NoGradGuard noGrad;
    const std::size_t n = std::min<std::size_t>(256, test->count);
    std::vector<std::uint8_t> sample(test->images.begin(),
                                     test->images.begin() + static_cast<std::ptrdiff_t>(n * fm::kPixels));
    torch::Tensor x = toInput(sample, n);
    const double diff = (net->forward(x) - exported.forward({x}).toTensor()).abs().max().item<double>();
    if (!(diff <= 1e-4)) {
      std::fprintf(stderr,
                   "error: the exported TorchScript model differs from the trained one (max |diff| %g)\n",
                   diff);
      return kExitError;
    }
  }
  try {
    exported.save(o.out);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    std::fprintf(stderr, "error: cannot write %s: %s\n", o.out.c_str(),
                 what.substr(0, what.find('\n')).c_str());
    return kExitError;
  }
  // Evaluate what was written, loaded back as the miner will load it.
  torch::jit::Module saved = torch::jit::load(o.out);
  saved.eval();
  const Evaluation e = evaluate(saved, *test, o.seed);
  std::size_t parameters = 0;
  for (const auto& p : net->parameters()) parameters += static_cast<std::size_t>(p.numel());
  std::printf(
      "test accuracy %.4f, test log loss %.4f, subnet quality %.4f (challenges of 16 augmented test "
      "images)\n",
      e.accuracy, e.logLoss, e.quality);
  std::printf("trained %g epochs in %s (%.1f s); wrote %s (TorchScript, %zu parameters)\n", o.epochs,
              formatDuration(trainSeconds).c_str(), trainSeconds, o.out.c_str(), parameters);
  return kExitOk;
}

void setup(CLI::App& command, int& exitCode) {
  auto options = std::make_shared<Options>();
  command
      .add_option("--epochs", options->epochs,
                  "Passes over the training split; fractions allowed, 0 = untrained")
      ->required();
  command.add_option("--out", options->out, "Where to write the TorchScript model (.pt)")->required();
  command.add_option("--seed", options->seed, "Seed for initialisation, shuffling and augmentation")
      ->capture_default_str();
  command.add_option("--batch-size", options->batchSize, "Images per training step")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  command.add_option("--lr", options->lr, "Adam learning rate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option("--threads", options->threads,
                  "libtorch intra-op threads (0 = libtorch's default, one per core)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  command.add_option("--data-dir", options->dataDir, "Directory holding the Fashion-MNIST IDX files")
      ->capture_default_str();
  command.add_flag("--no-augment", options->noAugment,
                   "Train on the images as they are (no shifts or noise)");
  command.callback([options, &exitCode] {
    try {
      exitCode = run(*options);
    } catch (const std::exception& e) {
      const std::string what = e.what();
      std::fprintf(stderr, "error: %s\n", what.substr(0, what.find('\n')).c_str());
      exitCode = kExitError;
    }
  });
}

}  // namespace

MERIT_TRAINER("fashion-mnist",
              "Train the fashion_mnist subnet's CNN (Fashion-MNIST, CPU) and write TorchScript", &setup);

}  // namespace merit::train
