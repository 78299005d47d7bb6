// `merit chain info|head|block`, `balance`, `transfer`, `register`, `stake add|remove|show` and
// `root register|weights`: reading the chain and submitting signed extrinsics through merit_rpc.
// Amounts are typed in MERIT and sent in rao; JSON output carries rao.
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "merit/consensus/math.h"
#include "merit/crypto/ss58.h"
#include "merit/crypto/wallet.h"
#include "merit/rpc/metagraph.h"
#include "merit/substrate/subtensor_chain.h"

#include "chain_util.h"
#include "commands.h"

namespace merit::cli {

namespace {

using nlohmann::json;

void printHeader(const json& h) {
  std::printf("block %s\n", std::to_string(field<std::uint64_t>(h, "number")).c_str());
  for (const char* k : {"hash", "parent_hash", "timestamp_ms", "extrinsics_root", "state_root", "author"}) {
    if (!h.contains(k)) continue;
    const json& v = h[k];
    std::printf("  %-16s %s\n", k, v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
  }
}

// `merit chain info` on any backend: what the interface knows (name, genesis, head, runtime).
int runGenericInfo(rpc::Chain& client, const KeyOptions& o) {
  auto info = client.info();
  if (!info) return report(info.error());
  auto head = client.headNumber();
  if (!head) return report(head.error());
  json out = json::object();
  for (const auto& f : info->extra) out[f.name] = factJson(f);
  out["backend"] = std::string(rpc::chainKindName(client.kind()));
  out["url"] = client.url();
  out["chain"] = info->name;
  out["genesis_hash"] = "0x" + toHex(info->genesisHash);
  out["dev"] = info->dev;
  out["block_time_ms"] = info->blockTime.count();
  out["head"] = *head;
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("chain %s (%s backend) at %s\n", info->name.c_str(),
              std::string(rpc::chainKindName(client.kind())).c_str(), client.url().c_str());
  std::printf("  genesis          %s\n", out["genesis_hash"].get<std::string>().c_str());
  std::printf("  block time       %s ms\n",
              std::to_string(static_cast<std::uint64_t>(info->blockTime.count())).c_str());
  std::printf("  head             %s\n", std::to_string(*head).c_str());
  std::printf("  development      %s\n", info->dev ? "yes" : "no");
  for (const auto& f : info->extra) {
    const json v = factJson(f);
    std::printf("  %-16s %s\n", f.name.c_str(),
                v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
  }
  return kExitOk;
}

int runInfo(const ChainSettings& chain, const KeyOptions& o) {
  auto connected = connectChain(chain);
  if (!connected) return report(connected.error());
  if ((*connected)->kind() != rpc::ChainKind::kMerit) return runGenericInfo(**connected, o);
  auto client = meritOnly(**connected, "chain info");
  if (!client) return report(client.error());
  auto info = rpc_json::call(**client, "system_info");
  if (!info) return report(info.error());
  auto head = rpc_json::call(**client, "chain_getHead");
  if (!head) return report(head.error());
  auto totals = rpc_json::call(**client, "chain_getTotals");
  if (!totals) return report(totals.error());
  auto health = rpc_json::call(**client, "system_health");
  if (!health) return report(health.error());
  if (o.json) {
    json out = *info;
    out["url"] = (*client)->url();
    out["head"] = *head;
    out["totals"] = *totals;
    out["mempool"] = health->value("mempool", 0);
    out["mempool_bytes"] = health->value("mempool_bytes", 0);
    out["mempool_future"] = health->value("mempool_future", 0);
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("chain %s %s at %s\n", field<std::string>(*info, "chain").c_str(),
              field<std::string>(*info, "version").c_str(), (*client)->url().c_str());
  std::printf("  genesis          %s\n", field<std::string>(*info, "genesis_hash").c_str());
  std::printf("  block time       %s ms\n",
              std::to_string(field<std::uint64_t>(*info, "block_time_ms")).c_str());
  std::printf("  head             %s  %s\n", std::to_string(field<std::uint64_t>(*head, "number")).c_str(),
              field<std::string>(*head, "hash").c_str());
  std::printf("  mempool          %s extrinsics (%s bytes, %s waiting for an earlier nonce)\n",
              std::to_string(health->value("mempool", std::uint64_t{0})).c_str(),
              std::to_string(health->value("mempool_bytes", std::uint64_t{0})).c_str(),
              std::to_string(health->value("mempool_future", std::uint64_t{0})).c_str());
  std::printf("  dev preset       %s, fee %s MERIT per extrinsic\n", info->value("dev", false) ? "yes" : "no",
              formatMerit(info->value("extrinsic_fee", std::uint64_t{0})).c_str());
  std::printf("  issuance         %s MERIT\n",
              formatMerit(field<std::uint64_t>(*totals, "issuance")).c_str());
  std::printf("    genesis        %s MERIT\n", formatMerit(field<std::uint64_t>(*totals, "genesis")).c_str());
  std::printf("    emitted        %s MERIT\n", formatMerit(field<std::uint64_t>(*totals, "emitted")).c_str());
  std::printf("    burned         %s MERIT\n", formatMerit(field<std::uint64_t>(*totals, "burned")).c_str());
  std::printf("  staked           %s MERIT\n", formatMerit(field<std::uint64_t>(*totals, "staked")).c_str());
  std::printf("  locked           %s MERIT\n", formatMerit(field<std::uint64_t>(*totals, "locked")).c_str());
  return kExitOk;
}

int runHead(const ChainSettings& chain, const KeyOptions& o) {
  auto connected = connectChain(chain);
  if (!connected) return report(connected.error());
  auto client = meritOnly(**connected, "chain head (use `merit chain info`)");
  if (!client) return report(client.error());
  auto head = rpc_json::call(**client, "chain_getHead");
  if (!head) return report(head.error());
  if (o.json) {
    std::printf("%s\n", head->dump(2).c_str());
  } else {
    printHeader(*head);
  }
  return kExitOk;
}

int runBlock(const ChainSettings& chain, const KeyOptions& o, std::uint64_t number) {
  auto connected = connectChain(chain);
  if (!connected) return report(connected.error());
  auto client = meritOnly(**connected, "chain block");
  if (!client) return report(client.error());
  auto block = rpc_json::call(**client, "chain_getBlock", json::array({number}));
  if (!block) return report(block.error());
  if (o.json) {
    std::printf("%s\n", block->dump(2).c_str());
    return kExitOk;
  }
  printHeader(block->at("header"));
  const json& xts = block->at("extrinsics");
  std::printf("  extrinsics       %zu\n", xts.size());
  std::size_t i = 0;
  for (const auto& x : xts) {
    std::string outcome = x.value("success", false) ? "ok" : "failed: " + x.value("error", std::string("?"));
    if (x.contains("detail")) outcome += " (" + x["detail"].get<std::string>() + ")";
    std::printf("    #%zu %-18s by %s nonce %s  %s\n", i++, x.value("call", std::string("?")).c_str(),
                x.value("signer", std::string("?")).c_str(),
                std::to_string(x.value("nonce", std::uint64_t{0})).c_str(), outcome.c_str());
  }
  return kExitOk;
}

// account_get for ADDRESS, or for the wallet's coldkey when ADDRESS is empty, as --json prints it;
// `addr` receives the address read.
Result<json> readAccount(const ChainSettings& chain, const KeyOptions& o, const std::string& address,
                         std::string& addr) {
  addr = address;
  if (addr.empty()) {
    auto pub = coldkeyPublicOf(o);
    if (!pub) return fail(pub.error().withContext("wallet '" + o.wallet + "' (or give an ADDRESS)"));
    addr = pub->ss58Address();
  }
  MERIT_ASSIGN_OR_RETURN(tx::AccountId id, parseAddress(addr, "ADDRESS"));
  auto client = connectChain(chain);
  if (!client) return fail(client.error());
  MERIT_ASSIGN_OR_RETURN(rpc::AccountInfo account, (*client)->account(id));
  return accountJson(account);
}

int runBalance(const ChainSettings& chain, const KeyOptions& o, const std::string& address) {
  std::string addr;
  auto acc = readAccount(chain, o, address, addr);
  if (!acc) return report(acc.error());
  if (o.json) {
    std::printf("%s\n", acc->dump(2).c_str());
    return kExitOk;
  }
  std::printf("%s\n", addr.c_str());
  std::printf("  free     %s MERIT\n", formatMerit(field<std::uint64_t>(*acc, "free")).c_str());
  if (acc->contains("staked")) {
    std::printf("  staked   %s MERIT\n", formatMerit(field<std::uint64_t>(*acc, "staked")).c_str());
  }
  std::printf("  nonce    %s\n", std::to_string(field<std::uint64_t>(*acc, "nonce")).c_str());
  return kExitOk;
}

int runTransfer(const ChainSettings& chain, const KeyOptions& o, const std::string& to,
                const std::string& amountText) {
  auto dest = parseAddress(to, "--to");
  if (!dest) return report(dest.error());
  auto amount = parseMerit(amountText);
  if (!amount) return report(amount.error());
  if (*amount == 0) return report(Error(ErrorCode::kInvalidArgument, "--amount must be more than 0"));
  auto key = unlockColdkeyOf(o);
  if (!key) return report(key.error());
  auto client = connectChain(chain);
  if (!client) return report(client.error());
  auto out = submitCall(**client, *key, tx::Transfer{*dest, *amount}, o);
  if (!out) return report(out.error());
  return printOutcome(*out, "transfer of " + formatMerit(*amount) + " MERIT to " + to, o.json);
}

// The uid `hotkey` holds on `netuid`, read from the metagraph.
Result<std::optional<std::uint64_t>> uidOf(rpc::Chain& client, std::uint16_t netuid,
                                           const tx::AccountId& hotkey) {
  MERIT_ASSIGN_OR_RETURN(rpc::Metagraph mg, client.metagraph(netuid));
  if (const auto* n = mg.byHotkey(hotkey)) return std::optional<std::uint64_t>(n->uid);
  return std::optional<std::uint64_t>();
}

int runRegister(const ChainSettings& chain, const KeyOptions& o, std::uint16_t netuid, bool root) {
  auto hot = hotkeyPublicOf(o);
  if (!hot) return report(hot.error());
  auto client = connectChain(chain);
  if (!client) return report(client.error());
  std::string burnNote;
  if (!root) {
    auto subnet = (*client)->subnet(netuid);
    if (!subnet) return report(subnet.error());
    if (subnet->burn) burnNote = " (burning " + formatMerit(*subnet->burn) + " MERIT)";
  }
  auto key = unlockColdkeyOf(o);
  if (!key) return report(key.error());
  tx::Call call = root ? tx::Call(tx::RootRegister{*hot}) : tx::Call(tx::BurnedRegister{netuid, *hot});
  auto out = submitCall(**client, *key, std::move(call), o);
  if (!out) return report(out.error());
  std::string hotAddr = hot->ss58Address();
  std::string what = "register hotkey '" + o.hotkey + "' " + hotAddr + " on " +
                     (root ? std::string("the root network") : "subnet " + std::to_string(netuid));
  std::string extra;
  if (out->included && out->success) {
    auto uid = uidOf(**client, root ? 0 : netuid, hot->accountId());
    if (!uid) return report(uid.error());
    if (*uid) {
      out->json["uid"] = **uid;
      extra = ": uid " + std::to_string(**uid) + burnNote;
    } else {
      // Only possible if it was replaced again before we looked.
      out->json["uid"] = nullptr;
      extra = ", but the hotkey no longer holds a uid";
    }
  }
  return printOutcome(*out, what, o.json, extra);
}

Result<tx::AccountId> stakeHotkey(const KeyOptions& o, std::string& shown) {
  if (!o.hotkeyAddress.empty()) {
    shown = o.hotkeyAddress;
    return parseAddress(o.hotkeyAddress, "--hotkey-address");
  }
  MERIT_ASSIGN_OR_RETURN(auto pub, hotkeyPublicOf(o));
  shown = "hotkey '" + o.hotkey + "' " + pub.ss58Address();
  return pub.accountId();
}

int runStake(const ChainSettings& chain, const KeyOptions& o, const std::string& amountText, bool add,
             std::uint16_t netuid) {
  auto amount = parseMerit(amountText);
  if (!amount) return report(amount.error());
  if (*amount == 0) return report(Error(ErrorCode::kInvalidArgument, "--amount must be more than 0"));
  std::string shown;
  auto hotkey = stakeHotkey(o, shown);
  if (!hotkey) return report(hotkey.error());
  auto key = unlockColdkeyOf(o);
  if (!key) return report(key.error());
  auto client = connectChain(chain);
  if (!client) return report(client.error());
  if (auto* st = dynamic_cast<substrate::SubtensorChain*>(client->get()))
    st->setStakeNetuid(netuid == 0 ? 1 : netuid);
  tx::Call call =
      add ? tx::Call(tx::AddStake{*hotkey, *amount}) : tx::Call(tx::RemoveStake{*hotkey, *amount});
  auto out = submitCall(**client, *key, std::move(call), o);
  if (!out) return report(out.error());
  std::string extra;
  if (out->included && out->success) {
    auto acc = (*client)->account(*hotkey);
    if (acc && acc->hotkeyStake) {
      out->json["hotkey_stake"] = *acc->hotkeyStake;
      extra = "; the hotkey now has " + formatMerit(*acc->hotkeyStake) + " MERIT of stake";
    }
  }
  return printOutcome(*out,
                      std::string(add ? "stake " : "unstake ") + formatMerit(*amount) + " MERIT " +
                          (add ? "to " : "from ") + shown,
                      o.json, extra);
}

int runStakeShow(const ChainSettings& chain, const KeyOptions& o, const std::string& address) {
  std::string addr;
  auto acc = readAccount(chain, o, address, addr);
  if (!acc) return report(acc.error());
  // Name the wallet's own hotkeys where we can.
  std::map<std::string, std::string> names;
  if (address.empty()) {
    crypto::Wallet wallet(crypto::defaultMeritHome(), o.wallet);
    if (auto hk = wallet.hotkeyNames()) {
      for (const auto& n : *hk) {
        if (auto pub = wallet.hotkeyPublicAny(n)) names[pub->ss58Address()] = n;
      }
    }
  }
  if (o.json) {
    json out = {{"coldkey", addr},
                {"free", acc->at("free")},
                {"staked", acc->value("staked", json(nullptr))},
                {"stakes", json::array()}};
    for (const auto& s : acc->value("stakes", json::array())) {
      json e = s;
      auto it = names.find(field<std::string>(s, "hotkey"));
      if (it != names.end()) e["name"] = it->second;
      out["stakes"].push_back(std::move(e));
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("stake of coldkey %s\n", addr.c_str());
  const json stakes = acc->value("stakes", json::array());
  if (stakes.empty()) std::printf("  (none)\n");
  for (const auto& s : stakes) {
    auto hk = field<std::string>(s, "hotkey");
    auto it = names.find(hk);
    std::printf("  %-50s %-12s %s MERIT\n", hk.c_str(), it == names.end() ? "" : it->second.c_str(),
                formatMerit(field<std::uint64_t>(s, "amount")).c_str());
  }
  std::printf("  total staked %s MERIT, free %s MERIT\n",
              formatMerit(acc->value("staked", std::uint64_t{0})).c_str(),
              formatMerit(field<std::uint64_t>(*acc, "free")).c_str());
  return kExitOk;
}

int runRootWeights(const ChainSettings& chain, const KeyOptions& o, const std::string& netuidsText,
                   const std::string& valuesText, std::uint64_t versionKey) {
  auto netuids = parseU16List(netuidsText, "--netuids");
  if (!netuids) return report(netuids.error());
  auto values = parseU16List(valuesText, "--values");
  if (!values) return report(values.error());
  if (netuids->size() != values->size()) {
    return report(Error(ErrorCode::kInvalidArgument, "--netuids has " + std::to_string(netuids->size()) +
                                                         " items but --values has " +
                                                         std::to_string(values->size())));
  }
  std::uint64_t sum = 0;
  for (auto v : *values) sum += v;
  if (sum == 0) return report(Error(ErrorCode::kInvalidArgument, "--values are all zero"));
  auto key = loadHotkeyOf(o);
  if (!key) return report(key.error());
  auto client = connectChain(chain);
  if (!client) return report(client.error());
  // Full u16 precision, as the chain stores set_weights rows: the largest weight becomes 65535.
  auto scaled = consensus::vecU16MaxUpscaleToU16(*values);
  auto* sub = dynamic_cast<substrate::SubtensorChain*>(client->get());
  if (sub != nullptr &&
      sub->client().metadata()->callVariant("SubtensorModule", "set_root_weights") != nullptr) {
    // This runtime's set_root_weights names the hotkey and is signed by its coldkey.
    auto coldkey = unlockColdkeyOf(o);
    if (!coldkey) return report(coldkey.error());
    nlohmann::json args = {{"netuid", 0},
                           {"hotkey", substrate::hex0x(key->publicKey().accountId())},
                           {"dests", *netuids},
                           {"weights", scaled},
                           {"version_key", versionKey}};
    auto call = sub->client().encodeCall("SubtensorModule", "set_root_weights", args);
    if (!call) return report(call.error());
    auto out = submitRuntimeCall(sub->client(), *coldkey, *call, o);
    if (!out) return report(out.error());
    return printOutcome(*out, "root weights of hotkey '" + o.hotkey + "'", o.json);
  }
  auto out = submitCall(**client, *key, tx::SetRootWeights{*netuids, scaled, versionKey}, o);
  if (!out) return report(out.error());
  return printOutcome(*out, "root weights of hotkey '" + o.hotkey + "'", o.json);
}

}  // namespace

void addChainCommands(CLI::App& app, int& exitCode, const ChainSettings& chain) {
  auto o = std::make_shared<KeyOptions>();
  auto number = std::make_shared<std::uint64_t>(0);
  auto text = std::make_shared<std::string>();
  auto text2 = std::make_shared<std::string>();
  auto netuid = std::make_shared<std::uint16_t>(0);
  auto versionKey = std::make_shared<std::uint64_t>(0);

  auto* chainCmd = app.add_subcommand("chain", "Inspect the chain: node info, head, blocks");
  chainCmd->require_subcommand(1);
  auto* info = chainCmd->add_subcommand("info", "Chain name, genesis hash, block time, head and issuance");
  addJsonOpt(info, *o);
  info->callback([&exitCode, &chain, o] { exitCode = runInfo(chain, *o); });
  auto* head = chainCmd->add_subcommand("head", "The newest block's header");
  addJsonOpt(head, *o);
  head->callback([&exitCode, &chain, o] { exitCode = runHead(chain, *o); });
  auto* block = chainCmd->add_subcommand("block", "A block: header and extrinsics with their outcomes");
  block->add_option("N", *number, "Block number")->required();
  addJsonOpt(block, *o);
  block->callback([&exitCode, &chain, o, number] { exitCode = runBlock(chain, *o, *number); });
  addSubstrateCommands(*chainCmd, exitCode, chain);

  auto* balance = app.add_subcommand(
      "balance", "Free balance, stake and nonce of an address (default: the wallet's coldkey)");
  balance->add_option("ADDRESS", *text, "SS58 address");
  addWalletOpt(balance, *o);
  addJsonOpt(balance, *o);
  balance->callback([&exitCode, &chain, o, text] { exitCode = runBalance(chain, *o, *text); });

  auto* transfer = app.add_subcommand("transfer", "Send MERIT from the wallet's coldkey");
  transfer->add_option("--to", *text, "Recipient SS58 address")->required();
  transfer->add_option("--amount", *text2, "Amount in MERIT, e.g. 1.5 (up to 9 decimal places)")->required();
  addWalletOpt(transfer, *o);
  addPasswordOpt(transfer, *o);
  addSubmitOpts(transfer, *o);
  transfer->callback(
      [&exitCode, &chain, o, text, text2] { exitCode = runTransfer(chain, *o, *text, *text2); });

  auto* reg = app.add_subcommand(
      "register", "Register a hotkey on a subnet by burning the current price (the coldkey pays)");
  reg->add_option("--netuid", *netuid, "Subnet")->required();
  addWalletOpt(reg, *o);
  addHotkeyOpt(reg, *o);
  addPasswordOpt(reg, *o);
  addSubmitOpts(reg, *o);
  reg->callback([&exitCode, &chain, o, netuid] { exitCode = runRegister(chain, *o, *netuid, false); });

  auto* stake = app.add_subcommand("stake", "Stake MERIT from a coldkey to a hotkey, withdraw it, list it");
  stake->require_subcommand(1);
  for (bool add : {true, false}) {
    auto* cmd = stake->add_subcommand(add ? "add" : "remove",
                                      add ? "Move free MERIT of the coldkey into stake on a hotkey"
                                          : "Move stake on a hotkey back to the coldkey's free balance");
    cmd->add_option("--amount", *text2, "Amount in MERIT, e.g. 10 or 0.25")->required();
    addWalletOpt(cmd, *o);
    auto* hk = cmd->add_option("-k,--hotkey", o->hotkey, "Hotkey name in the wallet")->capture_default_str();
    auto* ha = cmd->add_option("--hotkey-address", o->hotkeyAddress,
                               "Hotkey SS58 address (e.g. someone else's validator)");
    hk->excludes(ha);
    cmd->add_option("--netuid", *netuid,
                    "subtensor with per-subnet stake: the subnet to stake on (default 1)");
    addPasswordOpt(cmd, *o);
    addSubmitOpts(cmd, *o);
    cmd->callback(
        [&exitCode, &chain, o, text2, add, netuid] { exitCode = runStake(chain, *o, *text2, add, *netuid); });
  }
  auto* stakeShow =
      stake->add_subcommand("show", "Stake of a coldkey on each hotkey (default: the wallet's)");
  stakeShow->add_option("ADDRESS", *text, "Coldkey SS58 address");
  addWalletOpt(stakeShow, *o);
  addJsonOpt(stakeShow, *o);
  stakeShow->callback([&exitCode, &chain, o, text] { exitCode = runStakeShow(chain, *o, *text); });

  auto* root = app.add_subcommand(
      "root", "The root network: its validators' weights decide each subnet's emission share");
  root->require_subcommand(1);
  auto* rootReg =
      root->add_subcommand("register", "Register a hotkey as a root validator (the top 64 by stake)");
  addWalletOpt(rootReg, *o);
  addHotkeyOpt(rootReg, *o);
  addPasswordOpt(rootReg, *o);
  addSubmitOpts(rootReg, *o);
  rootReg->callback([&exitCode, &chain, o] { exitCode = runRegister(chain, *o, 0, true); });
  auto* rootWeights =
      root->add_subcommand("weights",
                           "Set a root validator's weights on subnets (signed by its hotkey; on "
                           "subtensor runtimes with set_root_weights, by its coldkey)");
  rootWeights->add_option("--netuids", *text, "Subnets, e.g. 1,2")->required();
  rootWeights->add_option("--values", *text2, "Relative weights, e.g. 1,1 (scaled so the largest is 65535)")
      ->required();
  rootWeights->add_option("--version-key", *versionKey, "Weights version key")->capture_default_str();
  addWalletOpt(rootWeights, *o);
  addHotkeyOpt(rootWeights, *o);
  addPasswordOpt(rootWeights, *o);
  addSubmitOpts(rootWeights, *o);
  rootWeights->callback([&exitCode, &chain, o, text, text2, versionKey] {
    exitCode = runRootWeights(chain, *o, *text, *text2, *versionKey);
  });
}

}  // namespace merit::cli
