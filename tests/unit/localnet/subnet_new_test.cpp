// `merit subnet new`: names, refusals, and the project it writes (every placeholder filled, the
// localnet config valid for `merit localnet` with an honest, a weak and a faulty miner).
#include "subnet_new.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <doctest/doctest.h>

#include "localnet_config.h"
#include "test_support.h"

namespace merit::cli {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("subnet new: valid names start with a letter and use a-z, 0-9, _") {
  CHECK(isValidNewSubnetName("demo"));
  CHECK(isValidNewSubnetName("my_subnet2"));
  CHECK(isValidNewSubnetName(std::string(64, 'a')));
  CHECK_FALSE(isValidNewSubnetName(""));
  CHECK_FALSE(isValidNewSubnetName("2demo"));
  CHECK_FALSE(isValidNewSubnetName("_demo"));
  CHECK_FALSE(isValidNewSubnetName("Demo"));
  CHECK_FALSE(isValidNewSubnetName("de-mo"));
  CHECK_FALSE(isValidNewSubnetName(std::string(65, 'a')));
}

TEST_CASE("subnet new: writes a complete project with every placeholder filled") {
  test::TempDir tmp("merit_subnet_new");
  const fs::path dir = tmp.path() / "proj";
  auto written = writeSubnetProject("knn", "cpp", dir);
  REQUIRE(written);
  for (const char* f : {"CMakeLists.txt", "README.md", "localnet.yaml", "conformance.yaml", "src/knn_task.h",
                        "src/knn_task.cpp", "src/knn_subnet.cpp", "tests/knn_tests.cpp"}) {
    CAPTURE(f);
    CHECK(fs::is_regular_file(dir / f));
  }
  for (const auto& f : *written) {
    CAPTURE(f);
    CHECK(f.string().find("{{") == std::string::npos);
    CHECK(slurp(dir / f).find("{{name}}") == std::string::npos);
  }
  CHECK(slurp(dir / "CMakeLists.txt").find("find_package(MeritSubnetSDK") != std::string::npos);
  CHECK(slurp(dir / "src/knn_subnet.cpp").find("MERIT_SUBNET_PLUGIN(Subnet, \"knn\", 1)") !=
        std::string::npos);

  auto config = localnet::loadConfig(dir / "localnet.yaml");
  REQUIRE(config);
  REQUIRE(config->subnets.size() == 1);
  const auto& s = config->subnets[0];
  CHECK(s.plugin == "knn");
  REQUIRE(s.miners.size() == 3);
  CHECK(s.miners[0].tier == "honest");
  CHECK(s.miners[1].tier == "weak");
  CHECK(s.miners[1].pluginConfig.find("weak") != std::string::npos);
  CHECK(s.miners[2].tier == "faulty");
  CHECK(s.miners[2].pluginConfig.find("faulty") != std::string::npos);
}

TEST_CASE("subnet new --lang python: a module, its tests and configs pointing at its absolute path") {
  test::TempDir tmp("merit_subnet_new");
  const fs::path dir = tmp.path() / "proj";
  auto written = writeSubnetProject("knn", "python", dir);
  REQUIRE(written);
  for (const char* f : {"knn.py", "README.md", "localnet.yaml", "conformance.yaml", "check.yaml",
                        "tests/__init__.py", "tests/test_knn.py"}) {
    CAPTURE(f);
    CHECK(fs::is_regular_file(dir / f));
  }
  for (const auto& f : *written) {
    CAPTURE(f);
    CHECK(f.string().find("{{") == std::string::npos);
    CHECK(slurp(dir / f).find("{{") == std::string::npos);
  }
  const std::string module = (fs::absolute(dir).lexically_normal() / "knn.py").string();
  CHECK(slurp(dir / "knn.py").find("NAME = \"knn\"") != std::string::npos);
  CHECK(slurp(dir / "check.yaml").find("module: \"" + module + "\"") != std::string::npos);
  CHECK(slurp(dir / "conformance.yaml").find("plugin: python") != std::string::npos);

  auto config = localnet::loadConfig(dir / "localnet.yaml");
  REQUIRE(config);
  REQUIRE(config->subnets.size() == 1);
  const auto& s = config->subnets[0];
  CHECK(s.plugin == "python");
  REQUIRE(s.validators.size() == 2);
  CHECK(s.validators[0].pluginConfig.find(module) != std::string::npos);
  REQUIRE(s.miners.size() == 3);
  CHECK(s.miners[0].tier == "honest");
  CHECK(s.miners[1].tier == "weak");
  CHECK(s.miners[1].pluginConfig.find("weak") != std::string::npos);
  CHECK(s.miners[2].tier == "faulty");
  CHECK(s.miners[2].pluginConfig.find("faulty") != std::string::npos);
  for (const auto& m : s.miners) CHECK(m.pluginConfig.find(module) != std::string::npos);

  // A directory whose path YAML's double quotes cannot hold is refused.
  auto quoted = writeSubnetProject("knn", "python", tmp.path() / "a\"b");
  REQUIRE_FALSE(quoted);
  CHECK(quoted.error().code() == ErrorCode::kInvalidArgument);
  CHECK_FALSE(fs::exists(tmp.path() / "a\"b"));
}

TEST_CASE("subnet new: refuses a non-empty directory, a file, bad names and languages") {
  test::TempDir tmp("merit_subnet_new");
  // An empty existing directory is fine.
  fs::create_directories(tmp.path() / "empty");
  CHECK(writeSubnetProject("demo", "cpp", tmp.path() / "empty"));

  std::ofstream(tmp.path() / "busy.txt") << "x";
  auto busy = writeSubnetProject("demo", "cpp", tmp.path());
  REQUIRE_FALSE(busy);
  CHECK(busy.error().code() == ErrorCode::kAlreadyExists);
  CHECK(busy.error().message().find("not empty") != std::string::npos);

  auto file = writeSubnetProject("demo", "cpp", tmp.path() / "busy.txt");
  REQUIRE_FALSE(file);
  CHECK(file.error().code() == ErrorCode::kAlreadyExists);

  auto name = writeSubnetProject("Bad-Name", "cpp", tmp.path() / "n");
  REQUIRE_FALSE(name);
  CHECK(name.error().code() == ErrorCode::kInvalidArgument);
  CHECK_FALSE(fs::exists(tmp.path() / "n"));

  auto pythonBusy = writeSubnetProject("demo", "python", tmp.path());
  REQUIRE_FALSE(pythonBusy);
  CHECK(pythonBusy.error().code() == ErrorCode::kAlreadyExists);

  auto rust = writeSubnetProject("demo", "rust", tmp.path() / "r");
  REQUIRE_FALSE(rust);
  CHECK(rust.error().code() == ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace merit::cli
