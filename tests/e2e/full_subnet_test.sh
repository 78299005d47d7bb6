#!/usr/bin/env bash
# A full subnet started all at once through `merit localnet up`: a dev chain, one `hash` subnet
# with N miners (default 64) and 2 validators, every daemon spawned together. Passes when both
# validators have weights on chain, miners earn incentive, and no daemon exited on the way.
# Fails at 8f8197f: with 64 miners the chain's 16 RPC workers were pinned by idle keep-alive
# connections and the miners gave up on the first failed call (see docs/PERFORMANCE.md).
# Usage: full_subnet_test.sh MERIT [MINERS] [BLOCK_TIME_MS]
set -uo pipefail

MERIT=$1 MINERS=${2:-64} BLOCK_MS=${3:-250}
WORK=$(mktemp -d /tmp/merit-fullsubnet.XXXXXX)
DATA=$WORK/net
export MERIT_HOME=$WORK/home XDG_CACHE_HOME=$WORK/cache
unset MERIT_CHAIN_URL MERIT_PASSWORD
cleanup() {
  "$MERIT" localnet down --data-dir "$DATA" > /dev/null 2>&1
  [[ -n ${KEEP_WORK:-} ]] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
passed=0
failed=0
ok()  { passed=$((passed + 1)); echo "ok   - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
finish() { echo "$passed passed, $failed failed"; [[ $failed -eq 0 ]]; exit $?; }

# The generated config: one subnet, N miners of one tier, 2 validators sampling every miner.
python3 "$(dirname "$0")/../../tools/perf/full_subnet_config.py" "$MINERS" "$BLOCK_MS" > "$WORK/full.yaml" \
  || { echo "cannot write the config"; exit 1; }

start=$(date +%s)
timeout 200 "$MERIT" localnet up --config "$WORK/full.yaml" --data-dir "$DATA" --epochs 1 > "$WORK/up.out" 2> "$WORK/up.err"
rc=$?
elapsed=$(( $(date +%s) - start ))
[[ $rc -eq 0 ]] && ok "localnet of $MINERS miners and 2 validators: up, weights, one epoch measured in ${elapsed}s" \
  || bad "up exit $rc after ${elapsed}s: $(tail -5 "$WORK/up.err") $(tail -5 "$WORK/up.out")"
stopped=$(grep -c " exited\| killed\| stopped before" "$WORK/up.out" 2>/dev/null)
[[ ${stopped:-0} -eq 0 ]] && ok "no daemon exited while the network ran" \
  || bad "$stopped daemons exited: $(grep -m5 " exited\| killed" "$WORK/up.out")"
unreachable=$(grep -l "cannot reach the chain" "$DATA"/logs/*.log 2>/dev/null | wc -l)
echo "    logs mentioning 'cannot reach the chain': $unreachable; with a retry line: $(grep -l "chain unreachable at" "$DATA"/logs/*.log 2>/dev/null | wc -l)"
python3 - "$DATA/summary.json" "$MINERS" <<'PY' && ok "both validators have weights on chain, miners earn incentive" || bad "summary: $(head -c 2000 "$DATA/summary.json")"
import json, sys
d = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
s = d["subnets"][0]
assert len(s["validators"]) == 2, s["validators"]
for v in s["validators"]:
    assert v.get("weights"), ("no weights", v["name"])
miners = s["miners"]
assert len(miners) == n, len(miners)
paid = [m for m in miners if m.get("incentive", 0) > 0]
print(f"    miners with incentive > 0: {len(paid)} of {n}; weights rows: {[len(v['weights']) for v in s['validators']]}")
assert len(paid) >= n // 2, len(paid)
PY
finish
