#!/usr/bin/env bash
# The subnet author's kit, following docs/SUBNETS.md's ten-minute tutorial step by step: install
# meritnet into a throw-away prefix, `merit subnet new demo`, the tutorial's edit (a sed), build
# the project out of tree against the installed SDK, run its unit tests, `merit subnet check` it,
# and run its localnet for two epochs, where the honest miner must earn the most and the faulty
# one about nothing. Also: `merit subnet new` refuses a non-empty directory, bad names and an
# unknown --lang. (subnet_kit_python_test.sh follows the tutorial's Python variant.)
#
# Usage: subnet_kit_test.sh <meritnet build dir> <cmake> <generator> <c++ compiler>
set -uo pipefail
source "$(dirname "$0")/lib.sh"
BUILD=$1 CMAKE=$2 GENERATOR=$3 CXX_COMPILER=$4
test_init subnet-kit
unset MERIT_SUBNET_PATH

# 0. Install meritnet (the tutorial's prerequisite).
"$CMAKE" --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.out" 2>&1 \
  && ok "meritnet installed into $WORK/prefix" || { bad "install: $(tail -5 "$WORK/install.out")"; finish; }
export PATH="$WORK/prefix/bin:$PATH"
[[ $(command -v merit) == "$WORK/prefix/bin/merit" ]] && ok "the installed merit is on PATH" || bad "merit is $(command -v merit)"

# 1. merit subnet new demo --dir demo
cd "$WORK"
merit subnet new demo --dir demo > new.out 2>&1 && ok "merit subnet new demo" || bad "new: $(cat new.out)"
for f in CMakeLists.txt README.md localnet.yaml conformance.yaml src/demo_task.h src/demo_task.cpp src/demo_subnet.cpp tests/demo_tests.cpp; do
  [[ -s demo/$f ]] || bad "demo/$f missing"
done
grep -q 'find_package(MeritSubnetSDK' demo/CMakeLists.txt && ! grep -rq '{{name}}' demo \
  && ok "the project is complete, finds the SDK, and every placeholder is filled" || bad "project: $(ls -R demo)"

# Refusals: an existing non-empty directory, invalid names, an unknown language.
merit subnet new demo --dir demo > again.out 2>&1
[[ $? -eq 2 ]] && grep -q "not empty" again.out && ok "a non-empty --dir is refused" || bad "non-empty dir: $(cat again.out)"
refused=0
for name in Demo 1demo de-mo ""; do
  merit subnet new "$name" --dir "x_$name" > name.out 2>&1
  [[ $? -eq 2 ]] && grep -q "invalid subnet name" name.out && [[ ! -e "x_$name/CMakeLists.txt" ]] \
    && refused=$((refused + 1)) || bad "name '$name': $(cat name.out)"
done
[[ $refused -eq 4 ]] && ok "invalid names are refused (Demo, 1demo, de-mo, empty)"
merit subnet new rsdemo --lang rust --dir rsdemo > lang.out 2>&1
[[ $? -eq 2 ]] && grep -q "one of cpp, python" lang.out && [[ ! -e rsdemo ]] \
  && ok "--lang rust is refused" || bad "--lang rust: $(cat lang.out)"

# 2. The edit: 256 points per challenge instead of 64.
cd demo
sed -i 's/kDefaultPoints = 64/kDefaultPoints = 256/' src/demo_subnet.cpp
grep -q 'kDefaultPoints = 256' src/demo_subnet.cpp && ok "edited" || bad "the tutorial's sed changed nothing"

# 3. Build out of tree against the installed SDK and run the project's tests.
"$CMAKE" -S . -B build -G "$GENERATOR" -DCMAKE_CXX_COMPILER="$CXX_COMPILER" -DCMAKE_PREFIX_PATH="$WORK/prefix" \
  > configure.out 2>&1 && ok "configured against the installed SDK" || { bad "configure: $(tail -20 configure.out)"; finish; }
