#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

#include "merit/charlm/corpus.h"
#include "merit/charlm/payload.h"
#include "merit/subnet_host/plugin.h"
#include "merit/util/bytes.h"

#include "charlm_models.h"

namespace fs = std::filesystem;
namespace charlm = merit::charlm;
using merit::ByteView;
using merit::subnet::RequestStatus;
using merit::subnet::Role;
using merit::subnet::SubnetInstance;
using merit::subnet::SubnetPlugin;

namespace {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    m_path = fs::temp_directory_path() /
             ("merit-charlm-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

void writeFile(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// A corpus of `count` distinct fortunes in three files (plus files the loader must skip).
std::vector<std::string> writeSyntheticCorpus(const fs::path& dir, int count) {
  std::vector<std::string> fortunes;
  std::string files[3];
  for (int i = 0; i < count; ++i) {
    std::string f =
        "Fortune number " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog.\n";
    if (i % 3 == 0) f += "  -- a second line " + std::to_string(i * 7) + "\n";
    fortunes.push_back(f);
    files[i % 3] += f + "%\n";
  }
  writeFile(dir / "alpha", files[0]);
  writeFile(dir / "beta", files[1]);
  writeFile(dir / "gamma", files[2]);
  writeFile(dir / "alpha.dat", "binary index, not text");
  fs::create_symlink("alpha", dir / "alpha.u8");
  fs::create_directories(dir / "off");
  writeFile(dir / "off" / "rude", "An offensive fortune.\n%\n");
  return fortunes;
}

charlm::ByteSpan u8(ByteView b) {
  return {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()};
}
ByteView bv(const charlm::Bytes& b) {
  return {reinterpret_cast<const std::byte*>(b.data()), b.size()};
}

const fs::path kFortunes{charlm::kDefaultCorpusDir};

charlm::Bytes distributions(const charlm::Expectation& e,
                            const std::function<void(std::uint8_t, float*)>& fill) {
  charlm::Bytes out;
  for (std::uint8_t target : e.targets) {
    float p[charlm::kAlphabet] = {};
    fill(target, p);
    charlm::appendDistribution(p, out);
  }
  return out;
}

charlm::Challenge smallChallenge() {
  std::mt19937_64 rng(5);
  const std::string text = "the cat sat on the mat and the dog sat on the log; ";
  return charlm::sampleChallenge(text + text + text, 8, 16, rng);
}

}  // namespace

TEST_CASE("splitFortunes: separators, blank fortunes, a missing final newline") {
  auto f = charlm::splitFortunes("%\none\n%\ntwo\nlines\n%\n\n%\nlast");
  REQUIRE(f.size() == 3);
  CHECK(f[0] == "one\n");
  CHECK(f[1] == "two\nlines\n");
  CHECK(f[2] == "last");
  CHECK(charlm::splitFortunes("").empty());
  CHECK(charlm::splitFortunes("50%\n% not a separator\n").size() == 1);
}

TEST_CASE("corpus split: deterministic, disjoint, independent of files, skips .dat/.u8/off") {
  TempDir dir;
  const auto fortunes = writeSyntheticCorpus(dir.path(), 600);
  auto a = charlm::loadCorpus(dir.path());
  auto b = charlm::loadCorpus(dir.path());
  REQUIRE_MESSAGE(a.has_value(), (a ? "" : a.error().toString()));
  REQUIRE(b.has_value());
  CHECK(a->train == b->train);
  CHECK(a->heldOut == b->heldOut);
  CHECK(a->files == std::vector<std::string>{"alpha", "beta", "gamma"});
  CHECK(a->trainFortunes + a->heldOutFortunes == fortunes.size());
  CHECK(a->heldOut.find("offensive") == std::string::npos);
  CHECK(a->train.find("offensive") == std::string::npos);
  // Each fortune is on exactly one side, the side the hash rule says.
  for (const auto& f : fortunes) {
    const bool inHeld =
        a->heldOut.find("%\n" + f + "%\n") != std::string::npos || a->heldOut.starts_with(f + "%\n");
    const bool inTrain =
        a->train.find("%\n" + f + "%\n") != std::string::npos || a->train.starts_with(f + "%\n");
    CHECK(inHeld != inTrain);
    CHECK(inHeld == charlm::isHeldOut(f));
  }
  // About 10% held out.
  CHECK(a->heldOutFortunes > 30);
  CHECK(a->heldOutFortunes < 100);

  // The same fortunes rearranged into other files split the same way.
  TempDir other;
  std::string all;
  for (auto it = fortunes.rbegin(); it != fortunes.rend(); ++it) all += *it + "%\n";
  writeFile(other.path() / "everything", all);
  auto c = charlm::loadCorpus(other.path());
  REQUIRE(c.has_value());
  CHECK(c->heldOutFortunes == a->heldOutFortunes);
  CHECK(c->heldOut.size() == a->heldOut.size());

  auto every = charlm::loadCorpus(dir.path(), charlm::Split::kAllHeldOut);
  REQUIRE(every.has_value());
  CHECK(every->trainFortunes == 0);
  CHECK(every->heldOutFortunes == fortunes.size());
}

TEST_CASE("corpus split of Debian's fortunes: ~10% held out, disjoint") {
  auto corpus = charlm::loadCorpus(kFortunes);
  REQUIRE_MESSAGE(corpus.has_value(), (corpus ? "" : corpus.error().toString()));
  const double share = static_cast<double>(corpus->heldOutFortunes) /
                       static_cast<double>(corpus->heldOutFortunes + corpus->trainFortunes);
  CHECK(share > 0.08);
  CHECK(share < 0.12);
  for (const auto& name : corpus->files) {
    CHECK_FALSE(name.ends_with(".dat"));
    CHECK_FALSE(name.ends_with(".u8"));
  }
  // No held-out fortune is a training fortune.
  std::set<std::string> train;
  std::size_t start = 0;
  for (std::size_t end; (end = corpus->train.find("\n%\n", start)) != std::string::npos; start = end + 3) {
    train.insert(corpus->train.substr(start, end + 1 - start));
  }
  std::size_t held = 0, overlap = 0;
  start = 0;
  for (std::size_t end; (end = corpus->heldOut.find("\n%\n", start)) != std::string::npos; start = end + 3) {
    ++held;
    overlap += train.count(corpus->heldOut.substr(start, end + 1 - start));
  }
  CHECK(held == corpus->heldOutFortunes);
  CHECK(overlap == 0);
}

TEST_CASE("a missing corpus is a clear error naming the fortunes package") {
  TempDir dir;
  auto missing = charlm::loadCorpus(dir.path() / "nope");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code() == merit::ErrorCode::kNotFound);
  CHECK(missing.error().message().find("fortunes") != std::string::npos);
  auto empty = charlm::loadCorpus(dir.path());
  REQUIRE_FALSE(empty.has_value());
  CHECK(empty.error().message().find("no fortune files") != std::string::npos);
}

TEST_CASE("request codec: round trip and refusals") {
  charlm::Request r;
  r.contexts = 2;
  r.length = 4;
  r.positions = {1, 3};
  r.text = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
  const charlm::RequestLimits limits;
  auto bytes = charlm::encodeRequest(r);
  auto back = charlm::decodeRequest(bytes, limits);
  REQUIRE(back.has_value());
  CHECK(back->contexts == 2);
  CHECK(back->positions == r.positions);
  CHECK(back->text == r.text);

  auto refused = [&](charlm::Bytes b) { return !charlm::decodeRequest(b, limits).has_value(); };
  CHECK(refused({}));
  CHECK(refused(charlm::Bytes(bytes.begin(), bytes.end() - 1)));  // truncated
  auto longer = bytes;
  longer.push_back('x');
  CHECK(refused(longer));  // oversized
  auto unordered = r;
  unordered.positions = {3, 1};
  CHECK(refused(charlm::encodeRequest(unordered)));
  auto outside = r;
  outside.positions = {4};
  CHECK(refused(charlm::encodeRequest(outside)));
  auto none = r;
  none.contexts = 0;
  none.text.clear();
  CHECK(refused(charlm::encodeRequest(none)));
  charlm::RequestLimits tight;
  tight.maxContexts = 1;
  CHECK_FALSE(charlm::decodeRequest(bytes, tight).has_value());
}

TEST_CASE("scoring: perfect near 1, uniform 0, constant and random at or below the baseline") {
  const auto c = smallChallenge();
  const auto& e = c.expectation;
  REQUIRE(e.targets.size() == 8);

  auto perfect = distributions(e, [](std::uint8_t t, float* p) { p[t] = 1.0F; });
  auto bits = charlm::bitsPerChar(e, perfect);
  REQUIRE(bits.has_value());
  CHECK(*bits == doctest::Approx(0.0));
  CHECK(charlm::qualityFromBits(*bits) == doctest::Approx(1.0));

  auto confident = distributions(e, [](std::uint8_t t, float* p) {
    for (int b = 0; b < 256; ++b) p[b] = 0.01F / 255;
    p[t] = 0.99F;
  });
  CHECK(charlm::qualityFromBits(charlm::bitsPerChar(e, confident).value()) > 0.99);

  auto uniform = distributions(e, [](std::uint8_t, float* p) {
    for (int b = 0; b < 256; ++b) p[b] = 1.0F / 256;
  });
  CHECK(charlm::bitsPerChar(e, uniform).value() == doctest::Approx(8.0));
  CHECK(charlm::qualityFromBits(charlm::bitsPerChar(e, uniform).value()) == 0.0);

  auto constant = distributions(e, [](std::uint8_t, float* p) { p[0] = 1.0F; });  // never the target
  // One zero probability costs the floor's ~19.9 bits, not infinity.
  CHECK(charlm::bitsPerChar(e, constant).value() > 19.0);
  CHECK(charlm::qualityFromBits(charlm::bitsPerChar(e, constant).value()) == 0.0);

  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0F, 1.0F);
  double randomBits = 0;
  for (int trial = 0; trial < 50; ++trial) {
    auto random = distributions(e, [&](std::uint8_t, float* p) {
      float sum = 0;
      for (int b = 0; b < 256; ++b) sum += (p[b] = u(rng));
      for (int b = 0; b < 256; ++b) p[b] /= sum;
    });
    randomBits += charlm::bitsPerChar(e, random).value() / 50;
  }
  CHECK(randomBits > 8.0);
  CHECK(charlm::qualityFromBits(randomBits) == 0.0);
}

