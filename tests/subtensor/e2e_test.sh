#!/usr/bin/env bash
# End to end on a real subtensor runtime under Chopsticks, through meritnet's own binaries: the
# `merit` CLI, signing with Substrate's dev key //Alice imported as an sr25519 coldkey, creates a
# subnet (the validator's ECDSA hotkey as its owner hotkey) and sets it up with sudo calls; an ECDSA
# coldkey registers three miners (ECDSA hotkeys) with burned_register; merit-miner serves the hash
# plugin (honest, slow, wrong), merit-validator queries them over ZeroMQ and sets weights on chain,
# and the chain's own epoch runs. An sr25519 hotkey of Alice's is registered, funded and staked, and
# sets weights through `merit weights set` (MultiSignature::Sr25519), read back from storage under
# its account id; the metagraph gives it its own key (no commitment) and the miners their committed
# ECDSA keys.
#   spec200: the runtime's real Yuma epoch must pay the honest miner more incentive than the slow
#            one and the slow one more than the faulty one.
#   spec218: its epoch is a mock (no incentive); the weights on chain must rank the miners, and
#            the validator uses commit-reveal (commit, then reveal an epoch later).
# Both: a refused call is reported by its runtime error name (SettingWeightsTooFast), and a
# killed and restarted node is survived by the miners and the validator.
#
# Chopsticks' dev RPCs are used only for what a fresh genesis lacks or the runtime refuses on
# loopback: funding the ECDSA keys (System.Account), on spec 218 funding //Alice and making it the
# sudo key (Sudo.Key; spec 200's genesis already has both), the axon records for 127.0.0.1 (serve_axon refuses non-global addresses with
# InvalidIpAddress, as the real network does), and producing blocks (dev_newBlock).
#
# Usage: e2e_test.sh MERIT MERIT_MINER MERIT_VALIDATOR SUBNET_DIR spec200|spec218
set -uo pipefail

MERIT=$1 MINER=$2 VALIDATOR=$3 SUBNETS=$4 SPEC=$5
source "$(dirname "$0")/lib.sh"
sub_require
sub_init "subtensor-e2e-$SPEC"

# Wallet "alice": //Alice (sr25519) as coldkey, the validator's ECDSA hotkey, an sr25519 hotkey.
# Wallet "owner": an ECDSA coldkey and the miners' ECDSA hotkeys.
printf '//Alice\n' | "$MERIT" wallet regen-coldkey -w alice --scheme sr25519 --kdf interactive --json > "$WORK/alice.json" \
  || bad "regen-coldkey //Alice"
ALICE=$(json "$WORK/alice.json" "d['coldkey']['ss58Address']")
[[ $ALICE == 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY ]] && ok "wallet regen-coldkey --scheme sr25519: //Alice is $ALICE" \
  || bad "//Alice imported as '$ALICE'"
"$MERIT" wallet new-hotkey -w alice -k validator > /dev/null || bad "hotkey validator"
"$MERIT" wallet new-hotkey -w alice -k srv --scheme sr25519 > /dev/null || bad "sr25519 hotkey"
"$MERIT" wallet create -w owner -k honest --kdf interactive --json > "$WORK/owner.json" || bad "create wallet"
for k in slow faulty; do "$MERIT" wallet new-hotkey -w owner -k $k > /dev/null || bad "hotkey $k"; done
"$MERIT" wallet show -w owner --json > "$WORK/wallet.json"
"$MERIT" wallet show -w alice --json > "$WORK/alice_wallet.json"
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
addr() { json "$WORK/wallet.json" "[h['ss58Address'] for h in d['hotkeys'] if h['name'] == '$1'][0]"; }
alice_addr() { json "$WORK/alice_wallet.json" "[h['ss58Address'] for h in d['hotkeys'] if h['name'] == '$1'][0]"; }
V=$(alice_addr validator) SRV=$(alice_addr srv) HONEST=$(addr honest) SLOW=$(addr slow) FAULTY=$(addr faulty)

sub_start "$SPEC" || { bad "Chopsticks did not start"; finish; }
ok "Chopsticks runs $SPEC at $SUB_WS"
M=("$MERIT" --chain subtensor --url "$SUB_WS")

# Dev setup: funds for the ECDSA coldkey and for the hotkeys' fees; on spec 218 also for //Alice,
# made the sudo key (spec 200's genesis has //Alice funded and as sudo already).
for a in "$OWNER" "$V" "$HONEST" "$SLOW" "$FAULTY"; do
  sub_tool setup "$SUB_WS" fund "$a" 100000000000000 > /dev/null || bad "fund $a"
