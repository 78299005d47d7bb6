// Reloading a plugin in place: builds of the test_reload subnet (reload_plugin.cpp) swapped
// under a ReloadableInstance while calls are in flight, refused builds, and the file watcher.
#include "merit/subnet_host/reload.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

#include "merit/subnet_host/search_path.h"
#include "merit/util/bytes.h"

namespace fs = std::filesystem;
using merit::ByteView;
using merit::ErrorCode;
using merit::ManualClock;
using merit::subnet::PluginWatcher;
using merit::subnet::ReloadableInstance;
using merit::subnet::Role;

namespace {

fs::path build(const std::string& suffix) {
  return fs::path(MERIT_TEST_PLUGIN_DIR) / merit::subnet::pluginFileName("test_reload_" + suffix);
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "merit_reload_test_XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Replaces `to` the way an operator should: write a new file, rename it over the old one.
void install(const fs::path& from, const fs::path& to) {
  const fs::path tmp = to.string() + ".new";
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
  fs::rename(tmp, to);
}

std::string call(ReloadableInstance& r, const std::string& request) {
  auto lease = r.acquire();
  std::vector<ByteView> views = {merit::asBytes(request)};
  auto replies = lease->handleBatch(views);
  REQUIRE_MESSAGE(replies.has_value(), (replies ? "" : replies.error().toString()));
  REQUIRE(replies->size() == 1);
  const auto& body = (*replies)[0].body;
  return std::string(reinterpret_cast<const char*>(body.data()), body.size());
}

// Spins (really sleeping, briefly) until `done` or 10 s: for another thread to reach a point.
template <class F>
bool eventually(F done) {
  for (int i = 0; i < 10'000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { REQUIRE(::pipe(fds) == 0); }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  int readEnd() const { return fds[0]; }
  int writeEnd() const { return fds[1]; }
};

struct Fixture {
  TempDir dir;
  fs::path file = dir.path / merit::subnet::pluginFileName("test_reload");
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::unique_ptr<ReloadableInstance> reloadable;

  explicit Fixture(Role role = Role::kMiner,
                   std::chrono::milliseconds drainTimeout = std::chrono::seconds(30)) {
    install(build("v1"), file);
    auto opened = ReloadableInstance::open(file, role, "", {drainTimeout, clock});
    REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : opened.error().toString()));
    reloadable = std::move(*opened);
  }
};

}  // namespace

TEST_CASE("reload: a new build of the same subnet replaces the old one") {
  Fixture f;
  CHECK(f.reloadable->name() == "test_reload");
  CHECK(call(*f.reloadable, "x") == "v1:x");
  install(build("v2"), f.file);
  auto report = f.reloadable->reload();
  REQUIRE_MESSAGE(report.has_value(), (report ? "" : report.error().toString()));
  CHECK(report->oldVersion == 1);
  CHECK(report->newVersion == 1);
  CHECK(report->generation == 2);
  CHECK(report->inFlight == 0);
  CHECK(report->drained);
  // The same path was loaded before: only a private copy makes the loader map the new bytes.
  CHECK(call(*f.reloadable, "x") == "v2:x");
  CHECK(f.reloadable->stats().reloads == 1);

  // A new payload version is a new build of the same subnet too.
  install(build("v3"), f.file);
  REQUIRE(f.reloadable->reload().has_value());
  CHECK(f.reloadable->version() == 2);
  CHECK(call(*f.reloadable, "x") == "v3:x");
  // And back: the first build again, although it was loaded (from a copy) before.
  install(build("v1"), f.file);
  REQUIRE(f.reloadable->reload().has_value());
  CHECK(call(*f.reloadable, "x") == "v1:x");
  CHECK(f.reloadable->stats().generation == 4);
}

