"""Log-softmax (ONNX "LogSoftmax", opset 13) over one axis, any rank.

Shapes: x, y any shape; the softmax runs over `axis` (a negative one counts from the end).
Formula:  y_k = x_k - m - log Σ_j exp(x_j - m),  m = max_j x_j   (subtracting m keeps exp from overflowing)
Backward: dx = dy - exp(y) · Σ_k dy_k   (exp(y) is the softmax; ∂y_k/∂x_j = δ_kj - softmax_j)
Cache: (y, axis).
"""
import numpy as np

from minidream.engine.backend import get_array_module
from minidream.engine.ops import softmax


def forward(x, axis=-1):
    """Inputs: x (any shape), the axis of the classes. Returns (y (x's shape), cache = (y, axis))."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    y = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
    return y, (y, axis)


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx."""
    y, axis = cache
    return dy - get_array_module(y).exp(y) * dy.sum(axis=axis, keepdims=True)


def forward_naive(x, axis=-1):
    # the logarithm of ops/softmax.py's loop version: an oracle computed another way
    y = np.log(softmax.forward_naive(x, axis)[0])
    return y, (y, axis)


def backward_naive(dy, cache):
    # the chain rule through softmax's loop version: d log s = ds / s
    y, axis = cache
    s = np.exp(y)
    return softmax.backward_naive(dy / s, (s, axis))
