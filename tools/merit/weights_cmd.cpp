// `merit weights set|commit|reveal|show`. Weights are given as relative u16 values and max-upscaled
// on the client (the largest becomes 65535, as the chain stores them). Commit-reveal keeps what
// was committed (uids, values, salt, version key) in $MERIT_HOME/commits/<netuid>-<hotkey>.json
// until it is revealed: losing that file means the commit can never be revealed.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "merit/consensus/math.h"
#include "merit/consensus/weights.h"
#include "merit/crypto/hash.h"
#include "merit/crypto/ss58.h"
#include "merit/crypto/wallet.h"
#include "merit/util/file.h"

#include "chain_util.h"
#include "commands.h"

namespace merit::cli {

namespace {

using nlohmann::json;

constexpr std::size_t kSaltLen = 8;                      // u16 words of random salt per commit
constexpr std::size_t kMaxCommitFile = 4 * 1024 * 1024;  // commits files are small; refuse huge ones

struct WeightsInput {
  std::uint16_t netuid = 0;
  std::string uids;
  std::string values;
  std::string versionKey;  // empty: the subnet's weights_version_key
  bool wait = false;       // reveal: wait for the reveal epoch
};

struct PreparedWeights {
  std::vector<std::uint16_t> uids;
  std::vector<std::uint16_t> values;  // max-upscaled
  std::uint64_t versionKey = 0;
  std::uint64_t tempo = 0;
  std::uint64_t revealPeriod = 0;
};

// Parses and checks the lists, reads the subnet (its version key, tempo and reveal period) and
// max-upscales the values.
Result<PreparedWeights> prepare(rpc::Chain& client, const WeightsInput& in) {
  PreparedWeights p;
  MERIT_ASSIGN_OR_RETURN(p.uids, parseU16List(in.uids, "--uids"));
  MERIT_ASSIGN_OR_RETURN(auto values, parseU16List(in.values, "--values"));
  if (p.uids.size() != values.size()) {
    return fail(ErrorCode::kInvalidArgument, "--uids has " + std::to_string(p.uids.size()) +
                                                 " items but --values has " + std::to_string(values.size()));
  }
  std::uint64_t sum = 0;
  for (auto v : values) sum += v;
  if (sum == 0) return fail(ErrorCode::kInvalidArgument, "--values are all zero");
  p.values = consensus::vecU16MaxUpscaleToU16(values);
  MERIT_ASSIGN_OR_RETURN(rpc::SubnetInfo subnet, client.subnet(in.netuid));
  p.tempo = subnet.params.tempo;
  p.revealPeriod = subnet.params.revealPeriodEpochs;
  if (in.versionKey.empty()) {
    p.versionKey = subnet.params.weightsVersionKey;
  } else {
    MERIT_ASSIGN_OR_RETURN(p.versionKey, parseU64(in.versionKey, "--version-key"));
  }
  return p;
}

// The chain's epoch numbering (Runtime::epochIndex) and the first block of an epoch.
std::uint64_t epochIndex(std::uint64_t block, std::uint16_t netuid, std::uint64_t tempo) {
  return (block + netuid + 1) / (tempo + 1);
}
std::uint64_t epochStart(std::uint64_t epoch, std::uint16_t netuid, std::uint64_t tempo) {
  std::uint64_t b = epoch * (tempo + 1);
  return b > netuid + 1u ? b - netuid - 1 : 0;
}

std::filesystem::path commitsFile(std::uint16_t netuid, const std::string& hotkey) {
  return crypto::defaultMeritHome() / "commits" / (std::to_string(netuid) + "-" + hotkey + ".json");
}

Result<json> loadCommits(const std::filesystem::path& path, std::uint16_t netuid, const std::string& hotkey) {
  auto text = readFile(path, kMaxCommitFile);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) {
      return json{{"netuid", netuid}, {"hotkey", hotkey}, {"commits", json::array()}};
    }
    return fail(text.error());
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("commits") || !j["commits"].is_array()) {
    return fail(ErrorCode::kCorruption, path.string() + " is not a commits file");
  }
  return j;
}

Result<void> saveCommits(const std::filesystem::path& path, const json& j) {
  if (j["commits"].empty()) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return {};
  }
  MERIT_TRY(createDirectories(path.parent_path(), 0700));
  return writeFileAtomic(path, asBytes(j.dump(2) + "\n"), 0600);
}

// What setting or committing weights needs: the hotkey, a chain connection and the checked row.
struct WeightsSession {
  crypto::AnyPrivateKey key;
  std::unique_ptr<rpc::Chain> client;
  PreparedWeights prepared;
};

