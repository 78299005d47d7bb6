// merit-train charlm: a byte-level GRU language model for the charlm subnet, trained on the CPU
// on the training side of the fortune corpus (merit/charlm/corpus.h), evaluated on the held-out
// side, and written as TorchScript that merit_serving::Model (the charlm miner) loads.
//
//   merit-train charlm [--steps 1000 | --epochs E] --out charlm.pt [--seed 1] [--hidden 128]
//                      [--context 64] [--batch-size 32] [--lr 0.01] [--threads 1] [--corpus-dir DIR]
//
// Model: embedding(256, E) -> one GRU layer (hidden H) -> linear(H, 256), E = min(64, H). It is
// trained with libtorch's C++ frontend on random windows of `context` bytes (next-byte
// cross-entropy at every position, Adam, cosine learning-rate decay to a tenth, gradients
// clipped to norm 1), then exported to a torch::jit::Module whose parameters are copies of the
// trained ones and whose forward is TorchScript source calling torch.gru, so PyTorch and this
// trainer produce interchangeable files. The exported file is loaded back and must reproduce the
// trained model's logits before the trainer reports success.
//
// The contract (docs/subnets/charlm.md): forward(x: int64 [N, T] byte values) -> float logits
// [N, T, 256], position t holding the logits of the byte after x[:, :t+1].
//
// Deterministic for a given seed, corpus and --threads (the thread count may change the order of
// floating-point reductions). One thread is the default: the GRU's per-step matrices are small,
// and on a busy 2-core machine two OpenMP threads ran about ten times slower than one.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <torch/script.h>
#include <torch/torch.h>

#include "merit/charlm/corpus.h"

#include "progress.h"
#include "train.h"

namespace merit::train {
namespace {

constexpr std::int64_t kAlphabet = 256;
constexpr std::int64_t kEvalWindows = 4096;
constexpr std::int64_t kEvalBatch = 256;
constexpr double kLn2 = 0.69314718055994530942;

struct CharlmOptions {
  std::uint64_t steps = 1000;
  double epochs = 0;
  std::string out;
  std::uint64_t seed = 1;
  std::int64_t hidden = 128;
  std::int64_t context = 64;
  std::int64_t batchSize = 32;
  double lr = 1e-2;
  int threads = 1;
  std::string corpusDir{charlm::kDefaultCorpusDir};
};

struct CharGruImpl : torch::nn::Module {
  CharGruImpl(std::int64_t embed, std::int64_t hidden)
      : embedding(register_module("embedding", torch::nn::Embedding(kAlphabet, embed))),
        gru(register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(embed, hidden).batch_first(true)))),
        out(register_module("out", torch::nn::Linear(hidden, kAlphabet))) {}

  torch::Tensor forward(const torch::Tensor& x) {
    auto [states, last] = gru->forward(embedding->forward(x));
    (void)last;
    return out->forward(states);
  }

  torch::nn::Embedding embedding;
  torch::nn::GRU gru;
  torch::nn::Linear out;
};
TORCH_MODULE(CharGru);

// The exported model's forward, in TorchScript. torch.gru's arguments after the parameter list:
// has_biases, num_layers, dropout, train, bidirectional, batch_first.
constexpr const char* kForwardSource = R"(
def forward(self, x):
    e = torch.embedding(self.embedding, x)
    h0 = torch.zeros([1, x.size(0), self.weight_hh_l0.size(1)], dtype=e.dtype, device=e.device)
    states, last = torch.gru(e, h0, [self.weight_ih_l0, self.weight_hh_l0, self.bias_ih_l0, self.bias_hh_l0],
                             True, 1, 0.0, False, False, True)
    return torch.linear(states, self.out_weight, self.out_bias)
)";

torch::jit::Module exportModel(CharGru& model) {
  torch::jit::Module m("CharGru");
  auto copy = [](const torch::Tensor& t) { return t.detach().clone(); };
  m.register_parameter("embedding", copy(model->embedding->weight), false);
  for (const auto& p : model->gru->named_parameters()) m.register_parameter(p.key(), copy(p.value()), false);
  m.register_parameter("out_weight", copy(model->out->weight), false);
  m.register_parameter("out_bias", copy(model->out->bias), false);
  m.define(kForwardSource);
  m.eval();
  return m;
}

// Windows of `length` bytes of `text` starting at `offsets`, as int64 [offsets, length]; with
// `shift` 1 the windows start one byte later (the targets).
torch::Tensor windows(const std::string& text, const std::vector<std::size_t>& offsets, std::int64_t length,
                      std::size_t shift) {
  auto t = torch::empty({static_cast<std::int64_t>(offsets.size()), length}, torch::kInt64);
  auto a = t.accessor<std::int64_t, 2>();
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    const auto* src = reinterpret_cast<const unsigned char*>(text.data()) + offsets[i] + shift;
    for (std::int64_t j = 0; j < length; ++j) a[static_cast<std::int64_t>(i)][j] = src[j];
  }
  return t;
}

