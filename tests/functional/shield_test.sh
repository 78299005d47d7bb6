#!/usr/bin/env bash
# Shield mode on real processes (chain, a hash miner with shield: true, a validator): the miner
# completes CurveZMQ handshakes only with the derived keys of its subnet's validator-permit
# holders.
#   - the miner advertises axon protocol 2 and the validator's queries are answered;
#   - a stranger's key and a registered key without a permit cannot connect: `merit query`
#     reports UNAVAILABLE (the handshake never completes) and the miner's axon never sees a
#     message of theirs (no FORBIDDEN answer counted, refused handshakes counted);
#   - that second key, once staked and permitted, is admitted after the next metagraph update;
#   - the validator keeps being answered throughout.
# Fails at 8f8197f: there is no shield mode. MERIT_MINER_SHIELD is ignored, the miner advertises
# axon protocol 0, and the stranger's and the unpermitted key's requests reach the axon, which
# reads, decodes and answers them (FORBIDDEN: "caller is not registered on subnet 1", "caller
# has no validator permit").
# Usage: shield_test.sh MERIT MERIT_CHAIN MERIT_MINER MERIT_VALIDATOR SUBNET_DIR
set -uo pipefail

MERIT=$1 CHAIN=$2 MINER=$3 VALIDATOR=$4 SUBNETS=$5
source "$(dirname "$0")/lib.sh"
test_init shield

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || bad "owner wallet"
for k in miner newcomer stranger; do "$MERIT" wallet new-hotkey -w owner -k $k > /dev/null || bad "hotkey $k"; done
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
start_dev_chain "$CHAIN" --fund "$OWNER=1000000000000" || { bad "chain did not start: $(head -3 "$WORK/chain.err")"; finish; }
"$MERIT" subnet create --plugin hash --set tempo=10 --set weights_rate_limit=2 --set activity_cutoff=1000 -w owner \
  > "$WORK/create.out" 2>&1 || bad "subnet create: $(cat "$WORK/create.out")"
for k in validator miner newcomer; do  # uids 0, 1, 2; the stranger stays unregistered
  "$MERIT" register --netuid 1 -w owner -k $k > "$WORK/reg.out" 2>&1 || bad "register $k: $(cat "$WORK/reg.out")"
done
"$MERIT" stake add --amount 100 -w owner -k validator > /dev/null 2>&1 || bad "stake"

spawn MINER_PID env MERIT_MINER_SHIELD=true "$MINER" -w owner -k miner --netuid 1 --plugin hash --subnet-path "$SUBNETS" \
  --bind 'tcp://127.0.0.1:*' --metrics-port 0 --log-level info > "$WORK/miner.out" 2> "$WORK/miner.err"
