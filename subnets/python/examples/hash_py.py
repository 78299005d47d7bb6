"""The `hash` subnet (subnets/hash/hash_subnet.cpp) written in Python, byte for byte the same
payload: the validator sends rounds:u32 (little-endian) followed by random bytes; the miner answers
BLAKE2b-256 applied `rounds` times; the validator compares exactly. bench_python_subnet runs it
against libmerit_subnet_hash.so to measure what the Python host costs per call.

Config (every key optional): rounds (16), challenge_bytes (32), max_rounds (100000),
max_challenge_bytes (65536).
"""

import hashlib
import hmac
import os
import struct

import merit_subnet

NAME = "hash_py"

_DEFAULTS = {"rounds": 16, "challenge_bytes": 32, "max_rounds": 100000, "max_challenge_bytes": 65536}


def setup(config, role):
    unknown = set(config) - set(_DEFAULTS)
    if unknown:
        raise merit_subnet.ConfigError(f"{sorted(unknown)[0]}: unknown key (known: {', '.join(_DEFAULTS)})")
    c = dict(_DEFAULTS, **config)
    for key, value in c.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise merit_subnet.ConfigError(f"{key}: must be a positive integer")
    return c


def _hash_rounds(challenge, rounds):
    digest = hashlib.blake2b(challenge, digest_size=32).digest()
    for _ in range(rounds - 1):
        digest = hashlib.blake2b(digest, digest_size=32).digest()
    return digest


def generate_challenge(c):
    challenge = os.urandom(c["challenge_bytes"])
    return struct.pack("<I", c["rounds"]) + challenge, _hash_rounds(challenge, c["rounds"])


def serve(c, request):
    if len(request) <= 4:
        raise merit_subnet.InvalidRequest("hash: request needs a 4-byte round count and a challenge")
    rounds = struct.unpack_from("<I", request)[0] or c["rounds"]
    if rounds > c["max_rounds"]:
        raise merit_subnet.InvalidRequest(f"hash: {rounds} rounds exceed max_rounds {c['max_rounds']}")
    if len(request) - 4 > c["max_challenge_bytes"]:
        raise merit_subnet.InvalidRequest("hash: challenge longer than max_challenge_bytes")
    return _hash_rounds(request[4:], rounds)


def score(c, expectation, response):
    if len(expectation) != 32:
        raise ValueError(f"hash: corrupt expectation ({len(expectation)} bytes, expected 32)")
    return 1.0 if len(response) == 32 and hmac.compare_digest(expectation, response) else 0.0
