#!/usr/bin/env bash
# Attacks on a miner by a stranger on the network, against real processes on loopback (chain,
# a hash miner, a validator), with the stranger dialling from 127.0.0.2 as another host would:
#
# 1. Session handshake replay: the validator's handshake, captured and replayed six times, is
#    refused (STALE, unsigned) and the validator's session keeps working.
#    Fails at 8f8197f: all six replays were answered OK with a signed SessionReply, and they
#    evicted the validator's real session (its next request: UNAUTHORIZED).
# 2. Forgery flood: while the validator queries the miner, the stranger sends 3000 forged fresh
#    requests a second "from" the validator's public hotkey for 8 s. The validator's queries
#    keep being answered and the miner's score (the validator's state file) does not fall.
#    Fails at 8f8197f: the forgeries drained the validator's token bucket at the miner, so 21 of
#    the validator's 30 steps during the flood got RATE_LIMITED ("answered 0"), each scored 0,
#    and the honest miner's score fell from 0.998 to 0.81.
# 3. A junk miner: a registered miner whose axon streams messages of thousands of empty frames
#    at whoever connects (peer_attack junk-miner). The validator's rounds keep their deadline and
#    the honest miner keeps being answered and scored.
#    Fails at 8f8197f: the validator's receive loop did not return while the junk streamed: 3
#    steps in 8 s instead of about 28, with the honest miner's answers read late (median latency
#    99 ms instead of about 1 ms), and a process had exited by the end.
# Usage: forgery_test.sh MERIT MERIT_CHAIN MERIT_MINER MERIT_VALIDATOR SUBNET_DIR PEER_ATTACK
set -uo pipefail

MERIT=$1 CHAIN=$2 MINER=$3 VALIDATOR=$4 SUBNETS=$5 ATTACK=$6
source "$(dirname "$0")/lib.sh"
test_init forgery

"$MERIT" wallet create -w owner -k validator --kdf interactive --json > "$WORK/owner.json" || bad "owner wallet"
for k in miner junk; do "$MERIT" wallet new-hotkey -w owner -k $k > /dev/null || bad "$k hotkey"; done
OWNER=$(json "$WORK/owner.json" "d['coldkey']['ss58Address']")
start_dev_chain "$CHAIN" --fund "$OWNER=1000000000000" || { bad "chain did not start: $(head -3 "$WORK/chain.err")"; finish; }
"$MERIT" subnet create --plugin hash --set tempo=10 --set weights_rate_limit=2 --set activity_cutoff=1000 -w owner \
  > "$WORK/create.out" 2>&1 || bad "subnet create: $(cat "$WORK/create.out")"
for k in validator miner junk; do  # uids 0, 1, 2
  "$MERIT" register --netuid 1 -w owner -k $k > "$WORK/reg.out" 2>&1 || bad "register $k: $(cat "$WORK/reg.out")"
done
"$MERIT" stake add --amount 100 -w owner -k validator > /dev/null 2>&1 || bad "stake"

spawn MINER_PID "$MINER" -w owner -k miner --netuid 1 --plugin hash --subnet-path "$SUBNETS" --bind 'tcp://127.0.0.1:*' \
  --metrics-port 0 --log-level warn > "$WORK/miner.out" 2> "$WORK/miner.err"
wait_ready "$WORK/miner.out" && ok "miner serving" || { bad "miner: $(head -3 "$WORK/miner.err")"; finish; }

# The miner admits only permitted validators.
for _ in $(seq 300); do
  "$MERIT" metagraph --netuid 1 --json > "$WORK/mg.json" 2>/dev/null \
    && [[ $(json "$WORK/mg.json" "d['neurons'][0]['validator_permit']") == True ]] && break
  sleep 0.2
done
[[ $(json "$WORK/mg.json" "d['neurons'][0]['validator_permit']") == True ]] && ok "validator holds a permit" \
  || { bad "no validator permit"; finish; }
wait_miner_follows "$WORK/miner.out" "$(json "$WORK/mg.json" "d['block']")" \
  || bad "the miner's caller policy never followed the permit's block"

# 1. Handshake replay (before the validator process runs: one process per hotkey at a time).
"$ATTACK" replay-handshake "$MERIT_CHAIN_URL" 1 1 owner validator 127.0.0.2 > "$WORK/replay.json" 2> "$WORK/replay.err"
rc=$?
[[ $rc -eq 0 ]] && ok "a replayed session handshake is refused unsigned; the real session still works: $(cat "$WORK/replay.json")" \
  || bad "handshake replay (exit $rc): $(cat "$WORK/replay.json" "$WORK/replay.err")"

