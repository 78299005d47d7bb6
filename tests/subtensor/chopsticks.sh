#!/usr/bin/env bash
# Runs a real subtensor runtime under Chopsticks on loopback, for tests.
#
#   chopsticks.sh start <spec200|spec218|spec.json> <workdir> [port]
#       Writes <workdir>/chopsticks.yml (genesis, host 127.0.0.1, the port, Instant block mode),
#       starts Chopsticks in its own process group, waits (MERIT_SUBTENSOR_START_TIMEOUT s, default 60) until
#       system_chain answers over HTTP, then prints the port and writes <workdir>/port, <workdir>/pid.
#       Without a port, a free loopback port is picked. On failure prints the log tail, exits 1.
#   chopsticks.sh stop <workdir>       SIGTERM to the process group, SIGKILL after 10 s; waits.
#   chopsticks.sh restart <workdir>    stop, then start again with the same spec and port. The chain
#       starts again from genesis: Chopsticks 1.5.1's sqlite db with `resume` restores the head
#       block but not the state (only that block's own storage diff, so System.BlockHash(0) is
#       lost and every signature is refused with badProof), so it is not used.
#
# Environment: MERIT_SUBTENSOR_SPECS (spec directory; default <source>/../shared/subtensor),
# MERIT_SUBTENSOR_NODE_MODULES (node_modules installed by the subtensor_npm CTest fixture;
# default $MERIT_BUILD_DIR/subtensor/node_modules). The node's log is <workdir>/chopsticks.log.
# Exit 77 when the specs or node_modules are absent (CTest's skip code), with the reason.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
specs=${MERIT_SUBTENSOR_SPECS:-$here/../../../shared/subtensor}
nm=${MERIT_SUBTENSOR_NODE_MODULES:-${MERIT_BUILD_DIR:-/nonexistent}/subtensor/node_modules}

die() { echo "chopsticks.sh: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

resolve_spec() {
  case $1 in
    spec200) echo "$specs/local-spec200.json" ;;
    spec218) echo "$specs/raonet-spec218.json" ;;
    *) echo "$1" ;;
  esac
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# rpc PORT METHOD [PARAMS-JSON]: one JSON-RPC call over HTTP with a 5 s deadline; prints the reply.
rpc() {
  curl -s --max-time 5 -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":${3:-[]}}" "http://127.0.0.1:$1/"
}

alive() { [[ -f $1/pid ]] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }

cmd_start() {
  local spec_arg=$1 dir=$2 port=${3:-}
  local spec
  spec=$(resolve_spec "$spec_arg")
  [[ -f $spec ]] || skip "subtensor spec $spec not found (set MERIT_SUBTENSOR_SPECS)"
  [[ -f $nm/@acala-network/chopsticks/chopsticks.cjs ]] ||
    skip "Chopsticks not installed in $nm (run the subtensor_npm CTest fixture)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  alive "$dir" && die "a Chopsticks already runs for $dir (pid $(cat "$dir/pid"))"
  [[ -n $port ]] || port=$(free_port)
  echo "$spec" > "$dir/spec"
  cat > "$dir/chopsticks.yml" <<YML
genesis: $spec
host: 127.0.0.1
port: $port
build-block-mode: Instant
runtime-log-level: 0
YML
  local attempt
  for attempt in 1 2 3; do
    launch "$dir" "$port" && return 0
    # Chopsticks builds block 1 at start-up from two readings of the clock (the Aura slot digest
    # and the timestamp inherent); across a slot boundary the runtime panics ("Timestamp slot
    # must match `CurrentSlot`") and Chopsticks exits. That is worth another try; nothing else is.
    grep -q 'Timestamp slot must match' "$dir/chopsticks.log" || break
    echo "chopsticks.sh: start-up block hit a slot boundary, starting again (attempt $attempt)" >&2
  done
  exit 1
}

# launch DIR PORT: one start attempt; 0 when system_chain answers, 1 otherwise (log tail printed).
launch() {
  local dir=$1 port=$2
  : > "$dir/chopsticks.log"
  # setsid: its own process group, so stop takes every child too.
  setsid node "$nm/@acala-network/chopsticks/chopsticks.cjs" -c "$dir/chopsticks.yml" \
    >> "$dir/chopsticks.log" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$dir/pid"
  local deadline=$((SECONDS + ${MERIT_SUBTENSOR_START_TIMEOUT:-60}))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "chopsticks.sh: Chopsticks (pid $pid) exited during start-up; log tail:" >&2
      tail -n 30 "$dir/chopsticks.log" >&2
      rm -f "$dir/pid"
      return 1
    fi
    if rpc "$port" system_chain 2>/dev/null | grep -q '"result"'; then
      echo "$port" > "$dir/port"
      echo "$port"
      return 0
    fi
    sleep 0.25
  done
  echo "chopsticks.sh: no answer to system_chain on 127.0.0.1:$port within ${MERIT_SUBTENSOR_START_TIMEOUT:-60} s; log tail:" >&2
  tail -n 30 "$dir/chopsticks.log" >&2
  cmd_stop "$dir"
  return 1
}

cmd_stop() {
  local dir=$1
  [[ -f $dir/pid ]] || return 0
  local pid
  pid=$(cat "$dir/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    # Wait for the group to be gone (the listener's port is then free for a restart).
    for _ in $(seq 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$dir/pid"
}

cmd_restart() {
  local dir=$1
  [[ -f $dir/spec && -f $dir/port ]] || die "$dir has no earlier start (spec, port)"
  cmd_stop "$dir"
  cmd_start "$(cat "$dir/spec")" "$dir" "$(cat "$dir/port")"
}

case ${1:-} in
  start) (($# >= 3)) || die "usage: start <spec200|spec218|spec.json> <workdir> [port]"; cmd_start "$2" "$3" "${4:-}" ;;
  stop) (($# == 2)) || die "usage: stop <workdir>"; cmd_stop "$2" ;;
  restart) (($# == 2)) || die "usage: restart <workdir>"; cmd_restart "$2" ;;
  *) die "usage: chopsticks.sh start|stop|restart ... (see the header of this script)" ;;
esac
