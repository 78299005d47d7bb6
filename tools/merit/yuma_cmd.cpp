// `merit yuma epoch`: runs one Yuma Consensus epoch on a JSON description of a subnet's state
// and prints the outputs as JSON (format in docs/CONSENSUS.md).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "merit/consensus/epoch.h"
#include "merit/consensus_json/epoch_json.h"
#include "merit/util/result.h"

#include "commands.h"

namespace merit::cli {

namespace {

// Reads at most kMaxEpochJsonBytes + 1 bytes, so an oversized input is reported, not buffered.
Result<std::string> readInput(const std::string& path) {
  const std::size_t limit = consensus::kMaxEpochJsonBytes + 1;
  std::string text;
  auto readAll = [&](std::istream& in) {
    char buffer[1 << 16];
    while (text.size() < limit && in.read(buffer, sizeof buffer).gcount() > 0) {
      text.append(buffer, static_cast<std::size_t>(in.gcount()));
    }
  };
  if (path == "-") {
    readAll(std::cin);
    if (std::cin.bad()) return fail(ErrorCode::kUnavailable, "cannot read standard input");
    return text;
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return fail(ErrorCode::kNotFound, "cannot open " + path);
  readAll(file);
  if (file.bad()) return fail(ErrorCode::kUnavailable, "cannot read " + path);
  return text;
}

int runEpochCommand(const std::string& path) {
  auto text = readInput(path);
  if (!text) {
    std::fprintf(stderr, "error: %s\n", text.error().message().c_str());
    return kExitError;
  }
  auto input = consensus::parseEpochInput(*text);
  if (!input) {
    std::fprintf(stderr, "error: %s: %s\n", path == "-" ? "<stdin>" : path.c_str(),
                 input.error().message().c_str());
    return kExitUsage;
  }
  auto output = consensus::runEpoch(*input);
  if (!output) {
    std::fprintf(stderr, "error: %s\n", output.error().message().c_str());
    return kExitUsage;
  }
  std::string json = consensus::formatEpochOutput(*output);
  std::fwrite(json.data(), 1, json.size(), stdout);
  std::fputc('\n', stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitError;
}

}  // namespace

void addYumaCommands(CLI::App& app, int& exitCode) {
  CLI::App* yuma = app.add_subcommand("yuma", "Yuma Consensus tools");
  yuma->require_subcommand(1);
  CLI::App* epoch = yuma->add_subcommand(
      "epoch", "Run one Yuma Consensus epoch on a subnet state (JSON) and print the outputs (JSON)");
  auto path = std::make_shared<std::string>();
  epoch->add_option("--input", *path, "Epoch state as JSON (docs/CONSENSUS.md); '-' reads standard input")
      ->required();
  epoch->callback([path, &exitCode] { exitCode = runEpochCommand(*path); });
}

}  // namespace merit::cli
