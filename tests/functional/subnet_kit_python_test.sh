#!/usr/bin/env bash
# The subnet author's kit in Python, following docs/SUBNETS.md's ten-minute tutorial (its Python
# variant) step by step: install meritnet into a throw-away prefix, `merit subnet new demo --lang
# python`, the tutorial's edit (a sed), the project's unit tests with the interpreter the python
# host embeds, `merit subnet check`, and its localnet for four epochs (see the tutorial for why
# not two), from another working directory, where the honest miner must earn the most (honest > weak) and the faulty one about
# nothing.
#
# Usage: subnet_kit_python_test.sh <meritnet build dir> <cmake>
# Exits 77 (skipped) when the build has no python plugin host.
set -uo pipefail
BUILD=$1 CMAKE=$2
if [[ ! -f $BUILD/subnets/libmerit_subnet_python.so ]]; then
  echo "skipped: the python plugin host is not built (MERIT_WITH_PYTHON off: needs libpython3-dev and pybind11-dev)"
  exit 77
fi
if ! /usr/bin/python3 -c 'import numpy' 2> /dev/null; then
  echo "skipped: /usr/bin/python3 has no numpy (Debian: python3-numpy)"
  exit 77
fi
source "$(dirname "$0")/lib.sh"
test_init subnet-kit-python
unset MERIT_SUBNET_PATH

# 0. Install meritnet (the tutorial's prerequisite).
"$CMAKE" --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.out" 2>&1 \
  && ok "meritnet installed into $WORK/prefix" || { bad "install: $(tail -5 "$WORK/install.out")"; finish; }
export PATH="$WORK/prefix/bin:$PATH"
[[ $(command -v merit) == "$WORK/prefix/bin/merit" ]] && ok "the installed merit is on PATH" || bad "merit is $(command -v merit)"

# 1. merit subnet new demo --lang python --dir demo
cd "$WORK"
merit subnet new demo --lang python --dir demo > new.out 2>&1 && ok "merit subnet new demo --lang python" \
  || { bad "new: $(cat new.out)"; finish; }
for f in demo.py README.md localnet.yaml conformance.yaml check.yaml tests/__init__.py tests/test_demo.py; do
  [[ -s demo/$f ]] || bad "demo/$f missing"
done
! grep -rq '{{' demo && grep -q "module: \"$WORK/demo/demo.py\"" demo/check.yaml \
  && grep -c "module: \"$WORK/demo/demo.py\"" demo/localnet.yaml | has -x 5 \
  && ok "the project is complete, every placeholder filled, its configs name $WORK/demo/demo.py" \
  || bad "project: $(ls -R demo) $(cat demo/check.yaml)"
merit subnet new demo --lang python --dir demo > again.out 2>&1
[[ $? -eq 2 ]] && grep -q "not empty" again.out && ok "a non-empty --dir is refused" || bad "non-empty dir: $(cat again.out)"

# 2. The edit: 256 points per challenge instead of 64.
cd demo
sed -i 's/^DEFAULT_POINTS = 64/DEFAULT_POINTS = 256/' demo.py
grep -q '^DEFAULT_POINTS = 256' demo.py && ok "edited" || bad "the tutorial's sed changed nothing"

# 3. The unit tests, with the interpreter the host embeds.
/usr/bin/python3 -m unittest -v > unittest.out 2>&1 && grep -q "^OK" unittest.out \
  && ok "the project's unit tests pass ($(grep -m1 '^Ran' unittest.out))" || bad "unittest: $(tail -30 unittest.out)"

# 4. The conformance suite: the python host running demo.py.
merit subnet check . > check.out 2>&1 && grep -q "conformance: PASS" check.out \
  && ok "merit subnet check . passes" || bad "check: $(cat check.out)"
grep -q "^PASS challenge_seeded" check.out && ok "seeded challenges are checked (the seed key exists)" \
  || bad "challenge_seeded: $(grep challenge_seeded check.out)"
merit subnet check . --json > check.json 2> check.err
python3 - check.json <<'PY' && ok "--json: every check passed, on the python host" || bad "json: $(head -c 600 check.json) $(cat check.err)"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["passed"] and d["name"] == "python", d
assert {c["name"] for c in d["checks"]} >= {"abi", "honest", "wrong", "fuzz_score", "concurrency", "timings"}, d
PY
# From another directory, and with the module broken: the suite names the failure.
(cd / && merit subnet check "$WORK/demo" > "$WORK/demo/elsewhere.out" 2>&1) && grep -q "conformance: PASS" elsewhere.out \
  && ok "merit subnet check $WORK/demo passes from /" || bad "check from /: $(cat elsewhere.out)"
cp demo.py demo.py.orig
printf 'def score(state, expectation, response):\n    return 1.0\n' >> demo.py
merit subnet check . > broken.out 2>&1
[[ $? -eq 1 ]] && grep -q "^FAIL wrong" broken.out && ok "a module scoring everything 1 fails the wrong check" \
  || bad "broken module: $(cat broken.out)"
mv demo.py.orig demo.py

# 5. The localnet, from another working directory: the honest miner earns the most.
# (The data directory is the default, $MERIT_HOME/localnet; test_init points MERIT_HOME into $WORK.)
(cd / && timeout 240 merit localnet up --config "$WORK/demo/localnet.yaml" --epochs 4) > up.out 2> up.err
rc=$?
[[ $rc -eq 0 ]] && ok "merit localnet up --epochs 4 completed" || bad "localnet exit $rc: $(tail -5 up.err) $(tail -10 up.out)"
python3 - "$MERIT_HOME/localnet/summary.json" <<'PY' && ok "honest earns the most, then weak; faulty's last incentive ~ 0: $(json "$MERIT_HOME/localnet/summary.json" '{t["tier"]: t["earned_rao"] for t in d["tiers"]}')" || bad "earnings: $(head -c 1500 "$MERIT_HOME/localnet/summary.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert not d["interrupted"] and d["subnets"][0]["epochs_measured"] >= 4, d
t = {x["tier"]: x["earned_rao"] for x in d["tiers"]}
assert t["honest"] > t["weak"] > 0 and t["honest"] > t["faulty"], t
i = {m["tier"]: m["incentive"] for m in d["subnets"][0]["miners"]}
assert i["honest"] > i["weak"] > 0 and i["faulty"] * 100 < i["honest"], i
PY
merit localnet down > /dev/null 2>&1 || true
finish
