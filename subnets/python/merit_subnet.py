"""merit_subnet: what a Python subnet module may use from the meritnet `python` plugin host.

The host (libmerit_subnet_python.so, docs/SUBNETS.md "Python subnets") makes this module importable
inside the interpreter it embeds; outside the host (a module's own unit tests) put the directory
holding this file on PYTHONPATH.

Raise one of these exceptions to give a call a status other than INTERNAL:

  setup               ConfigError     refuse the configuration (INVALID_ARGUMENT, no traceback)
  serve, batch_serve  InvalidRequest  the request is malformed: the caller's fault (INVALID_ARGUMENT)
                      Overloaded      out of capacity right now (OVERLOADED)
                      Drop            send no answer at all (the caller sees a timeout)
  score               BadResponse     the miner's response is wrong or malformed: quality 0

Any other exception is a failure of the module itself (INTERNAL): the host reports it with the
Python traceback. From score that means "the validator could not score" and is never held against
the miner, so a module must turn a malformed response into BadResponse (or return 0.0), never let
a ValueError from parsing it escape.
"""

import importlib.util
import os
import sys
import traceback

# The plugin ABI's status codes (merit/subnet_abi.h).
OK = 0
INVALID_ARGUMENT = 1
UNSUPPORTED = 2
DROP = 3
OVERLOADED = 4
INTERNAL = 5


class SubnetError(Exception):
    """Base class: a failure with an ABI status (INTERNAL unless a subclass says otherwise)."""
    status = INTERNAL


class ConfigError(SubnetError):
    """setup(): the configuration is refused. Name the key in the message."""
    status = INVALID_ARGUMENT


class InvalidRequest(SubnetError):
    """serve(): the request is malformed (answered as a bad request)."""
    status = INVALID_ARGUMENT


class Overloaded(SubnetError):
    """serve(): out of capacity right now; the caller may retry later."""
    status = OVERLOADED


class Drop(SubnetError):
    """serve(): send no answer at all."""
    status = DROP


class BadResponse(SubnetError):
    """score(): the response is wrong or malformed; the miner gets quality 0."""
    status = OK


# --- used by the host only ----------------------------------------------------------------------

def _load_module(target, python_path, default_dirs):
    """Executes a fresh copy of the module `target` (a .py path or a dotted name) and returns it.

    python_path entries go in front of sys.path, default_dirs (the plugin's own python/ folder)
    at its end. A file's directory goes in front too, as for a script, so its siblings import.
    """
    for d in reversed(python_path):
        d = os.path.abspath(d)
        if d not in sys.path:
            sys.path.insert(0, d)
    for d in default_dirs:
        if os.path.isdir(d) and d not in sys.path:
            sys.path.append(d)
    if target.endswith(".py") or os.sep in target:
        path = os.path.abspath(target)
        if not os.path.isfile(path):
            raise ConfigError(f"module: no such file: {path}")
        directory = os.path.dirname(path)
        if directory not in sys.path:
            sys.path.insert(0, directory)
        spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    else:
        spec = importlib.util.find_spec(target)
        if spec is None or spec.loader is None:
            raise ConfigError(f"module: no module named '{target}' (searched: {', '.join(sys.path)})")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as import does: dataclasses, pickle and friends look it up
    spec.loader.exec_module(module)
    return module


def _format_exception(exc_type, exc, tb):
    """The traceback text Python itself would print for this exception, without the leading
    frames of the host's loader and importlib (the module's own frames are what matter)."""
    own = tb
    while own is not None and (own.tb_frame.f_code.co_filename == _format_exception.__code__.co_filename
                               or own.tb_frame.f_code.co_filename.startswith("<frozen importlib")):
        own = own.tb_next
    return "".join(traceback.format_exception(exc_type, exc, own if own is not None else tb)).rstrip()


def _summary(exc_type, exc):
    """One line, at most 300 characters: 'ValueError: message'."""
    text = " ".join(line.strip() for line in traceback.format_exception_only(exc_type, exc))
    return text[:300]
