#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "merit/subnet_host/plugin.h"
#include "merit/subnet_host/search_path.h"
#include "merit/util/bytes.h"

namespace fs = std::filesystem;
using merit::Bytes;
using merit::ByteView;
using merit::ErrorCode;
using merit::subnet::HandledRequest;
using merit::subnet::RequestStatus;
using merit::subnet::Role;
using merit::subnet::SubnetInstance;
using merit::subnet::SubnetPlugin;

namespace {

const std::vector<std::string> kHashDirs = {MERIT_HASH_PLUGIN_DIR};

fs::path testPlugin(const std::string& name) {
  return fs::path(MERIT_TEST_PLUGIN_DIR) / merit::subnet::pluginFileName(name);
}

std::shared_ptr<SubnetPlugin> loadHash() {
  auto plugin = SubnetPlugin::find("hash", kHashDirs);
  REQUIRE_MESSAGE(plugin.has_value(), (plugin ? "" : plugin.error().toString()));
  return *plugin;
}

std::unique_ptr<SubnetInstance> create(SubnetPlugin& plugin, Role role, std::string_view yaml = "") {
  auto instance = plugin.create(role, yaml);
  REQUIRE_MESSAGE(instance.has_value(), (instance ? "" : instance.error().toString()));
  return std::move(*instance);
}

std::vector<HandledRequest> handle(SubnetInstance& miner, const std::vector<Bytes>& requests) {
  std::vector<ByteView> views(requests.begin(), requests.end());
  auto replies = miner.handleBatch(views);
  REQUIRE_MESSAGE(replies.has_value(), (replies ? "" : replies.error().toString()));
  REQUIRE(replies->size() == requests.size());
  return std::move(*replies);
}

Bytes hashRequest(std::uint32_t rounds, std::string_view challenge) {
  Bytes out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(rounds >> (8 * i)));
  merit::append(out, merit::asBytes(challenge));
  return out;
}

std::string errorOf(const auto& result) {
  return result ? std::string("(no error)") : result.error().toString();
}

// A private temporary directory, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "merit_subnet_test_XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("hash plugin: challenge, answer, score end to end") {
  auto plugin = loadHash();
  CHECK(plugin->name() == "hash");
  CHECK(plugin->version() == 1);
  CHECK(plugin->flags() == 0);
  auto validator = create(*plugin, Role::kValidator, "rounds: 5\nchallenge_bytes: 48\n");
  auto miner = create(*plugin, Role::kMiner);

  std::vector<merit::subnet::Challenge> challenges;
  std::vector<Bytes> requests;
  for (int i = 0; i < 4; ++i) {
    auto challenge = validator->makeChallenge();
    REQUIRE_MESSAGE(challenge, errorOf(challenge));
    CHECK(challenge->request.size() == 4 + 48);
    CHECK(challenge->request[0] == std::byte{5});
    CHECK(challenge->expectation.size() == 32);
    requests.push_back(challenge->request);
    challenges.push_back(std::move(*challenge));
  }
  CHECK(challenges[0].request != challenges[1].request);  // random

  auto replies = handle(*miner, requests);
  for (std::size_t i = 0; i < replies.size(); ++i) {
    REQUIRE(replies[i].status == RequestStatus::kOk);
    auto quality = validator->scoreResponse(challenges[i].expectation, replies[i].body);
    REQUIRE_MESSAGE(quality, errorOf(quality));
    CHECK(*quality == 1.0);
  }

  SUBCASE("a tampered answer scores 0") {
    Bytes tampered = replies[0].body;
    tampered[31] ^= std::byte{0x80};
    CHECK(validator->scoreResponse(challenges[0].expectation, tampered).value() == 0.0);
    CHECK(validator->scoreResponse(challenges[0].expectation, replies[1].body).value() == 0.0);
  }
  SUBCASE("a malformed answer scores 0, a corrupt expectation is the validator's error") {
    CHECK(validator->scoreResponse(challenges[0].expectation, Bytes{}).value() == 0.0);
    CHECK(validator->scoreResponse(challenges[0].expectation, Bytes(33)).value() == 0.0);
    auto corrupt = validator->scoreResponse(Bytes(5), replies[0].body);
    REQUIRE_FALSE(corrupt);
    CHECK(corrupt.error().code() == ErrorCode::kInternal);
    CHECK(corrupt.error().message().find("corrupt expectation") != std::string::npos);
  }
  SUBCASE("each role refuses the other role's calls") {
    auto wrong = validator->handleBatch({});
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code() == ErrorCode::kInvalidArgument);
    CHECK(wrong.error().message().find("needs a miner instance") != std::string::npos);
    CHECK_FALSE(miner->makeChallenge());
    CHECK_FALSE(miner->scoreResponse(challenges[0].expectation, replies[0].body));
  }
}

