// merit_subnet_config: typed getters with their ranges, unknown-key refusal, the subnet and key in
// every message, the faults section (keys per plugin, the sum rule) and the fault decisions.
#include "merit/subnets/plugin_config.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace cfg = merit::plugin_config;
using merit::subnet_sdk::Role;
using merit::subnet_sdk::Status;
using merit::subnet_sdk::SubnetError;

namespace {

// A small plugin's configuration, read the way the in-tree plugins read theirs.
struct Demo {
  std::uint32_t count = 4;
  double ratio = 0.5;
  std::string name = "default";
  std::size_t mode = 0;
  std::optional<std::uint64_t> seed;
  std::int32_t small = 0;
  cfg::Faults faults;
};

const cfg::FaultSpec kSpec{.wrong = true, .extraKinds = {"garbage_rate"}};

Demo readDemo(std::string_view yaml) {
  Demo d;
  cfg::parse("demo", yaml)
      .read({
          {"count", [&](const cfg::Value& v) { d.count = v.integer<std::uint32_t>(1, 100); }},
          {"ratio", [&](const cfg::Value& v) { d.ratio = v.number(1e-12, 0.1); }},
          {"name", [&](const cfg::Value& v) { d.name = v.string(); }},
          {"mode",
           [&](const cfg::Value& v) {
             d.mode = v.oneOf({"fast", "slow"});
           }},
          {"seed",
           [&](const cfg::Value& v) {
             d.seed = v.unsignedInt(0, std::numeric_limits<std::uint64_t>::max());
           }},
          {"small",
           [&](const cfg::Value& v) { d.small = v.integer<std::int32_t>(0, std::uint64_t{1} << 40); }},
          {"faults", [&](const cfg::Value& v) { d.faults = cfg::parseFaults(v, kSpec); }},
      });
  return d;
}

// The error readDemo throws for `yaml` (fails the test when it does not throw).
SubnetError refusal(std::string_view yaml) {
  try {
    readDemo(yaml);
  } catch (const SubnetError& e) {
    return e;
  }
  FAIL("accepted: " << yaml);
  return SubnetError(Status::kOk, "");
}

}  // namespace