grep -q "$WORK/prefix" build/CMakeCache.txt && ok "MeritSubnetSDK found in the prefix" || bad "SDK not from the prefix"
"$CMAKE" --build build > build.out 2>&1 && [[ -f build/subnets/libmerit_subnet_demo.so ]] \
  && ok "built build/subnets/libmerit_subnet_demo.so" || { bad "build: $(tail -30 build.out)"; finish; }
ctest --test-dir build --output-on-failure > ctest.out 2>&1 && grep -q "100% tests passed" ctest.out \
  && ok "the project's unit tests pass" || bad "ctest: $(tail -20 ctest.out)"

# 4. The conformance suite.
merit subnet check . > check.out 2>&1 && grep -q "conformance: PASS" check.out \
  && ok "merit subnet check . passes" || bad "check: $(cat check.out)"
grep -q "^PASS challenge_seeded" check.out && ok "seeded challenges are checked (the seed key exists)" \
  || bad "challenge_seeded: $(grep challenge_seeded check.out)"
merit subnet check . --json > check.json 2> check.err
python3 - check.json <<'PY' && ok "--json: every check passed" || bad "json: $(head -c 600 check.json) $(cat check.err)"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["passed"] and d["name"] == "demo", d
assert {c["name"] for c in d["checks"]} >= {"abi", "honest", "wrong", "fuzz_score", "concurrency", "timings"}, d
PY

# The project's conformance.yaml is read, and the command line wins over it.
cp conformance.yaml conformance.yaml.orig
printf 'budgets: {serve_ms: 0}\n' > conformance.yaml
merit subnet check . > strict.out 2>&1
[[ $? -eq 1 ]] && grep -q "^FAIL timings .*over budget" strict.out && ok "conformance.yaml's budget applies" \
  || bad "budget from conformance.yaml: $(cat strict.out)"
merit subnet check . --budget-serve-ms 1000 > loose.out 2>&1 && ok "--budget-serve-ms overrides conformance.yaml" \
  || bad "override: $(grep -v ^PASS loose.out)"
printf 'colour: blue\n' > conformance.yaml
merit subnet check . > unknown.out 2>&1
[[ $? -eq 2 ]] && grep -q "colour: unknown key" unknown.out && ok "an unknown conformance.yaml key is refused" \
  || bad "unknown key: $(cat unknown.out)"
mv conformance.yaml.orig conformance.yaml

# 5. The localnet: the honest miner earns the most, the faulty one about nothing.
# (The data directory is the default, $MERIT_HOME/localnet; test_init points MERIT_HOME into $WORK.)
MERIT_SUBNET_PATH=$PWD/build/subnets timeout 240 merit localnet up --config localnet.yaml --epochs 2 > up.out 2> up.err
rc=$?
[[ $rc -eq 0 ]] && ok "merit localnet up --epochs 2 completed" || bad "localnet exit $rc: $(tail -5 up.err) $(tail -10 up.out)"
python3 - "$MERIT_HOME/localnet/summary.json" <<'PY' && ok "honest earns the most, then weak; faulty's last incentive ~ 0: $(json "$MERIT_HOME/localnet/summary.json" '{t["tier"]: t["earned_rao"] for t in d["tiers"]}')" || bad "earnings: $(head -c 1500 "$MERIT_HOME/localnet/summary.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert not d["interrupted"] and d["subnets"][0]["epochs_measured"] >= 2, d
t = {x["tier"]: x["earned_rao"] for x in d["tiers"]}
assert t["honest"] > t["weak"] > 0 and t["honest"] > t["faulty"], t
# The last epoch's incentive: the faulty miner's answers are random, so it ends with about none
# (what it earned came from the first measured epoch, before the validators' scores had settled).
i = {m["tier"]: m["incentive"] for m in d["subnets"][0]["miners"]}
assert i["honest"] > i["weak"] > 0 and i["faulty"] * 100 < i["honest"], i
PY
merit localnet down > /dev/null 2>&1 || true
finish
