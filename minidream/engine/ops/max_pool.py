"""Max pooling (Caffe "Pooling", pool: MAX).

Shapes: x (N, C, H, W) -> y (N, C, OH, OW), OH from pool_shape.output_size (ceil mode).

Formula: y[n, c, i, j] = max over the window rows [i*sh - ph, i*sh - ph + KH) ∩ [0, H), same for columns.
Windows are clipped to the real image: padding never wins (Caffe starts from -FLT_MAX and skips padding).
Ties go to the first maximum in row-major window order, as in Caffe's loop (strict '>').

Backward: the gradient flows only to the winner of each window,
    dx[n, c, argmax(i, j)] += dy[n, c, i, j].

Textbook path: the padded input (a border of -inf: padding never wins) read once per window tap (u, v) as a
strided view (im2col.tap), the KH*KW views stacked, and argmax over them: its first maximum is Caffe's tie rule.
Backward adds dy * (winner == t) into a padded dx through tap t's view, tap by tap, and cuts the border off.
The fast engine's path (speed/max_pool.py) runs the window as two separable 1-D passes in cache-sized pieces.
GPU path (kernels/max_pool.cu): one thread per output scans its window with the same strict '>' and keeps the
winner's flat index; backward gathers, one thread per input pixel.
"""
from collections import namedtuple

import numpy as np

from minidream import kernels
from minidream.engine import engines
from minidream.engine.backend import is_gpu
from minidream.engine.ops.im2col import tap
from minidream.engine.ops.pool_shape import geometry, output_hw, output_size, padded, padded_shape, unpadded

MaxPoolCache = namedtuple("MaxPoolCache", "path x_shape kernel stride pad winners")
MaxPoolCache.__doc__ = """path "textbook": winners = the tap t = u*KW + v of each window's winner (N, C, OH, OW).
path "gpu": winners = (N, C, OH, OW) int32 flat index h*W + w of each window's winner in its plane. path "fast": the
int8 tap indices of speed/max_pool.py's two separable passes. All name the same pixel: the first maximum in
row-major window order."""


def forward(x, kernel, stride=(1, 1), pad=(0, 0)):
    """Inputs: x (N, C, H, W); kernel, stride, pad (h, w) pairs. Returns (y (N, C, OH, OW), MaxPoolCache)."""
    if is_gpu(x):
        return _forward_gpu(x, kernel, stride, pad)
    cache = MaxPoolCache("textbook", x.shape, tuple(kernel), tuple(stride), tuple(pad), None)
    fast = engines.fast("max_pool")
    if fast is not None:
        y, winners = fast.forward(x, kernel, stride, pad)
        return y, cache._replace(path="fast", winners=winners)
    out_size = output_hw(x.shape, kernel, stride, pad)
    xpad = padded(x, kernel, stride, pad, -np.inf)
    taps = np.stack([tap(xpad, u, v, stride, out_size) for u, v in np.ndindex(*kernel)])  # (KH*KW, N, C, OH, OW)
    winners = taps.argmax(axis=0)  # the first maximum: Caffe's strict '>' in row-major window order
    return np.take_along_axis(taps, winners[None], 0)[0], cache._replace(winners=winners)


def backward(dy, cache):
    """Inputs: dy (N, C, OH, OW), the MaxPoolCache of forward. Returns dx (N, C, H, W)."""
    if cache.path == "gpu":
        return _backward_gpu(dy, cache)
    if cache.path == "fast":
        return engines.speed("max_pool").backward(dy, cache)
    dxpad = np.zeros(cache.x_shape[:2] + padded_shape(cache.x_shape, cache.kernel, cache.stride, cache.pad), dy.dtype)
    for t, (u, v) in enumerate(np.ndindex(*cache.kernel)):  # each window's gradient to the tap that won it
        tap(dxpad, u, v, cache.stride, dy.shape[2:])[...] += dy * (cache.winners == t)
    return unpadded(dxpad, cache.x_shape, cache.kernel, cache.stride, cache.pad)


def _forward_gpu(x, kernel, stride, pad):
    """kernels/max_pool.cu: one thread per output scans its window and records the winner's index."""
    run = kernels.launcher()
    x = run.contiguous(x)
    dims = geometry(x.shape, kernel, stride, pad)
    shape = x.shape[:2] + dims[-2:]
    y, argmax = run.empty(shape), run.empty(shape, np.int32)
    run("max_pool_forward", *kernels.grid_1d(y.size), x, y, argmax, *dims)
    return y, MaxPoolCache("gpu", x.shape, tuple(kernel), tuple(stride), tuple(pad), argmax)


def _backward_gpu(dy, cache):
    """One thread per input pixel gathers dy from the windows whose winner it is (no atomics)."""
    run = kernels.launcher()
    dx = run.empty(cache.x_shape)
    run("max_pool_backward", *kernels.grid_1d(dx.size), run.contiguous(dy), cache.winners, dx,
        *geometry(cache.x_shape, cache.kernel, cache.stride, cache.pad))
    return dx


def forward_naive(x, kernel, stride=(1, 1), pad=(0, 0)):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    oh, ow = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
    y = np.zeros((n, c, oh, ow), dtype=x.dtype)
    argmax = np.zeros((n, c, oh, ow, 2), dtype=np.int64)
    for i_n in range(n):
        for i_c in range(c):
            for i in range(oh):
                for j in range(ow):
                    r0, c0 = max(i * sh - ph, 0), max(j * sw - pw, 0)
                    r1, c1 = min(i * sh - ph + kh, h), min(j * sw - pw + kw, w)
                    best = -np.inf
                    for r in range(r0, r1):
                        for q in range(c0, c1):
                            if x[i_n, i_c, r, q] > best:
                                best, argmax[i_n, i_c, i, j] = x[i_n, i_c, r, q], (r, q)
                    y[i_n, i_c, i, j] = best
    return y, (x.shape, argmax)


def backward_naive(dy, cache):
    x_shape, argmax = cache
    dx = np.zeros(x_shape, dtype=dy.dtype)
    n, c, oh, ow = dy.shape
    for i_n in range(n):
        for i_c in range(c):
            for i in range(oh):
                for j in range(ow):
                    r, q = argmax[i_n, i_c, i, j]
                    dx[i_n, i_c, r, q] += dy[i_n, i_c, i, j]
    return dx
