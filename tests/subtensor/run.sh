#!/usr/bin/env bash
# CTest wrapper of every subtensor test (merit_add_subtensor_test): resolves the spec directory
# (MERIT_SUBTENSOR_SPECS from the caller's environment, else the configured default), then skips
# with exit 77 and the reason when the subtensor_npm fixture skipped (it left $MERIT_SUBTENSOR_DIR/SKIP),
# else runs the test command.   run.sh COMMAND [ARGS...]
export MERIT_SUBTENSOR_SPECS=${MERIT_SUBTENSOR_SPECS:-${MERIT_SUBTENSOR_SPECS_DEFAULT:-}}
if [[ -f ${MERIT_SUBTENSOR_DIR:-/nonexistent}/SKIP ]]; then
  echo "SKIP: $(cat "$MERIT_SUBTENSOR_DIR/SKIP")"
  exit 77
fi
exec "$@"
