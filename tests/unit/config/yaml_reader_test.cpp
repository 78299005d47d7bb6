// The strict YAML reader every meritnet config uses: errors name the document, the key path and
// the reason; unknown keys, wrong types and out-of-range values are refused; yaml-cpp's own
// exceptions never escape.
#include "merit/config/yaml_reader.h"

#include <cstdint>
#include <string>

#include <doctest/doctest.h>

#include "merit/config/daemon_config.h"

namespace merit::config {
namespace {

// Parses `yaml` with `walk` and returns the error message ("" when it was accepted).
template <typename F>
std::string errorOf(const std::string& yaml, F walk) {
  auto r = parseYaml(yaml, "t.yaml", walk);
  return r ? "" : r.error().message();
}

TEST_CASE("parseYaml: errors are 'NAME: PATH: reason', syntax errors name the line") {
  CHECK(errorOf("a: 1", [](const YAML::Node&) { bad("a.b[2]", "no good"); }) == "t.yaml: a.b[2]: no good");
  CHECK(errorOf("a: 1", [](const YAML::Node&) { bad("", "empty"); }) == "t.yaml: empty");
  CHECK(errorOf("a: [1,\n", [](const YAML::Node&) {}).starts_with("t.yaml: line 2"));
  // A yaml-cpp conversion error inside the walk is turned into an error too.
  CHECK_FALSE(errorOf("a: [1]", [](const YAML::Node& r) { (void)r["a"].as<int>(); }).empty());
  CHECK(errorOf("", [](const YAML::Node& r) { CHECK(r.IsNull()); }).empty());
}

TEST_CASE("join and index build key paths") {
  CHECK(join("", "a") == "a");
  CHECK(join("a", "b") == "a.b");
  CHECK(index("a.b", 3) == "a.b[3]");
}

TEST_CASE("checkKeys refuses unknown keys and non-mappings, naming the path") {
  auto walk = [](const YAML::Node& r) { checkKeys(r["node"], "node", {"port", "host"}); };
  CHECK(errorOf("node: {port: 1, host: x}", walk).empty());
  CHECK(errorOf("node: {prot: 1}", walk) == "t.yaml: node.prot: unknown key (expected one of: host, port)");
  CHECK(errorOf("node: [1]", walk) == "t.yaml: node: must be a mapping");
  CHECK(errorOf("x: {y: 1}", [](const YAML::Node& r) { checkKeys(r, "", {"z"}, "configs/x.yaml"); }) ==
        "t.yaml: x: unknown key (see configs/x.yaml)");
  CHECK(errorOf("a: 1", [](const YAML::Node& r) { require(r["b"], "b", " (a label)"); }) ==
        "t.yaml: b: required (a label)");
}

TEST_CASE("scalars, integers, numbers and booleans are checked") {
  auto intOf = [](const std::string& yaml, std::uint64_t min, std::uint64_t max) {
    return errorOf(yaml, [&](const YAML::Node& r) { (void)integer(r["n"], "n", min, max); });
  };
  CHECK(intOf("n: 7", 0, 10).empty());
  CHECK(intOf("n: 11", 0, 10) == "t.yaml: n: must be at most 10");
  CHECK(intOf("n: 3", 5, 10) == "t.yaml: n: must be in [5, 10]");
  CHECK(intOf("n: -1", 0, 10) == "t.yaml: n: must be a non-negative integer, got '-1'");
  CHECK(intOf("n: 1.5", 0, 10) == "t.yaml: n: must be a non-negative integer, got '1.5'");
  CHECK(intOf("n: ''", 0, 10) == "t.yaml: n: must be a non-negative integer, got ''");
  CHECK(intOf("n: 99999999999999999999", 0, UINT64_MAX).find("must be a non-negative integer") !=
        std::string::npos);
  CHECK(intOf("n: [1]", 0, 10) == "t.yaml: n: must be a non-negative integer");
  CHECK(intOf("n: 18446744073709551615", 0, UINT64_MAX).empty());

  CHECK(errorOf("s: [a]", [](const YAML::Node& r) { (void)scalar(r["s"], "s"); }) ==
        "t.yaml: s: must be a single value");
  CHECK(errorOf("b: yes", [](const YAML::Node& r) { (void)boolean(r["b"], "b"); }) ==
        "t.yaml: b: must be true or false, got 'yes'");
  CHECK(errorOf("b: true", [](const YAML::Node& r) { CHECK(boolean(r["b"], "b")); }).empty());

  CHECK(parseBool("1", "X") == true);
  CHECK(parseBool("false", "X") == false);
  CHECK_THROWS_AS(parseBool("maybe", "X"), KeyError);
  CHECK(parseNumber("0.5", "x", 0, 1) == 0.5);
  CHECK_THROWS_AS(parseNumber("2", "x", 0, 1), KeyError);
  CHECK_THROWS_AS(parseNumber("0.5x", "x", 0, 1), KeyError);
}

TEST_CASE("applyYaml (the daemons' flat files) follows the same rules") {
  std::string port;
  std::vector<std::string> path;
  std::string section;
  Schema s;
  s.scalarKeys = {"port"};
  s.set = [&port](const std::string&, const std::string& v, const std::string& p) {
    port = std::to_string(parseInteger(v, p, 1, 65535));
  };
  s.listKeys = {{"subnet_path", &path}};
  s.sectionKeys = {{"plugin_config", &section}};
  s.documentedIn = "configs/d.yaml";
  CHECK(applyYaml("port: 80\nsubnet_path: [/a, /b]\nplugin_config: {x: 1}\n", "d.yaml", s));
  CHECK(port == "80");
  CHECK(path == std::vector<std::string>{"/a", "/b"});
  CHECK(section.find("x: 1") != std::string::npos);
  CHECK(applyYaml("prot: 80\n", "d.yaml", s).error().message() ==
        "d.yaml: prot: unknown key (see configs/d.yaml)");
  CHECK(applyYaml("port: 0\n", "d.yaml", s).error().message() == "d.yaml: port: must be in [1, 65535]");
  CHECK(applyYaml("port: [1]\n", "d.yaml", s).error().message() == "d.yaml: port: must be a single value");
  CHECK(applyYaml("subnet_path: [[a]]\n", "d.yaml", s).error().message() ==
        "d.yaml: subnet_path[0]: must be a single value");
  CHECK(applyYaml("- 1\n", "d.yaml", s).error().message() == "d.yaml: the file must be a mapping");
}

}  // namespace
}  // namespace merit::config
