"""fashion_linear with failures injected, for e2e_python_subnet (python_localnet_test.sh).

  fail: serve   every batch_serve raises: the miner must answer INTERNAL, log the traceback and
                keep running (and earn nothing)
  fail: score   every other score raises: the validator must log the traceback and keep running
Every other key goes to fashion_linear.
"""
import threading

import fashion_linear as base  # from the python plugin's own python/ folder

_lock = threading.Lock()


def setup(config, role):
    config = dict(config)
    fail = config.pop("fail", None)
    return {"fail": fail, "base": base.setup(config, role), "scores": 0}


def generate_challenge(state):
    return base.generate_challenge(state["base"])


def batch_serve(state, requests):
    if state["fail"] == "serve":
        raise RuntimeError("injected serve failure")
    return base.batch_serve(state["base"], requests)


def score(state, expectation, response):
    if state["fail"] == "score":
        with _lock:
            state["scores"] += 1
            odd = state["scores"] % 2 == 1
        if odd:
            raise RuntimeError("injected score failure")
    return base.score(state["base"], expectation, response)
