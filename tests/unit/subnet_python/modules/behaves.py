"""A module whose behaviour each request chooses, for the host's tests.

Requests (miner): b"echo:..." answers the rest; b"raise" raises ValueError; b"bad" raises
InvalidRequest; b"drop" raises Drop; b"busy" raises Overloaded; b"str" returns a str (wrong type);
b"sleep" sleeps 50 ms (releasing the GIL) while counting how many calls overlap; b"config"
answers repr of the config dict; b"exit" calls sys.exit(3); b"interp" answers id(sys) (one interpreter per process).
Validator: the expectation says what score does: b"raise", b"bad", b"nan", b"2", else the
response's length / 10.
"""

import sys
import threading
import time

import merit_subnet

NAME = "behaves"
SERIAL = False

_lock = threading.Lock()
_inside = 0
max_inside = 0


def setup(config, role):
    if config.get("refuse"):
        raise merit_subnet.ConfigError("refuse: refused as asked")
    if config.get("crash"):
        raise RuntimeError("setup crashed as asked")
    state = dict(config)
    state["role"] = role
    return state


def _sleep():
    global _inside, max_inside
    with _lock:
        _inside += 1
        max_inside = max(max_inside, _inside)
    time.sleep(0.05)
    with _lock:
        _inside -= 1
    return str(max_inside).encode()


def serve(state, request):
    if request.startswith(b"echo:"):
        return request[5:]
    if request == b"raise":
        return {}["no such key"]
    if request == b"bad":
        raise merit_subnet.InvalidRequest("bad request, as asked")
    if request == b"drop":
        raise merit_subnet.Drop()
    if request == b"busy":
        raise merit_subnet.Overloaded("busy, as asked")
    if request == b"str":
        return "not bytes"
    if request == b"sleep":
        return _sleep()
    if request == b"config":
        return repr(sorted(state.items())).encode()
    if request == b"exit":
        sys.exit(3)
    if request == b"interp":
        return str(id(sys)).encode()
    return bytearray(request)


def generate_challenge(state):
    return b"echo:abc", b"abc"


def score(state, expectation, response):
    if expectation == b"raise":
        raise ZeroDivisionError("score failed as asked")
    if expectation == b"bad":
        raise merit_subnet.BadResponse("not an answer")
    if expectation == b"nan":
        return float("nan")
    if expectation == b"2":
        return 2
    return len(response) / 10
