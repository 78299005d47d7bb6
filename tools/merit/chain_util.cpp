#include "chain_util.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <variant>

#include <CLI/CLI.hpp>

#include "merit/crypto/ss58.h"
#include "merit/crypto/wallet.h"

#include "commands.h"

namespace merit::cli {

using nlohmann::json;

void addWalletOpt(CLI::App* cmd, KeyOptions& o) {
  cmd->add_option("-w,--wallet", o.wallet, "Wallet name (its coldkey)")->capture_default_str();
}
void addHotkeyOpt(CLI::App* cmd, KeyOptions& o) {
  cmd->add_option("-k,--hotkey", o.hotkey, "Hotkey name in the wallet")->capture_default_str();
}
void addPasswordOpt(CLI::App* cmd, KeyOptions& o) {
  cmd->add_option(
      "--password-file", o.password.passwordFile,
      "Read the coldkey password from the first line of FILE (else MERIT_PASSWORD, else a prompt)");
}
void addJsonOpt(CLI::App* cmd, KeyOptions& o) {
  cmd->add_flag("--json", o.json, "Print JSON");
}
void addSubmitOpts(CLI::App* cmd, KeyOptions& o) {
  addJsonOpt(cmd, o);
  cmd->add_option("--wait-ms", o.waitMs, "Wait this long for inclusion (0 = submit and print the hash)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{120'000}));
}

Result<std::unique_ptr<rpc::Chain>> connectChain(const ChainSettings& chain) {
  MERIT_ASSIGN_OR_RETURN(rpc::ChainEndpoint endpoint, rpc::makeEndpoint(chain.backend, chain.url));
  rpc::ClientOptions options;
  options.retries = 1;  // a person is waiting: fail fast when the node is not there
  auto client = rpc::connectChain(endpoint, options);
  if (!client) {
    const Error& e = client.error();
    // Keep the client's message (it names the URL) but make a usage-looking code an unavailable one:
    // an unreachable node is not a bad argument.
    if (e.code() == ErrorCode::kInvalidArgument && e.message().find(endpoint.url) == std::string::npos) {
      return fail(ErrorCode::kUnavailable, endpoint.url + ": " + e.message());
    }
    return fail(e);
  }
  return client;
}

Result<rpc::ChainClient*> meritOnly(rpc::Chain& chain, std::string_view what) {
  if (auto* c = dynamic_cast<rpc::ChainClient*>(&chain)) return c;
  return fail(ErrorCode::kInvalidArgument,
              std::string(what) + " is a merit-chain command; on a " +
                  std::string(rpc::chainKindName(chain.kind())) +
                  " chain use the metadata-driven `merit chain metadata|call|storage` (docs/SUBTENSOR.md)");
}

Result<std::uint64_t> parseU64(std::string_view text, std::string_view what) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    return fail(ErrorCode::kInvalidArgument,
                std::string(what) + ": '" + std::string(text) + "' is not a non-negative integer");
  }
  return v;
}

