"""Global max pooling (ONNX GlobalMaxPool): the maximum of each channel over all its positions.

Shapes: x (N, C, d_1, ..., d_k), k >= 1 -> y (N, C, 1, ..., 1) (k ones: ONNX keeps the spatial axes).

Formula: y[n, c] = max_p x[n, c, p] over the S = d_1 * ... * d_k positions p (flattened in row-major order).

Backward: the gradient flows to the first maximum only (the same tie rule as max_pool),
    dx[n, c, p] = dy[n, c] if p == argmax_p x[n, c, p] else 0.

Cache: GlobalMaxPoolCache(x_shape, winners): winners (N, C) the flat position of each channel's first maximum. The
code is xp code: the GPU runs it on CuPy arrays.
"""
from collections import namedtuple

import numpy as np

from minidream.engine.backend import get_array_module

GlobalMaxPoolCache = namedtuple("GlobalMaxPoolCache", "x_shape winners")


def _check(x_shape):
    if len(x_shape) < 3:
        raise ValueError(f"global max pooling needs (N, C, spatial...) input, got shape {tuple(x_shape)}")


def forward(x):
    """Inputs: x (N, C, d_1, ..., d_k). Returns (y (N, C, 1, ..., 1), GlobalMaxPoolCache)."""
    _check(x.shape)
    flat = x.reshape(x.shape[:2] + (-1,))
    winners = flat.argmax(axis=2)  # the first maximum
    y = get_array_module(x).take_along_axis(flat, winners[..., None], 2)
    return y.reshape(x.shape[:2] + (1,) * (x.ndim - 2)), GlobalMaxPoolCache(x.shape, winners)


def backward(dy, cache):
    """Inputs: dy (N, C, 1, ..., 1), the GlobalMaxPoolCache of forward. Returns dx (x's shape)."""
    n, c = cache.x_shape[:2]
    positions = get_array_module(dy).arange(int(np.prod(cache.x_shape[2:])))
    dx = (positions == cache.winners[..., None]) * dy.reshape(n, c, 1)
    return dx.astype(dy.dtype, copy=False).reshape(cache.x_shape)


def forward_naive(x):
    """Loop version: a running max with strict '>' per channel."""
    _check(x.shape)
    n, c = x.shape[:2]
    y = np.empty((n, c) + (1,) * (x.ndim - 2), dtype=x.dtype)
    winners = np.zeros((n, c), dtype=np.int64)
    for i_n, i_c in np.ndindex(n, c):
        plane = x[i_n, i_c].ravel()
        for p in range(1, plane.size):
            if plane[p] > plane[winners[i_n, i_c]]:
                winners[i_n, i_c] = p
        y[i_n, i_c] = plane[winners[i_n, i_c]]
    return y, GlobalMaxPoolCache(x.shape, winners)


def backward_naive(dy, cache):
    """Loop version: each channel's gradient to its winner."""
    n, c = cache.x_shape[:2]
    dx = np.zeros((n, c, int(np.prod(cache.x_shape[2:]))), dtype=dy.dtype)
    for i_n, i_c in np.ndindex(n, c):
        dx[i_n, i_c, cache.winners[i_n, i_c]] = dy.reshape(n, c)[i_n, i_c]
    return dx.reshape(cache.x_shape)
