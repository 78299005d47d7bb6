#!/usr/bin/env python3
"""Writes a `merit localnet` config for a full subnet: one `hash` subnet with N miners (one tier)
and 2 validators that sample every miner, all started at once.

Used by tests/e2e/full_subnet_test.sh (64 miners) and tools/perf/full_subnet.py (256).
Usage: full_subnet_config.py MINERS BLOCK_TIME_MS [STARTUP_TIMEOUT_S] > config.yaml
"""
import sys

if len(sys.argv) < 3:
    sys.exit(__doc__)
n, block_ms = int(sys.argv[1]), int(sys.argv[2])
startup = int(sys.argv[3]) if len(sys.argv) > 3 else 150
if not 1 <= n <= 4000 or block_ms < 10:
    sys.exit("MINERS must be 1..4000 and BLOCK_TIME_MS >= 10")
print(f"""chain:
  block_time_ms: {block_ms}
  log_level: warn
fund: 10000000
root_stake: 100
log_level: warn
startup_timeout_s: {startup}
miner_defaults:
  workers: 1
validator_defaults:
  step_interval_ms: 1000
  query_timeout_ms: 4000
  sample_size: {n}
  ema_alpha: 0.5
subnets:
  - name: full
    plugin: hash
    root_weight: 1
    hyperparameters: {{tempo: 20, weights_rate_limit: 2, activity_cutoff: 1000, immunity_period: 1000, max_allowed_uids: {n + 4}}}
    validators:
      - {{name: v1, stake: 100}}
      - {{name: v2, stake: 50}}
    miners:""")
for i in range(n):
    print(f"      - {{name: m{i:03d}, tier: honest}}")
