#!/usr/bin/env bash
# How miners and validators start and stay up, with real processes on loopback:
#  1. a hotkey registered on chain under someone else's coldkey: merit-miner refuses to serve
#     (exit 5, a clear message). Anyone can register any public hotkey under their own coldkey;
#     a miner serving it would earn for them. Fails at 8f8197f: the miner served (ready line).
#  2. the chain is down when the miner and validator start: both wait with backoff, logging
#     "chain unreachable at URL (...); retrying in Ns", and come up when the chain does; the
#     validator then sets weights. Then the chain is SIGKILLed and restarted under them: both ride
#     it out and the validator sets weights again. Fails at 8f8197f: the validator exited at once
#     ("cannot reach the chain"), the miner after eight attempts (~17 s).
#  3. slow-loris and a connection flood against the miner's /metrics endpoint: the attackers'
#     connections are dropped at the deadline, the process holds a bounded number of sockets, and
#     an honest scrape during the attack is answered. Fails at 8f8197f: two trickling
#     connections held both HTTP worker threads, the honest scrape timed out, and every flood
#     connection was kept open (one descriptor each).
# Usage: peer_startup_test.sh MERIT MERIT_CHAIN MERIT_MINER MERIT_VALIDATOR SUBNET_DIR
set -uo pipefail

MERIT=$1 CHAIN=$2 MINER=$3 VALIDATOR=$4 SUBNETS=$5
source "$(dirname "$0")/lib.sh"
test_init peer-startup
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
alive() { kill -0 "$1" 2>/dev/null; }

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || bad "owner wallet"
"$MERIT" wallet new-hotkey -w owner -k miner > /dev/null || bad "miner hotkey"
"$MERIT" wallet create -w victim -k default --kdf interactive --json > "$WORK/victim.json" || bad "victim wallet"
"$MERIT" wallet create -w mallory -k own --kdf interactive --json > "$WORK/mallory.json" || bad "mallory wallet"
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
MALLORY=$(json "$WORK/mallory.json" "d['coldkey']['ss58Address']")
# Registration needs only the hotkey's public key; the CLI takes it from a key file, so mallory
# gets a copy of the victim's hotkey file to name it (the miner's check is what is under test).
cp "$MERIT_HOME/wallets/victim/hotkeys/default" "$MERIT_HOME/wallets/mallory/hotkeys/victims"

RPC_PORT=$(free_port) FEED_PORT=$(free_port)
export MERIT_CHAIN_URL="http://127.0.0.1:$RPC_PORT"
start_chain() {
  "$CHAIN" --dev --data-dir "$WORK/chain" --rpc-port "$RPC_PORT" --feed "tcp://127.0.0.1:$FEED_PORT" --block-time-ms 100 \
    --fund "$OWNER=1000000000000" --fund "$MALLORY=1000000000000" --log-level warn > "$WORK/chain.out" 2>> "$WORK/chain.err" &
  CHAIN_PID=$!
  PIDS+=($CHAIN_PID)
}
head_number() {
  curl -s -m 5 -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"chain_getHead"}' "$MERIT_CHAIN_URL" \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['result']['number'])"
}
weights_block() {
  "$MERIT" metagraph --netuid 1 --json > "$WORK/mg.json" 2>/dev/null && json "$WORK/mg.json" "d['neurons'][0]['last_update']"
}
# wait_weights_after BLOCK: the validator (uid 0) sets weights in a block after BLOCK (60 s).
wait_weights_after() {
  for _ in $(seq 300); do
    lu=$(weights_block) && [[ ${lu:-0} -gt $1 ]] && return 0
    sleep 0.2
  done
  return 1
}

start_chain
wait_ready "$WORK/chain.out" || { bad "chain did not start: $(head -3 "$WORK/chain.err")"; finish; }
"$MERIT" subnet create --plugin hash --set tempo=10 --set weights_rate_limit=2 --set activity_cutoff=1000 -w owner \
  > "$WORK/create.out" 2>&1 || bad "subnet create: $(cat "$WORK/create.out")"
for k in validator miner; do
  "$MERIT" register --netuid 1 -w owner -k $k > "$WORK/reg.out" 2>&1 || bad "register $k: $(cat "$WORK/reg.out")"
done
"$MERIT" stake add --amount 100 -w owner -k validator > /dev/null 2>&1 || bad "stake"
"$MERIT" register --netuid 1 -w mallory -k victims > "$WORK/reg.out" 2>&1 || bad "mallory registers the victim's hotkey: $(cat "$WORK/reg.out")"

# --- 1. a hotkey registered under another coldkey -----------------------------------------------
timeout 60 "$MINER" -w victim -k default --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --log-level warn > "$WORK/victim.out" 2> "$WORK/victim.err"
rc=$?
[[ $rc -eq 5 ]] && ok "a hotkey registered under another coldkey: the miner exits with status 5" \
  || bad "victim miner exit $rc (wanted 5): $(head -c 600 "$WORK/victim.out") $(head -3 "$WORK/victim.err")"
grep -q "under coldkey $MALLORY, not under wallet 'victim'" "$WORK/victim.err" \
  && ok "the error names the owning coldkey and the wallet" || bad "message: $(head -3 "$WORK/victim.err")"
grep -q '"ready"' "$WORK/victim.out" && bad "the victim's miner served before refusing" || ok "it never served"

