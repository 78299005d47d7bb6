#!/usr/bin/env bash
# Functional test of a subnet's life cycle with real processes on loopback: commit-reveal weights
# set by merit-validator, then a full subnet where a new registration replaces the weakest miner.
# Checks that the validator's commits are revealed and become the weights on chain; that the
# replaced miner says it was deregistered and stops; and that the validator restarts the uid's
# score from zero for its new hotkey.
# Usage: validator_lifecycle_test.sh MERIT MERIT_CHAIN MERIT_MINER MERIT_VALIDATOR SUBNET_DIR
set -uo pipefail

MERIT=$1 CHAIN=$2 MINER=$3 VALIDATOR=$4 SUBNETS=$5
source "$(dirname "$0")/lib.sh"
test_init lifecycle
# ss58_hex ADDRESS: the 32-byte account id inside an SS58 (prefix 42) address, as hex.
ss58_hex() {
  python3 - "$1" <<'PY'
import sys
alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
n = 0
for c in sys.argv[1]:
    n = n * 58 + alphabet.index(c)
raw = n.to_bytes(35, "big")
print(raw[1:33].hex())
PY
}

# Two coldkeys: the subnet owner (whose hotkeys are never pruned) and a miners' wallet.
"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || bad "owner wallet"
"$MERIT" wallet create -w miners -k a --kdf interactive --json > "$WORK/miners.json" || bad "miners wallet"
for k in b c; do "$MERIT" wallet new-hotkey -w miners -k $k --json > "$WORK/hk_$k.json" || bad "hotkey $k"; done
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
MINERS=$(json "$WORK/miners.json" "d['coldkey']['ss58Address']")
C_ADDR=$(json "$WORK/hk_c.json" "d['ss58Address']" 2>/dev/null || json "$WORK/hk_c.json" "d['hotkey']['ss58Address']")

start_dev_chain "$CHAIN" --fund "$OWNER=1000000000000" --fund "$MINERS=1000000000000" || { bad "chain did not start: $(head -3 "$WORK/chain.err")"; finish; }
ok "chain started"

# Three uids (validator, a, b), no immunity, commit-reveal with a one-epoch reveal period.
"$MERIT" subnet create --plugin hash --set tempo=10 --set weights_rate_limit=2 --set activity_cutoff=1000 \
  --set commit_reveal=1 --set reveal_period_epochs=1 --set max_allowed_uids=3 --set immunity_period=0 -w owner \
  > "$WORK/create.out" 2>&1 && ok "subnet created with commit-reveal and 3 uids" || bad "subnet create: $(cat "$WORK/create.out")"
"$MERIT" register --netuid 1 -w owner -k validator > "$WORK/reg.out" 2>&1 || bad "register validator: $(cat "$WORK/reg.out")"
for k in a b; do
  "$MERIT" register --netuid 1 -w miners -k $k > "$WORK/reg.out" 2>&1 || bad "register $k: $(cat "$WORK/reg.out")"
done
"$MERIT" stake add --amount 100 -w owner -k validator > /dev/null 2>&1 || bad "stake"

"$MINER" -w miners -k a --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --log-level warn > "$WORK/a.out" 2> "$WORK/a.err" &
PIDS+=($!)
"$MINER" -w miners -k b --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --plugin-config '{faults: {delay_ms: 500}}' --log-level warn > "$WORK/b.out" 2> "$WORK/b.err" &
B_PID=$!
PIDS+=($B_PID)
wait_ready "$WORK/a.out" && wait_ready "$WORK/b.out" && ok "miners a and b serving" || bad "miners: $(head -3 "$WORK/a.err" "$WORK/b.err")"

MERIT_VALIDATOR_STEP_INTERVAL_MS=300 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=3000 MERIT_VALIDATOR_EMA_ALPHA=0.3 \
  "$VALIDATOR" -w owner -k validator --netuid 1 --plugin hash --subnet-path "$SUBNETS" \
  --state-file "$WORK/validator.json" --log-level info > "$WORK/validator.out" 2> "$WORK/validator.err" &
PIDS+=($!)
wait_ready "$WORK/validator.out" && ok "validator running" || bad "validator: $(head -3 "$WORK/validator.err")"

# Commit-reveal: the validator commits, reveals in the next epoch, and the revealed weights are
# the weights on chain; an epoch then pays a over b.
for _ in $(seq 400); do
  "$MERIT" metagraph --netuid 1 --json --weights > "$WORK/mg.json" 2>/dev/null
  python3 - "$WORK/mg.json" <<'PY' && break
