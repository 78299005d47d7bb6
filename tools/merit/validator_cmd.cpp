// `merit validator status --state FILE`: the score table a validator has saved.
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "merit/crypto/ss58.h"
#include "merit/validator/state.h"

#include "commands.h"

namespace merit::cli {

namespace {

int runStatus(const std::string& path, bool asJson) {
  auto state = validator::loadState(path);
  if (!state) return report(state.error());
  if (asJson) {
    nlohmann::json scores = nlohmann::json::array();
    for (std::size_t uid = 0; uid < state->scores.size(); ++uid) {
      const auto& e = state->scores[uid];
      scores.push_back({{"uid", uid}, {"hotkey", crypto::ss58Encode(e.hotkey)}, {"score", e.score}});
    }
    nlohmann::json out = {{"netuid", state->netuid},
                          {"hotkey", crypto::ss58Encode(state->hotkey)},
                          {"steps", state->steps},
                          {"last_weights_block", state->lastWeightsBlock},
                          {"pending_commits", state->pendingCommits.size()},
                          {"scores", scores}};
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("validator %s on subnet %u: %lu steps, last weights in block %lu, %zu pending commits\n",
              crypto::ss58Encode(state->hotkey).c_str(), state->netuid,
              static_cast<unsigned long>(state->steps), static_cast<unsigned long>(state->lastWeightsBlock),
              state->pendingCommits.size());
  std::printf("%5s  %-50s  %8s\n", "uid", "hotkey", "score");
  for (std::size_t uid = 0; uid < state->scores.size(); ++uid) {
    const auto& e = state->scores[uid];
    std::printf("%5zu  %-50s  %8.4f\n", uid, crypto::ss58Encode(e.hotkey).c_str(), e.score);
  }
  return kExitOk;
}

}  // namespace

void addValidatorCommands(CLI::App& app, int& exitCode) {
  auto* group = app.add_subcommand("validator", "Inspect a validator's saved state");
  group->require_subcommand(1);
  auto path = std::make_shared<std::string>();
  auto asJson = std::make_shared<bool>(false);
  auto* status =
      group->add_subcommand("status", "Print the score table a validator saved (its --state-file)");
  status->add_option("--state", *path, "The validator's state file")->required();
  status->add_flag("--json", *asJson, "Print JSON");
  status->callback([&exitCode, path, asJson] { exitCode = runStatus(*path, *asJson); });
}

}  // namespace merit::cli
