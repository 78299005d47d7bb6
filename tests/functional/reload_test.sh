#!/usr/bin/env bash
# Functional test of reloading the subnet plugin without a restart, real processes on loopback:
# merit-chain --dev (commit-reveal on), one merit-miner and one merit-validator serving the
# reload_probe subnet (tests/functional/reload_probe), each from its own copy of the plugin file.
# While the validator queries the miner:
#   - build 2 replaces build 1 under the miner (the file watch): the validator's mean quality goes
#     from 0.50 (build 1's answers) to 1.00 (build 2's);
#   - build 2 replaces build 1 under the validator (SIGHUP; its file watch is off): same process,
#     its scores and step count go on, and commits made before it are revealed after it;
#   - a plugin of another subnet, then a half-written file, replace the miner's: both refused
#     (also on SIGHUP) with a clear error, build 2 keeps answering; then build 1 is taken again;
#   - no query failed at any point (every step answered, the miner sent no error).
# Usage: reload_test.sh MERIT MERIT_CHAIN MERIT_MINER MERIT_VALIDATOR PROBE_DIR
set -uo pipefail

MERIT=$1 CHAIN=$2 MINER=$3 VALIDATOR=$4 PROBES=$5
source "$(dirname "$0")/lib.sh"
test_init plugin_reload
F=libmerit_subnet_reload_probe.so

# install_build BUILD DIR: replaces DIR/$F as an operator should (a new file renamed over it).
install_build() { cp "$PROBES/libmerit_subnet_reload_probe_$1.so" "$2/$F.new" && mv -f "$2/$F.new" "$2/$F"; }
# metric PORT NAME: the value of the metric line NAME (with its labels), or "missing".
metric() {
  python3 - "$1" "$2" <<'PY'
import sys, urllib.request
body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
print(next((l.split()[-1] for l in body.splitlines() if l.startswith(sys.argv[2] + " ")), "missing"))
PY
}
# wait_log FILE PATTERN [TRIES]: until FILE has a line matching PATTERN (0.1 s per try, default 300).
wait_log() {
  for _ in $(seq "${3:-300}"); do grep -q -- "$2" "$1" && return 0; sleep 0.1; done
  return 1
}
# wait_quality FROM QUALITY N: until the validator logged N steps answered with this mean quality
# after line FROM of its log (0.1 s per try, 60 s).
wait_quality() {
  for _ in $(seq 600); do
    [[ $(tail -n +$(($1 + 1)) "$WORK/validator.err" | grep -c "answered 1, mean quality $2") -ge $3 ]] && return 0
    sleep 0.1
  done
  return 1
}
vlines() { wc -l < "$WORK/validator.err"; }

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || bad "create wallet"
"$MERIT" wallet new-hotkey -w owner -k miner > /dev/null || bad "hotkey miner"
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
start_dev_chain "$CHAIN" --fund "$OWNER=1000000000000" || { bad "chain did not start: $(head -3 "$WORK/chain.err")"; finish; }
"$MERIT" subnet create --plugin reload_probe --set tempo=10 --set weights_rate_limit=2 --set activity_cutoff=1000 \
  --set commit_reveal=1 --set reveal_period_epochs=1 -w owner > "$WORK/create.out" 2>&1 \
  && ok "subnet created (commit-reveal on)" || bad "subnet create: $(cat "$WORK/create.out")"
for k in validator miner; do
  "$MERIT" register --netuid 1 -w owner -k $k > "$WORK/reg.out" 2>&1 || bad "register $k: $(cat "$WORK/reg.out")"
done
"$MERIT" stake add --amount 100 -w owner -k validator > /dev/null 2>&1 || bad "stake"

mkdir -p "$WORK/m" "$WORK/v"
install_build b1 "$WORK/m" && install_build b1 "$WORK/v" || bad "install build 1"
MERIT_MINER_PLUGIN_WATCH_MS=200 "$MINER" -w owner -k miner --netuid 1 --plugin "$WORK/m/$F" \
  --bind 'tcp://127.0.0.1:*' --metrics-port 0 --log-level info > "$WORK/miner.out" 2> "$WORK/miner.err" &
MPID=$!
PIDS+=($MPID)
MERIT_VALIDATOR_PLUGIN_WATCH_MS=0 MERIT_VALIDATOR_STEP_INTERVAL_MS=250 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=3000 \
  MERIT_VALIDATOR_EMA_ALPHA=0.3 "$VALIDATOR" -w owner -k validator --netuid 1 --plugin "$WORK/v/$F" \
  --state-file "$WORK/validator.json" --metrics-port 0 --log-level info,validator=debug > "$WORK/validator.out" 2> "$WORK/validator.err" &
