// The matmul subnet: the real plugin through merit_subnet_host (honest answers score 1, every
// kind of wrong or malformed answer scores 0 without an error, faults, config checks) and its
// arithmetic through merit_matmul_core (documented generator, CPU product against a naive
// reference). The CUDA product is checked by test_subnet_matmul_cuda (matmul_cuda_test.cpp).
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <sodium.h>

#include "merit/subnet_host/plugin.h"
#include "merit/util/bytes.h"

#include "fixed_problem.h"
#include "matmul_core.h"
#include "matmul_cuda.h"

namespace mm = merit::matmul;
using merit::Bytes;
using merit::ByteView;
using merit::subnet::HandledRequest;
using merit::subnet::RequestStatus;
using merit::subnet::Role;
using merit::subnet::SubnetInstance;
using merit::subnet::SubnetPlugin;

namespace {

std::shared_ptr<SubnetPlugin> loadMatmul() {
  auto plugin = SubnetPlugin::find("matmul", std::vector<std::string>{MERIT_MATMUL_PLUGIN_DIR});
  REQUIRE_MESSAGE(plugin.has_value(), (plugin ? "" : plugin.error().toString()));
  return *plugin;
}

std::unique_ptr<SubnetInstance> create(SubnetPlugin& plugin, Role role, std::string_view yaml = "") {
  auto instance = plugin.create(role, yaml);
  REQUIRE_MESSAGE(instance.has_value(), (instance ? "" : instance.error().toString()));
  return std::move(*instance);
}

HandledRequest handleOne(SubnetInstance& miner, const Bytes& request) {
  std::vector<ByteView> views{ByteView(request)};
  auto replies = miner.handleBatch(views);
  REQUIRE_MESSAGE(replies.has_value(), (replies ? "" : replies.error().toString()));
  REQUIRE(replies->size() == 1);
  return std::move((*replies)[0]);
}

double score(SubnetInstance& validator, const Bytes& expectation, const Bytes& response) {
  auto quality = validator.scoreResponse(expectation, response);
  REQUIRE_MESSAGE(quality.has_value(), (quality ? "" : quality.error().toString()));
  return *quality;
}

Bytes toBytes(const std::vector<std::uint8_t>& v) {
  Bytes out(v.size());
  if (!v.empty()) std::memcpy(out.data(), v.data(), v.size());
  return out;
}

std::span<const std::uint8_t> u8(const Bytes& b) {
  return {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()};
}

mm::Problem decode(const Bytes& request) {
  mm::Problem problem;
  std::string why;
  REQUIRE_MESSAGE(mm::decodeRequest(u8(request), problem, why), why);
  return problem;
}

// The correct C for a problem, by the CPU path.
mm::Matrix product(const mm::Problem& p) {
  mm::Matrix a, b, c(static_cast<std::size_t>(p.n) * p.m);
  mm::deriveMatrices(p, a, b);
  mm::multiplyCpu(a, b, c, p.n, p.k, p.m, 2);
  return c;
}

// The textbook triple loop, reducing after every product.
mm::Matrix naiveProduct(const mm::Matrix& a, const mm::Matrix& b, std::uint32_t n, std::uint32_t k,
                        std::uint32_t m) {
  mm::Matrix c(static_cast<std::size_t>(n) * m);
  for (std::uint32_t i = 0; i < n; ++i) {
    for (std::uint32_t j = 0; j < m; ++j) {
      std::uint64_t sum = 0;
      for (std::uint32_t x = 0; x < k; ++x) {
        sum = (sum + static_cast<std::uint64_t>(a[i * k + x]) * b[x * m + j]) % mm::kPrime;
      }
      c[i * m + j] = static_cast<std::uint32_t>(sum);
    }
  }
  return c;
}

using merit::matmul::test::fixedProblem;

// The challenge of a validator configured with `yaml`, and its expectation.
merit::subnet::Challenge challenge(SubnetInstance& validator) {
  auto c = validator.makeChallenge();
  REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().toString()));
  return std::move(*c);
}

}  // namespace

