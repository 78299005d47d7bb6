#include <algorithm>
#include <map>
#include <numeric>

#include <doctest/doctest.h>

#include "merit/util/file.h"
#include "merit/validator/scoring.h"
#include "merit/validator/state.h"

#include "test_support.h"

namespace merit::validator {
namespace {

crypto::AccountId hk(int n) {
  return test::testKey(n).publicKey().accountId();
}

TEST_CASE("latency factor: 1 at zero latency, 1 - w at or past the deadline") {
  LatencyModel m;
  CHECK(latencyFactor(0, 10, m) == doctest::Approx(1.0));
  CHECK(latencyFactor(5, 10, m) == doctest::Approx(0.85));
  CHECK(latencyFactor(10, 10, m) == doctest::Approx(0.7));
  CHECK(latencyFactor(50, 10, m) == doctest::Approx(0.7));
  CHECK(latencyFactor(1, 0, m) == doctest::Approx(0.7));
  m.weight = 0;
  CHECK(latencyFactor(9, 10, m) == doctest::Approx(1.0));
}

TEST_CASE("score board: EMA per uid; only observed uids move; a replaced hotkey restarts from zero") {
  ScoreBoard b;
  b.sync({hk(1), hk(2), hk(3)});
  b.observe(0, hk(1), 1.0, 0.1);
  b.observe(0, hk(1), 1.0, 0.1);
  b.observe(1, hk(2), 0.5, 0.1);
  auto s = b.scores();
  CHECK(s[0] == doctest::Approx(0.19));
  CHECK(s[1] == doctest::Approx(0.05));
  CHECK(s[2] == 0);
  b.sync({hk(1), hk(9), hk(3)});  // uid 1 deregistered and replaced
  CHECK(b.scores()[1] == 0);
  CHECK(b.scores()[0] == doctest::Approx(0.19));
  b.observe(2, hk(3), std::nan(""), 0.5);  // garbage scores count as 0
  CHECK(b.scores()[2] == 0);
}

TEST_CASE("classify: the miner's failures score 0; what strangers or we caused is not measured") {
  using namespace std::chrono_literals;
  using net::Origin;
  using wire::Status;
  auto result = [](Status status, Origin origin, bool authenticated, std::chrono::nanoseconds budget = 2s) {
    net::QueryResult r;
    r.status = status;
    r.origin = origin;
    r.authenticated = authenticated;
    r.budget = budget;
    return r;
  };
  const auto timeout = std::chrono::nanoseconds(2s);
  CHECK(classify(result(Status::kOk, Origin::kAxon, true), timeout) == Measurement::kAnswered);
  CHECK(classify(result(Status::kOk, Origin::kAxon, false), timeout) == Measurement::kFailed);
  // Refusals a flood or other validators can cause: not measured.
  CHECK(classify(result(Status::kRateLimited, Origin::kAxon, false), timeout) == Measurement::kUnmeasured);
  CHECK(classify(result(Status::kRateLimited, Origin::kAxon, true), timeout) == Measurement::kUnmeasured);
  CHECK(classify(result(Status::kOverloaded, Origin::kAxon, true), timeout) == Measurement::kUnmeasured);
  // Ours: a send failure, or a request sent with less than half the timeout left.
  CHECK(classify(result(Status::kInternal, Origin::kDendrite, false), timeout) == Measurement::kOurFailure);
  CHECK(classify(result(Status::kTimeout, Origin::kDendrite, false, 300ms), timeout) ==
        Measurement::kOurFailure);
  // The miner's: silent with the whole timeout, unreachable, a bad answer, its own INTERNAL.
  CHECK(classify(result(Status::kTimeout, Origin::kDendrite, false, 2s), timeout) == Measurement::kFailed);
  CHECK(classify(result(Status::kUnavailable, Origin::kDendrite, false, 0s), timeout) ==
        Measurement::kFailed);
  CHECK(classify(result(Status::kInvalidResponse, Origin::kDendrite, false), timeout) ==
        Measurement::kFailed);
  CHECK(classify(result(Status::kInternal, Origin::kAxon, true), timeout) == Measurement::kFailed);
  CHECK(classify(result(Status::kForbidden, Origin::kAxon, false), timeout) == Measurement::kFailed);
}

TEST_CASE("weights from scores: normalised, sharpened, capped, max-upscaled, self excluded") {
  auto row = weightsFromScores({0.0, 0.2, 0.4, 0.0}, 1.0, 1, 65535, std::nullopt).value();
  CHECK(row.uids == std::vector<std::uint16_t>{1, 2});
  CHECK(row.values == std::vector<std::uint16_t>{32768, 65535});
  auto sharp = weightsFromScores({0.0, 0.2, 0.4, 0.0}, 2.0, 1, 65535, std::nullopt).value();
  CHECK(sharp.values == std::vector<std::uint16_t>{16384, 65535});
  // Self never weighted.
  auto self = weightsFromScores({0.9, 0.2, 0.4}, 1.0, 1, 65535, std::uint16_t{0}).value();
  CHECK(std::find(self.uids.begin(), self.uids.end(), 0) == self.uids.end());
  // Too few non-zero: a uniform floor makes the row long enough.
  auto floor = weightsFromScores({0.0, 0.5, 0.0, 0.0}, 1.0, 4, 65535, std::nullopt).value();
  CHECK(floor.uids.size() == 4);
  CHECK(floor.values[1] == 65535);
  // All zero: uniform.
  auto zero = weightsFromScores({0, 0, 0}, 1.0, 1, 65535, std::nullopt).value();
  CHECK(zero.values == std::vector<std::uint16_t>{65535, 65535, 65535});
  // A weight limit of 50%: no uid gets more than half of the total.
  auto capped = weightsFromScores({0.9, 0.05, 0.05}, 1.0, 1, 32767, std::nullopt).value();
  double total = std::accumulate(capped.values.begin(), capped.values.end(), 0.0);
  CHECK(capped.values[0] / total <= 0.5 + 1e-3);
  CHECK_FALSE(weightsFromScores({}, 1.0, 1, 65535, std::nullopt));
}

TEST_CASE("miner sampler covers every eligible uid once per pass") {
  MinerSampler s(7);
  std::vector<std::uint16_t> eligible = {1, 2, 3, 4, 5, 6, 7};
  std::map<std::uint16_t, int> seen;
  for (int step = 0; step < 7; ++step) {
    for (auto uid : s.next(eligible, 3)) ++seen[uid];
  }
  // 21 picks over 7 uids: exactly 3 each.
  for (auto uid : eligible) CHECK(seen[uid] == 3);
  auto few = s.next({9}, 5);
  CHECK(few == std::vector<std::uint16_t>{9});
  CHECK(s.next({}, 5).empty());
}

TEST_CASE("state round-trips atomically; damage is reported") {
  test::TempDir dir;
  std::string path = (dir.path() / "state.json").string();
  CHECK(loadState(path).error().code() == ErrorCode::kNotFound);
  ValidatorState st;
  st.netuid = 2;
  st.hotkey = hk(5);
  st.scores = {{hk(1), 0.25, true}, {hk(2), 0.0, true}};
  st.pendingCommits = {{100, {1, 2}, {3, 4}, {5, 6, 7}, 9}};
  st.lastWeightsBlock = 90;
  st.steps = 12;
  REQUIRE(saveState(path, st));
  auto back = loadState(path);
  REQUIRE(back);
  CHECK(back->netuid == 2);
  CHECK(back->hotkey == hk(5));
  CHECK(back->scores.size() == 2);
  CHECK(back->scores[0].score == doctest::Approx(0.25));
  CHECK(back->pendingCommits[0].salt == std::vector<std::uint16_t>{5, 6, 7});
  CHECK(back->steps == 12);
  REQUIRE(writeFileAtomic(path, asBytes("{\"version\":1,\"netuid\":2"), 0600));
  CHECK(loadState(path).error().code() == ErrorCode::kCorruption);
  REQUIRE(writeFileAtomic(path, asBytes(R"({"version":1,"netuid":2,"hotkey":"zz"})"), 0600));
  CHECK(loadState(path).error().message().find("damaged") != std::string::npos);
}

}  // namespace
}  // namespace merit::validator

