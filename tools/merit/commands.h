// Sub-command groups of the `merit` CLI. Each registers its commands on the app and sets the
// exit code through the returned callbacks; errors go to stderr with the reason.
//
// Thread-safety: single-threaded CLI.
#pragma once

#include <string>

#include "merit/util/result.h"

#include "cli_app.h"

namespace merit::cli {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and the answer is "no" (e.g. bad signature)
inline constexpr int kExitUsage = 2;    // bad arguments or input
inline constexpr int kExitError = 3;    // the command could not be carried out

// Prints "error: <message>" on stderr and returns the exit code for the error's kind
// (kExitUsage for bad input, missing or existing things; kExitError otherwise).
int report(const Error& e);

// Adds `merit wallet ...`. `exitCode` receives the chosen command's result.
void addWalletCommands(CLI::App& app, int& exitCode);

// Settings every chain command shares (the global options of `merit`).
struct ChainSettings {
  std::string url;                // --url: the node's JSON-RPC endpoint (empty: the backend's default)
  std::string backend = "merit";  // --chain: merit (the dev chain) or subtensor (a Substrate node)
};

// Adds `merit chain info|head|block`, `balance`, `transfer`, `register`, `stake add|remove|show`
// and `root register|weights`.
void addChainCommands(CLI::App& app, int& exitCode, const ChainSettings& chain);

// Adds `merit chain metadata|call|storage` (Substrate runtimes, driven by their metadata) to the
// `chain` command group.
void addSubstrateCommands(CLI::App& chainCmd, int& exitCode, const ChainSettings& chain);

// Adds `merit subnet create|list|show|set|check|new` and `merit metagraph`.
void addSubnetCommands(CLI::App& app, int& exitCode, const ChainSettings& chain);

// Adds `merit weights set|commit|reveal|show`.
void addWeightsCommands(CLI::App& app, int& exitCode, const ChainSettings& chain);

// Adds `merit query` (ask a miner with the subnet plugin's challenges).
void addQueryCommand(CLI::App& app, int& exitCode, const ChainSettings& chain);

// Adds `merit explain` (recompute a stored epoch and explain one uid's results).
void addExplainCommand(CLI::App& app, int& exitCode, const ChainSettings& chain);

// Adds `merit validator status`.
void addValidatorCommands(CLI::App& app, int& exitCode);

// Adds `merit localnet up|down|status` (a whole network on this machine from one config).
void addLocalnetCommands(CLI::App& app, int& exitCode);

// Adds `merit yuma epoch` (runs one Yuma Consensus epoch on a JSON subnet state).
void addYumaCommands(CLI::App& app, int& exitCode);

}  // namespace merit::cli