TEST_CASE("an honest miner's product scores 1, through the real plugin") {
  REQUIRE(sodium_init() >= 0);
  auto plugin = loadMatmul();
  CHECK(plugin->name() == "matmul");
  auto miner = create(*plugin, Role::kMiner, "{device: cpu, threads: 2}");
  auto validator = create(*plugin, Role::kValidator);
  for (int i = 0; i < 5; ++i) {
    auto c = challenge(*validator);
    REQUIRE(c.request.size() == mm::kRequestBytes);
    const mm::Problem p = decode(c.request);
    CHECK(p.n == 256);
    CHECK(p.k == 256);
    CHECK(p.m == 256);
    // The validator keeps only the seed and sizes.
    CHECK(c.expectation.size() == mm::kRequestBytes);
    auto reply = handleOne(*miner, c.request);
    REQUIRE(reply.status == RequestStatus::kOk);
    CHECK(reply.body.size() == mm::kResponseHeaderBytes + 4u * 256 * 256);
    CHECK(score(*validator, c.expectation, reply.body) == 1.0);
  }
  // Challenges differ (fresh seeds).
  CHECK(challenge(*validator).request != challenge(*validator).request);
}

TEST_CASE("a product with one wrong element scores 0 (many trials)") {
  REQUIRE(sodium_init() >= 0);
  auto plugin = loadMatmul();
  auto validator = create(*plugin, Role::kValidator, "{n: 48, k: 40, m: 56}");
  std::mt19937_64 rng(1234);
  int trials = 0;
  for (int t = 0; t < 50; ++t) {
    auto c = challenge(*validator);
    const mm::Problem p = decode(c.request);
    const mm::Matrix right = product(p);
    REQUIRE(score(*validator, c.expectation, toBytes(mm::encodeResponse(p.n, p.m, right))) == 1.0);
    for (int e = 0; e < 20; ++e) {
      mm::Matrix wrong = right;
      const std::size_t index = std::uniform_int_distribution<std::size_t>(0, wrong.size() - 1)(rng);
      const std::uint32_t delta = std::uniform_int_distribution<std::uint32_t>(1, mm::kPrime - 1)(rng);
      wrong[index] = (wrong[index] + delta) % mm::kPrime;
      CHECK(score(*validator, c.expectation, toBytes(mm::encodeResponse(p.n, p.m, wrong))) == 0.0);
      ++trials;
    }
  }
  CHECK(trials == 1000);
  // The default size too, with an off-by-one in the last element.
  auto big = create(*plugin, Role::kValidator);
  auto c = challenge(*big);
  const mm::Problem p = decode(c.request);
  mm::Matrix wrong = product(p);
  wrong.back() = (wrong.back() + 1) % mm::kPrime;
  CHECK(score(*big, c.expectation, toBytes(mm::encodeResponse(p.n, p.m, wrong))) == 0.0);
}