TEST_CASE("hash plugin: known answers and malformed requests") {
  auto plugin = loadHash();
  auto miner = create(*plugin, Role::kMiner,
                      "rounds: 3\nmax_rounds: 10\nchallenge_bytes: 8\nmax_challenge_bytes: 8\n");
  auto replies =
      handle(*miner, {hashRequest(1, "abc"), hashRequest(0, "abc"), hashRequest(3, "abc"), Bytes(4),
                      hashRequest(11, "abc"), hashRequest(1, "123456789"), hashRequest(2, "abc")});
  // BLAKE2b-256("abc"), the RFC 7693 style test vector for a 32-byte digest.
  CHECK(merit::toHex(replies[0].body) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  CHECK(replies[1].status == RequestStatus::kOk);
  CHECK(replies[1].body == replies[2].body);  // rounds 0 = the configured 3
  CHECK(replies[3].status == RequestStatus::kInvalidArgument);
  CHECK(replies[3].message.find("round count") != std::string::npos);
  CHECK(replies[4].status == RequestStatus::kInvalidArgument);
  CHECK(replies[4].message.find("max_rounds") != std::string::npos);
  CHECK(replies[5].status == RequestStatus::kInvalidArgument);
  CHECK(replies[6].status == RequestStatus::kOk);  // the batch goes on after bad requests
  // Two rounds is the hash of the one-round digest.
  CHECK(replies[6].body != replies[0].body);
  CHECK(replies[6].body.size() == 32);
}

TEST_CASE("hash plugin: faulty miners") {
  auto plugin = loadHash();
  auto validator = create(*plugin, Role::kValidator, "rounds: 2");
  auto runRound = [&](SubnetInstance& miner, int count) {
    std::vector<merit::subnet::Challenge> challenges;
    std::vector<Bytes> requests;
    for (int i = 0; i < count; ++i) {
      challenges.push_back(validator->makeChallenge().value());
      requests.push_back(challenges.back().request);
    }
    auto replies = handle(miner, requests);
    struct Tally {
      int good = 0, wrong = 0, dropped = 0;
      std::vector<std::size_t> sizes;
    } tally;
    for (int i = 0; i < count; ++i) {
      if (replies[i].status == RequestStatus::kDrop) {
        ++tally.dropped;
        continue;
      }
      REQUIRE(replies[i].status == RequestStatus::kOk);
      tally.sizes.push_back(replies[i].body.size());
      (validator->scoreResponse(challenges[i].expectation, replies[i].body).value() == 1.0 ? tally.good
                                                                                           : tally.wrong)++;
    }
    return tally;
  };

  SUBCASE("always wrong") {
    auto miner = create(*plugin, Role::kMiner, "faults: {wrong_rate: 1}");
    auto t = runRound(*miner, 20);
    CHECK(t.wrong == 20);
    for (auto size : t.sizes) CHECK(size == 32);  // plausible-looking but wrong
  }
  SUBCASE("garbage bytes") {
    auto miner = create(*plugin, Role::kMiner, "faults: {garbage_rate: 1.0}");
    auto t = runRound(*miner, 20);
    CHECK(t.wrong == 20);
    for (auto size : t.sizes) CHECK((size >= 1 && size <= 64 && size != 32));
  }
  SUBCASE("no answer") {
    auto miner = create(*plugin, Role::kMiner, "faults:\n  drop_rate: 1\n");
    CHECK(runRound(*miner, 10).dropped == 10);
  }
  SUBCASE("a seeded mix is reproducible and roughly at the configured rates") {
    const char* yaml = "faults: {wrong_rate: 0.25, drop_rate: 0.25, seed: 1234}";
    auto a = runRound(*create(*plugin, Role::kMiner, yaml), 200);
    auto b = runRound(*create(*plugin, Role::kMiner, yaml), 200);
    CHECK(a.good == b.good);
    CHECK(a.dropped == b.dropped);
    CHECK(a.good + a.wrong + a.dropped == 200);
    CHECK((a.dropped > 20 && a.dropped < 80));
    CHECK((a.wrong > 20 && a.wrong < 80));
  }
  SUBCASE("extra delay") {
    auto miner = create(*plugin, Role::kMiner, "faults: {delay_ms: 60}");
    const auto start = std::chrono::steady_clock::now();
    auto t = runRound(*miner, 2);
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(60));
    CHECK(t.good == 2);  // late, not wrong
  }
  SUBCASE("faults never touch a validator") {
    auto v = create(*plugin, Role::kValidator, "faults: {drop_rate: 1}");
    CHECK(v->makeChallenge().has_value());
  }
}

