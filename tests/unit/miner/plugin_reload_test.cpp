// The miner's plugin module across reloads: a batch in flight is answered by the build it started
// on, batches after the swap by the new one, a new payload version is served at once, and a
// refused build changes nothing. Uses the test_reload builds of tests/unit/subnet_host.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

#include "merit/miner/plugin_handler.h"
#include "merit/subnet_host/search_path.h"

namespace merit::miner {
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

wire::Request request(std::uint32_t version, const std::string& body) {
  wire::Request r;
  r.header.module = "test_reload";
  r.header.moduleVersion = version;
  r.body.assign(reinterpret_cast<const std::byte*>(body.data()),
                reinterpret_cast<const std::byte*>(body.data()) + body.size());
  return r;
}

std::string text(const net::Reply& reply) {
  return std::string(reinterpret_cast<const char*>(reply.body.data()), reply.body.size());
}

TEST_CASE("miner plugin module: in-flight batches finish on the old build, later ones use the new") {
  std::string pattern = (fs::temp_directory_path() / "merit_miner_reload_XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  const fs::path dir = pattern;
  const fs::path file = dir / subnet::pluginFileName("test_reload");
  install(build("v1"), file);
  auto opened = subnet::ReloadableInstance::open(file, subnet::Role::kMiner, "", {});
  REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : opened.error().toString()));
  std::shared_ptr<subnet::ReloadableInstance> plugin(std::move(*opened));
  net::ModuleHandler module = pluginModule(plugin);
  CHECK(module.module == "test_reload");
  CHECK(module.version == 1);
  REQUIRE(module.liveVersion);

  int entered[2], release[2];
  REQUIRE(::pipe(entered) == 0);
  REQUIRE(::pipe(release) == 0);
  std::vector<net::Reply> inFlight;
  std::thread worker([&] {
    std::vector<wire::Request> batch = {
        request(1, "block:" + std::to_string(entered[1]) + ":" + std::to_string(release[0])),
        request(1, "a")};
    inFlight = module.handler(batch);
  });
  char byte = 0;
  REQUIRE(::read(entered[0], &byte, 1) == 1);

  install(build("v2"), file);
  std::atomic<bool> reloaded{false};
  std::thread reloader([&] {
    CHECK(plugin->reload().has_value());
    reloaded = true;
  });
  for (int i = 0; i < 10'000 && plugin->stats().generation != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(plugin->stats().generation == 2);
  std::vector<wire::Request> after = {request(1, "b")};
  auto answered = module.handler(after);
  REQUIRE(answered.size() == 1);
  CHECK(answered[0].status == wire::Status::kOk);
  CHECK(text(answered[0]) == "v2:b");
  CHECK_FALSE(reloaded.load());  // still draining the batch in flight

  REQUIRE(::write(release[1], &byte, 1) == 1);
  worker.join();
  reloader.join();
  REQUIRE(inFlight.size() == 2);
  CHECK(inFlight[0].status == wire::Status::kOk);
  CHECK(text(inFlight[0]) == "v1");
  CHECK(text(inFlight[1]) == "v1:a");  // the whole batch on the build it started on
  for (int fd : {entered[0], entered[1], release[0], release[1]}) ::close(fd);

  SUBCASE("a new payload version is served at once; requests for the old one are NOT_FOUND") {
    install(build("v3"), file);
    REQUIRE(plugin->reload().has_value());
    CHECK(module.liveVersion->load() == 2);
    std::vector<wire::Request> mixed = {request(1, "old"), request(2, "new")};
    auto replies = module.handler(mixed);
    REQUIRE(replies.size() == 2);
    CHECK(replies[0].status == wire::Status::kNotFound);
    CHECK(replies[0].message.find("reloaded") != std::string::npos);
    CHECK(replies[1].status == wire::Status::kOk);
    CHECK(text(replies[1]) == "v3:new");
  }
  SUBCASE("a refused build keeps the current one serving, and the metrics say so") {
    install(build("other"), file);
    CHECK_FALSE(plugin->reload().has_value());
    std::vector<wire::Request> batch = {request(1, "c")};
    auto replies = module.handler(batch);
    REQUIRE(replies.size() == 1);
    CHECK(text(replies[0]) == "v2:c");
    std::string metrics;
    renderPluginMetrics(metrics, *plugin);
    CHECK(metrics.find("merit_miner_plugin_reloads_total{outcome=\"reloaded\"} 1\n") != std::string::npos);
    CHECK(metrics.find("merit_miner_plugin_reloads_total{outcome=\"refused\"} 1\n") != std::string::npos);
    CHECK(metrics.find("merit_miner_plugin_generation 2\n") != std::string::npos);
    CHECK(metrics.find("merit_miner_plugin_version 1\n") != std::string::npos);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace merit::miner