TEST_CASE("zeros, random, truncated, oversized, garbage and malformed responses score 0 without an error") {
  REQUIRE(sodium_init() >= 0);
  auto plugin = loadMatmul();
  auto validator = create(*plugin, Role::kValidator, "{n: 32, k: 64, m: 16}");
  auto c = challenge(*validator);
  const mm::Problem p = decode(c.request);
  const mm::Matrix right = product(p);
  const Bytes good = toBytes(mm::encodeResponse(p.n, p.m, right));
  REQUIRE(score(*validator, c.expectation, good) == 1.0);

  const mm::Matrix zeros(right.size(), 0);
  CHECK(score(*validator, c.expectation, toBytes(mm::encodeResponse(p.n, p.m, zeros))) == 0.0);
  mm::Matrix random(right.size());
  for (auto& x : random) x = randombytes_uniform(mm::kPrime);
  CHECK(score(*validator, c.expectation, toBytes(mm::encodeResponse(p.n, p.m, random))) == 0.0);

  CHECK(score(*validator, c.expectation, Bytes{}) == 0.0);
  CHECK(score(*validator, c.expectation, Bytes(good.begin(), good.end() - 4)) == 0.0);  // truncated
  CHECK(score(*validator, c.expectation, Bytes(good.begin(), good.begin() + 12)) == 0.0);
  Bytes oversized = good;
  oversized.resize(good.size() + 4);
  CHECK(score(*validator, c.expectation, oversized) == 0.0);
  Bytes huge(good.size() * 16, std::byte{0});
  CHECK(score(*validator, c.expectation, huge) == 0.0);
  Bytes garbage(good.size());
  randombytes_buf(garbage.data(), garbage.size());
  CHECK(score(*validator, c.expectation, garbage) == 0.0);
  Bytes badVersion = good;
  badVersion[0] = std::byte{2};
  CHECK(score(*validator, c.expectation, badVersion) == 0.0);
  Bytes badReserved = good;
  badReserved[2] = std::byte{1};
  CHECK(score(*validator, c.expectation, badReserved) == 0.0);
  // The right bytes under a transposed header (m x n): same size, wrong shape.
  CHECK(score(*validator, c.expectation, toBytes(mm::encodeResponse(p.m, p.n, right))) == 0.0);
  // A non-canonical element (x + p instead of x) is refused even though it is congruent.
  mm::Matrix nonCanonical = right;
  nonCanonical[0] += mm::kPrime;
  CHECK(score(*validator, c.expectation, toBytes(mm::encodeResponse(p.n, p.m, nonCanonical))) == 0.0);

  // A corrupt expectation is the validator's failure (an error), never the miner's.
  CHECK_FALSE(validator->scoreResponse(Bytes(5), good).has_value());
}

TEST_CASE("faulty miners: lazy (zeros), random, wrong and dropped answers") {
  REQUIRE(sodium_init() >= 0);
  auto plugin = loadMatmul();
  auto validator = create(*plugin, Role::kValidator, "{n: 64, k: 64, m: 64}");
  auto zero = create(*plugin, Role::kMiner, "{device: cpu, faults: {zero_rate: 1.0}}");
  auto random = create(*plugin, Role::kMiner, "{device: cpu, faults: {random_rate: 1.0}}");
  auto wrong = create(*plugin, Role::kMiner, "{device: cpu, faults: {wrong_rate: 1.0}}");
  auto drop = create(*plugin, Role::kMiner, "{device: cpu, faults: {drop_rate: 1.0}}");
  auto half = create(*plugin, Role::kMiner, "{device: cpu, faults: {wrong_rate: 0.5, seed: 7}}");
  int halfRight = 0;
  for (int i = 0; i < 40; ++i) {
    auto c = challenge(*validator);
    for (auto* miner : {zero.get(), random.get(), wrong.get()}) {
      auto reply = handleOne(*miner, c.request);
      REQUIRE(reply.status == RequestStatus::kOk);
      CHECK(reply.body.size() == mm::kResponseHeaderBytes + 4u * 64 * 64);
      CHECK(score(*validator, c.expectation, reply.body) == 0.0);
    }
    CHECK(handleOne(*drop, c.request).status == RequestStatus::kDrop);
    auto reply = handleOne(*half, c.request);
    REQUIRE(reply.status == RequestStatus::kOk);
    halfRight += score(*validator, c.expectation, reply.body) == 1.0 ? 1 : 0;
  }
  CHECK(halfRight > 5);
  CHECK(halfRight < 35);
}