TEST_CASE("scoring: malformed responses score 0 with a reason, never throw") {
  const auto c = smallChallenge();
  const auto& e = c.expectation;
  auto uniform = distributions(e, [](std::uint8_t, float* p) {
    for (int b = 0; b < 256; ++b) p[b] = 1.0F / 256;
  });
  auto bad = [&](charlm::Bytes response) {
    auto bits = charlm::bitsPerChar(e, response);
    return !bits.has_value() && bits.error().code() == merit::ErrorCode::kInvalidArgument;
  };
  CHECK(bad({}));
  CHECK(bad(charlm::Bytes(uniform.begin(), uniform.end() - 1)));  // truncated
  auto oversized = uniform;
  oversized.insert(oversized.end(), 1024, 0);
  CHECK(bad(oversized));
  auto withValue = [&](std::size_t index, float value) {
    auto r = uniform;
    std::memcpy(r.data() + 4 * index, &value, 4);
    return r;
  };
  CHECK(bad(withValue(3, std::numeric_limits<float>::quiet_NaN())));
  CHECK(bad(withValue(300, std::numeric_limits<float>::infinity())));
  CHECK(bad(withValue(7, -1.0F / 256)));  // negative (and the sum is off)
  CHECK(bad(withValue(0, 1.0F)));         // sums to ~2: not normalised
  auto doubled = distributions(e, [](std::uint8_t t, float* p) { p[t] = 2.0F; });
  CHECK(bad(doubled));

  charlm::Bytes softmax;
  const float nanLogits[256] = {std::numeric_limits<float>::quiet_NaN()};
  CHECK_FALSE(charlm::appendSoftmax(nanLogits, softmax));
  CHECK(softmax.empty());
}

