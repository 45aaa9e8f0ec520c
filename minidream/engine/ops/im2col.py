"""im2col and col2im: a convolution's receptive fields copied into columns, and the columns added back (its adjoint).

    x (N, C, H, W) -> col (N, C*KH*KW, OH*OW),  row c*KH*KW + u*KW + v, column i*OW + j holds
                                                xpad[c, i*sh + u*dh, j*sw + v*dw]   (dilation (dh, dw), ONNX's)

With the columns a convolution is one matrix product per group (ops/conv.py), and a deconvolution the same
products transposed (ops/deconvolution.py). Textbook path: one strided copy per filter tap (u, v). GPU:
kernels/im2col.cu and col2im.cu. The fast engine's copies, split over the cores, are speed/im2col.py. A 1x1,
stride-1, unpadded convolution needs no columns: they are the input pixels themselves. Only the textbook copies
dilate: a dilated convolution takes them on every engine, and on CuPy arrays too (im2col.cu has no dilation).

The column ops take their pieces (the copies and the matrix product) as one Columns, picked by columns_for(x) and
recorded by path in their caches, so that backward uses the pieces forward used.
"""
from collections import namedtuple
from functools import partial

import numpy as np

from minidream import kernels
from minidream.engine import engines
from minidream.engine.backend import get_array_module, is_gpu


def output_size(size, kernel, stride, pad, dilation=1):
    """Caffe's convolution output size, floor((size + 2*pad - kernel) / stride) + 1, with ONNX's dilation d: the
    kernel spans (kernel - 1)*d + 1 cells."""
    return (size + 2 * pad - (kernel - 1) * dilation - 1) // stride + 1


def check_groups(count, groups, what):
    """The group rule of convolution and deconvolution (Caffe's too): `count` channels or filters split evenly into
    `groups` groups; ValueError otherwise. The layer types check files with it, the ops their arrays."""
    if count % groups:
        raise ValueError(f"its {count} {what} do not divide into {groups} groups")


def is_pointwise(kh, kw, stride, pad):
    """A 1x1, stride-1, unpadded convolution: its im2col columns are the input pixels themselves."""
    return kh == kw == 1 and tuple(stride) == (1, 1) and tuple(pad) == (0, 0)


def tap(a, u, v, stride, out_size):
    """The view of a (N, C, rows, columns) that tap (u, v) of every window reads: a[:, :, i*sh + u, j*sw + v] for
    i < OH, j < OW. Pooling reads its windows through the same views."""
    (sh, sw), (oh, ow) = stride, out_size
    return a[:, :, u:u + sh * (oh - 1) + 1:sh, v:v + sw * (ow - 1) + 1:sw]


def _out_size(h, w, kh, kw, stride, pad, dilation):
    return tuple(output_size(*axis) for axis in zip((h, w), (kh, kw), stride, pad, dilation))


def im2col(x, kh, kw, stride, pad, dilation=(1, 1)):
    """x (N, C, H, W) -> col (N, C*KH*KW, OH*OW); row c*KH*KW + u*KW + v holds xpad[c, i*sh + u*dh, j*sw + v*dw]."""
    n, c, h, w = x.shape
    if is_pointwise(kh, kw, stride, pad):
        return x.reshape(n, c, h * w)
    xp, (ph, pw), (dh, dw) = get_array_module(x), pad, dilation
    out_size = _out_size(h, w, kh, kw, stride, pad, dilation)
    xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    col = xp.empty((n, c, kh, kw) + out_size, dtype=x.dtype)
    for u, v in np.ndindex(kh, kw):
        col[:, :, u, v] = tap(xpad, u * dh, v * dw, stride, out_size)
    return col.reshape(n, c * kh * kw, -1)


def col2im(col, x_shape, kh, kw, stride, pad, dilation=(1, 1)):
    """The adjoint of im2col: add the columns (N, C*KH*KW, OH*OW) back into dx (N, C, H, W), tap by tap."""
    n, c, h, w = x_shape
    if is_pointwise(kh, kw, stride, pad):
        return col.reshape(x_shape)
    (ph, pw), (dh, dw), out_size = pad, dilation, _out_size(h, w, kh, kw, stride, pad, dilation)
    col = col.reshape((n, c, kh, kw) + out_size)
    dxpad = get_array_module(col).zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=col.dtype)
    for u, v in np.ndindex(kh, kw):
        tap(dxpad, u * dh, v * dw, stride, out_size)[...] += col[:, :, u, v]
    return dxpad[:, :, ph:ph + h, pw:pw + w]


def _geometry(x_shape, kh, kw, stride, pad):
    """The ints im2col.cu / col2im.cu take: N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW."""
    n, c, h, w = x_shape
    return (n, c, h, w, kh, kw, *stride, *pad, output_size(h, kh, stride[0], pad[0]),
            output_size(w, kw, stride[1], pad[1]))


def im2col_gpu(x, kh, kw, stride, pad):
    """im2col on the GPU (kernels/im2col.cu): one thread per (n, c, oh, ow) copies its window."""
    n, c = x.shape[:2]
    if is_pointwise(kh, kw, stride, pad):
        return x.reshape(n, c, -1)
    run = kernels.launcher()
    dims = _geometry(x.shape, kh, kw, stride, pad)
    col = run.empty((n, c * kh * kw, dims[-2] * dims[-1]))
    run("im2col", *kernels.grid_1d(n * c * dims[-2] * dims[-1]), run.contiguous(x), col, *dims)
    return col


def col2im_gpu(dcol, x_shape, kh, kw, stride, pad):
    """col2im on the GPU: one thread per dx element gathers the col entries copied from it."""
    if is_pointwise(kh, kw, stride, pad):
        return dcol.reshape(x_shape)
    run = kernels.launcher()
    dx = run.empty(x_shape)
    run("col2im", *kernels.grid_1d(dx.size), run.contiguous(dcol), dx, *_geometry(x_shape, kh, kw, stride, pad))
    return dx


def matmul(a, b, row_bias=None):
    """a (..., M, K) @ b (..., K, P), as np.matmul (cuBLAS for CuPy arrays); row_bias (..., M) is added to every
    column (a convolution's bias)."""
    y = get_array_module(a).matmul(a, b)
    if row_bias is not None:
        y += row_bias[..., None]
    return y


Columns = namedtuple("Columns", "path im2col col2im matmul")
Columns.__doc__ = """The pieces of a column op on one path: im2col, col2im and matmul(a, b, row_bias=None)."""
TEXTBOOK = Columns("textbook", im2col, col2im, matmul)
GPU = Columns("gpu", im2col_gpu, col2im_gpu, matmul)


def dilated(dilation):
    """The textbook pieces with their copies dilated by (dh, dw)."""
    return TEXTBOOK._replace(im2col=partial(im2col, dilation=dilation), col2im=partial(col2im, dilation=dilation))


def columns_for(x, dilation=(1, 1)):
    """The pieces for x: the GPU's, the fast engine's (speed/im2col.py: split over the cores), or the textbook's;
    for a dilation, the textbook's dilated, on either array module."""
    if tuple(dilation) != (1, 1):
        return dilated(tuple(dilation))
    if is_gpu(x):
        return GPU
    fast = engines.fast("im2col")
    return TEXTBOOK if fast is None else fast.COLUMNS


def columns_of(path, dilation=(1, 1)):
    """The pieces that made a cache of `path` (and `dilation`); any path but "gpu" and "textbook" is the fast
    engine's."""
    if tuple(dilation) != (1, 1):
        return dilated(tuple(dilation))
    return {"gpu": GPU, "textbook": TEXTBOOK}.get(path) or engines.speed("im2col").COLUMNS
