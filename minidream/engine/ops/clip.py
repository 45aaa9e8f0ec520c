"""Clip (ONNX "Clip"): x limited to [low, high]; either bound may be absent. Integer x too.

Shapes: x, y any shape; low, high scalars (or 0-d arrays) or None.
Formula:  y = min(max(x, low), high)   (low > high gives high everywhere, as ONNX specifies)
Backward: dx = dy where low <= x <= high, else 0. At a bound the function has no derivative; like PyTorch's
          clamp we pass the gradient there (a value sitting exactly on the bound is treated as inside).
Cache: inside, the mask of where dy passes.
"""
from minidream.engine.backend import get_array_module
from minidream.engine.ops.elementwise import map_naive


def _bounds(x, low, high):
    """The bounds as 0-d arrays of x's dtype: a float64 bound must not turn a float32 x into float64."""
    xp = get_array_module(x)
    return [None if b is None else xp.asarray(b, dtype=x.dtype) for b in (low, high)]


def forward(x, low=None, high=None):
    """Inputs: x (any shape), low, high (or None). Returns (y (x's shape), cache)."""
    xp = get_array_module(x)
    low, high = _bounds(x, low, high)
    y, inside = x, xp.ones(x.shape, dtype=bool)
    if low is not None:
        y, inside = xp.maximum(y, low), inside & (x >= low)
    if high is not None:
        y, inside = xp.minimum(y, high), inside & (x <= high)
    return (x.copy() if y is x else y), inside  # never x itself: the caller may write into y


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx."""
    return dy * cache


def forward_naive(x, low=None, high=None):
    low = -float("inf") if low is None else low
    high = float("inf") if high is None else high
    y = map_naive(lambda v: min(max(v, low), high), x)
    return y, map_naive(lambda v: low <= v <= high, x).astype(bool)


def backward_naive(dy, cache):
    return map_naive(lambda g, is_inside: g if is_inside else 0.0, dy, cache)