import json, sys
n = {x["uid"]: x for x in json.load(open(sys.argv[1]))["neurons"]}
w = dict((u, v) for u, v in n[0].get("weights", []))
sys.exit(0 if w.get(1, 0) == 65535 and 0 < w.get(2, 0) < 65535 and n[1]["emission"] > n[2]["emission"] > 0 else 1)
PY
  sleep 0.2
done
python3 - "$WORK/mg.json" <<'PY' && ok "revealed weights are on chain (a > b > 0) and paid a over b" || bad "weights: $(head -c 600 "$WORK/mg.json")"
import json, sys
n = {x["uid"]: x for x in json.load(open(sys.argv[1]))["neurons"]}
w = dict((u, v) for u, v in n[0]["weights"])
assert w.get(1, 0) == 65535 and 0 < w.get(2, 0) < 65535, w
assert n[1]["emission"] > n[2]["emission"] > 0, (n[1]["emission"], n[2]["emission"])
PY
grep -q "committed" "$WORK/validator.err" && grep -q "revealed" "$WORK/validator.err" \
  && ok "the validator logged its commits and reveals" || bad "commit/reveal log: $(grep -i -m3 "weights" "$WORK/validator.err")"
grep -q "SettingWeightsTooFast\|RevealTooEarly\|NoWeightsCommitFound\|InvalidRevealCommitHashNotMatch" "$WORK/validator.err" \
  && bad "weight errors: $(grep -m3 "TooFast\|Reveal\|NoWeights" "$WORK/validator.err")" || ok "no weight-setting errors"

B_SCORE=$(json "$WORK/validator.json" "d['scores'][2]['score']")
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0.1 else 1)" "$B_SCORE" \
  && ok "miner b has a score ($B_SCORE)" || bad "miner b score $B_SCORE"

# The subnet is full: registering c replaces the lowest-emission miner, b (uid 2), which the
# metagraph ranks first for pruning (the owner's validator is never pruned).
"$MERIT" metagraph --netuid 1 --json > "$WORK/mg1.json" 2>/dev/null
[[ $(json "$WORK/mg1.json" "[n['prune_rank'] for n in d['neurons']]") == "[None, 2, 1]" ]] \
  && ok "the metagraph ranks b first for pruning" || bad "prune ranks: $(json "$WORK/mg1.json" "[n['prune_rank'] for n in d['neurons']]")"
"$MERIT" metagraph --netuid 1 > "$WORK/mg1.txt" 2>&1
grep -q "PRUNE" "$WORK/mg1.txt" && ok "merit metagraph shows the pruning rank" || bad "metagraph table: $(head -3 "$WORK/mg1.txt")"
"$MERIT" register --netuid 1 -w miners -k c > "$WORK/reg.out" 2>&1 || bad "register c: $(cat "$WORK/reg.out")"
"$MERIT" metagraph --netuid 1 --json > "$WORK/mg2.json" 2>/dev/null
[[ $(json "$WORK/mg2.json" "d['neurons'][2]['hotkey']") == "$C_ADDR" ]] \
  && ok "registering c replaced b at uid 2" || bad "uid 2 is $(json "$WORK/mg2.json" "d['neurons'][2]['hotkey']"), c is $C_ADDR"

# b notices and stops serving.
for _ in $(seq 100); do kill -0 "$B_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$B_PID" 2>/dev/null; then
  bad "the deregistered miner is still running"
else
  wait "$B_PID"; rc=$?
  [[ $rc -ne 0 ]] && grep -q "DEREGISTERED" "$WORK/b.err" \
    && ok "the deregistered miner said so and exited (status $rc)" || bad "miner b exit $rc: $(tail -2 "$WORK/b.err")"
fi

# The validator restarts uid 2's score from zero under c's hotkey (c does not serve, so it stays 0).
C_HEX=$(ss58_hex "$C_ADDR")
for _ in $(seq 100); do
  [[ $(json "$WORK/validator.json" "d['scores'][2]['hotkey']") == "$C_HEX" ]] && break
  sleep 0.2
done
python3 - "$WORK/validator.json" "$C_HEX" <<'PY' && ok "uid 2's score restarted from zero for the new hotkey" || bad "replaced score: $(head -c 600 "$WORK/validator.json")"
import json, sys
s = json.load(open(sys.argv[1]))["scores"][2]
assert s["hotkey"] == sys.argv[2] and s["score"] == 0, s
PY

finish