done
if [[ $SPEC == spec218 ]]; then
  sub_tool setup "$SUB_WS" fund "$ALICE" 100000000000000 > /dev/null || bad "fund alice"
  sub_tool setup "$SUB_WS" sudo-key "$ALICE" > /dev/null && ok "dev: funded the keys and //Alice, //Alice is sudo" || bad "sudo-key"
else
  ok "dev: funded the ECDSA keys (//Alice is funded and sudo in this genesis)"
fi

"${M[@]}" chain info --json > "$WORK/info.json" && ok "chain info: $(json "$WORK/info.json" "d['spec_name']") spec $(json "$WORK/info.json" "d['spec_version']")" \
  || bad "chain info"
"${M[@]}" balance "$OWNER" --json > "$WORK/balance.json" && [[ $(json "$WORK/balance.json" "d['free']") -gt 0 ]] \
  && ok "balance of the ECDSA owner account read from System.Account" || bad "balance: $(cat "$WORK/balance.json")"

call() { "${M[@]}" chain call "$@" -w alice --json > "$WORK/call.json" 2> "$WORK/call.err"; }
sudo_call() { call --sudo "$@"; }

# The subnet.
if [[ $SPEC == spec218 ]]; then
  sudo_call AdminUtils.sudo_set_network_rate_limit rate_limit=0 || bad "network rate limit: $(cat "$WORK/call.err")"
  call SubtensorModule.register_network hotkey="$V" mechid=1
else
  call SubtensorModule.register_network hotkey="$V"
fi
NETUID=$(json "$WORK/call.json" "[e['fields'] for e in d['events'] if e['name'] == 'NetworkAdded'][0]" 2>/dev/null \
  | python3 -c "import sys, ast; f = ast.literal_eval(sys.stdin.read()); print(f[0] if isinstance(f, list) else list(f.values())[0])")
[[ -n $NETUID ]] && ok "register_network through merit chain call signed by //Alice (sr25519): netuid $NETUID" \
  || { bad "register_network: $(cat "$WORK/call.err" "$WORK/call.json")"; finish; }
for setting in "sudo_set_target_registrations_per_interval netuid=$NETUID target_registrations_per_interval=10" \
  "sudo_set_weights_set_rate_limit netuid=$NETUID weights_set_rate_limit=0" \
  "sudo_set_tempo netuid=$NETUID tempo=10"; do
  read -r name args <<< "$setting"
  # shellcheck disable=SC2086
  sudo_call "AdminUtils.$name" $args && ok "sudo $name" || bad "sudo $name: $(cat "$WORK/call.err" "$WORK/call.json")"
done

for k in honest slow faulty; do
  "${M[@]}" register --netuid "$NETUID" -w owner -k $k --json > "$WORK/reg.json" 2> "$WORK/reg.err" \
    && ok "burned_register $k: uid $(json "$WORK/reg.json" "d.get('uid')")" || bad "register $k: $(cat "$WORK/reg.err" "$WORK/reg.json")"
done
# The sr25519 hotkey: registered by //Alice (burned_register takes its account id, its key), given
# fee money by an sr25519-signed transfer, and staked.
"${M[@]}" register --netuid "$NETUID" -w alice -k srv --json > "$WORK/reg.json" 2> "$WORK/reg.err" \
  && SRV_UID=$(json "$WORK/reg.json" "d.get('uid')") && [[ $SRV_UID =~ ^[0-9]+$ ]] \
  && ok "burned_register of the sr25519 hotkey by //Alice: uid $SRV_UID" || bad "register srv: $(cat "$WORK/reg.err" "$WORK/reg.json")"
"${M[@]}" transfer --to "$SRV" --amount 10 -w alice --json > "$WORK/srv_transfer.json" 2> "$WORK/srv_transfer.err" \
  && "${M[@]}" balance "$SRV" --json > "$WORK/srv_balance.json" && [[ $(json "$WORK/srv_balance.json" "d['free']") -eq 10000000000 ]] \
  && ok "transfer of 10 from //Alice to the sr25519 hotkey" \
  || bad "transfer to srv: $(cat "$WORK/srv_transfer.err" "$WORK/srv_transfer.json" "$WORK/srv_balance.json" 2>/dev/null)"
"${M[@]}" stake add --netuid "$NETUID" --amount 10 -w alice -k srv > "$WORK/stake.out" 2>&1 \
  && ok "stake added to the sr25519 hotkey by //Alice" || bad "stake srv: $(cat "$WORK/stake.out")"
