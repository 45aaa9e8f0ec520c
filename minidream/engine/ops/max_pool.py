"""Max pooling (Caffe "Pooling", pool: MAX; ONNX MaxPool).

Shapes: x (N, C, H, W) -> y (N, C, OH, OW), OH from pool_shape.output_size: Caffe's ceil mode by default, ONNX's
floor or ceil mode with rounding="floor" / "ceil", pads per side and dilation d.

Formula: y[n, c, i, j] = max over the window rows {i*sh - top + u*dh : u < KH} ∩ [0, H), same for columns.
Windows are clipped to the real image: padding never wins (Caffe starts from -FLT_MAX and skips padding; ONNX pads
max pooling with -inf). Ties go to the first maximum in row-major window order, as in Caffe's loop (strict '>').

Backward: the gradient flows only to the winner of each window,
    dx[n, c, argmax(i, j)] += dy[n, c, i, j].

Textbook path: the padded input (a border of -inf: padding never wins) read once per window tap (u, v) as a
strided view (im2col.tap), the KH*KW views stacked, and argmax over them: its first maximum is Caffe's tie rule.
Backward adds dy * (winner == t) into a padded dx through tap t's view, tap by tap, and cuts the border off.
The fast engine's path (speed/max_pool.py) runs the window as two separable 1-D passes in cache-sized pieces.
GPU path (kernels/max_pool.cu): one thread per output scans its window with the same strict '>' and keeps the
winner's flat index; backward gathers, one thread per input pixel. The kernel has no dilation and clips windows to
symmetric pads: dilated pools and pools with pads of two sizes run the textbook path on CuPy arrays.
"""
from collections import namedtuple

import numpy as np

from minidream import kernels
from minidream.engine import engines
from minidream.engine.backend import get_array_module, is_gpu
from minidream.engine.ops.im2col import tap
from minidream.engine.ops.pool_shape import (geometry, is_caffe_window, normalized_pad, output_hw, pad_pair, padded,
                                             padded_shape, unpadded)

MaxPoolCache = namedtuple("MaxPoolCache", "path x_shape kernel stride pad rounding dilation winners")
MaxPoolCache.__doc__ = """The geometry (pad as normalized_pad gives it) and the winners. path "textbook": winners = the
tap t = u*KW + v of each window's winner (N, C, OH, OW). path "gpu": winners = (N, C, OH, OW) int32 flat index
h*W + w of each window's winner in its plane. path "fast": the int8 tap indices of speed/max_pool.py's two separable
passes. All name the same pixel: the first maximum in row-major window order."""


def _window(cache):
    """kernel, stride, pad, rounding, dilation: the arguments of the pool_shape functions after x_shape."""
    return cache.kernel, cache.stride, cache.pad, cache.rounding, cache.dilation


def forward(x, kernel, stride=(1, 1), pad=(0, 0), rounding="caffe", dilation=(1, 1)):
    """Inputs: x (N, C, H, W); kernel, stride, dilation (h, w) pairs; pad (h, w), each an int or a (begin, end)
    pair; rounding "caffe", "floor" or "ceil" (pool_shape). Returns (y (N, C, OH, OW), MaxPoolCache).

    The GPU kernel takes any rounding with symmetric pads and no dilation, the fast engine Caffe's windows
    (pool_shape.is_caffe_window); other windows take the textbook path, on CuPy arrays too."""
    cache = MaxPoolCache("textbook", x.shape, tuple(kernel), tuple(stride), normalized_pad(pad), rounding,
                         tuple(dilation), None)
    window = _window(cache)
    if is_gpu(x) and all(not isinstance(p, tuple) for p in cache.pad) and cache.dilation == (1, 1):
        return _forward_gpu(x, cache)
    fast = None if is_gpu(x) else engines.fast("max_pool")
    if fast is not None and is_caffe_window(x.shape, *window):
        y, winners = fast.forward(x, kernel, stride, cache.pad)
        return y, cache._replace(path="fast", winners=winners)
    xp, (dh, dw) = get_array_module(x), cache.dilation
    out_size = output_hw(x.shape, *window)
    xpad = padded(x, kernel, stride, cache.pad, -np.inf, rounding, cache.dilation)
    # (KH*KW, N, C, OH, OW)
    taps = xp.stack([tap(xpad, u * dh, v * dw, stride, out_size) for u, v in np.ndindex(*kernel)])
    winners = taps.argmax(axis=0)  # the first maximum: Caffe's strict '>' in row-major window order
    return xp.take_along_axis(taps, winners[None], 0)[0], cache._replace(winners=winners)


