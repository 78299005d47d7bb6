#include "localnet_config.h"

#include <set>

#include "merit/config/yaml_reader.h"
#include "merit/crypto/hash.h"
#include "merit/util/bytes.h"
#include "merit/util/file.h"

#include "amounts.h"

namespace merit::cli::localnet {

namespace {

constexpr std::size_t kMaxConfigBytes = 1 << 20;

using config::bad;
using config::checkKeys;
using config::integer;
using config::join;
using config::scalar;

// Keys of configs/miner.yaml and configs/validator.yaml a localnet entry may set under
// `settings`; the rest (keys, chain, netuid, plugin, addresses, state) belong to localnet.
const std::set<std::string> kMinerSettings = {"workers",        "max_batch_size",  "max_batch_wait_ms",
                                              "queue_capacity", "rate_per_second", "require_validator_permit",
                                              "min_stake",      "curve",           "log_level"};
const std::set<std::string> kValidatorSettings = {"sample_size",
                                                  "step_interval_ms",
                                                  "query_timeout_ms",
                                                  "auth_mode",
                                                  "ema_alpha",
                                                  "latency_weight",
                                                  "sharpen",
                                                  "weights_interval_blocks",
                                                  "validator_stake_limit",
                                                  "log_level"};

tx::Balance merit(const YAML::Node& node, const std::string& path) {
  std::string s = scalar(node, path);
  auto v = parseMerit(s);
  if (!v) bad(path, v.error().message() + " (MERIT)");
  return *v;
}

bool isLabel(const std::string& s, bool upperAndDash) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              (upperAndDash && ((c >= 'A' && c <= 'Z') || c == '-'));
    if (!ok) return false;
  }
  return true;
}

std::string label(const YAML::Node& node, const std::string& path, bool upperAndDash) {
  std::string s = scalar(node, path);
  if (!isLabel(s, upperAndDash)) {
    bad(path,
        "'" + s + "': 1 to 32 characters of " + (upperAndDash ? "A-Z, a-z, 0-9, _ and -" : "a-z, 0-9 and _"));
  }
  return s;
}

// A key scheme: sr25519 or ecdsa (absent: ecdsa).
crypto::KeyScheme scheme(const YAML::Node& node, const std::string& path) {
  if (!node) return crypto::KeyScheme::kEcdsa;
  auto s = crypto::parseScheme(scalar(node, path));
  if (!s) bad(path, s.error().message());
  return *s;
}

// A plugin_config section: a mapping (or absent), kept as YAML text for the daemon.
std::string section(const YAML::Node& node, const std::string& path) {
  if (!node) return "{}";
  if (node.IsNull()) return "{}";
  if (!node.IsMap()) bad(path, "must be a mapping");
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

std::map<std::string, std::string> settings(const YAML::Node& node, const std::string& path,
                                            const std::set<std::string>& allowed,
                                            const std::string& documentedIn) {
  std::map<std::string, std::string> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsMap()) bad(path, "must be a mapping");
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    if (!allowed.count(key)) {
      std::string all;
      for (const auto& a : allowed) {
        if (!all.empty()) all += ", ";
        all += a;
      }
      bad(join(path, key),
          "not a key localnet passes on (" + documentedIn + " keys allowed here: " + all + ")");
    }
    out[key] = scalar(kv.second, join(path, key));
  }
  return out;
}

ModelSpec model(const YAML::Node& node, const std::string& path) {
  checkKeys(node, path, {"trainer", "args"});
  ModelSpec m;
  if (!node["trainer"]) bad(join(path, "trainer"), "required (a merit-train command, e.g. fashion-mnist)");
  m.trainer = label(node["trainer"], join(path, "trainer"), true);
  if (const auto& args = node["args"]) {
    if (!args.IsSequence()) bad(join(path, "args"), "must be a list, e.g. [--epochs, \"0.2\"]");
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::string a = scalar(args[i], join(path, "args") + "[" + std::to_string(i) + "]");
      if (a == "--out") bad(join(path, "args"), "--out is chosen by localnet (the model cache)");
      m.args.push_back(a);
    }
  }
  return m;
}