VPID=$!
PIDS+=($VPID)
wait_ready "$WORK/miner.out" && ok "miner serving build 1" || bad "miner: $(head -3 "$WORK/miner.err")"
wait_ready "$WORK/validator.out" && ok "validator running build 1" || bad "validator: $(head -3 "$WORK/validator.err")"
MMETRICS=$(json "$WORK/miner.out" "d['metrics_port']" 2>/dev/null)
VMETRICS=$(json "$WORK/validator.out" "d['metrics_port']" 2>/dev/null)

# Build 1 answers (quality 0.50) once the validator holds a permit the miner accepts.
wait_quality 0 0.50 3 && ok "build 1 answers (mean quality 0.50)" || bad "no answered steps: $(grep queried "$WORK/validator.err" | tail -2)"
FIRST=$(grep -n "answered 1" "$WORK/validator.err" | head -1 | cut -d: -f1)
# The miner's error answers so far (FORBIDDEN until the validator had its permit): none may follow.
STATUSES="bad_request unauthorized forbidden not_found rate_limited stale overloaded timeout internal"
declare -A BASE
for s in $STATUSES; do BASE[$s]=$(metric "$MMETRICS" "merit_miner_responses_total{status=\"$s\"}"); done
wait_log "$WORK/validator.err" "committed" 300 && ok "the validator commits weights" || bad "no commit: $(grep -i -m3 weights "$WORK/validator.err")"

# 1. The miner, by its file watch: build 2 replaces build 1.
L=$(vlines)
install_build b2 "$WORK/m"
wait_log "$WORK/miner.err" "reloaded subnet plugin 'reload_probe'" \
  && ok "miner reloaded when the file changed: $(grep -o "reloaded subnet plugin.*" "$WORK/miner.err" | head -1 | cut -c1-160)" \
  || bad "miner did not reload: $(tail -3 "$WORK/miner.err")"
wait_quality "$L" 1.00 3 && ok "build 2 answers after the miner's reload (mean quality 1.00)" \
  || bad "quality after reload: $(grep queried "$WORK/validator.err" | tail -2)"
[[ $(metric "$MMETRICS" merit_miner_plugin_generation) == 2 ]] && ok "miner metrics: plugin generation 2" \
  || bad "miner generation $(metric "$MMETRICS" merit_miner_plugin_generation)"

# 2. The validator, by SIGHUP only (its watch is off): same process, scores and state go on.
SCORE_BEFORE=$(metric "$VMETRICS" 'merit_validator_score{uid="1"}')
STEPS_BEFORE=$(json "$WORK/validator.json" "d['steps']")
install_build b2 "$WORK/v"
sleep 1
grep -q "reloaded subnet plugin" "$WORK/validator.err" && bad "the validator reloaded with plugin_watch_ms 0" \
  || ok "with plugin_watch_ms 0 a changed file alone does not reload the validator"
L=$(vlines)
kill -HUP "$VPID"
wait_log "$WORK/validator.err" "reloaded subnet plugin 'reload_probe'" \
  && ok "validator reloaded on SIGHUP" || bad "validator did not reload: $(tail -3 "$WORK/validator.err")"
wait_quality "$L" 1.00 3 || bad "validator steps after its reload: $(grep queried "$WORK/validator.err" | tail -2)"
SCORE_AFTER=$(metric "$VMETRICS" 'merit_validator_score{uid="1"}')
STEPS_AFTER=$(json "$WORK/validator.json" "d['steps']")
kill -0 "$VPID" 2>/dev/null && [[ $(grep -c '"ready"' "$WORK/validator.out") -eq 1 ]] \
  && ok "the validator is the same process" || bad "validator restarted or died"
python3 -c "import sys; b, a = map(float, sys.argv[1:3]); sys.exit(0 if b > 0.2 and a >= b - 0.02 else 1)" "$SCORE_BEFORE" "$SCORE_AFTER" \
  && ok "the validator's score for the miner survived its reload ($SCORE_BEFORE -> $SCORE_AFTER)" \
  || bad "score across the reload: $SCORE_BEFORE -> $SCORE_AFTER"
[[ $STEPS_AFTER -gt $STEPS_BEFORE ]] && ok "its state went on (steps $STEPS_BEFORE -> $STEPS_AFTER)" \
  || bad "steps $STEPS_BEFORE -> $STEPS_AFTER"
RELOAD_LINE=$(grep -n "reloaded subnet plugin" "$WORK/validator.err" | head -1 | cut -d: -f1)
for _ in $(seq 300); do tail -n +"$RELOAD_LINE" "$WORK/validator.err" | has "revealed" && break; sleep 0.1; done
head -n "$RELOAD_LINE" "$WORK/validator.err" | has "committed" && tail -n +"$RELOAD_LINE" "$WORK/validator.err" | has "revealed" \
  && ok "commits made before the validator's reload are revealed after it" \
  || bad "commit-reveal across the reload: $(grep -m4 "committed\|revealed" "$WORK/validator.err")"