TEST_CASE("the miner refuses malformed and oversized requests") {
  REQUIRE(sodium_init() >= 0);
  auto plugin = loadMatmul();
  auto miner = create(*plugin, Role::kMiner, "{device: cpu, max_dim: 128}");
  auto refused = [&](const Bytes& request) {
    auto reply = handleOne(*miner, request);
    CHECK(reply.status == RequestStatus::kInvalidArgument);
    return reply.message;
  };
  Bytes ok = toBytes(mm::encodeRequest(fixedProblem(8, 8, 8)));
  REQUIRE(handleOne(*miner, ok).status == RequestStatus::kOk);
  CHECK(refused(Bytes{}).find("bytes") != std::string::npos);
  CHECK(refused(Bytes(ok.begin(), ok.end() - 1)).find("bytes") != std::string::npos);
  Bytes v2 = ok;
  v2[0] = std::byte{2};
  CHECK(refused(v2).find("version") != std::string::npos);
  CHECK(refused(toBytes(mm::encodeRequest(fixedProblem(0, 8, 8)))).find("dimension") != std::string::npos);
  CHECK(refused(toBytes(mm::encodeRequest(fixedProblem(8, 129, 8)))).find("max_dim 128") !=
        std::string::npos);
  CHECK(refused(toBytes(mm::encodeRequest(fixedProblem(8, 8, 0xFFFFFFFFu)))).find("dimension") !=
        std::string::npos);
}

TEST_CASE("configuration errors name the key") {
  auto plugin = loadMatmul();
  auto refusal = [&](Role role, std::string_view yaml) {
    auto instance = plugin->create(role, yaml);
    REQUIRE_FALSE(instance.has_value());
    return instance.error().toString();
  };
  CHECK(refusal(Role::kMiner, "{bogus: 1}").find("bogus: unknown key") != std::string::npos);
  CHECK(refusal(Role::kMiner, "{device: tpu}").find("device: 'tpu'") != std::string::npos);
  CHECK(refusal(Role::kValidator, "{verify_rounds: 2}").find("verify_rounds") != std::string::npos);
  CHECK(refusal(Role::kValidator, "{n: 4096}").find("n: 4096 is outside") != std::string::npos);
  CHECK(refusal(Role::kMiner, "{threads: -1}").find("threads") != std::string::npos);
  CHECK(refusal(Role::kMiner, "{faults: {wrong_rate: 0.6, zero_rate: 0.6}}").find("at most 1") !=
        std::string::npos);
  CHECK(refusal(Role::kMiner, "[1, 2]").find("mapping") != std::string::npos);
  std::string what, why;
  if (!mm::cudaDeviceAvailable(what, why)) {
    // No usable device: `cuda` and `auto` both fall back to the CPU (with a message on stderr),
    // and the CPU answers correctly.
    CHECK(plugin->create(Role::kMiner, "{device: cuda}").has_value());
    CHECK(plugin->create(Role::kMiner, "{device: auto}").has_value());
  }
}

TEST_CASE("derivation is deterministic and follows the documented generator") {
  REQUIRE(sodium_init() >= 0);
  const mm::Problem p = fixedProblem(5, 7, 3);
  mm::Matrix a, b;
  mm::deriveMatrices(p, a, b);
  REQUIRE(a.size() == 35);
  REQUIRE(b.size() == 21);
  // Re-derive from the text of matmul_core.h, independently of its code.
  for (char tag : {'A', 'B'}) {
    std::string message = "meritnet.matmul.v1.";
    message.push_back(tag);
    message.append(reinterpret_cast<const char*>(p.seed.data()), p.seed.size());
    unsigned char digest[16];
    crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), nullptr, 0);
    std::uint64_t key = 0;
    for (int i = 7; i >= 0; --i) key = (key << 8) | digest[i];
    CHECK(key == mm::generatorKey(p.seed, tag));
    const mm::Matrix& x = tag == 'A' ? a : b;
    for (std::uint64_t i = 0; i < x.size(); ++i) {
      std::uint64_t z = key + (i + 1) * 0x9E3779B97F4A7C15ULL;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      z ^= z >> 31;
      CHECK(x[i] == z % 65521);
    }
  }
  // A fixed seed gives fixed matrices and a fixed product (pinned: a change here breaks every
  // deployed miner and validator, so it needs a new payload version).
  const mm::Problem q = fixedProblem(64, 48, 32);
  mm::Matrix qa, qb;
  mm::deriveMatrices(q, qa, qb);
  const mm::Matrix qc = product(q);
  auto checksum = [](const mm::Matrix& x) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < x.size(); ++i) sum += (i + 1) * x[i];
    return sum;
  };
  CHECK(checksum(qa) == 158084195478ULL);
  CHECK(checksum(qb) == 37797773819ULL);
  CHECK(checksum(qc) == 67566195351ULL);
  mm::Matrix again, againB;
  mm::deriveMatrices(q, again, againB);
  CHECK(again == qa);
  CHECK(againB == qb);
}

