#!/usr/bin/env bash
# tool.sh NAME [ARGS...]: runs tools/NAME.mjs with the npm packages installed in the build tree.
# ES modules ignore NODE_PATH and resolve packages from the script's own directory upwards, so the
# tools are copied (atomically, when changed) next to the node_modules, into
# $MERIT_SUBTENSOR_NODE_MODULES/../tools/, and run from there. Stdin and stdout pass through.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
nm=${MERIT_SUBTENSOR_NODE_MODULES:-${MERIT_BUILD_DIR:-/nonexistent}/subtensor/node_modules}
[[ -d $nm/@polkadot/api ]] || { echo "SKIP: @polkadot/api not installed in $nm (run the subtensor_npm CTest fixture)"; exit 77; }
name=${1:?usage: tool.sh NAME [ARGS...]}
shift
dest=$(dirname "$nm")/tools
mkdir -p "$dest"
for f in "$here"/tools/*.mjs; do
  t=$dest/$(basename "$f")
  if ! cmp -s "$f" "$t"; then
    cp "$f" "$t.$$" && mv -f "$t.$$" "$t"
  fi
done
exec node --no-warnings "$dest/$name.mjs" "$@"