SubnetSpec subnet(const YAML::Node& node, const std::string& path) {
  checkKeys(node, path, {"name", "plugin", "root_weight", "hyperparameters", "validators", "miners"});
  SubnetSpec s;
  if (!node["plugin"]) bad(join(path, "plugin"), "required (the subnet plugin's name, e.g. hash)");
  s.plugin = label(node["plugin"], join(path, "plugin"), false);
  s.name = node["name"] ? label(node["name"], join(path, "name"), false) : s.plugin;
  if (node["root_weight"])
    s.rootWeight =
        static_cast<std::uint16_t>(integer(node["root_weight"], join(path, "root_weight"), 0, 65535));
  if (const auto& h = node["hyperparameters"]) {
    std::string hp = join(path, "hyperparameters");
    if (!h.IsMap()) bad(hp, "must be a mapping, e.g. {tempo: 20}");
    for (const auto& kv : h) {
      std::string key = kv.first.as<std::string>();
      auto hyper = tx::parseHyper(key);
      if (!hyper) bad(join(hp, key), hyper.error().message());
      std::string text = scalar(kv.second, join(hp, key));
      std::uint64_t v = text == "true"    ? 1
                        : text == "false" ? 0
                                          : integer(kv.second, join(hp, key), 0, UINT64_MAX);
      s.hyperparameters.emplace_back(*hyper, v);
    }
  }
  std::set<std::string> names;
  const auto& vs = node["validators"];
  if (!vs || !vs.IsSequence() || vs.size() == 0)
    bad(join(path, "validators"), "a list of at least one validator");
  for (std::size_t i = 0; i < vs.size(); ++i) {
    std::string p = join(path, "validators") + "[" + std::to_string(i) + "]";
    checkKeys(vs[i], p, {"name", "scheme", "stake", "plugin_config", "settings"});
    ValidatorSpec v;
    v.scheme = scheme(vs[i]["scheme"], join(p, "scheme"));
    if (!vs[i]["name"]) bad(join(p, "name"), "required");
    v.name = label(vs[i]["name"], join(p, "name"), true);
    if (!vs[i]["stake"]) bad(join(p, "stake"), "required (MERIT staked on the validator's hotkey)");
    v.stake = merit(vs[i]["stake"], join(p, "stake"));
    if (v.stake == 0) bad(join(p, "stake"), "must be more than 0");
    v.pluginConfig = section(vs[i]["plugin_config"], join(p, "plugin_config"));
    v.settings =
        settings(vs[i]["settings"], join(p, "settings"), kValidatorSettings, "configs/validator.yaml");
    if (!names.insert(v.name).second) bad(join(p, "name"), "'" + v.name + "' is used twice in this subnet");
    s.validators.push_back(std::move(v));
  }
  const auto& ms = node["miners"];
  if (!ms || !ms.IsSequence() || ms.size() == 0) bad(join(path, "miners"), "a list of at least one miner");
  for (std::size_t i = 0; i < ms.size(); ++i) {
    std::string p = join(path, "miners") + "[" + std::to_string(i) + "]";
    checkKeys(ms[i], p, {"name", "scheme", "tier", "plugin_config", "model", "settings"});
    MinerSpec m;
    m.scheme = scheme(ms[i]["scheme"], join(p, "scheme"));
    if (!ms[i]["name"]) bad(join(p, "name"), "required");
    m.name = label(ms[i]["name"], join(p, "name"), true);
    if (!ms[i]["tier"]) bad(join(p, "tier"), "required (a label such as gold, or faulty)");
    m.tier = label(ms[i]["tier"], join(p, "tier"), true);
    m.pluginConfig = section(ms[i]["plugin_config"], join(p, "plugin_config"));
    if (ms[i]["model"]) {
      m.model = model(ms[i]["model"], join(p, "model"));
      YAML::Node pc = YAML::Load(m.pluginConfig);
      if (pc["model"])
        bad(join(p, "plugin_config.model"), "set by localnet from `model:`; give one or the other");
    }
    m.settings = settings(ms[i]["settings"], join(p, "settings"), kMinerSettings, "configs/miner.yaml");
    if (!names.insert(m.name).second) bad(join(p, "name"), "'" + m.name + "' is used twice in this subnet");
    s.miners.push_back(std::move(m));
  }
  return s;
}

