#include "merit/substrate/subtensor_chain.h"

#include <algorithm>
#include <cstdlib>

#include "merit/crypto/ss58.h"
#include "merit/substrate/scale.h"
#include "merit/tx/axon_endpoint.h"
#include "merit/util/ip_address.h"

namespace merit::substrate {

using nlohmann::json;

std::string defaultSubtensorUrl() {
  if (const char* u = std::getenv("MERIT_SUBTENSOR_URL"); u != nullptr && u[0] != '\0') return u;
  return "ws://127.0.0.1:9944";
}

namespace {

// A JSON number or decimal string (u128 values) as u64; anything else is 0.
std::uint64_t asU64(const json& j) {
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  if (j.is_number_integer() && j.get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(j.get<std::int64_t>());
  if (j.is_boolean()) return j.get<bool>() ? 1 : 0;
  if (j.is_string()) {
    auto v = U128::fromDecimal(j.get<std::string>());
    if (v && v->hi == 0) return v->lo;
  }
  return 0;
}

Result<crypto::AccountId> accountFromJson(const json& j) {
  if (!j.is_string()) return fail(ErrorCode::kCorruption, "account id is not a hex string");
  MERIT_ASSIGN_OR_RETURN(Bytes b, fromHex0x(j.get<std::string>()));
  if (b.size() != 32) return fail(ErrorCode::kCorruption, "account id is not 32 bytes");
  crypto::AccountId a;
  std::copy(b.begin(), b.end(), a.begin());
  return a;
}

std::string accountHex(const crypto::AccountId& a) {
  return hex0x(a);
}

// An element of a per-subnet vector (Incentive, ValidatorPermit, ...), 0 past its end.
std::uint64_t at(const json& v, std::size_t i) {
  return v.is_array() && i < v.size() ? asU64(v[i]) : 0;
}

// AxonInfo.ip (u128, big-endian address in the low bytes) as text.
std::string ipText(const json& ip, std::uint8_t ipType) {
  U128 v;
  if (ip.is_string()) {
    auto p = U128::fromDecimal(ip.get<std::string>());
    if (p) v = *p;
  } else if (ip.is_number_unsigned()) {
    v.lo = ip.get<std::uint64_t>();
  }
  tx::AxonAddress a;
  a.ipType = ipType == static_cast<std::uint8_t>(tx::IpType::kIpv4) ? tx::IpType::kIpv4 : tx::IpType::kIpv6;
  for (int i = 0; i < 8; ++i) {
    a.ip[i] = static_cast<std::uint8_t>(v.hi >> (56 - 8 * i));
    a.ip[8 + i] = static_cast<std::uint8_t>(v.lo >> (56 - 8 * i));
  }
  return a.ipText();
}

// The meritnet public key a miner committed (Commitments.CommitmentOf), if it is the hotkey's:
// a Raw33 field whose BLAKE2b-256 is the account id.
std::optional<ByteArray<33>> committedKey(const json& registration, const crypto::AccountId& hotkey) {
  if (!registration.is_object()) return std::nullopt;
  const json* info = registration.contains("info") ? &registration["info"] : nullptr;
  if (info == nullptr || !info->is_object() || !info->contains("fields") || !(*info)["fields"].is_array()) {
    return std::nullopt;
  }
  for (const auto& f : (*info)["fields"]) {
    if (!f.is_object() || !f.contains("Raw33") || !f["Raw33"].is_string()) continue;
    auto b = fromHex0x(f["Raw33"].get<std::string>());
    if (!b || b->size() != 33) continue;
    if (crypto::blake2b256(*b) != hotkey) continue;
    ByteArray<33> key;
    std::copy(b->begin(), b->end(), key.begin());
    return key;
  }
  return std::nullopt;
}

// A hotkey's public key (docs/SUBTENSOR.md): the ECDSA key it committed when there is one (its
// account id is the key's hash, so only a commitment can tell the key), else the sr25519 key its
// account id is, when those 32 bytes are a valid Ristretto point. An ECDSA hotkey that has not
// committed yet may thus read as an sr25519 key nobody holds; a peer dialling it fails the
// handshake, nothing else.
std::optional<crypto::AnyPublicKey> hotkeyKey(const std::optional<ByteArray<33>>& committed,
                                              const crypto::AccountId& hotkey) {
  if (committed) {
    if (auto pub = crypto::PublicKey::fromBytes(*committed)) return crypto::AnyPublicKey(*pub);
  }
  if (auto pub = crypto::sr25519::PublicKey::fromBytes(hotkey)) return crypto::AnyPublicKey(*pub);
  return std::nullopt;
}

// Hyperparameters: meritnet's name (as merit-chain's subnet_get) and the runtime's storage item.
struct HyperItem {
  const char* name;
  const char* item;
};
constexpr HyperItem kHypers[] = {
    {"tempo", "Tempo"},
    {"weights_rate_limit", "WeightsSetRateLimit"},
    {"weights_version_key", "WeightsVersionKey"},
    {"commit_reveal", "CommitRevealWeightsEnabled"},
    {"reveal_period_epochs", "RevealPeriodEpochs"},
    {"min_allowed_weights", "MinAllowedWeights"},
    {"max_weight_limit", "MaxWeightsLimit"},
    {"max_allowed_uids", "MaxAllowedUids"},
    {"max_allowed_validators", "MaxAllowedValidators"},
    {"immunity_period", "ImmunityPeriod"},
    {"activity_cutoff", "ActivityCutoff"},
    {"kappa", "Kappa"},
    {"rho", "Rho"},
    {"bonds_moving_average", "BondsMovingAverage"},
    {"adjustment_interval", "AdjustmentInterval"},
    {"target_registrations_per_interval", "TargetRegistrationsPerInterval"},
    {"min_burn", "MinBurn"},
    {"max_burn", "MaxBurn"},
    {"serving_rate_limit", "ServingRateLimit"},
    {"registration_allowed", "NetworkRegistrationAllowed"},
    {"liquid_alpha", "LiquidAlphaOn"},
};

// Per-subnet storage read with the hyperparameters for subnet(): meritnet name -> item.
constexpr HyperItem kSubnetFacts[] = {
    {"n", "SubnetworkN"},
    {"burn", "Burn"},
    {"registrations_this_interval", "RegistrationsThisInterval"},
    {"created_block", "NetworkRegisteredAt"},
    {"locked", "SubnetLocked"},
    {"pending_emission", "PendingEmission"},
    {"emission_per_block", "EmissionValues"},
};

std::uint64_t blocksUntilNextEpoch(std::uint64_t block, std::uint16_t netuid, std::uint64_t tempo) {
  if (tempo == 0) return 0;
  return tempo - (block + netuid + 1) % (tempo + 1);
}

// A neuron's stake on the subnet: dynamic-TAO runtimes keep it per subnet (alpha), older ones
// per hotkey. The first item the runtime has, with its keys for (hotkey, netuid).
std::optional<StorageQuery> stakeQuery(const Metadata& md, const std::string& hotkeyHex, tx::NetUid netuid) {
  if (md.storage("SubtensorModule", "TotalHotkeyAlpha") != nullptr) {
    return StorageQuery{"SubtensorModule", "TotalHotkeyAlpha", json::array({hotkeyHex, netuid})};
  }
  if (md.storage("SubtensorModule", "TotalHotkeySubStake") != nullptr) {
    return StorageQuery{"SubtensorModule", "TotalHotkeySubStake", json::array({hotkeyHex, netuid})};
  }
  if (md.storage("SubtensorModule", "TotalHotkeyStake") != nullptr) {
    return StorageQuery{"SubtensorModule", "TotalHotkeyStake", json::array({hotkeyHex})};
  }
  return std::nullopt;
}

}  // namespace

NeuronKey neuronKey(const json& commitment, const json& axon, const crypto::AccountId& hotkey) {
  NeuronKey out;
  const std::optional<ByteArray<33>> committed = committedKey(commitment, hotkey);
  out.key = hotkeyKey(committed, hotkey);
  // An ECDSA miner's account id may also be a valid Ristretto point: until it has committed, its
  // axon stays hidden (the miner, which serves when it does not see its axon, commits first).
  const bool sr25519Axon =
      axon.is_object() && asU64(axon.value("placeholder1", json(0))) == crypto::kSr25519Tag;
  out.axonDialable = axon.is_object() && asU64(axon.value("protocol", json(0))) == kMeritAxonProtocol &&
                     out.key.has_value() && (committed.has_value() || sr25519Axon);
  return out;
}

Result<std::unique_ptr<SubtensorChain>> SubtensorChain::connect(const std::string& url,
                                                                SubtensorOptions options) {
  SubstrateOptions o;
  o.rpc.callTimeout = options.callTimeout;
  o.rpc.connectTimeout = options.connectTimeout;
  o.mortality = options.mortality;
  MERIT_ASSIGN_OR_RETURN(auto client, SubstrateClient::connect(url, o));
  auto md = client->metadata();
  if (md->pallet("SubtensorModule") == nullptr) {
    return fail(ErrorCode::kInvalidArgument,
                url + " runs '" + client->runtimeVersion().specName +
                    "', which has no SubtensorModule pallet: not a subtensor chain");
  }
  return std::unique_ptr<SubtensorChain>(new SubtensorChain(std::move(client)));
}

Result<rpc::ChainInfo> SubtensorChain::info() {
  rpc::ChainInfo info;
  info.name = m_client->chainName();
  info.dev = m_client->chainType() == "Development" || m_client->chainType() == "Local";
  info.genesisHash = m_client->genesisHash();
  // Aura's slot (subtensor's block time); 12 s if the runtime does not say.
  info.blockTime = std::chrono::milliseconds(12'000);
  if (auto slot = m_client->constant("Aura", "SlotDuration"); slot && asU64(*slot) > 0) {
    info.blockTime = std::chrono::milliseconds(asU64(*slot));
  }
  auto v = m_client->runtimeVersion();
  info.extra = {{"chain_type", m_client->chainType()},
                {"metadata_version", std::uint64_t{m_client->metadataVersion()}},
                {"spec_name", v.specName},
                {"spec_version", std::uint64_t{v.specVersion}},
                {"transaction_version", std::uint64_t{v.transactionVersion}}};
  return info;
}

Result<rpc::Metagraph> SubtensorChain::metagraph(tx::NetUid netuid) {
  auto md = m_client->metadata();
  MERIT_ASSIGN_OR_RETURN(crypto::Hash256 head, m_client->headHash());
  MERIT_ASSIGN_OR_RETURN(json header, m_client->rpc().call("chain_getHeader", json::array({hex0x(head)})));
  rpc::Metagraph mg;
  mg.netuid = netuid;
  {
    std::string n = header.value("number", std::string("0x0"));
    mg.block = std::strtoull(n.c_str(), nullptr, 16);
  }

  // Round trip 1: the subnet's size, vectors and hyperparameters.
  static constexpr const char* kVectors[] = {"Active",   "Consensus",  "Incentive",      "Dividends",
                                             "Emission", "LastUpdate", "ValidatorTrust", "ValidatorPermit"};
  std::vector<StorageQuery> q;
  q.push_back({"SubtensorModule", "NetworksAdded", json::array({netuid})});
  q.push_back({"SubtensorModule", "SubnetworkN", json::array({netuid})});
  for (const char* v : kVectors) q.push_back({"SubtensorModule", v, json::array({netuid})});
  std::vector<const char*> hyperNames;
  for (const auto& h : kHypers) {
    if (md->storage("SubtensorModule", h.item) == nullptr) continue;
    q.push_back({"SubtensorModule", h.item, json::array({netuid})});
    hyperNames.push_back(h.name);
  }
  MERIT_ASSIGN_OR_RETURN(auto first, m_client->storageMany(q, head));
  if (!first[0].is_boolean() || !first[0].get<bool>()) {
    return fail(ErrorCode::kNotFound, "no subnet " + std::to_string(netuid));
  }
  const std::uint64_t n = asU64(first[1]);
  json vectors = json::object();
  for (std::size_t i = 0; i < std::size(kVectors); ++i) vectors[kVectors[i]] = first[2 + i];
  for (std::size_t i = 0; i < hyperNames.size(); ++i) {
    auto set = mg.params.set(hyperNames[i], asU64(first[2 + std::size(kVectors) + i]));
    if (!set) return fail(set.error().withContext("subnet " + std::to_string(netuid)));
  }
  mg.tempo = mg.params.tempo;
  mg.blocksUntilNextEpoch = blocksUntilNextEpoch(mg.block, netuid, mg.tempo);

  // Round trip 2: who holds each uid, and when it registered.
  q.clear();
  for (std::uint64_t uid = 0; uid < n; ++uid) {
    q.push_back({"SubtensorModule", "Keys", json::array({netuid, uid})});
    q.push_back({"SubtensorModule", "BlockAtRegistration", json::array({netuid, uid})});
  }
  MERIT_ASSIGN_OR_RETURN(auto second, m_client->storageMany(q, head));

  // Round trip 3: per hotkey, its owner, stake, axon and committed key.
  const bool commitments = md->storage("Commitments", "CommitmentOf") != nullptr;
  q.clear();
  std::vector<std::string> hotkeys;
  std::size_t perNeuron = 0;
  for (std::uint64_t uid = 0; uid < n; ++uid) {
    MERIT_ASSIGN_OR_RETURN(crypto::AccountId hk, accountFromJson(second[2 * uid]));
    std::string hex = accountHex(hk);
    hotkeys.push_back(hex);
    std::size_t before = q.size();
    q.push_back({"SubtensorModule", "Owner", json::array({hex})});
    q.push_back({"SubtensorModule", "Axons", json::array({netuid, hex})});
    if (auto s = stakeQuery(*md, hex, netuid)) q.push_back(*s);
    if (commitments) q.push_back({"Commitments", "CommitmentOf", json::array({netuid, hex})});
    perNeuron = q.size() - before;
  }
  MERIT_ASSIGN_OR_RETURN(auto third, m_client->storageMany(q, head));
  const bool hasStake = stakeQuery(*md, "0x" + std::string(64, '0'), netuid).has_value();

  for (std::uint64_t uid = 0; uid < n; ++uid) {
    rpc::NeuronInfo ni;
    ni.uid = static_cast<std::uint16_t>(uid);
    MERIT_ASSIGN_OR_RETURN(ni.hotkey, accountFromJson(second[2 * uid]));
    ni.blockAtRegistration = asU64(second[2 * uid + 1]);
    const std::size_t base = uid * perNeuron;
    std::size_t k = base;
    if (auto owner = accountFromJson(third[k++]); owner) ni.coldkey = *owner;
    const json& axon = third[k++];
    if (hasStake) ni.stake = asU64(third[k++]);
    const NeuronKey nk = neuronKey(commitments ? third[k++] : json(nullptr), axon, ni.hotkey);
    ni.hotkeyPublicKey = nk.key;
    ni.active = at(vectors["Active"], uid) != 0;
    ni.validatorPermit = at(vectors["ValidatorPermit"], uid) != 0;
    ni.consensus = static_cast<std::uint16_t>(at(vectors["Consensus"], uid));
    ni.incentive = static_cast<std::uint16_t>(at(vectors["Incentive"], uid));
    ni.dividends = static_cast<std::uint16_t>(at(vectors["Dividends"], uid));
    ni.validatorTrust = static_cast<std::uint16_t>(at(vectors["ValidatorTrust"], uid));
    ni.emission = at(vectors["Emission"], uid);
    ni.lastUpdate = at(vectors["LastUpdate"], uid);
    if (nk.axonDialable) {
      rpc::AxonEndpoint a;
      a.ipType = static_cast<std::uint8_t>(asU64(axon.value("ip_type", json(4))));
      a.ip = ipText(axon.value("ip", json("0")), a.ipType);
      a.port = static_cast<std::uint16_t>(asU64(axon.value("port", json(0))));
      a.protocol = 0;  // plain ZeroMQ + Cap'n Proto
      a.block = asU64(axon.value("block", json(0)));
      ni.axon = a;
    }
    mg.neurons.push_back(std::move(ni));
  }
  return mg;
}

Result<rpc::AccountInfo> SubtensorChain::account(const tx::AccountId& id) {
  MERIT_ASSIGN_OR_RETURN(json acc, m_client->storage("System", "Account", json::array({accountHex(id)})));
  rpc::AccountInfo out;
  out.address = id;
  if (acc.is_object()) {
    out.nonce = asU64(acc.value("nonce", json(0)));
    if (acc.contains("data") && acc["data"].is_object()) {
      const json& d = acc["data"];
      out.free = asU64(d.value("free", json(0)));
      out.reserved = asU64(d.value("reserved", json(0)));
    }
  }
  return out;
}

Result<std::vector<rpc::SubnetSummary>> SubtensorChain::subnets() {
  auto md = m_client->metadata();
  MERIT_ASSIGN_OR_RETURN(crypto::Hash256 head, m_client->headHash());
  MERIT_ASSIGN_OR_RETURN(Bytes prefix,
                         m_client->storageKey("SubtensorModule", "NetworksAdded", json::array()));
  MERIT_ASSIGN_OR_RETURN(auto entries, m_client->prefixEntries(prefix, 4096, head));
  const StorageEntry* e = md->storage("SubtensorModule", "NetworksAdded");
  const std::size_t skip = e != nullptr && !e->hashers.empty() ? hasherPrefixSize(e->hashers[0]) : 0;
  std::vector<rpc::SubnetSummary> out;
  for (const auto& [key, value] : entries) {
    if (key.size() < prefix.size() + skip + 2) continue;
    const auto* p = key.data() + prefix.size() + skip;
    const std::uint16_t netuid =
        static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) | (std::to_integer<unsigned>(p[1]) << 8));
    if (value.empty() || value[0] != std::byte{1}) continue;
    MERIT_ASSIGN_OR_RETURN(rpc::SubnetInfo s, subnet(netuid));
    out.push_back(static_cast<rpc::SubnetSummary&&>(std::move(s)));
  }
  return out;
}

Result<rpc::SubnetInfo> SubtensorChain::subnet(tx::NetUid netuid) {
  auto md = m_client->metadata();
  MERIT_ASSIGN_OR_RETURN(crypto::Hash256 head, m_client->headHash());
  MERIT_ASSIGN_OR_RETURN(std::uint64_t block, m_client->headNumber());
  std::vector<StorageQuery> q{{"SubtensorModule", "NetworksAdded", json::array({netuid})}};
  std::vector<std::pair<const char*, bool>> names;  // name, is a hyperparameter
  for (const auto& h : kSubnetFacts) {
    if (md->storage("SubtensorModule", h.item) == nullptr) continue;
    q.push_back({"SubtensorModule", h.item, json::array({netuid})});
    names.emplace_back(h.name, false);
  }
  for (const auto& h : kHypers) {
    if (md->storage("SubtensorModule", h.item) == nullptr) continue;
    q.push_back({"SubtensorModule", h.item, json::array({netuid})});
    names.emplace_back(h.name, true);
  }
  const bool hasOwner = md->storage("SubtensorModule", "SubnetOwner") != nullptr;
  if (hasOwner) q.push_back({"SubtensorModule", "SubnetOwner", json::array({netuid})});
  MERIT_ASSIGN_OR_RETURN(auto values, m_client->storageMany(q, head));
  if (!values[0].is_boolean() || !values[0].get<bool>())
    return fail(ErrorCode::kNotFound, "no subnet " + std::to_string(netuid));
  rpc::SubnetInfo out;
  out.netuid = netuid;
  std::vector<std::string_view> reported;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string_view name = names[i].first;
    const std::uint64_t v = asU64(values[1 + i]);
    if (names[i].second) {
      auto set = out.params.set(name, v);
      if (!set) return fail(set.error().withContext("subnet " + std::to_string(netuid)));
      reported.push_back(name);
    } else if (name == "n") {
      out.n = v;
    } else if (name == "burn") {
      out.burn = v;
    } else if (name == "registrations_this_interval") {
      out.registrationsThisInterval = v;
    } else if (name == "created_block") {
      out.createdBlock = v;
    } else if (name == "locked") {
      out.locked = v;
    } else if (name == "pending_emission") {
      out.pendingEmission = v;
    } else if (name == "emission_per_block") {
      out.emissionPerBlock = v;
    }
  }
  // In SubnetParams order, as merit-chain's are.
  out.params.forEach([&](std::string_view name, std::uint64_t) {
    if (std::find(reported.begin(), reported.end(), name) != reported.end())
      out.reportedParams.emplace_back(name);
  });
  if (hasOwner) {
    if (auto owner = accountFromJson(values.back())) out.owner = *owner;
  }
  const bool hasTempo = std::find(reported.begin(), reported.end(), "tempo") != reported.end();
  const bool hasMaxUids = std::find(reported.begin(), reported.end(), "max_allowed_uids") != reported.end();
  out.tempo = hasTempo ? out.params.tempo : 0;
  out.maxUids = hasMaxUids ? out.params.maxAllowedUids : 0;
  out.blocksUntilNextEpoch = blocksUntilNextEpoch(block, netuid, out.tempo);
  return out;
}

