#!/usr/bin/env bash
# Functional test of a whole network on loopback, real processes only: merit-chain --dev, two
# merit-miner processes serving the hash subnet plugin (one honest, one configured to answer
# wrongly), and merit-validator querying them, scoring and setting weights. Checks that the
# honest miner ends with more incentive than the faulty one (which gets none), that the
# validator's weights are on chain and it earns dividends, that the miner's /metrics works, that
# an unregistered miner is told the exact registration command, and that a restarted validator
# resumes its scores.
# The validator and the honest miner run with sr25519 hotkeys imported from a btcli wallet
# (tests/data/bittensor_wallet/devwallet, `merit wallet import-bittensor`), registered, funded and
# staked by its imported coldkey; the faulty and slow miners have ECDSA hotkeys.
# Usage: network_test.sh MERIT MERIT_CHAIN MERIT_MINER MERIT_VALIDATOR SUBNET_DIR
set -uo pipefail

MERIT=$1 CHAIN=$2 MINER=$3 VALIDATOR=$4 SUBNETS=$5
source "$(dirname "$0")/lib.sh"
test_init network

"$MERIT" wallet create -w owner -k faulty --kdf interactive --json > "$WORK/owner.json" || bad "create wallet"
for k in slow stranger auto; do "$MERIT" wallet new-hotkey -w owner -k $k > /dev/null || bad "hotkey $k"; done
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
printf 'merit-test-password\n' > "$WORK/btpw"
"$MERIT" wallet import-bittensor --path "$(dirname "$0")/../data/bittensor_wallet/devwallet" --name bt \
  --bittensor-password-file "$WORK/btpw" --kdf interactive --json > "$WORK/bt.json" \
  && ok "btcli wallet imported (sr25519 coldkey and hotkeys)" || bad "import-bittensor"
BT=$(json "$WORK/bt.json" "d['coldkey']['ss58Address']")

start_dev_chain "$CHAIN" --fund "$OWNER=1000000000000" --fund "$BT=1000000000000" \
  || { bad "chain did not start: $(head -3 "$WORK/chain.err")"; finish; }
ok "chain started at $MERIT_CHAIN_URL"

"$MERIT" subnet create --plugin hash --set tempo=10 --set weights_rate_limit=2 --set activity_cutoff=1000 -w owner \
  > "$WORK/create.out" 2>&1 && ok "subnet created" || bad "subnet create: $(cat "$WORK/create.out")"
# uids 0 and 1: the imported validator and miner hotkeys; 2 and 3: faulty and slow.
for wk in bt/validator bt/miner owner/faulty owner/slow; do
  "$MERIT" register --netuid 1 -w "${wk%/*}" -k "${wk#*/}" > "$WORK/reg.out" 2>&1 && ok "registered $wk" || bad "register $wk: $(cat "$WORK/reg.out")"
done
"$MERIT" stake add --amount 100 -w bt -k validator > /dev/null 2>&1 && ok "validator staked by the imported coldkey" || bad "stake"

# An unregistered miner is told how to register, and does not serve.
"$MINER" -w owner -k stranger --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  > "$WORK/stranger.out" 2> "$WORK/stranger.err"
rc=$?
[[ $rc -ne 0 ]] && grep -q "merit register --netuid 1 -w owner -k stranger" "$WORK/stranger.err" \
  && ok "unregistered miner refuses to serve and prints the register command" \
  || bad "unregistered miner (exit $rc): $(head -3 "$WORK/stranger.err")"

# --auto-register: an unregistered miner registers itself (paying with the coldkey) and serves.
"$MINER" -w owner -k auto --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --auto-register --log-level warn > "$WORK/auto.out" 2> "$WORK/auto.err" &
PIDS+=($!)
wait_ready "$WORK/auto.out" && "$MERIT" metagraph --netuid 1 --json > "$WORK/auto.json" 2>/dev/null \
  && [[ $(json "$WORK/auto.json" "len(d['neurons'])") -eq 5 ]] \
  && ok "--auto-register: the miner registered itself and serves" || bad "auto-register: $(head -3 "$WORK/auto.err")"