TEST_CASE("reload: a call in flight finishes on the old build; calls after the swap go to the new one") {
  Fixture f;
  Pipe entered, release;
  std::string inFlightAnswer;
  std::thread caller([&] {
    inFlightAnswer = call(*f.reloadable, "block:" + std::to_string(entered.writeEnd()) + ":" +
                                             std::to_string(release.readEnd()));
  });
  char byte = 0;
  REQUIRE(::read(entered.readEnd(), &byte, 1) == 1);  // the call is inside v1

  install(build("v2"), f.file);
  merit::Result<merit::subnet::ReloadReport> report = merit::fail(ErrorCode::kInternal, "not run");
  std::atomic<bool> reloaded{false};
  std::thread reloader([&] {
    report = f.reloadable->reload();
    reloaded = true;
  });
  REQUIRE(eventually([&] { return f.reloadable->stats().generation == 2; }));
  // Swapped, but draining: the old build still has a call.
  CHECK(f.reloadable->stats().draining == 1);
  CHECK_FALSE(reloaded.load());
  CHECK(call(*f.reloadable, "y") == "v2:y");

  REQUIRE(::write(release.writeEnd(), &byte, 1) == 1);
  caller.join();
  reloader.join();
  CHECK(inFlightAnswer == "v1");
  REQUIRE_MESSAGE(report.has_value(), (report ? "" : report.error().toString()));
  CHECK(report->inFlight == 1);
  CHECK(report->drained);
  CHECK(f.reloadable->stats().draining == 0);
}

TEST_CASE("reload: the drain wait is bounded; the last call releases the old build") {
  Fixture f(Role::kMiner, std::chrono::milliseconds(500));
  std::optional<ReloadableInstance::Lease> held(f.reloadable->acquire());
  install(build("v2"), f.file);
  merit::Result<merit::subnet::ReloadReport> report = merit::fail(ErrorCode::kInternal, "not run");
  std::thread reloader([&] { report = f.reloadable->reload(); });
  REQUIRE(eventually([&] { return f.reloadable->stats().generation == 2; }));
  f.clock->advance(std::chrono::milliseconds(501));  // the manual clock: no real wait
  reloader.join();
  REQUIRE(report.has_value());
  CHECK(report->inFlight == 1);
  CHECK_FALSE(report->drained);
  CHECK(f.reloadable->stats().draining == 1);
  // The held lease still reaches the old build, which is still loaded.
  std::vector<ByteView> views = {merit::asBytes(std::string_view("z"))};
  auto replies = (*held)->handleBatch(views);
  REQUIRE(replies.has_value());
  CHECK(std::string(reinterpret_cast<const char*>((*replies)[0].body.data()), (*replies)[0].body.size()) ==
        "v1:z");
  CHECK(held->generation() == 1);
  held.reset();
  CHECK(f.reloadable->stats().draining == 0);
  CHECK(call(*f.reloadable, "z") == "v2:z");
}

