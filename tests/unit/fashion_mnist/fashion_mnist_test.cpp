// The fashion_mnist subnet: IDX parsing, the scoring rule's properties, the payloads, and the
// plugin end to end (validator challenge -> miner with a TorchScript model -> score).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>
#include <zlib.h>

#include <doctest/doctest.h>

#include "merit/subnet_host/plugin.h"

#include "fashion_mnist_data.h"
#include "model_fixture.h"

namespace fs = std::filesystem;
namespace fm = merit::fashion_mnist;
using merit::Bytes;
using merit::ByteView;
using merit::ErrorCode;
using merit::subnet::RequestStatus;
using merit::subnet::Role;
using merit::subnet::SubnetInstance;
using merit::subnet::SubnetPlugin;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "merit_fmnist_test_XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::vector<std::uint8_t> idx(std::vector<std::uint32_t> dims, std::size_t dataBytes,
                              std::uint8_t type = 0x08) {
  std::vector<std::uint8_t> out = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (auto d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(d >> s));
  }
  for (std::size_t i = 0; i < dataBytes; ++i) out.push_back(static_cast<std::uint8_t>(i % 10));
  return out;
}

void writeGzip(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

const fm::Split& testSplit() {
  static const fm::Split split = [] {
    auto s = fm::loadSplit(fm::kDefaultDataDir, fm::SplitName::kTest);
    REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().toString()));
    return std::move(*s);
  }();
  return split;
}

// count × 10 probabilities: p on the true label, the rest spread evenly.
std::vector<float> withTrueProbability(std::span<const std::uint8_t> labels, float p) {
  std::vector<float> out(labels.size() * fm::kClasses, (1.0f - p) / 9.0f);
  for (std::size_t i = 0; i < labels.size(); ++i) out[i * fm::kClasses + labels[i]] = p;
  return out;
}

double score(std::span<const std::uint8_t> labels, std::span<const float> probs) {
  return fm::scoreResponse(labels, fm::encodeResponse(probs), fm::ScoreOptions{});
}

std::vector<std::uint8_t> someLabels(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> labels(n);
  for (auto& l : labels) l = static_cast<std::uint8_t>(rng() % 10);
  return labels;
}

ByteView view(const std::vector<std::uint8_t>& v) {
  return ByteView(reinterpret_cast<const std::byte*>(v.data()), v.size());
}
std::vector<std::uint8_t> toU8(const Bytes& b) {
  std::vector<std::uint8_t> out(b.size());
  std::memcpy(out.data(), b.data(), b.size());
  return out;
}

std::shared_ptr<SubnetPlugin> loadPlugin() {
  static const std::vector<std::string> dirs = {MERIT_FASHION_MNIST_PLUGIN_DIR};
  auto plugin = SubnetPlugin::find("fashion_mnist", dirs);
  REQUIRE_MESSAGE(plugin.has_value(), (plugin ? "" : plugin.error().toString()));
  return *plugin;
}

std::unique_ptr<SubnetInstance> create(SubnetPlugin& plugin, Role role, const std::string& yaml) {
  auto instance = plugin.create(role, yaml);
  REQUIRE_MESSAGE(instance.has_value(), (instance ? "" : instance.error().toString()));
  return std::move(*instance);
}

std::vector<float> classMeans(const fm::Split& split) {
  std::vector<double> sums(fm::kClasses * fm::kPixels, 0.0);
  std::vector<double> counts(fm::kClasses, 0.0);
  for (std::size_t i = 0; i < split.count; ++i) {
    const auto img = split.image(i);
    for (std::size_t p = 0; p < fm::kPixels; ++p) sums[split.labels[i] * fm::kPixels + p] += img[p] / 255.0;
    counts[split.labels[i]] += 1;
  }
  std::vector<float> means(sums.size());
  for (std::size_t i = 0; i < sums.size(); ++i)
    means[i] = static_cast<float>(sums[i] / counts[i / fm::kPixels]);
  return means;
}

std::vector<float> decodeProbabilities(const Bytes& body) {
  std::vector<float> out(body.size() / 4);
  std::memcpy(out.data(), body.data(), out.size() * 4);  // little-endian host (x86-64, aarch64)
  return out;
}

}  // namespace

