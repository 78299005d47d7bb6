// burned_register: a hotkey joins a subnet, replacing the first in the pruning order when it is full.
#include "merit/util/assert.h"

#include "calls.h"

namespace merit::chain::calls {

Outcome handle(const CallContext& ctx, const tx::BurnedRegister& c) {
  StateView& s = ctx.state;
  const AccountId& signer = ctx.signer;
  const std::uint64_t block = ctx.block;
  const RuntimeConfig& config = ctx.config;
  Totals totals = s.totals();
  if (c.netuid == kRootNetUid) return err(E::kRegistrationNotPermittedOnRootSubnet);
  auto info = s.subnet(c.netuid);
  if (!info) return err(E::kSubNetworkDoesNotExist);
  if (paramOf(*info, Hyper::kRegistrationAllowed) == 0) return err(E::kSubNetRegistrationDisabled);
  if (info->lastRegistrationBlock == block &&
      info->registrationsThisBlock >= config.maxRegistrationsPerBlock) {
    return err(E::kTooManyRegistrationsThisBlock);
  }
  if (info->registrationsThisInterval >= 3 * paramOf(*info, Hyper::kTargetRegistrationsPerInterval)) {
    return err(E::kTooManyRegistrationsThisInterval);
  }
  AccountId hotkey = c.hotkey.accountId();
  if (s.uidOf(c.netuid, hotkey)) return err(E::kHotKeyAlreadyRegisteredInSubNet);
  Account payer = s.account(signer);
  if (payer.free < info->burn)
    return err(E::kNotEnoughBalanceToPayRegistration, "burn " + std::to_string(info->burn));
  auto owner = s.hotkeyOwner(hotkey);
  if (owner && *owner != signer) return err(E::kNonAssociatedColdKey);
  std::uint64_t maxUids = paramOf(*info, Hyper::kMaxAllowedUids);
  Uid uid = info->n;
  if (info->n >= maxUids) {
    auto order = Runtime::pruningOrder(s, c.netuid, *info, block);
    if (order.empty()) return err(E::kNoNeuronIdAvailable);
    uid = order.front();
    clearUid(s, c.netuid, *info, uid);
  } else {
    info->n += 1;
  }
  payer.free -= info->burn;
  s.setAccount(signer, payer);
  totals.burned += info->burn;
  totals.issuance -= info->burn;
  s.setTotals(totals);
  if (!owner) s.setHotkeyOwner(hotkey, signer);
  seatNeuron(s, c.netuid, uid, c.hotkey, signer, block, block);
  if (info->lastRegistrationBlock != block) info->registrationsThisBlock = 0;
  info->registrationsThisBlock += 1;
  info->registrationsThisInterval += 1;
  info->lastRegistrationBlock = block;
  s.setSubnet(c.netuid, *info);
  return ok();
}

}  // namespace merit::chain::calls
