#!/usr/bin/env bash
# sr25519 interoperability: meritnet's C++ (sr25519_interop_tool) against @polkadot/wasm-crypto
# and @scure/sr25519 (pinned in package-lock.json here, installed into BUILD_DIR/interop by
# tests/support/npm_ci.sh). C++ signs and JS verifies, JS signs and C++ verifies, key expansion,
# the ed25519 secret form and HDKD public keys agree, and @scure's signature with the C++
# side's fixed randomness is byte-identical.
#   run.sh TOOL BUILD_DIR/interop
# Skips (exit 77, with the reason) without Node.js >= 20 or the npm packages.
set -uo pipefail
TOOL=$1 OUT=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/../support/npm_ci.sh" "$here" "$OUT" @scure/sr25519/package.json
rc=$?
[[ $rc -ne 0 ]] && exit $rc
OUT=$(cd "$OUT" && pwd)
# ES modules resolve packages next to the script, so it runs from the install directory.
cp "$here/sr25519_interop.mjs" "$OUT/"
WORK=$(mktemp -d /tmp/merit-interop.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$TOOL" emit > "$WORK/cpp.txt" || { echo "sr25519_interop_tool emit failed"; exit 1; }
node "$OUT/sr25519_interop.mjs" "$WORK/cpp.txt" > "$WORK/js.txt" || { echo "JavaScript side failed (see above)"; exit 1; }
"$TOOL" check "$WORK/cpp.txt" "$WORK/js.txt" || exit 1
echo "sr25519 interop: all checks passed"
