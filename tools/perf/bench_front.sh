#!/usr/bin/env bash
# The cost of a miner that spans machines, on one machine: signed load (bench_front) on the hash
# subnet against (a) merit-miner serving in-process, (b) merit-miner as a front with one
# `merit-miner --worker`, (c) the same front with two workers. Prints bench_front's JSON line per
# configuration: requests per second, latency, and CPU microseconds per request of each process.
# A dev chain on loopback provides the registrations (docs/PERFORMANCE.md, "A miner that spans
# machines").
#
# Usage: tools/perf/bench_front.sh BUILD_DIR [REQUESTS] [CONCURRENCY] [HASH_ROUNDS] [WORKER_THREADS]
set -uo pipefail
BUILD=$(cd "$1" && pwd)
REQUESTS=${2:-4000} CONC=${3:-32} ROUNDS=${4:-1000} WTHREADS=${5:-1}
MERIT=$BUILD/tools/merit/merit CHAIN=$BUILD/chain/merit-chain MINER=$BUILD/miner/merit-miner
BENCH=$BUILD/tools/perf/bench_front SUBNETS=$BUILD/subnets
source "$(dirname "$0")/../../tests/functional/lib.sh"
test_init bench-front
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json"
"$MERIT" wallet new-hotkey -w owner -k miner > /dev/null
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
start_dev_chain "$CHAIN" --fund "$OWNER=1000000000000"
"$MERIT" subnet create --plugin hash -w owner > /dev/null
for k in validator miner; do "$MERIT" register --netuid 1 -w owner -k $k > /dev/null; done
head -c 48 /dev/urandom | base64 > "$WORK/worker.secret"
chmod 600 "$WORK/worker.secret"
WPORT=$(free_port)
cat > "$WORK/inproc.yaml" <<YAML
workers: 2
rate_per_second: 1000000
require_validator_permit: false
YAML
cat > "$WORK/front.yaml" <<YAML
workers: 8
rate_per_second: 1000000
require_validator_permit: false
remote_workers:
  endpoint: tcp://127.0.0.1:$WPORT
  secret_file: $WORK/worker.secret
YAML

start_miner() {  # CONFIG
  "$MINER" -c "$1" -w owner -k miner --netuid 1 --plugin hash --subnet-path "$SUBNETS" \
    --bind 'tcp://127.0.0.1:*' --metrics-port 0 --log-level warn > "$WORK/miner.out" 2> "$WORK/miner.err" &
  MINER_PID=$!
  PIDS+=($MINER_PID)
  wait_ready "$WORK/miner.out"
  AXON=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['axon'])" "$WORK/miner.out")
  MPORT=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['metrics_port'])" "$WORK/miner.out")
}
start_worker() {
  "$MINER" --worker --front "tcp://127.0.0.1:$WPORT" --worker-secret-file "$WORK/worker.secret" \
    --worker-threads "$WTHREADS" --plugin hash --subnet-path "$SUBNETS" --log-level warn > /dev/null 2>&1 &
  PIDS+=($!)
  LAST_WORKER=$!
}
workers_are() { test "$(curl -s "http://127.0.0.1:$MPORT/metrics" | awk '$1 == "merit_miner_workers" {print $2}')" = "$1"; }
run() {  # LABEL PID-ARGS...
  local label=$1
  shift
  "$BENCH" --endpoint "$AXON" --requests 200 --concurrency "$CONC" --rounds "$ROUNDS" > /dev/null  # warm-up
  "$BENCH" --endpoint "$AXON" --requests "$REQUESTS" --concurrency "$CONC" --rounds "$ROUNDS" --label "$label" "$@"
}

start_miner "$WORK/inproc.yaml"
run in-process --pid miner="$MINER_PID"
kill "$MINER_PID"; wait "$MINER_PID" 2>/dev/null

start_miner "$WORK/front.yaml"
start_worker; W1=$LAST_WORKER
wait_until "1 worker" 20 -- workers_are 1 > /dev/null
run front+1worker --pid front="$MINER_PID" --pid worker1="$W1"
start_worker; W2=$LAST_WORKER
wait_until "2 workers" 20 -- workers_are 2 > /dev/null
run front+2workers --pid front="$MINER_PID" --pid worker1="$W1" --pid worker2="$W2"