TEST_CASE("IDX: a good file parses; truncated, padded and bad-magic files are corruption") {
  auto good = fm::parseIdx(idx({3, 2, 2}, 12), "good");
  REQUIRE(good.has_value());
  CHECK(good->dims == std::vector<std::uint32_t>{3, 2, 2});
  CHECK(good->data.size() == 12);
  CHECK(good->data[11] == 1);

  auto truncated = fm::parseIdx(idx({3, 2, 2}, 11), "short.idx");
  REQUIRE_FALSE(truncated.has_value());
  CHECK(truncated.error().code() == ErrorCode::kCorruption);
  CHECK(truncated.error().message().find("short.idx") != std::string::npos);
  CHECK(truncated.error().message().find("truncated") != std::string::npos);

  auto padded = fm::parseIdx(idx({3, 2, 2}, 13), "long");
  REQUIRE_FALSE(padded.has_value());
  CHECK(padded.error().code() == ErrorCode::kCorruption);

  auto badMagic = idx({3}, 3);
  badMagic[0] = 0x1f;
  CHECK_FALSE(fm::parseIdx(badMagic, "magic").has_value());
  CHECK(fm::parseIdx(idx({3}, 12, 0x0D), "float")
            .error()
            .message()
            .find("element type 0x0d is not unsigned byte") != std::string::npos);
  CHECK_FALSE(fm::parseIdx(std::vector<std::uint8_t>{0, 0, 8}, "tiny").has_value());
  CHECK_FALSE(fm::parseIdx(std::vector<std::uint8_t>{0, 0, 8, 2, 0, 0}, "dims").has_value());
  CHECK_FALSE(fm::parseIdx(idx({0}, 0), "zero").has_value());
  CHECK_FALSE(fm::parseIdx(idx({1000, 1000, 1000}, 0), "huge", 1 << 20).has_value());
}

TEST_CASE("loadSplit: the installed test split; missing and malformed files are clear errors") {
  const auto& test = testSplit();
  CHECK(test.count == 10000);
  CHECK(test.images.size() == 10000 * fm::kPixels);
  CHECK(std::count(test.labels.begin(), test.labels.end(), 3) == 1000);

  TempDir dir;
  auto missing = fm::loadSplit(dir.path, fm::SplitName::kTest);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code() == ErrorCode::kNotFound);
  CHECK(missing.error().message().find("apt-get install dataset-fashion-mnist") != std::string::npos);

  // Plain (uncompressed) files work as well as .gz ones.
  std::vector<std::uint8_t> labels = idx({2}, 2);
  std::ofstream(dir.path / "t10k-labels-idx1-ubyte", std::ios::binary)
      .write(reinterpret_cast<const char*>(labels.data()), static_cast<std::streamsize>(labels.size()));
  writeGzip(dir.path / "t10k-images-idx3-ubyte.gz", idx({2, 28, 28}, 2 * 784));
  auto tiny = fm::loadSplit(dir.path, fm::SplitName::kTest);
  REQUIRE_MESSAGE(tiny.has_value(), (tiny ? "" : tiny.error().toString()));
  CHECK(tiny->count == 2);
  CHECK(tiny->labels == std::vector<std::uint8_t>{0, 1});

  // A truncated gzip stream.
  std::vector<std::uint8_t> gz;
  writeGzip(dir.path / "whole.gz", idx({2, 28, 28}, 2 * 784));
  {
    std::ifstream in(dir.path / "whole.gz", std::ios::binary);
    gz.assign(std::istreambuf_iterator<char>(in), {});
  }
  gz.resize(gz.size() / 2);
  std::ofstream(dir.path / "t10k-images-idx3-ubyte.gz", std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(gz.data()), static_cast<std::streamsize>(gz.size()));
  auto cut = fm::loadSplit(dir.path, fm::SplitName::kTest);
  REQUIRE_FALSE(cut.has_value());
  CHECK(cut.error().code() == ErrorCode::kCorruption);

  // Images of the wrong size, and labels out of range.
  writeGzip(dir.path / "t10k-images-idx3-ubyte.gz", idx({2, 27, 28}, 2 * 27 * 28));
  CHECK(fm::loadSplit(dir.path, fm::SplitName::kTest).error().message().find("28") != std::string::npos);
  writeGzip(dir.path / "t10k-images-idx3-ubyte.gz", idx({2, 28, 28}, 2 * 784));
  std::vector<std::uint8_t> badLabels = idx({2}, 0);
  badLabels.push_back(3);
  badLabels.push_back(12);
  std::ofstream(dir.path / "t10k-labels-idx1-ubyte", std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(badLabels.data()), static_cast<std::streamsize>(badLabels.size()));
  CHECK(fm::loadSplit(dir.path, fm::SplitName::kTest).error().message().find("label 12") !=
        std::string::npos);
}