TEST_CASE("a good configuration is read, defaults kept for absent keys") {
  const Demo d = readDemo(
      "count: 100\nratio: 0.1\nname: alice\nmode: slow\nseed: 18446744073709551615\n"
      "faults: {wrong_rate: 0.25, garbage_rate: 0.5, drop_rate: 0.25, delay_ms: 600000, seed: 7}");
  CHECK(d.count == 100);
  CHECK(d.ratio == doctest::Approx(0.1));
  CHECK(d.name == "alice");
  CHECK(d.mode == 1);
  CHECK(d.seed == std::numeric_limits<std::uint64_t>::max());
  CHECK(d.faults.wrongRate == 0.25);
  CHECK(d.faults.extraRate(0) == 0.5);
  CHECK(d.faults.extraRate(1) == 0.0);  // no such kind: 0
  CHECK(d.faults.dropRate == 0.25);
  CHECK(d.faults.totalRate() == 1.0);
  CHECK(d.faults.delayMs == 600'000);
  CHECK(d.faults.seed == 7u);

  for (const char* empty : {"", "~", "# nothing\n", "{}"}) {
    CAPTURE(empty);
    const Demo defaults = readDemo(empty);
    CHECK(defaults.count == 4);
    CHECK(defaults.name == "default");
    CHECK_FALSE(defaults.seed.has_value());
    CHECK(defaults.faults.totalRate() == 0.0);
    CHECK_FALSE(defaults.faults.seed.has_value());
  }
  CHECK(readDemo("count: 1").count == 1);  // both ends of a range are inside it
  CHECK(readDemo("ratio: 1e-12").ratio == 1e-12);
}

TEST_CASE("every error is invalid_argument and names the subnet and the key") {
  struct Case {
    const char* yaml;
    const char* message;  // the whole message
  };
  const Case cases[] = {
      // Wrong type.
      {"count: [1, 2]", "demo config: count: must be a number"},
      {"count: {a: 1}", "demo config: count: must be a number"},
      {"count:", "demo config: count: must be a number"},
      {"count: ten", "demo config: count: 'ten' is not a non-negative integer"},
      {"count: -4", "demo config: count: '-4' is not a non-negative integer"},
      {"count: 4.5", "demo config: count: '4.5' is not a non-negative integer"},
      {"count: 99999999999999999999999",
       "demo config: count: '99999999999999999999999' is not a non-negative integer"},
      {"ratio: [0.1]", "demo config: ratio: must be a number in [1e-12, 0.1]"},
      {"ratio: lots", "demo config: ratio: 'lots' is not a number in [1e-12, 0.1]"},
      {"ratio: .nan", "demo config: ratio: '.nan' is not a number in [1e-12, 0.1]"},
      {"name: [a]", "demo config: name: must be a non-empty string"},
      {"name: ''", "demo config: name: must be a non-empty string"},
      {"mode: [fast]", "demo config: mode: must be one of fast, slow"},
      {"mode: medium", "demo config: mode: 'medium' is not one of fast, slow"},
      // Out of range.
      {"count: 0", "demo config: count: 0 is outside 1..100"},
      {"count: 101", "demo config: count: 101 is outside 1..100"},
      {"ratio: 0.5", "demo config: ratio: '0.5' is not a number in [1e-12, 0.1]"},
      {"ratio: 0", "demo config: ratio: '0' is not a number in [1e-12, 0.1]"},
      // Unknown keys, at the top and in faults, listed in the reader's order.
      {"cuont: 3", "demo config: cuont: unknown key (known: count, ratio, name, mode, seed, small, faults)"},
      {"faults: {delay: 5}",
       "demo config: faults.delay: unknown key (known: wrong_rate, garbage_rate, drop_rate, delay_ms, seed)"},
      // Faults.
      {"faults: 3", "demo config: faults: must be a mapping"},
      {"faults: [1]", "demo config: faults: must be a mapping"},
      {"faults: {wrong_rate: 1.5}", "demo config: faults.wrong_rate: '1.5' is not a number in [0, 1]"},
      {"faults: {drop_rate: -0.1}", "demo config: faults.drop_rate: '-0.1' is not a number in [0, 1]"},
      {"faults: {garbage_rate: {a: 1}}", "demo config: faults.garbage_rate: must be a number in [0, 1]"},
      {"faults: {delay_ms: 600001}", "demo config: faults.delay_ms: 600001 is outside 0..600000"},
      {"faults: {seed: x}", "demo config: faults.seed: 'x' is not a non-negative integer"},
      {"faults: {wrong_rate: 0.6, drop_rate: 0.6}",
       "demo config: faults: wrong_rate + garbage_rate + drop_rate must be at most 1"},
      {"faults: {wrong_rate: 0.5, garbage_rate: 0.3, drop_rate: 0.3}",
       "demo config: faults: wrong_rate + garbage_rate + drop_rate must be at most 1"},
      // The document itself.
      {"- 1\n- 2", "demo config: must be a mapping"},
      {"just text", "demo config: must be a mapping"},
      {"count: [1,", "demo config: line 1: end of sequence flow not found"},
  };
  for (const Case& c : cases) {
    const std::string yaml = c.yaml;
    CAPTURE(yaml);
    const SubnetError e = refusal(c.yaml);
    CHECK(e.status() == Status::kInvalidArgument);
    CHECK(std::string(e.what()) == std::string(c.message));
  }
}

TEST_CASE("the first bad entry in document order is the one reported") {
  CHECK(std::string(refusal("count: 0\ncuont: 1").what()).find("count: 0 is outside") != std::string::npos);
  CHECK(std::string(refusal("cuont: 1\ncount: 0").what()).find("cuont: unknown key") != std::string::npos);
}

TEST_CASE("a range that does not fit the requested type is the plugin's bug, not the user's") {
  const SubnetError e = refusal("small: 3");
  CHECK(e.status() == Status::kInternal);
  CHECK(std::string(e.what()).find("small") != std::string::npos);
}

TEST_CASE("fail() and Value::fail() format like the readers") {
  try {
    cfg::fail("hash", "rounds", "must not exceed max_rounds");
    FAIL("fail returned");
  } catch (const SubnetError& e) {
    CHECK(std::string(e.what()) == "hash config: rounds: must not exceed max_rounds");
    CHECK(e.status() == Status::kInvalidArgument);
  }
  try {
    cfg::parse("hash", "a: {b: 1}").read({{"a", [](const cfg::Value& v) {
                                             v.map().read({{"b", [](const cfg::Value& b) { b.fail("no"); }}});
                                           }}});
    FAIL("accepted");
  } catch (const SubnetError& e) {
    CHECK(std::string(e.what()) == "hash config: a.b: no");
  }
}

TEST_CASE("faults: keys and the sum rule follow the plugin's spec") {
  const cfg::FaultSpec dropOnly{.wrong = false, .extraKinds = {}};
  const auto read = [](const cfg::FaultSpec& spec, std::string_view yaml) {
    cfg::Faults faults;
    cfg::parse("p", yaml).read(
        {{"faults", [&](const cfg::Value& v) { faults = cfg::parseFaults(v, spec); }}});
    return faults;
  };
  CHECK(read(dropOnly, "faults: {drop_rate: 1, delay_ms: 5}").dropRate == 1.0);
  try {
    read(dropOnly, "faults: {wrong_rate: 0.5}");
    FAIL("accepted wrong_rate without the kind");
  } catch (const SubnetError& e) {
    CHECK(std::string(e.what()) ==
          "p config: faults.wrong_rate: unknown key (known: drop_rate, delay_ms, seed)");
  }
  const cfg::FaultSpec matmulLike{.wrong = true, .extraKinds = {"zero_rate", "random_rate"}};
  const cfg::Faults f = read(matmulLike, "faults: {zero_rate: 0.25, random_rate: 0.75}");
  CHECK(f.extraRate(0) == 0.25);
  CHECK(f.extraRate(1) == 0.75);
  try {
    read(matmulLike, "faults: {zero_rate: 0.6, random_rate: 0.6}");
    FAIL("accepted a sum above 1");
  } catch (const SubnetError& e) {
    CHECK(std::string(e.what()) ==
          "p config: faults: wrong_rate + zero_rate + random_rate + drop_rate must be at most 1");
  }
}

TEST_CASE("fault decisions: rates, order, seeds, roles") {
  const auto faults = [](double wrong, double garbage, double drop, std::optional<std::uint64_t> seed) {
    cfg::Faults f;
    f.wrongRate = wrong;
    f.extraRates = {garbage};
    f.dropRate = drop;
    f.seed = seed;
    return f;
  };
  SUBCASE("a rate of 1 always decides that kind") {
    cfg::FaultInjector wrong(faults(1, 0, 0, std::nullopt), Role::kMiner);
    cfg::FaultInjector garbage(faults(0, 1, 0, std::nullopt), Role::kMiner);
    cfg::FaultInjector drop(faults(0, 0, 1, std::nullopt), Role::kMiner);
    for (int i = 0; i < 100; ++i) {
      CHECK(wrong.decide().wrong());
      CHECK(garbage.decide().isExtra(0));
      CHECK(drop.decide().drop());
    }
  }
  SUBCASE("no faults, or a validator, never injects anything") {
    cfg::FaultInjector none(faults(0, 0, 0, 1), Role::kMiner);
    cfg::FaultInjector validator(faults(0, 0, 1, 1), Role::kValidator);
    for (int i = 0; i < 100; ++i) {
      CHECK(none.decide().none());
      CHECK(validator.decide().none());
    }
  }
  SUBCASE("a seeded mix is reproducible and near its rates") {
    cfg::FaultInjector a(faults(0.2, 0.3, 0.1, 99), Role::kMiner);
    cfg::FaultInjector b(faults(0.2, 0.3, 0.1, 99), Role::kMiner);
    int counts[4] = {0, 0, 0, 0};  // none, drop, extra, wrong
    constexpr int kDraws = 20'000;
    for (int i = 0; i < kDraws; ++i) {
      const cfg::Fault x = a.decide();
      const cfg::Fault y = b.decide();
      REQUIRE(x.kind == y.kind);
      ++counts[static_cast<int>(x.kind)];
    }
    // Binomial standard deviations are below 0.004 here; allow 0.02.
    CHECK(counts[0] / double(kDraws) == doctest::Approx(0.4).epsilon(0.05));
    CHECK(counts[1] / double(kDraws) == doctest::Approx(0.1).epsilon(0.2));
    CHECK(counts[2] / double(kDraws) == doctest::Approx(0.3).epsilon(0.07));
    CHECK(counts[3] / double(kDraws) == doctest::Approx(0.2).epsilon(0.1));
    for (int i = 0; i < 100; ++i) {
      const std::size_t n = a.uniform(3, 5);
      CHECK(n == b.uniform(3, 5));
      CHECK((n >= 3 && n <= 5));
    }
  }
  SUBCASE("decisions follow the documented order: drop, then the extra kinds, then wrong") {
    // With the same seed, u < 0.5 is a drop for one injector and the extra kind for the other.
    cfg::FaultInjector dropFirst(faults(0, 0.5, 0.5, 5), Role::kMiner);
    cfg::FaultInjector reference(faults(0, 0, 0.5, 5), Role::kMiner);
    for (int i = 0; i < 200; ++i) {
      const cfg::Fault x = dropFirst.decide();
      const cfg::Fault y = reference.decide();
      CHECK(x.drop() == y.drop());
      CHECK(x.isExtra(0) == !y.drop());
    }
  }
  SUBCASE("unseeded injectors differ") {
    cfg::FaultInjector a(faults(0, 0, 0.5, std::nullopt), Role::kMiner);
    cfg::FaultInjector b(faults(0, 0, 0.5, std::nullopt), Role::kMiner);
    int same = 0;
    for (int i = 0; i < 64; ++i) same += a.decide().kind == b.decide().kind;
    CHECK(same < 64);
  }
}