Result<SubtensorChain::MappedCall> SubtensorChain::mapCall(crypto::SignerRef signer,
                                                           const tx::Call& call) const {
  auto md = m_client->metadata();
  // Every value meritnet can supply, by the argument names subtensor's calls use; a call takes
  // the ones its metadata lists. A needed argument missing here makes the call unsupported.
  MappedCall m;
  json v = json::object();
  const tx::NetUid stakeNetuid = m_stakeNetuid.load();
  auto accountArg = [](const crypto::AccountId& a) { return accountHex(a); };
  bool ok = std::visit(
      [&](const auto& c) -> bool {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, tx::Transfer>) {
          m = {"Balances", "transfer_keep_alive", {}};
          v["dest"] = json{{"Id", accountArg(c.dest)}};
          v["value"] = c.amount;
        } else if constexpr (std::is_same_v<T, tx::BurnedRegister>) {
          m = {"SubtensorModule", "burned_register", {}};
          v["netuid"] = c.netuid;
          v["hotkey"] = accountArg(c.hotkey.accountId());
        } else if constexpr (std::is_same_v<T, tx::RootRegister>) {
          m = {"SubtensorModule", "root_register", {}};
          v["hotkey"] = accountArg(c.hotkey.accountId());
        } else if constexpr (std::is_same_v<T, tx::ServeAxon>) {
          m = {"SubtensorModule", "serve_axon", {}};
          if (c.protocol != 0) return false;  // CURVE keys have no place on subtensor (yet)
          U128 ip;
          for (std::size_t i = 0; i < 8; ++i) {
            ip.hi = (ip.hi << 8) | c.ip[i];
            ip.lo = (ip.lo << 8) | c.ip[8 + i];
          }
          v["netuid"] = c.netuid;
          v["version"] = c.version;
          v["ip"] = ip.toDecimal();
          v["port"] = c.port;
          v["ip_type"] = c.ipType;
          v["protocol"] = kMeritAxonProtocol;
          // The signer's scheme tag: metagraph() dials an sr25519 axon by its account id only then.
          v["placeholder1"] = crypto::schemeTag(signer.scheme());
          v["placeholder2"] = 0;
        } else if constexpr (std::is_same_v<T, tx::AddStake>) {
          m = {"SubtensorModule", "add_stake", {}};
          v["hotkey"] = accountArg(c.hotkey);
          v["netuid"] = stakeNetuid;
          v["amount_staked"] = c.amount;
        } else if constexpr (std::is_same_v<T, tx::RemoveStake>) {
          m = {"SubtensorModule", "remove_stake", {}};
          v["hotkey"] = accountArg(c.hotkey);
          v["netuid"] = stakeNetuid;
          v["amount_unstaked"] = c.amount;
        } else if constexpr (std::is_same_v<T, tx::SetWeights>) {
          m = {"SubtensorModule", "set_weights", {}};
          v["netuid"] = c.netuid;
          v["dests"] = c.uids;
          v["weights"] = c.values;
          v["version_key"] = c.versionKey;
        } else if constexpr (std::is_same_v<T, tx::CommitWeights>) {
          m = {"SubtensorModule", "commit_weights", {}};
          v["netuid"] = c.netuid;
          v["commit_hash"] = hex0x(c.commitHash);
        } else if constexpr (std::is_same_v<T, tx::RevealWeights>) {
          m = {"SubtensorModule", "reveal_weights", {}};
          v["netuid"] = c.netuid;
          v["uids"] = c.uids;
          v["values"] = c.values;
          v["salt"] = c.salt;
          v["version_key"] = c.versionKey;
        } else if constexpr (std::is_same_v<T, tx::SetRootWeights>) {
          // Root weights: a call of their own where the runtime has one, else set_weights on netuid 0.
          const bool own = md->callVariant("SubtensorModule", "set_root_weights") != nullptr;
          m = {"SubtensorModule", own ? "set_root_weights" : "set_weights", {}};
          v["netuid"] = 0;
          v["hotkey"] = accountArg(signer.publicKey().accountId());
          v["dests"] = c.netuids;
          v["weights"] = c.values;
          v["version_key"] = c.versionKey;
        } else {
          return false;
        }
        return true;
      },
      call);
  if (!ok) {
    if (std::holds_alternative<tx::ServeAxon>(call)) {
      return fail(
          ErrorCode::kInvalidArgument,
          "NotSupported: a CurveZMQ or shield axon cannot be advertised on subtensor (AxonInfo has no "
          "field for its key); serve a plain axon (curve: false, shield: false)");
    }
    return fail(
        ErrorCode::kInvalidArgument,
        "NotSupported: " + std::string(tx::callName(call)) +
            " is a merit-chain call; on subtensor use `merit chain call` with the runtime's own call");
  }
  const Variant* variant = md->callVariant(m.pallet, m.call);
  if (variant == nullptr) {
    return fail(ErrorCode::kInvalidArgument, "NotSupported: this runtime has no " + m.pallet + "." + m.call);
  }
  m.args = json::object();
  for (const auto& f : variant->fields) {
    if (!f.name || !v.contains(*f.name)) {
      return fail(ErrorCode::kInvalidArgument, "NotSupported: " + m.pallet + "." + m.call + " takes '" +
                                                   f.name.value_or("?") + "', which meritnet cannot fill");
    }
    m.args[*f.name] = v[*f.name];
  }
  return m;
}

