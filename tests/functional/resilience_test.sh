#!/usr/bin/env bash
# End-to-end resilience on loopback with real processes: chain, an honest hash miner and a
# validator. A hostile client (hostile_client) attacks the miner and the chain and changes
# nothing; then the chain is killed with SIGKILL mid-run and restarted on the same data and
# ports: the network resumes (new blocks, the validator sets weights again, the miner still
# answers), and every extrinsic reported included before the kill is still there.
# Usage: resilience_test.sh MERIT MERIT_CHAIN MERIT_MINER MERIT_VALIDATOR SUBNET_DIR HOSTILE_CLIENT
set -uo pipefail

MERIT=$1 CHAIN=$2 MINER=$3 VALIDATOR=$4 SUBNETS=$5 HOSTILE=$6
source "$(dirname "$0")/lib.sh"
test_init resilience
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || bad "owner wallet"
"$MERIT" wallet new-hotkey -w owner -k miner > /dev/null || bad "miner hotkey"
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
VALIDATOR_ADDR=$(json "$WORK/owner.json" "d['hotkey']['ss58Address']")

# Fixed ports, so that the restarted chain is where the miner and validator expect it.
RPC_PORT=$(free_port) FEED_PORT=$(free_port)
start_chain() {
  "$CHAIN" --dev --data-dir "$WORK/chain" --rpc-port "$RPC_PORT" --feed "tcp://127.0.0.1:$FEED_PORT" --block-time-ms 100 \
    --fund "$OWNER=1000000000000" --fund "$VALIDATOR_ADDR=100000000000" --log-level warn > "$WORK/chain.out" 2>> "$WORK/chain.err" &
  CHAIN_PID=$!
  PIDS+=($CHAIN_PID)
}
start_chain
wait_ready "$WORK/chain.out" || { bad "chain did not start: $(head -3 "$WORK/chain.err")"; finish; }
export MERIT_CHAIN_URL="http://127.0.0.1:$RPC_PORT"
ok "chain started"

"$MERIT" subnet create --plugin hash --set tempo=10 --set weights_rate_limit=2 --set activity_cutoff=1000 -w owner \
  > "$WORK/create.out" 2>&1 || bad "subnet create: $(cat "$WORK/create.out")"
for k in validator miner; do
  "$MERIT" register --netuid 1 -w owner -k $k > "$WORK/reg.out" 2>&1 || bad "register $k: $(cat "$WORK/reg.out")"
done
"$MERIT" stake add --amount 100 -w owner -k validator > /dev/null 2>&1 || bad "stake"

"$MINER" -w owner -k miner --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --metrics-port 0 --log-level warn > "$WORK/miner.out" 2> "$WORK/miner.err" &
MINER_PID=$!
PIDS+=($MINER_PID)
wait_ready "$WORK/miner.out" && ok "miner serving" || bad "miner: $(head -3 "$WORK/miner.err")"
start_validator() {
  MERIT_VALIDATOR_STEP_INTERVAL_MS=300 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=3000 \
    "$VALIDATOR" -w owner -k validator --netuid 1 --plugin hash --subnet-path "$SUBNETS" \
    --state-file "$WORK/validator.json" --log-level info > "$WORK/validator.out" 2>> "$WORK/validator.err" &
  VALIDATOR_PID=$!
  PIDS+=($VALIDATOR_PID)
}
start_validator
wait_ready "$WORK/validator.out" && ok "validator running" || bad "validator: $(head -3 "$WORK/validator.err")"

# The miner admits only permitted validators: wait until the validator holds a permit and its
# weights are on chain.
weights_block() {
  "$MERIT" metagraph --netuid 1 --json > "$WORK/mg.json" 2>/dev/null && json "$WORK/mg.json" "d['neurons'][0]['last_update']"
}
for _ in $(seq 300); do
  lu=$(weights_block) && [[ ${lu:-0} -gt 0 ]] && break
  sleep 0.2
done
[[ ${lu:-0} -gt 0 ]] && ok "validator set weights (block $lu)" || bad "no weights from the validator"
for _ in $(seq 300); do
  "$MERIT" metagraph --netuid 1 --json > "$WORK/mg.json" 2>/dev/null \
    && [[ $(json "$WORK/mg.json" "d['neurons'][0]['validator_permit']") == True ]] && break
  sleep 0.2
