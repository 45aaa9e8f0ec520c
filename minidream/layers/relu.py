"""Rectified linear unit (Caffe "ReLU", with Caffe's optional negative_slope for leaky ReLU).

Shapes: x, y (N, ...) — any shape.
Formula: y = max(x, 0) + negative_slope * min(x, 0)
Backward: dx = dy where x > 0, negative_slope * dy elsewhere. Only y is kept: x > 0 exactly where y > 0
(for slope >= 0), which lets the Net run ReLU in place over its input.
"""
import numpy as np

from minidream.backend import is_gpu


def forward(x, negative_slope=0.0, out=None):
    """out=x computes in place (the Net does so when nobody else reads x)."""
    if is_gpu(x):
        from kernels import ops

        return ops.relu_forward(x, negative_slope, out)
    if negative_slope == 0.0:
        y = np.maximum(x, 0, out=out)
    else:
        y = np.where(x > 0, x, x * x.dtype.type(negative_slope))
        if out is not None:
            out[...] = y
            y = out
    return y, (y, negative_slope)


def backward(dy, cache):
    if is_gpu(dy):
        from kernels import ops

        return ops.relu_backward(dy, cache)
    y, negative_slope = cache
    if negative_slope == 0.0:
        return dy * (y > 0)  # a product, not np.where: no branch on a random mask
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
    return y, (y, negative_slope)


def backward_naive(dy, cache):
    y, negative_slope = cache
    dx = np.empty_like(dy).reshape(-1)
    for i, (g, v) in enumerate(zip(dy.reshape(-1), y.reshape(-1))):
        dx[i] = g if v > 0 else g * negative_slope
    return dx.reshape(dy.shape)