TEST_CASE("challenges come from held-out text and ask for the last position") {
  auto corpus = charlm::loadCorpus(kFortunes);
  REQUIRE(corpus.has_value());
  std::mt19937_64 rng(11);
  for (int round = 0; round < 20; ++round) {
    auto c = charlm::sampleChallenge(corpus->heldOut, 8, 64, rng);
    REQUIRE(c.request.positions == std::vector<std::uint16_t>{63});
    for (std::size_t i = 0; i < 8; ++i) {
      auto ctx = c.request.context(i);
      std::string window(ctx.begin(), ctx.end());
      window.push_back(static_cast<char>(c.expectation.targets[i]));
      CHECK(corpus->heldOut.find(window) != std::string::npos);
    }
  }
}

TEST_CASE("plugin: config errors name the key") {
  auto plugin = SubnetPlugin::load(MERIT_CHARLM_PLUGIN);
  REQUIRE_MESSAGE(plugin.has_value(), (plugin ? "" : plugin.error().toString()));
  CHECK((*plugin)->name() == "charlm");
  auto noModel = (*plugin)->create(Role::kMiner, "");
  REQUIRE_FALSE(noModel.has_value());
  CHECK(noModel.error().code() == merit::ErrorCode::kInvalidArgument);
  CHECK(noModel.error().message().find("model") != std::string::npos);
  auto missingFile = (*plugin)->create(Role::kMiner, "model: /nonexistent/charlm.pt");
  REQUIRE_FALSE(missingFile.has_value());
  CHECK(missingFile.error().message().find("/nonexistent/charlm.pt") != std::string::npos);
  auto unknown = (*plugin)->create(Role::kValidator, "contxts: 3");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message().find("contxts") != std::string::npos);
  auto noCorpus = (*plugin)->create(Role::kValidator, "corpus_dir: /nonexistent/fortunes");
  REQUIRE_FALSE(noCorpus.has_value());
  CHECK(noCorpus.error().message().find("corpus_dir") != std::string::npos);
  auto badSplit = (*plugin)->create(Role::kValidator, "split: most");
  REQUIRE_FALSE(badSplit.has_value());
  CHECK(badSplit.error().message().find("split") != std::string::npos);
}