wait_ready "$WORK/miner.out" && ok "shielded miner serving" || { bad "miner: $(head -3 "$WORK/miner.err")"; finish; }
METRICS_PORT=$(json "$WORK/miner.out" "d['metrics_port']")
metric() { curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

permit() { "$MERIT" metagraph --netuid 1 --json > "$WORK/mg.json" 2>/dev/null && json "$WORK/mg.json" "d['neurons'][$1]['validator_permit']"; }
for _ in $(seq 300); do [[ $(permit 0) == True ]] && break; sleep 0.2; done
[[ $(permit 0) == True ]] && ok "validator holds a permit" || { bad "no validator permit"; finish; }
[[ $(json "$WORK/mg.json" "d['neurons'][1]['axon']['protocol']") == 2 ]] && ok "the miner advertises shield mode (axon protocol 2)" \
  || bad "axon on chain: $(json "$WORK/mg.json" "d['neurons'][1]['axon']")"

spawn VALIDATOR_PID env MERIT_VALIDATOR_STEP_INTERVAL_MS=300 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=3000 \
  "$VALIDATOR" -w owner -k validator --netuid 1 --plugin hash --subnet-path "$SUBNETS" \
  --log-level info > "$WORK/validator.out" 2> "$WORK/validator.err"
wait_ready "$WORK/validator.out" && ok "validator running" || { bad "validator: $(head -3 "$WORK/validator.err")"; finish; }
for _ in $(seq 150); do grep -q "queried 1, answered 1" "$WORK/validator.err" && break; sleep 0.2; done
grep -q "queried 1, answered 1" "$WORK/validator.err" && ok "the validator's queries to the shielded miner are answered" \
  || bad "validator: $(grep "queried" "$WORK/validator.err" | tail -2)"

# Keys the shield does not admit: nothing gets through the handshake.
forbidden_before=$(metric 'merit_miner_responses_total{status="forbidden"}')
for k in stranger newcomer; do
  "$MERIT" query --netuid 1 --uid 1 -w owner -k $k --plugin hash --subnet-path "$SUBNETS" --count 2 --timeout-ms 1500 \
    > "$WORK/query_$k.out" 2>&1
  rc=$?
  [[ $rc -ne 0 ]] && grep -q "UNAVAILABLE" "$WORK/query_$k.out" && ! grep -q "FORBIDDEN" "$WORK/query_$k.out" \
    && ok "$k cannot connect to the shielded miner (UNAVAILABLE)" || bad "$k (exit $rc): $(cat "$WORK/query_$k.out")"
done
refused=$(metric merit_miner_shield_refused_total)
forbidden_after=$(metric 'merit_miner_responses_total{status="forbidden"}')
python3 -c "import sys; sys.exit(0 if float(sys.argv[1] or 0) > 0 else 1)" "$refused" \
  && [[ "$forbidden_after" == "$forbidden_before" ]] \
  && ok "refused in the handshake ($refused refused), never read by the axon (forbidden answers: $forbidden_after)" \
  || bad "shield metrics: refused $refused, forbidden $forbidden_before -> $forbidden_after"

# The newcomer stakes and gets a permit at the next epoch: admitted from the next metagraph update.
"$MERIT" stake add --amount 50 -w owner -k newcomer > /dev/null 2>&1 || bad "stake newcomer"
for _ in $(seq 300); do [[ $(permit 2) == True ]] && break; sleep 0.2; done
[[ $(permit 2) == True ]] && ok "the newcomer holds a permit" || bad "no permit for the newcomer"
admitted=no
for _ in $(seq 20); do
  "$MERIT" query --netuid 1 --uid 1 -w owner -k newcomer --plugin hash --subnet-path "$SUBNETS" --count 2 --timeout-ms 3000 \
    > "$WORK/query_newcomer2.out" 2>&1 && grep -q "2 of 2 answers perfect" "$WORK/query_newcomer2.out" && { admitted=yes; break; }
  sleep 0.5
done
[[ $admitted == yes ]] && ok "the newly permitted validator is admitted" || bad "newcomer: $(cat "$WORK/query_newcomer2.out")"
"$MERIT" query --netuid 1 --uid 1 -w owner -k stranger --plugin hash --subnet-path "$SUBNETS" --count 1 --timeout-ms 1000 \
  > "$WORK/query_stranger2.out" 2>&1 && bad "the stranger got through: $(cat "$WORK/query_stranger2.out")" \
  || ok "the stranger is still refused"

MARK=$(wc -l < "$WORK/validator.err")
for _ in $(seq 300); do tail -n +"$((MARK + 1))" "$WORK/validator.err" | has "answered 1" && break; sleep 0.1; done
tail -n +"$((MARK + 1))" "$WORK/validator.err" | has "answered 1" && ok "the validator is still answered" \
  || bad "validator: $(tail -2 "$WORK/validator.err")"
kill -0 "$MINER_PID" 2>/dev/null && kill -0 "$VALIDATOR_PID" 2>/dev/null && ok "miner and validator running" \
  || bad "a process exited"
finish