#include "merit/validator/config.h"

namespace merit::validator {
namespace {

TEST_CASE("validator config: the shipped file loads; bad keys and values are named") {
  auto c = loadValidatorConfig(MERIT_SOURCE_DIR "/configs/validator.yaml", ValidatorFileConfig{});
  REQUIRE_MESSAGE(c, (c ? "" : c.error().message()));
  CHECK(c->plugin == "hash");
  CHECK(c->loop.sampleSize == 50);
  CHECK(c->loop.authMode == net::AuthMode::kSession);
  CHECK(parseValidatorConfig("auth_mode: maybe\n", "v.yaml", {})
            .error()
            .message()
            .starts_with("v.yaml: auth_mode"));
  CHECK(parseValidatorConfig("ema_alpha: 2\n", "v.yaml", {})
            .error()
            .message()
            .starts_with("v.yaml: ema_alpha"));
  CHECK(parseValidatorConfig("sample_sise: 2\n", "v.yaml", {}).error().message().find("unknown key") !=
        std::string::npos);
  ::setenv("MERIT_VALIDATOR_SAMPLE_SIZE", "7", 1);
  ValidatorFileConfig e;
  REQUIRE(applyValidatorEnvironment(e));
  CHECK(e.loop.sampleSize == 7);
  ::unsetenv("MERIT_VALIDATOR_SAMPLE_SIZE");
}

}  // namespace
}  // namespace merit::validator