if [[ $SPEC == spec218 ]]; then
  "${M[@]}" stake add --netuid "$NETUID" --amount 1000 -w alice -k validator > "$WORK/stake.out" 2>&1 \
    && ok "stake added to the validator" || bad "stake: $(cat "$WORK/stake.out")"
fi
"${M[@]}" subnet show --netuid "$NETUID" --json > "$WORK/subnet.json" \
  && [[ $(json "$WORK/subnet.json" "d['hyperparameters']['tempo']") -eq 10 ]] \
  && ok "subnet show: tempo 10 and $(json "$WORK/subnet.json" "len(d['hyperparameters'])") hyperparameters" \
  || bad "subnet show: $(head -c 400 "$WORK/subnet.json")"

# Blocks: Chopsticks builds one per extrinsic; epochs need empty ones too.
( while true; do sub_new_blocks 1 > /dev/null 2>&1; sleep 0.4; done ) &
PIDS+=($!)

# Axon records for loopback (the runtime refuses 127.0.0.1 in serve_axon), protocol 77: meritnet.
port_of() { python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
declare -A PORT
for k in honest slow faulty; do
  PORT[$k]=$(port_of)
  sub_tool setup "$SUB_WS" set-axon "$NETUID" "$(addr $k)" 127.0.0.1 "${PORT[$k]}" 77 > /dev/null || bad "set-axon $k"
done
ok "dev: axon records for the three miners on 127.0.0.1"

start_miner() {
  local k=$1 cfg=$2
  "$MINER" --chain subtensor --url "$SUB_WS" -w owner -k "$k" --netuid "$NETUID" --plugin hash --subnet-path "$SUBNETS" \
    --bind "tcp://127.0.0.1:${PORT[$k]}" --external-ip 127.0.0.1 --plugin-config "$cfg" --log-level info \
    > "$WORK/$k.out" 2>> "$WORK/$k.err" &
  PIDS+=($!)
  printf -v "PID_$k" '%s' "$!"
}
start_miner honest '{}'
start_miner slow '{faults: {delay_ms: 600}}'
start_miner faulty '{faults: {wrong_rate: 1.0}}'
for k in honest slow faulty; do
  wait_ready "$WORK/$k.out" 600 && ok "$k miner serving (public key committed on chain)" || bad "$k miner: $(tail -3 "$WORK/$k.err")"
done

MERIT_VALIDATOR_STEP_INTERVAL_MS=500 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=3000 MERIT_VALIDATOR_EMA_ALPHA=0.3 \
  "$VALIDATOR" --chain subtensor --url "$SUB_WS" -w alice -k validator --netuid "$NETUID" --plugin hash \
  --subnet-path "$SUBNETS" --state-file "$WORK/validator.json" --log-level info \
  > "$WORK/validator.out" 2>> "$WORK/validator.err" &
VPID=$!
PIDS+=($VPID)
wait_ready "$WORK/validator.out" 600 && ok "validator running" || bad "validator: $(tail -3 "$WORK/validator.err")"

uid_of() { json "$WORK/mg.json" "[n['uid'] for n in d['neurons'] if n['hotkey'] == '$1'][0]"; }
weights_row() { "${M[@]}" chain storage SubtensorModule.Weights "$NETUID" 0 --json; }

if [[ $SPEC == spec200 ]]; then
  # The chain's own Yuma epoch pays by the validator's weights.
  paid=0
  for _ in $(seq 240); do
    "${M[@]}" metagraph --netuid "$NETUID" --json > "$WORK/mg.json" 2>/dev/null || { sleep 0.5; continue; }
    python3 - "$WORK/mg.json" "$HONEST" "$SLOW" "$FAULTY" <<'PY' && { paid=1; break; }
import json, sys
d = json.load(open(sys.argv[1]))
inc = {n["hotkey"]: n["incentive"] for n in d["neurons"]}
h, s, f = (inc.get(a, 0) for a in sys.argv[2:5])
sys.exit(0 if h > s > f else 1)
PY
    sleep 0.5
  done
  [[ $paid -eq 1 ]] && ok "the runtime's Yuma epoch paid incentive honest > slow > faulty: $(python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); print([(n['uid'], n['incentive']) for n in d['neurons']])" "$WORK/mg.json")" \
    || bad "no incentive ordering: $(head -c 1200 "$WORK/mg.json"); validator: $(tail -5 "$WORK/validator.err")"
