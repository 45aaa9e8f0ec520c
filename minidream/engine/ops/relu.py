"""Rectified linear unit (Caffe "ReLU", with Caffe's optional negative_slope for leaky ReLU).

Shapes: x, y (N, ...) — any shape.
Formula: y = max(x, 0) + negative_slope * min(x, 0)
Backward: dx = dy where x > 0, negative_slope * dy elsewhere. Only y is kept: x > 0 exactly where y > 0
(for slope >= 0), which lets the Net run ReLU in place over its input.
The fast engine (speed/relu.py) splits a large plain ReLU over the cores.
"""
from collections import namedtuple

import numpy as np

from minidream import kernels
from minidream.engine import engines
from minidream.engine.backend import is_gpu

ReLUCache = namedtuple("ReLUCache", "path y negative_slope")
ReLUCache.__doc__ = """y (any shape) and the slope; which path made it ("textbook", "fast", "gpu"). Backward reads y,
not x (see the module doc)."""


def forward(x, negative_slope=0.0, out=None):
    """Inputs: x (any shape); out=x computes in place (the Net does so when nobody else reads x).
    Returns (y, ReLUCache)."""
    if is_gpu(x):
        return _forward_gpu(x, negative_slope, out)
    fast = engines.fast("relu") if negative_slope == 0.0 else None
    if fast is not None:
        y = fast.forward(x, out)
        return y, ReLUCache("fast", y, 0.0)
    if negative_slope == 0.0:
        y = np.maximum(x, 0, out=out)
    else:
        y = _into(out, np.where(x > 0, x, x * x.dtype.type(negative_slope)))
    return y, ReLUCache("textbook", y, negative_slope)


def backward(dy, cache):
    """Inputs: dy (shape of y), the ReLUCache of forward. Returns dx."""
    y, negative_slope = cache.y, cache.negative_slope
    if cache.path == "gpu":
        run = kernels.launcher()
        dx = run.empty(y.shape)
        run("relu_backward", *kernels.grid_1d(y.size), run.contiguous(y), run.contiguous(dy), dx, y.size,
            negative_slope)
        return dx
    if cache.path == "fast":
        return engines.speed("relu").backward(dy, y)
    if negative_slope == 0.0:
        return dy * (y > 0)  # a product, not np.where: no branch on a random mask
    return np.where(y > 0, dy, dy * dy.dtype.type(negative_slope))


def _forward_gpu(x, negative_slope, out):
    """kernels/relu.cu, one thread per element; into `out` directly when the kernel can write it."""
    run = kernels.launcher()
    x = run.contiguous(x)
    direct = out is not None and out.dtype == np.float32 and out.flags.c_contiguous
    y = out if direct else run.empty(x.shape)
    run("relu_forward", *kernels.grid_1d(x.size), x, y, x.size, negative_slope)
    if not direct:  # e.g. a channel slice of a joint 1x1 convolution's output
        y = _into(out, y)
    return y, ReLUCache("gpu", y, negative_slope)


def _into(out, y):
    """y written into `out` when the caller gave one (the Net's in-place ReLU), else y itself."""
    if out is None:
        return y
    out[...] = y
    return out


def forward_naive(x, negative_slope=0.0, out=None):
    flat = x.reshape(-1)
    y = np.empty_like(flat)
    for i, v in enumerate(flat):
        y[i] = v if v > 0 else v * negative_slope
    y = _into(out, y.reshape(x.shape))
    return y, ReLUCache("textbook", y, negative_slope)


def backward_naive(dy, cache):
    y, negative_slope = cache.y, cache.negative_slope
    dx = np.empty_like(dy).reshape(-1)
    for i, (g, v) in enumerate(zip(dy.reshape(-1), y.reshape(-1))):
        dx[i] = g if v > 0 else g * negative_slope
    return dx.reshape(dy.shape)
