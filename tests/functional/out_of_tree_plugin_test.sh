#!/usr/bin/env bash
# Builds tests/functional/out_of_tree_plugin as a third party would: install meritnet's subnet SDK
# component into a throw-away prefix, configure and build the plugin project against that prefix
# only, then load and exercise the plugin with merit-subnet-check (by path and by name through
# MERIT_SUBNET_PATH) and check that it exports nothing but its entry point.
#
# With the binaries given as well, it then serves the plugin with merit-miner on a real dev chain
# and queries it with `merit query`, as a subnet author would try their plugin end to end.
#
# Usage: out_of_tree_plugin_test.sh <project dir> <meritnet build dir> <merit-subnet-check>
#                                   <cmake> <generator> <c++ compiler>
#                                   [<merit> <merit-chain> <merit-miner>]
set -euo pipefail

project=$1 build=$2 check=$3 cmake=$4 generator=$5 cxx=$6
merit=${7:-} chain=${8:-} miner=${9:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/merit_oot_XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

step() { echo "== $*"; }

step "install the SDK component into $tmp/prefix"
"$cmake" --install "$build" --component merit_subnet_sdk --prefix "$tmp/prefix"
test -f "$tmp/prefix/include/merit/subnet_abi.h"
test -f "$tmp/prefix/include/merit/subnet_sdk.h"

step "configure and build the out-of-tree project"
"$cmake" -S "$project" -B "$tmp/build" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release
"$cmake" --build "$tmp/build"
plugin="$tmp/build/subnets/libmerit_subnet_reverse.so"
test -f "$plugin"

step "the plugin exports only merit_subnet_plugin_v1"
exports=$(nm -D --defined-only "$plugin" | awk '{print $3}')
if [[ "$exports" != "merit_subnet_plugin_v1" ]]; then
  echo "unexpected exports:"; echo "$exports"; exit 1
fi

step "load by path and run rounds"
"$check" "$plugin" --rounds 20 --min-quality 1

step "load by name through MERIT_SUBNET_PATH, with a config"
printf 'length: 64\n' > "$tmp/reverse.yaml"
MERIT_SUBNET_PATH="$tmp/build/subnets" "$check" reverse --config "$tmp/reverse.yaml" --rounds 5 --min-quality 1

step "a bad config is refused with the plugin's message"
printf 'length: 0\n' > "$tmp/bad.yaml"
if out=$("$check" "$plugin" --config "$tmp/bad.yaml" 2>&1); then
  echo "a bad config was accepted"; exit 1
fi
grep -q "reverse config: length: must be an integer in 1..4096" <<<"$out"

step "install the plugin and find it there"
"$cmake" --install "$tmp/build" --prefix "$tmp/prefix"
"$check" reverse --subnet-path "$tmp/prefix/lib/meritnet/subnets" --rounds 3 --min-quality 1

if [[ -n "$miner" ]]; then
  step "serve the plugin with merit-miner on a dev chain and query it"
  export MERIT_HOME="$tmp/home" MERIT_PASSWORD=oot-test-password
  wait_ready() { for _ in $(seq 200); do grep -q '"ready"' "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
  "$merit" wallet create -w author -k validator --kdf interactive --json > "$tmp/author.json"
  "$merit" wallet new-hotkey -w author -k miner > /dev/null
  owner=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['coldkey']['ss58Address'])" "$tmp/author.json")
  "$chain" --dev --data-dir "$tmp/chain" --rpc-port 0 --feed tcp://127.0.0.1:0 --block-time-ms 100 \
    --fund "$owner=1000000000000" --log-level warn > "$tmp/chain.out" 2> "$tmp/chain.err" &
  pids+=($!)
  wait_ready "$tmp/chain.out" || { cat "$tmp/chain.err"; exit 1; }
  export MERIT_CHAIN_URL=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['rpc'])" "$tmp/chain.out")
  "$merit" subnet create --plugin reverse -w author > /dev/null
  "$merit" register --netuid 1 -w author -k validator > /dev/null
  "$merit" register --netuid 1 -w author -k miner > /dev/null
  # The plugin by path, exactly as built; callers need only be registered (no permit yet).
  MERIT_MINER_REQUIRE_VALIDATOR_PERMIT=false "$miner" -w author -k miner --netuid 1 --plugin "$plugin" \
    --plugin-config 'length: 48' --bind 'tcp://127.0.0.1:*' --log-level warn > "$tmp/miner.out" 2> "$tmp/miner.err" &
  pids+=($!)
  wait_ready "$tmp/miner.out" || { cat "$tmp/miner.err"; exit 1; }
  "$merit" query --netuid 1 --uid 1 -w author -k validator --plugin "$plugin" --plugin-config 'length: 48' --count 8 \
    | tee "$tmp/query.out"
  grep -q "8 of 8 answers perfect" "$tmp/query.out"
fi

echo "out-of-tree plugin: OK"
