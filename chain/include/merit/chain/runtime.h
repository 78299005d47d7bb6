// The runtime: how extrinsics change state, and what happens at each block (emission, the root
// epoch, each subnet's Yuma epoch, registration pricing). Deterministic: no clock, threads or
// randomness; the block number is its only notion of time.
//
// Thread-safety: all chain state is in the Overlay passed in. The const methods (validate(),
// apply(), buildGenesis() and the epoch schedule) read only the configuration and may be called
// from any thread, each caller with its own Overlay. onInitialize() is not const: it runs the
// block's subnet epochs one after another in one reused consensus::EpochWorkspace, so calls on
// one Runtime must not overlap. Node calls it only from produceBlock(), under its produce mutex
// (one block at a time), so a Node's Runtime needs no lock of its own. The workspace is scratch
// memory that carries nothing from one epoch to the next, so results never depend on it.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "merit/chain/epoch_history.h"
#include "merit/chain/types.h"
#include "merit/consensus/epoch.h"
#include "merit/tx/chain_error.h"
#include "merit/tx/extrinsic.h"

namespace merit::chain {

// The most rao the genesis balances may hold in all. Every stake is bought with issued rao, and a
// subnet epoch refuses a total stake of 2^63 or more (merit/consensus/epoch.h, kMaxTotalStake);
// with at most 21M MERIT ever emitted on top (kTotalSupply), a genesis of at most 2^62 keeps every
// stake total, and issuance, far below that, so no later block can fail on it.
inline constexpr Balance kMaxGenesisTotal = Balance{1} << 62;
// The largest economics.block_emission (1000 MERIT per block), for the same reason.
inline constexpr Balance kMaxBlockEmission = 1000 * tx::kRaoPerMerit;

struct RuntimeConfig {
  Balance blockEmission = 1'000'000'000;  // base emission per block, before halvings
  std::uint16_t subnetOwnerCut = 11'796;  // u16 proportion (18%)
  Balance subnetLockCost = 100 * tx::kRaoPerMerit;
  std::uint16_t subnetLimit = 32;          // non-root subnets
  Balance initialBurn = tx::kRaoPerMerit;  // a new subnet's registration price
  std::uint32_t maxRegistrationsPerBlock = 1;
  std::uint16_t rootTempo = 100;
  std::uint16_t rootKappa = 32767;
  std::uint16_t rootRho = 10;
  std::uint16_t maxRootValidators = 64;
  std::uint64_t rootWeightsRateLimit = 100;
  // serve_axon refuses unspecified (0.0.0.0, ::), loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104)
  // and link-local (169.254.0.0/16, fe80::/10) addresses unless this is set: the --dev preset sets
  // it so a whole network can run on one machine. (Name kept from when it covered loopback only.)
  bool allowLoopbackAxons = false;
  std::uint32_t maxUnrevealedCommits = 10;
  // Flat fee per included extrinsic, burned; paid even when the call fails. On by default (0.0001
  // MERIT): it is what makes filling blocks cost something. 0 = fees off, the --dev preset's
  // choice (configs/chain.yaml says why). The mempool refuses extrinsics whose signer cannot pay
  // it, and the fees of everything the signer already has waiting.
  Balance extrinsicFee = 100'000;
  SubnetParams defaultParams = SubnetParams::defaults();
};

// What an included extrinsic did: success, or the chain error (subtensor's names where they exist:
// SettingWeightsTooFast, NotEnoughBalanceToStake, ...) with a human-readable detail.
struct Outcome {
  std::optional<tx::ChainError> error;  // empty on success

  bool success() const { return !error.has_value(); }
};

class Runtime {
 public:
  Runtime(RuntimeConfig config, crypto::Hash256 genesisHash);

  const RuntimeConfig& config() const { return m_config; }
  const crypto::Hash256& genesisHash() const { return m_genesis; }