Result<WeightsSession> openWeightsSession(const ChainSettings& chain, const KeyOptions& o,
                                          const WeightsInput& in) {
  MERIT_ASSIGN_OR_RETURN(auto key, loadHotkeyOf(o));
  MERIT_ASSIGN_OR_RETURN(auto client, connectChain(chain));
  MERIT_ASSIGN_OR_RETURN(auto prepared, prepare(*client, in));
  return WeightsSession{std::move(key), std::move(client), std::move(prepared)};
}

int runSet(const ChainSettings& chain, const KeyOptions& o, const WeightsInput& in) {
  auto session = openWeightsSession(chain, o, in);
  if (!session) return report(session.error());
  auto& [key, client, prepared] = *session;
  auto out = submitCall(*client, key,
                        tx::SetWeights{in.netuid, prepared.uids, prepared.values, prepared.versionKey}, o);
  if (!out) return report(out.error());
  return printOutcome(*out, "weights of hotkey '" + o.hotkey + "' on subnet " + std::to_string(in.netuid),
                      o.json);
}

json u16Json(const std::vector<std::uint16_t>& v) {
  return json(v);
}

int runCommit(const ChainSettings& chain, const KeyOptions& o, const WeightsInput& in) {
  auto session = openWeightsSession(chain, o, in);
  if (!session) return report(session.error());
  auto& [key, client, prepared] = *session;

  std::vector<std::uint16_t> salt(kSaltLen);
  crypto::randomBytes(
      MutableByteView(reinterpret_cast<std::byte*>(salt.data()), salt.size() * sizeof(std::uint16_t)));
  crypto::Hash256 hotkeyId = key.publicKey().accountId();
  crypto::Hash256 hash = crypto::blake2b256(consensus::weightsCommitPreimage(
      hotkeyId, in.netuid, prepared.uids, prepared.values, salt, prepared.versionKey));
  std::string hotkey = key.publicKey().ss58Address();

  // Saved before submitting: if we stopped between inclusion and saving, the commit could never be
  // revealed. A commit the chain did not take is removed again below.
  auto path = commitsFile(in.netuid, hotkey);
  auto file = loadCommits(path, in.netuid, hotkey);
  if (!file) return report(file.error());
  json entry = {
      {"uids", u16Json(prepared.uids)},     {"values", u16Json(prepared.values)}, {"salt", u16Json(salt)},
      {"version_key", prepared.versionKey}, {"commit_hash", "0x" + toHex(hash)},  {"block", nullptr}};
  (*file)["commits"].push_back(entry);
  if (auto ok = saveCommits(path, *file); !ok) return report(ok.error());

  auto out = submitCall(*client, key, tx::CommitWeights{in.netuid, hash}, o);
  if (!out) return report(out.error());
  json& saved = (*file)["commits"].back();
  std::string extra;
  if (out->included && out->success) {
    std::uint64_t commitEpoch = epochIndex(out->block, in.netuid, prepared.tempo);
    std::uint64_t revealEpoch = commitEpoch + prepared.revealPeriod;
    std::uint64_t from = epochStart(revealEpoch, in.netuid, prepared.tempo);
    std::uint64_t until = epochStart(revealEpoch + 1, in.netuid, prepared.tempo) - 1;
    saved["block"] = out->block;
    saved["reveal_epoch"] = revealEpoch;
    saved["reveal_from_block"] = from;
    saved["reveal_until_block"] = until;
    for (const char* k : {"commit_hash", "reveal_from_block", "reveal_until_block"}) out->json[k] = saved[k];
    out->json["salt"] = saved["salt"];
    out->json["file"] = path.string();
    std::string saltText;
    for (auto s : salt) saltText += (saltText.empty() ? "" : ",") + std::to_string(s);
    extra = "\n  commit hash " + saved["commit_hash"].get<std::string>() + "\n  salt " + saltText +
            "\n  reveal in blocks " + std::to_string(from) + ".." + std::to_string(until) +
            " with: merit weights reveal --netuid " + std::to_string(in.netuid) + " -w " + o.wallet + " -k " +
            o.hotkey + "\n  saved in " + path.string();
  } else if (out->included || out->rejected) {
    (*file)["commits"].erase((*file)["commits"].size() - 1);
  }
  if (auto ok = saveCommits(path, *file); !ok) return report(ok.error());
  return printOutcome(*out,
                      "weights commit of hotkey '" + o.hotkey + "' on subnet " + std::to_string(in.netuid),
                      o.json, extra);
}

