"""Expand (ONNX "Expand"): x broadcast to a shape, bidirectionally (NumPy's rule; see ops/elementwise.py).

Shapes: x any shape; shape a list of sizes; y np.broadcast_shapes(x.shape, shape) — which may be larger than
`shape` where x's own size is (ONNX: Expand([2, 3], shape=[1, 3]) is (2, 3)). Integer x too (shape arithmetic).
Formula:  y = x repeated along the axes broadcasting adds or stretches
Backward: dx = dy summed over those axes (elementwise.unbroadcast); None for an integer x.
Cache: x's shape and whether x is integer.
"""
import numpy as np

from minidream.engine.backend import get_array_module
from minidream.engine.ops.elementwise import is_integer, source_index, unbroadcast


def _shape(x, shape):
    return np.broadcast_shapes(x.shape, tuple(int(n) for n in shape))


def forward(x, shape):
    """Inputs: x (any shape), shape (sizes). Returns (y, cache)."""
    # a copy, not the read-only broadcast view, whose repeated elements share memory: the caller may write into y
    y = get_array_module(x).broadcast_to(x, _shape(x, shape)).copy()
    return y, (x.shape, is_integer(x))


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx (x's shape), or None for an integer x."""
    shape, integer = cache
    return None if integer else unbroadcast(dy, shape)


def forward_naive(x, shape):
    y = np.empty(_shape(x, shape), dtype=x.dtype)
    for index in np.ndindex(y.shape):
        y[index] = x[source_index(index, x.shape)]
    return y, (x.shape, is_integer(x))


def backward_naive(dy, cache):
    shape, integer = cache
    if integer:
        return None
    dx = np.zeros(shape, dtype=dy.dtype)
    for index in np.ndindex(dy.shape):
        dx[source_index(index, shape)] += dy[index]
    return dx
