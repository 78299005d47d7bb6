#!/usr/bin/env bash
# The subtensor_npm CTest fixture: installs the pinned npm packages (package.json + lock in this
# directory) into <build>/subtensor/node_modules with tests/support/npm_ci.sh, once per lock hash.
#   npm_setup.sh <build>/subtensor
# Skips (exit 77, reason in <build>/subtensor/SKIP for the dependent tests) when the specs, Node.js
# >= 20, npm or the registry are not available. Fails (exit 1) only when an install that could
# run did not succeed.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$(mkdir -p "$1" && cd "$1" && pwd) || exit 1
specs=${MERIT_SUBTENSOR_SPECS:-${MERIT_SUBTENSOR_SPECS_DEFAULT:-$here/../../../shared/subtensor}}
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
"$here/../support/npm_ci.sh" "$here" "$dir" @acala-network/chopsticks/chopsticks.cjs
rc=$?
[[ $rc -eq 77 ]] && rm -rf "$dir/fixtures"
exit $rc
