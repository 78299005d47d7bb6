"""fashion_linear: Fashion-MNIST classification by a linear model in numpy, a Python subnet for the
meritnet python plugin host (docs/SUBNETS.md, "Python subnets").

Validator: a challenge is `batch_size` held-out test images (the t10k split), each shifted by up to
`max_shift` pixels and noised afresh, so answers cannot be looked up; it keeps their labels.
Miner: at setup, trains a softmax regression on `train_samples` training images for `epochs`
epochs of minibatch SGD, then answers class probabilities. How much it trains sets how good it is:
the localnet config runs a well-trained, a briefly trained and an untrained miner.
Score: the normalised log score, max(0, 1 + mean(ln p_true) / ln 10): uniform guessing scores 0,
certainty on every right class 1. It is a proper scoring rule: a miner does best by reporting the
probabilities it believes, not by rounding them to a guess.

Payload (version 1, little-endian):
  request     = count:u16 || count x 784 pixels (u8, 28x28 row-major, background 0)
  response    = count x 10 float32 probabilities, classes in the dataset's order
  expectation = count labels (u8)

Config (every key optional; both roles accept every key, so one file can serve both):
  data_dir: /usr/share/datasets/fashion-mnist   Debian's dataset-fashion-mnist (.gz or not)
  batch_size: 16         validator: images per challenge (1..256)
  max_shift: 1           validator: per-image translation in pixels (0..4)
  noise: 16              validator: per-pixel uniform noise amplitude, of 255 (0..128)
  train_samples: 60000   miner: training images used (0..60000; 0 = untrained: uniform answers)
  epochs: 2              miner: passes over them (1..50)
  learning_rate: 0.1     miner: SGD step on the mean cross-entropy gradient
  max_batch: 256         miner: most images one request may carry
  seed: <random>         validator: reproducible challenges; miner: the training shuffle (default 0)
"""

import gzip
import math
import os
import struct
import threading

# One BLAS thread: several miners and validators share a small machine, and the model is tiny.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

import merit_subnet  # noqa: E402

NAME = "fashion_linear"
PIXELS = 28 * 28
CLASSES = 10
PROBABILITY_FLOOR = 1e-4  # caps one image's penalty at ln(1e4)

_DEFAULTS = {
    "data_dir": "/usr/share/datasets/fashion-mnist",
    "batch_size": 16, "max_shift": 1, "noise": 16,
    "train_samples": 60000, "epochs": 2, "learning_rate": 0.1, "max_batch": 256,
    "seed": None,
}
_INT_RANGES = {"batch_size": (1, 256), "max_shift": (0, 4), "noise": (0, 128), "train_samples": (0, 60000),
               "epochs": (1, 50), "max_batch": (1, 4096), "seed": (0, 2**63 - 1)}


def _config(config):
    unknown = sorted(set(config) - set(_DEFAULTS))
    if unknown:
        raise merit_subnet.ConfigError(f"{unknown[0]}: unknown key (known: {', '.join(_DEFAULTS)})")
    c = dict(_DEFAULTS, **config)
    for key, (lo, hi) in _INT_RANGES.items():
        v = c[key]
        if key == "seed" and v is None:
            continue
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise merit_subnet.ConfigError(f"{key}: {v!r} is not an integer in {lo}..{hi}")
    if not isinstance(c["learning_rate"], (int, float)) or not 0 < c["learning_rate"] <= 10:
        raise merit_subnet.ConfigError(f"learning_rate: {c['learning_rate']!r} is not a number in (0, 10]")
    if not isinstance(c["data_dir"], str):
        raise merit_subnet.ConfigError("data_dir: must be a directory")
    return c


def _read_idx(data_dir, name):
    for path in (os.path.join(data_dir, name + ".gz"), os.path.join(data_dir, name)):
        if os.path.exists(path):
            with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
                data = f.read()
            (magic,) = struct.unpack(">I", data[:4])
            dims = struct.unpack(">" + "I" * (magic & 0xFF), data[4:4 + 4 * (magic & 0xFF)])
            return np.frombuffer(data, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)
    raise merit_subnet.ConfigError(f"data_dir: no {name}[.gz] in {data_dir} (install dataset-fashion-mnist)")