TEST_CASE("plugin end to end: challenge -> miner with a model -> score") {
  auto plugin = SubnetPlugin::load(MERIT_CHARLM_PLUGIN);
  REQUIRE(plugin.has_value());
  auto corpus = charlm::loadCorpus(kFortunes);
  REQUIRE(corpus.has_value());
  TempDir dir;
  const std::string bigram = charlm::test::saveBigramModel(dir.path(), corpus->train);
  const std::string uniform = charlm::test::saveUniformModel(dir.path());

  auto validator = (*plugin)->create(Role::kValidator, "{contexts: 32, context_length: 64, seed: 7}");
  REQUIRE_MESSAGE(validator.has_value(), (validator ? "" : validator.error().toString()));
  auto miner = (*plugin)->create(Role::kMiner, "{model: " + bigram + ", device: cpu, intra_op_threads: 1}");
  REQUIRE_MESSAGE(miner.has_value(), (miner ? "" : miner.error().toString()));
  auto uniformMiner = (*plugin)->create(Role::kMiner, "model: " + uniform);
  REQUIRE(uniformMiner.has_value());

  double bigramQuality = 0, uniformQuality = 0;
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    auto challenge = (*validator)->makeChallenge();
    REQUIRE(challenge.has_value());
    // The request holds held-out text.
    auto request = charlm::decodeRequest(u8(challenge->request), charlm::RequestLimits{});
    REQUIRE(request.has_value());
    CHECK(request->contexts == 32);
    CHECK(corpus->heldOut.find(std::string(request->context(0).begin(), request->context(0).end())) !=
          std::string::npos);

    const ByteView view(challenge->request);
    auto replies = (*miner)->handleBatch(std::span<const ByteView>(&view, 1));
    REQUIRE_MESSAGE(replies.has_value(), (replies ? "" : replies.error().toString()));
    REQUIRE_MESSAGE((*replies)[0].status == RequestStatus::kOk, (*replies)[0].message);
    CHECK((*replies)[0].body.size() == charlm::responseBytes(32, 1));
    auto q = (*validator)->scoreResponse(challenge->expectation, (*replies)[0].body);
    REQUIRE(q.has_value());
    bigramQuality += *q / kRounds;

    auto flat = (*uniformMiner)->handleBatch(std::span<const ByteView>(&view, 1));
    REQUIRE(flat.has_value());
    REQUIRE((*flat)[0].status == RequestStatus::kOk);
    uniformQuality += (*validator)->scoreResponse(challenge->expectation, (*flat)[0].body).value() / kRounds;

    // A perfect oracle (built from the validator's private expectation) scores ~1.
    auto expected = charlm::decodeExpectation(u8(challenge->expectation));
    REQUIRE(expected.has_value());
    auto oracle = distributions(*expected, [](std::uint8_t t, float* p) { p[t] = 1.0F; });
    CHECK((*validator)->scoreResponse(challenge->expectation, bv(oracle)).value() == doctest::Approx(1.0));
    // Malformed answers score 0 through the plugin, without an error.
    auto truncated = (*replies)[0].body;
    truncated.pop_back();
    auto q0 = (*validator)->scoreResponse(challenge->expectation, truncated);
    REQUIRE(q0.has_value());
    CHECK(*q0 == 0.0);
    CHECK((*validator)->scoreResponse(challenge->expectation, {}).value() == 0.0);
  }
  MESSAGE("bigram quality " << bigramQuality << ", uniform " << uniformQuality);
  CHECK(bigramQuality > 0.3);  // a bigram model gets ~3.5 bits per character
  CHECK(uniformQuality == doctest::Approx(0.0).epsilon(1e-6));

  // A corrupt expectation is the validator's failure, not a score.
  CHECK_FALSE((*validator)->scoreResponse(merit::Bytes(3), merit::Bytes(4)).has_value());
}

