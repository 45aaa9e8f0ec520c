"""Which engine runs the ops on NumPy arrays: "fast" (the default) or "textbook".

Every op in ops/ holds its textbook NumPy code (im2col + one product per group, pooling over strided windows, LRN
through a cumulative sum). Under the fast engine an op with a fast CPU implementation in speed/ (Winograd, shifted
rows, phase-split pooling, threaded copies and products over the worker pool, a batch's pictures walked
in parts) asks `fast(op)` for it and runs that
instead; under "textbook" `fast` returns None and no module of speed/ is ever imported. GPU arrays always take the
op's own GPU path. Both engines give the same numbers to float32 rounding (tests/test_engines.py).

    MINIDREAM_ENGINE=textbook python -m minidream ...      # read once, when the ops are first imported
    minidream.set_engine("textbook")                        # from here on
    with minidream.set_engine("textbook"): ...              # inside the block only

A cache records the path that made it, and backward undoes it on that path (`speed(op)`), whichever engine is set
by then.
"""
import difflib
import importlib
import os

ENGINES = ("fast", "textbook")
# op -> its fast implementation, imported the first time the fast engine runs the op
_FAST = {op: f"minidream.engine.speed.{op}"
         for op in ("conv", "im2col", "max_pool", "avg_pool", "relu", "lrn", "picture_parts")}
_loaded = {}  # op -> its module, once imported: ops ask at every call


def _checked(name, where):
    if name not in ENGINES:
        close = difflib.get_close_matches(str(name), ENGINES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{where}: unknown engine {name!r}{hint}; choose one of {', '.join(ENGINES)}")
    return name


_current = _checked(os.environ.get("MINIDREAM_ENGINE", "fast"), "MINIDREAM_ENGINE")


class set_engine:
    """Make `name` ("fast" or "textbook") the engine of every op from now on; used in a `with`, the engine that was
    set before comes back at the end of the block."""

    def __init__(self, name):
        global _current
        self.name, self.previous = _checked(name, "set_engine"), _current
        _current = name

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _current
        _current = self.previous


def engine():
    """The engine now set: "fast" or "textbook"."""
    return _current


def fast(op):
    """The fast implementation of `op` (a module of speed/) under the fast engine, None under "textbook"."""
    return speed(op) if _current == "fast" else None


def speed(op):
    """The fast implementation of `op`, whatever the engine: backward undoes a cache the fast engine made."""
    if op not in _loaded:
        _loaded[op] = importlib.import_module(_FAST[op])
    return _loaded[op]
