#!/usr/bin/env bash
# End to end, a subnet written in Python: `merit localnet up --epochs 2` on
# tests/e2e/localnet_python.yaml (the `python` plugin host running fashion_linear.py) with real
# merit-chain, merit-miner and merit-validator processes. The trained miner must earn more than
# the briefly trained one, the untrained one (uniform answers) about nothing; both validators set
# weights; no miner or validator log shows a Python traceback.
# Usage: python_localnet_test.sh MERIT CONFIG
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

timeout 280 "$MERIT" localnet up --config "$CONFIG" --data-dir "$DATA" --epochs 2 > "$WORK/up.out" 2> "$WORK/up.err"
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
PY
python3 - "$DATA/summary.json" <<'PY' && ok "both validators have weights on chain and earn dividends" \
  || bad "validators: $(head -c 2000 "$DATA/summary.json")"
import json, sys
d = json.load(open(sys.argv[1]))
for v in d["subnets"][0]["validators"]:
    assert v["weights"] and v["dividends"] > 0, v
PY
if grep -l "Traceback" "$DATA"/logs/fashion_py.*.log > /dev/null 2>&1; then
  bad "a Python traceback in: $(grep -l "Traceback" "$DATA"/logs/fashion_py.*.log)"
else
  ok "no Python traceback in any miner or validator log ($(ls "$DATA"/logs/fashion_py.*.log 2>/dev/null | wc -l) logs)"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
