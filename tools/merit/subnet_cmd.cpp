// `merit subnet create|list|show|set` and `merit metagraph`: subnets, their hyperparameters and
// price, and the per-uid state the last epoch left.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "merit/crypto/ss58.h"
#include "merit/rpc/metagraph.h"
#include "merit/subnet_conformance/conformance.h"

#include "chain_util.h"
#include "commands.h"
#include "subnet_new.h"

namespace merit::cli {

namespace {

using nlohmann::json;

// "name=value" -> (hyperparameter, value). Booleans may be written true/false.
Result<std::pair<tx::Hyper, std::uint64_t>> parseSetting(const std::string& name, const std::string& value) {
  auto h = tx::parseHyper(name);
  if (!h) {
    std::string all;
    for (std::size_t i = 1; i <= static_cast<std::size_t>(tx::Hyper::kStakeThreshold); ++i) {
      all += (all.empty() ? "" : ", ") + std::string(tx::hyperName(static_cast<tx::Hyper>(i)));
    }
    return fail(ErrorCode::kInvalidArgument, h.error().message() + " (one of: " + all + ")");
  }
  if (value == "true") return std::make_pair(*h, std::uint64_t{1});
  if (value == "false") return std::make_pair(*h, std::uint64_t{0});
  MERIT_ASSIGN_OR_RETURN(std::uint64_t v, parseU64(value, name));
  return std::make_pair(*h, v);
}

int runCreate(const ChainSettings& chain, const KeyOptions& o, const std::string& plugin,
              std::uint32_t version, const std::vector<std::string>& sets) {
  std::vector<std::pair<tx::Hyper, std::uint64_t>> overrides;
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos)
      return report(Error(ErrorCode::kInvalidArgument, "--set '" + s + "': expected name=value"));
    auto setting = parseSetting(s.substr(0, eq), s.substr(eq + 1));
    if (!setting) return report(setting.error().withContext("--set"));
    overrides.push_back(*setting);
  }
  if (plugin.empty() || plugin.size() > tx::kMaxNameLen) {
    return report(Error(ErrorCode::kInvalidArgument, "--plugin: 1 to 64 characters of a-z, 0-9 and _"));
  }
  auto key = unlockColdkeyOf(o);
  if (!key) return report(key.error());
  auto connected = connectChain(chain);
  if (!connected) return report(connected.error());
  auto client = meritOnly(**connected,
                          "subnet create (a subtensor subnet is made with `merit chain call "
                          "SubtensorModule.register_network ...`)");
  if (!client) return report(client.error());
  auto out = submitCall(**client, *key, tx::CreateSubnet{plugin, version, overrides}, o);
  if (!out) return report(out.error());
  std::string extra;
  if (out->included && out->success) {
    // The chain picks the lowest free netuid: find ours by owner and creation block.
    const tx::AccountId owner = key->publicKey().accountId();
    auto list = (*client)->subnets();
    if (!list) return report(list.error());
    for (const auto& s : *list) {
      if (s.owner != owner) continue;
      auto full = (*client)->subnet(s.netuid);
      if (!full) return report(full.error());
      if (full->createdBlock != out->block) continue;
      out->json["netuid"] = s.netuid;
      extra = ": netuid " + std::to_string(s.netuid) + ", locked " + formatMerit(full->locked.value_or(0)) +
              " MERIT, registration burn " + formatMerit(full->burn.value_or(0)) + " MERIT";
    }
  }
  return printOutcome(*out, "create subnet '" + plugin + "'", o.json, extra);
}

// A field a backend may not have: its value, or "-" (subtensor has no plugin, lock or totals).
std::string numberOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? std::to_string(it->get<std::uint64_t>()) : "-";
}
std::string meritOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? formatMerit(it->get<std::uint64_t>()) : "-";
}

