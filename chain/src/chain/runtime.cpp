#include "merit/chain/runtime.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string_view>

#include "merit/consensus/emission.h"
#include "merit/consensus/weights.h"
#include "merit/util/assert.h"

namespace merit::chain {

// Issuance (and so every stake total) stays below the epoch's limit: a genesis of at most
// kMaxGenesisTotal, all 21M MERIT of emission, and a generous allowance for emission already
// accrued when it stops (root tempo x block emission, both bounded by the config).
static_assert(kMaxGenesisTotal + consensus::kTotalSupply + Balance{50'400} * kMaxBlockEmission * 4 <
              consensus::kMaxTotalStake);

namespace {

using tx::Extrinsic;

using E = tx::ChainErrorCode;

Outcome ok() {
  return {};
}
Outcome err(E code, std::string detail = {}) {
  return {tx::ChainError(code, std::move(detail))};
}

// merit_consensus reports a broken weight rule as "Name: detail" under the same names.
Outcome fromConsensusError(const Error& e) {
  return {tx::ChainError::parse(e.message())};
}

bool validPluginName(const std::string& name) {
  if (name.empty() || name.size() > tx::kMaxNameLen) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// Why an axon address can only mean this machine or this link: "unspecified" (0.0.0.0, ::),
// "loopback" (127.0.0.0/8, ::1) or "link-local" (169.254.0.0/16, fe80::/10), IPv4 also in its
// IPv4-mapped IPv6 form (::ffff:a.b.c.d); empty for any other address. `ip` holds an IPv4
// address in its last 4 bytes.
std::string_view localAddressKind(std::uint8_t ipType, const std::array<std::uint8_t, 16>& ip) {
  auto v4 = [](std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) -> std::string_view {
    if (a == 0 && b == 0 && c == 0 && d == 0) return "unspecified";
    if (a == 127) return "loopback";
    if (a == 169 && b == 254) return "link-local";
    return {};
  };
  if (ipType == 4) return v4(ip[12], ip[13], ip[14], ip[15]);
  bool zero10 = std::all_of(ip.begin(), ip.begin() + 10, [](std::uint8_t b) { return b == 0; });
  if (zero10 && ip[10] == 0xff && ip[11] == 0xff)
    return v4(ip[12], ip[13], ip[14], ip[15]);  // ::ffff:a.b.c.d
  bool zero15 = std::all_of(ip.begin(), ip.begin() + 15, [](std::uint8_t b) { return b == 0; });
  if (zero15 && ip[15] == 0) return "unspecified";
  if (zero15 && ip[15] == 1) return "loopback";
  if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80) return "link-local";
  return {};
}

bool checkedAdd(Balance a, Balance b, Balance& out) {
  return !__builtin_add_overflow(a, b, &out);
}

std::uint64_t paramOf(const SubnetInfo& s, Hyper h) {
  return s.params.get(h);
}

// Credits `amount` of new stake to (hotkey, coldkey): minted, so issuance grows.
void mintStake(StateView& s, Totals& t, const AccountId& hotkey, const AccountId& coldkey, Balance amount) {
  if (amount == 0) return;
  s.setStake(hotkey, coldkey, s.stake(hotkey, coldkey) + amount);
  t.stake += amount;
  t.issuance += amount;
  t.emitted += amount;
}

bool immune(const Neuron& n, std::uint64_t block, std::uint64_t immunityPeriod) {
  return block - n.blockAtRegistration < immunityPeriod;
}

// Removes `uid`'s data so a new hotkey can take it (subtensor's replace_neuron).
void clearUid(StateView& s, NetUid netuid, const SubnetInfo& info, Uid uid) {
  auto old = s.neuron(netuid, uid);
  MERIT_ASSERT(old.has_value(), netuid, uid);
  s.setUidOf(netuid, old->hotkey, std::nullopt);
  s.setCommits(netuid, old->hotkey, {});
  s.setWeights(netuid, uid, {});
  s.setBonds(netuid, uid, {});
  // Other validators' weights *to* this uid are zeroed (the entry is kept).
  for (Uid u = 0; u < info.n; ++u) {
    if (u == uid) continue;
    auto row = s.weights(netuid, u);
    bool changed = false;
    for (auto& e : row) {
      if (e.uid == uid && e.value != 0) {
        e.value = 0;
        changed = true;
      }
    }
    if (changed) s.setWeights(netuid, u, row);
  }
}

// Puts a freshly registered hotkey at `uid` (its previous occupant already cleared).
void seatNeuron(StateView& s, NetUid netuid, Uid uid, const crypto::PublicKey& hotkey,
                const AccountId& coldkey, std::uint64_t block, std::uint64_t lastUpdate) {
  Neuron n;
  n.hotkey = hotkey.accountId();
  n.hotkeyPub = hotkey.bytes();
  n.coldkey = coldkey;
  n.blockAtRegistration = block;
  n.lastUpdate = lastUpdate;
  s.setNeuron(netuid, uid, n);
  s.setUidOf(netuid, n.hotkey, uid);
}

}  // namespace

Runtime::Runtime(RuntimeConfig config, crypto::Hash256 genesisHash)
    : m_config(std::move(config)), m_genesis(genesisHash) {}

bool Runtime::isEpochBlock(std::uint64_t block, NetUid netuid, std::uint64_t tempo) {
  if (tempo == 0) return false;
  return (block + netuid + 1) % (tempo + 1) == 0;
}

std::vector<Uid> Runtime::pruningOrder(const StateView& s, NetUid netuid, const SubnetInfo& info,
                                       std::uint64_t block) {
  std::vector<std::tuple<bool, std::uint64_t, std::uint64_t, Uid>> keys;
  keys.reserve(info.n);
  for (Uid u = 0; u < info.n; ++u) {
    auto n = s.neuron(netuid, u);
    MERIT_ASSERT(n.has_value(), netuid, u);
    if (n->coldkey == info.owner) continue;
    keys.emplace_back(immune(*n, block, paramOf(info, Hyper::kImmunityPeriod)), n->emission,
                      n->blockAtRegistration, u);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<Uid> order;
  order.reserve(keys.size());
  for (const auto& k : keys) order.push_back(std::get<3>(k));
  return order;
}

std::uint64_t Runtime::blocksUntilNextEpoch(std::uint64_t block, NetUid netuid, std::uint64_t tempo) {
  if (tempo == 0) return UINT64_MAX;
  return tempo - ((block + netuid + 1) % (tempo + 1));
}

std::uint64_t Runtime::epochIndex(std::uint64_t block, NetUid netuid, std::uint64_t tempo) {
  return (block + netuid + 1) / (tempo + 1);
}

tx::ChainResult<void> Runtime::validate(const Extrinsic& xt, const StateReader& state,
                                        std::uint64_t block) const {
  // Cheapest first; the signature (an ECDSA recovery) only for an extrinsic that could otherwise
  // be included now or later, so a sender who cannot pay costs the node no signature check.
  if (xt.validUntil < block) {
    return tx::chainFail(E::kExpired, "valid until block " + std::to_string(xt.validUntil) +
                                          ", now at block " + std::to_string(block));
  }
  Overlay view(state);
  StateView s(view);
  auto account = s.account(xt.signerAccount());
  if (xt.nonce < account.nonce) {
    return tx::chainFail(E::kStale, "nonce " + std::to_string(xt.nonce) + " already used (next is " +
                                        std::to_string(account.nonce) + ")");
  }
  // Checked before the nonce, so a future nonce from a sender who cannot pay is refused too.
  if (m_config.extrinsicFee > 0 && account.free < m_config.extrinsicFee) {
    return tx::chainFail(E::kPayment, "free balance " + std::to_string(account.free) +
                                          " cannot pay the fee of " + std::to_string(m_config.extrinsicFee));
  }
  if (auto v = tx::verifyExtrinsic(xt, m_genesis); !v) {
    return tx::chainFail(E::kBadSignature, v.error().message());
  }
  if (xt.nonce > account.nonce) {
    return tx::chainFail(E::kFuture,
                         "nonce " + std::to_string(xt.nonce) + ", next is " + std::to_string(account.nonce));
  }
  return {};
}

Outcome Runtime::apply(Overlay& block, const Extrinsic& xt, std::uint64_t blockNumber) const {
  AccountId signer = xt.signerAccount();
  {
    StateView s(block);
    Account a = s.account(signer);
    a.nonce += 1;
    // validate() checked the fee against this block's state just before.
    Balance fee = std::min(a.free, m_config.extrinsicFee);
    a.free -= fee;
    s.setAccount(signer, a);
    if (fee > 0) {
      Totals t = s.totals();
      t.burned += fee;
      t.issuance -= fee;
      s.setTotals(t);
    }
  }
  Overlay call(static_cast<const StateReader&>(block));
  Outcome out = dispatch(call, signer, xt, blockNumber);
  if (out.success()) call.mergeInto(block);
  return out;
}

Outcome Runtime::dispatch(Overlay& o, const AccountId& signer, const Extrinsic& xt,
                          std::uint64_t block) const {
  StateView s(o);
  Totals totals = s.totals();

  if (const auto* c = std::get_if<tx::Transfer>(&xt.call)) {
    Account from = s.account(signer);
    if (from.free < c->amount) return err(E::kNotEnoughBalance, "free balance " + std::to_string(from.free));
    from.free -= c->amount;
    s.setAccount(signer, from);
    Account to = s.account(c->dest);
    if (!checkedAdd(to.free, c->amount, to.free)) return err(E::kOverflow);
    s.setAccount(c->dest, to);
    return ok();
  }

  if (const auto* c = std::get_if<tx::CreateSubnet>(&xt.call)) {
    auto netuids = s.netuids();
    auto nonRoot = std::count_if(netuids.begin(), netuids.end(), [](NetUid n) { return n != kRootNetUid; });
    if (nonRoot >= m_config.subnetLimit) return err(E::kSubnetLimitReached);
    if (!validPluginName(c->plugin)) return err(E::kInvalidPluginName, "use 1-64 of a-z 0-9 _");
    SubnetInfo info;
    info.params = m_config.defaultParams;
    for (const auto& [h, v] : c->overrides) {
      auto r = hyperRange(h);
      if (v < r.min || v > r.max) return err(E::kInvalidHyperparameterValue, std::string(tx::hyperName(h)));
      info.params.set(h, v);
    }
    if (info.params.get(Hyper::kAlphaLow) > info.params.get(Hyper::kAlphaHigh) ||
        info.params.get(Hyper::kMinBurn) > info.params.get(Hyper::kMaxBurn)) {
      return err(E::kInvalidHyperparameterValue, "alpha_low > alpha_high or min_burn > max_burn");
    }
    Account owner = s.account(signer);
    if (owner.free < m_config.subnetLockCost) {
      return err(E::kNotEnoughBalanceToLock, "lock cost " + std::to_string(m_config.subnetLockCost));
    }
    owner.free -= m_config.subnetLockCost;
    s.setAccount(signer, owner);
    NetUid netuid = 1;
    std::set<NetUid> used(netuids.begin(), netuids.end());
    while (used.count(netuid)) ++netuid;
    info.owner = signer;
    info.plugin = c->plugin;
    info.pluginVersion = c->pluginVersion;
    info.locked = m_config.subnetLockCost;
    info.burn =
        std::clamp(m_config.initialBurn, info.params.get(Hyper::kMinBurn), info.params.get(Hyper::kMaxBurn));
    info.createdBlock = block;
    info.lastEpochBlock = block;
    info.lastAdjustmentBlock = block;
    s.setSubnet(netuid, info);
    netuids.push_back(netuid);
    std::sort(netuids.begin(), netuids.end());
    s.setNetuids(netuids);
    totals.locked += m_config.subnetLockCost;
    s.setTotals(totals);
    return ok();
  }

  if (const auto* c = std::get_if<tx::SetHyperparameter>(&xt.call)) {
    auto info = s.subnet(c->netuid);
    if (!info || c->netuid == kRootNetUid) return err(E::kSubNetworkDoesNotExist);
    if (info->owner != signer) return err(E::kNotSubnetOwner);
    auto r = hyperRange(c->param);
    if (c->value < r.min || c->value > r.max)
      return err(E::kInvalidHyperparameterValue, std::string(tx::hyperName(c->param)));
    SubnetParams next = info->params;
    next.set(c->param, c->value);
    if (next.get(Hyper::kAlphaLow) > next.get(Hyper::kAlphaHigh))
      return err(E::kInvalidHyperparameterValue, "alpha_low > alpha_high");
    if (next.get(Hyper::kMinBurn) > next.get(Hyper::kMaxBurn))
      return err(E::kInvalidHyperparameterValue, "min_burn > max_burn");
    if (next.get(Hyper::kMaxAllowedUids) < info->n) return err(E::kMaxAllowedUIdsLessThanCurrentUIds);
    info->params = next;
    info->burn = std::clamp(info->burn, next.get(Hyper::kMinBurn), next.get(Hyper::kMaxBurn));
    s.setSubnet(c->netuid, *info);
    return ok();
  }

  if (const auto* c = std::get_if<tx::BurnedRegister>(&xt.call)) {
    if (c->netuid == kRootNetUid) return err(E::kRegistrationNotPermittedOnRootSubnet);
    auto info = s.subnet(c->netuid);
    if (!info) return err(E::kSubNetworkDoesNotExist);
    if (paramOf(*info, Hyper::kRegistrationAllowed) == 0) return err(E::kSubNetRegistrationDisabled);
    if (info->lastRegistrationBlock == block &&
        info->registrationsThisBlock >= m_config.maxRegistrationsPerBlock) {
      return err(E::kTooManyRegistrationsThisBlock);
    }
    if (info->registrationsThisInterval >= 3 * paramOf(*info, Hyper::kTargetRegistrationsPerInterval)) {
      return err(E::kTooManyRegistrationsThisInterval);
    }
    AccountId hotkey = c->hotkey.accountId();
    if (s.uidOf(c->netuid, hotkey)) return err(E::kHotKeyAlreadyRegisteredInSubNet);
    Account payer = s.account(signer);
    if (payer.free < info->burn)
      return err(E::kNotEnoughBalanceToPayRegistration, "burn " + std::to_string(info->burn));
    auto owner = s.hotkeyOwner(hotkey);
    if (owner && *owner != signer) return err(E::kNonAssociatedColdKey);
    std::uint64_t maxUids = paramOf(*info, Hyper::kMaxAllowedUids);
    Uid uid = info->n;
    if (info->n >= maxUids) {
      auto order = pruningOrder(s, c->netuid, *info, block);
      if (order.empty()) return err(E::kNoNeuronIdAvailable);
      uid = order.front();
      clearUid(s, c->netuid, *info, uid);
    } else {
      info->n += 1;
    }
    payer.free -= info->burn;
    s.setAccount(signer, payer);
    totals.burned += info->burn;
    totals.issuance -= info->burn;
    s.setTotals(totals);
    if (!owner) s.setHotkeyOwner(hotkey, signer);
    seatNeuron(s, c->netuid, uid, c->hotkey, signer, block, block);
    if (info->lastRegistrationBlock != block) info->registrationsThisBlock = 0;
    info->registrationsThisBlock += 1;
    info->registrationsThisInterval += 1;
    info->lastRegistrationBlock = block;
    s.setSubnet(c->netuid, *info);
    return ok();
  }

  if (const auto* c = std::get_if<tx::ServeAxon>(&xt.call)) {
    auto info = s.subnet(c->netuid);
    if (!info) return err(E::kSubNetworkDoesNotExist);
    auto uid = s.uidOf(c->netuid, signer);
    if (!uid) return err(E::kHotKeyNotRegisteredInSubNet);
    if (c->ipType != 4 && c->ipType != 6) return err(E::kInvalidIpType);
    if (c->ipType == 4) {
      bool high = std::any_of(c->ip.begin(), c->ip.begin() + 12, [](std::uint8_t b) { return b != 0; });
      bool broadcast = c->ip[12] == 255 && c->ip[13] == 255 && c->ip[14] == 255 && c->ip[15] == 255;
      if (high || broadcast) return err(E::kInvalidIpAddress);
    } else {
      bool allOnes = std::all_of(c->ip.begin(), c->ip.end(), [](std::uint8_t b) { return b == 255; });
      if (allOnes) return err(E::kInvalidIpAddress);
    }
    if (auto local = localAddressKind(c->ipType, c->ip); !local.empty() && !m_config.allowLoopbackAxons) {
      return err(E::kLocalIpAddress, std::string(local) +
                                         " address: nobody else can reach it (allowed only on --dev chains, "
                                         "economics.allow_loopback_axons)");
    }
    if (c->port == 0) return err(E::kInvalidPort);
    auto n = s.neuron(c->netuid, *uid);
    MERIT_ASSERT(n.has_value());
    std::uint64_t limit = paramOf(*info, Hyper::kServingRateLimit);
    if (n->axon && limit != 0 && n->axon->block != 0 && block - n->axon->block < limit) {
      return err(E::kServingRateLimitExceeded,
                 "next allowed at block " + std::to_string(n->axon->block + limit));
    }
    AxonInfo a;
    a.block = block;
    a.version = c->version;
    a.ip = c->ip;
    a.port = c->port;
    a.ipType = c->ipType;
    a.protocol = c->protocol;
    a.curveKey = c->curveKey;
    n->axon = a;
    s.setNeuron(c->netuid, *uid, *n);
    return ok();
  }

  if (const auto* c = std::get_if<tx::AddStake>(&xt.call)) {
    if (!s.hotkeyOwner(c->hotkey)) return err(E::kHotKeyAccountNotExists);
    if (c->amount == 0) return err(E::kAmountTooLow);
    Account a = s.account(signer);
    if (a.free < c->amount) return err(E::kNotEnoughBalanceToStake, "free balance " + std::to_string(a.free));
    a.free -= c->amount;
    s.setAccount(signer, a);
    s.setStake(c->hotkey, signer, s.stake(c->hotkey, signer) + c->amount);
    totals.stake += c->amount;
    s.setTotals(totals);
    return ok();
  }

  if (const auto* c = std::get_if<tx::RemoveStake>(&xt.call)) {
    if (!s.hotkeyOwner(c->hotkey)) return err(E::kHotKeyAccountNotExists);
    if (c->amount == 0) return err(E::kAmountTooLow);
    Balance have = s.stake(c->hotkey, signer);
    if (have < c->amount) return err(E::kNotEnoughStakeToWithdraw, "stake " + std::to_string(have));
    s.setStake(c->hotkey, signer, have - c->amount);
    Account a = s.account(signer);
    a.free += c->amount;
    s.setAccount(signer, a);
    totals.stake -= c->amount;
    s.setTotals(totals);
    return ok();
  }

  // set_weights and reveal_weights share subtensor's checks (§9.4).
  auto setWeights = [&](NetUid netuid, const std::vector<Uid>& uids, const std::vector<std::uint16_t>& values,
                        std::uint64_t versionKey, bool fromReveal) -> Outcome {
    if (netuid == kRootNetUid) return err(E::kCanNotSetRootNetworkWeights);
    if (uids.size() != values.size()) return err(E::kWeightVecNotEqualSize);
    auto info = s.subnet(netuid);
    if (!info) return err(E::kSubNetworkDoesNotExist);
    if (uids.size() > info->n) return err(E::kUidsLengthExceedUidsInSubNet);
    auto uid = s.uidOf(netuid, signer);
    if (!uid) return err(E::kHotKeyNotRegisteredInSubNet);
    if (s.totalHotkeyStake(signer) < paramOf(*info, Hyper::kStakeThreshold))
      return err(E::kNotEnoughStakeToSetWeights);
    std::uint64_t networkKey = paramOf(*info, Hyper::kWeightsVersionKey);
    if (networkKey != 0 && versionKey < networkKey) return err(E::kIncorrectWeightVersionKey);
    auto n = s.neuron(netuid, *uid);
    MERIT_ASSERT(n.has_value());
    bool cr = paramOf(*info, Hyper::kCommitReveal) != 0;
    if (!fromReveal) {
      if (cr) return err(E::kCommitRevealEnabled, "use commit_weights and reveal_weights");
      std::uint64_t limit = paramOf(*info, Hyper::kWeightsRateLimit);
      if (n->lastUpdate != 0 && block - n->lastUpdate < limit) {
        return err(E::kSettingWeightsTooFast,
                   "next allowed at block " + std::to_string(n->lastUpdate + limit));
      }
    }
    consensus::SetWeightsRules rules;
    rules.callerUid = *uid;
    rules.subnetN = info->n;
    rules.minAllowedWeights = static_cast<std::uint16_t>(paramOf(*info, Hyper::kMinAllowedWeights));
    rules.maxWeightLimit = static_cast<std::uint16_t>(paramOf(*info, Hyper::kMaxWeightLimit));
    rules.callerHasPermit = n->validatorPermit;
    rules.callerIsOwner = false;
    auto row = consensus::checkAndUpscaleWeights(uids, values, rules);
    if (!row) return fromConsensusError(row.error());
    s.setWeights(netuid, *uid, *row);
    if (!fromReveal) {
      n->lastUpdate = block;
      s.setNeuron(netuid, *uid, *n);
    }
    return ok();
  };

  if (const auto* c = std::get_if<tx::SetWeights>(&xt.call)) {
    return setWeights(c->netuid, c->uids, c->values, c->versionKey, false);
  }

  if (const auto* c = std::get_if<tx::CommitWeights>(&xt.call)) {
    auto info = s.subnet(c->netuid);
    if (!info || c->netuid == kRootNetUid) return err(E::kSubNetworkDoesNotExist);
    if (paramOf(*info, Hyper::kCommitReveal) == 0) return err(E::kCommitRevealDisabled);
    auto uid = s.uidOf(c->netuid, signer);
    if (!uid) return err(E::kHotKeyNotRegisteredInSubNet);
    auto n = s.neuron(c->netuid, *uid);
    MERIT_ASSERT(n.has_value());
    std::uint64_t limit = paramOf(*info, Hyper::kWeightsRateLimit);
    if (n->lastUpdate != 0 && block - n->lastUpdate < limit) {
      return err(E::kSettingWeightsTooFast, "next allowed at block " + std::to_string(n->lastUpdate + limit));
    }
    std::uint64_t tempo = paramOf(*info, Hyper::kTempo);
    std::uint64_t period = paramOf(*info, Hyper::kRevealPeriodEpochs);
    std::uint64_t epoch = epochIndex(block, c->netuid, tempo);
    auto commits = s.commits(c->netuid, signer);
    // Expired commits no longer count against the limit.
    commits.erase(std::remove_if(commits.begin(), commits.end(),
                                 [&](const WeightCommit& w) { return epoch > w.epoch + period; }),
                  commits.end());
    if (commits.size() >= m_config.maxUnrevealedCommits) return err(E::kTooManyUnrevealedCommits);
    commits.push_back(WeightCommit{c->commitHash, epoch, block});
    s.setCommits(c->netuid, signer, commits);
    n->lastUpdate = block;
    s.setNeuron(c->netuid, *uid, *n);
    return ok();
  }

  if (const auto* c = std::get_if<tx::RevealWeights>(&xt.call)) {
    auto info = s.subnet(c->netuid);
    if (!info || c->netuid == kRootNetUid) return err(E::kSubNetworkDoesNotExist);
    if (paramOf(*info, Hyper::kCommitReveal) == 0) return err(E::kCommitRevealDisabled);
    if (!s.uidOf(c->netuid, signer)) return err(E::kHotKeyNotRegisteredInSubNet);
    auto commits = s.commits(c->netuid, signer);
    if (commits.empty()) return err(E::kNoWeightsCommitFound);
    auto pre =
        consensus::weightsCommitPreimage(signer, c->netuid, c->uids, c->values, c->salt, c->versionKey);
    crypto::Hash256 hash = crypto::blake2b256(pre);
    auto it =
        std::find_if(commits.begin(), commits.end(), [&](const WeightCommit& w) { return w.hash == hash; });
    if (it == commits.end()) return err(E::kInvalidRevealCommitHashNotMatch);
    std::uint64_t tempo = paramOf(*info, Hyper::kTempo);
    std::uint64_t period = paramOf(*info, Hyper::kRevealPeriodEpochs);
    std::uint64_t epoch = epochIndex(block, c->netuid, tempo);
    if (epoch < it->epoch + period)
      return err(E::kRevealTooEarly, "reveal in epoch " + std::to_string(it->epoch + period));
    if (epoch > it->epoch + period) return err(E::kExpiredWeightCommit);
    commits.erase(commits.begin(), it + 1);  // this commit and every earlier one
    s.setCommits(c->netuid, signer, commits);
    return setWeights(c->netuid, c->uids, c->values, c->versionKey, true);
  }

  if (const auto* c = std::get_if<tx::RootRegister>(&xt.call)) {
    AccountId hotkey = c->hotkey.accountId();
    auto owner = s.hotkeyOwner(hotkey);
    if (owner && *owner != signer) return err(E::kNonAssociatedColdKey);
    if (s.uidOf(kRootNetUid, hotkey)) return err(E::kHotKeyAlreadyRegisteredInSubNet);
    auto root = s.subnet(kRootNetUid);
    if (!root) return err(E::kRootNetworkDoesNotExist);
    Uid uid = root->n;
    if (root->n >= m_config.maxRootValidators) {
      // Full: replace the root validator with the least stake if this hotkey has more.
      std::optional<std::pair<Balance, Uid>> lowest;
      for (Uid u = 0; u < root->n; ++u) {
        auto n = s.neuron(kRootNetUid, u);
        MERIT_ASSERT(n.has_value());
        auto key = std::make_pair(s.totalHotkeyStake(n->hotkey), u);
        if (!lowest || key < *lowest) lowest = key;
      }
      if (!lowest || s.totalHotkeyStake(hotkey) <= lowest->first) return err(E::kStakeTooLowForRoot);
      uid = lowest->second;
      auto old = s.neuron(kRootNetUid, uid);
      s.setUidOf(kRootNetUid, old->hotkey, std::nullopt);
      s.setRootWeights(uid, {});
    } else {
      root->n += 1;
      s.setSubnet(kRootNetUid, *root);
    }
    if (!owner) s.setHotkeyOwner(hotkey, signer);
    seatNeuron(s, kRootNetUid, uid, c->hotkey, signer, block, 0);
    return ok();
  }

  if (const auto* c = std::get_if<tx::SetRootWeights>(&xt.call)) {
    if (c->netuids.size() != c->values.size()) return err(E::kWeightVecNotEqualSize);
    auto uid = s.uidOf(kRootNetUid, signer);
    if (!uid) return err(E::kHotKeyNotRegisteredInSubNet, "not a root validator");
    std::set<NetUid> seen;
    for (NetUid k : c->netuids) {
      if (!seen.insert(k).second) return err(E::kDuplicateUids);
      if (k == kRootNetUid || !s.subnet(k))
        return err(E::kUidVecContainInvalidOne, "no subnet " + std::to_string(k));
    }
    auto n = s.neuron(kRootNetUid, *uid);
    MERIT_ASSERT(n.has_value());
    if (n->lastUpdate != 0 && block - n->lastUpdate < m_config.rootWeightsRateLimit) {
      return err(E::kSettingWeightsTooFast,
                 "next allowed at block " + std::to_string(n->lastUpdate + m_config.rootWeightsRateLimit));
    }
    std::vector<std::pair<NetUid, std::uint16_t>> row;
    for (std::size_t i = 0; i < c->netuids.size(); ++i) row.emplace_back(c->netuids[i], c->values[i]);
    s.setRootWeights(*uid, row);
    n->lastUpdate = block;
    s.setNeuron(kRootNetUid, *uid, *n);
    return ok();
  }

  MERIT_ASSERT(false, tx::callName(xt.call));
  return {tx::ChainError::fromName("Internal")};
}

void Runtime::runRootEpoch(StateView& s, std::uint64_t block) const {
  auto netuids = s.netuids();
  std::vector<NetUid> subnets;
  for (NetUid k : netuids) {
    if (k == kRootNetUid) continue;
    auto info = s.subnet(k);
    if (info && info->params.get(Hyper::kRegistrationAllowed) != 0) subnets.push_back(k);
  }
  if (subnets.empty()) return;
  Totals t = s.totals();
  Balance perBlock = consensus::blockEmission(t.issuance, m_config.blockEmission);

  std::vector<Balance> shares;
  auto root = s.subnet(kRootNetUid);
  if (root && root->n > 0) {
    consensus::RootEpochInput in;
    in.kappa = m_config.rootKappa;
    in.rho = m_config.rootRho;
    in.blockEmission = perBlock;
    for (Uid u = 0; u < root->n; ++u) {
      auto n = s.neuron(kRootNetUid, u);
      MERIT_ASSERT(n.has_value());
      in.stake.push_back(s.totalHotkeyStake(n->hotkey));
      std::map<NetUid, std::uint16_t> w;
      for (auto [k, v] : s.rootWeights(u)) w[k] = v;
      std::vector<std::uint16_t> row;
      for (NetUid k : subnets) row.push_back(w.count(k) ? w[k] : 0);
      in.weights.push_back(std::move(row));
    }
    if (auto r = consensus::rootEpoch(in)) shares = *r;
  }
  Balance total = 0;
  for (auto v : shares) total += v;
  if (total == 0) {
    // No root validator has stake and weights yet: split evenly so a fresh network still pays.
    shares.assign(subnets.size(), perBlock / subnets.size());
  }
  for (std::size_t i = 0; i < subnets.size(); ++i) {
    auto info = s.subnet(subnets[i]);
    info->emissionPerBlock = shares[i];
    s.setSubnet(subnets[i], *info);
  }
  (void)block;
}

void Runtime::runSubnetEpoch(StateView& s, NetUid netuid, SubnetInfo& info, std::uint64_t block) {
  Totals t = s.totals();
  Balance emission = info.pendingEmission;
  info.pendingEmission = 0;
  Balance cut = consensus::ownerCut(emission, m_config.subnetOwnerCut);
  if (cut > 0) {
    Account owner = s.account(info.owner);
    owner.free += cut;
    s.setAccount(info.owner, owner);
    t.issuance += cut;
    t.emitted += cut;
  }
  consensus::EpochInput in;
  in.currentBlock = block;
  in.tempo = static_cast<std::uint16_t>(info.params.get(Hyper::kTempo));
  in.raoEmission = emission - cut;
  in.lastMechanismStepBlock = info.lastEpochBlock;
  auto& h = in.hyperparameters;
  h.kappa = static_cast<std::uint16_t>(info.params.get(Hyper::kKappa));
  h.bondsPenalty = static_cast<std::uint16_t>(info.params.get(Hyper::kBondsPenalty));
  h.bondsMovingAverage = info.params.get(Hyper::kBondsMovingAverage);
  h.yuma3 = info.params.get(Hyper::kYuma3) != 0;
  h.liquidAlpha = info.params.get(Hyper::kLiquidAlpha) != 0;
  h.alphaLow = static_cast<std::uint16_t>(info.params.get(Hyper::kAlphaLow));
  h.alphaHigh = static_cast<std::uint16_t>(info.params.get(Hyper::kAlphaHigh));
  h.activityCutoff = info.params.get(Hyper::kActivityCutoff);
  h.maxAllowedValidators = static_cast<std::uint16_t>(info.params.get(Hyper::kMaxAllowedValidators));
  h.stakeThreshold = info.params.get(Hyper::kStakeThreshold);
  h.commitReveal = info.params.get(Hyper::kCommitReveal) != 0;
  std::vector<Neuron> neurons;
  for (Uid u = 0; u < info.n; ++u) {
    auto n = s.neuron(netuid, u);
    MERIT_ASSERT(n.has_value(), netuid, u);
    consensus::NeuronInput ni;
    ni.stake = s.totalHotkeyStake(n->hotkey);
    ni.lastUpdate = n->lastUpdate;
    ni.blockAtRegistration = n->blockAtRegistration;
    ni.validatorPermit = n->validatorPermit;
    ni.weights = s.weights(netuid, u);
    ni.bonds = s.bonds(netuid, u);
    if (h.commitReveal) {
      auto commits = s.commits(netuid, n->hotkey);
      if (!commits.empty()) ni.commitBlock = commits.front().block;
    }
    in.neurons.push_back(std::move(ni));
    neurons.push_back(std::move(*n));
  }
  auto out = consensus::runEpoch(in, m_epochWorkspace);
  // Our own state always satisfies the epoch's contracts; anything else is a bug.
  MERIT_ASSERT(out.has_value(), netuid, out ? std::string() : out.error().message());
  for (Uid u = 0; u < info.n; ++u) {
    Neuron& n = neurons[u];
    n.active = out->active[u];
    n.stakeWeight = out->stakeWeight[u];
    n.consensus = out->consensus[u];
    n.incentive = out->incentive[u];
    n.dividends = out->dividends[u];
    n.validatorTrust = out->validatorTrust[u];
    n.emission = out->emission[u];
    n.validatorPermit = out->validatorPermit[u];
    s.setNeuron(netuid, u, n);
    s.setBonds(netuid, u, out->bonds[u]);
    // Incentive and dividends become stake of the hotkey, held by its owning coldkey.
    mintStake(s, t, n.hotkey, n.coldkey, out->serverEmission[u] + out->validatorEmission[u]);
  }
  info.lastEpochBlock = block;
  s.setTotals(t);
}

void Runtime::onInitialize(Overlay& block, std::uint64_t blockNumber) {
  StateView s(block);
  auto netuids = s.netuids();
  if (netuids.empty()) return;

  if (s.subnet(kRootNetUid) && isEpochBlock(blockNumber, kRootNetUid, m_config.rootTempo)) {
    runRootEpoch(s, blockNumber);
  }
  for (NetUid netuid : netuids) {
    if (netuid == kRootNetUid) continue;
    auto info = s.subnet(netuid);
    MERIT_ASSERT(info.has_value(), netuid);
    // Emission accrues every block; it is issued only when the epoch pays it out.
    info->pendingEmission += info->emissionPerBlock;
    // Classic burn adjustment every adjustment_interval blocks (AdjustmentAlpha = 0):
    // burn' = burn * (regs + target) / (2 * target), clamped to [min_burn, max_burn].
    std::uint64_t interval = info->params.get(Hyper::kAdjustmentInterval);
    if (blockNumber - info->lastAdjustmentBlock >= interval) {
      std::uint64_t target = info->params.get(Hyper::kTargetRegistrationsPerInterval);
      unsigned __int128 next =
          static_cast<unsigned __int128>(info->burn) * (info->registrationsThisInterval + target);
      next /= 2 * target;
      Balance burn = next > UINT64_MAX ? UINT64_MAX : static_cast<Balance>(next);
      info->burn = std::clamp(burn, info->params.get(Hyper::kMinBurn), info->params.get(Hyper::kMaxBurn));
      info->registrationsThisInterval = 0;
      info->lastAdjustmentBlock = blockNumber;
    }
    if (isEpochBlock(blockNumber, netuid, info->params.get(Hyper::kTempo))) {
      runSubnetEpoch(s, netuid, *info, blockNumber);
    }
    s.setSubnet(netuid, *info);
  }
}

Result<void> Runtime::buildGenesis(Overlay& state, const std::vector<std::pair<AccountId, Balance>>& balances,
                                   const std::vector<GenesisSubnet>& subnets) const {
  StateView s(state);
  Totals t;
  for (const auto& [id, amount] : balances) {
    Account a = s.account(id);
    if (!checkedAdd(a.free, amount, a.free) || !checkedAdd(t.genesis, amount, t.genesis) ||
        t.genesis > kMaxGenesisTotal) {
      return fail(ErrorCode::kInvalidArgument,
                  "genesis balances add up to more than " + std::to_string(kMaxGenesisTotal) + " rao (2^62)");
    }
    s.setAccount(id, a);
  }
  t.issuance = t.genesis;
  s.setTotals(t);
  // The root network exists from genesis; its validators join with root_register.
  SubnetInfo root;
  root.plugin = "root";
  root.params = m_config.defaultParams;
  root.params.set(Hyper::kTempo, m_config.rootTempo);
  root.params.set(Hyper::kMaxAllowedUids, m_config.maxRootValidators);
  root.params.set(Hyper::kRegistrationAllowed, 0);
  s.setSubnet(kRootNetUid, root);
  std::vector<NetUid> netuids = {kRootNetUid};
  NetUid next = 1;
  for (const auto& g : subnets) {
    if (!validPluginName(g.plugin))
      return fail(ErrorCode::kInvalidArgument,
                  "genesis subnet plugin '" + g.plugin + "' is not a valid name");
    SubnetInfo info;
    info.owner = g.owner;
    info.plugin = g.plugin;
    info.pluginVersion = g.pluginVersion;
    info.params = m_config.defaultParams;
    for (const auto& [h, v] : g.overrides) {
      auto r = hyperRange(h);
      if (v < r.min || v > r.max) {
        return fail(ErrorCode::kInvalidArgument,
                    "genesis subnet " + std::to_string(next) + ": " + std::string(tx::hyperName(h)) + " = " +
                        std::to_string(v) + " is outside [" + std::to_string(r.min) + ", " +
                        std::to_string(r.max) + "]");
      }
      info.params.set(h, v);
    }
    info.burn =
        std::clamp(m_config.initialBurn, info.params.get(Hyper::kMinBurn), info.params.get(Hyper::kMaxBurn));
    s.setSubnet(next, info);
    netuids.push_back(next++);
  }
  s.setNetuids(netuids);
  // Shares for block 1 onward, before the first root epoch.
  runRootEpoch(s, 0);
  return {};
}

}  // namespace merit::chain