done
[[ $(json "$WORK/mg.json" "d['neurons'][0]['validator_permit']") == True ]] && ok "validator holds a permit" \
  || bad "no validator permit"
wait_miner_follows "$WORK/miner.out" "$(json "$WORK/mg.json" "d['block']")" \
  || bad "the miner's caller policy never followed the permit's block"

# Hostile client: every attack refused, nothing changed. It signs as the validator's hotkey (the
# miner admits only permitted callers), so the validator is stopped meanwhile: two processes
# sharing one hotkey would race each other's request nonces. It restarts afterwards.
kill "$VALIDATOR_PID"; wait "$VALIDATOR_PID" 2>/dev/null
"$HOSTILE" "$MERIT_CHAIN_URL" 1 1 hash "$SUBNETS" > "$WORK/hostile.out" 2>&1
rc=$?
sed 's/^/    /' "$WORK/hostile.out"
[[ $rc -eq 0 ]] && ok "hostile client: every attack refused" || bad "hostile client (exit $rc)"
kill -0 "$MINER_PID" 2>/dev/null && kill -0 "$CHAIN_PID" 2>/dev/null && ok "miner and chain survived the attacks" \
  || bad "a process died under attack"
start_validator
wait_ready "$WORK/validator.out" && grep -q "resumed" "$WORK/validator.err" && ok "validator restarted and resumed its scores" \
  || bad "validator restart: $(grep -i -m2 "resum\|error" "$WORK/validator.err")"

# Transfers reported included, then SIGKILL the chain mid-stream.
DEST=$(python3 -c "print('5EKM4AS9rMoYRGKz5Ue8NGU7MQg7oAqVn6AHzmDbspq51RUX')")
included=0
for i in $(seq 5); do
  "$MERIT" transfer --to "$DEST" --amount 1 -w owner --json > "$WORK/t$i.json" 2>&1 \
    && [[ $(json "$WORK/t$i.json" "d['success'] and d['block'] is not None") == True ]] && included=$((included + 1))
done
[[ $included -eq 5 ]] && ok "5 transfers included" || bad "transfers included: $included of 5: $(cat "$WORK/t1.json")"
"$MERIT" balance "$DEST" --json > "$WORK/bal_before.json" 2>&1
kill -9 "$CHAIN_PID"; wait "$CHAIN_PID" 2>/dev/null
ok "chain killed with SIGKILL"
start_chain  # `wait` above reaped it: its database lock is free
wait_ready "$WORK/chain.out" && ok "chain restarted on the same data" || { bad "restart: $(tail -3 "$WORK/chain.err")"; finish; }
"$MERIT" balance "$DEST" --json > "$WORK/bal_after.json" 2>&1
python3 - "$WORK/bal_before.json" "$WORK/bal_after.json" <<'PY' && ok "every included transfer survived the kill" || bad "balances: $(cat "$WORK/bal_before.json" "$WORK/bal_after.json")"
import json, sys
b, a = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
fb = b.get("free", b.get("balance")); fa = a.get("free", a.get("balance"))
assert fb == fa and fb >= 5_000_000_000, (fb, fa)
PY

# The network resumes: the validator sets weights again after the restart, the miner answers.
restart_head=$(curl -s -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"chain_getHead"}' \
  "$MERIT_CHAIN_URL" | python3 -c "import json,sys; print(json.load(sys.stdin)['result']['number'])")
for _ in $(seq 300); do
  lu=$(weights_block) && [[ ${lu:-0} -gt ${restart_head:-0} ]] && break
  sleep 0.2
done
[[ ${lu:-0} -gt ${restart_head:-0} ]] && ok "the validator set weights after the restart (block $lu > $restart_head)" \
  || bad "no weights after the restart (last $lu, restart at $restart_head): $(tail -3 "$WORK/validator.err")"
"$MERIT" query --netuid 1 --uid 1 -w owner -k validator --plugin hash --subnet-path "$SUBNETS" --count 4 \
  > "$WORK/query.out" 2>&1 && grep -q "4 of 4 answers perfect" "$WORK/query.out" \
  && ok "the miner answers after the restart" || bad "query: $(tail -3 "$WORK/query.out")"
kill -0 "$MINER_PID" 2>/dev/null && kill -0 "$VALIDATOR_PID" 2>/dev/null && ok "miner and validator rode out the chain restart" \
  || bad "miner or validator exited during the chain restart"

finish
