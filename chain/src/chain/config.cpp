#include "merit/chain/config.h"

#include <set>

#include "merit/config/yaml_reader.h"
#include "merit/crypto/ss58.h"

namespace merit::chain {

namespace {

constexpr std::size_t kMaxConfigBytes = 4 * 1024 * 1024;

using config::bad;
using config::boolean;
using config::checkKeys;
using config::join;

// An unsigned integer of at most `max` (the config's values have no lower bound but 0, except
// where checked by name below).
std::uint64_t u64(const YAML::Node& n, const std::string& path, std::uint64_t max = UINT64_MAX) {
  return config::integer(n, path, 0, max);
}

AccountId address(const YAML::Node& n, const std::string& path) {
  auto id = crypto::ss58Decode(config::scalar(n, path));
  if (!id) bad(path, id.error().message());
  return *id;
}

// Reads the hyperparameter names of SubnetParams ("tempo: 20", ...).
std::vector<std::pair<Hyper, std::uint64_t>> hyperparameters(const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) bad(path, "must be a mapping of hyperparameter names to values");
  std::vector<std::pair<Hyper, std::uint64_t>> out;
  for (const auto& kv : n) {
    auto name = kv.first.as<std::string>();
    auto h = tx::parseHyper(name);
    if (!h) bad(join(path, name), "unknown hyperparameter");
    auto range = hyperRange(*h);
    auto v = u64(kv.second, join(path, name));
    if (v < range.min || v > range.max) {
      bad(join(path, name),
          "must be in [" + std::to_string(range.min) + ", " + std::to_string(range.max) + "]");
    }
    out.emplace_back(*h, v);
  }
  return out;
}

void apply(const YAML::Node& root, ChainConfig& c) {
  if (root.IsNull()) return;
  checkKeys(root, "", {"node", "authority", "economics", "root", "subnet_defaults", "genesis", "log_level"});
  if (auto n = root["log_level"]) c.logLevel = config::scalar(n, "log_level");
  if (auto node = root["node"]) {
    checkKeys(node, "node",
              {"data_dir", "block_time_ms", "rpc_host", "rpc_port", "feed_endpoint", "max_block_extrinsics",
               "mempool_capacity", "mempool_bytes", "mempool_per_account", "mempool_future_per_account",
               "mempool_longevity", "max_future_nonce_gap", "epoch_history", "max_block_bytes", "durability",
               "durability_group_ms"});
    if (auto n = node["data_dir"]) c.node.dataDir = config::scalar(n, "node.data_dir");
    if (auto n = node["block_time_ms"]) {
      auto v = u64(n, "node.block_time_ms", 3'600'000);
      if (v < 10) bad("node.block_time_ms", "must be at least 10");
      c.node.blockTime = std::chrono::milliseconds(v);
    }
    if (auto n = node["rpc_host"]) c.rpcHost = config::scalar(n, "node.rpc_host");
    if (auto n = node["rpc_port"]) c.rpcPort = static_cast<int>(u64(n, "node.rpc_port", 65535));
    if (auto n = node["feed_endpoint"]) c.feedEndpoint = config::scalar(n, "node.feed_endpoint");
    if (auto n = node["max_block_extrinsics"])
      c.node.maxBlockExtrinsics = u64(n, "node.max_block_extrinsics", 100'000);
    if (auto n = node["max_block_bytes"]) {
      c.node.maxBlockBytes = u64(n, "node.max_block_bytes", std::uint64_t{1} << 30);
      if (c.node.maxBlockBytes < tx::kMaxExtrinsicBytes) {
        bad("node.max_block_bytes",
            "must be at least " + std::to_string(tx::kMaxExtrinsicBytes) + " (one extrinsic)");
      }
    }
    if (auto n = node["durability"]) {
      auto d = parseDurability(config::scalar(n, "node.durability"));
      if (!d) bad("node.durability", "must be sync, group or none");
      c.node.store.durability = *d;
    }
    if (auto n = node["durability_group_ms"]) {
      auto v = u64(n, "node.durability_group_ms", 60'000);
      if (v < 1) bad("node.durability_group_ms", "must be at least 1");
      c.node.store.groupInterval = std::chrono::milliseconds(v);
    }
    if (auto n = node["mempool_capacity"])
      c.node.mempoolCapacity = u64(n, "node.mempool_capacity", 10'000'000);
    if (auto n = node["mempool_per_account"])
      c.node.mempoolPerAccount = u64(n, "node.mempool_per_account", 100'000);
    if (auto n = node["mempool_bytes"]) {
      c.node.mempoolBytes = u64(n, "node.mempool_bytes", std::uint64_t{16} << 30);
      if (c.node.mempoolBytes < tx::kMaxExtrinsicBytes) {
        bad("node.mempool_bytes",
            "must be at least " + std::to_string(tx::kMaxExtrinsicBytes) + " (one extrinsic)");
      }
    }
    if (auto n = node["mempool_future_per_account"]) {
      c.node.mempoolFuturePerAccount = u64(n, "node.mempool_future_per_account", 100'000);
    }
    if (auto n = node["mempool_longevity"]) {
      c.node.mempoolLongevity = u64(n, "node.mempool_longevity", 1'000'000);
      if (c.node.mempoolLongevity == 0) bad("node.mempool_longevity", "must be at least 1");
    }
    if (auto n = node["max_future_nonce_gap"])
      c.node.maxFutureNonceGap = u64(n, "node.max_future_nonce_gap", 100'000);
    if (auto n = node["epoch_history"]) c.node.epochHistory = u64(n, "node.epoch_history", 100'000);
  }
  if (auto a = root["authority"]) {
    checkKeys(a, "authority", {"key_file"});
    if (auto n = a["key_file"]) c.authorityKeyFile = config::scalar(n, "authority.key_file");
  }
  auto& r = c.node.runtime;
  if (auto e = root["economics"]) {
    checkKeys(e, "economics",
              {"block_emission", "subnet_owner_cut", "subnet_lock_cost", "subnet_limit", "initial_burn",
               "max_registrations_per_block", "allow_loopback_axons", "extrinsic_fee"});
    if (auto n = e["block_emission"]) r.blockEmission = u64(n, "economics.block_emission", kMaxBlockEmission);
    if (auto n = e["subnet_owner_cut"])
      r.subnetOwnerCut = static_cast<std::uint16_t>(u64(n, "economics.subnet_owner_cut", 65535));
    if (auto n = e["subnet_lock_cost"]) r.subnetLockCost = u64(n, "economics.subnet_lock_cost");
    if (auto n = e["subnet_limit"])
      r.subnetLimit = static_cast<std::uint16_t>(u64(n, "economics.subnet_limit", 1024));
    if (auto n = e["initial_burn"]) r.initialBurn = u64(n, "economics.initial_burn");
    if (auto n = e["max_registrations_per_block"]) {
      r.maxRegistrationsPerBlock =
          static_cast<std::uint32_t>(u64(n, "economics.max_registrations_per_block", 4096));
    }
    if (auto n = e["allow_loopback_axons"])
      r.allowLoopbackAxons = boolean(n, "economics.allow_loopback_axons");
    if (auto n = e["extrinsic_fee"]) r.extrinsicFee = u64(n, "economics.extrinsic_fee");
  }
  if (auto ro = root["root"]) {
    checkKeys(ro, "root", {"tempo", "kappa", "rho", "max_validators", "weights_rate_limit"});
    if (auto n = ro["tempo"]) {
      r.rootTempo = static_cast<std::uint16_t>(u64(n, "root.tempo", 50'400));
      if (r.rootTempo == 0) bad("root.tempo", "must be at least 1");
    }
    if (auto n = ro["kappa"]) r.rootKappa = static_cast<std::uint16_t>(u64(n, "root.kappa", 65535));
    if (auto n = ro["rho"]) r.rootRho = static_cast<std::uint16_t>(u64(n, "root.rho", 65535));
    if (auto n = ro["max_validators"]) {
      r.maxRootValidators = static_cast<std::uint16_t>(u64(n, "root.max_validators", 4096));
      if (r.maxRootValidators == 0) bad("root.max_validators", "must be at least 1");
    }
    if (auto n = ro["weights_rate_limit"]) r.rootWeightsRateLimit = u64(n, "root.weights_rate_limit");
  }
  if (auto d = root["subnet_defaults"]) {
    for (auto [h, v] : hyperparameters(d, "subnet_defaults")) r.defaultParams.set(h, v);
  }
  if (auto g = root["genesis"]) {
    checkKeys(g, "genesis", {"balances", "subnets"});
    if (auto b = g["balances"]) {
      if (!b.IsSequence()) bad("genesis.balances", "must be a list of {address, amount}");
      for (std::size_t i = 0; i < b.size(); ++i) {
        std::string p = "genesis.balances[" + std::to_string(i) + "]";
        checkKeys(b[i], p, {"address", "amount"});
        if (!b[i]["address"]) bad(p + ".address", "missing");
        if (!b[i]["amount"]) bad(p + ".amount", "missing");
        c.node.genesis.balances.emplace_back(address(b[i]["address"], p + ".address"),
                                             u64(b[i]["amount"], p + ".amount"));
      }
      // Refused here, naming the entry, rather than by a block that can no longer be produced.
      if (auto problem = genesisTotalProblem(c.node.genesis)) {
        bad("genesis.balances[" + std::to_string(problem->first) + "].amount", problem->second);
      }
    }
    if (auto s = g["subnets"]) {
      if (!s.IsSequence()) bad("genesis.subnets", "must be a list");
      for (std::size_t i = 0; i < s.size(); ++i) {
        std::string p = "genesis.subnets[" + std::to_string(i) + "]";
        checkKeys(s[i], p, {"owner", "plugin", "plugin_version", "hyperparameters"});
        Runtime::GenesisSubnet sn;
        if (!s[i]["owner"]) bad(p + ".owner", "missing");
        if (!s[i]["plugin"]) bad(p + ".plugin", "missing");
        sn.owner = address(s[i]["owner"], p + ".owner");
        sn.plugin = config::scalar(s[i]["plugin"], p + ".plugin");
        if (auto v = s[i]["plugin_version"])
          sn.pluginVersion = static_cast<std::uint32_t>(u64(v, p + ".plugin_version", UINT32_MAX));
        if (auto h = s[i]["hyperparameters"]) sn.overrides = hyperparameters(h, p + ".hyperparameters");
        c.node.genesis.subnets.push_back(std::move(sn));
      }
    }
  }
}

}  // namespace

ChainConfig devPreset() {
  ChainConfig c;
  c.node.blockTime = std::chrono::milliseconds(500);
  c.node.dev = true;
  auto& r = c.node.runtime;
  // No fees: dev keys (miners' and validators' hotkeys included) start with no balance, tests
  // count balances to the rao, and nothing on a dev chain has value to protect. The mempool's
  // caps, eviction and expiry still apply.
  r.extrinsicFee = 0;
  r.subnetLockCost = 10 * tx::kRaoPerMerit;
  r.initialBurn = tx::kRaoPerMerit / 10;
  r.maxRegistrationsPerBlock = 16;
  r.rootTempo = 10;
  r.rootWeightsRateLimit = 2;
  r.allowLoopbackAxons = true;
  r.defaultParams.set(Hyper::kTempo, 20);
  r.defaultParams.set(Hyper::kWeightsRateLimit, 5);
  r.defaultParams.set(Hyper::kImmunityPeriod, 100);
  r.defaultParams.set(Hyper::kActivityCutoff, 200);
  r.defaultParams.set(Hyper::kServingRateLimit, 2);
  r.defaultParams.set(Hyper::kTargetRegistrationsPerInterval, 64);
  r.defaultParams.set(Hyper::kMinBurn, tx::kRaoPerMerit / 1000);
  return c;
}

std::optional<std::pair<std::size_t, std::string>> genesisTotalProblem(const GenesisSpec& genesis) {
  Balance total = 0;
  for (std::size_t i = 0; i < genesis.balances.size(); ++i) {
    if (__builtin_add_overflow(total, genesis.balances[i].second, &total) || total > kMaxGenesisTotal) {
      return std::make_pair(i, "the genesis balances add up to more than " +
                                   std::to_string(kMaxGenesisTotal) +
                                   " rao (2^62) here; larger totals could overflow stake and issuance later");
    }
  }
  return std::nullopt;
}

crypto::PrivateKey devAuthorityKey() {
  return crypto::PrivateKey::fromBytes(crypto::blake2b256(asBytes("meritnet/dev/authority"))).value();
}

Result<ChainConfig> parseChainConfig(const std::string& yaml, const std::string& name, ChainConfig base) {
  MERIT_TRY(config::parseYaml(yaml, name, [&base](const YAML::Node& root) { apply(root, base); }));
  return base;
}

Result<ChainConfig> loadChainConfig(const std::string& path, ChainConfig base) {
  MERIT_TRY(
      config::parseYamlFile(path, kMaxConfigBytes, [&base](const YAML::Node& root) { apply(root, base); }));
  return base;
}

}  // namespace merit::chain
