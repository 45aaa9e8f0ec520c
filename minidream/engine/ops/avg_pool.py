"""Average pooling (Caffe "Pooling", pool: AVE; ONNX AveragePool).

Shapes: x (N, C, H, W) -> y (N, C, OH, OW), OH from pool_shape.output_size: Caffe's ceil mode by default, ONNX's
floor or ceil mode with rounding="floor" / "ceil", and pads per side.

Formula. Only real pixels are summed; the divisor is the window's area clipped to a range per axis:
    y[n, c, i, j] = sum_{real pixels in window} x / (|rows clipped| * |cols clipped|)
count_include_pad=True (Caffe's rule, and PyTorch's and onnxruntime's for count_include_pad=1): the window rows
[i*sh - top, i*sh - top + KH) clipped to the padded input [-top, H + bottom) — the padding counts toward the divisor,
cells beyond it (from ceil mode) do not. count_include_pad=False (ONNX's default): clipped to the image [0, H).

Backward: every pixel in a window receives dy / divisor of that window.

The divisor is an outer product of per-axis counts. Textbook path: the zero-padded input read once per window
tap (u, v) as a strided view (im2col.tap), the views summed; backward adds dy / divisor into a padded dx through
every tap's view and cuts the border off. The fast engine's path (speed/avg_pool.py) sums the window in two
separable 1-D passes. GPU path (kernels/avg_pool.cu): one thread per output sums its window; backward gathers, one
thread per input pixel. Its divisor is Caffe's with symmetric pads: other divisors and pads of two sizes run the
textbook path on CuPy arrays.
"""
from collections import namedtuple

import numpy as np

from minidream import kernels
from minidream.engine import engines
from minidream.engine.backend import get_array_module, is_gpu
from minidream.engine.ops.im2col import tap
from minidream.engine.ops.pool_shape import (geometry, is_caffe_window, normalized_pad, output_hw, pad_pair, padded,
                                             padded_shape, unpadded)


def divisor(size, kernel, stride, pad, out, count_include_pad=True):
    """Per-output-index window length along one axis, clipped to the padded input [-begin, size + end) when the
    padding counts, else to the input [0, size)."""
    begin, end = pad_pair(pad)
    start = np.arange(out) * stride - begin
    low, high = (-begin, size + end) if count_include_pad else (0, size)
    return np.minimum(start + kernel, high) - np.maximum(start, low)


def window_divisor(x_shape, kernel, stride, pad, oh, ow, dtype, count_include_pad=True):
    _, _, h, w = x_shape
    rows = divisor(h, kernel[0], stride[0], pad[0], oh, count_include_pad)
    cols = divisor(w, kernel[1], stride[1], pad[1], ow, count_include_pad)
    return np.outer(rows, cols).astype(dtype)


AvgPoolCache = namedtuple("AvgPoolCache", "path x_shape kernel stride pad rounding count_include_pad")
AvgPoolCache.__doc__ = """Average pooling is linear: backward needs only the geometry (pad as normalized_pad gives it)
and which path made it: "textbook", "fast" or "gpu"."""


def forward(x, kernel, stride=(1, 1), pad=(0, 0), rounding="caffe", count_include_pad=True):
    """Inputs: x (N, C, H, W); kernel, stride (h, w) pairs; pad (h, w), each an int or a (begin, end) pair;
    rounding "caffe", "floor" or "ceil" (pool_shape); count_include_pad (the divisor rule above). Returns
    (y (N, C, OH, OW), AvgPoolCache).

    The GPU kernel takes any rounding with symmetric pads and Caffe's divisor, the fast engine Caffe's windows
    (pool_shape.is_caffe_window) and divisor; others take the textbook path, on CuPy arrays too."""
    cache = AvgPoolCache("textbook", x.shape, tuple(kernel), tuple(stride), normalized_pad(pad), rounding,
                         count_include_pad)
    caffe_divisor = count_include_pad and all(not isinstance(p, tuple) for p in cache.pad)
    if is_gpu(x) and caffe_divisor:
        run = kernels.launcher()
        dims = geometry(x.shape, kernel, stride, cache.pad, rounding)
        y = run.empty(x.shape[:2] + dims[-2:])
        run("avg_pool_forward", *kernels.grid_1d(y.size), run.contiguous(x), y, *dims)
        return y, cache._replace(path="gpu")
    fast = None if is_gpu(x) else engines.fast("avg_pool")
    if fast is not None and caffe_divisor and is_caffe_window(x.shape, kernel, stride, cache.pad, rounding, (1, 1)):
        return fast.forward(x, kernel, stride, cache.pad), cache._replace(path="fast")
    oh, ow = output_hw(x.shape, kernel, stride, cache.pad, rounding)
    xpad = padded(x, kernel, stride, cache.pad, 0.0, rounding)
    y = sum(tap(xpad, u, v, stride, (oh, ow)) for u, v in np.ndindex(*kernel))
    return y / _divisor(cache, oh, ow, x), cache