Result<std::vector<std::uint16_t>> parseU16List(std::string_view text, std::string_view what) {
  std::vector<std::uint16_t> out;
  if (text.empty()) return fail(ErrorCode::kInvalidArgument, std::string(what) + ": empty list");
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    std::string_view item =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    MERIT_ASSIGN_OR_RETURN(std::uint64_t v, parseU64(item, what));
    if (v > 65535)
      return fail(ErrorCode::kInvalidArgument,
                  std::string(what) + ": " + std::to_string(v) + " exceeds 65535");
    out.push_back(static_cast<std::uint16_t>(v));
    if (out.size() > tx::kMaxWeightsLen) {
      return fail(ErrorCode::kInvalidArgument,
                  std::string(what) + ": more than " + std::to_string(tx::kMaxWeightsLen) + " items");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<tx::AccountId> parseAddress(std::string_view text, std::string_view what) {
  auto id = crypto::ss58Decode(text);
  if (!id) {
    return fail(ErrorCode::kInvalidArgument, std::string(what) + ": '" + std::string(text) +
                                                 "' is not a valid address (" + id.error().message() + ")");
  }
  return *id;
}

json accountJson(const rpc::AccountInfo& a) {
  json j = {{"address", crypto::ss58Encode(a.address)}, {"free", a.free}, {"nonce", a.nonce}};
  if (a.staked) j["staked"] = *a.staked;
  if (a.stakes) {
    j["stakes"] = json::array();
    for (const auto& s : *a.stakes)
      j["stakes"].push_back({{"hotkey", crypto::ss58Encode(s.hotkey)}, {"amount", s.amount}});
  }
  if (a.hotkeyStake) j["hotkey_stake"] = *a.hotkeyStake;
  if (a.reserved) j["reserved"] = *a.reserved;
  return j;
}

json summaryJson(const rpc::SubnetSummary& s) {
  json j = {{"netuid", s.netuid},
            {"owner", s.owner ? json(crypto::ss58Encode(*s.owner)) : json(nullptr)},
            {"max_uids", s.maxUids},
            {"tempo", s.tempo},
            {"blocks_until_next_epoch", s.blocksUntilNextEpoch}};
  if (s.plugin) j["plugin"] = *s.plugin;
  if (s.pluginVersion) j["plugin_version"] = *s.pluginVersion;
  if (s.n) j["n"] = *s.n;
  if (s.emissionPerBlock) j["emission_per_block"] = *s.emissionPerBlock;
  if (s.burn) j["burn"] = *s.burn;
  return j;
}

json subnetJson(const rpc::SubnetInfo& s) {
  json j = summaryJson(s);
  json hyper = json::object();
  s.params.forEach([&](std::string_view name, std::uint64_t value) {
    if (std::find(s.reportedParams.begin(), s.reportedParams.end(), name) != s.reportedParams.end())
      hyper[std::string(name)] = value;
  });
  j["hyperparameters"] = std::move(hyper);
  if (s.pendingEmission) j["pending_emission"] = *s.pendingEmission;
  if (s.locked) j["locked"] = *s.locked;
  if (s.lastEpochBlock) j["last_epoch_block"] = *s.lastEpochBlock;
  if (s.createdBlock) j["created_block"] = *s.createdBlock;
  if (s.registrationsThisInterval) j["registrations_this_interval"] = *s.registrationsThisInterval;
  return j;
}

json factJson(const rpc::ChainFact& fact) {
  return std::visit([](const auto& v) { return json(v); }, fact.value);
}

std::string shortAddress(const std::string& address) {
  return address.size() <= 10 ? address : address.substr(0, 8) + "..";
}

namespace {

Result<crypto::Wallet> walletOf(const KeyOptions& o) {
  MERIT_TRY(crypto::validateKeyName("wallet", o.wallet));
  return crypto::Wallet(crypto::defaultMeritHome(), o.wallet);
}

}  // namespace

Result<crypto::AnyPublicKey> coldkeyPublicOf(const KeyOptions& o) {
  MERIT_ASSIGN_OR_RETURN(auto wallet, walletOf(o));
  return wallet.coldkeyPublicAny();
}

Result<crypto::AnyPrivateKey> unlockColdkeyOf(const KeyOptions& o) {
  MERIT_ASSIGN_OR_RETURN(auto wallet, walletOf(o));
  if (!wallet.hasColdkey()) {
    return fail(ErrorCode::kNotFound, "wallet '" + o.wallet + "' has no coldkey at " +
                                          wallet.coldkeyPath().string() +
                                          " (create one with: merit wallet create -w " + o.wallet + ")");
  }
  MERIT_ASSIGN_OR_RETURN(auto password,
                         readPassword(o.password, "Password of the coldkey of '" + o.wallet + "': ", false));
  return wallet.unlockColdkeyAny(password);
}

Result<crypto::AnyPublicKey> hotkeyPublicOf(const KeyOptions& o) {
  MERIT_ASSIGN_OR_RETURN(auto wallet, walletOf(o));
  return wallet.hotkeyPublicAny(o.hotkey);
}

Result<crypto::AnyPrivateKey> loadHotkeyOf(const KeyOptions& o) {
  MERIT_ASSIGN_OR_RETURN(auto wallet, walletOf(o));
  return wallet.loadHotkeyAny(o.hotkey);
}

Result<SubmitOutcome> submitCall(rpc::Chain& client, crypto::SignerRef key, tx::Call call,
                                 const KeyOptions& o) {
  SubmitOutcome out;
  auto s = client.submit(key, std::move(call), std::chrono::milliseconds(o.waitMs));
  if (!s) return fail(s.error());  // we could not ask the chain
  if (s->rejected) {
    out.rejected = true;
    out.error = s->error;
    const std::string name = s->error ? std::string(s->error->name()) : std::string("Rejected");
    out.json = {
        {"hash", nullptr}, {"block", nullptr}, {"success", false}, {"error", name}, {"rejected", true}};
    if (s->error && !s->error->detail().empty()) out.json["detail"] = s->error->detail();
    out.exitCode = kExitFailure;
    return out;
  }
  out.hash = "0x" + toHex(s->hash);
  out.json = {{"hash", out.hash}, {"block", nullptr}, {"success", false}, {"error", nullptr}};
  if (o.waitMs == 0) {
    out.json["status"] = "submitted";
    out.exitCode = kExitOk;
    return out;
  }
  if (!s->included) {
    out.timedOut = true;
    out.detail = "not included within " + std::to_string(o.waitMs) + " ms; check later with the hash";
    out.json["error"] = "Timeout";
    out.json["detail"] = out.detail;
    out.exitCode = kExitError;
    return out;
  }
  out.included = true;
  out.block = s->block;
  out.success = s->success;
  out.error = s->error;
  out.json["block"] = s->block;
  out.json["success"] = s->success;
  if (!s->success && s->error) out.json["error"] = std::string(s->error->name());
  if (s->error && !s->error->detail().empty()) out.json["detail"] = s->error->detail();
  out.exitCode = s->success ? kExitOk : kExitFailure;
  return out;
}

int printOutcome(const SubmitOutcome& out, const std::string& what, bool asJson, const std::string& extra) {
  std::string why;
  if (out.error) {
    why = std::string(out.error->name());
    if (!out.error->detail().empty()) why += " (" + out.error->detail() + ")";
  }
  if (asJson) std::printf("%s\n", out.json.dump(2).c_str());
  if (out.included && out.success) {
    if (!asJson)
      std::printf("%s: included in block %llu%s\n", what.c_str(), static_cast<unsigned long long>(out.block),
                  extra.c_str());
  } else if (out.included) {
    std::fprintf(stderr, "error: %s: failed in block %llu: %s\n", what.c_str(),
                 static_cast<unsigned long long>(out.block), why.c_str());
  } else if (out.timedOut) {
    std::fprintf(stderr, "error: %s: %s %s\n", what.c_str(), out.hash.c_str(), out.detail.c_str());
  } else if (out.rejected) {
    std::fprintf(stderr, "error: %s: rejected by the chain: %s\n", what.c_str(), why.c_str());
  } else {
    if (!asJson) std::printf("%s: submitted %s\n", what.c_str(), out.hash.c_str());
  }
  return out.exitCode;
}

}  // namespace merit::cli
