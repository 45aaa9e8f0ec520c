"""Local response normalization across channels (Caffe "LRN", norm_region: ACROSS_CHANNELS).

From Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep Convolutional Neural Networks"
(2012), §3.3, in Caffe's form (the sum is scaled by alpha / n):

    scale[n, c] = k + (alpha / n) * sum_{c' = c - (n-1)/2}^{c + (n-1)/2} x[n, c']^2      (missing channels count 0)
    y = x * scale^(-beta)

Shapes: x, y (N, C, H, W); n = local_size (odd, as Caffe requires).

Backward (y_i depends on x_j for every j in i's window; the window is symmetric so i is in j's window too):
    dx_j = dy_j * scale_j^(-beta) - (2 * alpha * beta / n) * x_j * sum_{i in window(j)} dy_i * y_i / scale_i

Fast path: the window sum is a sum of n shifted channel slices of x^2, computed once in forward and kept in the
cache so backward reuses scale instead of recomputing it; every step writes into its output array (out=, in
place) rather than into temporaries. GPU path (kernels/lrn.cu): one fused thread
per element computes its window sum, scale and output; backward likewise.
"""
from collections import namedtuple

import numpy as np

from minidream import kernels
from minidream.engine.backend import is_gpu
from minidream.engine.speed.parallel import for_blocks


def _check(local_size):
    if local_size < 1 or local_size % 2 == 0:
        raise ValueError(f"LRN local_size must be a positive odd number (Caffe's rule), got {local_size}")


def _window_sum(a, local_size, out):
    """out[:, c] = sum over channels c' in [c - (n-1)/2, c + (n-1)/2] of a[:, c'], zero outside [0, C).

    The terms are added in order of c', as a sum over a zero-padded copy would add them (adding a zero changes
    nothing), but without that copy: the window sum is a third of LRN's passes over memory.
    """
    half = (local_size - 1) // 2
    c = a.shape[1]
    out[:, :half] = 0  # the first term, a[:, c - half], is outside [0, C) there
    out[:, half:] = a[:, :max(c - half, 0)]
    for shift in range(1 - half, half + 1):
        lo, hi = max(0, -shift), min(c, c - shift)
        if lo < hi:  # a window wider than the channels: shifts by C or more reach no channel at all
            out[:, lo:hi] += a[:, lo + shift:hi + shift]
    return out


LRNCache = namedtuple("LRNCache", "path x y scale scale_pow local_size alpha beta")
LRNCache.__doc__ = """x, y and scale (N, C, H, W) from forward; scale_pow = scale^-beta on the CPU path (the power is its
costliest step, so backward reuses it), None on the GPU path (its fused kernel recomputes it in registers)."""


def forward(x, local_size=5, alpha=1e-4, beta=0.75, k=1.0):
    """Inputs: x (N, C, H, W) and Caffe's LRN parameters. Returns (y (N, C, H, W), LRNCache)."""
    _check(local_size)
    if is_gpu(x):
        run = kernels.launcher()
        x = run.contiguous(x)
        y, scale = run.empty(x.shape), run.empty(x.shape)
        run("lrn_forward", *kernels.grid_1d(x.size), x, y, scale, x.shape[0], x.shape[1],
            x.shape[2] * x.shape[3], local_size, alpha, beta, k)
        return y, LRNCache("gpu", x, y, scale, None, local_size, alpha, beta)
    scale, scale_pow, y = np.empty_like(x), np.empty_like(x), np.empty_like(x)

    def rows(r):  # channel windows never cross rows, so rows can be done apart (and in parallel)
        xr, scale_r = x[:, :, r], scale[:, :, r]
        square = np.multiply(xr, xr, out=y[:, :, r])  # y holds x^2 until the last line
        _window_sum(square, local_size, scale_r)
        scale_r *= alpha / local_size
        scale_r += k
        np.power(scale_r, -beta, out=scale_pow[:, :, r])
        np.multiply(xr, scale_pow[:, :, r], out=y[:, :, r])

    for_blocks(rows, x.shape[2], x.size)
    return y, LRNCache("cpu", x, y, scale, scale_pow, local_size, alpha, beta)


def backward(dy, cache):
    """Inputs: dy (N, C, H, W), the LRNCache of forward. Returns dx (N, C, H, W)."""
    x, y, scale, local_size, alpha, beta = cache.x, cache.y, cache.scale, cache.local_size, cache.alpha, cache.beta
    if cache.path == "gpu":
        run = kernels.launcher()
        dx = run.empty(x.shape)
        run("lrn_backward", *kernels.grid_1d(x.size), x, y, scale, run.contiguous(dy), dx, x.shape[0], x.shape[1],
            x.shape[2] * x.shape[3], local_size, alpha, beta)
        return dx
    scale_pow = cache.scale_pow
    dx = np.empty_like(dy)

    def rows(r):
        dy_r, dx_r = dy[:, :, r], dx[:, :, r]
        share = np.multiply(dy_r, y[:, :, r], out=dx_r)  # dx holds dy * y / scale until the last two lines
        share /= scale[:, :, r]
        ratio = _window_sum(share, local_size, np.empty(share.shape, dtype=share.dtype))
        ratio *= x[:, :, r]
        ratio *= 2.0 * alpha * beta / local_size
        np.multiply(dy_r, scale_pow[:, :, r], out=dx_r)
        dx_r -= ratio

    for_blocks(rows, dy.shape[2], dy.size)
    return dx


def forward_naive(x, local_size=5, alpha=1e-4, beta=0.75, k=1.0):
    _check(local_size)
    n, c = x.shape[:2]
    half = (local_size - 1) // 2
    scale = np.zeros_like(x)
    for i_c in range(c):
        window = x[:, max(0, i_c - half):min(c, i_c + half + 1)]
        scale[:, i_c] = k + alpha / local_size * np.sum(window ** 2, axis=1)
    scale_pow = scale ** -beta
    y = x * scale_pow
    return y, LRNCache("cpu", x, y, scale, scale_pow, local_size, alpha, beta)


def backward_naive(dy, cache):
    x, y, scale, local_size, alpha, beta = cache.x, cache.y, cache.scale, cache.local_size, cache.alpha, cache.beta
    c = x.shape[1]
    half = (local_size - 1) // 2
    dx = dy * scale ** -beta
    for j in range(c):
        for i in range(max(0, j - half), min(c, j + half + 1)):
            dx[:, j] -= 2.0 * alpha * beta / local_size * x[:, j] * dy[:, i] * y[:, i] / scale[:, i]
    return dx