TEST_CASE("score: a perfect oracle scores 1, near-perfect near 1") {
  const auto labels = someLabels(16, 1);
  CHECK(score(labels, withTrueProbability(labels, 1.0f)) == doctest::Approx(1.0));
  CHECK(score(labels, withTrueProbability(labels, 0.99f)) > 0.99);
}

TEST_CASE("score: uniform and constant answers score at the chance baseline (0), random ones at or below") {
  const auto& test = testSplit();
  const std::vector<float> uniform(16 * fm::kClasses, 0.1f);
  std::mt19937_64 rng(7);
  std::vector<float> constant(fm::kClasses);
  for (auto& p : constant) p = std::uniform_real_distribution<float>(0.05f, 1.0f)(rng);
  const float sum = std::accumulate(constant.begin(), constant.end(), 0.0f);
  for (auto& p : constant) p /= sum;
  double uniformTotal = 0, constantTotal = 0, randomTotal = 0, oneClassTotal = 0;
  const int challenges = 300;
  for (int c = 0; c < challenges; ++c) {
    std::vector<std::uint8_t> labels(16);
    for (auto& l : labels) l = test.labels[rng() % test.count];
    uniformTotal += score(labels, uniform);
    std::vector<float> constantAnswer, randomAnswer, oneClass(16 * fm::kClasses, 0.0f);
    for (int i = 0; i < 16; ++i) {
      constantAnswer.insert(constantAnswer.end(), constant.begin(), constant.end());
      std::vector<float> r(fm::kClasses);
      float s = 0;
      for (auto& p : r) s += (p = std::exponential_distribution<float>(1.0f)(rng));
      for (auto& p : r) randomAnswer.push_back(p / s);
      oneClass[static_cast<std::size_t>(i) * fm::kClasses + 4] = 1.0f;  // always "Coat", certain
    }
    constantTotal += score(labels, constantAnswer);
    randomTotal += score(labels, randomAnswer);
    oneClassTotal += score(labels, oneClass);
  }
  CHECK(uniformTotal / challenges == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(constantTotal / challenges < 0.02);
  CHECK(randomTotal / challenges < 0.02);
  CHECK(oneClassTotal / challenges == doctest::Approx(0.0));
}

TEST_CASE("score: a confident wrong answer costs more than honest uncertainty") {
  const auto labels = someLabels(16, 3);
  auto honest = withTrueProbability(labels, 0.9f);
  auto uncertain = honest;
  auto confidentWrong = honest;
  // On image 0 the first answer is uniform, the second puts 0.99 on a wrong class.
  std::fill_n(uncertain.begin(), fm::kClasses, 0.1f);
  std::fill_n(confidentWrong.begin(), fm::kClasses, 0.01f / 9.0f);
  confidentWrong[(labels[0] + 1) % 10] = 0.99f;
  const double qHonest = score(labels, honest);
  const double qUncertain = score(labels, uncertain);
  const double qWrong = score(labels, confidentWrong);
  CHECK(qHonest > qUncertain);
  CHECK(qUncertain > qWrong);
  CHECK(qWrong > 0.0);
  // Expected score is maximised by the true belief (propriety), e.g. belief 0.7 on the label.
  auto expected = [&](float reported) {
    const double q = 0.7;  // the true probability of the label; the rest spread evenly
    return q * std::log(double{reported}) + (1 - q) * std::log((1 - double{reported}) / 9.0);
  };
  CHECK(expected(0.7f) > expected(0.9f));
  CHECK(expected(0.7f) > expected(0.5f));
}

TEST_CASE("score: malformed, truncated and oversized responses score 0 without throwing") {
  const auto labels = someLabels(16, 5);
  const auto good = withTrueProbability(labels, 0.8f);
  const fm::ScoreOptions options;
  auto bytes = fm::encodeResponse(good);
  REQUIRE(fm::scoreResponse(labels, bytes, options) > 0.5);
  CHECK(fm::scoreResponse(labels, {}, options) == 0.0);
  CHECK(fm::scoreResponse(labels, std::span(bytes).first(bytes.size() - 1), options) == 0.0);
  CHECK(fm::scoreResponse(labels, std::span(bytes).first(bytes.size() - 40), options) == 0.0);
  auto longer = bytes;
  longer.push_back(0);
  CHECK(fm::scoreResponse(labels, longer, options) == 0.0);
  std::vector<std::uint8_t> huge(1 << 22, 0x3f);
  CHECK(fm::scoreResponse(labels, huge, options) == 0.0);

  auto nan = good;
  nan[5] = std::nanf("");
  CHECK(score(labels, nan) == 0.0);
  auto inf = good;
  inf[3] = INFINITY;
  CHECK(score(labels, inf) == 0.0);
  auto negative = good;  // a negative entry, the sum kept at 1
  const std::size_t a = (labels[0] + 1) % 10, b = (labels[0] + 2) % 10;
  negative[b] += negative[a] + 0.05f;
  negative[a] = -0.05f;
  CHECK(score(labels, negative) == 0.0);
  auto halves = good;
  for (auto& p : halves) p *= 0.5f;
  CHECK(score(labels, halves) == 0.0);
  auto doubled = good;
  for (auto& p : doubled) p *= 2.0f;
  CHECK(score(labels, doubled) == 0.0);
}

TEST_CASE("payloads: requests round-trip; malformed requests are refused") {
  std::vector<std::uint8_t> pixels(3 * fm::kPixels, 7);
  auto request = fm::encodeRequest(pixels);
  CHECK(request.size() == 4 + 3 * fm::kPixels);
  auto decoded = fm::decodeRequest(request, 256);
  REQUIRE(decoded.has_value());
  CHECK(decoded->size() == 3 * fm::kPixels);
  CHECK_FALSE(fm::decodeRequest(std::span(request).first(3), 256).has_value());
  CHECK_FALSE(fm::decodeRequest(std::span(request).first(request.size() - 1), 256).has_value());
  CHECK_FALSE(fm::decodeRequest(request, 2).has_value());
  auto wrongSize = request;
  wrongSize[2] = 32;
  CHECK_FALSE(fm::decodeRequest(wrongSize, 256).has_value());
  auto zero = request;
  zero[0] = 0;
  CHECK_FALSE(fm::decodeRequest(zero, 256).has_value());

  const std::vector<float> logits = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1000, 0, 0, 0, 0, 0, 0, 0, 0, -1000};
  auto probs = fm::softmaxRows(logits);
  CHECK(probs[0] == doctest::Approx(0.1));
  CHECK(probs[10] == doctest::Approx(1.0));
  CHECK(probs[19] == 0.0f);
}

