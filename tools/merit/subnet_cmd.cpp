// `merit subnet create|list|show|set` and `merit metagraph`: subnets, their hyperparameters and
// price, and the per-uid state the last epoch left.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "merit/crypto/ss58.h"

#include "chain_util.h"
#include "commands.h"

namespace merit::cli {

namespace {

using nlohmann::json;

std::string u64s(std::uint64_t v) {
  return std::to_string(v);
}

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
  auto client = connectChain(chain.url);
  if (!client) return report(client.error());
  auto out = submitCall(**client, *key, tx::CreateSubnet{plugin, version, overrides}, o);
  if (!out) return report(out.error());
  std::string extra;
  if (out->included && out->success) {
    // The chain picks the lowest free netuid: find ours by owner and creation block.
    std::string owner = crypto::ss58Address(key->publicKey());
    auto list = (*client)->call("subnet_list");
    if (!list) return report(list.error());
    for (const auto& s : *list) {
      if (!s["owner"].is_string() || s["owner"].get<std::string>() != owner) continue;
      auto netuid = field<std::uint64_t>(s, "netuid");
      auto full = (*client)->call("subnet_get", json::array({netuid}));
      if (!full) return report(full.error());
      if (field<std::uint64_t>(*full, "created_block") != out->block) continue;
      out->json["netuid"] = netuid;
      extra = ": netuid " + u64s(netuid) + ", locked " + formatMerit(field<std::uint64_t>(*full, "locked")) +
              " MERIT, registration burn " + formatMerit(field<std::uint64_t>(*full, "burn")) + " MERIT";
    }
  }
  return printOutcome(*out, "create subnet '" + plugin + "'", o.json, extra);
}

int runList(const ChainSettings& chain, const KeyOptions& o) {
  auto client = connectChain(chain.url);
  if (!client) return report(client.error());
  auto list = (*client)->call("subnet_list");
  if (!list) return report(list.error());
  if (o.json) {
    std::printf("%s\n", list->dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-6s %-16s %-9s %-6s %-10s %-10s %-14s %s\n", "NETUID", "PLUGIN", "N", "TEMPO", "NEXT EPOCH",
              "OWNER", "EMISSION/BLK", "BURN");
  for (const auto& s : *list) {
    std::string owner = s["owner"].is_string() ? shortAddress(s["owner"].get<std::string>()) : "-";
    std::string n = u64s(field<std::uint64_t>(s, "n")) + "/" + u64s(field<std::uint64_t>(s, "max_uids"));
    std::printf("%-6s %-16s %-9s %-6s %-10s %-10s %-14s %s\n",
                u64s(field<std::uint64_t>(s, "netuid")).c_str(), field<std::string>(s, "plugin").c_str(),
                n.c_str(), u64s(field<std::uint64_t>(s, "tempo")).c_str(),
                u64s(field<std::uint64_t>(s, "blocks_until_next_epoch")).c_str(), owner.c_str(),
                formatMerit(field<std::uint64_t>(s, "emission_per_block")).c_str(),
                formatMerit(field<std::uint64_t>(s, "burn")).c_str());
  }
  return kExitOk;
}

int runShow(const ChainSettings& chain, const KeyOptions& o, std::uint16_t netuid) {
  auto client = connectChain(chain.url);
  if (!client) return report(client.error());
  auto s = (*client)->call("subnet_get", json::array({netuid}));
  if (!s) return report(s.error());
  if (o.json) {
    std::printf("%s\n", s->dump(2).c_str());
    return kExitOk;
  }
  auto row = [](const char* name, const std::string& value) {
    std::printf("  %-34s %s\n", name, value.c_str());
  };
  std::printf("subnet %u: plugin %s v%s\n", netuid, field<std::string>(*s, "plugin").c_str(),
              u64s(field<std::uint64_t>(*s, "plugin_version")).c_str());
  row("owner", (*s)["owner"].is_string() ? (*s)["owner"].get<std::string>() : "-");
  row("neurons", u64s(field<std::uint64_t>(*s, "n")) + " of " + u64s(field<std::uint64_t>(*s, "max_uids")));
  row("registration burn (price)", formatMerit(field<std::uint64_t>(*s, "burn")) + " MERIT");
  row("registrations this interval", u64s(field<std::uint64_t>(*s, "registrations_this_interval")));
  row("tempo", u64s(field<std::uint64_t>(*s, "tempo")) + " blocks");
  row("blocks until next epoch", u64s(field<std::uint64_t>(*s, "blocks_until_next_epoch")));
  row("last epoch at block", u64s(field<std::uint64_t>(*s, "last_epoch_block")));
  row("emission per block", formatMerit(field<std::uint64_t>(*s, "emission_per_block")) + " MERIT");
  row("pending emission", formatMerit(field<std::uint64_t>(*s, "pending_emission")) + " MERIT");
  row("locked", formatMerit(field<std::uint64_t>(*s, "locked")) + " MERIT");
  row("created at block", u64s(field<std::uint64_t>(*s, "created_block")));
  std::printf("hyperparameters:\n");
  for (const auto& [name, value] : s->at("hyperparameters").items()) {
    std::string v = value.dump();
    if (name == "min_burn" || name == "max_burn")
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
  auto client = connectChain(chain.url);
  if (!client) return report(client.error());
  auto out = submitCall(**client, *key, tx::SetHyperparameter{netuid, setting->first, setting->second}, o);
  if (!out) return report(out.error());
  return printOutcome(
      *out, "set " + param + " = " + u64s(setting->second) + " on subnet " + std::to_string(netuid), o.json);
}

std::string axonText(const json& a) {
  if (a.is_null()) return "-";
  return field<std::string>(a, "ip") + ":" + u64s(field<std::uint64_t>(a, "port"));
}

int runMetagraph(const ChainSettings& chain, const KeyOptions& o, std::uint16_t netuid, bool withWeights) {
  auto client = connectChain(chain.url);
  if (!client) return report(client.error());
  auto mg = (*client)->call("metagraph_get", json::array({netuid, withWeights, withWeights}));
  if (!mg) return report(mg.error());
  if (o.json) {
    std::printf("%s\n", mg->dump(2).c_str());
    return kExitOk;
  }
  std::printf("subnet %u (%s) at block %s: %s of %s uids, burn %s MERIT, next epoch in %s blocks\n", netuid,
              field<std::string>(*mg, "plugin").c_str(), u64s(field<std::uint64_t>(*mg, "block")).c_str(),
              u64s(field<std::uint64_t>(*mg, "n")).c_str(),
              u64s(field<std::uint64_t>(*mg, "max_uids")).c_str(),
              formatMerit(field<std::uint64_t>(*mg, "burn")).c_str(),
              u64s(field<std::uint64_t>(*mg, "blocks_until_next_epoch")).c_str());
  std::printf("%-5s %-11s %14s %-6s %-9s %-9s %-9s %-9s %14s %-21s %-8s %-8s %s\n", "UID", "HOTKEY", "STAKE",
              "PERMIT", "CONSENSUS", "INCENTIVE", "DIVIDENDS", "VTRUST", "EMISSION", "AXON", "UPDATED",
              "IMMUNITY", "PRUNE");
  for (const auto& n : mg->at("neurons")) {
    const json& rank = n.contains("prune_rank") ? n.at("prune_rank") : json(nullptr);
    std::printf("%-5s %-11s %14s %-6s %-9s %-9s %-9s %-9s %14s %-21s %-8s %-8s %s\n",
                u64s(field<std::uint64_t>(n, "uid")).c_str(),
                shortAddress(field<std::string>(n, "hotkey")).c_str(),
                formatMerit(field<std::uint64_t>(n, "stake")).c_str(),
                field<bool>(n, "validator_permit") ? "yes" : "no",
                formatProportion(field<std::uint64_t>(n, "consensus")).c_str(),
                formatProportion(field<std::uint64_t>(n, "incentive")).c_str(),
                formatProportion(field<std::uint64_t>(n, "dividends")).c_str(),
                formatProportion(field<std::uint64_t>(n, "validator_trust")).c_str(),
                formatMerit(field<std::uint64_t>(n, "emission")).c_str(), axonText(n.at("axon")).c_str(),
                u64s(field<std::uint64_t>(n, "last_update")).c_str(),
                u64s(field<std::uint64_t>(n, "immunity_left")).c_str(),
                rank.is_number_unsigned() ? u64s(rank.get<std::uint64_t>()).c_str() : "-");
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