"$MINER" -w bt -k miner --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --metrics-port 0 --log-level warn > "$WORK/honest.out" 2> "$WORK/honest.err" &
PIDS+=($!)
HONEST_PID=$!
"$MINER" -w owner -k faulty --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --plugin-config '{faults: {wrong_rate: 1.0}}' --log-level warn > "$WORK/faulty.out" 2> "$WORK/faulty.err" &
PIDS+=($!)
"$MINER" -w owner -k slow --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --plugin-config '{faults: {delay_ms: 600}}' --log-level warn > "$WORK/slow.out" 2> "$WORK/slow.err" &
PIDS+=($!)
wait_ready "$WORK/slow.out" && ok "slow miner serving" || bad "slow miner: $(head -3 "$WORK/slow.err")"
wait_ready "$WORK/honest.out" && ok "honest miner serving" || bad "honest miner: $(head -3 "$WORK/honest.err")"
wait_ready "$WORK/faulty.out" && ok "faulty miner serving" || bad "faulty miner: $(head -3 "$WORK/faulty.err")"
METRICS_PORT=$(json "$WORK/honest.out" "d['metrics_port']" 2>/dev/null)

start_validator() {
  MERIT_VALIDATOR_STEP_INTERVAL_MS=300 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=3000 MERIT_VALIDATOR_EMA_ALPHA=0.3 \
    "$VALIDATOR" -w bt -k validator --netuid 1 --plugin hash --subnet-path "$SUBNETS" \
    --state-file "$WORK/validator.json" --metrics-port 0 --log-level ${VALIDATOR_LOG:-info} > "$WORK/validator.out" 2>> "$WORK/validator.err" &
  VPID=$!
  PIDS+=($VPID)
}
start_validator
wait_ready "$WORK/validator.out" && ok "validator running" || bad "validator: $(head -3 "$WORK/validator.err")"

# Wait until the validator has weights on chain and an epoch has paid out on them. (Before the
# validator holds a permit, miners refuse it, and epochs without weights pay evenly.)
wait_for_payout 300
python3 - "$WORK/mg.json" <<'PY' && ok "honest miner earns more incentive than the faulty one; validator earns dividends" || bad "payout: $(head -c 800 "$WORK/mg.json")"
import json, sys
d = json.load(open(sys.argv[1]))
n = {x["uid"]: x for x in d["neurons"]}
assert n[1]["incentive"] > n[2]["incentive"], (n[1]["incentive"], n[2]["incentive"])
assert n[0]["dividends"] > 0, n[0]
assert n[1]["axon"] and n[2]["axon"], "axons on chain"
PY
python3 - "$WORK/mg.json" <<'PY' && ok "the validator and the honest miner are the imported sr25519 hotkeys" || bad "schemes: $(head -c 800 "$WORK/mg.json")"
import json, sys
d = json.load(open(sys.argv[1]))
n = {x["uid"]: x for x in d["neurons"]}
assert [n[u].get("hotkey_scheme") for u in range(4)] == ["sr25519", "sr25519", "ecdsa", "ecdsa"], n
assert n[0]["hotkey"] == "5GKcfwEq6Rr3YJ29CmAGqqmJ9WUCAcJCRS6MaRBQEQrq1SEA", n[0]["hotkey"]
assert n[1]["hotkey"] == "5FZv5vx47EjTdyP5fAEkoJ5UkZnjhwGvuedAdNRLGPMsv5AD", n[1]["hotkey"]
PY
python3 - "$WORK/mg.json" <<'PY' && ok "weights on chain order the miners by quality, then latency (honest > slow > faulty)" || bad "weights: $(head -c 400 "$WORK/mg.json")"
import json, sys
d = json.load(open(sys.argv[1]))
w = dict((u, v) for u, v in d["neurons"][0]["weights"])
assert w.get(1, 0) == 65535 and w.get(2, 0) < w[1], w
# Quality first, then latency: the correct-but-slow miner ranks between the two.
assert w.get(2, 0) < w.get(3, 0) < w[1], w
PY
grep -q "SettingWeightsTooFast" "$WORK/validator.err" && bad "the validator hit SettingWeightsTooFast" || ok "no SettingWeightsTooFast"

if [[ -n $METRICS_PORT && $METRICS_PORT != -1 ]]; then
  python3 - "$METRICS_PORT" <<'PY' && ok "miner /metrics reports answered requests" || bad "metrics"
import sys, urllib.request
body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
line = [l for l in body.splitlines() if l.startswith('merit_miner_responses_total{status="ok"}')][0]
assert int(line.split()[-1]) > 0, line
assert "merit_miner_batch_size_bucket" in body and "merit_miner_inference_seconds_count" in body
assert "merit_miner_queue_depth" in body
count = [l for l in body.splitlines() if l.startswith("merit_miner_request_seconds_count")][0]
assert int(count.split()[-1]) > 0, count
PY
else
  bad "no metrics port in the miner's ready line"
fi