TEST_CASE("plugin miner: malformed requests, concurrent callers, every position, broken models") {
  auto plugin = SubnetPlugin::load(MERIT_CHARLM_PLUGIN);
  REQUIRE(plugin.has_value());
  auto corpus = charlm::loadCorpus(kFortunes);
  REQUIRE(corpus.has_value());
  TempDir dir;
  auto miner =
      (*plugin)->create(Role::kMiner, "{model: " + charlm::test::saveBigramModel(dir.path(), corpus->train) +
                                          ", max_batch_rows: 5, max_contexts: 64}");
  REQUIRE(miner.has_value());

  // Malformed and over-limit requests are refused one by one; the good one in the batch is answered.
  std::mt19937_64 rng(2);
  auto good = charlm::sampleChallenge(corpus->heldOut, 12, 32, rng);  // 12 rows: 3 chunks of <= 5
  const auto goodBytes = charlm::encodeRequest(good.request);
  auto tooMany = charlm::sampleChallenge(corpus->heldOut, 65, 8, rng);
  const std::vector<charlm::Bytes> batch = {charlm::Bytes{1, 2, 3}, goodBytes,
                                            charlm::encodeRequest(tooMany.request)};
  std::vector<ByteView> views;
  for (const auto& b : batch) views.push_back(bv(b));
  auto replies = (*miner)->handleBatch(views);
  REQUIRE(replies.has_value());
  CHECK((*replies)[0].status == RequestStatus::kInvalidArgument);
  CHECK((*replies)[2].status == RequestStatus::kInvalidArgument);
  REQUIRE((*replies)[1].status == RequestStatus::kOk);
  const auto reference = (*replies)[1].body;
  CHECK(charlm::bitsPerChar(good.expectation, u8(reference)).value() < 6.0);

  // Concurrent callers share the batcher and each get their own answer.
  std::vector<std::thread> threads;
  std::atomic<int> matches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        const ByteView view = bv(goodBytes);
        auto r = (*miner)->handleBatch(std::span<const ByteView>(&view, 1));
        if (r && (*r)[0].status == RequestStatus::kOk && (*r)[0].body == reference) ++matches;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(matches == 20);

  // Every position: 4 contexts x 32 positions of normalised distributions.
  charlm::Request all = good.request;
  all.contexts = 4;
  all.text.resize(4 * 32);
  all.positions.clear();
  for (std::uint16_t p = 0; p < 32; ++p) all.positions.push_back(p);
  const auto allBytes = charlm::encodeRequest(all);
  const ByteView allView = bv(allBytes);
  auto every = (*miner)->handleBatch(std::span<const ByteView>(&allView, 1));
  REQUIRE(every.has_value());
  REQUIRE((*every)[0].status == RequestStatus::kOk);
  CHECK((*every)[0].body.size() == charlm::responseBytes(4, 32));

  // Broken models fail the request as the miner's internal error, not with garbage.
  for (const std::string& model :
       {charlm::test::saveWrongShapeModel(dir.path()), charlm::test::saveNanModel(dir.path())}) {
    auto broken = (*plugin)->create(Role::kMiner, "{model: " + model + ", warmup_runs: 0}");
    REQUIRE_MESSAGE(broken.has_value(), (broken ? "" : broken.error().toString()));
    const ByteView view = bv(goodBytes);
    auto r = (*broken)->handleBatch(std::span<const ByteView>(&view, 1));
    REQUIRE(r.has_value());
    CHECK((*r)[0].status == RequestStatus::kInternal);
    CHECK((*r)[0].message.find("charlm model") != std::string::npos);
  }
}