int runReveal(const ChainSettings& chain, const KeyOptions& o, const WeightsInput& in) {
  auto key = loadHotkeyOf(o);
  if (!key) return report(key.error());
  std::string hotkey = key->publicKey().ss58Address();
  auto path = commitsFile(in.netuid, hotkey);
  auto file = loadCommits(path, in.netuid, hotkey);
  if (!file) return report(file.error());
  json& commits = (*file)["commits"];
  if (commits.empty()) {
    return report(Error(ErrorCode::kNotFound, "no saved commit for hotkey '" + o.hotkey + "' on subnet " +
                                                  std::to_string(in.netuid) + " (looked in " + path.string() +
                                                  ")"));
  }
  auto client = connectChain(chain);
  if (!client) return report(client.error());
  auto head = (*client)->headNumber();
  if (!head) return report(head.error());

  // Reveal the oldest included commit that is not past its reveal epoch (the next block's epoch);
  // when all are, the newest, and the chain says why.
  std::size_t pick = commits.size();
  std::uint64_t nextEpoch = 0;
  auto subnet = (*client)->subnet(in.netuid);
  if (!subnet) return report(subnet.error());
  std::uint64_t tempo = subnet->params.tempo;
  nextEpoch = epochIndex(*head + 1, in.netuid, tempo);
  for (std::size_t i = 0; i < commits.size(); ++i) {
    if (commits[i]["block"].is_null()) continue;
    if (field<std::uint64_t>(commits[i], "reveal_epoch") >= nextEpoch) {
      pick = i;
      break;
    }
  }
  if (pick == commits.size()) pick = commits.size() - 1;
  json entry = commits[pick];
  if (in.wait && entry.contains("reveal_from_block")) {
    std::uint64_t from = field<std::uint64_t>(entry, "reveal_from_block");
    if (from > *head + 1) {
      if (!o.json)
        std::printf("waiting for block %s (now at %s)\n", std::to_string(from - 1).c_str(),
                    std::to_string(*head).c_str());
      while (*head + 1 < from) {
        // The chain refuses waits for blocks far ahead of its head: wait in steps.
        if (auto* merit = dynamic_cast<rpc::ChainClient*>(client->get())) {
          auto h = rpc_json::call(*merit, "chain_waitForBlock",
                                  json::array({std::min(from - 1, *head + 64), 60'000}),
                                  std::chrono::milliseconds(60'000));
          if (!h) return report(h.error());
          *head = field<std::uint64_t>(*h, "number");
        } else {
          // No long poll on a Substrate node: look at the head once a second.
          std::this_thread::sleep_for(std::chrono::seconds(1));
          auto h = (*client)->headNumber();
          if (!h) return report(h.error());
          *head = *h;
        }
      }
    }
  }
  auto uids = entry.at("uids").get<std::vector<std::uint16_t>>();
  auto values = entry.at("values").get<std::vector<std::uint16_t>>();
  auto salt = entry.at("salt").get<std::vector<std::uint16_t>>();
  auto versionKey = field<std::uint64_t>(entry, "version_key");
  auto out = submitCall(**client, *key, tx::RevealWeights{in.netuid, uids, values, salt, versionKey}, o);
  if (!out) return report(out.error());
  if (out->included && out->success) {
    // The chain drops the revealed commit and every earlier one.
    commits.erase(commits.begin(), commits.begin() + static_cast<std::ptrdiff_t>(pick) + 1);
    if (auto ok = saveCommits(path, *file); !ok) return report(ok.error());
    out->json["commit_hash"] = entry["commit_hash"];
  }
  return printOutcome(
      *out, "weights reveal of hotkey '" + o.hotkey + "' on subnet " + std::to_string(in.netuid), o.json);
}

int runShow(const ChainSettings& chain, const KeyOptions& o, std::uint16_t netuid) {
  auto connected = connectChain(chain);
  if (!connected) return report(connected.error());
  auto client = meritOnly(
      **connected, "weights show (on subtensor: `merit chain storage SubtensorModule.Weights NETUID UID`)");
  if (!client) return report(client.error());
  auto mg = rpc_json::call(**client, "metagraph_get", json::array({netuid, true, false}));
  if (!mg) return report(mg.error());
  const json& h = mg->at("hyperparameters");
  std::uint64_t limit = field<std::uint64_t>(h, "weights_rate_limit");
  std::uint64_t block = field<std::uint64_t>(*mg, "block");
  json out = {{"netuid", netuid},
              {"block", block},
              {"weights_rate_limit", limit},
              {"commit_reveal", field<std::uint64_t>(h, "commit_reveal") != 0},
              {"weights_version_key", field<std::uint64_t>(h, "weights_version_key")},
              {"neurons", json::array()}};
  for (const auto& n : mg->at("neurons")) {
    std::uint64_t last = field<std::uint64_t>(n, "last_update");
    out["neurons"].push_back({{"uid", n.at("uid")},
                              {"hotkey", n.at("hotkey")},
                              {"validator_permit", n.at("validator_permit")},
                              {"last_update", last},
                              {"next_allowed_block", last + limit},
                              {"weights", n.at("weights")}});
  }
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("weights on subnet %u at block %s (rate limit %s blocks%s)\n", netuid,
              std::to_string(block).c_str(), std::to_string(limit).c_str(),
              out["commit_reveal"].get<bool>() ? ", commit-reveal on" : "");
  bool any = false;
  for (const auto& n : out["neurons"]) {
    if (n["weights"].empty()) continue;
    any = true;
    std::uint64_t next = n["next_allowed_block"].get<std::uint64_t>();
    std::printf("  uid %s %s  last update %s, next allowed %s\n",
                std::to_string(n["uid"].get<std::uint64_t>()).c_str(),
                shortAddress(n["hotkey"].get<std::string>()).c_str(),
                std::to_string(n["last_update"].get<std::uint64_t>()).c_str(),
                next <= block + 1 ? "now" : ("at block " + std::to_string(next)).c_str());
    std::string row;
    for (const auto& e : n["weights"]) {
      row += "  " + std::to_string(e[0].get<std::uint64_t>()) + ":" +
             formatProportion(e[1].get<std::uint64_t>());
    }
    std::printf("   %s\n", row.c_str());
  }
  if (!any) std::printf("  (no weights set)\n");
  return kExitOk;
}

}  // namespace

void addWeightsCommands(CLI::App& app, int& exitCode, const ChainSettings& chain) {
  auto o = std::make_shared<KeyOptions>();
  auto in = std::make_shared<WeightsInput>();

  auto* weights = app.add_subcommand("weights", "Set, commit, reveal and inspect a validator's weights");
  weights->require_subcommand(1);

  auto addInput = [in](CLI::App* cmd) {
    cmd->add_option("--uids", in->uids, "Uids to weight, e.g. 0,1,2")->required();
    cmd->add_option("--values", in->values,
                    "Relative weights, e.g. 10,20,30 (scaled so the largest is 65535)")
        ->required();
    cmd->add_option("--version-key", in->versionKey,
                    "Weights version key (default: the subnet's weights_version_key)");
  };

  auto* set =
      weights->add_subcommand("set", "Set weights now (signed by the hotkey; needs a validator permit)");
  set->add_option("--netuid", in->netuid, "Subnet")->required();
  addInput(set);
  addWalletOpt(set, *o);
  addHotkeyOpt(set, *o);
  addSubmitOpts(set, *o);
  set->callback([&exitCode, &chain, o, in] { exitCode = runSet(chain, *o, *in); });

  auto* commit = weights->add_subcommand(
      "commit", "Commit a hash of weights now, to reveal a tempo later (commit-reveal subnets)");
  commit->add_option("--netuid", in->netuid, "Subnet")->required();
  addInput(commit);
  addWalletOpt(commit, *o);
  addHotkeyOpt(commit, *o);
  addSubmitOpts(commit, *o);
  commit->callback([&exitCode, &chain, o, in] { exitCode = runCommit(chain, *o, *in); });

  auto* reveal = weights->add_subcommand("reveal", "Reveal weights committed with `merit weights commit`");
  reveal->add_option("--netuid", in->netuid, "Subnet")->required();
  reveal->add_flag("--wait", in->wait, "Wait for the commit's reveal epoch instead of submitting early");
  addWalletOpt(reveal, *o);
  addHotkeyOpt(reveal, *o);
  addSubmitOpts(reveal, *o);
  reveal->callback([&exitCode, &chain, o, in] { exitCode = runReveal(chain, *o, *in); });

  auto* show =
      weights->add_subcommand("show", "Each uid's weights, last update and when it may set weights again");
  show->add_option("--netuid", in->netuid, "Subnet")->required();
  addJsonOpt(show, *o);
  show->callback([&exitCode, &chain, o, in] { exitCode = runShow(chain, *o, in->netuid); });
}

}  // namespace merit::cli
