#include "merit/util/log.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <doctest/doctest.h>

namespace merit::log {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("levels are configured per category from a spec") {
  REQUIRE(configure("warn,net=debug,chain=trace"));
  CHECK(level(Category::kGeneral) == Level::kWarn);
  CHECK(level(Category::kNet) == Level::kDebug);
  CHECK(level(Category::kChain) == Level::kTrace);
  CHECK(enabled(Category::kNet, Level::kDebug));
  CHECK_FALSE(enabled(Category::kGeneral, Level::kInfo));

  // A bad spec is rejected whole and changes nothing.
  CHECK_FALSE(configure("info,nosuch=debug"));
  CHECK_FALSE(configure("info,net=loud"));
  CHECK_FALSE(configure("net=debug,info"));
  CHECK(level(Category::kNet) == Level::kDebug);
  CHECK(level(Category::kGeneral) == Level::kWarn);
  setLevel(Level::kInfo);
}

TEST_CASE("spec() describes the levels as configure() reads them, and is exported as MERIT_LOG") {
  REQUIRE(configure("warn"));
  CHECK(spec() == "warn");
  REQUIRE(configure("info,net=debug,serving=error"));
  CHECK(spec() == "info,net=debug,serving=error");
  REQUIRE(configure(spec()));
  CHECK(level(Category::kServing) == Level::kError);
  REQUIRE(configure("off,chain=info"));
  CHECK(spec() == "off,chain=info");

  REQUIRE(configure("error,subnet=trace"));
  REQUIRE(exportToEnvironment());
  const char* exported = std::getenv(kEnvironmentVariable);
  REQUIRE(exported != nullptr);
  CHECK(std::string(exported) == "error,subnet=trace");
  ::unsetenv(kEnvironmentVariable);
  setLevel(Level::kInfo);
}

// Run only as a child of the next test, with MERIT_LOG set (doctest skips it otherwise).
TEST_CASE("child: levels come from MERIT_LOG at start-up" * doctest::skip()) {
  CHECK(level(Category::kGeneral) == Level::kError);
  CHECK(level(Category::kServing) == Level::kWarn);
  CHECK(level(Category::kChain) == Level::kDebug);
  CHECK_FALSE(enabled(Category::kServing, Level::kInfo));
}

TEST_CASE("a copy of the façade applies MERIT_LOG when it is initialised; a bad value is ignored") {
  const std::string self = "/proc/" + std::to_string(::getpid()) + "/exe";
  const std::string filter = " --no-skip --test-case='child: levels come from MERIT_LOG at start-up' 2>&1";
  const auto run = [&](const std::string& env, std::string& output) {
    FILE* pipe = ::popen((env + " " + self + filter).c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
    return ::pclose(pipe);
  };
  std::string good;
  CHECK_MESSAGE(run("MERIT_LOG='error,serving=warn,chain=debug'", good) == 0, good);
  std::string bad;
  CHECK(run("MERIT_LOG=loud", bad) != 0);  // the levels stay at info, so the child's checks fail
  CHECK_MESSAGE(bad.find("ignoring MERIT_LOG: unknown log level 'loud'") != std::string::npos, bad);
}

TEST_CASE("lines go to the output file with their category, filtered by level") {
  std::string path = "/tmp/merit_log_test_" + std::to_string(::getpid()) + ".log";
  std::remove(path.c_str());
  REQUIRE(setOutputFile(path));
  setLevel(Level::kInfo);
  MERIT_LOG_INFO(Category::kChain, "block {} imported", 42);
  MERIT_LOG_DEBUG(Category::kChain, "hidden {}", 1);
  MERIT_LOG_WARN(Category::kWallet, "careful");
  for (int i = 0; i < 50; ++i) {
    MERIT_LOG_RATE_LIMITED(Category::kNet, Level::kInfo, "flood {}", i);
  }
  write(Category::kNet, Level::kError, "flush");
  std::string out = readFile(path);
  CHECK(out.find("[chain] block 42 imported") != std::string::npos);
  CHECK(out.find("hidden") == std::string::npos);
  CHECK(out.find("[wallet] careful") != std::string::npos);
  CHECK(out.find("flood 9") != std::string::npos);
  CHECK(out.find("flood 10") == std::string::npos);  // the 11th line in one second is dropped
  std::remove(path.c_str());
}

TEST_CASE("rate limiter counts what it suppressed") {
  RateLimiter limiter(2);
  std::uint64_t dropped = 0;
  CHECK(limiter.allow(dropped));
  CHECK(limiter.allow(dropped));
  CHECK_FALSE(limiter.allow(dropped));
  CHECK_FALSE(limiter.allow(dropped));
  CHECK(dropped == 0);
}

}  // namespace
}  // namespace merit::log
