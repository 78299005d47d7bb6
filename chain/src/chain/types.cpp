#include "merit/chain/types.h"

#include <algorithm>
#include <limits>

#include "merit/util/assert.h"
#include "merit/util/codec.h"

namespace merit::chain {

namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

// Keys. Integers are big-endian hex so keys sort numerically.
std::string hex16(std::uint16_t v) {
  Bytes b = {static_cast<std::byte>(v >> 8), static_cast<std::byte>(v)};
  return toHex(b);
}
std::string acct(const AccountId& a) {
  return toHex(a);
}

std::string accountKey(const AccountId& a) {
  return "account/" + acct(a);
}
std::string subnetKey(NetUid n) {
  return "subnet/" + hex16(n);
}
std::string neuronKey(NetUid n, Uid u) {
  return "neuron/" + hex16(n) + "/" + hex16(u);
}
std::string uidKey(NetUid n, const AccountId& h) {
  return "uid/" + hex16(n) + "/" + acct(h);
}
std::string weightsKey(NetUid n, Uid u) {
  return "weights/" + hex16(n) + "/" + hex16(u);
}
std::string bondsKey(NetUid n, Uid u) {
  return "bonds/" + hex16(n) + "/" + hex16(u);
}
std::string commitsKey(NetUid n, const AccountId& h) {
  return "commits/" + hex16(n) + "/" + acct(h);
}
std::string ownerKey(const AccountId& h) {
  return "owner/" + acct(h);
}
std::string stakeKey(const AccountId& h, const AccountId& c) {
  return "stake/" + acct(h) + "/" + acct(c);
}
std::string hotkeyStakeKey(const AccountId& h) {
  return "hotkey_stake/" + acct(h);
}
std::string stakersKey(const AccountId& h) {
  return "stakers/" + acct(h);
}
std::string stakedKey(const AccountId& c) {
  return "staked/" + acct(c);
}
std::string rootWeightsKey(Uid u) {
  return "root_weights/" + hex16(u);
}
constexpr std::string_view kTotalsKey = "totals";
constexpr std::string_view kNetuidsKey = "netuids";

// Stored records are written only by this file; one that does not decode is a corrupted
// database, which is not something the chain can carry on from.
void checkDecoded(const ByteReader& r, std::string_view what) {
  auto ok = r.finish(what);
  MERIT_ASSERT(ok.has_value(), ok ? std::string() : ok.error().message());
}

// A tagged public key in the state (written by setNeuron, so a failure is corruption).
crypto::AnyPublicKey readStateKey(ByteReader& r) {
  std::uint8_t tag = r.u8();
  auto scheme = crypto::schemeFromTag(tag);
  MERIT_ASSERT(r.ok() && scheme.has_value(), "neuron key tag", tag);
  Result<crypto::AnyPublicKey> key = fail(ErrorCode::kInternal, "unread");
  if (*scheme == crypto::KeyScheme::kEcdsa) {
    auto b = r.raw<crypto::PublicKey::kSize>();
    key = crypto::AnyPublicKey::fromBytes(*scheme, b);
  } else {
    auto b = r.raw<crypto::sr25519::PublicKey::kSize>();
    key = crypto::AnyPublicKey::fromBytes(*scheme, b);
  }
  MERIT_ASSERT(key.has_value(), key ? std::string() : key.error().message());
  return *key;
}

void putUidValues(ByteWriter& w, const std::vector<consensus::UidValue>& v) {
  w.u32(static_cast<std::uint32_t>(v.size()));
  for (const auto& e : v) w.u16(e.uid).u16(e.value);
}
std::vector<consensus::UidValue> readUidValues(ByteReader& r) {
  std::uint32_t n = r.u32();
  std::vector<consensus::UidValue> out;
  if (n > consensus::kMaxNeurons) {
    r.setError("too many entries");
    return out;
  }
  out.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    consensus::UidValue e;
    e.uid = r.u16();
    e.value = r.u16();
    out.push_back(e);
  }
  return out;
}

void putAccounts(ByteWriter& w, const std::vector<AccountId>& v) {
  w.u32(static_cast<std::uint32_t>(v.size()));
  for (const auto& a : v) w.raw(a);
}
std::vector<AccountId> readAccounts(ByteReader& r) {
  std::uint32_t n = r.u32();
  std::vector<AccountId> out;
  for (std::uint32_t i = 0; r.ok() && i < n; ++i) out.push_back(r.raw<32>());
  return out;
}

