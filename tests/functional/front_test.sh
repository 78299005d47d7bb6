#!/usr/bin/env bash
# A miner that spans machines, with real processes on loopback: a dev chain, merit-miner as the
# axon front (remote_workers), two `merit-miner --worker` processes on the hash plugin, and signed
# load through a real Dendrite (bench_front). One worker is killed with SIGKILL mid-load: every
# request is answered, OK or (only those in flight on the dead worker) a clean INTERNAL error,
# none lost or timed out; the surviving worker keeps serving; a worker without the secret is
# refused (exit 6) and never registered.
# Usage: front_test.sh MERIT MERIT_CHAIN MERIT_MINER BENCH_FRONT SUBNET_DIR
set -uo pipefail

MERIT=$1 CHAIN=$2 MINER=$3 BENCH=$4 SUBNETS=$5
source "$(dirname "$0")/lib.sh"
test_init front
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || bad "owner wallet"
"$MERIT" wallet new-hotkey -w owner -k miner > /dev/null || bad "miner hotkey"
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
start_dev_chain "$CHAIN" --fund "$OWNER=1000000000000" || { bad "chain did not start"; finish; }
"$MERIT" subnet create --plugin hash -w owner > "$WORK/create.out" 2>&1 || bad "subnet create: $(cat "$WORK/create.out")"
for k in validator miner; do
  "$MERIT" register --netuid 1 -w owner -k $k > "$WORK/reg.out" 2>&1 || bad "register $k: $(cat "$WORK/reg.out")"
done

# The shared worker secret, and the front's config.
head -c 48 /dev/urandom | base64 > "$WORK/worker.secret"
chmod 600 "$WORK/worker.secret"
head -c 48 /dev/urandom | base64 > "$WORK/stranger.secret"
chmod 600 "$WORK/stranger.secret"
WPORT=$(free_port)
cat > "$WORK/front.yaml" <<YAML
workers: 8
rate_per_second: 1000000
require_validator_permit: false
remote_workers:
  endpoint: tcp://127.0.0.1:$WPORT
  secret_file: $WORK/worker.secret
  heartbeat_ms: 200
  heartbeat_timeout_ms: 1000
YAML
"$MINER" -c "$WORK/front.yaml" -w owner -k miner --netuid 1 --plugin hash --subnet-path "$SUBNETS" \
  --bind 'tcp://127.0.0.1:*' --metrics-port 0 --log-level warn > "$WORK/front.out" 2> "$WORK/front.err" &
PIDS+=($!)
FRONT_PID=$!
wait_ready "$WORK/front.out" && ok "front serving" || { bad "front: $(head -3 "$WORK/front.err")"; finish; }
AXON=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['axon'])" "$WORK/front.out")
MPORT=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['metrics_port'])" "$WORK/front.out")
metric() { curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
workers_are() { test "$(metric merit_miner_workers)" = "$1"; }

# Every batch takes 20 ms in the plugin (worker 1: 60 ms), so the worker killed under load almost
# always holds batches in flight.
start_worker() {  # NAME SECRET [DELAY_MS]
  "$MINER" --worker --front "tcp://127.0.0.1:$WPORT" --worker-secret-file "$2" --worker-threads 2 \
    --plugin hash --subnet-path "$SUBNETS" --plugin-config "{faults: {delay_ms: ${3:-20}}}" --log-level warn \
    > "$WORK/$1.out" 2> "$WORK/$1.err" &
  PIDS+=($!)
}
start_worker w1 "$WORK/worker.secret" 60; W1=$!
start_worker w2 "$WORK/worker.secret"; W2=$!
wait_until "both workers joined the front" 20 -- workers_are 2
# Load, and SIGKILL of worker 1 once 200 requests are answered.
"$BENCH" --endpoint "$AXON" --requests 800 --concurrency 16 --progress-after 200 --label kill \
  > "$WORK/load.out" 2> "$WORK/load.err" &
LOAD=$!
PIDS+=($LOAD)
wait_until "load under way" 30 -- grep -q progress "$WORK/load.out"
kill -9 "$W1"
wait "$LOAD"
tail -1 "$WORK/load.out" > "$WORK/load.json"
echo "# $(cat "$WORK/load.json")"
[[ $(json "$WORK/load.json" "d['sent']") == 800 && $(json "$WORK/load.json" "d['answered']") == 800 ]] \
  && ok "every request answered" || bad "requests unanswered: $(cat "$WORK/load.json" "$WORK/load.err")"
# Non-OK outcomes: only the clean error for work in flight on the killed worker. It held at most
# 2 batches (its capacity) of at most 8 requests (max_batch_size).
python3 - "$WORK/load.json" <<'PY' && ok "only requests in flight on the dead worker failed, cleanly" || bad "unexpected outcomes: $(cat "$WORK/load.json")"
import json, sys
d = json.load(open(sys.argv[1]))
errors = sum(d["outcomes"].values())
# Signed by the miner (no "[unauthenticated]" mark): the front answered them, nothing timed out.
clean = all(k.startswith("INTERNAL: the worker serving this request was lost") and not k.endswith("]")
            for k in d["outcomes"])
sys.exit(0 if clean and errors <= 16 and d["ok"] == d["sent"] - errors else 1)
PY
wait_until "the front noticed the loss" 10 -- workers_are 1

# The survivor serves everything.
"$BENCH" --endpoint "$AXON" --requests 300 --concurrency 16 --label survivor > "$WORK/after.out" 2> "$WORK/after.err"
[[ $(json "$WORK/after.out" "d['ok']") == 300 ]] && ok "the surviving worker serves all 300" \
  || bad "after the kill: $(cat "$WORK/after.out" "$WORK/after.err")"

# A stranger without the secret cannot register as a worker.
timeout 30 "$MINER" --worker --front "tcp://127.0.0.1:$WPORT" --worker-secret-file "$WORK/stranger.secret" \
  --plugin hash --subnet-path "$SUBNETS" --log-level warn > "$WORK/stranger.out" 2> "$WORK/stranger.err"
rc=$?
[[ $rc == 6 ]] && ok "a worker with the wrong secret is refused (exit 6)" || bad "stranger worker exit $rc: $(cat "$WORK/stranger.err")"
[[ $(metric merit_miner_workers) == 1 ]] && ok "the stranger never joined" || bad "workers: $(metric merit_miner_workers)"
refused=$(metric 'merit_miner_workers_events_total{event="refused"}')
[[ ${refused:-0} -ge 1 ]] && ok "the front counted the refused handshake" || bad "refused: ${refused:-none}"
"$BENCH" --endpoint "$AXON" --requests 100 --concurrency 8 --label after-stranger > "$WORK/s.out" 2> "$WORK/s.err"
[[ $(json "$WORK/s.out" "d['ok']") == 100 ]] && ok "still serving after the stranger" || bad "$(cat "$WORK/s.out")"
kill -0 "$W2" 2>/dev/null && ok "worker 2 still running" || bad "worker 2 exited"
finish
