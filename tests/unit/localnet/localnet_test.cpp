// The localnet config parser (strict keys, names, amounts, hyperparameters, model cache keys,
// the configs it writes for the daemons) and the process group (logs, exit codes, stopping).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

#include "merit/util/clock.h"

#include "localnet_config.h"
#include "localnet_process.h"

namespace merit::cli::localnet {
namespace {

const std::string kMinimal = R"(
subnets:
  - plugin: hash
    validators: [{name: v1, stake: 10}]
    miners: [{name: m1, tier: gold}]
)";

std::string errorOf(const std::string& yaml) {
  auto c = parseConfig(yaml, "test.yaml");
  REQUIRE_FALSE(c.has_value());
  return c.error().message();
}

TEST_CASE("a minimal config gets the defaults") {
  auto c = parseConfig(kMinimal, "test.yaml");
  REQUIRE(c.has_value());
  CHECK(c->blockTimeMs == 200);
  REQUIRE(c->subnets.size() == 1);
  CHECK(c->subnets[0].name == "hash");
  CHECK(c->subnets[0].rootWeight == 1);
  CHECK(c->subnets[0].validators[0].stake == 10 * tx::kRaoPerMerit);
  CHECK(c->subnets[0].miners[0].pluginConfig == "{}");
  CHECK_FALSE(c->subnets[0].miners[0].model.has_value());
}

TEST_CASE("the committed configs parse") {
  for (const char* file : {"/configs/localnet.yaml", "/tests/e2e/localnet_hash.yaml"}) {
    CAPTURE(file);
    auto c = loadConfig(std::string(MERIT_SOURCE_DIR) + file);
    REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().message()));
    CHECK(c->subnets.size() == 2);
    for (const auto& s : c->subnets) {
      CHECK(s.validators.size() >= 2);
      CHECK(s.miners.size() >= 3);
      bool faulty = false;
      for (const auto& m : s.miners) faulty = faulty || m.tier == "faulty";
      CHECK(faulty);
    }
  }
  auto demo = loadConfig(std::string(MERIT_SOURCE_DIR) + "/configs/localnet.yaml");
  REQUIRE(demo.has_value());
  CHECK(demo->subnets[0].plugin == "fashion_mnist");
  CHECK(demo->subnets[1].plugin == "matmul");
  REQUIRE(demo->subnets[0].miners[0].model.has_value());
  CHECK(demo->subnets[0].miners[0].model->trainer == "fashion-mnist");
}

TEST_CASE("errors name the file, the key and the reason") {
  CHECK(errorOf("rooot_stake: 1\n" + kMinimal).find("test.yaml: rooot_stake: unknown key") !=
        std::string::npos);
  CHECK(
      errorOf("chain: {block_time_ms: 5}\n" + kMinimal).find("chain.block_time_ms: must be in [10, 60000]") !=
      std::string::npos);
  CHECK(errorOf("fund: 1.5.5\n" + kMinimal).find("fund: amount") != std::string::npos);
  CHECK(errorOf("subnets: []").find("subnets: a list of at least one subnet") != std::string::npos);
  CHECK(errorOf("subnets: [{plugin: hash, miners: [{name: m, tier: t}]}]").find("subnets[0].validators") !=
        std::string::npos);
  CHECK(errorOf(R"(subnets: [{plugin: hash, validators: [{name: v, stake: 1}], miners: [{name: m}]}])")
            .find("subnets[0].miners[0].tier: required") != std::string::npos);
  CHECK(errorOf(
            R"(subnets: [{plugin: Hash!, validators: [{name: v, stake: 1}], miners: [{name: m, tier: t}]}])")
            .find("subnets[0].plugin") != std::string::npos);
  CHECK(errorOf(R"(subnets: [{plugin: hash, hyperparameters: {tempoo: 3}, validators: [{name: v, stake: 1}],
                             miners: [{name: m, tier: t}]}])")
            .find("subnets[0].hyperparameters.tempoo") != std::string::npos);
  CHECK(
      errorOf(R"(subnets: [{plugin: hash, validators: [{name: v, stake: 1}], miners: [{name: v, tier: t}]}])")
          .find("'v' is used twice") != std::string::npos);
  CHECK(errorOf(R"(subnets: [{plugin: hash, validators: [{name: v, stake: 1}], miners: [{name: m, tier: t}]},
                             {plugin: hash, validators: [{name: v, stake: 1}], miners: [{name: m, tier: t}]}])")
            .find("named twice") != std::string::npos);
  CHECK(errorOf(R"(subnets: [{plugin: hash, validators: [{name: v, stake: 1, settings: {wallet: x}}],
                             miners: [{name: m, tier: t}]}])")
            .find("validators[0].settings.wallet: not a key localnet passes on") != std::string::npos);
  CHECK(errorOf(R"(subnets: [{plugin: hash, validators: [{name: v, stake: 1}],
                             miners: [{name: m, tier: t, model: {trainer: x, args: [--out, f]}}]}])")
            .find("--out is chosen by localnet") != std::string::npos);
  CHECK(errorOf(R"(subnets: [{plugin: hash, validators: [{name: v, stake: 1}],
                             miners: [{name: m, tier: t, model: {trainer: x}, plugin_config: {model: y}}]}])")
            .find("give one or the other") != std::string::npos);
  CHECK(errorOf("fund: 5\n" + kMinimal).find("does not cover the stakes") != std::string::npos);
  CHECK(errorOf("subnets: [").find("test.yaml: line") != std::string::npos);
}