struct Evaluation {
  double lastBits = 0;  // at the last position of each window: what validators score
  double allBits = 0;   // at every position
};

// Held-out bits per character over kEvalWindows windows at evenly spaced offsets.
template <typename Forward>
Evaluation evaluate(Forward&& forward, const std::string& text, std::int64_t context) {
  torch::NoGradGuard noGrad;
  const std::size_t span = text.size() - static_cast<std::size_t>(context) - 1;
  const std::int64_t count = std::min<std::int64_t>(kEvalWindows, static_cast<std::int64_t>(span) + 1);
  double last = 0, all = 0;
  for (std::int64_t begin = 0; begin < count; begin += kEvalBatch) {
    std::vector<std::size_t> offsets;
    for (std::int64_t k = begin; k < std::min(count, begin + kEvalBatch); ++k) {
      offsets.push_back(static_cast<std::size_t>(k) * span / static_cast<std::size_t>(count));
    }
    const auto x = windows(text, offsets, context, 0);
    const auto y = windows(text, offsets, context, 1);
    const torch::Tensor logp = torch::log_softmax(forward(x), -1);
    const torch::Tensor nll = -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1);  // [b, T] nats
    last += nll.select(1, context - 1).sum().item<double>();
    all += nll.mean(1).sum().item<double>();
  }
  return {last / static_cast<double>(count) / kLn2, all / static_cast<double>(count) / kLn2};
}

int run(const CharlmOptions& o) {
  // Refuse an unwritable destination before training, not after.
  const std::filesystem::path outDir = std::filesystem::path(o.out).parent_path();
  std::error_code ec;
  if (!outDir.empty() && !std::filesystem::is_directory(outDir, ec)) {
    std::fprintf(stderr, "error: --out %s: directory %s does not exist\n", o.out.c_str(), outDir.c_str());
    return kExitError;
  }
  auto corpus = charlm::loadCorpus(o.corpusDir);
  if (!corpus) {
    std::fprintf(stderr, "error: %s\n", corpus.error().message().c_str());
    return kExitError;
  }
  const std::string& train = corpus->train;
  const std::string& heldOut = corpus->heldOut;
  if (train.size() <= static_cast<std::size_t>(o.context) + 1 ||
      heldOut.size() <= static_cast<std::size_t>(o.context) + 1) {
    std::fprintf(stderr, "error: corpus %s is too small for --context %lld\n", o.corpusDir.c_str(),
                 static_cast<long long>(o.context));
    return kExitError;
  }
  std::uint64_t steps = o.steps;
  if (o.epochs > 0) {
    const double bytesPerStep = static_cast<double>(o.batchSize * o.context);
    steps =
        static_cast<std::uint64_t>(std::ceil(o.epochs * static_cast<double>(train.size()) / bytesPerStep));
  }
  if (o.threads > 0) torch::set_num_threads(o.threads);
  torch::manual_seed(o.seed);
  std::mt19937_64 rng(o.seed);

  const std::int64_t embed = std::min<std::int64_t>(64, o.hidden);
  CharGru model(embed, o.hidden);
  std::int64_t parameters = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();
  std::printf(
      "charlm: GRU (embedding %lld, hidden %lld, %lld parameters), %llu steps of %lld x %lld bytes, "
      "seed %llu, %d threads\n",
      static_cast<long long>(embed), static_cast<long long>(o.hidden), static_cast<long long>(parameters),
      static_cast<unsigned long long>(steps), static_cast<long long>(o.batchSize),
      static_cast<long long>(o.context), static_cast<unsigned long long>(o.seed), torch::get_num_threads());
  std::printf("corpus %s: %zu training fortunes (%zu bytes), %zu held out (%zu bytes)\n", o.corpusDir.c_str(),
              corpus->trainFortunes, train.size(), corpus->heldOutFortunes, heldOut.size());
  std::fflush(stdout);

  const auto start = std::chrono::steady_clock::now();
  if (steps > 0) {
    model->train();
    torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(o.lr));
    std::uniform_int_distribution<std::size_t> offset(0,
                                                      train.size() - static_cast<std::size_t>(o.context) - 1);
    Progress progress("charlm", steps * static_cast<std::uint64_t>(o.batchSize));
    double smoothed = 8.0;  // bits per character, exponentially smoothed
    std::vector<std::size_t> offsets(static_cast<std::size_t>(o.batchSize));
    for (std::uint64_t step = 0; step < steps; ++step) {
      const double progressed = static_cast<double>(step) / static_cast<double>(steps);
      const double lr = o.lr * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * progressed)));
      for (auto& group : optimizer.param_groups())
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      for (auto& off : offsets) off = offset(rng);
      const auto x = windows(train, offsets, o.context, 0);
      const auto y = windows(train, offsets, o.context, 1);
      const auto logits = model->forward(x);
      const auto loss =
          torch::nn::functional::cross_entropy(logits.reshape({-1, kAlphabet}), y.reshape({-1}));
      optimizer.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
      optimizer.step();
      const double bits = loss.item<double>() / kLn2;
      smoothed = step == 0 ? bits : 0.95 * smoothed + 0.05 * bits;
      progress.update((step + 1) * static_cast<std::uint64_t>(o.batchSize), smoothed);
    }
    progress.finish(smoothed);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  model->eval();

  // Export, save, load back, and check the file reproduces the trained model.
  torch::jit::Module exported = exportModel(model);
  try {
    exported.save(o.out);
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "error: cannot write %s: %s\n", o.out.c_str(), e.what_without_backtrace());
    return kExitError;
  }
  torch::jit::Module loaded = torch::jit::load(o.out);
  loaded.eval();
  {
    torch::NoGradGuard noGrad;
    std::vector<std::size_t> offsets;
    for (std::size_t k = 0; k < 8; ++k)
      offsets.push_back(k * (heldOut.size() - static_cast<std::size_t>(o.context) - 1) / 8);
    const auto x = windows(heldOut, offsets, o.context, 0);
    const auto expected = model->forward(x);
    const auto actual = loaded.forward({x}).toTensor();
    const double diff =
        actual.sizes() == expected.sizes() ? (actual - expected).abs().max().item<double>() : INFINITY;
    if (!(diff <= 1e-4)) {
      std::fprintf(stderr, "error: the exported model in %s disagrees with the trained one (max |diff| %g)\n",
                   o.out.c_str(), diff);
      return kExitError;
    }
    std::printf("wrote %s (TorchScript; its logits match the trained model's within %.1g)\n", o.out.c_str(),
                diff);
  }

  const Evaluation eval =
      evaluate([&](const torch::Tensor& x) { return loaded.forward({x}).toTensor(); }, heldOut, o.context);
  std::printf(
      "held-out bits per character: %.3f at the last byte of %lld-byte contexts (subnet quality %.3f), "
      "%.3f over every position\n",
      eval.lastBits, static_cast<long long>(o.context), std::clamp(1.0 - eval.lastBits / 8.0, 0.0, 1.0),
      eval.allBits);
  std::printf("training took %.1f s\n", seconds);
  return kExitOk;
}

