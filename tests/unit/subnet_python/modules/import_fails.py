"""Fails while being imported, two frames deep, so the traceback has something to show."""


def _load_weights(path):
    raise FileNotFoundError(f"weights file {path} is missing")


def _init():
    _load_weights("/nonexistent/weights.bin")


_init()
