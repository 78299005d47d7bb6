#!/usr/bin/env bash
# Functional test of the fashion_mnist subnet with real processes on loopback: merit-train writes
# two models (untrained, and trained for a fraction of an epoch), merit-chain --dev runs a subnet
# created with --plugin fashion_mnist, two merit-miner processes serve the two models, and one
# merit-validator scores them on held-out test images. Checks that the trained model's miner ends
# with the higher incentive and that the validator's weights rank it first.
# Usage: fashion_mnist_subnet_test.sh MERIT MERIT_CHAIN MERIT_MINER MERIT_VALIDATOR MERIT_TRAIN SUBNET_DIR
set -uo pipefail

MERIT=$1 CHAIN=$2 MINER=$3 VALIDATOR=$4 TRAIN=$5 SUBNETS=$6
source "$(dirname "$0")/lib.sh"
test_init fmnist
wait_ready_long() { wait_ready "$1" 600; }

if [[ ! -e /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]]; then
  echo "FAIL - Fashion-MNIST data missing: apt-get install dataset-fashion-mnist"; exit 1
fi

# Two models: the untrained network and one trained on a tenth of an epoch.
"$TRAIN" fashion-mnist --epochs 0 --out "$WORK/untrained.pt" --seed 1 --threads 1 > "$WORK/untrained.out" 2> "$WORK/untrained.err" \
  && ok "untrained model: $(head -1 "$WORK/untrained.out")" || { bad "train --epochs 0: $(tail -3 "$WORK/untrained.err")"; finish; }
"$TRAIN" fashion-mnist --epochs 0.1 --out "$WORK/trained.pt" --seed 1 --threads 2 > "$WORK/trained.out" 2> "$WORK/trained.err" \
  && ok "trained model (0.1 epoch): $(head -1 "$WORK/trained.out")" || { bad "train --epochs 0.1: $(tail -3 "$WORK/trained.err")"; finish; }
"$TRAIN" fashion-mnist --epochs 0 --out "$WORK/x.pt" --data-dir "$WORK/nowhere" > /dev/null 2> "$WORK/nodata.err"
[[ $? -ne 0 ]] && grep -q "apt-get install dataset-fashion-mnist" "$WORK/nodata.err" \
  && ok "a missing data directory names the package to install" || bad "no-data error: $(cat "$WORK/nodata.err")"

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || bad "create wallet"
for k in good poor; do "$MERIT" wallet new-hotkey -w owner -k $k > /dev/null || bad "hotkey $k"; done
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")

start_dev_chain "$CHAIN" --fund "$OWNER=1000000000000" || { bad "chain did not start: $(head -3 "$WORK/chain.err")"; finish; }
ok "chain started at $MERIT_CHAIN_URL"

"$MERIT" subnet create --plugin fashion_mnist --set tempo=10 --set weights_rate_limit=2 --set activity_cutoff=1000 -w owner \
  > "$WORK/create.out" 2>&1 && ok "subnet created with --plugin fashion_mnist" || bad "subnet create: $(cat "$WORK/create.out")"
for k in validator good poor; do
  "$MERIT" register --netuid 1 -w owner -k $k > "$WORK/reg.out" 2>&1 && ok "registered $k" || bad "register $k: $(cat "$WORK/reg.out")"
done
"$MERIT" stake add --amount 100 -w owner -k validator > /dev/null 2>&1 && ok "validator staked" || bad "stake"

# uid 1 serves the trained model, uid 2 the untrained one.
"$MINER" -w owner -k good --netuid 1 --plugin fashion_mnist --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --plugin-config "{model: $WORK/trained.pt, device: cpu, intra_op_threads: 1}" --log-level warn \
  > "$WORK/good.out" 2> "$WORK/good.err" &
PIDS+=($!)
"$MINER" -w owner -k poor --netuid 1 --plugin fashion_mnist --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --plugin-config "{model: $WORK/untrained.pt, device: cpu, intra_op_threads: 1}" --log-level warn \
  > "$WORK/poor.out" 2> "$WORK/poor.err" &
PIDS+=($!)
wait_ready_long "$WORK/good.out" && ok "miner with the trained model serving" || bad "good miner: $(head -3 "$WORK/good.err")"
wait_ready_long "$WORK/poor.out" && ok "miner with the untrained model serving" || bad "poor miner: $(head -3 "$WORK/poor.err")"

MERIT_VALIDATOR_STEP_INTERVAL_MS=300 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=5000 MERIT_VALIDATOR_EMA_ALPHA=0.3 \
  "$VALIDATOR" -w owner -k validator --netuid 1 --plugin fashion_mnist --subnet-path "$SUBNETS" \
  --plugin-config "{batch_size: 16}" --state-file "$WORK/validator.json" --log-level info \
  > "$WORK/validator.out" 2> "$WORK/validator.err" &
PIDS+=($!)
wait_ready_long "$WORK/validator.out" && ok "validator running" || bad "validator: $(head -3 "$WORK/validator.err")"

# Wait (up to ~60 s) until the validator's weights are on chain and an epoch paid out on them.
wait_for_payout 300
python3 - "$WORK/mg.json" <<'PY' && ok "the trained model's miner earns more incentive than the untrained one's" || bad "payout: $(head -c 800 "$WORK/mg.json")"
import json, sys
d = json.load(open(sys.argv[1]))
n = {x["uid"]: x for x in d["neurons"]}
assert n[1]["incentive"] > n[2]["incentive"], (n[1]["incentive"], n[2]["incentive"])
w = dict((u, v) for u, v in n[0]["weights"])
assert w.get(1, 0) == 65535 and w.get(2, 0) < w[1], w
PY
python3 - "$WORK/validator.json" <<'PY' && ok "validator scores: trained > untrained" || bad "scores: $(head -c 600 "$WORK/validator.json")"
import json, sys
d = json.load(open(sys.argv[1]))
s = {i: x["score"] for i, x in enumerate(d["scores"])}
print("     scores:", {k: round(v, 3) for k, v in s.items()})
assert s[1] > 0.3 and s[1] > s[2] + 0.2, s
PY
grep -q "queried 2, answered 2" "$WORK/validator.err" && ok "both miners answer the validator" \
  || bad "status line: $(grep queried "$WORK/validator.err" | tail -1)"

finish
