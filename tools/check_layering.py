#!/usr/bin/env python3
"""The layering check: every meritnet header a library includes must belong to a layer below it.

All of common/'s libraries share one include root (common/include), so the build alone cannot stop
merit_util from including a merit_rpc header. This check can: it maps every source file to its
library, every `#include "merit/..."` to the library that owns the header, and fails on an include
that the table below (docs/ARCHITECTURE.md, "Libraries") does not allow, directly or through a
lower layer. Run by CTest as `check_layering`; `tools/check_layering.py [ROOT]` by hand.

It also keeps third-party types out of the headers of the libraries listed in NO_THIRD_PARTY: no
header under those folders may include one of the named libraries, directly or through a meritnet
header it includes (merit_rpc's callers get typed values; nlohmann stays in merit_rpc_json).
"""

import os
import re
import sys

# library -> the libraries it may use directly. What they may use is allowed too (dependencies
# point down only, so the closure is the layer's whole floor).
ALLOWED = {
    "merit_util": [],
    "merit_crypto": ["merit_util"],
    "merit_tx": ["merit_crypto"],
    "merit_wire": ["merit_crypto"],
    "merit_net": ["merit_wire"],
    "merit_rpc": ["merit_tx"],
    "merit_rpc_json": ["merit_rpc"],
    "merit_substrate": ["merit_rpc"],
    "merit_connect": ["merit_rpc", "merit_substrate"],
    "merit_serving": ["merit_util"],
    "merit_metrics": ["merit_util"],
    "merit_config": ["merit_util"],
    "merit_consensus": ["merit_util"],
    "merit_consensus_json": ["merit_consensus"],
    "merit_consensus_spec": ["merit_consensus"],
    "merit_chain": ["merit_consensus", "merit_consensus_json", "merit_tx", "merit_net", "merit_config"],
    # The epoch explainer: a chain client that recomputes stored epochs (docs/ARCHITECTURE.md).
    "merit_explain": ["merit_rpc_json", "merit_consensus_json", "merit_consensus_spec"],
    "merit_subnet_sdk": [],
    "merit_subnet_host": ["merit_subnet_sdk", "merit_util"],
    # The conformance suite drives plugins through the host (merit-subnet-check, merit subnet check).
    "merit_subnet_conformance": ["merit_subnet_host"],
    "merit_miner": ["merit_net", "merit_connect", "merit_metrics", "merit_config", "merit_subnet_host"],
    "merit_validator": ["merit_net", "merit_connect", "merit_consensus", "merit_metrics", "merit_config",
                        "merit_subnet_host"],
    # Plugins see the SDK only; the model-serving plugins may link merit_serving (docs/ARCHITECTURE.md).
    "plugin": ["merit_subnet_sdk", "merit_serving"],
    # The CLI is a client of everything except the miner (it checks validator configs).
    "merit_cli": ["merit_connect", "merit_rpc_json", "merit_consensus_json", "merit_explain", "merit_subnet_host",
                  "merit_subnet_conformance",
                  "merit_validator", "merit_config"],
}

# Header folder -> third-party include prefixes its headers may not include, directly or through
# the meritnet headers they include.
NO_THIRD_PARTY = {
    "common/include/merit/rpc/": ["nlohmann/"],
}

# Header or source folder -> library. The longest matching prefix wins.
FOLDERS = {
    "common/include/merit/util/": "merit_util", "common/src/util/": "merit_util",
    "common/include/merit/crypto/": "merit_crypto", "common/src/crypto/": "merit_crypto",
    "common/include/merit/tx/": "merit_tx", "common/src/tx/": "merit_tx",
    "common/include/merit/wire/": "merit_wire", "common/src/wire/": "merit_wire",
    "common/include/merit/net/": "merit_net", "common/src/net/": "merit_net",
    "common/include/merit/rpc/": "merit_rpc", "common/src/rpc/": "merit_rpc",
    "common/include/merit/rpc/connect.h": "merit_connect", "common/src/rpc/connect.cpp": "merit_connect",
    "common/include/merit/rpc_json/": "merit_rpc_json",
    "common/include/merit/substrate/": "merit_substrate", "common/src/substrate/": "merit_substrate",
    "common/include/merit/serving/": "merit_serving", "common/src/serving/": "merit_serving",
    "common/include/merit/metrics/": "merit_metrics", "common/src/metrics/": "merit_metrics",
    "common/include/merit/config/": "merit_config", "common/src/config/": "merit_config",
    "chain/include/merit/consensus/": "merit_consensus", "chain/src/consensus/": "merit_consensus",
    "chain/include/merit/consensus_json/": "merit_consensus_json",
    "chain/src/consensus_json/": "merit_consensus_json",
    "chain/include/merit/consensus_spec/": "merit_consensus_spec",
    "chain/src/consensus_spec/": "merit_consensus_spec",
    "chain/include/merit/explain/": "merit_explain", "chain/src/explain/": "merit_explain",
    "chain/include/merit/chain/": "merit_chain", "chain/src/chain/": "merit_chain",
    "subnets/include/merit/": "merit_subnet_sdk",
    "subnets/host/": "merit_subnet_host",
    "subnets/conformance/": "merit_subnet_conformance",
    "miner/include/": "merit_miner", "miner/src/": "merit_miner",
    "validator/include/": "merit_validator", "validator/src/": "merit_validator",
    "tools/merit/": "merit_cli",
}

