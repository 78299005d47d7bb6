// The chain's stored records and the typed view of state the runtime works through.
//
// Thread-safety: values; a StateView wraps one Overlay and belongs to its thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "merit/chain/state.h"
#include "merit/consensus/epoch.h"
#include "merit/tx/extrinsic.h"

namespace merit::chain {

using tx::AccountId;
using tx::Balance;
using tx::Hyper;
using tx::NetUid;
using tx::Uid;

inline constexpr NetUid kRootNetUid = 0;
inline constexpr std::size_t kHyperCount = static_cast<std::size_t>(Hyper::kStakeThreshold);

struct Account {
  Balance free = 0;
  std::uint64_t nonce = 0;  // number of extrinsics this account has had included
};

// Owner-settable parameters, indexed by Hyper (1-based enum → index - 1).
struct SubnetParams {
  std::array<std::uint64_t, kHyperCount> values{};
  std::uint64_t get(Hyper h) const { return values[static_cast<std::size_t>(h) - 1]; }
  void set(Hyper h, std::uint64_t v) { values[static_cast<std::size_t>(h) - 1] = v; }
  static SubnetParams defaults();
};

// The range each hyperparameter accepts; out of range is InvalidHyperparameterValue.
struct HyperRange {
  std::uint64_t min;
  std::uint64_t max;
};
HyperRange hyperRange(Hyper h);

struct SubnetInfo {
  AccountId owner{};   // the owner's coldkey
  std::string plugin;  // subnet plugin name
  std::uint32_t pluginVersion = 0;
  SubnetParams params;
  Balance locked = 0;            // lock paid at creation
  Balance burn = 0;              // current registration price
  std::uint16_t n = 0;           // registered neurons (uids 0..n-1)
  Balance emissionPerBlock = 0;  // set by the root epoch
  Balance pendingEmission = 0;   // accrued since the last epoch
  std::uint64_t lastEpochBlock = 0;
  std::uint64_t createdBlock = 0;
  std::uint32_t registrationsThisInterval = 0;
  std::uint32_t registrationsThisBlock = 0;
  std::uint64_t lastRegistrationBlock = 0;
  std::uint64_t lastAdjustmentBlock = 0;
};

struct AxonInfo {
  std::uint64_t block = 0;
  std::uint32_t version = 0;
  std::array<std::uint8_t, 16> ip{};
  std::uint16_t port = 0;
  std::uint8_t ipType = 0;
  std::uint8_t protocol = 0;
  std::array<std::uint8_t, 32> curveKey{};
};

struct Neuron {
  // A neuron always has its hotkey's key; `hotkey` is that key's account id.
  explicit Neuron(const crypto::AnyPublicKey& key) : hotkey(key.accountId()), hotkeyPub(key) {}

  AccountId hotkey{};
  // The hotkey's public key, of either scheme, so peers can verify the hotkey's signatures; its
  // account id is `hotkey`. Stored tagged (crypto/any_key.h).
  crypto::AnyPublicKey hotkeyPub;
  AccountId coldkey{};
  std::uint64_t blockAtRegistration = 0;
  std::uint64_t lastUpdate = 0;
  bool validatorPermit = false;
  bool active = false;
  std::uint16_t stakeWeight = 0;
  std::uint16_t consensus = 0;
  std::uint16_t incentive = 0;
  std::uint16_t dividends = 0;
  std::uint16_t validatorTrust = 0;
  std::uint64_t emission = 0;  // last epoch's emission to this uid
  std::optional<AxonInfo> axon;
};

struct WeightCommit {
  crypto::Hash256 hash{};
  std::uint64_t epoch = 0;  // commit epoch index
  std::uint64_t block = 0;
};

// Totals for the issuance invariant: issuance = genesis + emitted - burned
//                                             = Σ free + Σ stake + Σ locked.
struct Totals {
  Balance issuance = 0;
  Balance genesis = 0;
  Balance emitted = 0;
  Balance burned = 0;
  Balance stake = 0;
  Balance locked = 0;
};

// Typed reads and writes over an Overlay. Every key is documented in docs/RPC.md ("State").
class StateView {
 public:
  explicit StateView(Overlay& overlay) : m_o(overlay) {}

  Account account(const AccountId& id) const;
  void setAccount(const AccountId& id, const Account& a);

  Totals totals() const;
  void setTotals(const Totals& t);

  std::vector<NetUid> netuids() const;  // existing subnets, including root once created
  void setNetuids(const std::vector<NetUid>& v);
  std::optional<SubnetInfo> subnet(NetUid netuid) const;
  void setSubnet(NetUid netuid, const SubnetInfo& s);

  std::optional<Neuron> neuron(NetUid netuid, Uid uid) const;
  void setNeuron(NetUid netuid, Uid uid, const Neuron& n);
  std::optional<Uid> uidOf(NetUid netuid, const AccountId& hotkey) const;
  void setUidOf(NetUid netuid, const AccountId& hotkey, std::optional<Uid> uid);

  std::vector<consensus::UidValue> weights(NetUid netuid, Uid uid) const;
  void setWeights(NetUid netuid, Uid uid, const std::vector<consensus::UidValue>& w);
  std::vector<consensus::UidValue> bonds(NetUid netuid, Uid uid) const;
  void setBonds(NetUid netuid, Uid uid, const std::vector<consensus::UidValue>& b);
  std::vector<WeightCommit> commits(NetUid netuid, const AccountId& hotkey) const;
  void setCommits(NetUid netuid, const AccountId& hotkey, const std::vector<WeightCommit>& c);

  std::optional<AccountId> hotkeyOwner(const AccountId& hotkey) const;
  void setHotkeyOwner(const AccountId& hotkey, const AccountId& coldkey);

  Balance stake(const AccountId& hotkey, const AccountId& coldkey) const;
  void setStake(const AccountId& hotkey, const AccountId& coldkey, Balance amount);
  Balance totalHotkeyStake(const AccountId& hotkey) const;
  // Coldkeys with stake on a hotkey, and hotkeys a coldkey has stake on.
  std::vector<AccountId> stakersOf(const AccountId& hotkey) const;
  std::vector<AccountId> stakedHotkeysOf(const AccountId& coldkey) const;

  // Root-network weights of a root validator (uid on netuid 0): (netuid, value) pairs.
  std::vector<std::pair<NetUid, std::uint16_t>> rootWeights(Uid uid) const;
  void setRootWeights(Uid uid, const std::vector<std::pair<NetUid, std::uint16_t>>& w);

 private:
  Overlay& m_o;
};

}  // namespace merit::chain
