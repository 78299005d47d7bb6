#!/usr/bin/env bash
# End to end, a subnet written in Python: `merit localnet up --epochs 2` on
# tests/e2e/localnet_python.yaml (the `python` plugin host running fashion_linear.py) with real
# merit-chain, merit-miner and merit-validator processes. The trained miner must earn more than
# the briefly trained one, the untrained one (uniform answers) about nothing; the validators set
# weights. Failures injected by python_faulty.py: a miner whose serve always raises answers
# INTERNAL (it earns nothing), logs the traceback and keeps running; a validator whose score
# raises every other time logs the traceback and keeps validating; nothing exits early.
# Usage: python_localnet_test.sh MERIT CONFIG (CONFIG's @E2E_DIR@ becomes this script's folder)
set -uo pipefail

MERIT=$1 CONFIG=$2
WORK=$(mktemp -d /tmp/merit-pylocalnet.XXXXXX)
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

sed "s#@E2E_DIR@#$(cd "$(dirname "$0")" && pwd)#g" "$CONFIG" > "$WORK/localnet.yaml"
timeout 280 "$MERIT" localnet up --config "$WORK/localnet.yaml" --data-dir "$DATA" --epochs 2 > "$WORK/up.out" 2> "$WORK/up.err"
rc=$?
[[ $rc -eq 0 ]] && ok "localnet up --epochs 2 completed" \
  || bad "up exit $rc: $(tail -5 "$WORK/up.err") $(tail -20 "$WORK/up.out")"
python3 - "$DATA/summary.json" <<'PY' && ok "the trained miner earns more than the brief one; the untrained one ~0" \
  || bad "earnings: $(head -c 2000 "$DATA/summary.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert not d["interrupted"]
(s,) = d["subnets"]
assert s["epochs_measured"] >= 2, s
e = {m["tier"]: m["earned_rao"] for m in s["miners"]}
assert e["gold"] > e["silver"] > 0, e
assert e["faulty"] * 100 < e["silver"], e
assert e["broken"] * 100 < e["silver"], e
PY
python3 - "$DATA/summary.json" <<'PY' && ok "every validator (v3 too) has weights on chain and earns dividends" \
  || bad "validators: $(head -c 2000 "$DATA/summary.json")"
import json, sys
d = json.load(open(sys.argv[1]))
vs = d["subnets"][0]["validators"]
assert len(vs) == 3, vs
for v in vs:
    assert v["weights"] and v["dividends"] > 0, v
PY
LOGS=$DATA/logs
clean=$(for n in trained brief untrained v1 v2; do grep -l "Traceback" "$LOGS/fashion_py.$n.log"; done 2>/dev/null)
[[ -z $clean ]] && ok "no Python traceback in the healthy miners' and validators' logs" || bad "tracebacks in: $clean"
grep -q "python subnet python_faulty: batch_serve raised:" "$LOGS/fashion_py.crashy.log" \
  && grep -q "RuntimeError: injected serve failure" "$LOGS/fashion_py.crashy.log" \
  && grep -q "Traceback (most recent call last):" "$LOGS/fashion_py.crashy.log" \
  && ok "the miner whose serve raises logs the traceback" || bad "crashy log: $(tail -20 "$LOGS/fashion_py.crashy.log")"
grep -q "cannot score uid .*python subnet python_faulty: score raised:" "$LOGS/fashion_py.v3.log" \
  && grep -q "RuntimeError: injected score failure" "$LOGS/fashion_py.v3.log" \
  && ok "the validator whose score raises logs the traceback" || bad "v3 log: $(tail -20 "$LOGS/fashion_py.v3.log")"
first=$(grep -n "cannot score uid" "$LOGS/fashion_py.v3.log" | head -1 | cut -d: -f1)
[[ -n $first ]] && tail -n +"$first" "$LOGS/fashion_py.v3.log" | grep "queried .*answered" > /dev/null \
  && ok "the validator keeps validating after its score raised" || bad "v3 after the failure: $(tail -5 "$LOGS/fashion_py.v3.log")"
! grep -q "; see " "$WORK/up.out" && ok "no miner or validator exited before the end" \
  || bad "a process ended early: $(grep "; see " "$WORK/up.out")"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
