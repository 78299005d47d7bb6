// merit: the operator CLI. Thin: parses arguments and hands off to the command groups.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "merit/rpc/client.h"
#include "merit/util/log.h"

#include "commands.h"
#include "dashboard.h"

int main(int argc, char** argv) {
  CLI::App app{"merit: meritnet operator CLI (wallets, chain, subnets, localnet)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "merit 0.1.0");
  std::string logSpec = "warn";
  app.add_option("--log-level", logSpec, "Log levels: LEVEL or LEVEL,category=LEVEL,...")
      ->capture_default_str();

  merit::cli::ChainSettings chain;
  app.add_option("--url", chain.url,
                 "Chain node URL (merit default: $MERIT_CHAIN_URL, else http://127.0.0.1:9933; subtensor "
                 "default: $MERIT_SUBTENSOR_URL, else ws://127.0.0.1:9944)");
  app.add_option(
         "--chain", chain.backend,
         "Chain backend: merit (the embedded dev chain) or subtensor (a Substrate node, docs/SUBTENSOR.md)")
      ->capture_default_str()
      ->check(CLI::IsMember({"merit", "subtensor"}));
  // Global options may also follow the sub-command (`merit balance --url ...`).
  app.fallthrough();

  int exitCode = merit::cli::kExitOk;
  merit::cli::addWalletCommands(app, exitCode);
  merit::cli::addYumaCommands(app, exitCode);
  merit::cli::addValidatorCommands(app, exitCode);
  merit::cli::addQueryCommand(app, exitCode, chain);
  merit::cli::addChainCommands(app, exitCode, chain);
  merit::cli::addSubnetCommands(app, exitCode, chain);
  merit::cli::addWeightsCommands(app, exitCode, chain);
  merit::cli::addExplainCommand(app, exitCode, chain);
  merit::cli::addDashboardCommand(app, exitCode, chain);
  merit::cli::addLocalnetCommands(app, exitCode);

  app.parse_complete_callback([&] {
    if (auto ok = merit::log::configure(logSpec); !ok) {
      throw CLI::ValidationError("--log-level", ok.error().message());
    }
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : merit::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return merit::cli::kExitError;
  }
  return exitCode;
}
