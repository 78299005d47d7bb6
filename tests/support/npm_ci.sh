#!/usr/bin/env bash
# Installs the pinned npm packages of a test harness (package.json + package-lock.json in SRC)
# into DEST/node_modules with `npm ci`, once per lock hash. Shared by the CTest fixtures that need
# npm packages (tests/subtensor/npm_setup.sh, tests/browser/npm_setup.sh).
#   npm_ci.sh SRC DEST CHECK
# CHECK is a file under DEST/node_modules that must exist afterwards (proof the install worked).
# Skips (exit 77, reason on stdout and in DEST/SKIP) when Node.js >= 20, npm or the registry (and
# a cache holding every locked package) are not available. Fails (exit 1) only when an install
# that could run did not succeed.
set -u
src=$(cd "$1" && pwd) || exit 1
dir=$(mkdir -p "$2" && cd "$2" && pwd) || exit 1  # absolute: the install below runs from inside it
check=$3
rm -f "$dir/SKIP"

skip() {
  echo "$*" > "$dir/SKIP"
  echo "SKIP: $*"
  exit 77
}

command -v node > /dev/null || skip "node (Node.js >= 20) not found in PATH"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
[[ $major =~ ^[0-9]+$ ]] && ((major >= 20)) || skip "Node.js $(node --version 2>/dev/null) is older than 20"
command -v npm > /dev/null || skip "npm not found in PATH"

hash=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-64)
stamp=$dir/node_modules/.merit-lock-sha256
if [[ -f $stamp && $(cat "$stamp") == "$hash" ]]; then
  echo "npm packages already installed in $dir/node_modules (lock $hash)"
  exit 0
fi

cp "$src/package.json" "$src/package-lock.json" "$dir/"
cd "$dir" || exit 1
start=$SECONDS
# At the tests' own priority: a lowered one (it was nice 10) starved the install past its
# fixture's 15-minute timeout while stress-ng --cpu 2 ran beside the suite (scripts/stress).
if timeout 30 npm ping > /dev/null 2>&1; then
  npm ci --no-audit --no-fund --prefer-offline || { echo "npm ci failed" >&2; exit 1; }
else
  # No registry: the npm cache may still hold every package of the lock.
  npm ci --no-audit --no-fund --offline > npm-offline.log 2>&1 ||
    skip "npm registry $(npm config get registry) unreachable and the npm cache lacks the locked packages"
fi
[[ -e node_modules/$check ]] || { echo "npm ci left no $check" >&2; exit 1; }
echo "$hash" > "$stamp"
echo "npm packages installed in $dir/node_modules in $((SECONDS - start)) s"
