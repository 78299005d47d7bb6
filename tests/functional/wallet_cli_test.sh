#!/usr/bin/env bash
# Functional test: drives the real `merit wallet` commands end to end in a temporary MERIT_HOME.
# Usage: wallet_cli_test.sh PATH_TO_MERIT
set -uo pipefail

MERIT=${1:?usage: wallet_cli_test.sh PATH_TO_MERIT}
WORK=$(mktemp -d /tmp/merit-wallet-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export MERIT_HOME="$WORK/home"
unset MERIT_PASSWORD

passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok   - $*"; }
bad()  { failed=$((failed + 1)); echo "FAIL - $*"; }
# expect_rc WANT DESCRIPTION -- command...
expect_rc() {
  local want=$1 what=$2; shift 3
  "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
  local rc=$?
  if [[ $rc -eq $want ]]; then ok "$what"; else bad "$what (exit $rc, wanted $want): $(cat "$WORK/err")"; fi
}
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }
mode() { stat -c %a "$1"; }

printf 'hunter2-password\n' > "$WORK/pw"
printf 'not-the-password\n' > "$WORK/wrongpw"

# --- create -------------------------------------------------------------------------------------
expect_rc 0 "create a wallet (interactive KDF, password from file)" -- \
  "$MERIT" wallet create -w alice --kdf interactive --password-file "$WORK/pw" --json
cp "$WORK/out" "$WORK/create.json"
COLD=$(json "$WORK/create.json" "d['coldkey']['ss58Address']")
HOT=$(json "$WORK/create.json" "d['hotkey']['ss58Address']")
COLD_WORDS=$(json "$WORK/create.json" "d['coldkey']['mnemonic']")
HOT_WORDS=$(json "$WORK/create.json" "d['hotkey']['mnemonic']")
HOT_PUB=$(json "$WORK/create.json" "d['hotkey']['publicKey']")
[[ $(wc -w <<<"$COLD_WORDS") -eq 24 ]] && ok "coldkey mnemonic has 24 words" || bad "coldkey mnemonic: $COLD_WORDS"
[[ $COLD == 5* && $HOT == 5* && $COLD != "$HOT" ]] && ok "distinct SS58 addresses with prefix 42" || bad "addresses $COLD $HOT"

W="$MERIT_HOME/wallets/alice"
[[ -f $W/coldkey && -f $W/coldkeypub.txt && -f $W/hotkeys/default ]] && ok "wallet layout" || bad "wallet layout: $(ls -R "$MERIT_HOME")"
[[ $(mode "$W/coldkey") == 600 && $(mode "$W/hotkeys/default") == 600 && $(mode "$W/coldkeypub.txt") == 600 ]] \
  && ok "key files are 0600" || bad "file modes $(mode "$W/coldkey") $(mode "$W/hotkeys/default")"
[[ $(mode "$W") == 700 && $(mode "$W/hotkeys") == 700 && $(mode "$MERIT_HOME") == 700 ]] \
  && ok "folders are 0700" || bad "folder modes"
grep -q '"ciphertext"' "$W/coldkey" && ! grep -q secretKey "$W/coldkey" && ok "coldkey is encrypted at rest" || bad "coldkey not encrypted"

# --- refuse to overwrite -------------------------------------------------------------------------
cp "$W/coldkey" "$WORK/coldkey.before"
expect_rc 2 "create again is refused without --overwrite" -- \
  "$MERIT" wallet create -w alice --kdf interactive --password-file "$WORK/pw"
grep -q "already" "$WORK/err" && ok "refusal says why" || bad "refusal message: $(cat "$WORK/err")"
cmp -s "$W/coldkey" "$WORK/coldkey.before" && ok "existing coldkey untouched" || bad "coldkey changed"
expect_rc 2 "new-hotkey over an existing one is refused" -- "$MERIT" wallet new-hotkey -w alice -k default

# --- list and show never print secrets -----------------------------------------------------------
expect_rc 0 "new-hotkey miner2" -- "$MERIT" wallet new-hotkey -w alice -k miner2 --json
expect_rc 0 "list" -- "$MERIT" wallet list
grep -q "$COLD" "$WORK/out" && grep -q miner2 "$WORK/out" && ok "list shows coldkey and hotkeys" || bad "list: $(cat "$WORK/out")"
expect_rc 0 "show --json" -- "$MERIT" wallet show -w alice --json
cp "$WORK/out" "$WORK/show.json"
[[ $(json "$WORK/show.json" "d['coldkey']['ss58Address']") == "$COLD" ]] && ok "show reports the coldkey" || bad "show coldkey"
HOT_SECRET=$(json "$W/hotkeys/default" "d['secretKey']")
FIRST_WORD=$(cut -d' ' -f1-3 <<<"$HOT_WORDS")
if grep -q "$HOT_SECRET" "$WORK/show.json" || grep -q "$FIRST_WORD" "$WORK/show.json" || grep -q secret "$WORK/show.json"; then
  bad "show printed a secret"
