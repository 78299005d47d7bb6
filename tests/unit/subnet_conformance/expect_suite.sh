#!/usr/bin/env bash
# expect_suite.sh pass|fail CHECK MERIT_SUBNET_CHECK PLUGIN MODE [suite options...]
# Runs the conformance suite on PLUGIN with MODE as its config; with `fail`, the suite must exit
# 1 and report CHECK as FAIL (also in --json); with `pass`, it must exit 0.
set -uo pipefail
want=$1 check=$2 tool=$3 plugin=$4 mode=$5
shift 5
work=$(mktemp -d "${TMPDIR:-/tmp}/merit_conformance_XXXXXX")
trap 'rm -rf "$work"' EXIT
printf '%s\n' "$mode" > "$work/mode.yaml"
"$tool" --suite "$plugin" --config "$work/mode.yaml" "$@" > "$work/out.txt" 2> "$work/err.txt"
rc=$?
cat "$work/out.txt"
if [[ $want == pass ]]; then
  [[ $rc -eq 0 ]] || { echo "FAIL: expected the suite to pass, exit $rc"; cat "$work/err.txt"; exit 1; }
  exit 0
fi
[[ $rc -eq 1 ]] || { echo "FAIL: expected exit 1, got $rc"; cat "$work/err.txt"; exit 1; }
grep -q "^FAIL $check " "$work/out.txt" || { echo "FAIL: check $check did not fail"; exit 1; }
"$tool" --suite "$plugin" --config "$work/mode.yaml" --json "$@" > "$work/out.json" 2> /dev/null
python3 - "$work/out.json" "$check" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
assert d["passed"] is False, d
assert any(c["name"] == sys.argv[2] and c["outcome"] == "fail" for c in d["checks"]), d["checks"]
PY
echo "ok: the suite failed $check"
