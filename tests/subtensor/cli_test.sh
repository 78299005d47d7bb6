#!/usr/bin/env bash
# The `merit` CLI on a real subtensor runtime (spec 218 under Chopsticks), command by command:
# chain info and metadata, balance and transfer, subnet list/show, register, stake add/remove,
# weights commit/reveal (the commit hash exactly as the runtime checks it), root register, the
# metagraph table, generic `merit chain call` and `merit chain storage`, and refusals reported by
# the runtime's error names. Dev RPCs only fund the keys and make the owner key sudo.
# Usage: cli_test.sh MERIT
set -uo pipefail

MERIT=$1
source "$(dirname "$0")/lib.sh"
sub_require
sub_init subtensor-cli

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || bad "create wallet"
"$MERIT" wallet create -w friend -k default --kdf interactive --json > "$WORK/friend.json" || bad "create wallet"
"$MERIT" wallet new-hotkey -w owner -k miner > /dev/null || bad "hotkey"
"$MERIT" wallet show -w owner --json > "$WORK/wallet.json"
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
FRIEND=$(json "$WORK/friend.json" "d['coldkey']['ss58Address']")
V=$(json "$WORK/wallet.json" "[h['ss58Address'] for h in d['hotkeys'] if h['name'] == 'validator'][0]")
MINER=$(json "$WORK/wallet.json" "[h['ss58Address'] for h in d['hotkeys'] if h['name'] == 'miner'][0]")

sub_start spec218 || { bad "Chopsticks did not start"; finish; }
M=("$MERIT" --chain subtensor --url "$SUB_WS")
for a in "$OWNER" "$V"; do sub_tool setup "$SUB_WS" fund "$a" 100000000000000 > /dev/null || bad "fund $a"; done
sub_tool setup "$SUB_WS" sudo-key "$OWNER" > /dev/null || bad "sudo-key"
( while true; do sub_new_blocks 1 > /dev/null 2>&1; sleep 0.4; done ) &
PIDS+=($!)

"${M[@]}" chain info > "$WORK/info.txt" && grep -q "spec_version *218" "$WORK/info.txt" \
  && ok "chain info names the runtime" || bad "chain info: $(cat "$WORK/info.txt")"
"${M[@]}" chain metadata --pallet SubtensorModule > "$WORK/meta.txt" \
  && grep -q "set_weights(netuid: u16, dests: Vec<u16>, weights: Vec<u16>, version_key: u64)" "$WORK/meta.txt" \
  && grep -q "SettingWeightsTooFast" "$WORK/meta.txt" && grep -q "Keys\[" "$WORK/meta.txt" \
  && ok "chain metadata: calls with argument types, storage with hashers, errors" || bad "metadata: $(head -5 "$WORK/meta.txt")"
"${M[@]}" chain metadata --json > "$WORK/meta.json" && json "$WORK/meta.json" "'CheckMortality' in d['signed_extensions'] and len(d['pallets']) > 10" | has True \
  && ok "chain metadata --json: pallets and signed extensions" || bad "metadata json"

"${M[@]}" chain call Balances.transfer_keep_alive "dest={\"Id\":\"$FRIEND\"}" value=1000 --dry-run -w owner --json > "$WORK/dry.json" 2> "$WORK/dry.err" \
  && json "$WORK/dry.json" "int(d['fee']['partial_fee']) > 0 and d['extrinsic'].startswith('0x')" | has True \
  && ok "chain call --dry-run: signed bytes and the node's fee estimate ($(json "$WORK/dry.json" "d['fee']['partial_fee']") rao)" \
  || bad "dry run: $(cat "$WORK/dry.json" "$WORK/dry.err")"

# Balance and transfer.
"${M[@]}" transfer --to "$FRIEND" --amount 2.5 -w owner --json > "$WORK/transfer.json" 2> "$WORK/transfer.err" \
  && ok "transfer 2.5 from the ECDSA coldkey" || bad "transfer: $(cat "$WORK/transfer.err" "$WORK/transfer.json")"
"${M[@]}" balance "$FRIEND" --json > "$WORK/friend_balance.json" && [[ $(json "$WORK/friend_balance.json" "d['free']") -eq 2500000000 ]] \
  && ok "balance of the recipient: 2.5" || bad "balance: $(cat "$WORK/friend_balance.json")"
"${M[@]}" transfer --to "$OWNER" --amount 1000 -w friend --json > "$WORK/poor.json" 2> "$WORK/poor.err"
rc=$?
[[ $rc -eq 1 ]] && grep -qE "Payment|FundsUnavailable|InsufficientBalance" "$WORK/poor.json" "$WORK/poor.err" \
  && ok "a transfer beyond the balance is refused by name: $(grep -ohE 'Payment|Token.FundsUnavailable|FundsUnavailable|InsufficientBalance' "$WORK/poor.json" "$WORK/poor.err" | head -1)" \
  || bad "overdraft (exit $rc): $(cat "$WORK/poor.json" "$WORK/poor.err")"

# A subnet, generic calls, list/show.
"${M[@]}" chain call --sudo AdminUtils.sudo_set_network_rate_limit rate_limit=0 -w owner > /dev/null 2>&1 || bad "rate limit"
"${M[@]}" chain call SubtensorModule.register_network hotkey="$V" mechid=1 -w owner --json > "$WORK/net.json" 2> "$WORK/net.err" \
  || bad "register_network: $(cat "$WORK/net.err")"
