#!/usr/bin/env bash
# The dashboard in a real browser: a localnet (tests/e2e/localnet_hash.yaml, with its dashboard on
# a free port) and headless Chromium driven by playwright-core (dashboard_test.mjs).
#   run.sh MERIT BUILD_DIR/browser CONFIG
# Skips (exit 77, with the reason) when Debian's chromium or the npm packages are not available
# (scripts/install-deps installs chromium; the packages come from package-lock.json here).
# Screenshots are written to BUILD_DIR/browser/screenshots/.
set -uo pipefail
MERIT=$1 OUT=$2 CONFIG=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

chromium=${MERIT_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [[ -z $chromium || ! -x $chromium ]]; then
  echo "SKIP: chromium not found (Debian package chromium; scripts/install-deps installs it)"
  exit 77
fi
"$here/../support/npm_ci.sh" "$here" "$OUT" playwright-core/package.json
rc=$?
[[ $rc -ne 0 ]] && exit $rc

WORK=$(mktemp -d /tmp/merit-browser.XXXXXX)
DATA=$WORK/net
export MERIT_HOME=$WORK/home XDG_CACHE_HOME=$WORK/cache
unset MERIT_CHAIN_URL MERIT_PASSWORD
cleanup() {
  "$MERIT" localnet down --data-dir "$DATA" > /dev/null 2>&1
  [[ -n ${KEEP_WORK:-} ]] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

state() { python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ''))" "$DATA/localnet.json" "$1" 2>/dev/null; }

if ! timeout 150 "$MERIT" localnet up --config "$CONFIG" --data-dir "$DATA" --detach > "$WORK/up.out" 2>&1; then
  echo "FAIL: localnet up: $(tail -5 "$WORK/up.out") $(tail -20 "$DATA/supervisor.log" 2>/dev/null)"
  exit 1
fi
url=$(state dashboard_url)
chain=$(state chain_url)
if [[ -z $url ]]; then
  echo "FAIL: the localnet started no dashboard: $(tail -20 "$DATA/logs/dashboard.log" 2>/dev/null)"
  exit 1
fi
# Incentive and dividends appear once the validators have weights on chain (phase running).
for _ in $(seq 600); do
  [[ $(state phase) == running ]] && break
  sleep 0.2
done
echo "dashboard $url, chain $chain, phase $(state phase)"

mkdir -p "$OUT/screenshots"
NODE_PATH=$OUT/node_modules DASHBOARD_URL=$url CHAIN_URL=$chain MERIT=$MERIT CHROMIUM=$chromium \
  SCREENSHOTS=$OUT/screenshots node "$here/dashboard_test.mjs"
