#!/usr/bin/env bash
# The subtensor_npm CTest fixture: installs the pinned npm packages (package.json + lock in this
# directory) into <build>/subtensor/node_modules with `npm ci`, once per lock hash.
#   npm_setup.sh <build>/subtensor
# Skips (exit 77, reason in <build>/subtensor/SKIP for the dependent tests) when the specs, Node.js
# >= 20, npm or the registry are not available. Fails (exit 1) only when an install that could
# run did not succeed.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$(mkdir -p "$1" && cd "$1" && pwd) || exit 1  # absolute: the install below runs from inside it
specs=${MERIT_SUBTENSOR_SPECS:-${MERIT_SUBTENSOR_SPECS_DEFAULT:-$here/../../../shared/subtensor}}
mkdir -p "$dir"
rm -f "$dir/SKIP"

skip() {
  echo "$*" > "$dir/SKIP"
  # Fixtures of an earlier run must not let dependent tests pass now.
  rm -rf "$dir/fixtures"
  echo "SKIP: $*"
  exit 77
}

for f in local-spec200.json raonet-spec218.json; do
  [[ -f $specs/$f ]] || skip "subtensor spec $specs/$f not found (set MERIT_SUBTENSOR_SPECS to the directory of the specs)"
done
command -v node > /dev/null || skip "node (Node.js >= 20) not found in PATH"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
[[ $major =~ ^[0-9]+$ ]] && ((major >= 20)) || skip "Node.js $(node --version 2>/dev/null) is older than 20"
command -v npm > /dev/null || skip "npm not found in PATH"

hash=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-64)
stamp=$dir/node_modules/.merit-lock-sha256
if [[ -f $stamp && $(cat "$stamp") == "$hash" ]]; then
  echo "npm packages already installed in $dir/node_modules (lock $hash)"
  exit 0
fi

cp "$here/package.json" "$here/package-lock.json" "$dir/"
cd "$dir" || exit 1
start=$SECONDS
if timeout 30 npm ping > /dev/null 2>&1; then
  nice -n 10 npm ci --no-audit --no-fund --prefer-offline || { echo "npm ci failed" >&2; exit 1; }
else
  # No registry: the npm cache may still hold every package of the lock.
  nice -n 10 npm ci --no-audit --no-fund --offline > npm-offline.log 2>&1 ||
    skip "npm registry $(npm config get registry) unreachable and the npm cache lacks the locked packages"
fi
[[ -f node_modules/@acala-network/chopsticks/chopsticks.cjs ]] || { echo "npm ci left no Chopsticks" >&2; exit 1; }
echo "$hash" > "$stamp"
echo "npm packages installed in $dir/node_modules in $((SECONDS - start)) s"
