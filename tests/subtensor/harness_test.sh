#!/usr/bin/env bash
# The subtensor harness itself: Chopsticks runs spec 200 on loopback and answers, binds only
# 127.0.0.1 and opens no outbound connection, the saved metadata matches the running node,
# dev_newBlock advances the chain, a restart comes back on the same port (from genesis), stop leaves nothing.
source "$(dirname "$0")/lib.sh"
sub_require
sub_init subtensor-harness

sub_start spec200 && ok "spec 200 started on $SUB_HTTP" || { bad "spec 200 started"; finish; }
chain=$(sub_rpc system_chain) && ok "system_chain answers $chain" || bad "system_chain answers"
pid=$(cat "$SUB_DIR/pid")

# Only loopback: every listening socket and every connection of the node's process group.
pids=$(pgrep -g "$pid" | paste -sd'|')
socks=$(ss -Htanp 2>/dev/null | grep -E "pid=($pids),")
if [[ -n $socks ]] && ! grep -vqE '^\S+\s+\S+\s+\S+\s+127\.0\.0\.1:\S+\s+(127\.0\.0\.1:\S+|0\.0\.0\.0:\*|\*:\*)' <<< "$socks"; then
  ok "the node's sockets are all on 127.0.0.1 ($(wc -l <<< "$socks") sockets)"
else
  bad "the node's sockets are all on 127.0.0.1"; echo "$socks"
fi

meta=$(sub_rpc state_getMetadata | tr -d '"')
[[ $meta == "$(cat "$MERIT_SUBTENSOR_FIXTURES/spec200_state_getMetadata.hex")" ]] &&
  ok "saved spec200_state_getMetadata.hex is the node's (${#meta} hex chars)" || bad "saved metadata matches the node"
[[ $(sub_rpc chain_getBlockHash '[0]' | tr -d '"') == "$(cat "$MERIT_SUBTENSOR_FIXTURES/spec200_genesis_hash.txt")" ]] &&
  ok "saved genesis hash matches" || bad "saved genesis hash matches"

head_num() { sub_rpc chain_getHeader | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["number"],16))'; }
before=$(head_num)
sub_new_blocks 3 > /dev/null && after=$(head_num)
((after == before + 3)) && ok "dev_newBlock count 3: block $before -> $after" || bad "dev_newBlock count 3 ($before -> ${after:-?})"

port=$SUB_PORT
sub_restart && [[ $SUB_PORT == "$port" ]] && sub_rpc system_chain > /dev/null &&
  ok "restart answers again on port $port" || bad "restart on the same port"
# Chopsticks keeps no state across a restart (see chopsticks.sh): the chain is back at genesis.
[[ $(sub_rpc chain_getBlockHash '[0]' | tr -d '"') == "$(cat "$MERIT_SUBTENSOR_FIXTURES/spec200_genesis_hash.txt")" ]] &&
  ok "restarted chain has the same genesis (head block $(head_num))" || bad "restarted chain has the same genesis"

pid=$(cat "$SUB_DIR/pid")
sub_stop
if ! kill -0 "$pid" 2>/dev/null && ! pgrep -g "$pid" > /dev/null && ! curl -s --max-time 2 "$SUB_HTTP" > /dev/null; then
  ok "stop leaves no process and no listener"
else
  bad "stop leaves no process and no listener"
fi
finish
