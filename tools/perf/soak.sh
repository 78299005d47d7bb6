#!/usr/bin/env bash
# The soak: a dev chain (100 ms blocks, as in the functional tests), an honest hash miner and a validator on loopback, then every attack of
# docs/OPERATIONS.md ("What meritnet withstands") at once for SECONDS (default 60) next to honest
# traffic (tools/perf/soak_load.cpp). Prints soak_load's JSON report: blocks produced against
# expected, honest chain_getHead p50/p99, honest transfers' inclusion, the validator's score for
# the miner before and after, each process's idle and peak resident memory, and whether anything
# crashed. Exit status 1 when a process died.
#
#   tools/perf/soak.sh [BUILD_DIR] [SECONDS] [--check]
#
# --check: exit 1 unless the honest side was served throughout (soak_load's Soak::verdict).
#
# Figures and the command are recorded in docs/PERFORMANCE.md ("Soak").
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=$(realpath "${1:-build}")
SECONDS_TO_RUN=${2:-60}
CHECK=${3:-}
MERIT=$BUILD/tools/merit/merit CHAIN=$BUILD/chain/merit-chain MINER=$BUILD/miner/merit-miner
VALIDATOR=$BUILD/validator/merit-validator SUBNETS=$BUILD/subnets LOAD=$BUILD/tools/perf/soak_load
for b in "$MERIT" "$CHAIN" "$MINER" "$VALIDATOR" "$LOAD"; do
  [[ -x $b ]] || { echo "soak: $b is missing: build first (cmake --build $BUILD)" >&2; exit 2; }
done
source tests/functional/lib.sh
test_init soak
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
die() { echo "soak: $*" >&2; exit 2; }

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || die "wallet"
for k in miner payer junk; do "$MERIT" wallet new-hotkey -w owner -k $k --json > "$WORK/$k.json" || die "hotkey $k"; done
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
FUNDS=(--fund "$(json "$WORK/owner.json" "d['hotkey']['ss58Address']")=100000000000")
for k in payer junk; do FUNDS+=(--fund "$(json "$WORK/$k.json" "d['hotkey']['ss58Address']")=100000000000"); done

start_dev_chain "$CHAIN" --fund "$OWNER=1000000000000" "${FUNDS[@]}" || die "chain did not start"
"$MERIT" subnet create --plugin hash --set tempo=10 --set weights_rate_limit=2 --set activity_cutoff=1000 -w owner \
  > "$WORK/create.out" 2>&1 || die "subnet create: $(cat "$WORK/create.out")"
for k in validator miner junk; do
  "$MERIT" register --netuid 1 -w owner -k $k > "$WORK/reg.out" 2>&1 || die "register $k: $(cat "$WORK/reg.out")"
done
"$MERIT" stake add --amount 100 -w owner -k validator > /dev/null 2>&1 || die "stake"

spawn MINER_PID "$MINER" -w owner -k miner --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --log-level warn > "$WORK/miner.out" 2> "$WORK/miner.err"
wait_ready "$WORK/miner.out" || die "miner: $(head -3 "$WORK/miner.err")"
METRICS_PORT=$(free_port)
MERIT_VALIDATOR_STEP_INTERVAL_MS=500 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=2000 \
  spawn VALIDATOR_PID "$VALIDATOR" -w owner -k validator --netuid 1 --plugin hash --subnet-path "$SUBNETS" \
  --state-file "$WORK/validator.json" --metrics-port "$METRICS_PORT" --log-level info \
  > "$WORK/validator.out" 2> "$WORK/validator.err"
wait_ready "$WORK/validator.out" || die "validator: $(head -3 "$WORK/validator.err")"

# Honest steady state first: the validator holds a permit and scores the miner.
for _ in $(seq 600); do
  "$MERIT" metagraph --netuid 1 --json > "$WORK/mg.json" 2>/dev/null &&
    [[ $(json "$WORK/mg.json" "d['neurons'][0]['validator_permit'] and d['neurons'][0]['last_update'] > 0") == True ]] && break
  sleep 0.2
done
sleep 2
echo "soak: network up (chain $CHAIN_PID, miner $MINER_PID, validator $VALIDATOR_PID); attacking for $SECONDS_TO_RUN s"
"$LOAD" --chain "$MERIT_CHAIN_URL" --netuid 1 --miner-uid 1 --junk-uid 2 --seconds "$SECONDS_TO_RUN" \
  --pid chain="$CHAIN_PID" --pid miner="$MINER_PID" --pid validator="$VALIDATOR_PID" \
  --validator-metrics "http://127.0.0.1:$METRICS_PORT" $CHECK
rc=$?
# Every process must stop within 10 s of SIGTERM even after the attacks (a node with workers
# held by long polls cannot).
for name in validator miner chain; do
  pid_var=${name^^}_PID
  pid=${!pid_var}
  kill "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "soak: $name did not stop within 10 s of SIGTERM; killed"
    kill -9 "$pid" 2>/dev/null
    rc=1
  fi
done
echo "validator's last steps:"
grep -E 'queried' "$WORK/validator.err" "$WORK/validator.out" 2>/dev/null | tail -3 | sed 's/^/  /'
exit $rc