namespace {

rpc::Submission toSubmission(const SubmitResult& out) {
  rpc::Submission s;
  s.hash = out.hash;
  s.included = out.included;
  s.block = out.block;
  s.index = out.index;
  s.success = out.success;
  s.rejected = out.rejected;
  s.error = out.error;
  return s;
}

}  // namespace

Result<std::optional<rpc::Submission>> SubtensorChain::commitPublicKey(crypto::SignerRef hotkey,
                                                                       tx::NetUid netuid,
                                                                       std::chrono::milliseconds wait) {
  // An sr25519 account id is the public key: there is nothing to publish.
  if (hotkey.ecdsa() == nullptr) return std::optional<rpc::Submission>();
  const crypto::PublicKey pub = hotkey.ecdsa()->publicKey();
  auto md = m_client->metadata();
  if (md->callVariant("Commitments", "set_commitment") == nullptr) {
    return fail(
        ErrorCode::kInvalidArgument,
        "NotSupported: this runtime has no Commitments.set_commitment, so a meritnet miner cannot publish "
        "the public key validators need to dial it");
  }
  const crypto::AccountId account = pub.accountId();
  MERIT_ASSIGN_OR_RETURN(json current, m_client->storage("Commitments", "CommitmentOf",
                                                         json::array({netuid, accountHex(account)})));
  if (committedKey(current, account)) return std::optional<rpc::Submission>();
  json info = {{"fields", json::array({json{{"Raw33", hex0x(pub.bytes())}}})}};
  MERIT_ASSIGN_OR_RETURN(Bytes bytes, m_client->encodeCall("Commitments", "set_commitment",
                                                           json{{"netuid", netuid}, {"info", info}}));
  MERIT_ASSIGN_OR_RETURN(SubmitResult out, m_client->submit(hotkey, bytes, wait));
  return std::optional<rpc::Submission>(toSubmission(out));
}