  // Checks an extrinsic could be included at `block` on top of `state`, in this order: expiry,
  // a used nonce, the fee when fees are on, the signature, then a nonce ahead of the account's
  // next one. Failures are kExpired, kStale, kPayment, kBadSignature or kFuture. kFuture therefore
  // means everything else holds: the sender can pay and signed it.
  //
  // SignatureCheck::kAlreadyVerified skips only the signature check, for an extrinsic whose
  // signature this runtime (the same genesis hash) already verified on exactly these decoded
  // fields: the signature depends on nothing else, while every other check reads state and runs
  // again.
  enum class SignatureCheck { kVerify, kAlreadyVerified };
  tx::ChainResult<void> validate(const tx::Extrinsic& xt, const StateReader& state, std::uint64_t block,
                                 SignatureCheck signature = SignatureCheck::kVerify) const;

  // Signatures this runtime has verified (validate() with kVerify that got that far), for tests
  // and benchmarks. Any thread.
  std::uint64_t signatureChecks() const { return m_signatureChecks.load(std::memory_order_relaxed); }

  // Includes a validated extrinsic: the nonce advances and the fee is paid whatever happens; the
  // call's own writes are kept only if it succeeds.
  Outcome apply(Overlay& block, const tx::Extrinsic& xt, std::uint64_t blockNumber) const;

  // Runs before the block's extrinsics: emission accrual, root epoch, subnet epochs, burn
  // adjustment, per-block registration counters. One call at a time (see the top of this file).
  // With `epochs`, each subnet epoch run in this block is appended to it, exactly as run (its
  // input moved in after the epoch, its output after the state is written: nothing is copied
  // and the epoch's results do not depend on it); the node stores them as epoch history.
  void onInitialize(Overlay& block, std::uint64_t blockNumber, std::vector<EpochRecord>* epochs = nullptr);

  // Genesis: balances (issuance starts at their sum, at most kMaxGenesisTotal) and pre-created
  // subnets.
  struct GenesisSubnet {
    AccountId owner{};
    std::string plugin;
    std::uint32_t pluginVersion = 0;
    std::vector<std::pair<Hyper, std::uint64_t>> overrides;
  };
  Result<void> buildGenesis(Overlay& state, const std::vector<std::pair<AccountId, Balance>>& balances,
                            const std::vector<GenesisSubnet>& subnets) const;

  // Epoch schedule: subnet `netuid` runs its epoch at blocks where (block + netuid + 1) % (tempo + 1) == 0.
  static bool isEpochBlock(std::uint64_t block, NetUid netuid, std::uint64_t tempo);
  static std::uint64_t blocksUntilNextEpoch(std::uint64_t block, NetUid netuid, std::uint64_t tempo);
  static std::uint64_t epochIndex(std::uint64_t block, NetUid netuid, std::uint64_t tempo);

  // The order in which a full subnet gives up uids to new registrations at `block`: non-immune
  // neurons before immune ones (immune while block - registration block < immunity_period), then
  // the lowest emission, the earliest registration, the lowest uid. The subnet owner's hotkeys
  // are never replaced and are not listed. A registration into a full subnet takes the first.
  static std::vector<Uid> pruningOrder(const StateView& s, NetUid netuid, const SubnetInfo& info,
                                       std::uint64_t block);

 private:
  Outcome dispatch(Overlay& o, const AccountId& signer, const tx::Extrinsic& xt, std::uint64_t block) const;
  void runSubnetEpoch(StateView& s, NetUid netuid, SubnetInfo& info, std::uint64_t block,
                      std::vector<EpochRecord>* epochs);
  void runRootEpoch(StateView& s, std::uint64_t block) const;

  RuntimeConfig m_config;
  crypto::Hash256 m_genesis;
  mutable std::atomic<std::uint64_t> m_signatureChecks{0};
  // Working memory of the subnet epochs, shared by all subnets because a block runs its epochs
  // one at a time: it grows to the largest epoch seen (tens of MB for a dense 4096-neuron
  // subnet, see epoch.h) and is never larger, however many subnets there are. Reusing it keeps
  // each epoch from mapping fresh memory, whose page faults cost about as much as the epoch's
  // arithmetic (docs/PERFORMANCE.md).
  consensus::EpochWorkspace m_epochWorkspace;
};

}  // namespace merit::chain
