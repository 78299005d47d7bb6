#include "merit/chain/runtime.h"

#include <algorithm>
#include <map>
#include <variant>

#include "merit/consensus/emission.h"
#include "merit/consensus/weights.h"
#include "merit/util/assert.h"

#include "calls.h"

namespace merit::chain {

// Issuance (and so every stake total) stays below the epoch's limit: a genesis of at most
// kMaxGenesisTotal, all 21M MERIT of emission, and a generous allowance for emission already
// accrued when it stops (root tempo x block emission, both bounded by the config).
static_assert(kMaxGenesisTotal + consensus::kTotalSupply + Balance{50'400} * kMaxBlockEmission * 4 <
              consensus::kMaxTotalStake);

namespace {

using calls::checkedAdd;
using calls::paramOf;
using calls::validPluginName;
using tx::Extrinsic;
using E = tx::ChainErrorCode;

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

tx::ChainResult<void> Runtime::validate(const Extrinsic& xt, const StateReader& state, std::uint64_t block,
                                        SignatureCheck signature) const {
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
  if (signature == SignatureCheck::kVerify) {
    m_signatureChecks.fetch_add(1, std::memory_order_relaxed);
    if (auto v = tx::verifyExtrinsic(xt, m_genesis); !v) {
      return tx::chainFail(E::kBadSignature, v.error().message());
    }
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
  const calls::CallContext ctx{s, signer, block, m_config};
  // One handler per call type (calls.h): a call type without one does not compile.
  return std::visit([&](const auto& call) { return calls::handle(ctx, call); }, xt.call);
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
      row.reserve(subnets.size());
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

void Runtime::runSubnetEpoch(StateView& s, NetUid netuid, SubnetInfo& info, std::uint64_t block,
                             std::vector<EpochRecord>* epochs) {
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
  if (epochs) {
    EpochRecord rec;
    rec.netuid = netuid;
    rec.block = block;
    rec.hotkeys.reserve(neurons.size());
    for (const Neuron& n : neurons) rec.hotkeys.push_back(n.hotkey);
    rec.input = std::move(in);
    rec.output = std::move(*out);
    epochs->push_back(std::move(rec));
  }
}

void Runtime::onInitialize(Overlay& block, std::uint64_t blockNumber, std::vector<EpochRecord>* epochs) {
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
      runSubnetEpoch(s, netuid, *info, blockNumber, epochs);
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
