#!/usr/bin/env python3
"""Chopsticks state for chopsticks.sh: `save PORT FILE` writes every storage key and value at the
head (state_getKeysPaged over the whole key space, values by state_queryStorageAt, 1000 a call) as
Chopsticks' raw import-storage format [[key, value], ...]; `prune PORT FILE` deletes (dev_setStorage
null) every key at the head that FILE does not hold, so a node restarted with FILE imported has
exactly the saved state. Loopback only; every call has a 60 s deadline."""
import json
import sys
import urllib.request

PAGE = 1000


def rpc(port, method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        reply = json.load(r)
    if "error" in reply:
        raise SystemExit(f"state.py: {method}: {reply['error']}")
    return reply["result"]


def all_keys(port, at):
    keys, start = [], None
    while True:
        page = rpc(port, "state_getKeysPaged", ["0x", PAGE, start, at] if start else ["0x", PAGE, None, at])
        keys += page
        if len(page) < PAGE:
            return keys
        start = page[-1]


def main():
    cmd, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    at = rpc(port, "chain_getBlockHash", [])
    keys = all_keys(port, at)
    if cmd == "save":
        pairs = []
        for i in range(0, len(keys), PAGE):
            for change_set in rpc(port, "state_queryStorageAt", [keys[i:i + PAGE], at]):
                pairs += [[k, v] for k, v in change_set["changes"] if v is not None]
        with open(path + ".tmp", "w") as f:
            json.dump(pairs, f)
        import os
        os.replace(path + ".tmp", path)
        print(f"saved {len(pairs)} storage values at {at}")
    elif cmd == "prune":
        saved = {k for k, _ in json.load(open(path))}
        extra = [[k, None] for k in keys if k not in saved]
        if extra:
            rpc(port, "dev_setStorage", [extra])
        print(f"deleted {len(extra)} keys absent from {path}")
    else:
        raise SystemExit("usage: state.py save|prune PORT FILE")


if __name__ == "__main__":
    main()
