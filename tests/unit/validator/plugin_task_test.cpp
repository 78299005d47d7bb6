// The validator's plugin task across reloads: a step's challenges are scored by the build that
// made them, even when a reload swaps the plugin mid-step; the next step uses the new build.
// Uses the test_reload builds of tests/unit/subnet_host.
#include "merit/validator/plugin_task.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "merit/subnet_host/search_path.h"

namespace merit::validator {
namespace {

namespace fs = std::filesystem;

fs::path build(const std::string& suffix) {
  return fs::path(MERIT_RELOAD_PLUGIN_DIR) / subnet::pluginFileName("test_reload_" + suffix);
}

void install(const fs::path& from, const fs::path& to) {
  const fs::path tmp = to.string() + ".new";
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
  fs::rename(tmp, to);
}

ByteView bytes(std::string_view s) {
  return asBytes(s);
}

TEST_CASE("plugin task: a reload mid-step scores the step's challenges on the build that made them") {
  std::string pattern = (fs::temp_directory_path() / "merit_validator_reload_XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  const fs::path dir = pattern;
  const fs::path file = dir / subnet::pluginFileName("test_reload");
  install(build("v1"), file);
  auto opened = subnet::ReloadableInstance::open(file, subnet::Role::kValidator, "", {});
  REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : opened.error().toString()));
  std::shared_ptr<subnet::ReloadableInstance> plugin(std::move(*opened));
  PluginTask task(plugin);
  CHECK(task.module() == "test_reload");

  task.beginStep();
  auto challenge = task.makeChallenge();
  REQUIRE(challenge.has_value());
  install(build("v3"), file);  // a new payload version
  std::atomic<bool> reloaded{false};
  std::thread reloader([&] {
    CHECK(plugin->reload().has_value());
    reloaded = true;
  });
  for (int i = 0; i < 10'000 && plugin->stats().generation != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(plugin->stats().generation == 2);
  // Still the step's build: its version for the requests, its scorer for its expectations.
  CHECK(task.version() == 1);
  auto quality = task.score(challenge->expectation, bytes("v1:ping"));
  REQUIRE(quality.has_value());
  CHECK(*quality == 1.0);
  CHECK_FALSE(reloaded.load());
  task.endStep();
  reloader.join();
  CHECK(plugin->stats().draining == 0);

  task.beginStep();
  CHECK(task.version() == 2);
  auto next = task.makeChallenge();
  REQUIRE(next.has_value());
  auto nextQuality = task.score(next->expectation, bytes("v3:ping"));
  REQUIRE(nextQuality.has_value());
  CHECK(*nextQuality == 1.0);
  task.endStep();

  // A refused build: the step after it still runs on the current one.
  install(build("abi2"), file);
  CHECK_FALSE(plugin->reload().has_value());
  task.beginStep();
  CHECK(task.version() == 2);
  auto still = task.makeChallenge();
  REQUIRE(still.has_value());
  CHECK(*task.score(still->expectation, bytes("v3:ping")) == 1.0);
  task.endStep();
  std::string metrics;
  PluginTask::renderMetrics(metrics, *plugin);
  CHECK(metrics.find("merit_validator_plugin_reloads_total{outcome=\"refused\"} 1\n") != std::string::npos);
  CHECK(metrics.find("merit_validator_plugin_version 2\n") != std::string::npos);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace merit::validator
