// merit-subnet-check: loads a subnet plugin the way merit-miner and merit-validator do, creates a
// validator and a miner from it, and runs challenge -> answer -> score rounds entirely in
// process. For plugin authors (does my plugin load and score its own answers?) and for tests.
// With --suite it runs the conformance suite instead (the same as `merit subnet check`).
//
//   merit-subnet-check hash --rounds 20 --min-quality 1
//   merit-subnet-check ./build/subnets/libmerit_subnet_mine.so --miner-config faulty.yaml
//   merit-subnet-check --suite hash --json
//
// Exit status: 0 when every call succeeded (and the mean quality reached --min-quality) or every
// suite check passed, 1 when a check failed, 2 for bad arguments or a plugin that cannot be
// loaded or created.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "merit/subnet_conformance/conformance.h"
#include "merit/subnet_host/plugin.h"
#include "merit/subnet_host/search_path.h"
#include "merit/util/file.h"

namespace {

merit::Result<std::string> readConfig(const std::string& path) {
  if (path.empty()) return std::string();
  auto text = merit::readFile(path, 1 << 20);
  if (!text) return merit::fail(text.error().withContext("cannot read " + path));
  return *text;
}

int run(const std::string& plugin, const std::vector<std::string>& subnetPath,
        const std::string& minerConfigFile, const std::string& validatorConfigFile, int rounds,
        double minQuality) {
  using merit::subnet::Role;
  auto loaded = merit::subnet::SubnetPlugin::find(plugin, subnetPath);
  if (!loaded) {
    std::fprintf(stderr, "error: %s\n", loaded.error().message().c_str());
    return 2;
  }
  const auto& p = **loaded;
  std::printf("plugin %s version %u (ABI %d.%u, flags %llu) from %s\n", p.name().c_str(), p.version(),
              MERIT_SUBNET_ABI_MAJOR, static_cast<unsigned>(p.abiMinor()),
              static_cast<unsigned long long>(p.flags()), p.path().c_str());

  auto minerYaml = readConfig(minerConfigFile);
  auto validatorYaml = readConfig(validatorConfigFile);
  if (!minerYaml || !validatorYaml) {
    std::fprintf(stderr, "error: %s\n", (!minerYaml ? minerYaml : validatorYaml).error().message().c_str());
    return 2;
  }
  auto miner = (*loaded)->create(Role::kMiner, *minerYaml);
  auto validator = (*loaded)->create(Role::kValidator, *validatorYaml);
  if (!miner || !validator) {
    std::fprintf(stderr, "error: %s\n", (!miner ? miner.error() : validator.error()).message().c_str());
    return 2;
  }

  int answered = 0, dropped = 0, refused = 0, failed = 0;
  double qualitySum = 0;
  for (int i = 0; i < rounds; ++i) {
    auto challenge = (*validator)->makeChallenge();
    if (!challenge) {
      std::fprintf(stderr, "make_challenge: %s\n", challenge.error().message().c_str());
      ++failed;
      continue;
    }
    const merit::ByteView request(challenge->request);
    auto replies = (*miner)->handleBatch(std::span<const merit::ByteView>(&request, 1));
    if (!replies) {
      std::fprintf(stderr, "handle_batch: %s\n", replies.error().message().c_str());
      ++failed;
      continue;
    }
    const auto& reply = replies->front();
    if (reply.status == merit::subnet::RequestStatus::kDrop) {
      ++dropped;  // a timeout for a real validator: quality 0
      continue;
    }
    if (reply.status != merit::subnet::RequestStatus::kOk) {
      std::fprintf(stderr, "miner answered %s: %s\n", std::string(requestStatusName(reply.status)).c_str(),
                   reply.message.c_str());
      ++refused;
      continue;
    }
    auto quality = (*validator)->scoreResponse(challenge->expectation, reply.body);
    if (!quality) {
      std::fprintf(stderr, "score_response: %s\n", quality.error().message().c_str());
      ++failed;
      continue;
    }
    ++answered;
    qualitySum += *quality;
  }
  const double mean = rounds > 0 ? qualitySum / rounds : 0.0;
  std::printf("rounds %d: answered %d, dropped %d, refused %d, failed %d, mean quality %.4f\n", rounds,
              answered, dropped, refused, failed, mean);
  if (failed > 0) return 1;
  if (mean < minQuality) {
    std::fprintf(stderr, "mean quality %.4f is below --min-quality %.4f\n", mean, minQuality);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // The suite has its own options (shared with `merit subnet check`); --suite picks it.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) != "--suite") continue;
    CLI::App suite{"Run the subnet conformance suite on a plugin (docs/SUBNETS.md)"};
    namespace conf = merit::subnet::conformance;
    conf::Options options;
    conf::ConfigFiles files;
    bool json = false;
    bool unused = false;
    suite.add_flag("--suite", unused, "Run the conformance suite");
    suite.add_option("plugin", options.plugin, "Subnet name, path to a .so, or a project directory")
        ->required();
    suite.add_flag("--json", json, "One JSON report on stdout");
    conf::addOptions(suite, options, files);
    CLI11_PARSE(suite, argc, argv);
    if (!conf::loadConfigFiles(suite, files, options)) return 2;
    const conf::Report report = conf::run(options);
    std::fputs((json ? conf::formatJson(report) : conf::formatText(report)).c_str(), stdout);
    return report.passed() ? 0 : 1;
  }

  CLI::App app{
      "Load a meritnet subnet plugin and run challenge/answer/score rounds through it "
      "(--suite: the conformance suite)"};
  std::string plugin;
  std::vector<std::string> subnetPath;
  std::string config, minerConfig, validatorConfig;
  int rounds = 10;
  double minQuality = 0.0;
  app.add_option("plugin", plugin,
                 "Subnet name (libmerit_subnet_<name>.so on the search path) or path to a .so")
      ->required();
  app.add_option("--subnet-path", subnetPath,
                 "Directory to search first (repeatable); then $MERIT_SUBNET_PATH, "
                 "then " +
                     merit::subnet::subnetInstallDir().string());
  app.add_option("--config", config, "Plugin YAML config for both roles");
  app.add_option("--miner-config", minerConfig, "Plugin YAML config for the miner (overrides --config)");
  app.add_option("--validator-config", validatorConfig,
                 "Plugin YAML config for the validator (overrides --config)");
  app.add_option("--rounds", rounds, "Challenges to run")->check(CLI::Range(0, 1'000'000));
  app.add_option("--min-quality", minQuality, "Fail unless the mean quality reaches this")
      ->check(CLI::Range(0.0, 1.0));
  CLI11_PARSE(app, argc, argv);
  try {
    return run(plugin, subnetPath, minerConfig.empty() ? config : minerConfig,
               validatorConfig.empty() ? config : validatorConfig, rounds, minQuality);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
