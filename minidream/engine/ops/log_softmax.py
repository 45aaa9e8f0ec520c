"""Log-softmax (ONNX "LogSoftmax", opset 13) over one axis, any rank.

Shapes: x, y any shape; the softmax runs over `axis` (a negative one counts from the end).
Formula:  y_k = x_k - m - log Σ_j exp(x_j - m),  m = max_j x_j   (subtracting m keeps exp from overflowing)
Backward: dx = dy - exp(y) · Σ_k dy_k   (exp(y) is the softmax; ∂y_k/∂x_j = δ_kj - softmax_j)
Cache: (y, axis).
"""
import math

import numpy as np

from minidream.engine.backend import get_array_module


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
    moved = np.moveaxis(x, axis, -1)
    y = np.empty_like(moved)
    for index in np.ndindex(moved.shape[:-1]):
        row = moved[index]
        m = max(row)
        log_sum = math.log(sum(math.exp(v - m) for v in row))
        y[index] = [v - m - log_sum for v in row]
    y = np.moveaxis(y, -1, axis)
    return y, (y, axis)


def backward_naive(dy, cache):
    y, axis = cache
    y_m, dy_m = np.moveaxis(y, axis, -1), np.moveaxis(dy, axis, -1)
    dx = np.empty_like(dy_m)
    for index in np.ndindex(y_m.shape[:-1]):
        total = sum(dy_m[index])
        dx[index] = [g - math.exp(v) * total for g, v in zip(dy_m[index], y_m[index])]
    return np.moveaxis(dx, -1, axis)
