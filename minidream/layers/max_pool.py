"""Max pooling (Caffe "Pooling", pool: MAX).

Shapes: x (N, C, H, W) -> y (N, C, OH, OW), OH from pool_shape.output_size (ceil mode).

Formula: y[n, c, i, j] = max over the window rows [i*sh - ph, i*sh - ph + KH) ∩ [0, H), same for columns.
Windows are clipped to the real image: padding never wins (Caffe initializes with -FLT_MAX and skips padding).
Ties go to the first maximum in row-major window order, as in Caffe's loop (strict '>').

Backward: the gradient flows only to the winner of each window,
    dx[n, c, argmax(i, j)] += dy[n, c, i, j].

Fast path: instead of building a window tensor, compare KH*KW strided views of the padded input, keeping the
running max and a compact int8 tap index (u*KW + v) of the winner; backward adds dy where the index matches, one
strided view at a time — no np.add.at.
"""
import numpy as np

from minidream.backend import is_gpu
from minidream.layers.pool_shape import output_size, padded_extent


def _padded(x, kh, kw, stride, pad, fill):
    n, c, h, w = x.shape
    oh, top, bottom = padded_extent(h, kh, stride[0], pad[0])
    ow, left, right = padded_extent(w, kw, stride[1], pad[1])
    xpad = np.full((n, c, h + top + bottom, w + left + right), fill, dtype=x.dtype)
    xpad[:, :, top:top + h, left:left + w] = x
    return xpad, oh, ow


def _tap(u, v, stride, oh, ow):
    return (Ellipsis, slice(u, u + (oh - 1) * stride[0] + 1, stride[0]),
            slice(v, v + (ow - 1) * stride[1] + 1, stride[1]))


def forward(x, kernel, stride=(1, 1), pad=(0, 0)):
    if is_gpu(x):
        from kernels import ops

        return ops.max_pool_forward(x, kernel, stride, pad)
    kh, kw = kernel
    xpad, oh, ow = _padded(x, kh, kw, stride, pad, -np.inf)
    y = xpad[_tap(0, 0, stride, oh, ow)].copy()
    tap = np.zeros(y.shape, dtype=np.int8 if kh * kw < 128 else np.int32)
    for u in range(kh):
        for v in range(kw):
            if u == v == 0:
                continue
            window = xpad[_tap(u, v, stride, oh, ow)]
            wins = window > y
            np.copyto(y, window, where=wins)
            np.copyto(tap, u * kw + v, where=wins)
    return y, (x.shape, kernel, stride, pad, tap)


def backward(dy, cache):
    if is_gpu(dy):
        from kernels import ops

        return ops.max_pool_backward(dy, cache)
    x_shape, (kh, kw), stride, pad, tap = cache
    n, c, h, w = x_shape
    oh, ow = dy.shape[2:]
    _, top, bottom = padded_extent(h, kh, stride[0], pad[0])
    _, left, right = padded_extent(w, kw, stride[1], pad[1])
    dxpad = np.zeros((n, c, h + top + bottom, w + left + right), dtype=dy.dtype)
    for u in range(kh):
        for v in range(kw):
            dxpad[_tap(u, v, stride, oh, ow)] += np.where(tap == u * kw + v, dy, 0)
    return dxpad[:, :, top:top + h, left:left + w]


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
