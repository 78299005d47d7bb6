#!/usr/bin/env bash
# Functional test of the charlm subnet on loopback, real processes only: merit-train writes two
# models (untrained, and a short training run), merit-chain --dev runs a subnet created with
# `--plugin charlm`, two merit-miner processes serve the two models, and one merit-validator
# scores them on held-out fortune text. Checks that the trained model's miner ends with more
# incentive than the untrained one's, and that the validator's weights rank them the same way.
# Usage: charlm_subnet_test.sh MERIT MERIT_CHAIN MERIT_MINER MERIT_VALIDATOR MERIT_TRAIN SUBNET_DIR
set -uo pipefail

MERIT=$1 CHAIN=$2 MINER=$3 VALIDATOR=$4 TRAIN=$5 SUBNETS=$6
source "$(dirname "$0")/lib.sh"
test_init charlm
wait_ready_long() { wait_ready "$1" 600; }

# Two models: untrained, and a short run (small enough for a loaded 2-core machine).
"$TRAIN" charlm --steps 0 --hidden 64 --seed 1 --out "$WORK/untrained.pt" > "$WORK/train0.out" 2> "$WORK/train0.err" \
  && ok "untrained model written" || { bad "merit-train --steps 0: $(tail -3 "$WORK/train0.err")"; finish; }
"$TRAIN" charlm --steps 150 --hidden 64 --batch-size 32 --lr 0.01 --seed 1 --threads 1 --out "$WORK/trained.pt" \
  > "$WORK/train1.out" 2> "$WORK/train1.err" \
  && ok "short training run: $(grep -o 'held-out bits per character: [0-9.]*' "$WORK/train1.out")" \
  || { bad "merit-train --steps 150: $(tail -3 "$WORK/train1.err")"; finish; }
grep -q "charlm \[" "$WORK/train1.err" && ok "training shows the progress bar" || bad "no progress bar in $(head -c 300 "$WORK/train1.err")"

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || bad "create wallet"
for k in trained untrained; do "$MERIT" wallet new-hotkey -w owner -k $k > /dev/null || bad "hotkey $k"; done
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")

start_dev_chain "$CHAIN" --fund "$OWNER=1000000000000" || { bad "chain did not start: $(head -3 "$WORK/chain.err")"; finish; }
ok "chain started at $MERIT_CHAIN_URL"

"$MERIT" subnet create --plugin charlm --set tempo=10 --set weights_rate_limit=2 --set activity_cutoff=1000 -w owner \
  > "$WORK/create.out" 2>&1 && ok "subnet created with --plugin charlm" || bad "subnet create: $(cat "$WORK/create.out")"
for k in validator trained untrained; do
  "$MERIT" register --netuid 1 -w owner -k $k > "$WORK/reg.out" 2>&1 && ok "registered $k" || bad "register $k: $(cat "$WORK/reg.out")"
done
"$MERIT" stake add --amount 100 -w owner -k validator > /dev/null 2>&1 && ok "validator staked" || bad "stake"

# A miner whose model file is missing refuses to start and says which file.
"$MINER" -w owner -k untrained --netuid 1 --plugin charlm --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --plugin-config "{model: $WORK/missing.pt}" > "$WORK/missing.out" 2> "$WORK/missing.err"
rc=$?
[[ $rc -ne 0 ]] && grep -q "$WORK/missing.pt" "$WORK/missing.err" && ok "a missing model file is refused at start-up, named" \
  || bad "missing model (exit $rc): $(head -3 "$WORK/missing.err")"

# The trained model's miner logs at warn, the untrained one's at info: the plugin's own copy of the
# log façade (through merit_serving) must follow each miner's --log-level (MERIT_LOG, docs/SUBNETS.md).
declare -A MINER_PID LOG_LEVEL=([trained]=warn [untrained]=info)
for k in trained untrained; do
  "$MINER" -w owner -k $k --netuid 1 --plugin charlm --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
    --plugin-config "{model: $WORK/$k.pt, device: cpu, intra_op_threads: 1}" --log-level "${LOG_LEVEL[$k]}" \
    > "$WORK/$k.out" 2> "$WORK/$k.err" &
  PIDS+=($!)
  MINER_PID[$k]=$!
done
wait_ready_long "$WORK/trained.out" && ok "trained model's miner serving" || bad "trained miner: $(head -3 "$WORK/trained.err")"
wait_ready_long "$WORK/untrained.out" && ok "untrained model's miner serving" || bad "untrained miner: $(head -3 "$WORK/untrained.err")"
grep -q "loaded model" "$WORK/untrained.err" && ok "the plugin's info line shows in the miner at --log-level info" \
  || bad "no 'loaded model' line at info: $(head -c 400 "$WORK/untrained.err")"
! grep -q "loaded model" "$WORK/trained.err" && ok "the plugin's info line is suppressed in the miner at --log-level warn" \
  || bad "info line at warn: $(grep "loaded model" "$WORK/trained.err")"

MERIT_VALIDATOR_STEP_INTERVAL_MS=300 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=5000 MERIT_VALIDATOR_EMA_ALPHA=0.3 \
  "$VALIDATOR" -w owner -k validator --netuid 1 --plugin charlm --subnet-path "$SUBNETS" \
  --plugin-config '{contexts: 16, context_length: 64}' \
  --state-file "$WORK/validator.json" --log-level info > "$WORK/validator.out" 2> "$WORK/validator.err" &
PIDS+=($!)
wait_ready_long "$WORK/validator.out" && ok "validator running" || bad "validator: $(head -3 "$WORK/validator.err")"

# Wait until the validator's weights are on chain and an epoch has paid out on them.
wait_for_payout 400
python3 - "$WORK/mg.json" <<'PY' && ok "the trained model's miner earns more incentive than the untrained one's" \
  || bad "payout: $(head -c 800 "$WORK/mg.json")"
import json, sys
d = json.load(open(sys.argv[1]))
n = {x["uid"]: x for x in d["neurons"]}
assert n[1]["incentive"] > n[2]["incentive"], (n[1]["incentive"], n[2]["incentive"])
w = dict((u, v) for u, v in n[0]["weights"])
assert w.get(1, 0) == 65535 and w.get(2, 0) < w[1], w
PY
python3 - "$WORK/validator.json" <<'PY' && ok "validator scores: trained > untrained (untrained near 0)" \
  || bad "scores: $(head -c 600 "$WORK/validator.json")"
import json, sys
s = json.load(open(sys.argv[1]))["scores"]
assert s[1]["score"] > 0.2 and s[1]["score"] > s[2]["score"] + 0.2, s
PY
grep -q "answered 2, mean quality" "$WORK/validator.err" && ok "the validator queried and scored both miners" \
  || bad "status line: $(grep queried "$WORK/validator.err" | tail -1)"

# A miner with libtorch loaded through the plugin shuts down cleanly on SIGTERM.
kill -TERM "${MINER_PID[trained]}"; wait "${MINER_PID[trained]}"
rc=$?
[[ $rc -eq 0 ]] && ok "the trained model's miner exits cleanly on SIGTERM" || bad "miner exit status $rc: $(tail -3 "$WORK/trained.err")"

finish