TEST_CASE("hyperparameters and settings are kept in order") {
  auto c = parseConfig(R"(
validator_defaults: {step_interval_ms: 300}
subnets:
  - plugin: hash
    name: h2
    root_weight: 3
    hyperparameters: {tempo: 20, commit_reveal: false}
    validators: [{name: v1, stake: 0.5, settings: {sharpen: 2}}]
    miners: [{name: m1, tier: gold, plugin_config: {faults: {delay_ms: 5}}}]
)",
                       "t");
  REQUIRE(c.has_value());
  const auto& s = c->subnets[0];
  CHECK(s.name == "h2");
  CHECK(s.rootWeight == 3);
  REQUIRE(s.hyperparameters.size() == 2);
  CHECK(s.hyperparameters[0] == std::make_pair(tx::Hyper::kTempo, std::uint64_t{20}));
  CHECK(s.hyperparameters[1] == std::make_pair(tx::Hyper::kCommitReveal, std::uint64_t{0}));
  CHECK(s.validators[0].stake == tx::kRaoPerMerit / 2);
  CHECK(s.validators[0].settings.at("sharpen") == "2");
  CHECK(c->validatorDefaults.at("step_interval_ms") == "300");
  CHECK(s.miners[0].pluginConfig.find("delay_ms: 5") != std::string::npos);
}

TEST_CASE("model cache keys depend on trainer and every argument") {
  ModelSpec a{"fashion-mnist", {"--epochs", "0.2"}};
  ModelSpec b{"fashion-mnist", {"--epochs", "0.3"}};
  ModelSpec c{"fashion-mnist", {"--epochs0.2"}};
  CHECK(a.cacheKey().size() == 16);
  CHECK(a.cacheKey() == ModelSpec{"fashion-mnist", {"--epochs", "0.2"}}.cacheKey());
  CHECK(a.cacheKey() != b.cacheKey());
  CHECK(a.cacheKey() != c.cacheKey());
}

TEST_CASE("withModel and daemonYaml") {
  auto pc = withModel("{device: cpu}", "/cache/m.pt");
  REQUIRE(pc.has_value());
  CHECK(pc->find("device: cpu") != std::string::npos);
  CHECK(pc->find("model: /cache/m.pt") != std::string::npos);
  auto empty = withModel("{}", "/m.pt");
  REQUIRE(empty.has_value());
  CHECK(empty->find("model: /m.pt") != std::string::npos);
  std::string yaml = daemonYaml({{"netuid", "2"}, {"bind", "tcp://127.0.0.1:*"}}, {"/x/subnets"}, *pc);
  CHECK(yaml.find("netuid: \"2\"") != std::string::npos);
  CHECK(yaml.find("subnet_path: [/x/subnets]") != std::string::npos);
  CHECK(yaml.find("model: /cache/m.pt") != std::string::npos);
}

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/merit-localnet-unit.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_CASE("process group: logs, exit codes, environment") {
  TempDir tmp;
  ProcessGroup group;
  ProcessSpec spec{
      "echo",         "/bin/sh", {"-c", "echo out; echo err >&2; echo $LN_X; exit 3"}, tmp.path / "a.log",
      {"LN_X=hello"}, {}};
  auto pid = group.spawn(spec);
  REQUIRE(pid.has_value());
  std::vector<ProcessExit> exits;
  for (int i = 0; i < 100 && exits.empty(); ++i) {
    exits = group.reap();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].how == "exited with code 3");
  CHECK(slurp(tmp.path / "a.log") == "out\nerr\nhello\n");

  ProcessSpec missing{"missing", tmp.path / "no-such-binary", {}, tmp.path / "b.log", {}, {}};
  REQUIRE(group.spawn(missing).has_value());
  exits.clear();
  for (int i = 0; i < 100 && exits.empty(); ++i) {
    exits = group.reap();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].how == "exited with code 127");
  CHECK(slurp(tmp.path / "b.log").find("cannot execute") != std::string::npos);

  ProcessSpec badLog{"x", "/bin/true", {}, tmp.path / "no-dir" / "x.log", {}, {}};
  CHECK_FALSE(group.spawn(badLog).has_value());
}

