// The dashboard's pieces that need no chain: the validators' scores read from /metrics text, the
// epoch history it records (bounded, saved and reloaded, tied to one chain), the event hub that
// feeds the browsers' streams (bounded clients, numbered events, closing), and its localnet keys.
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "dashboard_collector.h"
#include "localnet_config.h"

namespace merit::cli::dashboard {
namespace {

using nlohmann::json;

json metagraphAt(std::uint64_t epochBlock, std::uint64_t incentive) {
  return {
      {"last_epoch_block", epochBlock},
      {"neurons", json::array({{{"uid", 0}, {"incentive", 0}, {"dividends", 65535}, {"emission", 7}},
                               {{"uid", 1}, {"incentive", incentive}, {"dividends", 0}, {"emission", 9}}})}};
}

TEST_CASE("scores come from the merit_validator_score lines of /metrics, junk is skipped") {
  std::string text =
      "# HELP merit_validator_score Moving-average score per uid\n"
      "# TYPE merit_validator_score gauge\n"
      "merit_validator_score{uid=\"0\"} 0.000000\n"
      "merit_validator_score{uid=\"2\"} 0.976602\n"
      "merit_validator_score{uid=\"x\"} 1.0\n"
      "merit_validator_score{uid=\"3\"}\n"
      "merit_validator_trust 65534\n"
      "merit_validator_score{uid=\"5\"} 0.5";
  auto s = parseScores(text);
  CHECK(s.size() == 3);
  CHECK(s.at(0) == 0.0);
  CHECK(s.at(2) == doctest::Approx(0.976602));
  CHECK(s.at(5) == doctest::Approx(0.5));
  CHECK(parseScores("").empty());
}

TEST_CASE("history: one record per new epoch, bounded, saved and reloaded for the same chain only") {
  auto file = std::filesystem::temp_directory_path() / ("merit-dash-" + std::to_string(::getpid()) + ".json");
  {
    History h(2, file);
    h.load("0xaa");
    CHECK(h.observe(1, metagraphAt(10, 100)));
    CHECK_FALSE(h.observe(1, metagraphAt(10, 100)));  // the same epoch read again
    CHECK_FALSE(h.observe(1, metagraphAt(0, 100)));   // no epoch yet
    CHECK(h.observe(1, metagraphAt(20, 200)));
    CHECK(h.observe(1, metagraphAt(30, 300)));
    auto j = h.toJson(1);
    REQUIRE(j["epochs"].size() == 2);  // the oldest went
    CHECK(j["epochs"][0]["block"] == 20);
    CHECK(j["epochs"][1]["incentive"] == json::array({0, 300}));
    CHECK(j["epochs"][1]["dividends"] == json::array({65535, 0}));
    CHECK(j["epochs"][1]["emission"] == json::array({7, 9}));
    CHECK(j["source"] == "dashboard");
    CHECK(h.toJson(2)["epochs"].empty());
    h.save();
  }
  {
    History again(2, file);
    again.load("0xaa");
    auto j = again.toJson(1);
    REQUIRE(j["epochs"].size() == 2);
    CHECK(j["epochs"][1]["block"] == 30);
    CHECK_FALSE(again.observe(1, metagraphAt(30, 300)));  // a restarted dashboard adds no duplicate
  }
  {
    History other(2, file);
    other.load("0xbb");  // another chain's file is not this chain's history
    CHECK(other.toJson(1)["epochs"].empty());
  }
  std::filesystem::remove(file);
}

TEST_CASE("event hub: numbered events, a bounded number of streams, close wakes the waiters") {
  EventHub hub(2);
  CHECK(hub.join());
  CHECK(hub.join());
  CHECK_FALSE(hub.join());
  hub.leave();
  CHECK(hub.join());

  CHECK_FALSE(hub.waitAfter(0, std::chrono::milliseconds(10)).has_value());
  hub.publish("block", "{\"number\":5}");
  hub.publish("update", "{}");
  auto e = hub.waitAfter(0, std::chrono::milliseconds(10));
  REQUIRE(e.has_value());
  CHECK(e->first == 2);
  CHECK(e->second == "event: block\ndata: {\"number\":5}\n\nevent: update\ndata: {}\n\n");
  auto only = hub.waitAfter(1, std::chrono::milliseconds(10));
  REQUIRE(only.has_value());
  CHECK(only->second == "event: update\ndata: {}\n\n");

  for (int i = 0; i < 100; ++i) hub.publish("block", std::to_string(i));
  auto behind = hub.waitAfter(2, std::chrono::milliseconds(10));
  REQUIRE(behind.has_value());
  CHECK(behind->first == 102);
  CHECK(behind->second.find("data: 99\n") != std::string::npos);
  CHECK(behind->second.find("data: 0\n") == std::string::npos);  // fell out of the kept events

  std::thread closer([&hub] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    hub.close();
  });
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(hub.waitAfter(hub.lastSeq(), std::chrono::seconds(30)).has_value());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  closer.join();
  CHECK(hub.closed());
  CHECK_FALSE(hub.join());
}

TEST_CASE("localnet config: the dashboard is on by default, and can be turned off or moved") {
  const std::string subnets = R"(
subnets:
  - plugin: hash
    validators: [{name: v1, stake: 10}]
    miners: [{name: m1, tier: gold}]
)";
  auto c = localnet::parseConfig(subnets, "t.yaml");
  REQUIRE(c.has_value());
  CHECK(c->dashboard);
  CHECK(c->dashboardPort == 9980);
  auto off = localnet::parseConfig("dashboard: {enabled: false, port: 0}\n" + subnets, "t.yaml");
  REQUIRE(off.has_value());
  CHECK_FALSE(off->dashboard);
  CHECK(off->dashboardPort == 0);
  auto bad = localnet::parseConfig("dashboard: {enabled: yes}\n" + subnets, "t.yaml");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message().find("dashboard.enabled") != std::string::npos);
  auto unknown = localnet::parseConfig("dashboard: {host: 0.0.0.0}\n" + subnets, "t.yaml");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message().find("host") != std::string::npos);
}

}  // namespace
}  // namespace merit::cli::dashboard
