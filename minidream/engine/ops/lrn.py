"""Local response normalization across channels (Caffe "LRN", norm_region: ACROSS_CHANNELS).

From Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep Convolutional Neural Networks"
(2012), §3.3, in Caffe's form (the sum is scaled by alpha / n):

    scale[n, c] = k + (alpha / n) * sum_{c' = c - (n-1)/2}^{c + (n-1)/2} x[n, c']^2      (missing channels count 0)
    y = x * scale^(-beta)

Shapes: x, y (N, C, H, W); n = local_size (odd, as Caffe requires).

Backward (y_i depends on x_j for every j in i's window; the window is symmetric so i is in j's window too):
    dx_j = dy_j * scale_j^(-beta) - (2 * alpha * beta / n) * x_j * sum_{i in window(j)} dy_i * y_i / scale_i

Textbook path: the window sum is the difference of two cumulative sums over the channels; forward keeps scale
and scale^-beta for backward. The fast engine (speed/lrn.py) adds n shifted channel slices instead, in place, row
band by row band over the cores. GPU path (kernels/lrn.cu): one fused thread per element computes its window sum,
scale and output; backward likewise.
"""
from collections import namedtuple

import numpy as np

from minidream import kernels
from minidream.engine import engines
from minidream.engine.backend import is_gpu


def _check(local_size):
    if local_size < 1 or local_size % 2 == 0:
        raise ValueError(f"LRN local_size must be a positive odd number (Caffe's rule), got {local_size}")


def _window_sum(a, local_size):
    """[:, c] = sum over channels c' in [c - (n-1)/2, c + (n-1)/2] ∩ [0, C) of a[:, c'].

    A difference of two running sums cancels their common part, which in float32 would leave the rounding of the
    larger running sum in a small window: the running sums are kept in float64."""
    half, c = (local_size - 1) // 2, a.shape[1]
    running = np.zeros((a.shape[0], c + 1) + a.shape[2:])
    np.cumsum(a, axis=1, dtype=np.float64, out=running[:, 1:])
    channels = np.arange(c)
    return (running[:, np.minimum(channels + half + 1, c)] - running[:, np.maximum(channels - half, 0)]).astype(a.dtype)


LRNCache = namedtuple("LRNCache", "path x y scale scale_pow local_size alpha beta")
LRNCache.__doc__ = """x, y and scale (N, C, H, W) from forward, and the path that made it ("textbook", "fast", "gpu");
scale_pow = scale^-beta on the CPU paths (the power is the costliest step, so backward reuses it), None on the GPU
path (its fused kernel recomputes it in registers)."""


def forward(x, local_size=5, alpha=1.0, beta=0.75, k=1.0):
    """Inputs: x (N, C, H, W) and Caffe's LRN parameters (Caffe's defaults). Returns (y (N, C, H, W), LRNCache)."""
    _check(local_size)
    if is_gpu(x):
        run = kernels.launcher()
        x = run.contiguous(x)
        y, scale = run.empty(x.shape), run.empty(x.shape)
        run("lrn_forward", *kernels.grid_1d(x.size), x, y, scale, x.shape[0], x.shape[1],
            x.shape[2] * x.shape[3], local_size, alpha, beta, k)
        return y, LRNCache("gpu", x, y, scale, None, local_size, alpha, beta)
    fast = engines.fast("lrn")
    if fast is not None:
        y, scale, scale_pow = fast.forward(x, local_size, alpha, beta, k)
        return y, LRNCache("fast", x, y, scale, scale_pow, local_size, alpha, beta)
    scale = k + alpha / local_size * _window_sum(x * x, local_size)
    scale_pow = scale ** -beta
    y = x * scale_pow
    return y, LRNCache("textbook", x, y, scale, scale_pow, local_size, alpha, beta)


def backward(dy, cache):
    """Inputs: dy (N, C, H, W), the LRNCache of forward. Returns dx (N, C, H, W)."""
    x, y, scale, local_size, alpha, beta = cache.x, cache.y, cache.scale, cache.local_size, cache.alpha, cache.beta
    if cache.path == "gpu":
        run = kernels.launcher()
        dx = run.empty(x.shape)
        run("lrn_backward", *kernels.grid_1d(x.size), x, y, scale, run.contiguous(dy), dx, x.shape[0], x.shape[1],
            x.shape[2] * x.shape[3], local_size, alpha, beta)
        return dx
    if cache.path == "fast":
        return engines.speed("lrn").backward(dy, cache)
    return dy * cache.scale_pow - 2.0 * alpha * beta / local_size * x * _window_sum(dy * y / scale, local_size)


def forward_naive(x, local_size=5, alpha=1.0, beta=0.75, k=1.0):
    _check(local_size)
    n, c = x.shape[:2]
    half = (local_size - 1) // 2
    scale = np.zeros_like(x)
    for i_c in range(c):
        window = x[:, max(0, i_c - half):min(c, i_c + half + 1)]
        scale[:, i_c] = k + alpha / local_size * np.sum(window ** 2, axis=1)
    scale_pow = scale ** -beta
    y = x * scale_pow
    return y, LRNCache("textbook", x, y, scale, scale_pow, local_size, alpha, beta)


def backward_naive(dy, cache):
    x, y, scale, local_size, alpha, beta = cache.x, cache.y, cache.scale, cache.local_size, cache.alpha, cache.beta
    c = x.shape[1]
    half = (local_size - 1) // 2
    dx = dy * scale ** -beta
    for j in range(c):
        for i in range(max(0, j - half), min(c, j + half + 1)):
            dx[:, j] -= 2.0 * alpha * beta / local_size * x[:, j] * dy[:, i] * y[:, i] / scale[:, i]
    return dx
