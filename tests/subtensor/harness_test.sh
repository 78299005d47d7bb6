#!/usr/bin/env bash
# The subtensor harness itself: Chopsticks runs spec 200 on loopback and answers, binds only
# 127.0.0.1 and opens no outbound connection, the saved metadata matches the running node,
# dev_newBlock advances the chain, a node killed and restarted comes back on the same port with its saved state, stop leaves nothing.
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
genesis_key=0x26aa394eea5630e07c48ae0c9558cef7a44704b568d21667356a5a050c118746b4def25cfda6ef3a00000000
[[ $(sub_rpc state_getStorage "[\"$genesis_key\"]" | tr -d '"') == "$(cat "$MERIT_SUBTENSOR_FIXTURES/spec200_genesis_hash.txt")" ]] &&
  ok "saved genesis hash matches System.BlockHash(0)" || bad "saved genesis hash matches System.BlockHash(0)"

head_num() { sub_rpc chain_getHeader | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["number"],16))'; }
before=$(head_num)
sub_new_blocks 3 > /dev/null && after=$(head_num)
((after == before + 3)) && ok "dev_newBlock count 3: block $before -> $after" || bad "dev_newBlock count 3 ($before -> ${after:-?})"

# The @polkadot/api tools against the node: an ECDSA account funded with dev_setStorage signs a
# transfer that the runtime accepts.
seed=0x0101010101010101010101010101010101010101010101010101010101010101
who=$(echo "{\"seedHex\":\"$seed\",\"call\":\"0x0000\"}" | sub_tool encode "$SUB_WS" | json /dev/stdin 'd["accountId"]')
sub_tool setup "$SUB_WS" fund "$who" 5000000000000 > "$WORK/fund.json" &&
  [[ $(json "$WORK/fund.json" 'd["account"]["data"]["free"]') == 5000000000000 ]] &&
  ok "setup.mjs fund: ECDSA account $who holds 5000 TAO" || bad "setup.mjs fund"
echo "{\"seedHex\":\"$seed\",\"call\":{\"pallet\":\"Balances\",\"call\":\"transfer_keep_alive\",\"args\":[\"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY\",1000000000]},\"nonce\":0,\"era\":\"immortal\",\"submit\":true}" |
  sub_tool encode "$SUB_WS" > "$WORK/signed.json"
[[ $(json "$WORK/signed.json" 'd.get("submitted")') == 0x* ]] &&
  ok "encode.mjs: ECDSA-signed transfer accepted ($(json "$WORK/signed.json" 'd["submitted"]'))" ||
  { bad "encode.mjs: ECDSA-signed transfer accepted"; cat "$WORK/signed.json"; }
# Instant mode builds the block after author_submitExtrinsic has answered: poll (30 s) for it.
nonce=
for _ in $(seq 60); do
  echo "{\"pallet\":\"System\",\"item\":\"Account\",\"keys\":[\"$who\"]}" | sub_tool storage "$SUB_WS" > "$WORK/acct.json"
  nonce=$(json "$WORK/acct.json" 'd["value"]["nonce"]')
  [[ $nonce == 1 ]] && break
  sleep 0.5
done
[[ $nonce == 1 ]] && ok "storage.mjs: the transfer is in a block (sender's nonce 1)" || bad "storage.mjs: sender's nonce 1 (got $nonce)"

# A crash and a restart: the saved state and head come back on the same port.
port=$SUB_PORT
head_before=$(head_num)
sub_save && ok "state saved at block $head_before" || bad "state saved"
sub_kill && ok "node killed with SIGKILL" || bad "node killed"
sub_restart && [[ $SUB_PORT == "$port" ]] && sub_rpc system_chain > /dev/null &&
  ok "restart answers again on port $port" || bad "restart on the same port"
((  $(head_num) == head_before )) && ok "restart resumes at block $head_before" || bad "restart resumes at block $head_before (at $(head_num))"
echo "{\"pallet\":\"System\",\"item\":\"Account\",\"keys\":[\"$who\"]}" | sub_tool storage "$SUB_WS" > "$WORK/acct2.json"
[[ $(json "$WORK/acct2.json" 'd["value"]["nonce"]') == 1 ]] && ok "restart keeps the state (sender's nonce 1)" || bad "restart keeps the state"
[[ $(sub_rpc state_getStorage "[\"$genesis_key\"]" | tr -d '"') == "$(cat "$MERIT_SUBTENSOR_FIXTURES/spec200_genesis_hash.txt")" ]] &&
  ok "restarted chain has the same genesis" || bad "restarted chain has the same genesis"

pid=$(cat "$SUB_DIR/pid")
sub_stop
if ! kill -0 "$pid" 2>/dev/null && ! pgrep -g "$pid" > /dev/null && ! curl -s --max-time 2 "$SUB_HTTP" > /dev/null; then
  ok "stop leaves no process and no listener"
else
  bad "stop leaves no process and no listener"
fi
finish
