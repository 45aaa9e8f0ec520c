"""Max pooling (Caffe "Pooling", pool: MAX).

Shapes: x (N, C, H, W) -> y (N, C, OH, OW), OH from pool_shape.output_size (ceil mode).

Formula: y[n, c, i, j] = max over the window rows [i*sh - ph, i*sh - ph + KH) ∩ [0, H), same for columns.
Windows are clipped to the real image: padding never wins (Caffe starts from -FLT_MAX and skips padding).
Ties go to the first maximum in row-major window order, as in Caffe's loop (strict '>').

Backward: the gradient flows only to the winner of each window,
    dx[n, c, argmax(i, j)] += dy[n, c, i, j].

Fast path: a 2-D max is a max of row maxima, so the window is done in two 1-D passes — first along each row
(KW views of the padded input's column phases, each phase one contiguous copy: pool_shape.padded_phases), then
down the columns of those row maxima (KH views) — remembering in small int8 arrays which tap won each pass.
Channels go in L2-sized pieces, so the ten or so passes over a piece read the cache, not main memory. Keeping the
first winner in each pass keeps Caffe's row-major tie rule. Backward retraces the two passes in reverse with KH + KW
adds (pool_shape.spread_rows, spread_columns) — no window tensor, no np.add.at — and writes the column phases
straight into dx (unpad_phases).
GPU path (kernels/max_pool.cu): one thread per output scans its window with the same strict '>' and keeps the
winner's flat index; backward gathers, one thread per input pixel.
"""
from collections import namedtuple

import numpy as np

from minidream import kernels
from minidream.engine.backend import is_gpu
from minidream.engine.speed.parallel import cache_pieces, for_blocks
from minidream.engine.ops.pool_shape import (column_taps, geometry, output_size, padded_phases, padded_shape, row_taps,
                                         spread_columns, spread_rows, unpad_phases)


def _running_max(views, best, winner):
    """Max over the tap views into `best`, and into `winner` the first view reaching it (ties: the earlier tap)."""
    if len(views) == 1:
        best[...], winner[...] = views[0], 0
        return
    np.greater(views[1], views[0], out=winner.view(np.bool_))  # tap 1 wins only where strictly greater: 1, else 0
    np.maximum(views[0], views[1], out=best)
    for t, candidate in enumerate(views[2:], 2):
        # winner = t where candidate > best, else unchanged. Taps only grow, so a max does it — arithmetic
        # instead of a masked copy, whose branches on a random mask cost ~20x more.
        np.maximum(winner, (candidate > best) * np.int8(t), out=winner)
        np.maximum(best, candidate, out=best)


MaxPoolCache = namedtuple("MaxPoolCache", "path x_shape kernel stride pad winners")
MaxPoolCache.__doc__ = """path "cpu": winners = (row_winner (N, C, OH, OW), col_winner (N, C, Hpad, OW)), int8 tap
indices of the two separable passes. path "gpu": winners = argmax (N, C, OH, OW), int32 flat index h*W + w of each
window's winner in its plane. Both name the same pixel: the first maximum in row-major window order."""


def forward(x, kernel, stride=(1, 1), pad=(0, 0)):
    """Inputs: x (N, C, H, W); kernel, stride, pad (h, w) pairs. Returns (y (N, C, OH, OW), MaxPoolCache)."""
    if is_gpu(x):
        return _forward_gpu(x, kernel, stride, pad)
    (kh, kw), (sh, sw) = kernel, stride
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, sh, pad[0]), output_size(w, kw, sw, pad[1])
    pad_h, _ = padded_shape(x.shape, kernel, stride, pad)
    y = np.empty((n, c, oh, ow), dtype=x.dtype)
    row_winner = np.empty((n, c, oh, ow), dtype=np.int8)
    col_winner = np.empty((n, c, pad_h, ow), dtype=np.int8)

    def channels(block):
        for ch in cache_pieces(block, n * h * w):
            phases, _, _ = padded_phases(x[:, ch], kernel, stride, pad, -np.inf)
            row_max = np.empty(phases[0].shape[:3] + (ow,), dtype=x.dtype)
            _running_max(column_taps(phases, sw, kw, ow), row_max, col_winner[:, ch])  # along rows: (N, C, Hpad, OW)
            _running_max(row_taps(row_max, kh, sh, oh), y[:, ch], row_winner[:, ch])   # then down the columns

    for_blocks(channels, c, x.size)
    return y, MaxPoolCache("cpu", x.shape, tuple(kernel), tuple(stride), tuple(pad), (row_winner, col_winner))


def backward(dy, cache):
    """Inputs: dy (N, C, OH, OW), the MaxPoolCache of forward. Returns dx (N, C, H, W)."""
    if cache.path == "gpu":
        return _backward_gpu(dy, cache)
    x_shape, kernel, stride, pad = cache.x_shape, cache.kernel, cache.stride, cache.pad
    row_winner, col_winner = cache.winners
    (kh, kw), (sh, sw) = kernel, stride
    pad_h, pad_w = padded_shape(x_shape, kernel, stride, pad)
    ow = dy.shape[3]
    dx = np.empty(x_shape, dtype=dy.dtype)

    def channels(block):  # the two passes of forward in reverse: each gradient goes to the tap that won
        for ch in cache_pieces(block, x_shape[0] * x_shape[2] * x_shape[3]):
            d_row, winner = dy[:, ch], row_winner[:, ch]
            d_row_max = spread_rows(d_row.shape[:2] + (pad_h, ow), sh, (d_row * (winner == t) for t in range(kh)),
                                    dy.dtype)
            winner = col_winner[:, ch]
            d_phases = spread_columns(d_row_max.shape[:3] + (pad_w,), sw, kw,
                                      (d_row_max * (winner == t) for t in range(kw)), dy.dtype)
            unpad_phases(d_phases, x_shape, kernel, stride, pad, dx[:, ch])

    for_blocks(channels, x_shape[1], dy.size)
    return dx


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
