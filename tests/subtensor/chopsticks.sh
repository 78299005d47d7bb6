#!/usr/bin/env bash
# Runs a real subtensor runtime under Chopsticks on loopback, for tests.
#
#   chopsticks.sh start <spec200|spec218|spec.json> <workdir> [port]
#       Writes <workdir>/chopsticks.yml (genesis, host 127.0.0.1, the port, Instant block mode),
#       starts Chopsticks in its own process group, waits (MERIT_SUBTENSOR_START_TIMEOUT s, default 60) until
#       system_chain answers over HTTP, then prints the port and writes <workdir>/port, <workdir>/pid.
#       Without a port, a free loopback port is picked. On failure prints the log tail, exits 1.
#   chopsticks.sh stop <workdir>       SIGTERM to the process group, SIGKILL after 10 s; waits.
#   chopsticks.sh save <workdir>       writes the whole state at the head to <workdir>/state.json
#       (a few seconds; the node keeps running). Call it before killing the node.
#   chopsticks.sh restart <workdir>    stop (if still running), then start again with the same spec
#       and port. With a <workdir>/state.json from `save`, the chain comes back where it was saved:
#       same head block (number and hash, from the sqlite db in <workdir>, `resume`) and the same
#       state (the saved file imported, keys it lacks deleted). Without one, from genesis. Both are
#       needed: Chopsticks 1.5.1's db restores the head block but not the state (only that block's
#       own storage diff; dev_setStorage changes are not in it at all).
#
# With MERIT_SUBTENSOR_OWNER_PID set (lib.sh sets it to the test script's pid), a watcher in its
# own session stops the node when that process is gone, so a test killed by a CTest timeout or
# SIGKILL leaves no Chopsticks behind (its EXIT trap does not run then).
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
db: $dir/chain.sqlite
timestamp: $(date +%s%3N)
YML
  local resumed=
  if [[ ${SUB_RESUME:-} == 1 && -f $dir/state.json ]]; then
    printf 'resume: true\nimport-storage: %s\n' "$dir/state.json" >> "$dir/chopsticks.yml"
    resumed=1
  else
    rm -f "$dir"/chain.sqlite*
  fi
  local attempt
  for attempt in 1 2 3; do
    if launch "$dir" "$port"; then
      # Keys created after the save must go too (the db's base state is not the saved one).
      if [[ -n $resumed ]]; then
        python3 "$here/state.py" prune "$port" "$dir/state.json" > /dev/null ||
          { cmd_stop "$dir"; die "could not restore the state of $dir/state.json"; }
      elif rpc "$port" chain_getHeader | grep -q '"number":"0x00000000"'; then
        # Block 1 failed at start-up (see below): build it now, so every start ends at block 1
        # (a mortal era needs a block after genesis).
        rpc "$port" dev_newBlock | grep -q '"result"' || { cmd_stop "$dir"; die "no block 1 on $dir"; }
      fi
      return 0
    fi
    # At genesis there is no Timestamp.Now, so Chopsticks builds block 1 at start-up from two
    # readings of the clock (the Aura slot digest and the timestamp inherent); across a slot
    # boundary the runtime panics ("Timestamp slot must match `CurrentSlot`") and Chopsticks may
    # exit. That is worth another try; nothing else is. (`timestamp:` above then sets
    # Timestamp.Now and Aura's CurrentSlot together, so every later block is consistent even when
    # block 1 failed and Chopsticks stayed up.)
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
  if [[ -n ${MERIT_SUBTENSOR_OWNER_PID:-} ]]; then
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
      if kill -0 "$2" 2>/dev/null; then kill -TERM -- "-$2"; sleep 10; kill -KILL -- "-$2"; fi' \
      watcher "$MERIT_SUBTENSOR_OWNER_PID" "$pid" > /dev/null 2>&1 < /dev/null &
  fi
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
  SUB_RESUME=1 cmd_start "$(cat "$dir/spec")" "$dir" "$(cat "$dir/port")"
}

cmd_save() {
  local dir=$1
  alive "$dir" || die "no Chopsticks runs for $dir"
  python3 "$here/state.py" save "$(cat "$dir/port")" "$dir/state.json"
}

case ${1:-} in
  start) (($# >= 3)) || die "usage: start <spec200|spec218|spec.json> <workdir> [port]"; cmd_start "$2" "$3" "${4:-}" ;;
  stop) (($# == 2)) || die "usage: stop <workdir>"; cmd_stop "$2" ;;
  save) (($# == 2)) || die "usage: save <workdir>"; cmd_save "$2" ;;
  restart) (($# == 2)) || die "usage: restart <workdir>"; cmd_restart "$2" ;;
  *) die "usage: chopsticks.sh start|stop|save|restart ... (see the header of this script)" ;;
esac