# 2. The validator scores the miner; then the flood runs while it keeps querying.
spawn VALIDATOR_PID env MERIT_VALIDATOR_STEP_INTERVAL_MS=300 MERIT_VALIDATOR_QUERY_TIMEOUT_MS=3000 MERIT_VALIDATOR_EMA_ALPHA=0.3 \
  "$VALIDATOR" -w owner -k validator --netuid 1 --plugin hash --subnet-path "$SUBNETS" \
  --state-file "$WORK/validator.json" --log-level info > "$WORK/validator.out" 2> "$WORK/validator.err"
wait_ready "$WORK/validator.out" && ok "validator running" || { bad "validator: $(head -3 "$WORK/validator.err")"; finish; }
score() { json "$WORK/validator.json" "d['scores'][1]['score'] if len(d['scores']) > 1 else 0" 2>/dev/null || echo 0; }
for _ in $(seq 300); do
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.8 else 1)" "$(score)" && break
  sleep 0.2
done
BEFORE=$(score)
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.8 else 1)" "$BEFORE" && ok "the validator scores the miner ($BEFORE)" \
  || { bad "no score for the miner: $BEFORE; $(tail -3 "$WORK/validator.err")"; finish; }
MARK=$(wc -l < "$WORK/validator.err")

"$ATTACK" forge-flood "$MERIT_CHAIN_URL" 1 1 0 hash 8 3000 127.0.0.2 > "$WORK/flood.json" 2> "$WORK/flood.err"
rc=$?
[[ $rc -eq 0 ]] && ok "the forgeries got no OK and nothing signed: $(cat "$WORK/flood.json")" \
  || bad "forgery flood (exit $rc): $(cat "$WORK/flood.json" "$WORK/flood.err")"
AFTER=$(score)
tail -n +"$((MARK + 1))" "$WORK/validator.err" | grep "queried 1" > "$WORK/steps.txt"
steps=$(wc -l < "$WORK/steps.txt")
answered=$(grep -c "queried 1, answered 1" "$WORK/steps.txt")
[[ $steps -ge 8 && $answered -eq $steps ]] && ok "every validator query during the flood was answered ($answered of $steps steps)" \
  || bad "validator queries during the flood: $answered of $steps answered: $(grep -v "answered 1" "$WORK/steps.txt" | head -3)"
python3 -c "import sys; b, a = map(float, sys.argv[1:]); sys.exit(0 if a >= 0.95 * b else 1)" "$BEFORE" "$AFTER" \
  && ok "the miner's score did not fall ($BEFORE -> $AFTER)" || bad "the miner's score fell: $BEFORE -> $AFTER"

# 3. The junk miner joins the validator's rounds for 10 s.
spawn JUNK_PID "$ATTACK" junk-miner "$MERIT_CHAIN_URL" 1 owner junk 10 > "$WORK/junk.out" 2> "$WORK/junk.err"
wait_ready "$WORK/junk.out" || bad "junk miner: $(cat "$WORK/junk.err")"
# The validator's metagraph follows: its rounds query two miners from then on.
MARK=$(wc -l < "$WORK/validator.err")
for _ in $(seq 300); do tail -n +"$((MARK + 1))" "$WORK/validator.err" | has "queried 2" && break; sleep 0.1; done
MARK=$(wc -l < "$WORK/validator.err")
BEFORE=$(score)
# Eight rounds beside the junk miner (bounded: 60 s).
for _ in $(seq 600); do
  [[ $(tail -n +"$((MARK + 1))" "$WORK/validator.err" | grep -c "queried") -ge 8 ]] && break
  sleep 0.1
done
tail -n +"$((MARK + 1))" "$WORK/validator.err" | grep "queried" > "$WORK/junk_steps.txt"
steps=$(wc -l < "$WORK/junk_steps.txt")
answered=$(grep -c "queried 2, answered 1" "$WORK/junk_steps.txt")
[[ $steps -ge 8 && $answered -eq $steps ]] \
  && ok "with the junk miner in every round, the validator kept stepping and the honest miner answered ($answered of $steps steps)" \
  || bad "validator steps beside the junk miner: $answered of $steps: $(tail -2 "$WORK/junk_steps.txt")"
AFTER=$(score)
python3 -c "import sys; b, a = map(float, sys.argv[1:]); sys.exit(0 if a >= 0.95 * b else 1)" "$BEFORE" "$AFTER" \
  && ok "the honest miner's score did not fall beside the junk miner ($BEFORE -> $AFTER)" \
  || bad "the honest miner's score fell beside the junk miner: $BEFORE -> $AFTER"
wait "$JUNK_PID" && ok "the junk miner streamed at the validator: $(tail -1 "$WORK/junk.out")" \
  || bad "the junk miner was never connected to: $(tail -1 "$WORK/junk.out") $(cat "$WORK/junk.err")"
kill -0 "$MINER_PID" 2>/dev/null && kill -0 "$VALIDATOR_PID" 2>/dev/null && ok "miner and validator survived" \
  || bad "a process died under attack"

finish
