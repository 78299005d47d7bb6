#!/usr/bin/env bash
# The subtensor backend against @polkadot/api on a real subtensor runtime under Chopsticks, in
# one run per spec: a subnet of N neurons (default 256) written by populate.mjs (every fourth uid
# with a committed ECDSA key and a meritnet axon, half with an axon, all staked), then
#   - ours: bench_subtensor (SubtensorChain::metagraph(): time, round trips; the same requests
#     without decoding; build and sign of a 256-uid set_weights);
#   - @polkadot/api: tests/subtensor/tools/bench_metagraph.mjs (the same storage items in the same
#     round trips, decoded by the api; NeuronInfoRuntimeApi_get_neurons_lite; build and sign of
#     the same set_weights with an ecdsa pair);
# and prints both JSON lines and a table. Figures are recorded in docs/PERFORMANCE.md
# ("Subtensor backend").
#
#   tools/perf/subtensor.sh BUILD_DIR [SPEC] [N]
#
# SPEC: spec200 (default), spec218, both, or a raw chain spec file. Needs, in BUILD_DIR:
# tools/perf/bench_subtensor (cmake --build BUILD_DIR --target bench_subtensor) and the pinned npm
# packages in BUILD_DIR/subtensor/node_modules: run the subtensor_npm fixture first
# (ctest --test-dir BUILD_DIR -R subtensor_npm) or tests/subtensor/npm_setup.sh BUILD_DIR/subtensor.
# The specs come from MERIT_SUBTENSOR_SPECS (default: the directory shared/subtensor next to the
# source tree's parent, as tests/subtensor/chopsticks.sh has it).
# Environment: RUNS (metagraph reads per side, default 20), SIGNS (@polkadot/api signatures timed,
# default 300; ours signs 2000), NETUID (default 3). Chopsticks listens on a free loopback port
# and is stopped at exit.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
usage() { echo "usage: tools/perf/subtensor.sh BUILD_DIR [spec200|spec218|both|SPEC.json] [N]" >&2; exit 2; }
(($# >= 1)) || usage
BUILD=$(realpath "$1")
SPEC=${2:-spec200}
N=${3:-256}
RUNS=${RUNS:-20}
SIGNS=${SIGNS:-300}
NETUID=${NETUID:-3}
BENCH=$BUILD/tools/perf/bench_subtensor
export MERIT_BUILD_DIR=$BUILD
export MERIT_SUBTENSOR_NODE_MODULES=${MERIT_SUBTENSOR_NODE_MODULES:-$BUILD/subtensor/node_modules}
[[ -x $BENCH ]] || { echo "subtensor.sh: $BENCH is missing: cmake --build $BUILD --target bench_subtensor" >&2; exit 2; }
[[ -f $MERIT_SUBTENSOR_NODE_MODULES/@acala-network/chopsticks/chopsticks.cjs && -d $MERIT_SUBTENSOR_NODE_MODULES/@polkadot/api ]] || {
  echo "subtensor.sh: no npm packages in $MERIT_SUBTENSOR_NODE_MODULES: run ctest --test-dir $BUILD -R subtensor_npm" \
    "(or tests/subtensor/npm_setup.sh $BUILD/subtensor) first" >&2
  exit 2
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/merit-subtensor-bench.XXXXXX")
stop() { bash "$src/tests/subtensor/chopsticks.sh" stop "$WORK/node" > /dev/null 2>&1; rm -rf "$WORK"; }
trap stop EXIT
trap 'exit 130' INT TERM

one() {
  local spec=$1
  bash "$src/tests/subtensor/chopsticks.sh" start "$spec" "$WORK/node" > "$WORK/port" ||
    { echo "subtensor.sh: Chopsticks did not start: $(cat "$WORK/port")" >&2; return 1; }
  local ws
  ws="ws://127.0.0.1:$(tail -n 1 "$WORK/port")"
  bash "$src/tests/subtensor/tool.sh" populate "$ws" "$NETUID" "$N" > "$WORK/populate.json" ||
    { echo "subtensor.sh: populate failed: $(cat "$WORK/populate.json")" >&2; return 1; }
  "$BENCH" "$ws" "$NETUID" "$RUNS" > "$WORK/ours.json" || { echo "subtensor.sh: bench_subtensor failed" >&2; return 1; }
  bash "$src/tests/subtensor/tool.sh" bench_metagraph "$ws" "$NETUID" "$RUNS" "$SIGNS" > "$WORK/polkadot.json" ||
    { echo "subtensor.sh: bench_metagraph failed: $(cat "$WORK/polkadot.json")" >&2; return 1; }
  bash "$src/tests/subtensor/chopsticks.sh" stop "$WORK/node"
  python3 - "$spec" "$WORK" <<'PY'
import json, sys
spec, work = sys.argv[1], sys.argv[2]
ours = json.load(open(f"{work}/ours.json"))
pj = json.load(open(f"{work}/polkadot.json"))
st, ra, sg = pj["storage"], pj["runtimeApi"], pj["sign"]
print(json.dumps({"spec": spec, "ours": ours}))
print(json.dumps({"spec": spec, "polkadot_api": pj}))
f = lambda x: f"{x:.1f}"
trips = lambda d: str(d["roundTrips"]) if d["roundTrips"] == d["roundTripsMax"] else f"{d['roundTrips']}-{d['roundTripsMax']}"
rows = [
    ("ours: metagraph() (storage)", f(ours["metagraph_ms_median"]), f(ours["metagraph_ms_best"]), ours["round_trips"],
     ours["neurons"], f"{ours['axons']}/{ours['committed_keys']}/{ours['staked']}"),
    ("ours: same requests, no decode", f(ours["wire_ms_median"]), f(ours["wire_ms_best"]), ours["round_trips"], "", ""),
    ("@polkadot/api: same storage", f(st["ms_median"]), f(st["ms_best"]), trips(st), st["neurons"],
     f"{st['axons']}/{st['committedKeys']}/{st['staked']}"),
    ("@polkadot/api: its time in requests", f(st["wire_ms_median"]), f(st["wire_ms_best"]), "", "", ""),
    ("@polkadot/api: get_neurons_lite" + ("" if ra["decoded"] else " (not decoded)"), f(ra["ms_median"]), f(ra["ms_best"]),
     trips(ra), ra["neurons"], ""),
]
print(f"\n{spec}: subnet {ours['netuid']}, {ours['neurons']} neurons, {ours['keys']} storage keys, {ours['runs']} reads each")
print(f"{'metagraph sync':46} {'ms median':>9} {'ms best':>8} {'trips':>5} {'neurons':>7}  axons/keys/staked")
for r in rows:
    print(f"{r[0]:46} {r[1]:>9} {r[2]:>8} {str(r[3]):>5} {str(r[4]):>7}  {r[5]}")
print(f"{'build+sign set_weights (256 uids)':46} {'µs':>9} {'bytes':>8}")
print(f"{'ours':46} {ours['build_and_sign_us']:>9.1f} {ours['set_weights_extrinsic_bytes']:>8}")
print(f"{'@polkadot/api':46} {sg['us']:>9.1f} {sg['bytes']:>8}")
PY
}

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"
case $SPEC in
  both) one spec200 && one spec218 ;;
  *) one "$SPEC" ;;
esac