Config walk(const YAML::Node& root) {
  Config c;
  c.fund = 1'000'000 * tx::kRaoPerMerit;
  c.rootStake = 100 * tx::kRaoPerMerit;
  checkKeys(root, "",
            {"chain", "owner", "fund", "root_stake", "model_cache", "log_level", "startup_timeout_s",
             "miner_defaults", "validator_defaults", "subnets", "dashboard"});
  if (const auto& ch = root["chain"]) {
    checkKeys(ch, "chain", {"block_time_ms", "log_level"});
    if (ch["block_time_ms"]) c.blockTimeMs = integer(ch["block_time_ms"], "chain.block_time_ms", 10, 60'000);
    if (ch["log_level"]) c.chainLogLevel = scalar(ch["log_level"], "chain.log_level");
  }
  if (const auto& o = root["owner"]) {
    checkKeys(o, "owner", {"scheme"});
    c.ownerScheme = scheme(o["scheme"], "owner.scheme");
  }
  if (const auto& d = root["dashboard"]) {
    checkKeys(d, "dashboard", {"enabled", "port"});
    if (d["enabled"]) {
      std::string e = scalar(d["enabled"], "dashboard.enabled");
      if (e != "true" && e != "false") bad("dashboard.enabled", "'" + e + "': true or false");
      c.dashboard = e == "true";
    }
    if (d["port"]) c.dashboardPort = static_cast<int>(integer(d["port"], "dashboard.port", 0, 65535));
  }
  if (root["fund"]) c.fund = merit(root["fund"], "fund");
  if (root["root_stake"]) c.rootStake = merit(root["root_stake"], "root_stake");
  if (c.rootStake == 0) bad("root_stake", "must be more than 0 (the root validator needs stake)");
  if (root["model_cache"]) c.modelCache = scalar(root["model_cache"], "model_cache");
  if (root["log_level"]) c.logLevel = scalar(root["log_level"], "log_level");
  if (root["startup_timeout_s"])
    c.startupTimeoutS = integer(root["startup_timeout_s"], "startup_timeout_s", 10, 3600);
  c.minerDefaults = settings(root["miner_defaults"], "miner_defaults", kMinerSettings, "configs/miner.yaml");
  c.validatorDefaults = settings(root["validator_defaults"], "validator_defaults", kValidatorSettings,
                                 "configs/validator.yaml");
  const auto& subnets = root["subnets"];
  if (!subnets || !subnets.IsSequence() || subnets.size() == 0)
    bad("subnets", "a list of at least one subnet");
  std::set<std::string> names;
  tx::Balance needed = c.rootStake;
  for (std::size_t i = 0; i < subnets.size(); ++i) {
    std::string p = "subnets[" + std::to_string(i) + "]";
    SubnetSpec s = subnet(subnets[i], p);
    if (!names.insert(s.name).second)
      bad(join(p, "name"), "subnet '" + s.name + "' is named twice (set `name:`)");
    for (const auto& v : s.validators) needed += v.stake;
    c.subnets.push_back(std::move(s));
  }
  if (needed >= c.fund) {
    bad("fund", formatMerit(c.fund) + " MERIT does not cover the stakes (" + formatMerit(needed) +
                    " MERIT) plus subnet locks and registrations");
  }
  return c;
}

}  // namespace

std::string ModelSpec::cacheKey() const {
  std::string text = trainer;
  for (const auto& a : args) {
    text.push_back('\0');
    text += a;
  }
  auto digest = crypto::blake2b256(asBytes(text));
  return toHex(ByteView(digest.data(), 8));
}

Result<Config> parseConfig(const std::string& yaml, const std::string& name) {
  Config c;
  MERIT_TRY(config::parseYaml(yaml, name, [&c](const YAML::Node& root) { c = walk(root); }));
  c.source = name;
  return c;
}

Result<Config> loadConfig(const std::filesystem::path& path) {
  auto text = readFile(path, kMaxConfigBytes);
  if (!text) return fail(text.error().withContext("localnet config"));
  return parseConfig(*text, path.string());
}

Result<std::string> withModel(const std::string& pluginConfig, const std::string& modelPath) {
  try {
    YAML::Node node = YAML::Load(pluginConfig);
    if (!node || node.IsNull()) node = YAML::Node(YAML::NodeType::Map);
    node["model"] = modelPath;
    YAML::Emitter out;
    out << YAML::Flow << node;
    return std::string(out.c_str());
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument, "plugin_config: " + e.msg);
  }
}

std::string daemonYaml(const std::map<std::string, std::string>& values,
                       const std::vector<std::string>& subnetPath, const std::string& pluginConfig) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const auto& [k, v] : values) out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
  out << YAML::Key << "subnet_path" << YAML::Value << YAML::Flow << subnetPath;
  out << YAML::Key << "plugin_config" << YAML::Value << YAML::Load(pluginConfig);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace merit::cli::localnet