else
  # Commit-reveal: the validator commits a hash, then reveals it an epoch later.
  sudo_call AdminUtils.sudo_set_commit_reveal_weights_enabled netuid="$NETUID" enabled=true \
    && ok "sudo: commit-reveal on" || bad "commit-reveal on: $(cat "$WORK/call.err" "$WORK/call.json")"
  ranked=0
  for _ in $(seq 240); do
    "${M[@]}" metagraph --netuid "$NETUID" --json > "$WORK/mg.json" 2>/dev/null
    weights_row > "$WORK/weights.json" 2>/dev/null
    if grep -q "weights revealed" "$WORK/validator.err" && python3 - "$WORK/weights.json" "$WORK/mg.json" "$HONEST" "$SLOW" "$FAULTY" <<'PY'; then ranked=1; break; fi
import json, sys
w = json.load(open(sys.argv[1]))
mg = json.load(open(sys.argv[2]))
uid = {n["hotkey"]: n["uid"] for n in mg["neurons"]}
row = dict((int(u), int(v)) for u, v in w)
h, s, f = (row.get(uid[a], 0) for a in sys.argv[3:6])
sys.exit(0 if h > s > f else 1)
PY
    sleep 0.5
  done
  [[ $ranked -eq 1 ]] && ok "weights committed, revealed and stored on chain: honest > slow > faulty ($(cat "$WORK/weights.json" | tr -d ' \n'))" \
    || bad "no revealed weights ranking the miners: $(cat "$WORK/weights.json" 2>/dev/null); validator: $(grep -E 'weights|error' "$WORK/validator.err" | tail -5)"
  grep -q "weights committed" "$WORK/validator.err" && ok "the validator committed before revealing" || bad "no commit in the validator log"
fi
grep -q "SettingWeightsTooFast" "$WORK/validator.err" && bad "the validator hit SettingWeightsTooFast" || ok "the validator kept to the rate limit"