def _softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class _Validator:
    def __init__(self, c):
        self.c = c
        self.images = _read_idx(c["data_dir"], "t10k-images-idx3-ubyte").reshape(-1, 28, 28)
        self.labels = _read_idx(c["data_dir"], "t10k-labels-idx1-ubyte")
        self.rng = np.random.default_rng(c["seed"])
        self.lock = threading.Lock()  # calls may overlap; numpy's Generator is not for sharing

    def challenge(self):
        c = self.c
        with self.lock:
            index = self.rng.integers(0, len(self.labels), c["batch_size"])
            shifts = self.rng.integers(-c["max_shift"], c["max_shift"] + 1, (c["batch_size"], 2))
            noise = self.rng.integers(-c["noise"], c["noise"] + 1, (c["batch_size"], 28, 28))
        s = c["max_shift"]
        padded = np.pad(self.images[index].astype(np.int16), ((0, 0), (s, s), (s, s)))
        out = np.empty((c["batch_size"], 28, 28), np.int16)
        for i, (dy, dx) in enumerate(shifts):
            out[i] = padded[i, s + dy:s + dy + 28, s + dx:s + dx + 28]
        pixels = np.clip(out + noise, 0, 255).astype(np.uint8)
        request = struct.pack("<H", c["batch_size"]) + pixels.tobytes()
        return request, self.labels[index].astype(np.uint8).tobytes()

    def score(self, expectation, response):
        labels = np.frombuffer(expectation, np.uint8)
        if len(labels) == 0 or labels.max() >= CLASSES:
            raise ValueError(f"corrupt expectation ({len(expectation)} bytes)")
        if len(response) != len(labels) * CLASSES * 4:
            raise merit_subnet.BadResponse(f"{len(response)} bytes for {len(labels)} images")
        with np.errstate(all="ignore"):  # a hostile response's NaNs are checked below, not warned about
            p = np.frombuffer(response, "<f4").reshape(len(labels), CLASSES).astype(np.float64)
        if not np.all(np.isfinite(p)) or np.any(p < 0):
            raise merit_subnet.BadResponse("probabilities must be finite and non-negative")
        sums = p.sum(axis=1)
        if np.any(sums <= 0):
            raise merit_subnet.BadResponse("a row of zeros")
        p_true = p[np.arange(len(labels)), labels] / sums
        log_score = np.log(np.maximum(p_true, PROBABILITY_FLOOR)).mean()
        return float(min(1.0, max(0.0, 1.0 + log_score / math.log(CLASSES))))


class _Miner:
    def __init__(self, c):
        self.c = c
        self.weights = np.zeros((PIXELS, CLASSES), np.float32)
        self.bias = np.zeros(CLASSES, np.float32)
        if c["train_samples"] > 0:
            self._train()

    def _train(self):
        c = self.c
        rng = np.random.default_rng(0 if c["seed"] is None else c["seed"])
        images = _read_idx(c["data_dir"], "train-images-idx3-ubyte").reshape(-1, PIXELS)
        labels = _read_idx(c["data_dir"], "train-labels-idx1-ubyte")
        chosen = rng.permutation(len(labels))[:c["train_samples"]]
        x = images[chosen].astype(np.float32) / 255.0
        y = labels[chosen]
        batch = 128
        for _ in range(c["epochs"]):
            order = rng.permutation(len(y))
            for start in range(0, len(y), batch):
                i = order[start:start + batch]
                p = _softmax(x[i] @ self.weights + self.bias)
                p[np.arange(len(i)), y[i]] -= 1.0  # d(mean cross-entropy)/d(logits), times batch
                self.weights -= (c["learning_rate"] / len(i)) * (x[i].T @ p)
                self.bias -= (c["learning_rate"] / len(i)) * p.sum(axis=0)

    def parse(self, request):
        if len(request) < 2:
            return merit_subnet.InvalidRequest("request shorter than its 2-byte count")
        (count,) = struct.unpack_from("<H", request)
        if not 1 <= count <= self.c["max_batch"]:
            return merit_subnet.InvalidRequest(f"{count} images: must be 1..{self.c['max_batch']}")
        if len(request) != 2 + count * PIXELS:
            return merit_subnet.InvalidRequest(f"{len(request)} bytes for {count} images")
        return np.frombuffer(request, np.uint8, offset=2).reshape(count, PIXELS)

    def answer(self, requests):
        """One model call for every well-formed request; an exception for each malformed one."""
        parsed = [self.parse(r) for r in requests]
        good = [p for p in parsed if not isinstance(p, Exception)]
        if not good:
            return parsed
        x = np.concatenate(good).astype(np.float32) / 255.0
        probabilities = _softmax(x @ self.weights + self.bias).astype("<f4")
        out, row = [], 0
        for p in parsed:
            if isinstance(p, Exception):
                out.append(p)
            else:
                out.append(probabilities[row:row + len(p)].tobytes())
                row += len(p)
        return out


def setup(config, role):
    c = _config(config)
    return _Miner(c) if role == "miner" else _Validator(c)


def generate_challenge(validator):
    return validator.challenge()


def score(validator, expectation, response):
    return validator.score(expectation, response)


def batch_serve(miner, requests):
    return miner.answer(requests)
