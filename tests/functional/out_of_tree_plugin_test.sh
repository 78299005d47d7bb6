#!/usr/bin/env bash
# Builds tests/functional/out_of_tree_plugin as a third party would: install meritnet's subnet SDK
# component into a throw-away prefix, configure and build the plugin project against that prefix
# only, then load and exercise the plugin with merit-subnet-check (by path and by name through
# MERIT_SUBNET_PATH) and check that it exports nothing but its entry point.
#
# Usage: out_of_tree_plugin_test.sh <project dir> <meritnet build dir> <merit-subnet-check>
#                                   <cmake> <generator> <c++ compiler>
set -euo pipefail

project=$1 build=$2 check=$3 cmake=$4 generator=$5 cxx=$6
tmp=$(mktemp -d "${TMPDIR:-/tmp}/merit_oot_XXXXXX")
trap 'rm -rf "$tmp"' EXIT

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

echo "out-of-tree plugin: OK"