NETUID=$(python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
f=[e['fields'] for e in d['events'] if e['name']=='NetworkAdded'][0]
print(f[0] if isinstance(f, list) else list(f.values())[0])" "$WORK/net.json")
[[ -n $NETUID ]] && ok "chain call register_network: netuid $NETUID" || bad "no netuid"
"${M[@]}" chain call --sudo AdminUtils.sudo_set_tempo netuid="$NETUID" tempo=10 -w owner > /dev/null 2>&1 || bad "tempo"
"${M[@]}" chain call --sudo AdminUtils.sudo_set_weights_set_rate_limit netuid="$NETUID" weights_set_rate_limit=0 -w owner > /dev/null 2>&1 || bad "rate"
"${M[@]}" chain call --sudo AdminUtils.sudo_set_commit_reveal_weights_enabled netuid="$NETUID" enabled=true -w owner > /dev/null 2>&1 || bad "cr"
"${M[@]}" chain call SubtensorModule.no_such_call -w owner > /dev/null 2> "$WORK/nocall.err"
[[ $? -eq 2 ]] && grep -q "no call SubtensorModule.no_such_call" "$WORK/nocall.err" && ok "an unknown call is a usage error" || bad "unknown call"
"${M[@]}" chain call SubtensorModule.set_weights netuid=x -w owner > /dev/null 2> "$WORK/badarg.err"
[[ $? -eq 2 ]] && grep -q "netuid" "$WORK/badarg.err" && ok "a bad argument is named: $(head -1 "$WORK/badarg.err")" || bad "bad arg: $(cat "$WORK/badarg.err")"
"${M[@]}" chain storage SubtensorModule.Tempo "$NETUID" > "$WORK/tempo.txt" && [[ $(cat "$WORK/tempo.txt") == 10 ]] \
  && ok "chain storage SubtensorModule.Tempo $NETUID: 10" || bad "storage: $(cat "$WORK/tempo.txt")"
"${M[@]}" chain storage SubtensorModule.NetworksAdded --json > "$WORK/nets.json" \
  && json "$WORK/nets.json" "len(d) >= 3" | has True && ok "chain storage lists a map's entries" || bad "storage listing"
"${M[@]}" subnet list > "$WORK/list.txt" && grep -qE "^$NETUID +" "$WORK/list.txt" && ok "subnet list shows netuid $NETUID" \
  || bad "subnet list: $(cat "$WORK/list.txt")"
"${M[@]}" subnet show --netuid "$NETUID" > "$WORK/show.txt" && grep -q "commit_reveal *1" "$WORK/show.txt" \
  && ok "subnet show: hyperparameters (commit_reveal 1)" || bad "subnet show: $(cat "$WORK/show.txt")"

# Registration and stake.
"${M[@]}" register --netuid "$NETUID" -w owner -k miner > "$WORK/reg.txt" 2>&1 && grep -q "uid 1" "$WORK/reg.txt" \
  && ok "register (burned): $(cat "$WORK/reg.txt")" || bad "register: $(cat "$WORK/reg.txt")"
"${M[@]}" register --netuid "$NETUID" -w owner -k miner --json > "$WORK/reg2.json" 2> "$WORK/reg2.err"
[[ $? -eq 1 ]] && grep -q "HotKeyAlreadyRegisteredInSubNet" "$WORK/reg2.json" "$WORK/reg2.err" \
  && ok "registering twice fails with HotKeyAlreadyRegisteredInSubNet" || bad "second register: $(cat "$WORK/reg2.json" "$WORK/reg2.err")"
"${M[@]}" stake add --netuid "$NETUID" --amount 50 -w owner -k validator > "$WORK/stake.txt" 2>&1 \
  && ok "stake add 50 on subnet $NETUID" || bad "stake add: $(cat "$WORK/stake.txt")"
"${M[@]}" stake remove --netuid "$NETUID" --amount 1 -w owner -k validator > "$WORK/unstake.txt" 2>&1 \
  && ok "stake remove 1" || bad "stake remove: $(cat "$WORK/unstake.txt")"
"${M[@]}" root register -w owner -k miner > "$WORK/root.txt" 2>&1 && ok "root register: $(tail -1 "$WORK/root.txt")" \
  || { grep -qE "^error: .*: [A-Z][A-Za-z]+" "$WORK/root.txt" && ok "root register refused by name: $(tail -1 "$WORK/root.txt")" \
       || bad "root register: $(cat "$WORK/root.txt")"; }

# Commit-reveal through the CLI: the runtime checks our commit hash at reveal.
"${M[@]}" weights commit --netuid "$NETUID" --uids 1 --values 1 -w owner -k validator > "$WORK/commit.txt" 2>&1 \
  && ok "weights commit: $(head -1 "$WORK/commit.txt")" || bad "commit: $(cat "$WORK/commit.txt")"
"${M[@]}" weights reveal --netuid "$NETUID" --wait -w owner -k validator > "$WORK/reveal.txt" 2>&1 \
  && ok "weights reveal (the runtime accepted our commit hash): $(tail -1 "$WORK/reveal.txt")" || bad "reveal: $(cat "$WORK/reveal.txt")"
"${M[@]}" chain storage SubtensorModule.Weights "$NETUID" 0 > "$WORK/w.txt" && grep -q "\[1,65535\]" "$WORK/w.txt" \
  && ok "the revealed weights are stored: $(cat "$WORK/w.txt")" || bad "weights: $(cat "$WORK/w.txt")"

"${M[@]}" metagraph --netuid "$NETUID" > "$WORK/mg.txt" && grep -qE "^0 +" "$WORK/mg.txt" && grep -qE "^1 +" "$WORK/mg.txt" \
  && ok "metagraph table lists uids 0 and 1" || bad "metagraph: $(cat "$WORK/mg.txt")"
"${M[@]}" subnet create --plugin hash -w owner > /dev/null 2> "$WORK/create.err"
[[ $? -eq 2 ]] && grep -q "merit chain call" "$WORK/create.err" && ok "merit-chain-only commands point to merit chain call" \
  || bad "subnet create on subtensor: $(cat "$WORK/create.err")"

finish
