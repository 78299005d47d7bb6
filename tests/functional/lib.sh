# Shared by the process-level functional test scripts: a work directory removed at exit with every
# process the test started, TAP-like check lines, JSON field access, and a dev chain on loopback.
#
#   source "$(dirname "$0")/lib.sh"
#   test_init NAME            work directory $WORK, MERIT_HOME, MERIT_PASSWORD, cleanup at exit
#   ok MESSAGE / bad MESSAGE  one check line each; `finish` prints the totals and exits
#   json FILE EXPR            a Python expression over the JSON document d in FILE
#   expect_rc WANT DESCRIPTION -- CMD...
#                             run CMD (output in $WORK/out, errors in $WORK/err); ok if it exits WANT
#   outjson EXPR              json over $WORK/out
#   wait_until DESCRIPTION SECONDS -- CMD...
#                             poll CMD every 0.2 s until it succeeds; ok, or bad after SECONDS
#   wait_ready FILE [TRIES]   wait (0.1 s per try, default 300) for a process's JSON ready line
#   spawn VAR CMD...          start CMD in the background, remember it for cleanup, pid in $VAR
#   start_dev_chain CHAIN [merit-chain options...]
#                             merit-chain --dev with 100 ms blocks on free ports; exports
#                             MERIT_CHAIN_URL, sets CHAIN_PID; logs in $WORK/chain.{out,err}
#   chain_head                the chain's head block number ($MERIT chain head)
#   wait_miner_follows OUT BLOCK [TRIES]
#                             wait (0.1 s per try, default 600) until the miner whose ready line is
#                             in OUT (started with --metrics-port 0) admits callers from a
#                             metagraph of block BLOCK or later (merit_miner_metagraph_block)
#   CMD | has [GREP OPTIONS] PATTERN
#                             succeeds when a line of CMD's output matches; use it instead of
#                             `| grep -q`, which stops reading at the first match: CMD then dies
#                             of SIGPIPE when it writes on, and under `set -o pipefail` the
#                             pipeline fails although the line was there
# KEEP_WORK=1 keeps the work directory for a post-mortem.

has() { grep -c "$@" > /dev/null; }

test_init() {
  WORK=$(mktemp -d "/tmp/merit-$1.XXXXXX")
  PIDS=()
  trap _test_cleanup EXIT
  export MERIT_HOME="$WORK/home" MERIT_PASSWORD="$1-test-password"
  unset MERIT_CHAIN_URL
  passed=0
  failed=0
}

_test_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [[ -n ${KEEP_WORK:-} ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}

ok()  { passed=$((passed + 1)); echo "ok   - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
finish() { echo "$passed passed, $failed failed"; [[ $failed -eq 0 ]]; exit $?; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }

expect_rc() {
  local want=$1 what=$2; shift 3
  "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
  local rc=$?
  if [[ $rc -eq $want ]]; then ok "$what"; else bad "$what (exit $rc, wanted $want): $(cat "$WORK/err" "$WORK/out" | head -5)"; fi
}
outjson() { json "$WORK/out" "$1"; }

wait_until() {
  local what=$1 secs=$2; shift 3
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then ok "$what"; return 0; fi
    sleep 0.2
  done
  bad "$what (not within $secs s)"
  return 1
}

wait_ready() {
  local tries=${2:-300}
  for _ in $(seq "$tries"); do grep -q '"ready"' "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

spawn() {
  local var=$1
  shift
  "$@" &
  PIDS+=($!)
  printf -v "$var" '%s' "$!"
}

start_dev_chain() {
  local chain=$1
  shift
  "$chain" --dev --data-dir "$WORK/chain" --rpc-port 0 --feed tcp://127.0.0.1:0 --block-time-ms 100 \
    --log-level warn "$@" > "$WORK/chain.out" 2>> "$WORK/chain.err" &
  CHAIN_PID=$!
  PIDS+=($CHAIN_PID)
  wait_ready "$WORK/chain.out" || return 1
  MERIT_CHAIN_URL=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['rpc'])" "$WORK/chain.out")
  export MERIT_CHAIN_URL
}

# wait_for_payout [TRIES]: poll subnet 1's metagraph (0.2 s per try, default 300) until uid 0
# (the validator) gives uid 1 the top weight and an epoch has paid uid 1 more incentive than
# uid 2. The last metagraph read (with weights) is left in $WORK/mg.json for the test's checks.
wait_for_payout() {
  local tries=${1:-300}
  for _ in $(seq "$tries"); do
    "$MERIT" metagraph --netuid 1 --json --weights > "$WORK/mg.json" 2>/dev/null
    python3 - "$WORK/mg.json" <<'PY' && return 0
import json, sys
d = json.load(open(sys.argv[1]))
n = {x["uid"]: x for x in d["neurons"]}
w = dict((u, v) for u, v in n[0].get("weights", []))
sys.exit(0 if w.get(1, 0) == 65535 and n[1]["incentive"] > n[2]["incentive"] else 1)
PY
    sleep 0.2
  done
  return 1
}

chain_head() { "$MERIT" chain head --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['number'])"; }

wait_miner_follows() {
  local port
  port=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['metrics_port'])" "$1") || return 1
  python3 - "$port" "$2" "${3:-600}" <<'PY'
import sys, time, urllib.request
port, block, tries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(tries):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        for line in text.splitlines():
            if line.startswith("merit_miner_metagraph_block ") and float(line.split()[1]) >= block:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
}
