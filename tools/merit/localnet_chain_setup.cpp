#include "localnet_chain_setup.h"

#include <cstdio>
#include <optional>
#include <vector>

#include "merit/consensus/math.h"
#include "merit/crypto/hash.h"
#include "merit/crypto/ss58.h"
#include "merit/crypto/wallet.h"
#include "merit/util/bytes.h"

#include "localnet_signals.h"

namespace merit::cli::localnet {

namespace fs = std::filesystem;

namespace {

// A key derived from a public string: deterministic, and therefore for development only. An
// ecdsa key's secret is the seed's hash (the next seed when that is not a valid scalar); an
// sr25519 key's mini secret is the hash (with the scheme in the seed, so the two never share it).
crypto::AnyPrivateKey devKey(const std::string& what, crypto::KeyScheme scheme) {
  if (scheme == crypto::KeyScheme::kSr25519) {
    std::string seed = "meritnet/localnet/dev-only/sr25519/" + what;
    return crypto::AnyPrivateKey(
        crypto::sr25519::Keypair::fromMiniSecret(crypto::blake2b256(asBytes(seed))).value());
  }
  for (int i = 0;; ++i) {
    std::string seed = "meritnet/localnet/dev-only/" + what + (i == 0 ? "" : "/" + std::to_string(i));
    if (auto k = crypto::PrivateKey::fromBytes(crypto::blake2b256(asBytes(seed)))) {
      return crypto::AnyPrivateKey(std::move(*k));
    }
  }
}

// Submits and waits for inclusion; a failed or dropped call is an error naming `what`.
Result<rpc::Submission> submitOk(rpc::ChainClient& client, crypto::SignerRef key, tx::Call call,
                                 const std::string& what) {
  if (stopRequested()) return fail(ErrorCode::kUnavailable, "interrupted");
  auto s = client.submit(key, std::move(call), std::chrono::milliseconds(60'000));
  if (!s) return fail(s.error().withContext(what));
  if (s->rejected)
    return fail(ErrorCode::kInvalidArgument, what + ": rejected by the chain: " + s->errorText());
  if (!s->included) return fail(ErrorCode::kDeadlineExceeded, what + ": not included within 60 s");
  if (!s->success) return fail(ErrorCode::kInternal, what + ": " + s->errorText());
  return s;
}

}  // namespace

Result<crypto::AnyPrivateKey> makeWallets(const Config& config, const Binaries& bins, const fs::path& dataDir,
                                          State& state) {
  crypto::Wallet wallet(dataDir / "home", kDevWallet);
  crypto::AnyPrivateKey coldkey = devKey("coldkey", config.ownerScheme);
  crypto::SecretBytes password{std::string_view(kDevPassword)};
  MERIT_TRY(wallet.writeColdkey(coldkey, password, crypto::KdfParams::interactive(), true));
  auto addHotkey = [&](const std::string& name, crypto::KeyScheme scheme) -> Result<std::string> {
    auto key = devKey("hotkey/" + name, scheme);
    std::string address = key.publicKey().ss58Address();
    MERIT_TRY(wallet.writeHotkey(name, key, true));
    return address;
  };
  MERIT_ASSIGN_OR_RETURN(std::string root, addHotkey("root", config.ownerScheme));
  (void)root;
  for (const auto& s : config.subnets) {
    for (const auto& v : s.validators) {
      Member m;
      m.subnet = s.name;
      m.name = v.name;
      m.role = "validator";
      m.hotkeyName = hotkeyName(s.name, v.name);
      MERIT_ASSIGN_OR_RETURN(m.hotkey, addHotkey(m.hotkeyName, v.scheme));
      m.binary = bins.validator;
      m.log = dataDir / "logs" / (m.hotkeyName + ".log");
      state.members.push_back(std::move(m));
    }
    for (const auto& mi : s.miners) {
      Member m;
      m.subnet = s.name;
      m.name = mi.name;
      m.role = "miner";
      m.tier = mi.tier;
      m.hotkeyName = hotkeyName(s.name, mi.name);
      MERIT_ASSIGN_OR_RETURN(m.hotkey, addHotkey(m.hotkeyName, mi.scheme));
      m.binary = bins.miner;
      m.log = dataDir / "logs" / (m.hotkeyName + ".log");
      state.members.push_back(std::move(m));
    }
  }
  return coldkey;
}

Result<void> setupChain(rpc::ChainClient& c, crypto::SignerRef coldkey, const Config& config,
                        const std::map<std::string, std::uint32_t>& pluginVersions, const fs::path& dataDir,
                        State& state) {
  // Subnets, in config order; the chain picks the netuid.
  for (const auto& s : config.subnets) {
    auto out =
        submitOk(c, coldkey, tx::CreateSubnet{s.plugin, pluginVersions.at(s.plugin), s.hyperparameters},
                 "create subnet " + s.name);
    if (!out) return fail(out.error());
    MERIT_ASSIGN_OR_RETURN(std::vector<rpc::SubnetSummary> list, c.subnets());
    std::optional<std::uint16_t> netuid;
    const tx::AccountId owner = coldkey.publicKey().accountId();
    for (const auto& e : list) {
      std::uint16_t id = e.netuid;
      if (id == 0 || e.owner != owner) continue;
      bool taken = false;
      for (const auto& known : state.subnets) taken = taken || known.netuid == id;
      if (!taken) netuid = id;
    }
    if (!netuid)
      return fail(ErrorCode::kInternal, "subnet " + s.name + " created but not found in subnet_list");
    state.subnets.push_back(SubnetState{s.name, s.plugin, *netuid, 0, 0});
    std::printf("  subnet %-14s netuid %u (plugin %s)\n", s.name.c_str(), *netuid, s.plugin.c_str());
  }
  crypto::Wallet wallet(dataDir / "home", kDevWallet);
  auto netuidOf = [&](const std::string& subnet) {
    for (const auto& s : state.subnets) {
      if (s.name == subnet) return s.netuid;
    }
    return std::uint16_t{0};
  };
  // Validators first, so they hold the low uids; then miners.
  for (const char* role : {"validator", "miner"}) {
    for (auto& m : state.members) {
      if (m.role != role) continue;
      MERIT_ASSIGN_OR_RETURN(auto hot, wallet.hotkeyPublicAny(m.hotkeyName));
      MERIT_TRY(
          submitOk(c, coldkey, tx::BurnedRegister{netuidOf(m.subnet), hot}, "register " + m.hotkeyName));
    }
  }
  for (const auto& s : config.subnets) {
    for (const auto& v : s.validators) {
      MERIT_ASSIGN_OR_RETURN(auto hot, wallet.hotkeyPublicAny(hotkeyName(s.name, v.name)));
      MERIT_TRY(submitOk(c, coldkey, tx::AddStake{hot.accountId(), v.stake},
                         "stake " + hotkeyName(s.name, v.name)));
      for (auto& m : state.members) {
        if (m.hotkeyName == hotkeyName(s.name, v.name)) m.baseline = v.stake;
      }
    }
  }
  // The root network: one staked root validator whose weights give every subnet its share.
  MERIT_ASSIGN_OR_RETURN(auto rootKey, wallet.loadHotkeyAny("root"));
  MERIT_TRY(submitOk(c, coldkey, tx::RootRegister{rootKey.publicKey()}, "root register"));
  MERIT_TRY(
      submitOk(c, coldkey, tx::AddStake{rootKey.publicKey().accountId(), config.rootStake}, "root stake"));
  std::vector<std::uint16_t> netuids, values;
  for (std::size_t i = 0; i < config.subnets.size(); ++i) {
    if (config.subnets[i].rootWeight == 0) continue;
    netuids.push_back(state.subnets[i].netuid);
    values.push_back(config.subnets[i].rootWeight);
  }
  if (!netuids.empty()) {
    auto scaled = consensus::vecU16MaxUpscaleToU16(values);
    MERIT_TRY(submitOk(c, rootKey, tx::SetRootWeights{netuids, scaled, 0}, "root weights"));
  }
  return {};
}

}  // namespace merit::cli::localnet
