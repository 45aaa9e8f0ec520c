"""Convolution (Caffe "Convolution", ONNX Conv): cross-correlation with zero padding, stride, groups and dilation.

Shapes
    x (N, C, H, W)    w (F, C/G, KH, KW)    b (F,) or None    y (N, F, OH, OW)
    OH = floor((H + 2*ph - (KH - 1)*dh - 1) / sh) + 1, and the same for OW (dilation dh = 1: Caffe's formula).

Formula. Group g reads input channels [g*C/G, (g+1)*C/G) and writes output channels
[g*F/G, (g+1)*F/G) (AlexNet's conv2/4/5 use G=2, a relic of training on two GPUs):

    y[n, f, i, j] = b[f] + sum_{c,u,v} w[f, c, u, v] * xpad[n, g*C/G + c, i*sh + u*dh, j*sw + v*dw]

Pads are symmetric, one int per axis. An ONNX Conv whose pads differ at the two ends of an axis is read as an
explicit zero Pad (ops/pad.py) of the difference followed by this convolution: the padding is zeros either way.

Textbook path: im2col copies every receptive field into a column, so each group is one matrix product
    col (N, G, C/G*KH*KW, OH*OW),   y[n, g] = w_g (F/G, C/G*KH*KW) @ col[n, g]
and backward is the same products transposed:
    dw_g = sum_n dy[n, g] @ col[n, g]^T,   db = sum_{n,i,j} dy,   dcol = w_g^T @ dy[n, g],   dx = col2im(dcol).
The GPU runs the same steps (kernels/im2col.cu, cuBLAS). The fast engine (speed/conv.py) runs stride-1 convolutions
by Winograd's F(2x2, 3x3) or by shifted rows, and the rest through im2col's copies and products split over the cores.
A 1x1, stride-1, unpadded convolution needs no columns on any path. A dilated convolution runs the textbook's
dilated copies (im2col.dilated) on every engine and array module: the fast methods and im2col.cu have no dilation.
"""
from collections import namedtuple

import numpy as np

from minidream.engine import engines
from minidream.engine.backend import is_gpu
from minidream.engine.ops.im2col import check_groups, columns_for, columns_of, output_size

STRIDE1_METHODS = ("winograd", "shifted_rows")  # the fast engine's paths that are not im2col (speed/conv.py)

ConvCache = namedtuple("ConvCache", "path x w has_bias stride pad groups dilation", defaults=((1, 1),))
ConvCache.__doc__ = """What backward needs: the path that made it ("textbook", "gpu", or the fast engine's "threaded",
"winograd", "shifted_rows"), the input x (not col, which is KH*KW times larger: dx needs neither, and dw rebuilds col
when training asks for it), w, whether there is a bias, stride, pad, groups and dilation."""


