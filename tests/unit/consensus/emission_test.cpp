// Block emission halvings, the owner cut, the classic root epoch (spec §8.1, §8.3), the
// set_weights checks (§9.4) and the commit-reveal preimage (§9.5).
#include "merit/consensus/emission.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "merit/consensus/weights.h"

namespace merit::consensus {
namespace {

TEST_CASE("block emission halves with issuance") {
  CHECK(blockEmission(0) == 1'000'000'000);
  CHECK(blockEmission(10'500'000'000'000'000 - 1) == 1'000'000'000);
  CHECK(blockEmission(10'500'000'000'000'000) == 500'000'000);
  CHECK(blockEmission(15'750'000'000'000'000) == 250'000'000);
  CHECK(blockEmission(15'749'999'999'999'999) == 500'000'000);
  CHECK(blockEmission(18'375'000'000'000'000) == 125'000'000);
  CHECK(blockEmission(20'000'000'000'000'000) == 62'500'000);
  CHECK(blockEmission(20'999'999'999'999'999) == 0);  // 32 halvings: floor(1e9 / 2^32)
  CHECK(blockEmission(kTotalSupply) == 0);
  CHECK(blockEmission(kTotalSupply + 1) == 0);
  CHECK(blockEmission(0, 600'000'000) == 600'000'000);
  CHECK(blockEmission(10'500'000'000'000'000, 600'000'000) == 300'000'000);
}

TEST_CASE("subnet owner cut is floor(emission * (cut / 65535))") {
  CHECK(ownerCut(1'000'000'000) == 179'995'422);
  CHECK(ownerCut(1'000'000'000, 0) == 0);
  CHECK(ownerCut(1'000'000'000, 65535) == 1'000'000'000);
  CHECK(ownerCut(0) == 0);
}

TEST_CASE("root epoch: stake-weighted, sigmoid-gated subnet emission") {
  RootEpochInput in;
  in.stake = {100, 100};
  in.weights = {{65535, 0}, {0, 65535}};
  auto even = rootEpoch(in);
  REQUIRE(even.has_value());
  CHECK(*even == std::vector<uint64_t>{500'000'000, 500'000'000});

  in.weights = {{65535, 0}, {65535, 0}};
  auto all = rootEpoch(in);
  REQUIRE(all.has_value());
  CHECK(*all == std::vector<uint64_t>{1'000'000'000, 0});

  // Trust below kappa is penalised by the sigmoid: 3/4 of the stake on subnet 0, 1/4 on 1.
  // (Expected values from an independent integer model of the I64F64 arithmetic.)
  in.stake = {300, 100};
  in.weights = {{65535, 0}, {0, 65535}};
  auto skewed = rootEpoch(in);
  REQUIRE(skewed.has_value());
  CHECK((*skewed)[0] + (*skewed)[1] <= 1'000'000'000);
  CHECK((*skewed)[0] == 973'365'377);
  CHECK((*skewed)[1] == 26'634'622);

  CHECK_FALSE(rootEpoch(RootEpochInput{}).has_value());
  in.stake = {0, 0};
  CHECK_FALSE(rootEpoch(in).has_value());
  in.stake = {1, 1};
  in.weights = {{1, 2}, {1}};
  CHECK_FALSE(rootEpoch(in).has_value());
}

TEST_CASE("set_weights checks and max-upscaling") {
  SetWeightsRules rules;
  rules.callerUid = 0;
  rules.subnetN = 4;
  rules.minAllowedWeights = 2;
  rules.callerHasPermit = true;
  std::vector<uint16_t> uids{2, 3};
  std::vector<uint16_t> values{43690, 21845};
  auto row = checkAndUpscaleWeights(uids, values, rules);
  REQUIRE(row.has_value());
  CHECK(*row == std::vector<UidValue>{{2, 65535}, {3, 32768}});

  auto errorOf = [&](std::vector<uint16_t> u, std::vector<uint16_t> v, const SetWeightsRules& r) {
    auto result = checkAndUpscaleWeights(u, v, r);
    REQUIRE_FALSE(result.has_value());
    return result.error().message();
  };
  CHECK(errorOf({1, 2}, {1}, rules).starts_with("InputLengthsUnequal"));
  CHECK(errorOf({0, 1, 2, 3, 3}, {1, 1, 1, 1, 1}, rules).starts_with("UidsLengthExceedUidsInSubNet"));
  CHECK(errorOf({2, 2}, {1, 1}, rules).starts_with("DuplicateUids"));
  CHECK(errorOf({2, 9}, {1, 1}, rules).starts_with("UidVecContainInvalidOne"));
  CHECK(errorOf({2}, {1}, rules).starts_with("WeightVecLengthIsLow"));
  SetWeightsRules noPermit = rules;
  noPermit.callerHasPermit = false;
  auto denied = checkAndUpscaleWeights(uids, values, noPermit);
  REQUIRE_FALSE(denied.has_value());
  CHECK(denied.error().code() == ErrorCode::kUnauthorized);
  // A self-weight needs neither a permit nor the minimum length.
  CHECK(checkAndUpscaleWeights(std::vector<uint16_t>{0}, std::vector<uint16_t>{7}, noPermit).value() ==
        std::vector<UidValue>{{0, 65535}});
  SetWeightsRules limited = rules;
  limited.maxWeightLimit = 32768;
  CHECK(errorOf({2, 3}, {2, 1}, limited).starts_with("MaxWeightExceeded"));
  CHECK(
      checkAndUpscaleWeights(std::vector<uint16_t>{2, 3}, std::vector<uint16_t>{1, 1}, limited).has_value());
}

TEST_CASE("commit-reveal preimage is the SCALE encoding of the tuple") {
  std::array<std::byte, 32> hotkey{};
  for (std::size_t i = 0; i < hotkey.size(); ++i) hotkey[i] = static_cast<std::byte>(i);
  std::vector<uint16_t> uids{1, 258};
  std::vector<uint16_t> values{65535, 0};
  std::vector<uint16_t> salt{7};
  auto bytes = weightsCommitPreimage(hotkey, 3, uids, values, salt, 0x0102030405060708ULL);
  std::vector<std::byte> expected(hotkey.begin(), hotkey.end());
  for (int b : {0x03, 0x00,                    // netuid_index u16
                0x08, 0x01, 0x00, 0x02, 0x01,  // uids: compact(2), 1, 258
                0x08, 0xff, 0xff, 0x00, 0x00,  // values
                0x04, 0x07, 0x00,              // salt
                0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01}) {
    expected.push_back(static_cast<std::byte>(b));
  }
  CHECK(bytes == expected);

  std::vector<std::byte> compact;
  appendScaleCompact(compact, 64);
  CHECK(compact == std::vector<std::byte>{std::byte{0x01}, std::byte{0x01}});
  compact.clear();
  appendScaleCompact(compact, 16384);
  CHECK(compact ==
        std::vector<std::byte>{std::byte{0x02}, std::byte{0x00}, std::byte{0x01}, std::byte{0x00}});
  compact.clear();
  appendScaleCompact(compact, uint64_t{1} << 30);
  CHECK(compact == std::vector<std::byte>{std::byte{0x03}, std::byte{0x00}, std::byte{0x00}, std::byte{0x00},
                                          std::byte{0x40}});
}

}  // namespace
}  // namespace merit::consensus