TEST_CASE("augmentation: shifts keep the image, noise is bounded, defaults defeat exact lookup") {
  const auto& test = testSplit();
  std::mt19937_64 rng(1);
  std::vector<std::uint8_t> out(fm::kPixels);
  fm::augment(test.image(0), out, fm::AugmentOptions{0, 0}, rng);
  CHECK(std::equal(out.begin(), out.end(), test.image(0).begin()));
  fm::augment(test.image(0), out, fm::AugmentOptions{0, 5}, rng);
  for (std::size_t p = 0; p < fm::kPixels; ++p) CHECK(std::abs(int{out[p]} - int{test.image(0)[p]}) <= 5);
}

TEST_CASE("plugin: configuration errors name the key") {
  auto plugin = loadPlugin();
  auto unknown = plugin->create(Role::kValidator, "{bach_size: 3}");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message().find("bach_size") != std::string::npos);
  auto noModel = plugin->create(Role::kMiner, "{}");
  REQUIRE_FALSE(noModel.has_value());
  CHECK(noModel.error().message().find("model") != std::string::npos);
  auto noData = plugin->create(Role::kValidator, "{data_dir: /nonexistent/fmnist}");
  REQUIRE_FALSE(noData.has_value());
  CHECK(noData.error().code() == ErrorCode::kInvalidArgument);
  CHECK(noData.error().message().find("apt-get install dataset-fashion-mnist") != std::string::npos);
  auto badBatch = plugin->create(Role::kValidator, "{batch_size: 0}");
  CHECK_FALSE(badBatch.has_value());
  auto missingFile = plugin->create(Role::kMiner, "{model: /nonexistent/model.pt}");
  REQUIRE_FALSE(missingFile.has_value());
  CHECK(missingFile.error().message().find("/nonexistent/model.pt") != std::string::npos);
  TempDir dir;
  const std::string wrong = (dir.path / "wrong.pt").string();
  fm::test::saveWrongShapeModel(wrong);
  auto wrongShape = plugin->create(Role::kMiner, "{model: " + wrong + "}");
  REQUIRE_FALSE(wrongShape.has_value());
  CHECK(wrongShape.error().message().find("[2, 10]") != std::string::npos);
}