TEST_CASE("hash plugin: a bad config fails create with the key named") {
  auto plugin = loadHash();
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"roundz: 3", "roundz: unknown key"},
      {"rounds: 0", "rounds: 0 is outside 1..1000000"},
      {"rounds: -4", "rounds: '-4' is not a non-negative integer"},
      {"rounds: [1, 2]", "rounds: must be a number"},
      {"rounds: 50\nmax_rounds: 10", "rounds: must not exceed max_rounds"},
      {"faults: {wrong_rate: 1.5}", "faults.wrong_rate: '1.5' is not a number in [0, 1]"},
      {"faults: {drop_rate: x}", "faults.drop_rate"},
      {"faults: {wrong_rate: 0.6, drop_rate: 0.6}", "faults: wrong_rate + garbage_rate + drop_rate"},
      {"faults: {delay: 5}", "faults.delay: unknown key"},
      {"faults: 3", "faults: must be a mapping"},
      {"- 1\n- 2", "must be a mapping"},
      {"rounds: [1,", "hash config: line"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.yaml);
    auto instance = plugin->create(Role::kMiner, c.yaml);
    REQUIRE_FALSE(instance);
    CHECK(instance.error().code() == ErrorCode::kInvalidArgument);
    CHECK(instance.error().message().find("refused to create a miner") != std::string::npos);
    CHECK_MESSAGE(instance.error().message().find(c.expected) != std::string::npos,
                  instance.error().message());
  }
}

TEST_CASE("loading failures are clear errors") {
  SUBCASE("missing file") {
    auto p = SubnetPlugin::load(testPlugin("does_not_exist"));
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == ErrorCode::kNotFound);
    CHECK(p.error().message().find("does not exist") != std::string::npos);
  }
  SUBCASE("unknown name: every directory searched is listed") {
    const std::vector<std::string> dirs = {"/nonexistent/one", MERIT_TEST_PLUGIN_DIR};
    auto p = SubnetPlugin::find("nothing_here", dirs);
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == ErrorCode::kNotFound);
    CHECK(p.error().message().find("libmerit_subnet_nothing_here.so") != std::string::npos);
    CHECK(p.error().message().find("/nonexistent/one") != std::string::npos);
    CHECK(p.error().message().find("MERIT_SUBNET_PATH") != std::string::npos);
  }
  SUBCASE("invalid name") {
    auto p = SubnetPlugin::find("Bad-Name", {});
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == ErrorCode::kInvalidArgument);
  }
  SUBCASE("not a shared object") {
    TempDir dir;
    const fs::path file = dir.path / "libmerit_subnet_text.so";
    std::ofstream(file) << "not an ELF file\n";
    auto p = SubnetPlugin::load(file);
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == ErrorCode::kInvalidArgument);
    CHECK(p.error().message().find("cannot be loaded") != std::string::npos);
  }
  SUBCASE("no entry point") {
    auto p = SubnetPlugin::load(testPlugin("test_no_symbol"));
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == ErrorCode::kInvalidArgument);
    CHECK(p.error().message().find("does not export merit_subnet_plugin_v1") != std::string::npos);
  }
  SUBCASE("another ABI major") {
    auto p = SubnetPlugin::load(testPlugin("test_abi_major2"));
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == ErrorCode::kInvalidArgument);
    CHECK_MESSAGE(
        p.error().message().find("built for subnet ABI 2.0, this host speaks ABI 1.x") != std::string::npos,
        p.error().message());
  }
  SUBCASE("a table smaller than ABI 1.0") {
    auto p = SubnetPlugin::load(testPlugin("test_abi_small"));
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == ErrorCode::kInvalidArgument);
    CHECK(p.error().message().find("smaller than the") != std::string::npos);
  }
  SUBCASE("a plugin whose name differs from the one asked for") {
    TempDir dir;
    fs::copy_file(fs::path(MERIT_HASH_PLUGIN_DIR) / "libmerit_subnet_hash.so",
                  dir.path / "libmerit_subnet_other.so");
    const std::vector<std::string> dirs = {dir.path.string()};
    auto p = SubnetPlugin::find("other", dirs);
    REQUIRE_FALSE(p);
    CHECK(p.error().message().find("calls itself 'hash', not 'other'") != std::string::npos);
  }
}

