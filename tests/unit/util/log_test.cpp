#include "merit/util/log.h"

#include <cstdio>
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