if [[ $SPEC == spec200 ]]; then
  # Root: this runtime has root_register and set_root_weights (named hotkey, signed by its coldkey).
  sudo_call AdminUtils.sudo_set_weights_set_rate_limit netuid=0 weights_set_rate_limit=0 || bad "root rate limit"
  "${M[@]}" root register -w alice -k validator > "$WORK/rootreg.txt" 2>&1 && ok "root register: $(tail -1 "$WORK/rootreg.txt")" \
    || bad "root register: $(cat "$WORK/rootreg.txt")"
  ROOT_UID=$("${M[@]}" metagraph --netuid 0 --json | python3 -c "
import json,sys; d=json.load(sys.stdin); print([n['uid'] for n in d['neurons'] if n['hotkey'] == sys.argv[1]][0])" "$V")
  "${M[@]}" root weights --netuids "$NETUID" --values 1 -w alice -k validator > "$WORK/rootw.txt" 2>&1 \
    && "${M[@]}" chain storage SubtensorModule.Weights 0 "$ROOT_UID" > "$WORK/rootrow.txt" \
    && grep -q "\[$NETUID,65535\]" "$WORK/rootrow.txt" \
    && ok "root weights through set_root_weights: $(cat "$WORK/rootrow.txt")" || bad "root weights: $(cat "$WORK/rootw.txt" "$WORK/rootrow.txt" 2>/dev/null)"
fi

if [[ $SPEC == spec218 ]]; then
  sudo_call AdminUtils.sudo_set_commit_reveal_weights_enabled netuid="$NETUID" enabled=false || bad "commit-reveal off"
fi

# The sr25519 hotkey's public key is its account id (no commitment), and it has a validator
# permit; the miners' keys are their committed ECDSA keys.
"${M[@]}" metagraph --netuid "$NETUID" --json > "$WORK/mg.json"
SRV_KEY=$(json "$WORK/alice_wallet.json" "[h['publicKey'] for h in d['hotkeys'] if h['name'] == 'srv'][0]")
python3 - "$WORK/mg.json" "$SRV" "$HONEST" "$SLOW" "$FAULTY" "$SRV_KEY" > "$WORK/keys.txt" <<'PY' && ok "metagraph: $(cat "$WORK/keys.txt")" || bad "metagraph keys: $(cat "$WORK/keys.txt")"
import json, sys
d = json.load(open(sys.argv[1]))
by = {n["hotkey"]: n for n in d["neurons"]}
srv = by[sys.argv[2]]
ok = srv.get("hotkey_scheme") == "sr25519" and srv.get("hotkey_public_key") == sys.argv[6] and srv["axon"] is None
# Its stake is not compared: both early dynamic-TAO runtimes can leave the new subnet's pool with
# almost no alpha (spec 218: SubnetAlphaIn = 1 rao), so the TAO staked above may buy 0 alpha (seen
# 0 and 0.106 on spec 200, 0 on spec 218); the add_stake itself succeeded above.
ok = ok and srv["validator_permit"]
ok = ok and all(by[m].get("hotkey_scheme") == "ecdsa" and len(by[m]["hotkey_public_key"]) == 66 and by[m]["axon"]
                for m in sys.argv[3:6])
print(f"sr25519 hotkey uid {srv['uid']}: key {srv.get('hotkey_scheme')} {srv.get('hotkey_public_key')}, "
      f"stake {srv['stake']}, permit {srv['validator_permit']}; miners' keys "
      + ", ".join(by[m].get("hotkey_scheme", "none") for m in sys.argv[3:6]))
sys.exit(0 if ok else 1)
PY
# It sets weights through merit weights set (MultiSignature::Sr25519); they are stored under the
# uid its account id holds.
H=$(uid_of "$HONEST") S=$(uid_of "$SLOW") F=$(uid_of "$FAULTY")
"${M[@]}" weights set --netuid "$NETUID" --uids "$H,$S,$F" --values 3,2,1 -w alice -k srv --json \
  > "$WORK/srvw.json" 2> "$WORK/srvw.err" && ok "weights set signed by the sr25519 hotkey: block $(json "$WORK/srvw.json" "d['block']")" \
  || bad "srv weights set: $(cat "$WORK/srvw.err" "$WORK/srvw.json")"
"${M[@]}" chain storage SubtensorModule.Uids "$NETUID" "$SRV" --json > "$WORK/srv_uid.json" 2>&1
"${M[@]}" chain storage SubtensorModule.Weights "$NETUID" "$(cat "$WORK/srv_uid.json")" --json > "$WORK/srv_row.json" 2>&1
python3 - "$WORK/srv_row.json" "$H" "$S" "$F" <<'PY' && [[ $(cat "$WORK/srv_uid.json") == "$SRV_UID" ]] \
  && ok "on chain: Uids($NETUID, sr25519 hotkey) = $SRV_UID, Weights($NETUID, $SRV_UID) = $(tr -d ' \n' < "$WORK/srv_row.json")" \
  || bad "sr25519 weights on chain: uid $(cat "$WORK/srv_uid.json"), row $(cat "$WORK/srv_row.json")"
import json, sys
row = {int(u): int(v) for u, v in json.load(open(sys.argv[1]))}
h, s, f = (int(x) for x in sys.argv[2:5])
sys.exit(0 if row == {h: 65535, s: 43690, f: 21845} else 1)
PY

# A refused call is named by the runtime's error.
sudo_call AdminUtils.sudo_set_weights_set_rate_limit netuid="$NETUID" weights_set_rate_limit=1000 || bad "rate limit 1000"
out=""
for _ in 1 2; do
  "${M[@]}" weights set --netuid "$NETUID" --uids "$(uid_of "$HONEST")" --values 1 -w alice -k validator --json \
    > "$WORK/wset.json" 2> "$WORK/wset.err"
  rc=$?
  out="$(cat "$WORK/wset.json" "$WORK/wset.err")"
  [[ $rc -eq 1 ]] && break
done
[[ $rc -eq 1 ]] && grep -q "SettingWeightsTooFast" <<< "$out" \
  && ok "a second weights set within the rate limit fails with SettingWeightsTooFast" || bad "weights too fast (exit $rc): $out"
sudo_call AdminUtils.sudo_set_weights_set_rate_limit netuid="$NETUID" weights_set_rate_limit=0 || bad "rate limit 0"

# Kill and restart the node: the miners and the validator survive and carry on.
# (Chopsticks keeps its state over a restart only from a save: the harness saves, then kills -9.)
before=$(grep -c "weights set\|weights revealed\|weights committed" "$WORK/validator.err")
sub_save || bad "save the node's state"
sub_kill
sleep 3
sub_restart || bad "Chopsticks did not restart"
ok "Chopsticks killed (SIGKILL) and restarted on port $SUB_PORT with its state"
survived=0
for _ in $(seq 120); do
  after=$(grep -c "weights set\|weights revealed\|weights committed" "$WORK/validator.err")
  [[ $after -gt $before ]] && { survived=1; break; }
  sleep 0.5
done
for k in honest slow faulty; do
  pid_var=PID_$k
  kill -0 "${!pid_var}" 2>/dev/null && ok "$k miner still running after the node restart" || bad "$k miner died: $(tail -3 "$WORK/$k.err")"
done
kill -0 "$VPID" 2>/dev/null && [[ $survived -eq 1 ]] && ok "the validator set weights again after the node restart" \
  || bad "validator after restart: $(tail -5 "$WORK/validator.err")"

finish
