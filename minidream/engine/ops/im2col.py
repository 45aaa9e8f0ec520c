"""im2col and col2im: a convolution's receptive fields copied into columns, and the columns added back (its adjoint).

    x (N, C, H, W) -> col (N, C*KH*KW, OH*OW),  row c*KH*KW + u*KW + v, column i*OW + j holds xpad[c, i*sh+u, j*sw+v]

With the columns a convolution is one matrix product per group (layers/conv.py), and a deconvolution the same
products transposed (layers/deconvolution.py). CPU: strided NumPy copies split over the cores by (channel, filter
row) or (channel, stride phase) pairs (parallel.for_channel_parts); GPU: kernels/im2col.cu and col2im.cu. A 1x1,
stride-1, unpadded convolution needs no columns: they are the input pixels themselves.
"""
import numpy as np

from minidream import kernels
from minidream.engine.speed.parallel import for_channel_parts


def output_size(size, kernel, stride, pad):
    """Caffe's convolution output size: floor((size + 2*pad - kernel) / stride) + 1."""
    return (size + 2 * pad - kernel) // stride + 1


def is_pointwise(kh, kw, stride, pad):
    """A 1x1, stride-1, unpadded convolution: its im2col columns are the input pixels themselves."""
    return kh == kw == 1 and tuple(stride) == (1, 1) and tuple(pad) == (0, 0)


def im2col(x, kh, kw, stride, pad):
    """x (N, C, H, W) -> col (N, C*KH*KW, OH*OW); row c*KH*KW + u*KW + v holds xpad[c, i*sh+u, j*sw+v]."""
    n, c, h, w = x.shape
    (sh, sw), (ph, pw) = stride, pad
    oh, ow = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
    if is_pointwise(kh, kw, stride, pad):
        return x.reshape(n, c, h * w)  # a 1x1 convolution's columns are the pixels themselves
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    col = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)

    def rows(ch, filter_rows):
        phases = _phases(xpad[:, ch], sh, sw, kh, kw)
        for u in filter_rows:
            for v in range(kw):
                a, b = u // sh, v // sw
                col[:, ch, u, v] = phases[u % sh][v % sw][:, :, a:a + oh, b:b + ow]

    for_channel_parts(rows, c, kh, col.size)
    return col.reshape(n, c * kh * kw, oh * ow)


def col2im(col, x_shape, kh, kw, stride, pad):
    """The adjoint of im2col: scatter-add columns (N, C*KH*KW, OH*OW) back into dx (N, C, H, W)."""
    n, c, h, w = x_shape
    (sh, sw), (ph, pw) = stride, pad
    if is_pointwise(kh, kw, stride, pad):
        return col.reshape(x_shape)
    oh, ow = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
    col = col.reshape(n, c, kh, kw, oh, ow)
    dxpad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=col.dtype)

    def phase_rows(ch, row_phases):  # a row phase p of a channel is written by the filter rows u = p mod sh only
        for p in row_phases:
            for q in range(min(sw, kw)):
                phase = dxpad[:, ch, p::sh, q::sw]
                # Accumulate each phase in a contiguous array, then write it into its strided place once.
                d_phase = phase if sh == sw == 1 else np.zeros(phase.shape, dtype=col.dtype)
                for u in range(p, kh, sh):
                    for v in range(q, kw, sw):
                        d_phase[:, :, u // sh:u // sh + oh, v // sw:v // sw + ow] += col[:, ch, u, v]
                phase[...] = d_phase

    for_channel_parts(phase_rows, c, min(sh, kh), col.size)
    return dxpad[:, :, ph:ph + h, pw:pw + w]


def _phases(xpad, sh, sw, kh, kw):
    """xpad split by (row mod sh, column mod sw) into contiguous sub-images.

    A strided convolution's tap (u, v) reads xpad[u + sh*i, v + sw*j]: in phase (u % sh, v % sw) that is the
    plain window starting at (u // sh, v // sw). Splitting once turns every tap's strided copy into a
    contiguous one (NumPy's strided loops are several times slower). Stride 1 needs no split.
    """
    if sh == sw == 1:
        return [[xpad]]
    # Only the phases a tap reads: a 1x1 stride-2 convolution (ResNet's downsampling) reads one of four.
    return [[np.ascontiguousarray(xpad[:, :, p::sh, q::sw]) for q in range(min(sw, kw))] for p in range(min(sh, kh))]


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
