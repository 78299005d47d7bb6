// merit-train: trains the reference subnets' models on the CPU and writes TorchScript archives.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "merit/util/log.h"

#include "train.h"

namespace merit::train {

std::vector<Trainer>& trainers() {
  static std::vector<Trainer> list;
  return list;
}

}  // namespace merit::train

int main(int argc, char** argv) {
  CLI::App app{"merit-train: train models for meritnet's reference subnets (CPU, TorchScript output)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "merit-train 0.1.0");
  std::string logSpec = "info";
  app.add_option("--log-level", logSpec, "Log levels: LEVEL or LEVEL,category=LEVEL,...")
      ->capture_default_str();
  app.fallthrough();

  int exitCode = merit::train::kExitOk;
  for (const auto& trainer : merit::train::trainers()) {
    CLI::App* command = app.add_subcommand(trainer.name, trainer.summary);
    trainer.setup(*command, exitCode);
  }
  app.parse_complete_callback([&] {
    if (auto ok = merit::log::configure(logSpec); !ok)
      throw CLI::ValidationError("--log-level", ok.error().message());
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : merit::train::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return merit::train::kExitError;
  }
  return exitCode;
}
