#!/usr/bin/env bash
# Functional test of the matmul subnet on a real network on loopback: merit-chain --dev, a subnet
# created with `--plugin matmul`, three merit-miner processes serving the matmul plugin (an honest
# one, a cheating one with wrong_rate 0.5 whose products are off by one element half the time,
# and a lazy one answering all-zero matrices) and one merit-validator checking their products with
# Freivalds' algorithm and setting weights. Checks that the honest miner ends with the highest
# incentive, that the lazy miner's score is exactly 0 and the cheat's is below the honest one's.
# Usage: matmul_subnet_test.sh MERIT MERIT_CHAIN MERIT_MINER MERIT_VALIDATOR SUBNET_DIR
set -uo pipefail

MERIT=$1 CHAIN=$2 MINER=$3 VALIDATOR=$4 SUBNETS=$5
source "$(dirname "$0")/lib.sh"
test_init matmul

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || bad "create wallet"
for k in honest cheat lazy; do "$MERIT" wallet new-hotkey -w owner -k $k > /dev/null || bad "hotkey $k"; done
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")

start_dev_chain "$CHAIN" --fund "$OWNER=1000000000000" || { bad "chain did not start: $(head -3 "$WORK/chain.err")"; finish; }
ok "chain started at $MERIT_CHAIN_URL"

"$MERIT" subnet create --plugin matmul --set tempo=10 --set weights_rate_limit=2 --set activity_cutoff=1000 -w owner \
  > "$WORK/create.out" 2>&1 && ok "matmul subnet created" || bad "subnet create: $(cat "$WORK/create.out")"
for k in validator honest cheat lazy; do
  "$MERIT" register --netuid 1 -w owner -k $k > "$WORK/reg.out" 2>&1 && ok "registered $k" || bad "register $k: $(cat "$WORK/reg.out")"
done
"$MERIT" stake add --amount 100 -w owner -k validator > /dev/null 2>&1 && ok "validator staked" || bad "stake"

# uid 1 honest, 2 cheat (half its products have one wrong element), 3 lazy (all zeros).
start_miner() {
  local key=$1 config=$2
  "$MINER" -w owner -k "$key" --netuid 1 --plugin matmul --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
    --plugin-config "$config" --log-level warn > "$WORK/$key.out" 2> "$WORK/$key.err" &
  PIDS+=($!)
}
start_miner honest '{threads: 1}'
start_miner cheat '{threads: 1, faults: {wrong_rate: 0.5}}'
start_miner lazy '{faults: {zero_rate: 1.0}}'
for k in honest cheat lazy; do
  wait_ready "$WORK/$k.out" && ok "$k miner serving" || bad "$k miner: $(head -3 "$WORK/$k.err")"
done
# No GPU on a CI machine: the miner says why it computes on the CPU (the default device is auto).
grep -q "computing on" "$WORK/honest.err" && ok "miner reports its device: $(grep -m1 'computing on' "$WORK/honest.err")" \
  || bad "no device line: $(head -3 "$WORK/honest.err")"

MERIT_VALIDATOR_STEP_INTERVAL_MS=300 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=5000 MERIT_VALIDATOR_EMA_ALPHA=0.3 \
  "$VALIDATOR" -w owner -k validator --netuid 1 --plugin matmul --subnet-path "$SUBNETS" \
  --state-file "$WORK/validator.json" --log-level info > "$WORK/validator.out" 2> "$WORK/validator.err" &
PIDS+=($!)
wait_ready "$WORK/validator.out" && ok "validator running" || bad "validator: $(head -3 "$WORK/validator.err")"

# Wait until the validator's weights are on chain and an epoch has paid out on them.
for _ in $(seq 300); do
  "$MERIT" metagraph --netuid 1 --json --weights > "$WORK/mg.json" 2>/dev/null
  python3 - "$WORK/mg.json" <<'PY' && break
import json, sys
d = json.load(open(sys.argv[1]))
n = {x["uid"]: x for x in d["neurons"]}
w = dict((u, v) for u, v in n[0].get("weights", []))
sys.exit(0 if w.get(1, 0) == 65535 and n[1]["incentive"] > max(n[2]["incentive"], n[3]["incentive"]) else 1)
PY
  sleep 0.2
done
python3 - "$WORK/mg.json" <<'PY' && ok "the honest miner earns the most incentive" || bad "payout: $(head -c 800 "$WORK/mg.json")"
import json, sys
d = json.load(open(sys.argv[1]))
n = {x["uid"]: x for x in d["neurons"]}
w = dict((u, v) for u, v in n[0]["weights"])
assert w.get(1, 0) == 65535, w
assert n[1]["incentive"] > n[2]["incentive"], (n[1]["incentive"], n[2]["incentive"])
assert n[1]["incentive"] > n[3]["incentive"], (n[1]["incentive"], n[3]["incentive"])
assert w.get(3, 0) < w[1] and w.get(2, 0) < w[1], w
PY
python3 - "$WORK/validator.json" <<'PY' && ok "validator scores: lazy exactly 0, cheat below honest" || bad "scores: $(head -c 600 "$WORK/validator.json")"
import json, sys
s = json.load(open(sys.argv[1]))["scores"]
assert s[1]["score"] > 0.5, s[1]
assert s[3]["score"] == 0, s[3]
assert s[2]["score"] < s[1]["score"], (s[2], s[1])
PY

# The operator's query tool scores with the same plugin: honest answers verify, lazy ones do not.
"$MERIT" query --netuid 1 --uid 1 -w owner -k validator --plugin matmul --subnet-path "$SUBNETS" --count 4 \
  > "$WORK/query.out" 2>&1 && grep -q "4 of 4 answers perfect" "$WORK/query.out" \
  && ok "4 queries to the honest miner all verify" || bad "query honest: $(tail -3 "$WORK/query.out")"
"$MERIT" query --netuid 1 --uid 3 -w owner -k validator --plugin matmul --subnet-path "$SUBNETS" --count 4 \
  > "$WORK/query2.out" 2>&1
[[ $? -eq 1 ]] && grep -q "0 of 4 answers perfect" "$WORK/query2.out" && ok "the lazy miner's answers score 0" \
  || bad "query lazy: $(tail -3 "$WORK/query2.out")"

finish