TEST_CASE("the CPU product equals a naive triple loop") {
  REQUIRE(sodium_init() >= 0);
  struct Shape {
    std::uint32_t n, k, m;
  };
  for (Shape s : {Shape{1, 1, 1}, Shape{5, 7, 3}, Shape{4, 1, 129}, Shape{33, 17, 129}, Shape{130, 64, 257},
                  Shape{67, 300, 5}}) {
    const mm::Problem p = fixedProblem(s.n, s.k, s.m);
    mm::Matrix a, b;
    mm::deriveMatrices(p, a, b);
    const mm::Matrix expected = naiveProduct(a, b, s.n, s.k, s.m);
    for (unsigned threads : {1u, 2u, 3u, 0u}) {
      mm::Matrix c(static_cast<std::size_t>(s.n) * s.m, 0xFFFFFFFFu);
      mm::multiplyCpu(a, b, c, s.n, s.k, s.m, threads);
      CHECK_MESSAGE(c == expected, s.n, "x", s.k, "x", s.m, " threads ", threads);
    }
  }
  // Worst case for the accumulators: every element p - 1 and a long inner dimension.
  const std::uint32_t n = 4, k = 4096, m = 8;
  const mm::Matrix a(static_cast<std::size_t>(n) * k, mm::kPrime - 1),
      b(static_cast<std::size_t>(k) * m, mm::kPrime - 1);
  mm::Matrix c(static_cast<std::size_t>(n) * m);
  mm::multiplyCpu(a, b, c, n, k, m, 1);
  CHECK(c == naiveProduct(a, b, n, k, m));
}

TEST_CASE("core verdicts: correct, wrong, malformed; with A and B given or derived row by row") {
  REQUIRE(sodium_init() >= 0);
  const mm::Problem p = fixedProblem(20, 30, 40);
  mm::Matrix a, b;
  mm::deriveMatrices(p, a, b);
  mm::Matrix c = naiveProduct(a, b, p.n, p.k, p.m);
  const auto good = mm::encodeResponse(p.n, p.m, c);
  CHECK(mm::verifyResponse(p, good, 3) == mm::Verdict::kCorrect);
  CHECK(mm::verifyResponse(p, a, b, good, 3) == mm::Verdict::kCorrect);
  CHECK(mm::verifyResponse(p, good, 0) == mm::Verdict::kCorrect);  // below the minimum: 3 rounds anyway
  c[7 * p.m + 9] = (c[7 * p.m + 9] + 1) % mm::kPrime;
  const auto wrong = mm::encodeResponse(p.n, p.m, c);
  CHECK(mm::verifyResponse(p, wrong, 3) == mm::Verdict::kWrong);
  CHECK(mm::verifyResponse(p, a, b, wrong, 3) == mm::Verdict::kWrong);
  c[0] = mm::kPrime;
  CHECK(mm::verifyResponse(p, mm::encodeResponse(p.n, p.m, c), 3) == mm::Verdict::kMalformed);
  CHECK(mm::verifyResponse(p, std::span<const std::uint8_t>(good).first(good.size() - 1), 3) ==
        mm::Verdict::kMalformed);
  // A and B of the wrong size are refused rather than read out of bounds.
  CHECK(mm::verifyResponse(p, std::span<const std::uint32_t>(a).first(10), b, good, 3) ==
        mm::Verdict::kMalformed);
}