TEST_CASE("plugin: challenges are held-out test images, augmented so exact lookup fails") {
  const auto& test = testSplit();
  std::unordered_set<std::string> testImages;
  for (std::size_t i = 0; i < test.count; ++i) {
    testImages.emplace(reinterpret_cast<const char*>(test.image(i).data()), fm::kPixels);
  }
  auto plugin = loadPlugin();
  // Without augmentation every image is a test image, with its own label as the expectation.
  auto plain = create(*plugin, Role::kValidator, "{batch_size: 12, max_shift: 0, noise: 0}");
  auto train = fm::loadSplit(fm::kDefaultDataDir, fm::SplitName::kTrain);
  REQUIRE(train.has_value());
  std::unordered_set<std::string> trainImages;
  for (std::size_t i = 0; i < train->count; ++i) {
    trainImages.emplace(reinterpret_cast<const char*>(train->image(i).data()), fm::kPixels);
  }
  for (int round = 0; round < 5; ++round) {
    auto challenge = plain->makeChallenge();
    REQUIRE(challenge.has_value());
    auto request = toU8(challenge->request);
    auto labels = toU8(challenge->expectation);
    REQUIRE(labels.size() == 12);
    auto pixels = fm::decodeRequest(request, 256);
    REQUIRE(pixels.has_value());
    for (std::size_t i = 0; i < 12; ++i) {
      const std::string image(reinterpret_cast<const char*>(pixels->data() + i * fm::kPixels), fm::kPixels);
      REQUIRE(testImages.contains(image));
      CHECK_FALSE(trainImages.contains(image));
      // The label is the test split's label for that image.
      bool found = false;
      for (std::size_t t = 0; t < test.count && !found; ++t) {
        found =
            std::memcmp(test.image(t).data(), image.data(), fm::kPixels) == 0 && test.labels[t] == labels[i];
      }
      CHECK(found);
    }
  }
  // With the default augmentation no challenge image is byte-equal to any test image.
  auto validator = create(*plugin, Role::kValidator, "");
  std::size_t exact = 0;
  for (int round = 0; round < 10; ++round) {
    auto challenge = validator->makeChallenge();
    REQUIRE(challenge.has_value());
    REQUIRE(challenge->expectation.size() == 16);
    auto request = toU8(challenge->request);
    for (std::size_t i = 0; i < 16; ++i) {
      exact += testImages.contains(
          std::string(reinterpret_cast<const char*>(request.data() + 4 + i * fm::kPixels), fm::kPixels));
    }
  }
  CHECK(exact == 0);
  // Two challenges differ (fresh randomness per challenge).
  CHECK(validator->makeChallenge()->request != validator->makeChallenge()->request);
}

