"""Rectified linear unit (Caffe "ReLU", with Caffe's optional negative_slope for leaky ReLU).

Shapes: x, y (N, ...) — any shape.
Formula: y = max(x, 0) + negative_slope * min(x, 0)
Backward: dx = dy where x > 0, negative_slope * dy elsewhere. Only y is kept: x > 0 exactly where y > 0
(for slope >= 0), which lets the Net run ReLU in place over its input.
CPU: a large contiguous array (VGG's 640x480 layers: 20 M values) is split over the cores in flat ranges, and
backward walks each range in cache-sized pieces so that its mask never leaves the cache (one pass, not two).
"""
from collections import namedtuple

import numpy as np

from minidream import kernels
from minidream.engine.backend import is_gpu
from minidream.engine.speed.parallel import cache_pieces, for_blocks

MIN_SPLIT = 1 << 19  # values: below this, handing ranges to threads costs more than the one pass (measured:
#                      1.2 M values on 2 cores, forward 0.47 -> 0.34 ms, backward 0.64 -> 0.41)


ReLUCache = namedtuple("ReLUCache", "path y negative_slope")
ReLUCache.__doc__ = """y (any shape) and the slope; which path made it. Backward reads y, not x (see the module doc)."""


def forward(x, negative_slope=0.0, out=None):
    """Inputs: x (any shape); out=x computes in place (the Net does so when nobody else reads x).
    Returns (y, ReLUCache)."""
    if is_gpu(x):
        run = kernels.launcher()
        x = run.contiguous(x)
        direct = out is not None and out.dtype == np.float32 and out.flags.c_contiguous
        y = out if direct else run.empty(x.shape)
        run("relu_forward", *kernels.grid_1d(x.size), x, y, x.size, negative_slope)
        if out is not None and not direct:  # e.g. a channel slice of a joint 1x1 convolution's output
            out[...] = y
            y = out
        return y, ReLUCache("gpu", y, negative_slope)
    if negative_slope == 0.0:
        y = np.empty_like(x) if out is None else out
        if x.size >= MIN_SPLIT and x.flags.c_contiguous and y.flags.c_contiguous:
            x_flat, y_flat = x.reshape(-1), y.reshape(-1)
            for_blocks(lambda r: np.maximum(x_flat[r], 0, out=y_flat[r]), x.size, x.size, MIN_SPLIT)
        else:
            np.maximum(x, 0, out=y)
    else:
        y = np.where(x > 0, x, x * x.dtype.type(negative_slope))
        if out is not None:
            out[...] = y
            y = out
    return y, ReLUCache("cpu", y, negative_slope)


def backward(dy, cache):
    """Inputs: dy (shape of y), the ReLUCache of forward. Returns dx."""
    y, negative_slope = cache.y, cache.negative_slope
    if cache.path == "gpu":
        run = kernels.launcher()
        dx = run.empty(y.shape)
        run("relu_backward", *kernels.grid_1d(y.size), run.contiguous(y), run.contiguous(dy), dx, y.size,
            negative_slope)
        return dx
    if negative_slope == 0.0:
        if dy.size < MIN_SPLIT or not (dy.flags.c_contiguous and y.flags.c_contiguous):
            return dy * (y > 0)  # a product, not np.where: no branch on a random mask
        dx = np.empty_like(dy)
        dy_flat, y_flat, dx_flat = dy.reshape(-1), y.reshape(-1), dx.reshape(-1)

        def ranges(block):
            for r in cache_pieces(block, 1):
                np.multiply(dy_flat[r], y_flat[r] > 0, out=dx_flat[r])

        for_blocks(ranges, dy.size, dy.size, MIN_SPLIT)
        return dx
    return np.where(y > 0, dy, dy * dy.dtype.type(negative_slope))


def forward_naive(x, negative_slope=0.0, out=None):
    flat = x.reshape(-1)
    y = np.empty_like(flat)
    for i, v in enumerate(flat):
        y[i] = v if v > 0 else v * negative_slope
    y = y.reshape(x.shape)
    if out is not None:
        out[...] = y
        y = out
    return y, ReLUCache("cpu", y, negative_slope)


def backward_naive(dy, cache):
    y, negative_slope = cache.y, cache.negative_slope
    dx = np.empty_like(dy).reshape(-1)
    for i, (g, v) in enumerate(zip(dy.reshape(-1), y.reshape(-1))):
        dx[i] = g if v > 0 else g * negative_slope
    return dx.reshape(dy.shape)