TEST_CASE("a newer 1.x plugin (higher minor, longer table) is accepted; a plain C plugin works") {
  auto p = SubnetPlugin::load(testPlugin("test_abi_newer"));
  REQUIRE_MESSAGE(p, errorOf(p));
  CHECK((*p)->abiMinor() == 9);
  CHECK((*p)->table().struct_size > MERIT_SUBNET_PLUGIN_V1_0_SIZE);
  CHECK((*p)->name() == "test_abi_newer");
  CHECK((*p)->version() == 3);
  auto miner = create(**p, Role::kMiner);
  auto validator = create(**p, Role::kValidator);
  auto challenge = validator->makeChallenge().value();
  auto replies = handle(*miner, {challenge.request, Bytes{}});
  CHECK(replies[1].body.empty());
  CHECK(validator->scoreResponse(challenge.expectation, replies[0].body).value() == 1.0);
}

TEST_CASE("a create that throws fails with the plugin's own message") {
  auto p = SubnetPlugin::load(testPlugin("test_throwing"));
  REQUIRE_MESSAGE(p, errorOf(p));
  auto thrown = (*p)->create(Role::kMiner, "throw_in_create");
  REQUIRE_FALSE(thrown);
  CHECK(thrown.error().code() == ErrorCode::kInternal);
  CHECK(thrown.error().message() ==
        "subnet plugin 'test_throwing' refused to create a miner: the constructor refused: throw_in_create");
  auto refused = (*p)->create(Role::kValidator, "bad_key");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
  CHECK(refused.error().message().find("test config: bad_key: not allowed") != std::string::npos);
  CHECK((*p)->create(Role::kMiner, "").has_value());
}

TEST_CASE("a plugin that throws while handling gives INTERNAL and keeps working") {
  auto p = SubnetPlugin::load(testPlugin("test_throwing"));
  REQUIRE_MESSAGE(p, errorOf(p));
  auto miner = create(**p, Role::kMiner);
  const Bytes ok = merit::toBytes("hello");
  const Bytes boom = merit::toBytes("throw");
  const Bytes boomInt = merit::toBytes("throw_int");
  const Bytes wrongCount = merit::toBytes("wrong_count");

  std::vector<ByteView> batch = {ok, boom};
  auto failed = miner->handleBatch(batch);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code() == ErrorCode::kInternal);
  CHECK(failed.error().message() ==
        "subnet plugin 'test_throwing' handle_batch failed (INTERNAL): handler exploded");

  batch = {boomInt};
  auto unknown = miner->handleBatch(batch);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message().find("unknown exception") != std::string::npos);

  batch = {ok, wrongCount};
  auto miscounted = miner->handleBatch(batch);
  REQUIRE_FALSE(miscounted);
  CHECK(miscounted.error().message().find("returned 0 replies for 2 requests") != std::string::npos);

  // Still serving.
  auto replies = handle(*miner, {ok, ok});
  CHECK(replies[0].body == ok);

  auto validator = create(**p, Role::kValidator);
  auto challenge = validator->makeChallenge().value();
  auto scoreThrow = validator->scoreResponse(challenge.expectation, merit::toBytes("throw"));
  REQUIRE_FALSE(scoreThrow);
  CHECK(scoreThrow.error().code() == ErrorCode::kInternal);
  CHECK(scoreThrow.error().message().find("scorer exploded") != std::string::npos);
  auto scoreNan = validator->scoreResponse(challenge.expectation, merit::toBytes("nan"));
  REQUIRE_FALSE(scoreNan);
  CHECK(scoreNan.error().message().find("outside [0, 1]") != std::string::npos);
  CHECK(validator->scoreResponse(challenge.expectation, challenge.request).value() == 1.0);
}