# Concurrent answers each match their own request; an unregistered key is refused.
"$MERIT" query --netuid 1 --uid 1 -w bt -k validator --plugin hash --subnet-path "$SUBNETS" --count 32 \
  > "$WORK/query.out" 2>&1 && grep -q "32 of 32 answers perfect" "$WORK/query.out" \
  && ok "32 concurrent queries each get their own correct answer" || bad "query: $(tail -3 "$WORK/query.out")"
"$MERIT" query --netuid 1 --uid 1 -w owner -k stranger --plugin hash --subnet-path "$SUBNETS" > "$WORK/query2.out" 2>&1
[[ $? -eq 1 ]] && grep -q "FORBIDDEN" "$WORK/query2.out" && ok "an unregistered key gets FORBIDDEN" \
  || bad "stranger query: $(tail -3 "$WORK/query2.out")"
"$MERIT" query --netuid 1 --uid 2 -w bt -k validator --plugin hash --subnet-path "$SUBNETS" --count 4 > "$WORK/query3.out" 2>&1
[[ $? -eq 1 ]] && grep -q "0 of 4 answers perfect" "$WORK/query3.out" && ok "the faulty miner's answers score 0" \
  || bad "faulty query: $(tail -3 "$WORK/query3.out")"

VMETRICS=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['metrics_port'])" "$WORK/validator.out")
python3 - "$VMETRICS" <<'PY' && ok "validator /metrics: scores, latency, weight outcomes, validator trust" || bad "validator metrics"
import sys, urllib.request
body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
score = [l for l in body.splitlines() if l.startswith('merit_validator_score{uid="1"}')][0]
assert float(score.split()[-1]) > 0.3, score
sets = [l for l in body.splitlines() if l.startswith('merit_validator_weight_steps_total{outcome="set"}')][0]
assert int(sets.split()[-1]) > 0, sets
assert "merit_validator_query_latency_seconds_count" in body and "merit_validator_trust" in body
PY
"$MERIT" validator status --state "$WORK/validator.json" > "$WORK/status.out" 2>&1 \
  && grep -q "validator 5" "$WORK/status.out" && ok "merit validator status prints the score table" \
  || bad "validator status: $(head -3 "$WORK/status.out")"
grep -q "queried 4, answered 4, mean quality" "$WORK/validator.err" && ok "one-line status per step" \
  || bad "status line: $(grep queried "$WORK/validator.err" | tail -1)"

# Kill the honest miner: its score falls (timeouts score 0), and then its incentive.
before=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['scores'][1]['score'])" "$WORK/validator.json")
"$MERIT" metagraph --netuid 1 --json > "$WORK/mg_kill.json" 2>/dev/null
inc_before=$(json "$WORK/mg_kill.json" "d['neurons'][1]['incentive']")
kill "$HONEST_PID"; wait "$HONEST_PID" 2>/dev/null
for _ in $(seq 100); do
  after=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['scores'][1]['score'])" "$WORK/validator.json")
  python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) < float(sys.argv[1]) * 0.6 else 1)" "$before" "$after" && break
  sleep 0.3
done
python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) < float(sys.argv[1]) * 0.6 else 1)" "$before" "$after" \
  && ok "a killed miner's score drops ($before -> $after)" || bad "killed miner score $before -> $after"
for _ in $(seq 150); do
  "$MERIT" metagraph --netuid 1 --json > "$WORK/mg_kill.json" 2>/dev/null
  inc_after=$(json "$WORK/mg_kill.json" "d['neurons'][1]['incentive']")
  python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) < float(sys.argv[1]) * 0.5 else 1)" "$inc_before" "$inc_after" && break
  sleep 0.2
done
python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) < float(sys.argv[1]) * 0.5 else 1)" "$inc_before" "$inc_after" \
  && ok "then its incentive falls at the next epochs ($inc_before -> $inc_after)" || bad "killed miner incentive $inc_before -> $inc_after"

# Restart the validator: it resumes its scores from the state file.
kill "$VPID"; wait "$VPID" 2>/dev/null
python3 - "$WORK/validator.json" <<'PY' && ok "validator state saved with scores" || bad "state file"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["scores"][1]["score"] > 0 and d["scores"][2]["score"] == 0, d["scores"]
PY
start_validator
wait_ready "$WORK/validator.out" && for _ in $(seq 100); do grep -q "resumed 5 scores" "$WORK/validator.err" && break; sleep 0.1; done
grep -q "resumed 5 scores" "$WORK/validator.err" \
  && ok "restarted validator resumed its scores" || bad "resume: $(grep -i resum "$WORK/validator.err" | head -2)"

finish
