"""Average pooling (Caffe "Pooling", pool: AVE).

Shapes: x (N, C, H, W) -> y (N, C, OH, OW), OH from pool_shape.output_size (ceil mode).

Formula (Caffe's divisor rule): a window spans rows [i*sh - ph, i*sh - ph + KH) clipped to [-ph, H + ph) — the
padded border counts toward the divisor, cells beyond it (from ceil mode) do not — but only real pixels are
summed:
    y[n, c, i, j] = sum_{real pixels in window} x / (|rows clipped to [-ph, H+ph)| * |cols clipped likewise|)

Backward: every pixel in a window receives dy / divisor of that window.

Fast path: the divisor is an outer product of per-axis counts, and the window sum is separable: sum KW strided
views along the rows of the zero-padded input, then KH views down the columns. Backward spreads dy/divisor back
through the same two passes in reverse. GPU path (kernels/avg_pool.cu): one thread per output sums its window;
backward gathers, one thread per input pixel.
"""
from collections import namedtuple

import numpy as np

from minidream import kernels
from minidream.engine.backend import is_gpu
from minidream.engine.ops.pool_shape import (column_taps, geometry, output_size, padded_phases, padded_shape, row_taps,
                                         spread_columns, spread_rows, unpad_phases)


def divisor(size, kernel, stride, pad, out):
    """Per-output-index window length along one axis, clipped to the padded border [-pad, size + pad)."""
    start = np.arange(out) * stride - pad
    return np.minimum(start + kernel, size + pad) - start


def _window_divisor(x_shape, kernel, stride, pad, oh, ow, dtype):
    _, _, h, w = x_shape
    rows = divisor(h, kernel[0], stride[0], pad[0], oh)
    cols = divisor(w, kernel[1], stride[1], pad[1], ow)
    return np.outer(rows, cols).astype(dtype)


AvgPoolCache = namedtuple("AvgPoolCache", "path x_shape kernel stride pad")
AvgPoolCache.__doc__ = """Average pooling is linear: backward needs only the geometry (and which path made it)."""


def forward(x, kernel, stride=(1, 1), pad=(0, 0)):
    """Inputs: x (N, C, H, W); kernel, stride, pad (h, w) pairs. Returns (y (N, C, OH, OW), AvgPoolCache)."""
    cache = AvgPoolCache("gpu" if is_gpu(x) else "cpu", x.shape, tuple(kernel), tuple(stride), tuple(pad))
    if cache.path == "gpu":
        run = kernels.launcher()
        dims = geometry(x.shape, kernel, stride, pad)
        y = run.empty(x.shape[:2] + dims[-2:])
        run("avg_pool_forward", *kernels.grid_1d(y.size), run.contiguous(x), y, *dims)
        return y, cache
    (kh, kw), (sh, sw) = kernel, stride
    phases, oh, ow = padded_phases(x, kernel, stride, pad, 0.0)
    row_sum = _tap_sum(column_taps(phases, sw, kw, ow))   # (N, C, Hpad, OW)
    y = _tap_sum(row_taps(row_sum, kh, sh, oh))           # (N, C, OH, OW)
    y /= _window_divisor(x.shape, kernel, stride, pad, oh, ow, x.dtype)
    return y, cache


def backward(dy, cache):
    """Inputs: dy (N, C, OH, OW), the AvgPoolCache of forward. Returns dx (N, C, H, W)."""
    x_shape, (kh, kw), (sh, sw), pad = cache.x_shape, cache.kernel, cache.stride, cache.pad
    if cache.path == "gpu":
        run = kernels.launcher()
        dx = run.empty(x_shape)
        run("avg_pool_backward", *kernels.grid_1d(dx.size), run.contiguous(dy), dx,
            *geometry(x_shape, cache.kernel, cache.stride, pad))
        return dx
    oh, ow = dy.shape[2:]
    pad_h, pad_w = padded_shape(x_shape, cache.kernel, cache.stride, pad)
    share = dy / _window_divisor(x_shape, (kh, kw), (sh, sw), pad, oh, ow, dy.dtype)
    # The adjoint of the two sums, in reverse: every tap of a window receives the window's gradient.
    d_row_sum = spread_rows(share.shape[:2] + (pad_h, ow), sh, (share for _ in range(kh)), dy.dtype)
    d_phases = spread_columns(d_row_sum.shape[:3] + (pad_w,), sw, kw, (d_row_sum for _ in range(kw)), dy.dtype)
    return unpad_phases(d_phases, x_shape, cache.kernel, cache.stride, pad, np.empty(x_shape, dtype=dy.dtype))


def _tap_sum(views):
    total = views[0].copy()
    for view in views[1:]:
        total += view
    return total


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
