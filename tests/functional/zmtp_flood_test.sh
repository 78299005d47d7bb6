#!/usr/bin/env bash
# Memory exhaustion through ZeroMQ, against the real binaries on loopback: each flood runs while
# zmtp_flood samples the target's resident memory (VmRSS) every 50 ms, which must stay under
# 256 MiB above its idle value (docs/PROTOCOL.md, "Transport limits"); then the target must still
# answer honest traffic.
#   1. 4 connections stream 1 MiB frames marked "more" into merit-miner's axon;
#   2. 4 "subscribers" stream them into merit-chain's block feed;
#   3. a fake miner, registered on chain, streams them into merit-validator's connection to it.
#
# Fails at 8f8197f (run with that commit's binaries): the miner grew past 1 GiB above idle
# within about 4 s (libzmq buffers an unfinished multi-frame message without bound), and so did
# the validator from its connection to the fake miner; the flooder stopped each at 1 GiB.
# Usage: zmtp_flood_test.sh MERIT MERIT_CHAIN MERIT_MINER MERIT_VALIDATOR SUBNET_DIR ZMTP_FLOOD
set -uo pipefail

MERIT=$1 CHAIN=$2 MINER=$3 VALIDATOR=$4 SUBNETS=$5 FLOOD=$6
source "$(dirname "$0")/lib.sh"
test_init zmtp-flood
BOUND_MIB=256
SECONDS_EACH=5
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || bad "owner wallet"
for k in miner evil; do "$MERIT" wallet new-hotkey -w owner -k $k > /dev/null || bad "$k hotkey"; done
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
VALIDATOR_ADDR=$(json "$WORK/owner.json" "d['hotkey']['ss58Address']")
start_dev_chain "$CHAIN" --fund "$OWNER=1000000000000" --fund "$VALIDATOR_ADDR=100000000000" \
  || { bad "chain did not start: $(head -3 "$WORK/chain.err")"; finish; }
FEED=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['feed'])" "$WORK/chain.out")
ok "chain started (feed $FEED)"

"$MERIT" subnet create --plugin hash --set tempo=10 --set weights_rate_limit=2 --set activity_cutoff=1000 -w owner \
  > "$WORK/create.out" 2>&1 || bad "subnet create: $(cat "$WORK/create.out")"
for k in validator miner evil; do
  "$MERIT" register --netuid 1 -w owner -k $k > "$WORK/reg.out" 2>&1 || bad "register $k: $(cat "$WORK/reg.out")"
done
"$MERIT" stake add --amount 100 -w owner -k validator > /dev/null 2>&1 || bad "stake"

start_miner() {  # start_miner HOTKEY BIND OUT
  "$MINER" -w owner -k "$1" --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind "$2" \
    --metrics-port 0 --log-level warn > "$WORK/$3.out" 2> "$WORK/$3.err" &
  PIDS+=($!)
  LAST_PID=$!
  wait_ready "$WORK/$3.out"
}
start_miner miner 'tcp://127.0.0.1:*' miner && ok "miner serving" || bad "miner: $(head -3 "$WORK/miner.err")"
MINER_PID=$LAST_PID
AXON=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['axon'])" "$WORK/miner.out")
# The fake miner's address goes on chain through a real miner for the "evil" hotkey, which is
# then replaced by the flooder on the same port.
EVIL_PORT=$(free_port)
start_miner evil "tcp://127.0.0.1:$EVIL_PORT" evil && ok "evil hotkey served its axon on chain" || bad "evil miner"
kill "$LAST_PID"; wait "$LAST_PID" 2>/dev/null

for _ in $(seq 300); do
  "$MERIT" metagraph --netuid 1 --json > "$WORK/mg.json" 2>/dev/null \
    && [[ $(json "$WORK/mg.json" "d['neurons'][0]['validator_permit']") == True ]] && break
  sleep 0.2
done
[[ $(json "$WORK/mg.json" "d['neurons'][0]['validator_permit']") == True ]] && ok "validator holds a permit" \
  || bad "no validator permit"
wait_miner_follows "$WORK/miner.out" "$(json "$WORK/mg.json" "d['block']")" \
  || bad "the miner's caller policy never followed the permit's block"

flood() {  # flood MODE TARGET PID NAME
  "$FLOOD" "$1" "$2" "$3" "$SECONDS_EACH" "$BOUND_MIB" > "$WORK/flood-$1.json" 2> "$WORK/flood-$1.err"
  local rc=$?
  [[ $rc -eq 0 ]] && ok "$4 stayed under $BOUND_MIB MiB above idle: $(cat "$WORK/flood-$1.json")" \
    || bad "$4 under flood (exit $rc): $(cat "$WORK/flood-$1.json" "$WORK/flood-$1.err")"
}

# 1. The miner's axon.
flood axon "$AXON" "$MINER_PID" "merit-miner"
kill -0 "$MINER_PID" 2>/dev/null && ok "miner alive after the flood" || bad "miner died"
"$MERIT" query --netuid 1 --uid 1 -w owner -k validator --plugin hash --subnet-path "$SUBNETS" --count 4 \
  > "$WORK/query.out" 2>&1 && grep -q "4 of 4 answers perfect" "$WORK/query.out" \
  && ok "the miner answers honest queries after the flood" || bad "query after the flood: $(cat "$WORK/query.out")"

# 2. The chain's block feed.
flood feed "$FEED" "$CHAIN_PID" "merit-chain"
head_of() { curl -s -m 5 -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"chain_getHead"}' \
  "$MERIT_CHAIN_URL" | python3 -c "import json,sys; print(json.load(sys.stdin)['result']['number'])"; }
h1=$(head_of)
for _ in $(seq 300); do h2=$(head_of); [[ -n $h1 && -n $h2 && $h2 -gt $h1 ]] && break; sleep 0.1; done
[[ -n $h1 && -n $h2 && $h2 -gt $h1 ]] && ok "chain answers and produces blocks after the flood ($h1 -> $h2)" \
  || bad "chain after the flood: $h1 -> $h2"

# 3. The validator's connection to a registered miner that floods it.
MERIT_VALIDATOR_STEP_INTERVAL_MS=300 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=2000 \
  "$VALIDATOR" -w owner -k validator --netuid 1 --plugin hash --subnet-path "$SUBNETS" \
  --state-file "$WORK/validator.json" --log-level info > "$WORK/validator.out" 2> "$WORK/validator.err" &
VALIDATOR_PID=$!
PIDS+=($VALIDATOR_PID)
wait_ready "$WORK/validator.out" && ok "validator running" || bad "validator: $(head -3 "$WORK/validator.err")"
flood miner "$EVIL_PORT" "$VALIDATOR_PID" "merit-validator"
kill -0 "$VALIDATOR_PID" 2>/dev/null && ok "validator alive after the flood" || bad "validator died"
for _ in $(seq 300); do
  "$MERIT" metagraph --netuid 1 --json --weights > "$WORK/mg.json" 2>/dev/null \
    && [[ $(json "$WORK/mg.json" "d['neurons'][0]['last_update']") -gt 0 ]] && break
  sleep 0.2
done
[[ $(json "$WORK/mg.json" "d['neurons'][0]['last_update']") -gt 0 ]] \
  && ok "the validator still set weights (block $(json "$WORK/mg.json" "d['neurons'][0]['last_update']"))" \
  || bad "no weights from the validator: $(tail -3 "$WORK/validator.err")"
finish