TEST_CASE("reload: refused builds leave the old one serving") {
  Fixture f;
  auto refusedWith = [&](const std::string& expected) {
    auto report = f.reloadable->reload();
    REQUIRE_FALSE(report.has_value());
    INFO(report.error().message());
    CHECK(report.error().message().find(expected) != std::string::npos);
    CHECK(report.error().message().find("still running version 1") != std::string::npos);
    CHECK(call(*f.reloadable, "x") == "v1:x");
    CHECK(f.reloadable->stats().generation == 1);
  };
  SUBCASE("another subnet") {
    install(build("other"), f.file);
    refusedWith("the new file is subnet 'test_reload_other', not 'test_reload'");
  }
  SUBCASE("another ABI major") {
    install(build("abi2"), f.file);
    refusedWith("built for subnet ABI 2.0");
  }
  SUBCASE("a build whose instance cannot be created") {
    install(build("broken"), f.file);
    refusedWith("this build cannot start");
  }
  SUBCASE("a half-written file") {
    std::ifstream in(build("v2"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(f.file, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    refusedWith("truncated");
  }
  SUBCASE("a missing file") {
    fs::remove(f.file);
    auto report = f.reloadable->reload();
    REQUIRE_FALSE(report.has_value());
    CHECK(report.error().code() == ErrorCode::kNotFound);
    CHECK(call(*f.reloadable, "x") == "v1:x");
  }
  CHECK(f.reloadable->stats().refused == 1);
  CHECK(f.reloadable->stats().reloads == 0);
  // A good build afterwards is taken.
  install(build("v2"), f.file);
  REQUIRE(f.reloadable->reload().has_value());
  CHECK(call(*f.reloadable, "x") == "v2:x");
}

TEST_CASE("a plugin file cut short anywhere is refused before the loader maps it") {
  // dlopen() of a truncated shared object faults (SIGBUS) on the pages past the end of the file.
  TempDir dir;
  std::ifstream in(build("v2"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > 8192);
  const fs::path file = dir.path / "libmerit_subnet_test_reload.so";
  for (std::size_t length :
       {std::size_t{0}, std::size_t{10}, std::size_t{64}, std::size_t{700}, std::size_t{4096},
        bytes.size() / 3, bytes.size() / 2, bytes.size() - 4096, bytes.size() - 1}) {
    INFO("length " << length << " of " << bytes.size());
    std::ofstream(file, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(length));
    auto loaded = merit::subnet::SubnetPlugin::loadCopy(file);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().code() == ErrorCode::kInvalidArgument);
    CHECK(loaded.error().message().find("cannot be loaded") != std::string::npos);
  }
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  CHECK(merit::subnet::SubnetPlugin::loadCopy(file).has_value());
}

TEST_CASE("watcher: reloads a changed file once it has settled, and does not retry a refused one") {
  Fixture f;
  PluginWatcher watcher(*f.reloadable, {std::chrono::milliseconds(100)});
  CHECK_FALSE(watcher.poll().has_value());
  CHECK_FALSE(watcher.poll().has_value());

  install(build("v2"), f.file);
  CHECK_FALSE(watcher.poll().has_value());  // first seen: may still be being written
  auto attempt = watcher.poll();            // unchanged since: reload
  REQUIRE(attempt.has_value());
  CHECK(attempt->has_value());
  CHECK(call(*f.reloadable, "x") == "v2:x");
  CHECK_FALSE(watcher.poll().has_value());

  install(build("other"), f.file);
  CHECK_FALSE(watcher.poll().has_value());
  attempt = watcher.poll();
  REQUIRE(attempt.has_value());
  CHECK_FALSE(attempt->has_value());
  CHECK_FALSE(watcher.poll().has_value());  // the same refused file is not tried again
  CHECK(call(*f.reloadable, "x") == "v2:x");

  watcher.request();  // SIGHUP tries again whatever the file
  attempt = watcher.poll();
  REQUIRE(attempt.has_value());
  CHECK_FALSE(attempt->has_value());

  install(build("v1"), f.file);
  CHECK_FALSE(watcher.poll().has_value());
  attempt = watcher.poll();
  REQUIRE(attempt.has_value());
  CHECK(attempt->has_value());
  CHECK(call(*f.reloadable, "x") == "v1:x");
  CHECK(f.reloadable->stats().reloads == 2);
  CHECK(f.reloadable->stats().refused == 2);
}

TEST_CASE("watcher: without a watch interval only a request reloads") {
  Fixture f;
  PluginWatcher watcher(*f.reloadable, {std::chrono::milliseconds(0)});
  install(build("v2"), f.file);
  CHECK_FALSE(watcher.poll().has_value());
  CHECK_FALSE(watcher.poll().has_value());
  watcher.request();
  auto attempt = watcher.poll();
  REQUIRE(attempt.has_value());
  CHECK(attempt->has_value());
  CHECK(call(*f.reloadable, "x") == "v2:x");
}

TEST_CASE("watcher thread: polls on the injected clock, wakes for a request, stops") {
  Fixture f;
  PluginWatcher watcher(*f.reloadable, {std::chrono::milliseconds(1000)});
  std::thread thread([&] { watcher.run(*f.clock); });
  install(build("v2"), f.file);
  // Two polls a watch interval apart see the same new file: the reload happens on the second.
  // (How many intervals pass before the thread first waits is up to the scheduler.)
  CHECK(eventually([&] {
    f.clock->advance(std::chrono::milliseconds(1000));
    return f.reloadable->stats().generation == 2;
  }));
  // A request is served without the clock moving.
  watcher.request();
  CHECK(eventually([&] { return f.reloadable->stats().generation == 3; }));
  watcher.stop();
  thread.join();
}
