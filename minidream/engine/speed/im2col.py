"""The fast engine's im2col and col2im (the textbook pair: ops/im2col.py), and its Columns: these copies and the
threaded matrix product (parallel.matmul), for conv's im2col path, deconvolution and inner_product.

The copies are split over the cores by (channel, filter row) or (channel, stride phase) pairs
(parallel.for_channel_parts), so that an RGB input's 3 channels split evenly too. A strided convolution reads its
input through stride phases, each made contiguous once (_phases): NumPy's strided loops are several times slower
(docs/speed.md).
"""
import numpy as np

from minidream.engine.ops.im2col import Columns, is_pointwise, output_size
from minidream.engine.speed import parallel


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

    parallel.for_channel_parts(rows, c, kh, col.size)
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

    parallel.for_channel_parts(phase_rows, c, min(sh, kh), col.size)
    return dxpad[:, :, ph:ph + h, pw:pw + w]


def _phases(xpad, sh, sw, kh, kw):
    """xpad split by (row mod sh, column mod sw) into contiguous sub-images.

    A strided convolution's tap (u, v) reads xpad[u + sh*i, v + sw*j]: in phase (u % sh, v % sw) that is the
    plain window starting at (u // sh, v // sw). Splitting once turns every tap's strided copy into a
    contiguous one. Stride 1 needs no split.
    """
    if sh == sw == 1:
        return [[xpad]]
    # Only the phases a tap reads: a 1x1 stride-2 convolution (ResNet's downsampling) reads one of four.
    return [[np.ascontiguousarray(xpad[:, :, p::sh, q::sw]) for q in range(min(sw, kw))] for p in range(min(sh, kh))]


COLUMNS = Columns("threaded", im2col, col2im, parallel.matmul)
