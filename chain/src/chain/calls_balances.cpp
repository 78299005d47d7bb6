// transfer, add_stake, remove_stake: free balances and stake.
#include "calls.h"

namespace merit::chain::calls {

Outcome handle(const CallContext& ctx, const tx::Transfer& c) {
  StateView& s = ctx.state;
  const AccountId& signer = ctx.signer;
  Account from = s.account(signer);
  if (from.free < c.amount) return err(E::kNotEnoughBalance, "free balance " + std::to_string(from.free));
  from.free -= c.amount;
  s.setAccount(signer, from);
  Account to = s.account(c.dest);
  if (!checkedAdd(to.free, c.amount, to.free)) return err(E::kOverflow);
  s.setAccount(c.dest, to);
  return ok();
}

Outcome handle(const CallContext& ctx, const tx::AddStake& c) {
  StateView& s = ctx.state;
  const AccountId& signer = ctx.signer;
  Totals totals = s.totals();
  if (!s.hotkeyOwner(c.hotkey)) return err(E::kHotKeyAccountNotExists);
  if (c.amount == 0) return err(E::kAmountTooLow);
  Account a = s.account(signer);
  if (a.free < c.amount) return err(E::kNotEnoughBalanceToStake, "free balance " + std::to_string(a.free));
  a.free -= c.amount;
  s.setAccount(signer, a);
  s.setStake(c.hotkey, signer, s.stake(c.hotkey, signer) + c.amount);
  totals.stake += c.amount;
  s.setTotals(totals);
  return ok();
}

Outcome handle(const CallContext& ctx, const tx::RemoveStake& c) {
  StateView& s = ctx.state;
  const AccountId& signer = ctx.signer;
  Totals totals = s.totals();
  if (!s.hotkeyOwner(c.hotkey)) return err(E::kHotKeyAccountNotExists);
  if (c.amount == 0) return err(E::kAmountTooLow);
  Balance have = s.stake(c.hotkey, signer);
  if (have < c.amount) return err(E::kNotEnoughStakeToWithdraw, "stake " + std::to_string(have));
  s.setStake(c.hotkey, signer, have - c.amount);
  Account a = s.account(signer);
  a.free += c.amount;
  s.setAccount(signer, a);
  totals.stake -= c.amount;
  s.setTotals(totals);
  return ok();
}

}  // namespace merit::chain::calls
