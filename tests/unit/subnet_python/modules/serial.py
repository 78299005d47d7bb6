"""SERIAL = True: the host must never overlap two calls, even while one sleeps without the GIL."""
import threading
import time

SERIAL = True
_lock = threading.Lock()
_inside = 0
max_inside = 0


def serve(config, request):
    global _inside, max_inside
    with _lock:
        _inside += 1
        max_inside = max(max_inside, _inside)
    time.sleep(0.02)
    with _lock:
        _inside -= 1
    return str(max_inside).encode()
