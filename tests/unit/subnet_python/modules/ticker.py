"""A Python thread that counts while the host is not calling in: it can only run if the host
releases the GIL between calls (as it must, e.g. while a miner waits on the network)."""
import threading
import time

ticks = 0


def _tick():
    global ticks
    while True:
        ticks += 1
        time.sleep(0.001)


def setup(config, role):
    threading.Thread(target=_tick, daemon=True).start()
    return config


def serve(config, request):
    return str(ticks).encode()
