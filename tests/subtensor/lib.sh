# Sourced by subtensor test scripts: the functional tests' conventions (tests/functional/lib.sh:
# test_init/ok/bad/finish/json/spawn, a work directory removed at exit) plus Chopsticks running a
# real subtensor runtime on loopback.
#
#   source "$(dirname "$0")/lib.sh"      (or $MERIT_SUBTENSOR_TOOLS/lib.sh from elsewhere)
#   sub_require                 exit 77 with the reason when the harness is unavailable (the
#                               subtensor_npm fixture skipped, specs or node_modules missing)
#   sub_init NAME               test_init NAME, and every Chopsticks started is stopped at exit
#   sub_start SPEC [DIR]        start spec200|spec218|<spec.json> (DIR default $WORK/chopsticks-SPEC);
#                               sets SUB_DIR, SUB_PORT, SUB_HTTP (http://127.0.0.1:port), SUB_WS
#                               (ws://127.0.0.1:port); returns 1 on failure (log tail printed)
#   sub_stop [DIR]              stop it (default $SUB_DIR)
#   sub_save [DIR]              save the whole chain state (DIR/state.json) for a later restart
#   sub_kill [DIR]              SIGKILL the node's process group (a crash), without cleanup
#   sub_restart [DIR]           stop (if running) and start again on the same port: at the saved
#                               head and state after sub_save, from genesis otherwise
#   sub_rpc METHOD [PARAMS]     JSON-RPC over HTTP to $SUB_HTTP, PARAMS a JSON array (default []);
#                               prints the "result" as JSON; prints the error and returns 1 on error
#   sub_new_blocks N            dev_newBlock with count N; prints the new head hash
#   sub_tool NAME [ARGS...]     runs tools/NAME.mjs with the installed @polkadot/api (stdin passes)
#
# Environment (set by CTest through merit_add_subtensor_test): MERIT_BUILD_DIR, MERIT_SUBTENSOR_DIR
# (<build>/subtensor), MERIT_SUBTENSOR_NODE_MODULES, MERIT_SUBTENSOR_SPECS, MERIT_SUBTENSOR_FIXTURES.

SUB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../functional/lib.sh
source "$SUB_HERE/../functional/lib.sh"

: "${MERIT_SUBTENSOR_DIR:=${MERIT_BUILD_DIR:-/nonexistent}/subtensor}"
: "${MERIT_SUBTENSOR_NODE_MODULES:=$MERIT_SUBTENSOR_DIR/node_modules}"
: "${MERIT_SUBTENSOR_SPECS:=${MERIT_SUBTENSOR_SPECS_DEFAULT:-$SUB_HERE/../../../shared/subtensor}}"
: "${MERIT_SUBTENSOR_FIXTURES:=$MERIT_SUBTENSOR_DIR/fixtures}"
export MERIT_SUBTENSOR_DIR MERIT_SUBTENSOR_NODE_MODULES MERIT_SUBTENSOR_SPECS MERIT_SUBTENSOR_FIXTURES
SUB_DIRS=()

sub_require() {
  local reason=
  if [[ -f $MERIT_SUBTENSOR_DIR/SKIP ]]; then
    reason=$(cat "$MERIT_SUBTENSOR_DIR/SKIP")
  elif [[ ! -f $MERIT_SUBTENSOR_SPECS/local-spec200.json || ! -f $MERIT_SUBTENSOR_SPECS/raonet-spec218.json ]]; then
    reason="subtensor specs not found in $MERIT_SUBTENSOR_SPECS (set MERIT_SUBTENSOR_SPECS)"
  elif [[ ! -f $MERIT_SUBTENSOR_NODE_MODULES/@acala-network/chopsticks/chopsticks.cjs ]]; then
    reason="Chopsticks not installed in $MERIT_SUBTENSOR_NODE_MODULES (the subtensor_npm CTest fixture installs it)"
  fi
  [[ -z $reason ]] && return 0
  echo "SKIP: $reason"
  exit 77
}

sub_init() {
  test_init "$1"
  # Chopsticks runs in its own session: if this script is killed (CTest timeout), a watcher
  # started by chopsticks.sh stops it.
  export MERIT_SUBTENSOR_OWNER_PID=$$
  trap '_sub_cleanup; _test_cleanup' EXIT
}

_sub_cleanup() {
  local d
  for d in "${SUB_DIRS[@]}"; do "$SUB_HERE/chopsticks.sh" stop "$d"; done
  if [[ -n ${KEEP_WORK:-} ]]; then return; fi
  # On failure show what the node said (the work directory is about to be removed).
  if [[ ${failed:-0} -gt 0 ]]; then
    for d in "${SUB_DIRS[@]}"; do echo "--- $d/chopsticks.log (tail)"; tail -n 20 "$d/chopsticks.log" 2>/dev/null; done
  fi
}

_sub_use() {
  SUB_DIR=$1
  SUB_PORT=$(cat "$SUB_DIR/port")
  SUB_HTTP=http://127.0.0.1:$SUB_PORT
  SUB_WS=ws://127.0.0.1:$SUB_PORT
  export SUB_DIR SUB_PORT SUB_HTTP SUB_WS
}

sub_start() {
  local spec=$1 dir=${2:-${WORK:?sub_init first or pass DIR}/chopsticks-$(basename "$1" .json)}
  SUB_DIRS+=("$dir")
  "$SUB_HERE/chopsticks.sh" start "$spec" "$dir" > /dev/null || return 1
  _sub_use "$dir"
}

sub_stop() { "$SUB_HERE/chopsticks.sh" stop "${1:-$SUB_DIR}"; }

sub_save() { "$SUB_HERE/chopsticks.sh" save "${1:-$SUB_DIR}" > /dev/null; }

sub_kill() {
  local pid
  pid=$(cat "${1:-$SUB_DIR}/pid") || return 1
  kill -KILL -- "-$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

sub_restart() {
  "$SUB_HERE/chopsticks.sh" restart "${1:-$SUB_DIR}" > /dev/null || return 1
  _sub_use "${1:-$SUB_DIR}"
}

sub_rpc() {
  local body reply
  body=$(printf '{"jsonrpc":"2.0","id":1,"method":"%s","params":%s}' "$1" "${2:-[]}")
  reply=$(curl -s --max-time "${SUB_RPC_TIMEOUT:-60}" -H 'Content-Type: application/json' \
    --data-binary @- "$SUB_HTTP/" <<< "$body") || { echo "sub_rpc $1: no reply from $SUB_HTTP" >&2; return 1; }
  python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
if "error" in r:
    print(json.dumps(r["error"]), file=sys.stderr)
    sys.exit(1)
print(json.dumps(r["result"]))' <<< "$reply"
}

sub_new_blocks() { sub_rpc dev_newBlock "[{\"count\":$1}]"; }

sub_tool() {
  local name=$1
  shift
  "$SUB_HERE/tool.sh" "$name" "$@"
}
