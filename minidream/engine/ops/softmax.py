"""Softmax (Caffe "Softmax") over an axis (channels by default), with the max subtracted for stability.

Shapes: x, y any shape, e.g. (N, K), (N, K, H, W) or a ViT's (N, tokens, K); the softmax runs over `axis` (Caffe's
channels by default; a negative axis counts from the end, as ONNX's default -1).
Formula: y_k = exp(x_k - max_j x_j) / sum_j exp(x_j - max_j x_j)
Backward: dx = y * (dy - sum_k dy_k y_k)
"""
import numpy as np

from minidream.engine.backend import get_array_module


def forward(x, axis=1):
    """Inputs: x, the axis of the classes. Returns (y (x's shape), cache); cache = (y, axis): the Jacobian needs
    only the output."""
    xp = get_array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    y = e / e.sum(axis=axis, keepdims=True)
    return y, (y, axis)


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx."""
    y, axis = cache
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


def forward_naive(x, axis=1):
    moved = np.moveaxis(x, axis, -1)
    y = np.empty_like(moved)
    for index in np.ndindex(moved.shape[:-1]):
        row = moved[index]
        e = np.exp(row - max(row))
        y[index] = e / sum(e)
    y = np.moveaxis(y, -1, axis)
    return y, (y, axis)


def backward_naive(dy, cache):
    y, axis = cache
    y_m, dy_m = np.moveaxis(y, axis, -1), np.moveaxis(dy, axis, -1)
    dx = np.empty_like(dy_m)
    for index in np.ndindex(y_m.shape[:-1]):
        s, g = y_m[index], dy_m[index]
        k = len(s)
        jacobian = [[s[i] * ((i == j) - s[j]) for j in range(k)] for i in range(k)]
        dx[index] = [sum(jacobian[j][i] * g[j] for j in range(k)) for i in range(k)]
    return np.moveaxis(dx, -1, axis)
