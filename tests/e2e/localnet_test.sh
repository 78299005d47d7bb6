#!/usr/bin/env bash
# End-to-end tests of `merit localnet` with real processes (merit-chain, merit-miner,
# merit-validator) on loopback, using the hash-plugin config tests/e2e/localnet_hash.yaml.
# Usage: localnet_test.sh CASE MERIT CONFIG
#   run      `up --epochs 2` completes; better tiers earn more, the faulty miners ~0; validators
#            have weights on chain and dividends; no process is left afterwards
#   detach   `up --detach`, `status` (text and JSON), `down`; then a detached supervisor killed
#            with SIGKILL takes its children with it (PR_SET_PDEATHSIG)
#   sigint   SIGINT to a foreground supervisor: final metagraph, summary, clean stop; a miner
#            that cannot answer SIGTERM (SIGSTOPped) is SIGKILLed after the 10 s grace period,
#            and the supervisor reports it
#   badconfig  an unknown key, a missing plugin, a foreign data directory: clear errors, nothing starts
set -uo pipefail

CASE=$1 MERIT=$2 CONFIG=$3
WORK=$(mktemp -d /tmp/merit-localnet.XXXXXX)
DATA=$WORK/net
export MERIT_HOME=$WORK/home XDG_CACHE_HOME=$WORK/cache
unset MERIT_CHAIN_URL MERIT_PASSWORD
BG=
cleanup() {
  [[ -n $BG ]] && kill "$BG" 2>/dev/null
  "$MERIT" localnet down --data-dir "$DATA" > /dev/null 2>&1
  [[ -n ${KEEP_WORK:-} ]] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

passed=0
failed=0
ok()  { passed=$((passed + 1)); echo "ok   - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
finish() { echo "$passed passed, $failed failed"; [[ $failed -eq 0 ]]; exit $?; }

# Every pid the localnet recorded (supervisor and children).
pids() {
  python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
print(' '.join(str(p['pid']) for p in d['processes'] if p['pid'] > 0), d['supervisor_pid'])" "$DATA/localnet.json"
}
# no_orphans LABEL: none of the recorded processes is alive (zombies count as gone).
no_orphans() {
  local left=()
  for _ in $(seq 100); do
    left=()
    for p in $(pids); do
      if [[ -e /proc/$p ]] && ! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null; then left+=("$p"); fi
    done
    [[ ${#left[@]} -eq 0 ]] && break
    sleep 0.1
  done
  [[ ${#left[@]} -eq 0 ]] && ok "$1: no process left ($(pids | wc -w) checked)" \
    || bad "$1: still running: $(for p in "${left[@]}"; do tr '\0' ' ' < /proc/$p/cmdline; echo; done)"
}
# wait_phase PHASE...: the state file reaches one of the phases.
wait_phase() {
  for _ in $(seq 900); do
    if [[ -f $DATA/localnet.json ]]; then
      phase=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['phase'])" "$DATA/localnet.json" 2>/dev/null)
      for p in "$@"; do [[ $phase == "$p" ]] && return 0; done
    fi
    sleep 0.2
  done
  return 1
}

case $CASE in
run)
  timeout 150 "$MERIT" localnet up --config "$CONFIG" --data-dir "$DATA" --epochs 2 > "$WORK/up.out" 2> "$WORK/up.err"
  rc=$?
  [[ $rc -eq 0 ]] && ok "localnet up --epochs 2 completed" || bad "up exit $rc: $(tail -5 "$WORK/up.err") $(tail -5 "$WORK/up.out")"
  grep -q "== final metagraph" "$WORK/up.out" && grep -q "emission earned by miner tier" "$WORK/up.out" \
    && ok "prints the final metagraph and the summary by tier" || bad "no summary: $(tail -20 "$WORK/up.out")"
  python3 - "$DATA/summary.json" <<'PY' && ok "tiers earn in order (gold > silver > faulty ~ 0) in every subnet" || bad "tier order: $(cat "$DATA/summary.json" | head -c 1500)"
import json, sys
d = json.load(open(sys.argv[1]))
assert not d["interrupted"]
t = {x["tier"]: x["earned_rao"] for x in d["tiers"]}
assert t["gold"] > t["silver"] > 0, t
assert t["faulty"] * 100 < t["silver"], t
for s in d["subnets"]:
    assert s["epochs_measured"] >= 2, s
    e = {m["tier"]: m["earned_rao"] for m in s["miners"]}
    assert e["gold"] > e["silver"] > e["faulty"], (s["name"], e)
    assert e["faulty"] == 0 or e["faulty"] * 100 < e["silver"], e
PY
  python3 - "$DATA/summary.json" <<'PY' && ok "every validator has weights on chain and earns dividends" || bad "validators: $(head -c 1500 "$DATA/summary.json")"
import json, sys
d = json.load(open(sys.argv[1]))
for s in d["subnets"]:
    assert len(s["validators"]) >= 2, s
    for v in s["validators"]:
        assert v["weights"], (s["name"], v)
        assert v["dividends"] > 0 and v["earned_rao"] > 0, (s["name"], v)
PY
  # Mixed key schemes (localnet_hash.yaml): the sr25519 validator and miner of hash_b took part
  # (the checks above: weights, dividends, tier order) with keys that really are sr25519.
  sr=$(grep -l '"scheme": "sr25519"' "$DATA"/home/wallets/localnet/hotkeys/* | xargs -n1 basename | sort | tr '\n' ' ')
  [[ $sr == "hash_b.fast hash_b.v2 root " ]] && grep -q '"scheme": "sr25519"' "$DATA"/home/wallets/localnet/coldkey \
    && ok "the sr25519 owner, root hotkey, validator and miner ran beside ecdsa ones" || bad "sr25519 keys: '$sr'"
  ls "$DATA"/logs/chain.log "$DATA"/logs/hash_a.fast.log "$DATA"/logs/hash_b.v2.log > /dev/null 2>&1 \
    && ok "each process logs to its own file" || bad "logs: $(ls "$DATA/logs")"
  no_orphans "after up --epochs"
  [[ ! -e $DATA/localnet.pid ]] && ok "pid file removed" || bad "pid file left"
  ;;
detach)
  timeout 120 "$MERIT" localnet up --config "$CONFIG" --data-dir "$DATA" --detach > "$WORK/up.out" 2> "$WORK/up.err"
  rc=$?
  [[ $rc -eq 0 ]] && grep -q "localnet up in the background" "$WORK/up.out" && ok "up --detach returns once the network is up" \
    || bad "detach exit $rc: $(cat "$WORK/up.err") $(tail -20 "$DATA/supervisor.log")"
  "$MERIT" localnet status --data-dir "$DATA" --json > "$WORK/status.json" 2> "$WORK/status.err"
  python3 - "$WORK/status.json" <<'PY' && ok "status --json: running, 12 processes alive (with the dashboard), subnets and miners" || bad "status: $(head -c 1200 "$WORK/status.json") $(cat "$WORK/status.err")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["running"], d
assert len(d["processes"]) == 12 and all(p["alive"] for p in d["processes"]), d["processes"]
assert [p["role"] for p in d["processes"]].count("dashboard") == 1, d["processes"]
assert d["block"] > 0
assert [s["name"] for s in d["subnets"]] == ["hash_a", "hash_b"], d["subnets"]
assert {m["tier"] for m in d["subnets"][0]["miners"]} == {"gold", "silver", "faulty"}
PY
  wait_phase running && ok "the detached supervisor reaches the measuring phase" || bad "phase: $(tail -5 "$DATA/supervisor.log")"
  "$MERIT" localnet status --data-dir "$DATA" > "$WORK/status.txt" 2>&1 && grep -q "INCENTIVE" "$WORK/status.txt" \
    && grep -q "hash_a.fast" "$WORK/status.txt" && ok "status prints processes and the per-miner table" \
    || bad "status text: $(head -30 "$WORK/status.txt")"
  "$MERIT" localnet up --config "$CONFIG" --data-dir "$DATA" > "$WORK/twice.out" 2>&1
  [[ $? -ne 0 ]] && grep -q "already running" "$WORK/twice.out" && ok "a second up on the same data dir is refused" \
    || bad "second up: $(tail -3 "$WORK/twice.out")"
  timeout 90 "$MERIT" localnet down --data-dir "$DATA" > "$WORK/down.out" 2>&1
  rc=$?
  [[ $rc -eq 0 ]] && grep -q "stopped" "$WORK/down.out" && ok "down stops it" || bad "down exit $rc: $(cat "$WORK/down.out")"
  no_orphans "after down"
  "$MERIT" localnet status --data-dir "$DATA" > "$WORK/status2.txt" 2>&1
  [[ $? -eq 1 ]] && grep -q "not running" "$WORK/status2.txt" && ok "status after down: not running" \
    || bad "status after down: $(head -3 "$WORK/status2.txt")"
  grep -q "final metagraph" "$DATA/supervisor.log" && ok "the detached supervisor wrote its summary to supervisor.log" \
    || bad "supervisor.log: $(tail -5 "$DATA/supervisor.log")"

  # A supervisor killed outright: PR_SET_PDEATHSIG takes every child down with it.
  timeout 120 "$MERIT" localnet up --config "$CONFIG" --data-dir "$DATA" --detach > "$WORK/up2.out" 2>&1 \
    || bad "second detach: $(cat "$WORK/up2.out")"
  sup=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['supervisor_pid'])" "$DATA/localnet.json")
  kill -KILL "$sup"
  no_orphans "after SIGKILL of the supervisor"
  ;;
sigint)
  "$MERIT" localnet up --config "$CONFIG" --data-dir "$DATA" --epochs 0 > "$WORK/up.out" 2> "$WORK/up.err" &
  BG=$!
  wait_phase running && ok "network measuring" || bad "never measured: $(tail -5 "$WORK/up.err")"
  # A miner that does not answer SIGTERM: stopped (SIGSTOP), SIGTERM stays pending; only the
  # SIGKILL the supervisor sends once its grace period (10 s) has passed ends it.
  hung=$(python3 -c "
import json,sys
print([p['pid'] for p in json.load(open(sys.argv[1]))['processes'] if p['hotkey_name'] == 'hash_a.fast'][0])" "$DATA/localnet.json")
  kill -STOP "$hung" && grep -q '^State:.*T' /proc/$hung/status && ok "miner hash_a.fast (pid $hung) stopped: it cannot answer SIGTERM" \
    || bad "could not stop hash_a.fast ($hung)"
  start=$(date +%s.%N)
  kill -INT "$BG"
  for _ in $(seq 600); do kill -0 "$BG" 2>/dev/null || break; sleep 0.1; done
  took=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
  if kill -0 "$BG" 2>/dev/null; then bad "supervisor still running 60 s after SIGINT (no SIGKILL escalation?)"; else
    wait "$BG"
    rc=$?
    [[ $rc -eq 0 ]] && ok "SIGINT: supervisor exits 0" || bad "SIGINT exit $rc: $(tail -5 "$WORK/up.err")"
  fi
  BG=
  grep -q "== final metagraph (interrupted)" "$WORK/up.out" && grep -q "localnet stopped" "$WORK/up.out" \
    && ok "SIGINT: final metagraph, summary, clean stop" || bad "output: $(tail -20 "$WORK/up.out")"
  # The escalation: the supervisor waited the grace period, then SIGKILLed the hung miner (the
  # exit status it reaped says signal 9) and said so; every other child stopped on SIGTERM.
  grep -qx "hash_a.fast (pid $hung) did not stop within 10000 ms of SIGTERM: sent SIGKILL, killed by signal 9" "$WORK/up.out" \
    && ok "the hung miner was killed by SIGKILL after the grace period, and the supervisor reported it" \
    || bad "no SIGKILL report for hash_a.fast: $(grep -i "sigkill\|signal" "$WORK/up.out")"
  [[ $(grep -c "did not stop within" "$WORK/up.out") -eq 1 ]] && ok "only the hung miner needed SIGKILL" \
    || bad "escalations: $(grep "did not stop within" "$WORK/up.out")"
  python3 -c "import sys; t = float(sys.argv[1]); sys.exit(0 if 10 <= t < 60 else 1)" "$took" \
    && ok "SIGKILL came after the 10 s grace period (supervisor ended $took s after SIGINT)" \
    || bad "supervisor ended $took s after SIGINT (grace period 10 s)"
  [[ ! -e /proc/$hung ]] && ok "the hung miner is gone (reaped)" || bad "pid $hung still exists: $(grep State /proc/$hung/status)"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['interrupted'] and d['tiers']" "$DATA/summary.json" \
    && ok "summary.json marks the run interrupted" || bad "summary.json"
  no_orphans "after SIGINT"
  ;;
badconfig)
  sed 's/^root_stake: 100$/root_stake: 100\nrooot_weight: 2/' "$CONFIG" > "$WORK/typo.yaml"
  "$MERIT" localnet up --config "$WORK/typo.yaml" --data-dir "$DATA" > "$WORK/typo.out" 2>&1
  rc=$?
  [[ $rc -eq 2 ]] && grep -q "typo.yaml: rooot_weight: unknown key" "$WORK/typo.out" \
    && ok "unknown key: exit 2 and the error names file and key" || bad "typo (exit $rc): $(cat "$WORK/typo.out")"
  sed '0,/plugin: hash/s//plugin: no_such_plugin/' "$CONFIG" > "$WORK/noplugin.yaml"
  "$MERIT" localnet up --config "$WORK/noplugin.yaml" --data-dir "$DATA" > "$WORK/noplugin.out" 2>&1
  rc=$?
  [[ $rc -ne 0 ]] && grep -q "no_such_plugin" "$WORK/noplugin.out" && grep -q "subnet hash_a" "$WORK/noplugin.out" \
    && ok "missing plugin: the error names the subnet and the plugin" || bad "no plugin (exit $rc): $(cat "$WORK/noplugin.out")"
  sed 's/wrong_rate: 1.0/wrong_rat: 1.0/' "$CONFIG" > "$WORK/badpc.yaml"
  "$MERIT" localnet up --config "$WORK/badpc.yaml" --data-dir "$DATA" > "$WORK/badpc.out" 2>&1
  rc=$?
  [[ $rc -ne 0 ]] && grep -q "miner wrong: plugin_config" "$WORK/badpc.out" \
    && ok "a plugin_config the plugin refuses is reported before anything starts" || bad "bad plugin_config (exit $rc): $(cat "$WORK/badpc.out")"
  "$MERIT" localnet up --config "$WORK/missing.yaml" --data-dir "$DATA" > "$WORK/missing.out" 2>&1
  [[ $? -ne 0 ]] && grep -q "missing.yaml" "$WORK/missing.out" && ok "missing config file named" || bad "missing: $(cat "$WORK/missing.out")"
  [[ ! -e $DATA ]] && ok "nothing was created or started" || bad "data dir created: $(ls -la "$DATA")"
  mkdir -p "$WORK/foreign" && echo keep > "$WORK/foreign/file"
  "$MERIT" localnet up --config "$CONFIG" --data-dir "$WORK/foreign" > "$WORK/foreign.out" 2>&1
  [[ $? -ne 0 ]] && grep -q "not a localnet data directory" "$WORK/foreign.out" && [[ -f $WORK/foreign/file ]] \
    && ok "a foreign non-empty data directory is refused and left alone" || bad "foreign: $(cat "$WORK/foreign.out")"
  pgrep -f "$WORK" > /dev/null && bad "processes started: $(pgrep -af "$WORK")" || ok "no process started"
  ;;
*)
  echo "unknown case $CASE" >&2
  exit 2
  ;;
esac
finish