INCLUDE = re.compile(r'^\s*#\s*include\s*"(merit/[^"]+)"', re.M)
ANY_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


def owner(path):
    best = None
    for prefix, lib in FOLDERS.items():
        if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, lib)
    if best:
        return best[1]
    if path.startswith("subnets/") and not path.startswith("subnets/tools/"):
        return "plugin"
    return None  # tests, benchmarks, tools/train, main.cpp files of binaries: may use anything


def closure(lib, seen=None):
    seen = set() if seen is None else seen
    for dep in ALLOWED.get(lib, []):
        if dep not in seen:
            seen.add(dep)
            closure(dep, seen)
    return seen


HEADER_ROOTS = ("common/include", "chain/include", "miner/include", "validator/include", "subnets/include",
                "subnets/host/include", "subnets/conformance/include")


def header_index(root):
    """merit/... include path -> the library owning that header."""
    return {include: owner(rel) for include, rel in header_files(root).items()}


def header_files(root):
    """merit/... include path -> the header's path relative to ROOT."""
    files_by_include = {}
    for top in HEADER_ROOTS:
        base = os.path.join(root, top)
        for dirpath, _, files in os.walk(base):
            for name in files:
                full = os.path.join(dirpath, name)
                files_by_include[os.path.relpath(full, base).replace(os.sep, "/")] = \
                    os.path.relpath(full, root).replace(os.sep, "/")
    return files_by_include


def third_party_violations(root):
    """Headers of NO_THIRD_PARTY folders that reach a forbidden include, with the path to it."""
    files_by_include = header_files(root)
    includes = {}  # header path -> every #include in it

    def includes_of(rel):
        if rel not in includes:
            with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
                includes[rel] = ANY_INCLUDE.findall(f.read())
        return includes[rel]

    violations = []
    for folder, banned in NO_THIRD_PARTY.items():
        for rel in sorted(set(files_by_include.values())):
            if not rel.startswith(folder):
                continue
            # Depth-first through the meritnet headers it includes; the first banned include wins.
            stack, seen = [(rel, [rel])], {rel}
            while stack:
                current, path = stack.pop()
                for include in includes_of(current):
                    if any(include.startswith(b) for b in banned):
                        via = "".join(f" via {p}" for p in path[1:])
                        violations.append(f"{rel} includes <{include}>{via}: {folder} headers are free of it")
                        stack = []
                        break
                    target = files_by_include.get(include)
                    if target is not None and target not in seen:
                        seen.add(target)
                        stack.append((target, path + [target]))
    return violations


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    headers = header_index(root)
    violations = []
    checked = 0
    for top in ("common", "chain", "miner", "validator", "subnets", "tools/merit"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith((".h", ".hpp", ".cpp", ".c", ".cu")):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                lib = owner(rel)
                if lib is None or "/main/" in rel or rel.endswith("/main.cpp"):
                    continue
                checked += 1
                allowed = closure(lib) | {lib}
                with open(full, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for include in INCLUDE.findall(text):
                    target = headers.get(include)
                    if target is None:
                        if include.startswith("merit/") and include.split("/")[1] in (
                                "util", "crypto", "tx", "wire", "net", "rpc", "rpc_json", "substrate", "serving",
                                "metrics",
                                "config", "consensus", "consensus_json", "consensus_spec", "chain", "miner", "validator"):
                            violations.append(f"{rel}: includes {include}, which no library owns")
                        continue
                    if target not in allowed:
                        violations.append(f"{rel} ({lib}) includes {include} ({target}): not below {lib}")
    violations += third_party_violations(root)
    for v in violations:
        print("layering: " + v)
    print(f"layering: {checked} files checked, {len(violations)} violation(s)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