[[ $(metric "$VMETRICS" merit_validator_plugin_generation) == 2 ]] && ok "validator metrics: plugin generation 2" \
  || bad "validator generation $(metric "$VMETRICS" merit_validator_plugin_generation)"

# 3. Another subnet's plugin: refused, build 2 keeps serving.
install_build other "$WORK/m"
wait_log "$WORK/miner.err" "is subnet 'reload_other', not 'reload_probe'" \
  && ok "miner refused another subnet: $(grep -o "reload of subnet plugin.*" "$WORK/miner.err" | head -1 | cut -c1-200)" \
  || bad "no refusal: $(tail -3 "$WORK/miner.err")"
L=$(vlines)
wait_quality "$L" 1.00 3 && ok "build 2 still answers after the refusal" || bad "after refusal: $(grep queried "$WORK/validator.err" | tail -2)"
kill -HUP "$MPID"
for _ in $(seq 100); do [[ $(metric "$MMETRICS" 'merit_miner_plugin_reloads_total{outcome="refused"}') == 2 ]] && break; sleep 0.1; done
[[ $(metric "$MMETRICS" 'merit_miner_plugin_reloads_total{outcome="refused"}') == 2 ]] \
  && ok "SIGHUP tries the file again: refused again" \
  || bad "refused count $(metric "$MMETRICS" 'merit_miner_plugin_reloads_total{outcome="refused"}')"

# 4. A half-written file: refused, build 2 keeps serving.
head -c 4000 "$PROBES/libmerit_subnet_reload_probe_b1.so" > "$WORK/m/$F.new" && mv -f "$WORK/m/$F.new" "$WORK/m/$F"
for _ in $(seq 100); do [[ $(metric "$MMETRICS" 'merit_miner_plugin_reloads_total{outcome="refused"}') == 3 ]] && break; sleep 0.1; done
[[ $(metric "$MMETRICS" 'merit_miner_plugin_reloads_total{outcome="refused"}') == 3 ]] && grep -q "cannot be loaded" "$WORK/miner.err" \
  && ok "a truncated file is refused" || bad "truncated file: $(tail -2 "$WORK/miner.err")"
L=$(vlines)
wait_quality "$L" 1.00 3 && ok "build 2 still answers" || bad "after truncated file: $(grep queried "$WORK/validator.err" | tail -2)"

# 5. A good build again is taken.
L=$(vlines)
install_build b1 "$WORK/m"
wait_quality "$L" 0.50 3 && ok "build 1 taken again after the refusals (mean quality 0.50)" \
  || bad "back to build 1: $(grep queried "$WORK/validator.err" | tail -2)"
[[ $(metric "$MMETRICS" merit_miner_plugin_generation) == 3 ]] && ok "miner metrics: generation 3, 3 refused" \
  || bad "miner generation $(metric "$MMETRICS" merit_miner_plugin_generation)"

# Nothing failed on the way: every step since the first answer got its answer, and the miner sent
# only OK (a DROP, INTERNAL or NOT_FOUND would show here).
tail -n +"$FIRST" "$WORK/validator.err" | grep "queried" > "$WORK/steps.txt"
if [[ $(grep -c . "$WORK/steps.txt") -gt 20 ]] && ! grep -v "queried 1, answered 1, mean quality" "$WORK/steps.txt" > "$WORK/failed_steps.txt" \
  && ! grep -q "not measured" "$WORK/steps.txt"; then
  ok "every one of $(grep -c . "$WORK/steps.txt") validator steps through the reloads was answered"
else
  bad "steps with failures: $(head -3 "$WORK/failed_steps.txt") (of $(grep -c . "$WORK/steps.txt")); the query results: $(grep -B6 -F "$(head -1 "$WORK/failed_steps.txt")" "$WORK/validator.err" | grep "uid 1: status" | tail -1)"
fi
bad_responses=0
for s in $STATUSES; do
  v=$(metric "$MMETRICS" "merit_miner_responses_total{status=\"$s\"}")
  [[ $v == "${BASE[$s]}" ]] || { bad_responses=1; echo "  miner responses $s: ${BASE[$s]} -> $v"; }
done
[[ $bad_responses -eq 0 ]] \
  && ok "since the first answer the miner answered every request OK ($(metric "$MMETRICS" 'merit_miner_responses_total{status="ok"}') answers)" \
  || bad "the miner sent error answers"
grep -q "cannot score" "$WORK/validator.err" && bad "the validator could not score: $(grep -m2 "cannot score" "$WORK/validator.err")" \
  || ok "the validator scored every answer"
echo "# in flight at the miner's swaps: $(grep -o "[0-9]* call(s) were in flight" "$WORK/miner.err" | tr '\n' ';')"

kill "$MPID" "$VPID"
wait "$MPID" && wait "$VPID" && ok "miner and validator stop cleanly on SIGTERM" || bad "exit status on SIGTERM"

finish