# --- 2. the chain is down at start, then killed under a running network ---------------------------
kill -TERM "$CHAIN_PID"; wait "$CHAIN_PID" 2>/dev/null
"$MINER" -w owner -k miner --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --metrics-port 0 --log-level info > "$WORK/miner.out" 2> "$WORK/miner.err" &
MINER_PID=$!
PIDS+=($MINER_PID)
MERIT_VALIDATOR_STEP_INTERVAL_MS=300 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=3000 \
  "$VALIDATOR" -w owner -k validator --netuid 1 --plugin hash --subnet-path "$SUBNETS" \
  --state-file "$WORK/validator.json" --log-level info > "$WORK/validator.out" 2> "$WORK/validator.err" &
VALIDATOR_PID=$!
PIDS+=($VALIDATOR_PID)
sleep 5
alive "$MINER_PID" && alive "$VALIDATOR_PID" && ok "miner and validator wait for an absent chain instead of exiting" \
  || bad "exited while the chain was down: miner $(tail -2 "$WORK/miner.err") validator $(tail -2 "$WORK/validator.err")"
grep -q "chain unreachable at $MERIT_CHAIN_URL (.*); retrying in [0-9.]*s" "$WORK/miner.err" \
  && grep -q "chain unreachable at $MERIT_CHAIN_URL (.*); retrying in [0-9.]*s" "$WORK/validator.err" \
  && ok "both log 'chain unreachable at URL (reason); retrying in Ns'" \
  || bad "retry line: $(grep -m1 unreachable "$WORK/miner.err") / $(grep -m1 unreachable "$WORK/validator.err")"
tries=$(grep -c "chain unreachable at" "$WORK/validator.err")
[[ $tries -le 8 ]] && ok "backoff: $tries attempts in 5 s" || bad "no backoff: $tries attempts in 5 s"
start_chain
wait_ready "$WORK/chain.out" || { bad "chain restart: $(tail -3 "$WORK/chain.err")"; finish; }
restart_head=$(head_number)
wait_ready "$WORK/miner.out" 300 && ok "the miner came up once the chain did" || bad "miner not ready: $(tail -3 "$WORK/miner.err")"
wait_ready "$WORK/validator.out" 300 && ok "the validator came up once the chain did" || bad "validator not ready: $(tail -3 "$WORK/validator.err")"
wait_weights_after "${restart_head:-0}" && ok "the validator set weights (block $lu)" \
  || bad "no weights after the chain came up: $(grep -m3 -i "weights\|error" "$WORK/validator.err")"

kill -KILL "$CHAIN_PID"; wait "$CHAIN_PID" 2>/dev/null
sleep 3
alive "$MINER_PID" && alive "$VALIDATOR_PID" && ok "both keep running while the chain is gone" \
  || bad "exited after the chain was killed: $(tail -2 "$WORK/miner.err") $(tail -2 "$WORK/validator.err")"
start_chain
wait_ready "$WORK/chain.out" || { bad "second restart: $(tail -3 "$WORK/chain.err")"; finish; }
restart_head=$(head_number)
wait_weights_after "${restart_head:-0}" && ok "the validator set weights again after the chain restart (block $lu > $restart_head)" \
  || bad "no weights after the restart: $(tail -3 "$WORK/validator.err")"

# --- 3. slow-loris and a connection flood against /metrics ---------------------------------------
METRICS_PORT=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['metrics_port'])" "$WORK/miner.out")
python3 - "$METRICS_PORT" "$MINER_PID" > "$WORK/loris.out" 2>&1 <<'PY'
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
def fds():
    return len(os.listdir(f"/proc/{pid}/fd"))
def scrape(timeout):
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data, time.monotonic() - t0
base = fds()
# 32 slow-loris connections: a request trickled one byte every 0.2 s, never finished.
loris = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(32)]
# 400 connections opened and left idle.
idle = []
for _ in range(400):
    try:
        idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    except OSError:
        pass
peak = fds()
request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200
dropped, t0 = 0, time.monotonic()
honest = None
for i in range(40):  # 8 s of trickling
    for s in list(loris):
        try:
            s.send(request[i:i + 1])
        except OSError:
            loris.remove(s)
            dropped += 1
    peak = max(peak, fds())
    if honest is None and time.monotonic() - t0 > 3:
        try:
            data, took = scrape(5)
            honest = (data.startswith(b"HTTP/1.1 200") and b"merit_miner_responses_total" in data, took)
        except OSError as e:
            honest = (False, str(e))
    time.sleep(0.2)
closed_idle = 0
for s in idle:
    s.settimeout(0.01)
    try:
        closed_idle += s.recv(1) == b""
    except OSError:
        pass
print(f"fds: base {base} peak {peak}; slow-loris dropped by the server: {dropped} of 32; idle closed: {closed_idle} of {len(idle)}; honest scrape during the attack: {honest}")
ok = dropped == 32 and closed_idle == len(idle) and peak - base <= 64 and honest is not None and honest[0]
for s in loris + idle:
    s.close()
data, took = scrape(5)
status = data.split(b"\r\n", 1)[0].decode()
print(f"scrape after the attack: {status} in {took:.3f} s")
sys.exit(0 if ok and data.startswith(b"HTTP/1.1 200") else 1)
PY
rc=$?
sed 's/^/    /' "$WORK/loris.out"
[[ $rc -eq 0 ]] && ok "metrics endpoint: slow-loris and flood dropped at the deadline, sockets bounded, honest scrapes answered" \
  || bad "metrics endpoint under attack"
alive "$MINER_PID" && "$MERIT" query --netuid 1 --uid 1 -w owner -k validator --plugin hash --subnet-path "$SUBNETS" --count 2 \
  > "$WORK/query.out" 2>&1 && grep -q "2 of 2 answers perfect" "$WORK/query.out" \
  && ok "the miner still answers queries" || bad "query after the attack: $(tail -3 "$WORK/query.out")"

finish