int runList(const ChainSettings& chain, const KeyOptions& o) {
  auto client = connectChain(chain);
  if (!client) return report(client.error());
  auto subnets = (*client)->subnets();
  if (!subnets) return report(subnets.error());
  json list = json::array();
  for (const auto& s : *subnets) list.push_back(summaryJson(s));
  if (o.json) {
    std::printf("%s\n", list.dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-6s %-16s %-9s %-6s %-10s %-10s %-14s %s\n", "NETUID", "PLUGIN", "N", "TEMPO", "NEXT EPOCH",
              "OWNER", "EMISSION/BLK", "BURN");
  for (const auto& s : list) {
    std::string owner =
        s.contains("owner") && s["owner"].is_string() ? shortAddress(s["owner"].get<std::string>()) : "-";
    std::string n = numberOr(s, "n") + "/" + numberOr(s, "max_uids");
    std::printf("%-6s %-16s %-9s %-6s %-10s %-10s %-14s %s\n", numberOr(s, "netuid").c_str(),
                s.value("plugin", std::string("-")).c_str(), n.c_str(), numberOr(s, "tempo").c_str(),
                numberOr(s, "blocks_until_next_epoch").c_str(), owner.c_str(),
                meritOr(s, "emission_per_block").c_str(), meritOr(s, "burn").c_str());
  }
  return kExitOk;
}

int runShow(const ChainSettings& chain, const KeyOptions& o, std::uint16_t netuid) {
  auto client = connectChain(chain);
  if (!client) return report(client.error());
  auto info = (*client)->subnet(netuid);
  if (!info) return report(info.error());
  const json s = subnetJson(*info);
  if (o.json) {
    std::printf("%s\n", s.dump(2).c_str());
    return kExitOk;
  }
  auto row = [](const char* name, const std::string& value) {
    std::printf("  %-34s %s\n", name, value.c_str());
  };
  std::printf("subnet %u: plugin %s v%s\n", netuid, s.value("plugin", std::string("-")).c_str(),
              numberOr(s, "plugin_version").c_str());
  row("owner", s.contains("owner") && s["owner"].is_string() ? s["owner"].get<std::string>() : "-");
  row("neurons", numberOr(s, "n") + " of " + numberOr(s, "max_uids"));
  row("registration burn (price)", meritOr(s, "burn") + " MERIT");
  row("registrations this interval", numberOr(s, "registrations_this_interval"));
  row("tempo", numberOr(s, "tempo") + " blocks");
  row("blocks until next epoch", numberOr(s, "blocks_until_next_epoch"));
  row("last epoch at block", numberOr(s, "last_epoch_block"));
  row("emission per block", meritOr(s, "emission_per_block") + " MERIT");
  row("pending emission", meritOr(s, "pending_emission") + " MERIT");
  row("locked", meritOr(s, "locked") + " MERIT");
  row("created at block", numberOr(s, "created_block"));
  std::printf("hyperparameters:\n");
  for (const auto& [name, value] : s.at("hyperparameters").items()) {
    std::string v = value.dump();
    if ((name == "min_burn" || name == "max_burn") && value.is_number_unsigned())
      v += " rao (" + formatMerit(value.get<std::uint64_t>()) + " MERIT)";
    row(name.c_str(), v);
  }
  return kExitOk;
}

int runSet(const ChainSettings& chain, const KeyOptions& o, std::uint16_t netuid, const std::string& param,
           const std::string& value) {
  auto setting = parseSetting(param, value);
  if (!setting) return report(setting.error());
  auto key = unlockColdkeyOf(o);
  if (!key) return report(key.error());
  auto connected = connectChain(chain);
  if (!connected) return report(connected.error());
  auto client = meritOnly(
      **connected,
      "subnet set (on subtensor, hyperparameters are set with AdminUtils calls through `merit chain call`)");
  if (!client) return report(client.error());
  auto out = submitCall(**client, *key, tx::SetHyperparameter{netuid, setting->first, setting->second}, o);
  if (!out) return report(out.error());
  return printOutcome(
      *out, "set " + param + " = " + std::to_string(setting->second) + " on subnet " + std::to_string(netuid),
      o.json);
}

std::string axonText(const json& a) {
  if (a.is_null()) return "-";
  return field<std::string>(a, "ip") + ":" + std::to_string(field<std::uint64_t>(a, "port"));
}

// `merit metagraph` on any backend, from the interface's Metagraph.
int runGenericMetagraph(rpc::Chain& client, const KeyOptions& o, std::uint16_t netuid) {
  auto mg = client.metagraph(netuid);
  if (!mg) return report(mg.error());
  if (o.json) {
    json out = {{"netuid", netuid},
                {"block", mg->block},
                {"tempo", mg->tempo},
                {"blocks_until_next_epoch", mg->blocksUntilNextEpoch},
                {"hyperparameters", json::object()},
                {"neurons", json::array()}};
    mg->params.forEach(
        [&](std::string_view name, std::uint64_t value) { out["hyperparameters"][name] = value; });
    for (const auto& n : mg->neurons) {
      json axon = nullptr;
      if (n.axon) axon = {{"ip", n.axon->ip}, {"port", n.axon->port}, {"protocol", n.axon->protocol}};
      out["neurons"].push_back({{"uid", n.uid},
                                {"hotkey", crypto::ss58Encode(n.hotkey)},
                                {"coldkey", crypto::ss58Encode(n.coldkey)},
                                {"stake", n.stake},
                                {"active", n.active},
                                {"validator_permit", n.validatorPermit},
                                {"consensus", n.consensus},
                                {"incentive", n.incentive},
                                {"dividends", n.dividends},
                                {"validator_trust", n.validatorTrust},
                                {"emission", n.emission},
                                {"last_update", n.lastUpdate},
                                {"block_at_registration", n.blockAtRegistration},
                                {"axon", axon}});
      // The key peers verify the hotkey by (on subtensor: its committed ECDSA key, else the
      // sr25519 key its account id is), under the names merit-chain's metagraph uses.
      if (n.hotkeyPublicKey) {
        out["neurons"].back()["hotkey_public_key"] = n.hotkeyPublicKey->toHex();
        out["neurons"].back()["hotkey_scheme"] = std::string(crypto::schemeName(n.hotkeyPublicKey->scheme()));
      }
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("subnet %u at block %s: %zu uids, tempo %s, next epoch in %s blocks\n", netuid,
              std::to_string(mg->block).c_str(), mg->neurons.size(), std::to_string(mg->tempo).c_str(),
              std::to_string(mg->blocksUntilNextEpoch).c_str());
  std::printf("%-5s %-11s %14s %-6s %-9s %-9s %-9s %-9s %14s %-21s %s\n", "UID", "HOTKEY", "STAKE", "PERMIT",
              "CONSENSUS", "INCENTIVE", "DIVIDENDS", "VTRUST", "EMISSION", "AXON", "UPDATED");
  for (const auto& n : mg->neurons) {
    std::string axon = n.axon ? n.axon->ip + ":" + std::to_string(n.axon->port) : "-";
    std::printf("%-5u %-11s %14s %-6s %-9s %-9s %-9s %-9s %14s %-21s %s\n", n.uid,
                shortAddress(crypto::ss58Encode(n.hotkey)).c_str(), formatMerit(n.stake).c_str(),
                n.validatorPermit ? "yes" : "no", formatProportion(n.consensus).c_str(),
                formatProportion(n.incentive).c_str(), formatProportion(n.dividends).c_str(),
                formatProportion(n.validatorTrust).c_str(), formatMerit(n.emission).c_str(), axon.c_str(),
                std::to_string(n.lastUpdate).c_str());
  }
  std::printf("(stake and emission in the chain's token, 1e9 rao each; AXON: meritnet axons only)\n");
  return kExitOk;
}

int runMetagraph(const ChainSettings& chain, const KeyOptions& o, std::uint16_t netuid, bool withWeights) {
  auto connected = connectChain(chain);
  if (!connected) return report(connected.error());
  if ((*connected)->kind() != rpc::ChainKind::kMerit) return runGenericMetagraph(**connected, o, netuid);
  auto client = meritOnly(**connected, "metagraph");
  if (!client) return report(client.error());
  auto mg = rpc_json::call(**client, "metagraph_get", json::array({netuid, withWeights, withWeights}));
  if (!mg) return report(mg.error());
  if (o.json) {
    std::printf("%s\n", mg->dump(2).c_str());
    return kExitOk;
  }
  std::printf("subnet %u (%s) at block %s: %s of %s uids, burn %s MERIT, next epoch in %s blocks\n", netuid,
              field<std::string>(*mg, "plugin").c_str(),
              std::to_string(field<std::uint64_t>(*mg, "block")).c_str(),
              std::to_string(field<std::uint64_t>(*mg, "n")).c_str(),
              std::to_string(field<std::uint64_t>(*mg, "max_uids")).c_str(),
              formatMerit(field<std::uint64_t>(*mg, "burn")).c_str(),
              std::to_string(field<std::uint64_t>(*mg, "blocks_until_next_epoch")).c_str());
  std::printf("%-5s %-11s %14s %-6s %-9s %-9s %-9s %-9s %14s %-21s %-8s %-8s %s\n", "UID", "HOTKEY", "STAKE",
              "PERMIT", "CONSENSUS", "INCENTIVE", "DIVIDENDS", "VTRUST", "EMISSION", "AXON", "UPDATED",
              "IMMUNITY", "PRUNE");
  for (const auto& n : mg->at("neurons")) {
    const json& rank = n.contains("prune_rank") ? n.at("prune_rank") : json(nullptr);
    std::printf("%-5s %-11s %14s %-6s %-9s %-9s %-9s %-9s %14s %-21s %-8s %-8s %s\n",
                std::to_string(field<std::uint64_t>(n, "uid")).c_str(),
                shortAddress(field<std::string>(n, "hotkey")).c_str(),
                formatMerit(field<std::uint64_t>(n, "stake")).c_str(),
                field<bool>(n, "validator_permit") ? "yes" : "no",
                formatProportion(field<std::uint64_t>(n, "consensus")).c_str(),
                formatProportion(field<std::uint64_t>(n, "incentive")).c_str(),
                formatProportion(field<std::uint64_t>(n, "dividends")).c_str(),
                formatProportion(field<std::uint64_t>(n, "validator_trust")).c_str(),
                formatMerit(field<std::uint64_t>(n, "emission")).c_str(), axonText(n.at("axon")).c_str(),
                std::to_string(field<std::uint64_t>(n, "last_update")).c_str(),
                std::to_string(field<std::uint64_t>(n, "immunity_left")).c_str(),
                rank.is_number_unsigned() ? std::to_string(rank.get<std::uint64_t>()).c_str() : "-");
  }
  std::printf(
      "(stake and emission in MERIT, emission of the last epoch; UPDATED: block of the last weights or\n"
      " registration; IMMUNITY: blocks left before a new registration may replace the uid; PRUNE: 1 is\n"
      " the uid a registration into the full subnet replaces next, - never: the subnet owner's)\n");
  return kExitOk;
}

}  // namespace

void addSubnetCommands(CLI::App& app, int& exitCode, const ChainSettings& chain) {
  auto o = std::make_shared<KeyOptions>();
  auto netuid = std::make_shared<std::uint16_t>(0);
  auto plugin = std::make_shared<std::string>();
  auto version = std::make_shared<std::uint32_t>(1);
  auto sets = std::make_shared<std::vector<std::string>>();
  auto param = std::make_shared<std::string>();
  auto value = std::make_shared<std::string>();
  auto withWeights = std::make_shared<bool>(false);

  auto* subnet = app.add_subcommand("subnet", "Create, list, inspect and configure subnets");
  subnet->require_subcommand(1);

  auto* create = subnet->add_subcommand(
      "create", "Create a subnet owned by the wallet's coldkey (locks the subnet cost)");
  create->add_option("--plugin", *plugin, "The subnet plugin's name, e.g. matmul")->required();
  create->add_option("--plugin-version", *version, "The plugin version the subnet speaks")
      ->capture_default_str();
  create->add_option("--set", *sets, "Hyperparameter override name=value (repeatable), e.g. tempo=10");
  addWalletOpt(create, *o);
  addPasswordOpt(create, *o);
  addSubmitOpts(create, *o);
  create->callback([&exitCode, &chain, o, plugin, version, sets] {
    exitCode = runCreate(chain, *o, *plugin, *version, *sets);
  });

  auto* list =
      subnet->add_subcommand("list", "All subnets with size, tempo, emission and registration price");
  addJsonOpt(list, *o);
  list->callback([&exitCode, &chain, o] { exitCode = runList(chain, *o); });

  auto* show = subnet->add_subcommand(
      "show", "One subnet: price, tempo, next epoch, emission and every hyperparameter");
  show->add_option("--netuid", *netuid, "Subnet")->required();
  addJsonOpt(show, *o);
  show->callback([&exitCode, &chain, o, netuid] { exitCode = runShow(chain, *o, *netuid); });

  auto* set = subnet->add_subcommand("set", "Change a hyperparameter (subnet owner only)");
  set->add_option("--netuid", *netuid, "Subnet")->required();
  set->add_option("--param", *param, "Hyperparameter name, e.g. weights_rate_limit")->required();
  set->add_option("--value", *value, "New value (an integer; true/false for switches)")->required();
  addWalletOpt(set, *o);
  addPasswordOpt(set, *o);
  addSubmitOpts(set, *o);
  set->callback([&exitCode, &chain, o, netuid, param, value] {
    exitCode = runSet(chain, *o, *netuid, *param, *value);
  });

  addSubnetNewCommand(*subnet, exitCode);

  // The conformance suite, shared with `merit-subnet-check --suite` (merit_subnet_conformance).
  auto checkOptions = std::make_shared<subnet::conformance::Options>();
  auto checkFiles = std::make_shared<subnet::conformance::ConfigFiles>();
  auto* check = subnet->add_subcommand(
      "check", "Run the conformance suite on a plugin: one pass/fail line per check (docs/SUBNETS.md)");
  check
      ->add_option("plugin", checkOptions->plugin,
                   "Subnet name, path to a .so, or a subnet project directory")
      ->required();
  addJsonOpt(check, *o);
  subnet::conformance::addOptions(*check, *checkOptions, *checkFiles);
  check->callback([&exitCode, o, check, checkOptions, checkFiles] {
    if (!subnet::conformance::loadConfigFiles(*check, *checkFiles, *checkOptions)) {
      exitCode = kExitUsage;
      return;
    }
    const auto report = subnet::conformance::run(*checkOptions);
    std::fputs(
        (o->json ? subnet::conformance::formatJson(report) : subnet::conformance::formatText(report)).c_str(),
        stdout);
    exitCode = report.passed() ? kExitOk : kExitFailure;
  });

  auto* mg = app.add_subcommand(
      "metagraph", "Per-uid state of a subnet: stake, permits, consensus, incentive, dividends...");
  mg->add_option("--netuid", *netuid, "Subnet")->required();
  mg->add_flag("--weights", *withWeights, "Include each uid's weights and bonds (with --json)");
  addJsonOpt(mg, *o);
  mg->callback([&exitCode, &chain, o, netuid, withWeights] {
    exitCode = runMetagraph(chain, *o, *netuid, *withWeights);
  });
}

}  // namespace merit::cli