TEST_CASE("process group: stopAll ends every child, SIGKILL after the grace period") {
  TempDir tmp;
  ProcessGroup group;
  auto polite = group.spawn({"polite", "/bin/sleep", {"60"}, tmp.path / "p.log", {}, {}});
  // Ignores SIGTERM: only the SIGKILL after the grace period ends it.
  auto stubborn = group.spawn(
      {"stubborn", "/bin/sh", {"-c", "trap '' TERM; sleep 60 & wait; sleep 60"}, tmp.path / "s.log", {}, {}});
  REQUIRE(polite.has_value());
  REQUIRE(stubborn.has_value());
  CHECK(::getpgid(*polite) == group.groupId());
  CHECK(::getpgid(*stubborn) == group.groupId());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(group.runningCount() == 2);
  auto start = std::chrono::steady_clock::now();
  auto exits = group.stopAll(std::chrono::milliseconds(500));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(group.runningCount() == 0);
  CHECK(took < std::chrono::seconds(5));
  CHECK_FALSE(processAlive(*polite));
  CHECK_FALSE(processAlive(*stubborn));
  REQUIRE(exits.size() == 2);
  for (const auto& e : exits) {
    if (e.pid == *polite) {
      CHECK(e.how == "killed by signal 15");
      CHECK_FALSE(e.escalated);
    } else {
      CHECK(e.pid == *stubborn);
      CHECK(e.how == "killed by signal 9");
      CHECK(e.escalated);
    }
  }
}

// Kills the given pids on scope exit, so a failing check cannot leave a child running (or make
// the group's destructor wait on a manual clock that nobody advances).
struct KillOnExit {
  std::vector<pid_t> pids;
  ~KillOnExit() {
    for (pid_t p : pids) ::kill(p, SIGKILL);
  }
};

// Polls `f` (real time) until it returns true or 30 s pass: waits on an event, not a guess.
template <typename F>
bool eventually(F&& f) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

TEST_CASE("process group: SIGTERM first, SIGKILL exactly when the grace period has passed on the clock") {
  TempDir tmp;
  ManualClock clock;
  ProcessGroup group(clock);
  // Traps SIGTERM (records it and keeps running) and SIGUSR1 (proves it is still alive).
  fs::path term = tmp.path / "term", usr1 = tmp.path / "usr1", log = tmp.path / "s.log";
  std::string script = "trap 'echo term > " + term.string() + "' TERM; trap 'echo usr1 > " + usr1.string() +
                       "' USR1; echo ready; while :; do sleep 0.05; done";
  auto stubborn = group.spawn({"stubborn", "/bin/sh", {"-c", script}, log, {}, {}});
  auto polite = group.spawn({"polite", "/bin/sleep", {"60"}, tmp.path / "p.log", {}, {}});
  REQUIRE(stubborn.has_value());
  REQUIRE(polite.has_value());
  KillOnExit guard{{*stubborn, *polite}};
  REQUIRE(eventually([&] { return slurp(log) == "ready\n"; }));  // its traps are set

  group.beginStop(std::chrono::milliseconds(10'000));
  std::vector<ProcessExit> exits;
  REQUIRE(eventually([&] {
    for (auto& e : group.pollStop()) exits.push_back(e);
    return !group.running(*polite) && slurp(term) == "term\n";
  }));
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].pid == *polite);
  CHECK(exits[0].how == "killed by signal 15");
  CHECK_FALSE(exits[0].escalated);

  // One millisecond before the deadline: no SIGKILL. A signal sent after pollStop() returns is
  // still handled (a pending SIGKILL would have ended the process before it ran the trap).
  clock.advance(std::chrono::milliseconds(9'999));
  CHECK(group.pollStop().empty());
  REQUIRE(::kill(*stubborn, SIGUSR1) == 0);
  CHECK(eventually([&] { return slurp(usr1) == "usr1\n"; }));
  CHECK(group.running(*stubborn));

  // At the deadline: SIGKILL, and the exit says so.
  clock.advance(std::chrono::milliseconds(1));
  exits.clear();
  REQUIRE(eventually([&] {
    for (auto& e : group.pollStop()) exits.push_back(e);
    return group.runningCount() == 0;
  }));
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].pid == *stubborn);
  CHECK(exits[0].name == "stubborn");
  CHECK(exits[0].how == "killed by signal 9");
  CHECK(exits[0].escalated);
  CHECK_FALSE(processAlive(*stubborn));
}

}  // namespace
}  // namespace merit::cli::localnet