template <std::size_t N>
ByteView u8view(const std::array<std::uint8_t, N>& a) {
  return {reinterpret_cast<const std::byte*>(a.data()), N};
}
template <std::size_t N>
std::array<std::uint8_t, N> u8array(const ByteArray<N>& b) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = std::to_integer<std::uint8_t>(b[i]);
  return out;
}

}  // namespace

SubnetParams SubnetParams::defaults() {
  SubnetParams p;
  p.set(Hyper::kTempo, 360);
  p.set(Hyper::kKappa, 32767);
  p.set(Hyper::kBondsMovingAverage, 900'000);
  p.set(Hyper::kBondsPenalty, 65535);
  p.set(Hyper::kYuma3, 0);
  p.set(Hyper::kLiquidAlpha, 0);
  p.set(Hyper::kAlphaLow, 45875);
  p.set(Hyper::kAlphaHigh, 58982);
  p.set(Hyper::kActivityCutoff, 5000);
  p.set(Hyper::kMaxAllowedValidators, 64);
  p.set(Hyper::kMaxAllowedUids, 256);
  p.set(Hyper::kImmunityPeriod, 5000);
  p.set(Hyper::kWeightsRateLimit, 100);
  p.set(Hyper::kMinAllowedWeights, 1);
  p.set(Hyper::kMaxWeightLimit, 65535);
  p.set(Hyper::kWeightsVersionKey, 0);
  p.set(Hyper::kCommitReveal, 0);
  p.set(Hyper::kRevealPeriodEpochs, 1);
  p.set(Hyper::kTargetRegistrationsPerInterval, 2);
  p.set(Hyper::kAdjustmentInterval, 100);
  p.set(Hyper::kMinBurn, 500'000);
  p.set(Hyper::kMaxBurn, 100 * tx::kRaoPerMerit);
  p.set(Hyper::kServingRateLimit, 50);
  p.set(Hyper::kRegistrationAllowed, 1);
  p.set(Hyper::kStakeThreshold, 0);
  return p;
}

HyperRange hyperRange(Hyper h) {
  switch (h) {
    case Hyper::kTempo: return {1, 50'400};
    case Hyper::kKappa: return {0, 65535};
    case Hyper::kBondsMovingAverage: return {0, 975'000};
    case Hyper::kBondsPenalty: return {0, 65535};
    case Hyper::kYuma3: return {0, 1};
    case Hyper::kLiquidAlpha: return {0, 1};
    case Hyper::kAlphaLow: return {1638, 65535};
    case Hyper::kAlphaHigh: return {1638, 65535};
    case Hyper::kActivityCutoff: return {1, 1'000'000};
    case Hyper::kMaxAllowedValidators: return {1, consensus::kMaxNeurons};
    case Hyper::kMaxAllowedUids: return {1, consensus::kMaxNeurons};
    case Hyper::kImmunityPeriod: return {0, 1'000'000};
    case Hyper::kWeightsRateLimit: return {0, 1'000'000};
    case Hyper::kMinAllowedWeights: return {0, consensus::kMaxNeurons};
    case Hyper::kMaxWeightLimit: return {1, 65535};
    case Hyper::kWeightsVersionKey: return {0, kU64Max};
    case Hyper::kCommitReveal: return {0, 1};
    case Hyper::kRevealPeriodEpochs: return {1, 100};
    case Hyper::kTargetRegistrationsPerInterval: return {1, 65535};
    case Hyper::kAdjustmentInterval: return {1, 65535};
    case Hyper::kMinBurn: return {0, kU64Max};
    case Hyper::kMaxBurn: return {1, kU64Max};
    case Hyper::kServingRateLimit: return {0, 1'000'000};
    case Hyper::kRegistrationAllowed: return {0, 1};
    case Hyper::kStakeThreshold: return {0, kU64Max};
  }
  return {0, 0};
}

Account StateView::account(const AccountId& id) const {
  Account a;
  if (auto v = m_o.get(accountKey(id))) {
    ByteReader r(*v);
    a.free = r.u64();
    a.nonce = r.u64();
    checkDecoded(r, "account");
  }
  return a;
}

void StateView::setAccount(const AccountId& id, const Account& a) {
  if (a.free == 0 && a.nonce == 0) {
    m_o.erase(accountKey(id));
    return;
  }
  ByteWriter w;
  w.u64(a.free).u64(a.nonce);
  m_o.put(accountKey(id), std::move(w).take());
}

Totals StateView::totals() const {
  Totals t;
  if (auto v = m_o.get(kTotalsKey)) {
    ByteReader r(*v);
    t.issuance = r.u64();
    t.genesis = r.u64();
    t.emitted = r.u64();
    t.burned = r.u64();
    t.stake = r.u64();
    t.locked = r.u64();
    checkDecoded(r, "totals");
  }
  return t;
}

void StateView::setTotals(const Totals& t) {
  ByteWriter w;
  w.u64(t.issuance).u64(t.genesis).u64(t.emitted).u64(t.burned).u64(t.stake).u64(t.locked);
  m_o.put(std::string(kTotalsKey), std::move(w).take());
}

std::vector<NetUid> StateView::netuids() const {
  if (auto v = m_o.get(kNetuidsKey)) {
    ByteReader r(*v);
    auto out = r.u16s(65536);
    checkDecoded(r, "netuids");
    return out;
  }
  return {};
}

void StateView::setNetuids(const std::vector<NetUid>& v) {
  ByteWriter w;
  w.u16s(v);
  m_o.put(std::string(kNetuidsKey), std::move(w).take());
}

std::optional<SubnetInfo> StateView::subnet(NetUid netuid) const {
  auto v = m_o.get(subnetKey(netuid));
  if (!v) return std::nullopt;
  ByteReader r(*v);
  SubnetInfo s;
  s.owner = r.raw<32>();
  s.plugin = r.str(tx::kMaxNameLen);
  s.pluginVersion = r.u32();
  for (auto& p : s.params.values) p = r.u64();
  s.locked = r.u64();
  s.burn = r.u64();
  s.n = r.u16();
  s.emissionPerBlock = r.u64();
  s.pendingEmission = r.u64();
  s.lastEpochBlock = r.u64();
  s.createdBlock = r.u64();
  s.registrationsThisInterval = r.u32();
  s.registrationsThisBlock = r.u32();
  s.lastRegistrationBlock = r.u64();
  s.lastAdjustmentBlock = r.u64();
  checkDecoded(r, "subnet");
  return s;
}

void StateView::setSubnet(NetUid netuid, const SubnetInfo& s) {
  ByteWriter w;
  w.raw(s.owner).str(s.plugin).u32(s.pluginVersion);
  for (auto p : s.params.values) w.u64(p);
  w.u64(s.locked).u64(s.burn).u16(s.n).u64(s.emissionPerBlock).u64(s.pendingEmission).u64(s.lastEpochBlock);
  w.u64(s.createdBlock).u32(s.registrationsThisInterval).u32(s.registrationsThisBlock);
  w.u64(s.lastRegistrationBlock).u64(s.lastAdjustmentBlock);
  m_o.put(subnetKey(netuid), std::move(w).take());
}

std::optional<Neuron> StateView::neuron(NetUid netuid, Uid uid) const {
  auto v = m_o.get(neuronKey(netuid, uid));
  if (!v) return std::nullopt;
  ByteReader r(*v);
  AccountId hotkey = r.raw<32>();
  auto hotkeyPub = readStateKey(r);
  Neuron n(hotkeyPub);
  n.hotkey = hotkey;
  n.coldkey = r.raw<32>();
  n.blockAtRegistration = r.u64();
  n.lastUpdate = r.u64();
  n.validatorPermit = r.boolean();
  n.active = r.boolean();
  n.stakeWeight = r.u16();
  n.consensus = r.u16();
  n.incentive = r.u16();
  n.dividends = r.u16();
  n.validatorTrust = r.u16();
  n.emission = r.u64();
  if (r.boolean()) {
    AxonInfo a;
    a.block = r.u64();
    a.version = r.u32();
    a.ip = u8array(r.raw<16>());
    a.port = r.u16();
    a.ipType = r.u8();
    a.protocol = r.u8();
    a.curveKey = u8array(r.raw<32>());
    n.axon = a;
  }
  checkDecoded(r, "neuron");
  return n;
}

void StateView::setNeuron(NetUid netuid, Uid uid, const Neuron& n) {
  ByteWriter w;
  w.raw(n.hotkey).raw(n.hotkeyPub.tagged()).raw(n.coldkey).u64(n.blockAtRegistration).u64(n.lastUpdate);
  w.boolean(n.validatorPermit).boolean(n.active).u16(n.stakeWeight).u16(n.consensus).u16(n.incentive);
  w.u16(n.dividends).u16(n.validatorTrust).u64(n.emission).boolean(n.axon.has_value());
  if (n.axon) {
    const auto& a = *n.axon;
    w.u64(a.block)
        .u32(a.version)
        .raw(u8view(a.ip))
        .u16(a.port)
        .u8(a.ipType)
        .u8(a.protocol)
        .raw(u8view(a.curveKey));
  }
  m_o.put(neuronKey(netuid, uid), std::move(w).take());
}

std::optional<Uid> StateView::uidOf(NetUid netuid, const AccountId& hotkey) const {
  auto v = m_o.get(uidKey(netuid, hotkey));
  if (!v) return std::nullopt;
  ByteReader r(*v);
  Uid u = r.u16();
  checkDecoded(r, "uid");
  return u;
}

void StateView::setUidOf(NetUid netuid, const AccountId& hotkey, std::optional<Uid> uid) {
  if (!uid) {
    m_o.erase(uidKey(netuid, hotkey));
    return;
  }
  ByteWriter w;
  w.u16(*uid);
  m_o.put(uidKey(netuid, hotkey), std::move(w).take());
}

std::vector<consensus::UidValue> StateView::weights(NetUid netuid, Uid uid) const {
  auto v = m_o.get(weightsKey(netuid, uid));
  if (!v) return {};
  ByteReader r(*v);
  auto out = readUidValues(r);
  checkDecoded(r, "weights");
  return out;
}

void StateView::setWeights(NetUid netuid, Uid uid, const std::vector<consensus::UidValue>& w) {
  if (w.empty()) {
    m_o.erase(weightsKey(netuid, uid));
    return;
  }
  ByteWriter bw;
  putUidValues(bw, w);
  m_o.put(weightsKey(netuid, uid), std::move(bw).take());
}

std::vector<consensus::UidValue> StateView::bonds(NetUid netuid, Uid uid) const {
  auto v = m_o.get(bondsKey(netuid, uid));
  if (!v) return {};
  ByteReader r(*v);
  auto out = readUidValues(r);
  checkDecoded(r, "bonds");
  return out;
}

void StateView::setBonds(NetUid netuid, Uid uid, const std::vector<consensus::UidValue>& b) {
  if (b.empty()) {
    m_o.erase(bondsKey(netuid, uid));
    return;
  }
  ByteWriter bw;
  putUidValues(bw, b);
  m_o.put(bondsKey(netuid, uid), std::move(bw).take());
}

std::vector<WeightCommit> StateView::commits(NetUid netuid, const AccountId& hotkey) const {
  auto v = m_o.get(commitsKey(netuid, hotkey));
  if (!v) return {};
  ByteReader r(*v);
  std::uint32_t n = r.u32();
  std::vector<WeightCommit> out;
  for (std::uint32_t i = 0; r.ok() && i < n; ++i) {
    WeightCommit c;
    c.hash = r.raw<32>();
    c.epoch = r.u64();
    c.block = r.u64();
    out.push_back(c);
  }
  checkDecoded(r, "commits");
  return out;
}

void StateView::setCommits(NetUid netuid, const AccountId& hotkey, const std::vector<WeightCommit>& c) {
  if (c.empty()) {
    m_o.erase(commitsKey(netuid, hotkey));
    return;
  }
  ByteWriter w;
  w.u32(static_cast<std::uint32_t>(c.size()));
  for (const auto& e : c) w.raw(e.hash).u64(e.epoch).u64(e.block);
  m_o.put(commitsKey(netuid, hotkey), std::move(w).take());
}

std::optional<AccountId> StateView::hotkeyOwner(const AccountId& hotkey) const {
  auto v = m_o.get(ownerKey(hotkey));
  if (!v) return std::nullopt;
  ByteReader r(*v);
  AccountId a = r.raw<32>();
  checkDecoded(r, "owner");
  return a;
}

void StateView::setHotkeyOwner(const AccountId& hotkey, const AccountId& coldkey) {
  m_o.put(ownerKey(hotkey), toBytes(ByteView(coldkey)));
}

Balance StateView::stake(const AccountId& hotkey, const AccountId& coldkey) const {
  auto v = m_o.get(stakeKey(hotkey, coldkey));
  if (!v) return 0;
  ByteReader r(*v);
  Balance b = r.u64();
  checkDecoded(r, "stake");
  return b;
}

Balance StateView::totalHotkeyStake(const AccountId& hotkey) const {
  auto v = m_o.get(hotkeyStakeKey(hotkey));
  if (!v) return 0;
  ByteReader r(*v);
  Balance b = r.u64();
  checkDecoded(r, "hotkey stake");
  return b;
}

std::vector<AccountId> StateView::stakersOf(const AccountId& hotkey) const {
  auto v = m_o.get(stakersKey(hotkey));
  if (!v) return {};
  ByteReader r(*v);
  auto out = readAccounts(r);
  checkDecoded(r, "stakers");
  return out;
}

std::vector<AccountId> StateView::stakedHotkeysOf(const AccountId& coldkey) const {
  auto v = m_o.get(stakedKey(coldkey));
  if (!v) return {};
  ByteReader r(*v);
  auto out = readAccounts(r);
  checkDecoded(r, "staked hotkeys");
  return out;
}

void StateView::setStake(const AccountId& hotkey, const AccountId& coldkey, Balance amount) {
  Balance old = stake(hotkey, coldkey);
  Balance total = totalHotkeyStake(hotkey) - old + amount;
  ByteWriter tw;
  tw.u64(total);
  if (total == 0) {
    m_o.erase(hotkeyStakeKey(hotkey));
  } else {
    m_o.put(hotkeyStakeKey(hotkey), std::move(tw).take());
  }
  auto stakers = stakersOf(hotkey);
  auto staked = stakedHotkeysOf(coldkey);
  auto drop = [](std::vector<AccountId>& v, const AccountId& a) {
    v.erase(std::remove(v.begin(), v.end(), a), v.end());
  };
  auto add = [](std::vector<AccountId>& v, const AccountId& a) {
    if (std::find(v.begin(), v.end(), a) == v.end()) v.push_back(a);
  };
  if (amount == 0) {
    m_o.erase(stakeKey(hotkey, coldkey));
    drop(stakers, coldkey);
    drop(staked, hotkey);
  } else {
    ByteWriter w;
    w.u64(amount);
    m_o.put(stakeKey(hotkey, coldkey), std::move(w).take());
    add(stakers, coldkey);
    add(staked, hotkey);
  }
  ByteWriter sw, hw;
  putAccounts(sw, stakers);
  putAccounts(hw, staked);
  m_o.put(stakersKey(hotkey), std::move(sw).take());
  m_o.put(stakedKey(coldkey), std::move(hw).take());
}

std::vector<std::pair<NetUid, std::uint16_t>> StateView::rootWeights(Uid uid) const {
  auto v = m_o.get(rootWeightsKey(uid));
  if (!v) return {};
  ByteReader r(*v);
  std::uint32_t n = r.u32();
  std::vector<std::pair<NetUid, std::uint16_t>> out;
  for (std::uint32_t i = 0; r.ok() && i < n; ++i) {
    NetUid k = r.u16();
    out.emplace_back(k, r.u16());
  }
  checkDecoded(r, "root weights");
  return out;
}

void StateView::setRootWeights(Uid uid, const std::vector<std::pair<NetUid, std::uint16_t>>& w) {
  if (w.empty()) {
    m_o.erase(rootWeightsKey(uid));
    return;
  }
  ByteWriter bw;
  bw.u32(static_cast<std::uint32_t>(w.size()));
  for (const auto& [k, v] : w) bw.u16(k).u16(v);
  m_o.put(rootWeightsKey(uid), std::move(bw).take());
}

}  // namespace merit::chain