TEST_CASE("plugin end to end: challenge -> miner with a TorchScript model -> score") {
  const auto& test = testSplit();
  TempDir dir;
  const std::string modelPath = (dir.path / "centroid.pt").string();
  fm::test::saveCentroidModel(modelPath, classMeans(test), 0.5f);

  auto plugin = loadPlugin();
  auto validator = create(*plugin, Role::kValidator, "{batch_size: 16, seed: 99}");
  auto miner = create(
      *plugin, Role::kMiner,
      "{model: " + modelPath + ", device: cpu, intra_op_threads: 1, max_batch_rows: 64, max_wait_us: 3000}");
  auto uniformAnswer = fm::encodeResponse(std::vector<float>(16 * fm::kClasses, 0.1f));

  double total = 0;
  const int rounds = 30;
  for (int round = 0; round < rounds; ++round) {
    auto challenge = validator->makeChallenge();
    REQUIRE(challenge.has_value());
    std::vector<ByteView> requests = {challenge->request};
    auto replies = miner->handleBatch(requests);
    REQUIRE_MESSAGE(replies.has_value(), (replies ? "" : replies.error().toString()));
    REQUIRE((*replies)[0].status == RequestStatus::kOk);
    const Bytes& body = (*replies)[0].body;
    REQUIRE(body.size() == 16 * fm::kClasses * 4);
    // The answer is the softmax of the model's logits on the request's pixels.
    auto request = toU8(challenge->request);
    std::vector<float> input(16 * fm::kPixels);
    for (std::size_t p = 0; p < input.size(); ++p) input[p] = request[4 + p] / 255.0f;
    auto expected = fm::softmaxRows(fm::test::runModel(modelPath, input, 16));
    auto got = decodeProbabilities(body);
    for (std::size_t i = 0; i < got.size(); ++i)
      REQUIRE(got[i] == doctest::Approx(expected[i]).epsilon(1e-4));
    auto quality = validator->scoreResponse(challenge->expectation, body);
    REQUIRE(quality.has_value());
    CHECK(*quality ==
          doctest::Approx(fm::scoreProbabilities(toU8(challenge->expectation), got, {})).epsilon(1e-9));
    total += *quality;
    // The same challenge answered uniformly scores 0; garbage scores 0 without an error.
    CHECK(*validator->scoreResponse(challenge->expectation, view(uniformAnswer)) == doctest::Approx(0.0));
    CHECK(*validator->scoreResponse(challenge->expectation, ByteView(body).first(100)) == 0.0);
  }
  // A nearest-class-mean model is a weak classifier, but clearly better than chance.
  MESSAGE("centroid model mean quality: " << total / rounds);
  CHECK(total / rounds > 0.2);

  // Malformed requests get INVALID_ARGUMENT; good ones in the same batch are still answered.
  std::vector<std::uint8_t> bad = {1, 0, 28};
  auto good = validator->makeChallenge();
  std::vector<ByteView> mixed = {view(bad), good->request};
  auto replies = miner->handleBatch(mixed);
  REQUIRE(replies.has_value());
  CHECK((*replies)[0].status == RequestStatus::kInvalidArgument);
  CHECK((*replies)[1].status == RequestStatus::kOk);

  // Concurrent callers (the miner's worker threads) share the batcher and each get their own answers.
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  std::vector<merit::subnet::Challenge> challenges;
  for (int t = 0; t < 8; ++t) challenges.push_back(*validator->makeChallenge());
  std::vector<double> qualities(challenges.size());
  for (std::size_t t = 0; t < challenges.size(); ++t) {
    threads.emplace_back([&, t] {
      std::vector<ByteView> one = {challenges[t].request};
      auto r = miner->handleBatch(one);
      if (!r || (*r)[0].status != RequestStatus::kOk) {
        ++mismatches;
        return;
      }
      auto request = toU8(challenges[t].request);
      std::vector<float> input(16 * fm::kPixels);
      for (std::size_t p = 0; p < input.size(); ++p) input[p] = request[4 + p] / 255.0f;
      auto expected = fm::softmaxRows(fm::test::runModel(modelPath, input, 16));
      auto got = decodeProbabilities((*r)[0].body);
      for (std::size_t i = 0; i < got.size(); ++i) {
        if (std::abs(got[i] - expected[i]) > 1e-4f) {
          ++mismatches;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(mismatches == 0);
}

TEST_CASE("plugin: drop faults leave requests unanswered") {
  const auto& test = testSplit();
  TempDir dir;
  const std::string modelPath = (dir.path / "centroid.pt").string();
  fm::test::saveCentroidModel(modelPath, classMeans(test), 0.5f);
  auto plugin = loadPlugin();
  auto validator = create(*plugin, Role::kValidator, "{batch_size: 4}");
  auto miner =
      create(*plugin, Role::kMiner, "{model: " + modelPath + ", warmup_runs: 0, faults: {drop_rate: 1.0}}");
  auto challenge = validator->makeChallenge();
  std::vector<ByteView> requests = {challenge->request};
  auto replies = miner->handleBatch(requests);
  REQUIRE(replies.has_value());
  CHECK((*replies)[0].status == RequestStatus::kDrop);
}
