// Runs the fixture-driven tests, or exits 77 (CTest SKIP_RETURN_CODE) saying why when the
// metadata fixtures are not available.
#define DOCTEST_CONFIG_IMPLEMENT
#include <cstdio>
#include <filesystem>

#include <doctest/doctest.h>

#include "fixtures.h"

int main(int argc, char** argv) {
  using merit::substrate::testing::fixturesDir;
  if (fixturesDir().empty()) {
    std::printf("SKIP: MERIT_SUBTENSOR_FIXTURES is not set (the subtensor harness writes the fixtures)\n");
    return 77;
  }
  for (const char* name : merit::substrate::testing::kFixtureNames) {
    if (!std::filesystem::exists(fixturesDir() / name)) {
      std::printf("SKIP: fixture %s is missing in %s\n", name, fixturesDir().c_str());
      return 77;
    }
  }
  doctest::Context context(argc, argv);
  return context.run();
}
