#!/usr/bin/env python3
"""Full-subnet start-up benchmark: `merit localnet up` with one `hash` subnet of N miners (default
256) and 2 validators, every daemon spawned at once, on this machine's loopback.

Records
  setup_s          chain start, subnet creation, registering and staking every hotkey (the
                   localnet supervisor, one extrinsic at a time)
  all_ready_s      daemons spawned -> every miner serving (ready line: registered, serve_axon
                   on chain) and both validators running
  weights_s        daemons spawned -> both validators' weights on chain
  rpc_ms           a probe client's chain_getHead round trips (a new connection each, every
                   100 ms) while the daemons start and run: p50, p99, max, failures
  chain_cpu        the chain node's CPU (utime + stime from /proc/PID/stat) while the daemons
                   start (spawn -> weights) and over the whole run, as % of one core
  daemons_exited   miners/validators that exited during the run (should be 0)
  unreachable_logs daemons that logged a "chain unreachable ... retrying" line

Prints one JSON document on stdout (progress on stderr).
Usage: tools/perf/full_subnet.py --merit build/tools/merit/merit [--miners 256] [--block-ms 250]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # after the command: state(0) ... utime is field 14, stime 15 (1-based in proc(5))
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def percentile(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


class Probe(threading.Thread):
    """chain_getHead every 100 ms over a fresh connection; records (t, ms or None)."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.samples, self.stop = url, [], threading.Event()

    def run(self):
        body = b'{"jsonrpc":"2.0","id":1,"method":"chain_getHead"}'
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                req = urllib.request.Request(self.url, body, {"content-type": "application/json"})
                with urllib.request.urlopen(req, timeout=10) as r:
                    ok = r.status == 200 and b'"result"' in r.read()
                self.samples.append((t0, (time.monotonic() - t0) * 1000 if ok else None))
            except OSError:
                self.samples.append((t0, None))
            self.stop.wait(max(0.0, 0.1 - (time.monotonic() - t0)))

    def window(self, start, end):
        got = [ms for t, ms in self.samples if start <= t < end]
        ok = [ms for ms in got if ms is not None]
        return {"calls": len(got), "failures": len(got) - len(ok),
                "p50": round(percentile(ok, 50), 2) if ok else None,
                "p99": round(percentile(ok, 99), 2) if ok else None,
                "max": round(max(ok), 2) if ok else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--merit", required=True, help="the merit CLI (merit-chain, -miner, -validator next to it)")
    ap.add_argument("--miners", type=int, default=256)
    ap.add_argument("--block-ms", type=int, default=250)
    ap.add_argument("--timeout-s", type=int, default=900)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="merit-fullsubnet-bench.")
    data = os.path.join(work, "net")
    env = dict(os.environ, MERIT_HOME=os.path.join(work, "home"), XDG_CACHE_HOME=os.path.join(work, "cache"))
    for k in ("MERIT_CHAIN_URL", "MERIT_PASSWORD"):
        env.pop(k, None)
    config = os.path.join(work, "full.yaml")
    with open(config, "w") as f:
        subprocess.run([sys.executable, os.path.join(HERE, "full_subnet_config.py"), str(a.miners), str(a.block_ms),
                        str(a.timeout_s)], stdout=f, check=True)

    marks, exited, probe, chain_pid = {}, [], None, None
    cpu = {}
    t0 = time.monotonic()
    up = subprocess.Popen([a.merit, "localnet", "up", "--config", config, "--data-dir", data, "--epochs", "1"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        for line in up.stdout:
            now = time.monotonic()
            if m := re.match(r"chain up at (http://\S+)", line):
                marks["chain_up"] = now
                probe = Probe(m.group(1))
                probe.start()
                with open(os.path.join(data, "localnet.json")) as f:
                    chain_pid = next(p["pid"] for p in json.load(f)["processes"] if p["name"] == "chain")
                cpu["chain_up"] = cpu_seconds(chain_pid)
            elif line.startswith("starting "):
                marks["spawn"] = now
                cpu["spawn"] = cpu_seconds(chain_pid)
                print(f"[{now - t0:7.1f}s] setup done; spawning daemons", file=sys.stderr)
            elif line.startswith("network up:"):
                marks["all_ready"] = now
                print(f"[{now - t0:7.1f}s] every miner serving, validators running", file=sys.stderr)
            elif line.startswith("every validator has weights"):
                marks["weights"] = now
                cpu["weights"] = cpu_seconds(chain_pid)
                print(f"[{now - t0:7.1f}s] both validators' weights on chain", file=sys.stderr)
            elif re.search(r" (exited|killed|stopped before)", line) and "chain" not in line.split()[0]:
                exited.append(line.strip())
            if chain_pid is not None:
                c = cpu_seconds(chain_pid)
                if c is not None:
                    cpu["last"] = c
                    marks["last"] = now
            if now - t0 > a.timeout_s:
                up.terminate()
        rc = up.wait()
    finally:
        if probe:
            probe.stop.set()
        if up.poll() is None:
            up.terminate()
            up.wait()

    def span(x, y):
        return round(marks[y] - marks[x], 1) if x in marks and y in marks else None

    def cpu_pct(x, y):
        if cpu.get(x) is None or cpu.get(y) is None or x not in marks or y not in marks or marks[y] <= marks[x]:
            return None
        return round(100 * (cpu[y] - cpu[x]) / (marks[y] - marks[x]), 1)

    logs = os.path.join(data, "logs")
    unreachable = 0
    if os.path.isdir(logs):
        for name in os.listdir(logs):
            with open(os.path.join(logs, name), errors="replace") as f:
                unreachable += "chain unreachable at" in f.read()
    paid = None
    try:
        with open(os.path.join(data, "summary.json")) as f:
            s = json.load(f)["subnets"][0]
        paid = sum(1 for m in s["miners"] if m.get("incentive", 0) > 0)
    except (OSError, KeyError, IndexError, ValueError):
        pass
    end = marks.get("last", time.monotonic())
    result = {
        "miners": a.miners, "validators": 2, "block_time_ms": a.block_ms, "exit_status": rc,
        "setup_s": span("chain_up", "spawn"),
        "all_ready_s": span("spawn", "all_ready"),
        "weights_s": span("spawn", "weights"),
        "rpc_ms": {
            "setup": probe.window(marks.get("chain_up", 0), marks.get("spawn", end)) if probe else None,
            "startup": probe.window(marks.get("spawn", end), marks.get("weights", end)) if probe else None,
            "running": probe.window(marks.get("weights", end), end) if probe else None,
        },
        "chain_cpu_pct_of_core": {"startup": cpu_pct("spawn", "weights"), "running": cpu_pct("weights", "last"),
                                  "whole_run": cpu_pct("chain_up", "last")},
        "daemons_exited": len(exited), "exits": exited[:5],
        "unreachable_logs": unreachable, "miners_with_incentive": paid,
        "work_dir": work if a.keep else None,
    }
    print(json.dumps(result, indent=2))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if rc == 0 and not exited else 1


if __name__ == "__main__":
    sys.exit(main())