def backward(dy, cache):
    """Inputs: dy (N, C, OH, OW), the MaxPoolCache of forward. Returns dx (N, C, H, W)."""
    if cache.path == "gpu":
        return _backward_gpu(dy, cache)
    if cache.path == "fast":
        return engines.speed("max_pool").backward(dy, cache)
    dh, dw = cache.dilation
    dxpad = get_array_module(dy).zeros(cache.x_shape[:2] + padded_shape(cache.x_shape, *_window(cache)), dy.dtype)
    for t, (u, v) in enumerate(np.ndindex(*cache.kernel)):  # each window's gradient to the tap that won it
        tap(dxpad, u * dh, v * dw, cache.stride, dy.shape[2:])[...] += dy * (cache.winners == t)
    return unpadded(dxpad, cache.x_shape, *_window(cache))


def _forward_gpu(x, cache):
    """kernels/max_pool.cu: one thread per output scans its window and records the winner's index. The kernel
    clips windows to the image and takes OH, OW from the caller, so every rounding is the same kernel."""
    run = kernels.launcher()
    x = run.contiguous(x)
    dims = geometry(x.shape, cache.kernel, cache.stride, cache.pad, cache.rounding)
    shape = x.shape[:2] + dims[-2:]
    y, argmax = run.empty(shape), run.empty(shape, np.int32)
    run("max_pool_forward", *kernels.grid_1d(y.size), x, y, argmax, *dims)
    return y, cache._replace(path="gpu", winners=argmax)


def _backward_gpu(dy, cache):
    """One thread per input pixel gathers dy from the windows whose winner it is (no atomics)."""
    run = kernels.launcher()
    dx = run.empty(cache.x_shape)
    run("max_pool_backward", *kernels.grid_1d(dx.size), run.contiguous(dy), cache.winners, dx,
        *geometry(cache.x_shape, cache.kernel, cache.stride, cache.pad, cache.rounding))
    return dx


def forward_naive(x, kernel, stride=(1, 1), pad=(0, 0), rounding="caffe", dilation=(1, 1)):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    (top, _), (left, _) = map(pad_pair, pad)
    oh, ow = output_hw(x.shape, kernel, stride, pad, rounding, dilation)
    y = np.zeros((n, c, oh, ow), dtype=x.dtype)
    argmax = np.zeros((n, c, oh, ow, 2), dtype=np.int64)
    for i_n, i_c, i, j in np.ndindex(n, c, oh, ow):
        best = -np.inf
        for u, v in np.ndindex(kh, kw):
            r, q = i * sh - top + u * dh, j * sw - left + v * dw
            if 0 <= r < h and 0 <= q < w and x[i_n, i_c, r, q] > best:
                best, argmax[i_n, i_c, i, j] = x[i_n, i_c, r, q], (r, q)
        y[i_n, i_c, i, j] = best
    return y, (x.shape, argmax)


def backward_naive(dy, cache):
    x_shape, argmax = cache
    dx = np.zeros(x_shape, dtype=dy.dtype)
    for i_n, i_c, i, j in np.ndindex(*dy.shape):
        r, q = argmax[i_n, i_c, i, j]
        dx[i_n, i_c, r, q] += dy[i_n, i_c, i, j]
    return dx
