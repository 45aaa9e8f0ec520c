"""Concatenation (Caffe "Concat"): inputs joined along an axis (channels, axis=1) in bottom order.

Shapes: xs = [(N, C_1, H, W), ..., (N, C_k, H, W)] -> y (N, C_1 + ... + C_k, H, W).
Backward: each input's gradient is its own slice of dy.
"""
import numpy as np

from minidream.engine.backend import get_array_module


def forward(xs, axis=1):
    """Inputs: xs, a list of arrays equal outside `axis`. Returns (y, cache); cache = (each input's size along
    axis, axis): all backward needs to cut dy back into pieces."""
    xp = get_array_module(*xs)
    sizes = [x.shape[axis] for x in xs]
    if len({x.shape[:axis] + x.shape[axis + 1:] for x in xs}) > 1:
        raise ValueError(f"concat inputs differ outside axis {axis}: {[tuple(x.shape) for x in xs]}")
    return xp.concatenate(xs, axis=axis), (sizes, axis)


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns [dx_k]: views of dy's slices (no copies)."""
    sizes, axis = cache
    dxs, start = [], 0
    for size in sizes:
        index = [slice(None)] * dy.ndim
        index[axis] = slice(start, start + size)
        dxs.append(dy[tuple(index)])
        start += size
    return dxs


def forward_naive(xs, axis=1):
    shape = list(xs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    y = np.empty(shape, dtype=xs[0].dtype)
    start = 0
    for x in xs:
        for i in range(x.shape[axis]):
            np.moveaxis(y, axis, 0)[start + i] = np.moveaxis(x, axis, 0)[i]
        start += x.shape[axis]
    return y, ([x.shape[axis] for x in xs], axis)


def backward_naive(dy, cache):
    sizes, axis = cache
    dxs, start = [], 0
    for size in sizes:
        dxs.append(dy.take(range(start, start + size), axis=axis))
        start += size
    return dxs