else
  ok "show prints no secret"
fi
expect_rc 2 "show an unknown wallet" -- "$MERIT" wallet show -w nobody

# --- sign and verify ----------------------------------------------------------------------------
printf 'pay 10 merit to bob' > "$WORK/msg"
expect_rc 0 "sign a file with the hotkey" -- "$MERIT" wallet sign -w alice --file "$WORK/msg"
SIG=$(cat "$WORK/out")
[[ ${#SIG} -eq 130 ]] && ok "signature is 65 bytes" || bad "signature length ${#SIG}"
expect_rc 0 "verify by address" -- "$MERIT" wallet verify --file "$WORK/msg" -s "$SIG" -a "$HOT"
expect_rc 0 "verify by public key" -- "$MERIT" wallet verify --file "$WORK/msg" -s "$SIG" --public-key "$HOT_PUB"
expect_rc 0 "verify the same bytes given as text" -- "$MERIT" wallet verify -m 'pay 10 merit to bob' -s "$SIG" -a "$HOT"
printf 'pay 90 merit to bob' > "$WORK/msg2"
expect_rc 1 "verify fails after one message byte changes" -- "$MERIT" wallet verify --file "$WORK/msg2" -s "$SIG" -a "$HOT"
expect_rc 1 "verify fails against another address" -- "$MERIT" wallet verify --file "$WORK/msg" -s "$SIG" -a "$COLD"
FLIPPED=$(python3 -c "import sys; s=bytearray.fromhex(sys.argv[1]); s[10]^=1; print(s.hex())" "$SIG")
expect_rc 1 "verify fails for a flipped signature byte" -- "$MERIT" wallet verify --file "$WORK/msg" -s "$FLIPPED" -a "$HOT"
expect_rc 2 "verify rejects a malformed signature" -- "$MERIT" wallet verify -m x -s 00ff -a "$HOT"
BADADDR="${HOT%?}$([[ ${HOT: -1} == A ]] && echo B || echo A)"
expect_rc 2 "verify rejects an address with a bad checksum" -- "$MERIT" wallet verify -m x -s "$SIG" -a "$BADADDR"
grep -q checksum "$WORK/err" && ok "bad checksum is named" || bad "checksum message: $(cat "$WORK/err")"
expect_rc 0 "sign hex bytes with --json" -- "$MERIT" wallet sign -w alice -k miner2 --hex 00ff10 --json
SIG2=$(json "$WORK/out" "d['signature']"); ADDR2=$(json "$WORK/out" "d['signer']['ss58Address']")
expect_rc 0 "verify hex bytes" -- "$MERIT" wallet verify --hex 00ff10 -s "$SIG2" -a "$ADDR2"

# --- coldkey password paths ---------------------------------------------------------------------
expect_rc 0 "sign with the coldkey (password file)" -- \
  "$MERIT" wallet sign -w alice --use-coldkey --password-file "$WORK/pw" -m hi
CSIG=$(cat "$WORK/out")
expect_rc 0 "coldkey signature verifies" -- "$MERIT" wallet verify -m hi -s "$CSIG" -a "$COLD"
expect_rc 3 "wrong password is refused" -- \
  "$MERIT" wallet sign -w alice --use-coldkey --password-file "$WORK/wrongpw" -m hi
grep -q "wrong password" "$WORK/err" && ok "wrong password is named" || bad "wrong password message: $(cat "$WORK/err")"
expect_rc 0 "MERIT_PASSWORD works for automation" -- \
  env MERIT_PASSWORD=hunter2-password "$MERIT" wallet sign -w alice --use-coldkey -m hi
expect_rc 2 "no password source and no terminal: clear error" -- \
  setsid "$MERIT" wallet sign -w alice --use-coldkey -m hi
grep -q "password-file" "$WORK/err" && ok "the error names the options" || bad "no-password message: $(cat "$WORK/err")"

# --- regenerate from mnemonics ------------------------------------------------------------------
# A mnemonic on the command line is visible to every local user (ps, /proc/PID/cmdline) while the
# command runs and stays in shell history: refused, nothing written. Fails at 8f8197f: --mnemonic
# was accepted and the wallet restored from argv.
expect_rc 2 "--mnemonic on the command line is refused" -- \
  "$MERIT" wallet regen-coldkey -w fromargv --mnemonic "$COLD_WORDS" --kdf interactive --password-file "$WORK/pw"
grep -q -- "--mnemonic-file" "$WORK/err" && ok "the refusal names --mnemonic-file and the prompt" || bad "--mnemonic message: $(cat "$WORK/err")"
[[ ! -e "$MERIT_HOME/wallets/fromargv" ]] && ok "nothing restored from argv" || bad "wallet written from argv"
"$MERIT" wallet regen-hotkey --help > "$WORK/regenhelp" 2>&1
grep -q -- "--mnemonic " "$WORK/regenhelp" && bad "--help still offers --mnemonic" || ok "--help offers only --mnemonic-file"
printf '%s\n' "$COLD_WORDS" > "$WORK/coldwords"
expect_rc 0 "regen-coldkey into a new wallet (mnemonic file)" -- \
  "$MERIT" wallet regen-coldkey -w restored --mnemonic-file "$WORK/coldwords" --kdf interactive --password-file "$WORK/pw" --json
[[ $(json "$WORK/out" "d['coldkey']['ss58Address']") == "$COLD" ]] && ok "regenerated coldkey has the same address" || bad "regen coldkey address"
printf '%s\n' "$HOT_WORDS" > "$WORK/hotwords"
expect_rc 0 "regen-hotkey from a mnemonic file" -- \
  "$MERIT" wallet regen-hotkey -w restored -k default --mnemonic-file "$WORK/hotwords" --json
[[ $(json "$WORK/out" "d['hotkey']['ss58Address']") == "$HOT" ]] && ok "regenerated hotkey has the same address" || bad "regen hotkey address"
expect_rc 0 "regen-hotkey from standard input" -- \
  sh -c "printf '%s\n' \"\$1\" | \"\$2\" wallet regen-hotkey -w restored -k viastdin --json" _ "$HOT_WORDS" "$MERIT"
# On a terminal the words are asked for with echo off: typed into a pseudo-terminal, they never
# appear in what the terminal shows.
python3 - "$MERIT" "$HOT_WORDS" "$HOT" > "$WORK/tty.out" 2>&1 <<'PY' && ok "on a terminal: a prompt, no echo, the key restored" || bad "tty prompt: $(cat "$WORK/tty.out")"
import os, pty, sys, time
merit, words, address = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.execv(merit, [merit, "wallet", "regen-hotkey", "-w", "restored", "-k", "viatty", "--json"])
seen = b""
deadline = time.monotonic() + 30
while b"mnemonic" not in seen and time.monotonic() < deadline:
    seen += os.read(fd, 4096)
os.write(fd, words.encode() + b"\n")
while time.monotonic() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
text = seen.decode(errors="replace")
assert os.WEXITSTATUS(status) == 0, text
assert "Enter the mnemonic" in text, text
assert " ".join(words.split()[:3]) not in text, "the words were echoed"
assert address in text, text
PY
expect_rc 0 "restored hotkey signs like the original" -- "$MERIT" wallet sign -w restored --file "$WORK/msg"
[[ $(cat "$WORK/out") == "$SIG" ]] && ok "identical deterministic signature" || bad "restored signature differs"
expect_rc 2 "regen-hotkey refuses to overwrite" -- \
  "$MERIT" wallet regen-hotkey -w restored -k default --mnemonic-file "$WORK/hotwords"
BADWORDS="$(cut -d' ' -f1-23 <<<"$HOT_WORDS") zoo"
printf '%s\n' "$BADWORDS" > "$WORK/badwords"
expect_rc 2 "a mnemonic with a wrong word is refused" -- \
  "$MERIT" wallet regen-hotkey -w restored -k other --mnemonic-file "$WORK/badwords"
grep -qE "checksum|word" "$WORK/err" && ok "the mnemonic error says why" || bad "mnemonic error: $(cat "$WORK/err")"

# --- damaged files ------------------------------------------------------------------------------
head -c 40 "$W/hotkeys/miner2" > "$WORK/trunc" && cp "$WORK/trunc" "$W/hotkeys/miner2"
expect_rc 3 "a corrupted hotkey file is reported, not used" -- "$MERIT" wallet sign -w alice -k miner2 -m x
grep -q "damaged" "$WORK/err" && ok "corruption is named with the file" || bad "corruption message: $(cat "$WORK/err")"
expect_rc 2 "a wallet name with a path is refused" -- "$MERIT" wallet new-hotkey -w ../evil -k x
[[ ! -e "$MERIT_HOME/evil" ]] && ok "nothing written outside the wallets folder" || bad "path escape"

# --- sr25519 keys ---------------------------------------------------------------------------------
expect_rc 0 "show prints the scheme of ecdsa keys" -- "$MERIT" wallet show -w restored
grep -q "$COLD  (ecdsa, encrypted)" "$WORK/out" && ok "show: coldkey address and scheme" || bad "show ecdsa: $(cat "$WORK/out")"
expect_rc 0 "create an sr25519 wallet" -- \
  "$MERIT" wallet create -w srw --scheme sr25519 --kdf interactive --password-file "$WORK/pw" --json
cp "$WORK/out" "$WORK/srcreate.json"
SR_COLD=$(json "$WORK/srcreate.json" "d['coldkey']['ss58Address']")
SR_HOT=$(json "$WORK/srcreate.json" "d['hotkey']['ss58Address']")
SR_HOT_PUB=$(json "$WORK/srcreate.json" "d['hotkey']['publicKey']")
SR_HOT_WORDS=$(json "$WORK/srcreate.json" "d['hotkey']['mnemonic']")
[[ $(json "$WORK/srcreate.json" "d['hotkey']['scheme']") == sr25519 && ${#SR_HOT_PUB} -eq 64 ]] \
  && ok "sr25519 hotkey: 32-byte public key" || bad "sr25519 create: $(cat "$WORK/srcreate.json")"
[[ $(json "$WORK/srcreate.json" "d['hotkey']['accountId']") == "$SR_HOT_PUB" ]] \
  && ok "sr25519 account id is the public key" || bad "sr25519 account id"
grep -q '"scheme": "sr25519"' "$MERIT_HOME/wallets/srw/hotkeys/default" && grep -q '"scheme": "sr25519"' "$MERIT_HOME/wallets/srw/coldkey" \
  && ok "key files record the scheme" || bad "scheme not in key files"
expect_rc 0 "show an sr25519 wallet" -- "$MERIT" wallet show -w srw
grep -q "$SR_COLD  (sr25519, encrypted)" "$WORK/out" && grep -q "$SR_HOT  (sr25519)" "$WORK/out" \
  && ok "show: sr25519 addresses and scheme" || bad "show sr25519: $(cat "$WORK/out")"
expect_rc 0 "sign with an sr25519 hotkey" -- "$MERIT" wallet sign -w srw --file "$WORK/msg"
SRSIG=$(cat "$WORK/out")
[[ ${#SRSIG} -eq 128 ]] && ok "sr25519 signature is 64 bytes" || bad "sr25519 signature length ${#SRSIG}"
expect_rc 0 "sr25519: verify by address" -- "$MERIT" wallet verify --file "$WORK/msg" -s "$SRSIG" -a "$SR_HOT"
expect_rc 0 "sr25519: verify by public key" -- "$MERIT" wallet verify --file "$WORK/msg" -s "$SRSIG" --public-key "$SR_HOT_PUB"
expect_rc 1 "sr25519: verify fails after one message byte changes" -- "$MERIT" wallet verify --file "$WORK/msg2" -s "$SRSIG" -a "$SR_HOT"
expect_rc 1 "sr25519: verify fails against another address" -- "$MERIT" wallet verify --file "$WORK/msg" -s "$SRSIG" -a "$SR_COLD"
expect_rc 1 "sr25519: verify fails against an ecdsa address" -- "$MERIT" wallet verify --file "$WORK/msg" -s "$SRSIG" -a "$HOT"
SRFLIP=$(python3 -c "import sys; s=bytearray.fromhex(sys.argv[1]); s[40]^=1; print(s.hex())" "$SRSIG")
expect_rc 1 "sr25519: verify fails for a flipped signature byte" -- "$MERIT" wallet verify --file "$WORK/msg" -s "$SRFLIP" -a "$SR_HOT"
expect_rc 1 "ecdsa: verify fails against an sr25519 address" -- "$MERIT" wallet verify --file "$WORK/msg" -s "$SIG" -a "$SR_HOT"
expect_rc 0 "sign with an sr25519 coldkey" -- "$MERIT" wallet sign -w srw --use-coldkey --password-file "$WORK/pw" -m hi
expect_rc 0 "the sr25519 coldkey signature verifies" -- "$MERIT" wallet verify -m hi -s "$(cat "$WORK/out")" -a "$SR_COLD"
expect_rc 0 "new-hotkey --scheme sr25519" -- "$MERIT" wallet new-hotkey -w alice -k srhot --scheme sr25519 --json
[[ $(json "$WORK/out" "d['hotkey']['scheme']") == sr25519 ]] && ok "an sr25519 hotkey in an ecdsa wallet" || bad "new-hotkey sr25519"
expect_rc 2 "an unknown scheme is refused" -- "$MERIT" wallet new-hotkey -w alice -k x --scheme ed448
printf '%s\n' "$SR_HOT_WORDS" > "$WORK/srwords"
expect_rc 0 "regen-hotkey --scheme sr25519 from its mnemonic" -- \
  "$MERIT" wallet regen-hotkey -w srback -k h --scheme sr25519 --mnemonic-file "$WORK/srwords" --json
[[ $(json "$WORK/out" "d['hotkey']['ss58Address']") == "$SR_HOT" ]] && ok "regenerated sr25519 hotkey has the same address" || bad "sr25519 regen"
printf 'bottom drive obey lake curtain smoke basket hold race lonely fit walk//Alice\n' > "$WORK/alice.uri"
expect_rc 0 "regen-hotkey --scheme sr25519 from the dev phrase //Alice" -- \
  "$MERIT" wallet regen-hotkey -w srback -k alice --scheme sr25519 --mnemonic-file "$WORK/alice.uri" --json
[[ $(json "$WORK/out" "d['hotkey']['ss58Address']") == 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY ]] \
  && ok "//Alice is 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY" || bad "//Alice: $(cat "$WORK/out")"

# --- import a btcli wallet ----------------------------------------------------------------------
BTW="$(cd "$(dirname "$0")/../data/bittensor_wallet/devwallet" && pwd)"
printf 'merit-test-password\n' > "$WORK/btpw"
expect_rc 0 "import-bittensor the test wallet (Argon2i SENSITIVE: seconds)" -- \
  "$MERIT" wallet import-bittensor --path "$BTW" --name imported --bittensor-password-file "$WORK/btpw" \
  --password-file "$WORK/pw" --kdf interactive
grep -q "^coldkey: 5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV" "$WORK/out" \
  && grep -q "^hotkey alice: 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY" "$WORK/out" \
  && grep -q "^hotkey validator: 5GKcfwEq6Rr3YJ29CmAGqqmJ9WUCAcJCRS6MaRBQEQrq1SEA" "$WORK/out" \
  && ok "import prints the btcli addresses" || bad "import output: $(cat "$WORK/out")"
[[ $(json "$BTW/coldkeypub.txt" "d['ss58Address']") == 5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV ]] \
  && ok "the address is coldkeypub.txt's" || bad "coldkeypub.txt"
grep -q '"kdf": "argon2id13"' "$MERIT_HOME/wallets/imported/coldkey" && ok "re-encrypted with Argon2id" || bad "imported coldkey format"
expect_rc 0 "sign with the imported coldkey (the new password)" -- \
  "$MERIT" wallet sign -w imported --use-coldkey --password-file "$WORK/pw" -m imported
expect_rc 0 "its signature verifies for the btcli address" -- \
  "$MERIT" wallet verify -m imported -s "$(cat "$WORK/out")" -a 5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV
expect_rc 2 "import again is refused without --overwrite" -- \
  "$MERIT" wallet import-bittensor --path "$BTW" --name imported --bittensor-password-file "$WORK/btpw" --password-file "$WORK/pw"
expect_rc 0 "import only a hotkey (--no-coldkey --hotkey alice)" -- \
  "$MERIT" wallet import-bittensor --path "$BTW" --name hotonly --hotkey alice --no-coldkey --json
[[ $(json "$WORK/out" "d['hotkeys'][0]['ss58Address']") == 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY && ! -e "$MERIT_HOME/wallets/hotonly/coldkey" ]] \
  && ok "hotkey-only import" || bad "hotkey-only import: $(cat "$WORK/out")"
mkdir -p "$WORK/legacy/hotkeys"
printf 'gAAAAABlZWdhY3k=' > "$WORK/legacy/coldkey"
expect_rc 2 "a Fernet (legacy) coldkey is refused" -- \
  "$MERIT" wallet import-bittensor --path "$WORK/legacy" --bittensor-password-file "$WORK/btpw" --password-file "$WORK/pw"
grep -q "regen" "$WORK/err" && grep -q "Fernet" "$WORK/err" && ok "the refusal says how to re-save it" || bad "legacy message: $(cat "$WORK/err")"
[[ ! -e "$MERIT_HOME/wallets/legacy" ]] && ok "nothing written for a refused import" || bad "legacy import wrote a wallet"

# --- help ----------------------------------------------------------------------------------------
for c in create new-hotkey list show regen-coldkey regen-hotkey sign verify import-bittensor; do
  "$MERIT" wallet "$c" --help >/dev/null 2>&1 || bad "--help for $c"
done
ok "--help on every wallet command"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
