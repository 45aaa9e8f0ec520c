"""Average pooling (Caffe "Pooling", pool: AVE).

Shapes: x (N, C, H, W) -> y (N, C, OH, OW), OH from pool_shape.output_size (ceil mode).

Formula (Caffe's divisor rule): a window spans rows [i*sh - ph, i*sh - ph + KH) clipped to [-ph, H + ph) — the
padded border counts toward the divisor, cells beyond it (from ceil mode) do not — but only real pixels are
summed:
    y[n, c, i, j] = sum_{real pixels in window} x / (|rows clipped to [-ph, H+ph)| * |cols clipped likewise|)

Backward: every pixel in a window receives dy / divisor of that window.

The divisor is an outer product of per-axis counts. Textbook path: the zero-padded input read once per window
tap (u, v) as a strided view (im2col.tap), the views summed; backward adds dy / divisor into a padded dx through
every tap's view and cuts the border off. The fast engine's path (speed/avg_pool.py) sums the window in two
separable 1-D passes. GPU path (kernels/avg_pool.cu): one thread per output sums its window; backward gathers, one
thread per input pixel.
"""
from collections import namedtuple

import numpy as np

from minidream import kernels
from minidream.engine import engines
from minidream.engine.backend import is_gpu
from minidream.engine.ops.im2col import tap
from minidream.engine.ops.pool_shape import geometry, output_hw, output_size, padded, padded_shape, unpadded


def divisor(size, kernel, stride, pad, out):
    """Per-output-index window length along one axis, clipped to the padded border [-pad, size + pad)."""
    start = np.arange(out) * stride - pad
    return np.minimum(start + kernel, size + pad) - start


def window_divisor(x_shape, kernel, stride, pad, oh, ow, dtype):
    _, _, h, w = x_shape
    rows = divisor(h, kernel[0], stride[0], pad[0], oh)
    cols = divisor(w, kernel[1], stride[1], pad[1], ow)
    return np.outer(rows, cols).astype(dtype)


AvgPoolCache = namedtuple("AvgPoolCache", "path x_shape kernel stride pad")
AvgPoolCache.__doc__ = """Average pooling is linear: backward needs only the geometry (and which path made it:
"textbook", "fast" or "gpu")."""


def forward(x, kernel, stride=(1, 1), pad=(0, 0)):
    """Inputs: x (N, C, H, W); kernel, stride, pad (h, w) pairs. Returns (y (N, C, OH, OW), AvgPoolCache)."""
    cache = AvgPoolCache("gpu" if is_gpu(x) else "textbook", x.shape, tuple(kernel), tuple(stride), tuple(pad))
    if cache.path == "gpu":
        run = kernels.launcher()
        dims = geometry(x.shape, kernel, stride, pad)
        y = run.empty(x.shape[:2] + dims[-2:])
        run("avg_pool_forward", *kernels.grid_1d(y.size), run.contiguous(x), y, *dims)
        return y, cache
    fast = engines.fast("avg_pool")
    if fast is not None:
        return fast.forward(x, kernel, stride, pad), cache._replace(path="fast")
    oh, ow = output_hw(x.shape, kernel, stride, pad)
    xpad = padded(x, kernel, stride, pad, 0.0)
    y = sum(tap(xpad, u, v, stride, (oh, ow)) for u, v in np.ndindex(*kernel))
    return y / window_divisor(x.shape, kernel, stride, pad, oh, ow, x.dtype), cache


def backward(dy, cache):
    """Inputs: dy (N, C, OH, OW), the AvgPoolCache of forward. Returns dx (N, C, H, W)."""
    x_shape, kernel, stride, pad = cache.x_shape, cache.kernel, cache.stride, cache.pad
    if cache.path == "gpu":
        run = kernels.launcher()
        dx = run.empty(x_shape)
        run("avg_pool_backward", *kernels.grid_1d(dx.size), run.contiguous(dy), dx, *geometry(x_shape, kernel, stride,
                                                                                              pad))
        return dx
    if cache.path == "fast":
        return engines.speed("avg_pool").backward(dy, cache)
    share = dy / window_divisor(x_shape, kernel, stride, pad, *dy.shape[2:], dy.dtype)
    dxpad = np.zeros(x_shape[:2] + padded_shape(x_shape, kernel, stride, pad), dtype=dy.dtype)
    for u, v in np.ndindex(*kernel):  # every tap of a window receives the window's share
        tap(dxpad, u, v, stride, dy.shape[2:])[...] += share
    return unpadded(dxpad, x_shape, kernel, stride, pad)


def forward_naive(x, kernel, stride=(1, 1), pad=(0, 0)):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    oh, ow = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
    y = np.zeros((n, c, oh, ow), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * sh - ph, j * sw - pw
            r1, c1 = min(r0 + kh, h + ph), min(c0 + kw, w + pw)
            count = (r1 - r0) * (c1 - c0)
            window = x[:, :, max(r0, 0):min(r1, h), max(c0, 0):min(c1, w)]
            y[:, :, i, j] = window.sum(axis=(2, 3)) / count
    return y, (x.shape, kernel, stride, pad)


def backward_naive(dy, cache):
    x_shape, (kh, kw), (sh, sw), (ph, pw) = cache
    _, _, h, w = x_shape
    dx = np.zeros(x_shape, dtype=dy.dtype)
    oh, ow = dy.shape[2:]
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * sh - ph, j * sw - pw
            r1, c1 = min(r0 + kh, h + ph), min(c0 + kw, w + pw)
            count = (r1 - r0) * (c1 - c0)
            dx[:, :, max(r0, 0):min(r1, h), max(c0, 0):min(c1, w)] += dy[:, :, i:i + 1, j:j + 1] / count
    return dx
