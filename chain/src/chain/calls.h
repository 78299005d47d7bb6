// The runtime's call handlers: one overload of handle() per call type, grouped by family in
// calls_<family>.cpp. Runtime::dispatch visits the call variant with them, so a call type added to
// tx::Call without a handler here does not compile (no matching overload), instead of aborting a
// running node.
//
// Every handler reads and writes state only through ctx.state, whose Overlay holds the call's
// own writes: Runtime::apply keeps them only when the handler returns success, so a handler may
// fail after writing. Handlers are pure functions of (state, signer, block, config).
//
// Thread-safety: as Runtime::apply (each caller with its own Overlay).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "merit/chain/runtime.h"
#include "merit/chain/types.h"
#include "merit/tx/chain_error.h"
#include "merit/tx/extrinsic.h"

namespace merit::chain::calls {

struct CallContext {
  StateView& state;
  const AccountId& signer;
  std::uint64_t block;  // the block being built
  const RuntimeConfig& config;
};

using E = tx::ChainErrorCode;

inline Outcome ok() {
  return {};
}
inline Outcome err(E code, std::string detail = {}) {
  return {tx::ChainError(code, std::move(detail))};
}
inline std::uint64_t paramOf(const SubnetInfo& s, Hyper h) {
  return s.params.get(h);
}
inline bool checkedAdd(Balance a, Balance b, Balance& out) {
  return !__builtin_add_overflow(a, b, &out);
}
// 1-64 of a-z 0-9 _.
bool validPluginName(const std::string& name);

// Removes `uid`'s data so a new hotkey can take it (subtensor's replace_neuron).
void clearUid(StateView& s, NetUid netuid, const SubnetInfo& info, Uid uid);
// Puts a freshly registered hotkey at `uid` (its previous occupant already cleared).
void seatNeuron(StateView& s, NetUid netuid, Uid uid, const crypto::AnyPublicKey& hotkey,
                const AccountId& coldkey, std::uint64_t block, std::uint64_t lastUpdate);

// Balances and stake (calls_balances.cpp).
Outcome handle(const CallContext& ctx, const tx::Transfer& c);
Outcome handle(const CallContext& ctx, const tx::AddStake& c);
Outcome handle(const CallContext& ctx, const tx::RemoveStake& c);
// Subnet creation and owner administration (calls_subnet.cpp).
Outcome handle(const CallContext& ctx, const tx::CreateSubnet& c);
Outcome handle(const CallContext& ctx, const tx::SetHyperparameter& c);
// Registration (calls_registration.cpp).
Outcome handle(const CallContext& ctx, const tx::BurnedRegister& c);
// Serving (calls_serving.cpp).
Outcome handle(const CallContext& ctx, const tx::ServeAxon& c);
// Weights, direct and commit-reveal (calls_weights.cpp).
Outcome handle(const CallContext& ctx, const tx::SetWeights& c);
Outcome handle(const CallContext& ctx, const tx::CommitWeights& c);
Outcome handle(const CallContext& ctx, const tx::RevealWeights& c);
// The root network (calls_root.cpp).
Outcome handle(const CallContext& ctx, const tx::RootRegister& c);
Outcome handle(const CallContext& ctx, const tx::SetRootWeights& c);

}  // namespace merit::chain::calls