def forward(x, w, b, stride=(1, 1), pad=(0, 0), groups=1, dilation=(1, 1)):
    """y = conv(x, w) + b.

    Inputs: x (N, C, H, W); w (F, C/G, KH, KW); b (F,) or None; stride, pad, dilation (h, w) pairs; groups G.
    Returns (y (N, F, OH, OW), ConvCache). NumPy or CuPy arrays (our im2col kernel + cuBLAS on the GPU).
    """
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    _check(c, f, cg, groups)
    dilation = tuple(dilation)
    oh, ow = output_size(h, kh, stride[0], pad[0], dilation[0]), output_size(wd, kw, stride[1], pad[1], dilation[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"a {kh}x{kw} convolution (stride {tuple(stride)}, pad {tuple(pad)}, dilation {dilation}) "
                         f"does not fit a {h}x{wd} input; use a larger image")
    cache = ConvCache(None, x, w, b is not None, tuple(stride), tuple(pad), groups, dilation)
    fast = None if is_gpu(x) or dilation != (1, 1) else engines.fast("conv")
    method = fast.method(w.shape, stride, pad, groups, (oh, ow), x.dtype) if fast else None
    if method is not None:
        return fast.METHODS[method].forward(x, w, pad, groups, b), cache._replace(path=method)
    cols = columns_for(x, dilation)
    col = cols.im2col(x, kh, kw, stride, pad).reshape(n, groups, cg * kh * kw, oh * ow)
    y = cols.matmul(w.reshape(groups, f // groups, cg * kh * kw), col,
                    None if b is None else b.reshape(groups, f // groups))
    return y.reshape(n, f, oh, ow), cache._replace(path=cols.path)


def backward(dy, cache, weight_grads=True):
    """Inputs: dy (N, F, OH, OW), the ConvCache of forward. Returns (dx, dw, db); dw and db are None when
    weight_grads is False (dreams need only dx), db also without a bias."""
    x, w, stride, pad, groups = cache.x, cache.w, cache.stride, cache.pad, cache.groups
    n, f, oh, ow = dy.shape
    _, cg, kh, kw = w.shape
    dy_mat = dy.reshape(n, groups, f // groups, oh * ow)
    cols = columns_of(cache.path, cache.dilation)
    if cache.path in STRIDE1_METHODS:
        dx = engines.speed("conv").METHODS[cache.path].backward_dx(dy, w, x.shape, pad, groups)
    else:
        w_t = w.reshape(groups, f // groups, cg * kh * kw).transpose(0, 2, 1)  # a view, not a copy (docs/speed.md)
        dcol = cols.matmul(w_t, dy_mat).reshape(n, groups * cg * kh * kw, oh * ow)
        dx = cols.col2im(dcol, x.shape, kh, kw, stride, pad)
    dw = db = None
    if weight_grads:
        col = cols.im2col(x, kh, kw, stride, pad).reshape(n, groups, cg * kh * kw, oh * ow)
        dw = cols.matmul(dy_mat, col.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)
        db = dy.sum(axis=(0, 2, 3)) if cache.has_bias else None
    return dx, dw, db


def _check(c, f, cg, groups):
    check_groups(c, groups, "input channels")
    check_groups(f, groups, "filters")
    if c != cg * groups:
        raise ValueError(f"convolution shapes disagree: input has {c} channels, weights expect {cg} per group "
                         f"x {groups} groups")


def forward_naive(x, w, b, stride=(1, 1), pad=(0, 0), groups=1, dilation=(1, 1)):
    """Loop version of forward: one dot product per output pixel."""
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    _check(c, f, cg, groups)
    (sh, sw), (ph, pw), (dh, dw) = stride, pad, dilation
    oh, ow = output_size(h, kh, sh, ph, dh), output_size(wd, kw, sw, pw, dw)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    fg = f // groups
    y = np.zeros((n, f, oh, ow), dtype=x.dtype)
    for i_n in range(n):
        for i_f in range(f):
            g = i_f // fg
            for i in range(oh):
                for j in range(ow):
                    rows, cols = _window(i, sh, kh, dh), _window(j, sw, kw, dw)
                    window = xpad[i_n, g * cg:(g + 1) * cg, rows, cols]
                    y[i_n, i_f, i, j] = np.sum(window * w[i_f]) + (b[i_f] if b is not None else 0)
    return y, (x, w, b is not None, stride, pad, groups, dilation)


def _window(i, stride, kernel, dilation):
    """The padded cells output i's window reads along one axis."""
    return slice(i * stride, i * stride + (kernel - 1) * dilation + 1, dilation)


def backward_naive(dy, cache, weight_grads=True):
    """Loop version of backward: every output pixel sends dy back through its window."""
    x, w, has_bias, (sh, sw), (ph, pw), groups, dilation = cache
    n, f, oh, ow = dy.shape
    _, cg, kh, kw = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxpad = np.zeros_like(xpad)
    dw = np.zeros_like(w)
    fg = f // groups
    for i_n in range(n):
        for i_f in range(f):
            g = i_f // fg
            for i in range(oh):
                for j in range(ow):
                    rows, cols = _window(i, sh, kh, dilation[0]), _window(j, sw, kw, dilation[1])
                    dxpad[i_n, g * cg:(g + 1) * cg, rows, cols] += w[i_f] * dy[i_n, i_f, i, j]
                    dw[i_f] += xpad[i_n, g * cg:(g + 1) * cg, rows, cols] * dy[i_n, i_f, i, j]
    dx = dxpad[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]
    db = dy.sum(axis=(0, 2, 3)) if has_bias else None
    if not weight_grads:
        dw = db = None
    return dx, dw, db
