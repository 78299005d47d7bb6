// The python plugin host (subnets/python): loaded through merit_subnet_host exactly as merit-miner
// and merit-validator load it, running the test modules in modules/ and the shipped examples.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "merit/subnet_host/plugin.h"
#include "merit/util/bytes.h"

using merit::Bytes;
using merit::ByteView;
using merit::ErrorCode;
using merit::subnet::HandledRequest;
using merit::subnet::RequestStatus;
using merit::subnet::Role;
using merit::subnet::SubnetInstance;
using merit::subnet::SubnetPlugin;

namespace {

const std::vector<std::string> kPluginDirs = {MERIT_SUBNET_BUILD_DIR};

std::shared_ptr<SubnetPlugin> load(const std::string& name) {
  auto plugin = SubnetPlugin::find(name, kPluginDirs);
  REQUIRE_MESSAGE(plugin.has_value(), (plugin ? "" : plugin.error().toString()));
  return *plugin;
}

std::string moduleConfig(const std::string& module, const std::string& extra = "") {
  return "module: " + std::string(MERIT_PYTHON_TEST_MODULES) + "/" + module + ".py\n" + extra;
}

std::unique_ptr<SubnetInstance> create(Role role, const std::string& yaml) {
  auto instance = load("python")->create(role, yaml);
  REQUIRE_MESSAGE(instance.has_value(), (instance ? "" : instance.error().toString()));
  return std::move(*instance);
}

std::string createError(Role role, const std::string& yaml, ErrorCode expected) {
  auto instance = load("python")->create(role, yaml);
  REQUIRE_FALSE(instance.has_value());
  CHECK(instance.error().code() == expected);
  return instance.error().message();
}

Bytes bytesOf(std::string_view s) {
  return Bytes(merit::asBytes(s).begin(), merit::asBytes(s).end());
}

std::string textOf(const Bytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::vector<HandledRequest> handle(SubnetInstance& miner, const std::vector<std::string>& requests) {
  std::vector<Bytes> owned;
  owned.reserve(requests.size());
  for (const auto& r : requests) owned.push_back(bytesOf(r));
  std::vector<ByteView> views(owned.begin(), owned.end());
  auto replies = miner.handleBatch(views);
  REQUIRE_MESSAGE(replies.has_value(), (replies ? "" : replies.error().toString()));
  REQUIRE(replies->size() == requests.size());
  return std::move(*replies);
}

HandledRequest handleOne(SubnetInstance& miner, const std::string& request) {
  return handle(miner, {request}).front();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("the python plugin is the subnet 'python', with concurrent calls allowed") {
  auto plugin = load("python");
  CHECK(plugin->name() == "python");
  CHECK(plugin->version() == 1);
  CHECK((plugin->flags() & MERIT_SUBNET_FLAG_SERIAL) == 0);
}

TEST_CASE("configuration errors name the key") {
  CHECK(contains(createError(Role::kMiner, "", ErrorCode::kInvalidArgument),
                 "python config: module: is required"));
  CHECK(contains(createError(Role::kMiner, "python_path: /tmp", ErrorCode::kInvalidArgument), "module"));
  CHECK(contains(createError(Role::kMiner, "[1, 2]", ErrorCode::kInvalidArgument), "must be a mapping"));
  CHECK(contains(createError(Role::kMiner, "module: {a: 1}", ErrorCode::kInvalidArgument), "module"));
  CHECK(contains(createError(Role::kMiner, "module: /nonexistent/mod.py", ErrorCode::kInvalidArgument),
                 "module: no such file: /nonexistent/mod.py"));
  CHECK(contains(createError(Role::kMiner, "module: no_such_module_xyz", ErrorCode::kInvalidArgument),
                 "no module named 'no_such_module_xyz'"));
}

TEST_CASE("an import that fails: create fails with the Python traceback") {
  const std::string message = createError(Role::kMiner, moduleConfig("import_fails"), ErrorCode::kInternal);
  INFO(message);
  CHECK(contains(message, "cannot import"));
  CHECK(contains(message, "Traceback (most recent call last):"));
  CHECK(contains(message, "import_fails.py\", line 9, in _init"));
  CHECK(contains(message, "in _load_weights"));
  CHECK(contains(message, "FileNotFoundError: weights file /nonexistent/weights.bin is missing"));
  // It starts at the module's own frames, not in the host's loader or importlib.
  CHECK(contains(message, "Traceback (most recent call last):\n  File \"" MERIT_PYTHON_TEST_MODULES
                          "/import_fails.py\", line 12, in <module>"));
  CHECK_FALSE(contains(message, "importlib"));
}

TEST_CASE("setup: ConfigError refuses the config, any other exception carries its traceback") {
  std::string refused =
      createError(Role::kMiner, moduleConfig("behaves", "refuse: true"), ErrorCode::kInvalidArgument);
  CHECK(refused ==
        "subnet plugin 'python' refused to create a miner: python config: behaves: refuse: refused as asked");
  std::string crashed =
      createError(Role::kValidator, moduleConfig("behaves", "crash: 1"), ErrorCode::kInternal);
  INFO(crashed);
  CHECK(contains(crashed, "python subnet behaves: setup raised:\nTraceback (most recent call last):"));
  CHECK(contains(crashed, "RuntimeError: setup crashed as asked"));
}

TEST_CASE("a role whose functions the module lacks is refused") {
  CHECK(contains(createError(Role::kValidator, moduleConfig("serial"), ErrorCode::kInvalidArgument),
                 "a validator needs generate_challenge(state) and score(state, expectation, response)"));
  CHECK(contains(createError(Role::kMiner, moduleConfig("import_fails"), ErrorCode::kInternal), "Traceback"));
}

TEST_CASE("the config reaches setup() as a dict of typed values") {
  auto miner = create(Role::kMiner, moduleConfig("behaves",
                                                 "a: 1\nb: 2.5\nc: true\nd: null\ne: x\nf: [1, '2']\n"
                                                 "g: {h: '3', i: -.inf}\nj: 0x10\nk: 1e3\nl: 1.2.3\n"));
  auto reply = handleOne(*miner, "config");
  REQUIRE(reply.status == RequestStatus::kOk);
  CHECK(textOf(reply.body) ==
        "[('a', 1), ('b', 2.5), ('c', True), ('d', None), ('e', 'x'), ('f', [1, '2']), ('g', {'h': '3', 'i': "
        "-inf}), ('j', 16), ('k', 1000.0), ('l', '1.2.3'), ('role', 'miner')]");
}

TEST_CASE("serve: exceptions become per-request statuses; INTERNAL names the exception") {
  auto miner = create(Role::kMiner, moduleConfig("behaves"));
  auto replies = handle(*miner, {"echo:hi", "raise", "bad", "drop", "busy", "str", "plain"});
  CHECK(replies[0].status == RequestStatus::kOk);
  CHECK(textOf(replies[0].body) == "hi");
  CHECK(replies[1].status == RequestStatus::kInternal);
  CHECK(replies[1].message == "python subnet behaves: serve raised KeyError: 'no such key'");
  CHECK(replies[2].status == RequestStatus::kInvalidArgument);
  CHECK(replies[2].message == "merit_subnet.InvalidRequest: bad request, as asked");
  CHECK(replies[3].status == RequestStatus::kDrop);
  CHECK(replies[4].status == RequestStatus::kOverloaded);
  CHECK(replies[5].status == RequestStatus::kInternal);
  CHECK(replies[5].message == "python subnet behaves: serve returned str, expected bytes");
  CHECK(replies[6].status == RequestStatus::kOk);  // a bytearray is bytes enough
  CHECK(textOf(replies[6].body) == "plain");
  // sys.exit() is an exception like any other: it fails the request, not the process.
  auto exited = handleOne(*miner, "exit");
  CHECK(exited.status == RequestStatus::kInternal);
  CHECK(exited.message == "python subnet behaves: serve raised SystemExit: 3");
  // The instance keeps serving after its failures.
  CHECK(textOf(handleOne(*miner, "echo:again").body) == "again");
}

TEST_CASE("batch_serve: one call per batch; returned exceptions fail only their request") {
  auto miner = create(Role::kMiner, moduleConfig("batch"));
  auto replies = handle(*miner, {"a", "bad", "raise", "b"});
  CHECK(replies[0].status == RequestStatus::kOk);
  CHECK(textOf(replies[0].body) == "A");
  CHECK(replies[1].status == RequestStatus::kInvalidArgument);
  CHECK(replies[2].status == RequestStatus::kInternal);
  CHECK(contains(replies[2].message, "RuntimeError: this one failed"));
  CHECK(textOf(replies[3].body) == "B");
  for (const auto& r : handle(*miner, {"explode", "x"})) {
    CHECK(r.status == RequestStatus::kInternal);
    CHECK(contains(r.message, "batch_serve raised KeyError"));
  }
  for (const auto& r : handle(*miner, {"short", "x"})) {
    CHECK(r.status == RequestStatus::kInternal);
    CHECK(contains(r.message, "batch_serve returned list of length 0, expected a list of 2"));
  }
}

TEST_CASE("score: an exception is the validator's failure (with traceback), the instance survives") {
  auto validator = create(Role::kValidator, moduleConfig("behaves"));
  auto challenge = validator->makeChallenge();
  REQUIRE(challenge.has_value());
  CHECK(textOf(challenge->request) == "echo:abc");
  CHECK(textOf(challenge->expectation) == "abc");

  auto failed = validator->scoreResponse(bytesOf("raise"), bytesOf("x"));
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().code() == ErrorCode::kInternal);
  INFO(failed.error().message());
  CHECK(contains(failed.error().message(),
                 "python subnet behaves: score raised:\nTraceback (most recent call last):"));
  CHECK(contains(failed.error().message(), "ZeroDivisionError: score failed as asked"));

  auto bad = validator->scoreResponse(bytesOf("bad"), bytesOf("x"));
  REQUIRE(bad.has_value());
  CHECK(*bad == 0.0);  // BadResponse: the miner's fault
  auto nan = validator->scoreResponse(bytesOf("nan"), bytesOf("x"));
  REQUIRE_FALSE(nan.has_value());
  CHECK(contains(nan.error().message(), "outside [0, 1]"));
  CHECK_FALSE(validator->scoreResponse(bytesOf("2"), bytesOf("x")).has_value());

  auto fine = validator->scoreResponse(bytesOf("ok"), bytesOf("12345"));
  REQUIRE(fine.has_value());
  CHECK(*fine == doctest::Approx(0.5));
}

TEST_CASE("the GIL is free between calls: a Python thread runs while the host does not call in") {
  auto miner = create(Role::kMiner, moduleConfig("ticker"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto reply = handleOne(*miner, "ticks");
  REQUIRE(reply.status == RequestStatus::kOk);
  CHECK(std::stoi(textOf(reply.body)) > 20);
}

TEST_CASE("concurrent calls from several host threads on one instance") {
  auto miner = create(Role::kMiner, moduleConfig("behaves"));
  auto validator = create(Role::kValidator, moduleConfig("behaves"));
  constexpr int kThreads = 8;
  constexpr int kCalls = 200;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&miner, &validator, &wrong, t] {
      for (int i = 0; i < kCalls; ++i) {
        const std::string text = std::to_string(t) + "/" + std::to_string(i);
        const Bytes request = bytesOf("echo:" + text);
        const ByteView view(request);
        auto replies = miner->handleBatch(std::span<const ByteView>(&view, 1));
        if (!replies || replies->front().status != RequestStatus::kOk ||
            textOf(replies->front().body) != text)
          ++wrong;
        auto quality = validator->scoreResponse(bytesOf("e"), bytesOf("12345"));
        if (!quality || *quality != 0.5) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wrong.load() == 0);

  // Calls really overlap: while one sleeps (without the GIL) others enter the module.
  std::vector<int> seen(4, 0);
  threads.clear();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&miner, &seen, t] {
      for (int i = 0; i < 3; ++i) {
        const Bytes request = bytesOf("sleep");
        const ByteView view(request);
        auto replies = miner->handleBatch(std::span<const ByteView>(&view, 1));
        if (replies && replies->front().status == RequestStatus::kOk) {
          seen[static_cast<std::size_t>(t)] =
              std::max(seen[static_cast<std::size_t>(t)], std::stoi(textOf(replies->front().body)));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(*std::max_element(seen.begin(), seen.end()) >= 2);
}

TEST_CASE("SERIAL = True: the host never overlaps calls on that instance") {
  auto miner = create(Role::kMiner, moduleConfig("serial"));
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::atomic<int> maxSeen{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&miner, &maxSeen] {
      for (int i = 0; i < 5; ++i) {
        const Bytes request = bytesOf("x");
        const ByteView view(request);
        auto replies = miner->handleBatch(std::span<const ByteView>(&view, 1));
        if (replies && replies->front().status == RequestStatus::kOk) {
          const int seen = std::stoi(textOf(replies->front().body));
          int old = maxSeen.load();
          while (seen > old && !maxSeen.compare_exchange_weak(old, seen)) {
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(maxSeen.load() == 1);
}

TEST_CASE("instances share one interpreter; each runs its own copy of its module") {
  auto a = create(Role::kMiner, moduleConfig("behaves"));
  auto b = create(Role::kMiner, moduleConfig("behaves", "x: 1"));
  CHECK(textOf(handleOne(*a, "interp").body) == textOf(handleOne(*b, "interp").body));
  CHECK(textOf(handleOne(*a, "config").body) == "[('role', 'miner')]");
  CHECK(textOf(handleOne(*b, "config").body) == "[('role', 'miner'), ('x', 1)]");
}

TEST_CASE("hash_py speaks the hash subnet's payload byte for byte") {
  auto hash = load("hash");
  auto cppValidator = hash->create(Role::kValidator, "rounds: 3");
  auto cppMiner = hash->create(Role::kMiner, "");
  REQUIRE(cppValidator.has_value());
  REQUIRE(cppMiner.has_value());
  auto pyMiner = create(Role::kMiner, "module: hash_py");  // found in <plugin dir>/python
  auto pyValidator = create(Role::kValidator, "module: hash_py\nrounds: 5");
  for (int i = 0; i < 5; ++i) {
    auto c = (*cppValidator)->makeChallenge();
    REQUIRE(c.has_value());
    auto reply = handleOne(*pyMiner, textOf(c->request));
    REQUIRE(reply.status == RequestStatus::kOk);
    CHECK(*(*cppValidator)->scoreResponse(c->expectation, reply.body) == 1.0);

    auto p = pyValidator->makeChallenge();
    REQUIRE(p.has_value());
    const ByteView view(p->request);
    auto answers = (*cppMiner)->handleBatch(std::span<const ByteView>(&view, 1));
    REQUIRE(answers.has_value());
    CHECK(*pyValidator->scoreResponse(p->expectation, answers->front().body) == 1.0);
    Bytes wrong = answers->front().body;
    wrong[0] ^= std::byte{1};
    CHECK(*pyValidator->scoreResponse(p->expectation, wrong) == 0.0);
  }
  CHECK(handleOne(*pyMiner, "abc").status == RequestStatus::kInvalidArgument);
}

TEST_CASE("fashion_linear: more training scores higher, an untrained miner scores 0") {
  auto validator = create(Role::kValidator, "module: fashion_linear\nseed: 7");
  auto trained = create(Role::kMiner, "module: fashion_linear\ntrain_samples: 10000\nepochs: 1");
  auto brief = create(Role::kMiner, "module: fashion_linear\ntrain_samples: 500\nepochs: 1");
  auto untrained = create(Role::kMiner, "module: fashion_linear\ntrain_samples: 0");
  double sums[3] = {0, 0, 0};
  SubnetInstance* miners[3] = {trained.get(), brief.get(), untrained.get()};
  for (int i = 0; i < 30; ++i) {
    auto c = validator->makeChallenge();
    REQUIRE(c.has_value());
    for (int m = 0; m < 3; ++m) {
      auto reply = handleOne(*miners[m], textOf(c->request));
      REQUIRE(reply.status == RequestStatus::kOk);
      auto q = validator->scoreResponse(c->expectation, reply.body);
      REQUIRE(q.has_value());
      sums[m] += *q;
    }
  }
  INFO("trained ", sums[0] / 30, ", brief ", sums[1] / 30, ", untrained ", sums[2] / 30);
  CHECK(sums[0] / 30 > 0.5);
  CHECK(sums[0] > sums[1] + 3);
  CHECK(sums[2] < 0.01);
  // Malformed answers are the miner's fault (quality 0), malformed requests the caller's.
  auto c = validator->makeChallenge();
  REQUIRE(c.has_value());
  CHECK(*validator->scoreResponse(c->expectation, bytesOf("garbage")) == 0.0);
  CHECK(*validator->scoreResponse(c->expectation, Bytes{}) == 0.0);
  CHECK(handleOne(*trained, "xyz").status == RequestStatus::kInvalidArgument);
  CHECK(contains(createError(Role::kMiner, "module: fashion_linear\nepoch: 1", ErrorCode::kInvalidArgument),
                 "python config: fashion_linear: epoch: unknown key"));
}