TEST_CASE("concurrent handleBatch on one instance") {
  constexpr int kThreads = 8;
  constexpr int kBatches = 30;

  SUBCASE("hash: every answer matches its own request") {
    auto plugin = loadHash();
    auto miner = create(*plugin, Role::kMiner);
    auto validator = create(*plugin, Role::kValidator, "rounds: 20");
    std::atomic<int> good{0}, bad{0};
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&miner, &validator, &good, &bad] {
        for (int b = 0; b < kBatches; ++b) {
          std::vector<merit::subnet::Challenge> challenges;
          std::vector<ByteView> requests;
          challenges.reserve(3);
          requests.reserve(3);
          for (int i = 0; i < 3; ++i) challenges.push_back(validator->makeChallenge().value());
          for (const auto& c : challenges) requests.emplace_back(c.request);
          auto replies = miner->handleBatch(requests);
          if (!replies || replies->size() != challenges.size()) {
            ++bad;
            continue;
          }
          for (std::size_t i = 0; i < challenges.size(); ++i) {
            auto q = validator->scoreResponse(challenges[i].expectation, (*replies)[i].body);
            (q && *q == 1.0 ? good : bad)++;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(bad == 0);
    CHECK(good == kThreads * kBatches * 3);
  }

  auto concurrency = [&](const std::string& name) {
    auto p = SubnetPlugin::load(testPlugin(name));
    REQUIRE_MESSAGE(p, errorOf(p));
    auto miner = create(**p, Role::kMiner);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&miner, &failures] {
        const Bytes x = merit::toBytes("x");
        for (int b = 0; b < 5; ++b) {
          std::vector<ByteView> one = {x};
          if (!miner->handleBatch(one)) ++failures;
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    const Bytes overlap = merit::toBytes("overlap");
    auto replies = handle(*miner, {overlap});
    return std::stoi(std::string(merit::asChars(replies[0].body)));
  };
  SUBCASE("a plugin without MERIT_SUBNET_FLAG_SERIAL is called concurrently") {
    CHECK(concurrency("test_throwing") > 1);
  }
  SUBCASE("MERIT_SUBNET_FLAG_SERIAL: the host never overlaps calls on one instance") {
    CHECK(concurrency("test_serial") == 1);
  }
}

TEST_CASE("search path: explicit directories, MERIT_SUBNET_PATH, install dir, build dir") {
  const char* old = std::getenv("MERIT_SUBNET_PATH");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("MERIT_SUBNET_PATH", "/env/a::/env/b:/explicit", 1);
  const std::vector<std::string> explicitDirs = {"/explicit", ""};
  auto dirs = merit::subnet::subnetSearchPath(explicitDirs);
  if (old != nullptr) {
    ::setenv("MERIT_SUBNET_PATH", saved.c_str(), 1);
  } else {
    ::unsetenv("MERIT_SUBNET_PATH");
  }
  REQUIRE(dirs.size() >= 4);
  CHECK(dirs[0] == "/explicit");
  CHECK(dirs[1] == "/env/a");
  CHECK(dirs[2] == "/env/b");
  CHECK(dirs[3] == merit::subnet::subnetInstallDir());
  CHECK(dirs.back() == merit::subnet::subnetBuildDir());
  CHECK(merit::subnet::pluginFileName("hash") == "libmerit_subnet_hash.so");

  // MERIT_SUBNET_PATH finds a plugin by name.
  ::setenv("MERIT_SUBNET_PATH", MERIT_TEST_PLUGIN_DIR, 1);
  auto p = SubnetPlugin::find("test_abi_newer", {});
  if (old != nullptr) {
    ::setenv("MERIT_SUBNET_PATH", saved.c_str(), 1);
  } else {
    ::unsetenv("MERIT_SUBNET_PATH");
  }
  REQUIRE_MESSAGE(p, errorOf(p));
  CHECK((*p)->path() == testPlugin("test_abi_newer"));
}