def _divisor(cache, oh, ow, like):
    """window_divisor of the cached pool, in the array module and dtype of `like`."""
    return get_array_module(like).asarray(window_divisor(cache.x_shape, cache.kernel, cache.stride, cache.pad, oh,
                                                         ow, like.dtype, cache.count_include_pad))


def backward(dy, cache):
    """Inputs: dy (N, C, OH, OW), the AvgPoolCache of forward. Returns dx (N, C, H, W)."""
    x_shape, kernel, stride, pad, rounding = cache.x_shape, cache.kernel, cache.stride, cache.pad, cache.rounding
    if cache.path == "gpu":
        run = kernels.launcher()
        dx = run.empty(x_shape)
        run("avg_pool_backward", *kernels.grid_1d(dx.size), run.contiguous(dy), dx,
            *geometry(x_shape, kernel, stride, pad, rounding))
        return dx
    if cache.path == "fast":
        return engines.speed("avg_pool").backward(dy, cache)
    share = dy / _divisor(cache, *dy.shape[2:], dy)
    dxpad = get_array_module(dy).zeros(x_shape[:2] + padded_shape(x_shape, kernel, stride, pad, rounding), dy.dtype)
    for u, v in np.ndindex(*kernel):  # every tap of a window receives the window's share
        tap(dxpad, u, v, stride, dy.shape[2:])[...] += share
    return unpadded(dxpad, x_shape, kernel, stride, pad, rounding)


def _naive_window(i, stride, kernel, pad, size, count_include_pad):
    """One axis of output i's window: (first real cell, end of real cells, divisor length)."""
    begin, end = pad_pair(pad)
    start = i * stride - begin
    low, high = (-begin, size + end) if count_include_pad else (0, size)
    return max(start, 0), min(start + kernel, size), min(start + kernel, high) - max(start, low)


def forward_naive(x, kernel, stride=(1, 1), pad=(0, 0), rounding="caffe", count_include_pad=True):
    n, c, h, w = x.shape
    oh, ow = output_hw(x.shape, kernel, stride, pad, rounding)
    y = np.zeros((n, c, oh, ow), dtype=x.dtype)
    for i, j in np.ndindex(oh, ow):
        r0, r1, rows = _naive_window(i, stride[0], kernel[0], pad[0], h, count_include_pad)
        c0, c1, cols = _naive_window(j, stride[1], kernel[1], pad[1], w, count_include_pad)
        y[:, :, i, j] = x[:, :, r0:r1, c0:c1].sum(axis=(2, 3)) / (rows * cols)
    return y, (x.shape, kernel, stride, pad, count_include_pad)


def backward_naive(dy, cache):
    x_shape, kernel, stride, pad, count_include_pad = cache
    dx = np.zeros(x_shape, dtype=dy.dtype)
    for i, j in np.ndindex(*dy.shape[2:]):
        r0, r1, rows = _naive_window(i, stride[0], kernel[0], pad[0], x_shape[2], count_include_pad)
        c0, c1, cols = _naive_window(j, stride[1], kernel[1], pad[1], x_shape[3], count_include_pad)
        dx[:, :, r0:r1, c0:c1] += dy[:, :, i:i + 1, j:j + 1] / (rows * cols)
    return dx