void setup(CLI::App& command, int& exitCode) {
  auto o = std::make_shared<CharlmOptions>();
  auto* steps =
      command.add_option("--steps", o->steps, "Training steps (batches); 0 writes the untrained model")
          ->capture_default_str();
  auto* epochs =
      command.add_option("--epochs", o->epochs, "Passes over the training text (instead of --steps)")
          ->check(CLI::PositiveNumber);
  steps->excludes(epochs);
  command.add_option("--out", o->out, "Where to write the TorchScript model (.pt)")->required();
  command.add_option("--seed", o->seed, "Seed for initialisation and window sampling")->capture_default_str();
  command.add_option("--hidden", o->hidden, "GRU hidden size")
      ->check(CLI::Range(8, 2048))
      ->capture_default_str();
  command.add_option("--context", o->context, "Training window in bytes")
      ->check(CLI::Range(2, 1024))
      ->capture_default_str();
  command.add_option("--batch-size", o->batchSize, "Windows per step")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  command.add_option("--lr", o->lr, "Adam learning rate (decays to a tenth)")
      ->check(CLI::Range(1e-6, 1.0))
      ->capture_default_str();
  command.add_option("--threads", o->threads, "libtorch intra-op threads (0 = libtorch's default)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  command.add_option("--corpus-dir", o->corpusDir, "Directory of fortune files (Debian's fortunes package)")
      ->capture_default_str();
  command.callback([o, &exitCode] {
    try {
      exitCode = run(*o);
    } catch (const c10::Error& e) {
      std::fprintf(stderr, "error: libtorch: %s\n", e.what_without_backtrace());
      exitCode = kExitError;
    }
  });
}

}  // namespace

MERIT_TRAINER("charlm", "Train the charlm subnet's next-character GRU on the fortunes corpus", &setup);

}  // namespace merit::train
