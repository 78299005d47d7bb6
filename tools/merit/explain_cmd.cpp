// `merit explain`: why a uid earned what it earned in a stored epoch, recomputed and checked
// against what the chain stored (merit_explain; docs/OPERATIONS.md, "Explaining an epoch").
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "merit/explain/explain.h"

#include "chain_util.h"
#include "commands.h"

namespace merit::cli {

namespace {

struct ExplainOptions {
  std::uint16_t netuid = 0;
  std::uint16_t uid = 0;
  std::optional<std::uint64_t> block;
  bool json = false;
};

int runExplain(const ChainSettings& chain, const ExplainOptions& o) {
  auto connected = connectChain(chain);
  if (!connected) return report(connected.error());
  auto client = meritOnly(**connected, "explain");
  if (!client) return report(client.error());
  auto e = explain::explainUid(**client, o.netuid, o.uid, o.block);
  if (!e) return report(e.error());
  if (o.json) {
    std::printf("%s\n", explain::explanationJson(*e).dump(2).c_str());
  } else {
    std::string text = explain::explanationText(*e);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  if (!e->verified) {
    std::fprintf(stderr, "error: the recomputed epoch differs from the stored one in %zu field(s)%s\n",
                 e->mismatches.size(), o.json ? " (see \"mismatches\")" : "");
    return kExitFailure;
  }
  return std::fflush(stdout) == 0 ? kExitOk : kExitError;
}

}  // namespace

void addExplainCommand(CLI::App& app, int& exitCode, const ChainSettings& chain) {
  auto o = std::make_shared<ExplainOptions>();
  auto* cmd = app.add_subcommand("explain",
                                 "Recompute the epoch that produced a uid's values from the chain's stored "
                                 "inputs, check it bit for bit, "
                                 "and explain its incentive, trust, bonds and dividends");
  cmd->add_option("--netuid", o->netuid, "Subnet")->required();
  cmd->add_option("--uid", o->uid, "Uid")->required();
  cmd->add_option("--block", o->block,
                  "Explain the stored epoch at or before this block (default: the latest)");
  cmd->add_flag("--json", o->json, "Print JSON (keys in docs/OPERATIONS.md)");
  cmd->callback([&exitCode, &chain, o] { exitCode = runExplain(chain, *o); });
}

}  // namespace merit::cli
