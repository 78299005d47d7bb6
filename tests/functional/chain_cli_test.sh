#!/usr/bin/env bash
# Functional test: starts a real `merit-chain --dev` on loopback and drives it with the `merit` CLI
# as a new user would: balances and transfers, a subnet, registrations, stake, root weights,
# weights, an epoch paying incentive and dividends, commit-reveal, and the failure paths.
# Usage: chain_cli_test.sh PATH_TO_MERIT PATH_TO_MERIT_CHAIN
set -uo pipefail

MERIT=${1:?usage: chain_cli_test.sh PATH_TO_MERIT PATH_TO_MERIT_CHAIN}
CHAIN=${2:?usage: chain_cli_test.sh PATH_TO_MERIT PATH_TO_MERIT_CHAIN}
WORK=$(mktemp -d /tmp/merit-chain-cli.XXXXXX)
NODE_PID=
cleanup() {
  if [[ -n $NODE_PID ]]; then
    kill "$NODE_PID" 2>/dev/null
    wait "$NODE_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export MERIT_HOME="$WORK/home"
unset MERIT_PASSWORD MERIT_CHAIN_URL

# ok, bad, json, expect_rc, outjson and wait_until; this test keeps its own set-up and cleanup
# (no test_init: it runs without MERIT_PASSWORD).
source "$(dirname "$0")/lib.sh"
passed=0
failed=0
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

printf 'correct-horse-battery\n' > "$WORK/pw"
printf 'wrong-password\n' > "$WORK/wrongpw"
PW=(--password-file "$WORK/pw")

# --- wallets and the node ------------------------------------------------------------------------
"$MERIT" wallet create -w alice --kdf interactive "${PW[@]}" --json > "$WORK/alice.json" || bad "create alice"
"$MERIT" wallet new-hotkey -w alice -k miner1 --json > "$WORK/m1.json" || bad "new hotkey miner1"
"$MERIT" wallet new-hotkey -w alice -k miner2 --json > "$WORK/m2.json" || bad "new hotkey miner2"
"$MERIT" wallet create -w bob --no-hotkey --kdf interactive "${PW[@]}" --json > "$WORK/bob.json" || bad "create bob"
ALICE=$(json "$WORK/alice.json" "d['coldkey']['ss58Address']")
VALI=$(json "$WORK/alice.json" "d['hotkey']['ss58Address']")
MINER1=$(json "$WORK/m1.json" "d['hotkey']['ss58Address']")
BOB=$(json "$WORK/bob.json" "d['coldkey']['ss58Address']")

"$CHAIN" --dev --data-dir "$WORK/data" --rpc-port 0 --feed tcp://127.0.0.1:0 --block-time-ms 100 \
  --fund "$ALICE=1000000000000" --log-level warn >"$WORK/node.out" 2>"$WORK/node.err" &
NODE_PID=$!
for _ in $(seq 100); do grep -q '"ready"' "$WORK/node.out" 2>/dev/null && break; sleep 0.1; done
URL=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['rpc'])" "$WORK/node.out" 2>/dev/null)
if [[ $URL != http://127.0.0.1:* ]]; then
  bad "node did not start: $(cat "$WORK/node.out" "$WORK/node.err" | head -5)"
  echo "$passed passed, $failed failed"
  exit 1
fi
ok "node ready at $URL"
export MERIT_CHAIN_URL=$URL

# head number, from the chain
head_block() { "$MERIT" chain head --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['number'])"; }

# --- chain, balance, transfer --------------------------------------------------------------------
expect_rc 0 "chain info" -- "$MERIT" chain info
grep -q "genesis" "$WORK/out" && grep -q "1000 MERIT" "$WORK/out" && ok "chain info shows genesis and issuance" \
  || bad "chain info: $(cat "$WORK/out")"
expect_rc 0 "balance of the funded wallet" -- "$MERIT" balance -w alice --json
[[ $(outjson "d['free']") == 1000000000000 && $(outjson "d['nonce']") == 0 ]] && ok "1000 MERIT free, nonce 0" \
  || bad "balance: $(cat "$WORK/out")"
expect_rc 0 "transfer 12.5 MERIT to bob" -- "$MERIT" transfer --to "$BOB" --amount 12.5 -w alice "${PW[@]}" --json
[[ $(outjson "d['success']") == True && $(outjson "d['block']") -gt 0 && $(outjson "d['hash']") == 0x* ]] \
  && ok "transfer reports its block and hash" || bad "transfer outcome: $(cat "$WORK/out")"
TRANSFER_BLOCK=$(outjson "d['block']")
expect_rc 0 "balance of bob by address" -- "$MERIT" balance "$BOB"
grep -q "free     12.5 MERIT" "$WORK/out" && ok "bob has exactly 12.5 MERIT" || bad "bob balance: $(cat "$WORK/out")"
expect_rc 0 "chain block shows the transfer" -- "$MERIT" chain block "$TRANSFER_BLOCK"
grep -q "transfer .* ok" "$WORK/out" && ok "block lists the transfer as ok" || bad "block: $(cat "$WORK/out")"

expect_rc 1 "transfer more than the balance fails" -- \
  "$MERIT" transfer --to "$BOB" --amount 5000 -w alice "${PW[@]}" --json
[[ $(outjson "d['error']") == NotEnoughBalance && $(outjson "d['success']") == False ]] \
  && ok "named error NotEnoughBalance" || bad "outcome: $(cat "$WORK/out")"
grep -q "NotEnoughBalance" "$WORK/err" && ok "the error is on stderr too" || bad "stderr: $(cat "$WORK/err")"
expect_rc 2 "a bad address is refused" -- "$MERIT" transfer --to 5NotAnAddress --amount 1 -w alice "${PW[@]}"
grep -q "not a valid address" "$WORK/err" && ok "it says the address is invalid" || bad "message: $(cat "$WORK/err")"
expect_rc 2 "balance of a bad address" -- "$MERIT" balance 5Gxyz
for amount in 1.0000000001 -1 1e9 abc 1.2.3 "" .; do
  expect_rc 2 "amount '$amount' is refused" -- "$MERIT" transfer --to "$BOB" --amount "$amount" -w alice "${PW[@]}"
done
expect_rc 3 "a wrong password is refused" -- \
  "$MERIT" transfer --to "$BOB" --amount 1 -w alice --password-file "$WORK/wrongpw"
expect_rc 3 "an unreachable chain" -- "$MERIT" --url http://127.0.0.1:1 balance "$BOB"
grep -q "http://127.0.0.1:1" "$WORK/err" && ok "the error names the URL" || bad "message: $(cat "$WORK/err")"
expect_rc 3 "--url after the sub-command" -- "$MERIT" chain head --url http://127.0.0.1:1

# --- subnet ----------------------------------------------------------------------------------------
expect_rc 0 "create a subnet" -- "$MERIT" subnet create --plugin matmul --set tempo=10 --set weights_rate_limit=20 \
  --set min_allowed_weights=1 -w alice "${PW[@]}" --json
NETUID=$(outjson "d.get('netuid')")
[[ $NETUID == 1 ]] && ok "it got netuid 1" || bad "create: $(cat "$WORK/out")"
expect_rc 2 "an unknown hyperparameter is refused" -- \
  "$MERIT" subnet create --plugin matmul --set no_such_param=1 -w alice "${PW[@]}"
expect_rc 1 "an out-of-range override fails on chain" -- \
  "$MERIT" subnet create --plugin matmul --set tempo=0 -w alice "${PW[@]}" --json
[[ $(outjson "d['error']") == InvalidHyperparameterValue ]] && ok "named error InvalidHyperparameterValue" \
  || bad "outcome: $(cat "$WORK/out")"
expect_rc 0 "subnet show" -- "$MERIT" subnet show --netuid 1
for line in "registration burn (price) *0.1 MERIT" "tempo *10 blocks" "blocks until next epoch" "emission per block" \
            "weights_rate_limit *20" "max_allowed_validators"; do
  grep -q "$line" "$WORK/out" && ok "subnet show: $line" || bad "subnet show lacks '$line': $(cat "$WORK/out")"
done
expect_rc 0 "subnet list" -- "$MERIT" subnet list --json
[[ $(outjson "[s['plugin'] for s in d]") == "['root', 'matmul']" ]] && ok "list has root and matmul" \
  || bad "list: $(cat "$WORK/out")"
expect_rc 1 "only the owner may set hyperparameters" -- \
  "$MERIT" subnet set --netuid 1 --param tempo --value 12 -w bob "${PW[@]}" --json
[[ $(outjson "d['error']") == NotSubnetOwner ]] && ok "named error NotSubnetOwner" || bad "outcome: $(cat "$WORK/out")"

# --- registration, stake, root ---------------------------------------------------------------------
uid=0
for hk in default miner1 miner2; do
  expect_rc 0 "register $hk" -- "$MERIT" register --netuid 1 -w alice -k "$hk" "${PW[@]}" --json
  [[ $(outjson "d['uid']") == "$uid" ]] && ok "$hk got uid $uid" || bad "register $hk: $(cat "$WORK/out")"
  uid=$((uid + 1))
done
expect_rc 1 "registering twice fails" -- "$MERIT" register --netuid 1 -w alice -k miner1 "${PW[@]}" --json
[[ $(outjson "d['error']") == HotKeyAlreadyRegisteredInSubNet ]] && ok "named error HotKeyAlreadyRegisteredInSubNet" \
  || bad "outcome: $(cat "$WORK/out")"
expect_rc 0 "stake 100 MERIT on the validator hotkey" -- "$MERIT" stake add --amount 100 -w alice -k default "${PW[@]}" --json
[[ $(outjson "d['hotkey_stake']") == 100000000000 ]] && ok "hotkey stake is 100 MERIT" || bad "stake: $(cat "$WORK/out")"
expect_rc 0 "stake 2 MERIT by hotkey address" -- "$MERIT" stake add --amount 2 -w alice --hotkey-address "$MINER1" "${PW[@]}"
expect_rc 0 "unstake 1.5 MERIT" -- "$MERIT" stake remove --amount 1.5 -w alice --hotkey-address "$MINER1" "${PW[@]}"
expect_rc 1 "unstake more than staked fails" -- \
  "$MERIT" stake remove --amount 1 -w alice -k miner2 "${PW[@]}" --json
[[ $(outjson "d['error']") == NotEnoughStakeToWithdraw ]] && ok "named error NotEnoughStakeToWithdraw" \
  || bad "outcome: $(cat "$WORK/out")"
expect_rc 0 "stake show" -- "$MERIT" stake show -w alice --json
[[ $(outjson "sorted(s['name'] for s in d['stakes'])") == "['default', 'miner1']" \
   && $(outjson "{s['name']: s['amount'] for s in d['stakes']}['default'] >= 100000000000") == True ]] \
  && ok "stake show lists both hotkeys by name" || bad "stake show: $(cat "$WORK/out")"
expect_rc 0 "root register" -- "$MERIT" root register -w alice -k default "${PW[@]}" --json
[[ $(outjson "d['uid']") == 0 ]] && ok "root uid 0" || bad "root register: $(cat "$WORK/out")"
expect_rc 0 "root weights on subnet 1" -- "$MERIT" root weights --netuids 1 --values 1 -w alice -k default
expect_rc 1 "root weights on a missing subnet" -- "$MERIT" root weights --netuids 7 --values 1 -w alice -k default --json
[[ $(outjson "d['error']") == UidVecContainInvalidOne || $(outjson "d['error']") == SettingWeightsTooFast ]] \
  && ok "named error for root weights: $(outjson "d['error']")" || bad "outcome: $(cat "$WORK/out")"

# --- weights and an epoch ----------------------------------------------------------------------------
has_permit() { "$MERIT" metagraph --netuid 1 --json | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['neurons'][0]['validator_permit'] else 1)"; }
wait_until "the validator gets a permit at an epoch" 60 -- has_permit
may_set() { "$MERIT" weights show --netuid 1 --json | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if d['neurons'][0]['next_allowed_block'] <= d['block'] else 1)"; }
wait_until "the weights rate limit has passed" 60 -- may_set
expect_rc 0 "weights set by the validator" -- "$MERIT" weights set --netuid 1 --uids 1,2 --values 30,10 -w alice -k default --json
WEIGHTS_BLOCK=$(outjson "d['block']")
# 20 blocks are 2 s at 100 ms blocks, which a loaded machine can spend between two commands: the
# owner raises the limit to 600 blocks (a minute) so the second set below is refused however slow
# the machine is, and lowers it again before the weights are set next.
expect_rc 0 "the owner raises the weights rate limit" -- \
  "$MERIT" subnet set --netuid 1 --param weights_rate_limit --value 600 -w alice "${PW[@]}"
expect_rc 1 "an immediate second weights set" -- \
  "$MERIT" weights set --netuid 1 --uids 1,2 --values 30,10 -w alice -k default --json
[[ $(outjson "d['error']") == SettingWeightsTooFast ]] && ok "named error SettingWeightsTooFast" \
  || bad "outcome: $(cat "$WORK/out")"
grep -q "SettingWeightsTooFast (next allowed at block" "$WORK/err" && ok "stderr says when it is allowed" \
  || bad "stderr: $(cat "$WORK/err")"
expect_rc 2 "mismatched uids and values" -- "$MERIT" weights set --netuid 1 --uids 1,2 --values 5 -w alice -k default
expect_rc 0 "weights show" -- "$MERIT" weights show --netuid 1 --json
[[ $(outjson "d['neurons'][0]['weights']") == "[[1, 65535], [2, 21845]]" ]] && ok "weights were max-upscaled" \
  || bad "weights: $(cat "$WORK/out")"
epoch_after() { "$MERIT" subnet show --netuid 1 --json | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['last_epoch_block'] > $1 else 1)"; }
wait_until "an epoch runs after the weights" 60 -- epoch_after "$WEIGHTS_BLOCK"
expect_rc 0 "metagraph --json" -- "$MERIT" metagraph --netuid 1 --json
cp "$WORK/out" "$WORK/mg.json"
N=$(json "$WORK/mg.json" "d['neurons']")
[[ $(json "$WORK/mg.json" "d['neurons'][1]['incentive'] > 0") == True ]] && ok "the weighted miner has incentive" \
  || bad "incentive: $N"
[[ $(json "$WORK/mg.json" "d['neurons'][1]['incentive'] > d['neurons'][2]['incentive']") == True ]] \
  && ok "the higher-weighted miner has more incentive" || bad "incentive order: $N"
[[ $(json "$WORK/mg.json" "d['neurons'][0]['dividends'] > 0 and d['neurons'][0]['validator_trust'] > 0") == True ]] \
  && ok "the validator has dividends and validator trust" || bad "dividends: $N"
[[ $(json "$WORK/mg.json" "d['neurons'][1]['emission'] > 0 and d['neurons'][0]['emission'] > 0") == True ]] \
  && ok "miner and validator were paid" || bad "emission: $N"
expect_rc 0 "metagraph table" -- "$MERIT" metagraph --netuid 1
grep -q "UID .*HOTKEY .*STAKE .*PERMIT .*CONSENSUS .*INCENTIVE .*DIVIDENDS .*VTRUST .*EMISSION .*AXON .*UPDATED .*IMMUNITY" \
  "$WORK/out" && ok "table has every column" || bad "table: $(head -3 "$WORK/out")"
[[ $(grep -c "^[0-9]" "$WORK/out") -eq 3 ]] && ok "table has three uids" || bad "table rows: $(cat "$WORK/out")"
expect_rc 0 "the miner's stake grew" -- "$MERIT" balance "$MINER1" --json
[[ $(outjson "d['hotkey_stake'] > 500000000") == True ]] && ok "incentive became stake" || bad "miner: $(cat "$WORK/out")"

# --- commit-reveal ----------------------------------------------------------------------------------
expect_rc 0 "the owner turns commit-reveal on" -- \
  "$MERIT" subnet set --netuid 1 --param commit_reveal --value true -w alice "${PW[@]}"
expect_rc 1 "plain weights are refused under commit-reveal" -- \
  "$MERIT" weights set --netuid 1 --uids 1 --values 1 -w alice -k default --json
[[ $(outjson "d['error']") == CommitRevealEnabled || $(outjson "d['error']") == SettingWeightsTooFast ]] \
  && ok "named error $(outjson "d['error']")" || bad "outcome: $(cat "$WORK/out")"
# A longer tempo, and a commit early in an epoch, so the early reveal below lands in the same epoch:
# at least 170 blocks (17 s at 100 ms blocks) between the two, which a loaded machine does not
# spend on two commands (6 s was seen to be too little).
expect_rc 0 "the owner sets tempo 200" -- "$MERIT" subnet set --netuid 1 --param tempo --value 200 -w alice "${PW[@]}"
expect_rc 0 "the owner lowers the weights rate limit" -- \
  "$MERIT" subnet set --netuid 1 --param weights_rate_limit --value 20 -w alice "${PW[@]}"
early_in_epoch() { "$MERIT" subnet show --netuid 1 --json | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['blocks_until_next_epoch'] >= 170 else 1)"; }
wait_until "the weights rate limit has passed again" 60 -- may_set
wait_until "a new epoch has just begun" 60 -- early_in_epoch
expect_rc 0 "weights commit" -- "$MERIT" weights commit --netuid 1 --uids 1,2 --values 1,3 -w alice -k default --json
COMMIT_FILE="$MERIT_HOME/commits/1-$VALI.json"
[[ -f $COMMIT_FILE && $(json "$COMMIT_FILE" "len(d['commits'][0]['salt'])") == 8 ]] \
  && ok "the commit and its salt are saved" || bad "commit file: $(ls -R "$MERIT_HOME")"
[[ "$(outjson "d['salt']")" == "$(json "$COMMIT_FILE" "d['commits'][0]['salt']")" ]] && ok "the salt is printed" \
  || bad "salt: $(cat "$WORK/out")"
expect_rc 1 "revealing in the commit's own epoch is too early" -- \
  "$MERIT" weights reveal --netuid 1 -w alice -k default --json
[[ $(outjson "d['error']") == RevealTooEarly ]] && ok "named error RevealTooEarly" || bad "outcome: $(cat "$WORK/out")"
expect_rc 0 "weights reveal --wait" -- "$MERIT" weights reveal --netuid 1 -w alice -k default --wait --json
[[ ! -f $COMMIT_FILE ]] && ok "the revealed commit is removed" || bad "commit file left: $(cat "$COMMIT_FILE")"
expect_rc 0 "weights show after the reveal" -- "$MERIT" weights show --netuid 1 --json
[[ $(outjson "d['neurons'][0]['weights']") == "[[1, 21845], [2, 65535]]" ]] && ok "the revealed weights are set" \
  || bad "weights: $(cat "$WORK/out")"
expect_rc 2 "reveal with nothing committed" -- "$MERIT" weights reveal --netuid 1 -w alice -k default

# --- sr25519 keys ---------------------------------------------------------------------------------
# A coldkey restored from the secret URI //Alice in sr25519 (Substrate's dev account) is funded,
# creates a subnet, registers and stakes its sr25519 hotkey, which sets weights and root-registers;
# an ecdsa coldkey (alice) owns an sr25519 hotkey there too. Every extrinsic is signed in the key's
# own scheme; the metagraph reports each hotkey's scheme.
printf '//Alice\n' > "$WORK/alice-uri"
expect_rc 0 "regen-coldkey --scheme sr25519 from //Alice" -- "$MERIT" wallet regen-coldkey -w carol --scheme sr25519 \
  --mnemonic-file "$WORK/alice-uri" --kdf interactive "${PW[@]}" --json
CAROL=$(outjson "d['coldkey']['ss58Address']")
[[ $CAROL == 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY ]] && ok "it is Substrate's //Alice" \
  || bad "carol: $(cat "$WORK/out")"
expect_rc 0 "an sr25519 hotkey for carol" -- "$MERIT" wallet new-hotkey -w carol -k sv --scheme sr25519 --json
SV=$(outjson "d['hotkey']['ss58Address']")
expect_rc 0 "an sr25519 hotkey for alice (ecdsa coldkey)" -- \
  "$MERIT" wallet new-hotkey -w alice -k srminer --scheme sr25519 --json
expect_rc 0 "transfer 100 MERIT to the sr25519 coldkey" -- "$MERIT" transfer --to "$CAROL" --amount 100 -w alice "${PW[@]}"
expect_rc 0 "the sr25519 coldkey transfers back" -- \
  "$MERIT" transfer --to "$BOB" --amount 1 -w carol "${PW[@]}" --json
[[ $(outjson "d['success']") == True ]] && ok "an sr25519-signed transfer is included" || bad "transfer: $(cat "$WORK/out")"
expect_rc 0 "balance of the sr25519 coldkey" -- "$MERIT" balance -w carol --json
[[ $(outjson "d['free']") == 99000000000 && $(outjson "d['nonce']") == 1 ]] && ok "99 MERIT free, nonce 1" \
  || bad "balance: $(cat "$WORK/out")"
expect_rc 0 "the sr25519 coldkey creates a subnet" -- "$MERIT" subnet create --plugin matmul --set tempo=10 \
  --set weights_rate_limit=0 --set min_allowed_weights=1 --set stake_threshold=0 -w carol "${PW[@]}" --json
SR_NETUID=$(outjson "d.get('netuid')")
[[ $SR_NETUID == 2 ]] && ok "it got netuid 2" || bad "create: $(cat "$WORK/out")"
expect_rc 0 "register the sr25519 hotkey" -- "$MERIT" register --netuid 2 -w carol -k sv "${PW[@]}" --json
[[ $(outjson "d['uid']") == 0 ]] && ok "sv got uid 0" || bad "register sv: $(cat "$WORK/out")"
expect_rc 0 "the ecdsa coldkey registers its sr25519 hotkey" -- \
  "$MERIT" register --netuid 2 -w alice -k srminer "${PW[@]}" --json
[[ $(outjson "d['uid']") == 1 ]] && ok "srminer got uid 1" || bad "register srminer: $(cat "$WORK/out")"
expect_rc 0 "stake 10 MERIT on the sr25519 hotkey" -- "$MERIT" stake add --amount 10 -w carol -k sv "${PW[@]}" --json
[[ $(outjson "d['hotkey_stake']") == 10000000000 ]] && ok "sr25519 hotkey stake is 10 MERIT" \
  || bad "stake: $(cat "$WORK/out")"
has_permit2() { "$MERIT" metagraph --netuid 2 --json | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['neurons'][0]['validator_permit'] else 1)"; }
wait_until "the sr25519 hotkey gets a permit at an epoch" 60 -- has_permit2
expect_rc 0 "the sr25519 hotkey sets weights" -- \
  "$MERIT" weights set --netuid 2 --uids 0,1 --values 1,3 -w carol -k sv --json
[[ $(outjson "d['success']") == True ]] && ok "sr25519-signed weights are included" || bad "weights: $(cat "$WORK/out")"
expect_rc 0 "weights show on netuid 2" -- "$MERIT" weights show --netuid 2 --json
[[ $(outjson "d['neurons'][0]['weights']") == "[[0, 21845], [1, 65535]]" ]] && ok "the sr25519 hotkey's weights are set" \
  || bad "weights: $(cat "$WORK/out")"
expect_rc 0 "metagraph of netuid 2" -- "$MERIT" metagraph --netuid 2 --json
[[ $(outjson "[n['hotkey_scheme'] for n in d['neurons']]") == "['sr25519', 'sr25519']" \
   && $(outjson "d['neurons'][0]['hotkey']") == "$SV" \
   && $(outjson "d['neurons'][0]['coldkey']") == "$CAROL" \
   && $(outjson "d['neurons'][1]['coldkey']") == "$ALICE" ]] \
  && ok "the metagraph shows both hotkeys as sr25519 with their coldkeys" || bad "metagraph: $(cat "$WORK/out")"
expect_rc 0 "root register of the sr25519 hotkey" -- "$MERIT" root register -w carol -k sv "${PW[@]}" --json
[[ $(outjson "d['uid']") == 1 ]] && ok "sv has root uid 1" || bad "root register: $(cat "$WORK/out")"

# --- help ---------------------------------------------------------------------------------------------
for cmd in "chain" "balance" "transfer" "subnet create" "subnet show" "register" "stake add" "weights commit" \
           "root weights" "metagraph"; do
  # shellcheck disable=SC2086
  expect_rc 0 "merit $cmd --help" -- "$MERIT" $cmd --help
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