Result<rpc::Submission> SubtensorChain::serveAxon(crypto::SignerRef hotkey, const MappedCall& m,
                                                  std::chrono::milliseconds wait) {
  const tx::NetUid netuid = m.args.value("netuid", tx::NetUid{0});
  MERIT_ASSIGN_OR_RETURN(auto committed, commitPublicKey(hotkey, netuid, wait));
  if (committed && (!committed->included || !committed->success)) return *committed;
  // An unchanged axon record is not served again (serving is rate limited).
  const crypto::AccountId account = hotkey.publicKey().accountId();
  MERIT_ASSIGN_OR_RETURN(
      json axon, m_client->storage("SubtensorModule", "Axons", json::array({netuid, accountHex(account)})));
  if (axon.is_object()) {
    bool same = true;
    for (const char* k : {"ip", "port", "ip_type", "protocol", "version"}) {
      if (asU64(axon.value(k, json(nullptr))) != asU64(m.args.value(k, json(nullptr)))) same = false;
    }
    if (same) {
      rpc::Submission s = committed.value_or(rpc::Submission{});
      if (!committed) {
        MERIT_ASSIGN_OR_RETURN(s.block, m_client->headNumber());
        s.included = true;
        s.success = true;
      }
      return s;
    }
  }
  MERIT_ASSIGN_OR_RETURN(Bytes bytes, m_client->encodeCall(m.pallet, m.call, m.args));
  MERIT_ASSIGN_OR_RETURN(SubmitResult out, m_client->submit(hotkey, bytes, wait));
  return toSubmission(out);
}

Result<rpc::Submission> SubtensorChain::submit(crypto::SignerRef signer, tx::Call call,
                                               std::chrono::milliseconds wait) {
  MERIT_ASSIGN_OR_RETURN(MappedCall m, mapCall(signer, call));
  if (std::holds_alternative<tx::ServeAxon>(call)) return serveAxon(signer, m, wait);
  MERIT_ASSIGN_OR_RETURN(Bytes bytes, m_client->encodeCall(m.pallet, m.call, m.args));
  MERIT_ASSIGN_OR_RETURN(SubmitResult out, m_client->submit(signer, bytes, wait));
  return toSubmission(out);
}

}  // namespace merit::substrate
