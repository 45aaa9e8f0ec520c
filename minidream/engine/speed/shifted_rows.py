"""A stride-1 convolution as KH matrix products over shifted copies of the input: the CPU path of conv.forward and
conv.backward for the stride-1 filters Winograd does not take (AlexNet's 5x5 conv2, GoogLeNet's 5x5 branches).

Lay the zero-padded image out flat, row after row: padded pixel (r, s) at r*Wp + s. Output pixel (i, j) reads
padded pixels (i + u, j + v). Give the output the padded width too (Wp columns per row, of which the last KW - 1
are thrown away): then output position t = i*Wp + j reads input position t + u*Wp + v, a fixed shift per tap, and

    Z[c, v, t] = xflat[c, t + v]                      (C, KW, Hp*Wp): KW shifted copies of the padded input
    y[:, t] = b + sum_u W_u @ Z[:, :, t + u*Wp]       W_u = w[:, :, u, :] as (F/G, C/G*KW), per group

Each term is one matrix product whose right side is a window of Z's columns (a view: BLAS takes a row stride), and
the BLAS adds it into y itself (blas.gemm, beta = 1). im2col instead writes KH*KW copies of the input and reads
them back once (AlexNet's conv2 at 640x480: 45 MB; Z is 10 MB).
Backward (the input gradient) runs the same products transposed, into overlapping windows of dZ:

    dZ[:, :, t + u*Wp] += W_u^T @ dy[:, t]            dy on the padded width, zeros in the thrown-away columns
    dxflat[c, t] = sum_v dZ[c, v, t - v]              then cropped to the image

A batch is laid out as one long image (image n from n*Hp*Wp on); the KH - 1 output rows that straddle two images
are thrown away as well. Shapes follow conv: x (N, C, H, W), w (F, C/G, KH, KW), groups G; y (N, F, OH, OW).
"""
import numpy as np

from minidream.engine.speed import blas
from minidream.engine.speed.padding import place
from minidream.engine.speed.parallel import for_blas_blocks, for_blocks

MIN_DEPTH = 64  # C/G*KW, the depth of each product: thinner ones (depthwise filters, RGB input) stay with im2col
MIN_OUTPUTS = 400  # per channel: below about 20x20 the thrown-away rows and columns and the weights' reordering cost
#                    more than im2col's columns (docs/speed.md)


def applies(w_shape, stride, dtype, out_size):
    """Whether this path runs a convolution: stride 1, a filter larger than 1x1, products deep enough, an output
    (OH, OW) large enough, and a BLAS whose product can add into its output."""
    f, cg, kh, kw = w_shape
    return (tuple(stride) == (1, 1) and kh * kw > 1 and cg * kw >= MIN_DEPTH
            and out_size[0] * out_size[1] >= MIN_OUTPUTS and blas.gemm(np.dtype(dtype)) is not None)


def forward(x, w, pad, groups=1, b=None):
    """y = conv(x, w) + b, stride 1: x (N, C, H, W), w (F, C/G, KH, KW), pad (ph, pw), b (F,) or None ->
    y (N, F, OH, OW)."""
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    hp, wp = h + 2 * pad[0], wd + 2 * pad[1]
    z = shifted_copies(x, pad, kw).reshape(groups, cg * kw, n * hp * wp)
    w_u = np.ascontiguousarray(  # (KH, G, F/G, C/G*KW): columns (c, v), as Z's rows
        w.reshape(groups, f // groups, cg, kh, kw).transpose(3, 0, 1, 2, 4).reshape(kh, groups, f // groups, cg * kw))
    y_wide = np.empty((groups, f // groups, n * hp * wp), dtype=x.dtype)
    columns = (n - 1) * hp * wp + (hp - kh + 1) * wp  # the last image's thrown-away rows are never computed
    product = blas.gemm(x.dtype)

    def band(t):
        for g in range(groups):
            for u in range(kh):
                product(w_u[u, g], z[g, :, t.start + u * wp:t.stop + u * wp], y_wide[g, :, t], 1.0 if u else 0.0)

    for_blas_blocks(band, columns, y_wide[..., :columns].size * cg * kw * kh)
    return _crop(y_wide.reshape(f, n, hp, wp), (0, 0), (hp - kh + 1, wp - kw + 1), b)


def backward_dx(dy, w, x_shape, pad, groups=1):
    """dx (x_shape) of forward, from dy (N, F, OH, OW)."""
    n, c, h, wd = x_shape
    f, cg, kh, kw = w.shape
    (ph, pw), (oh, ow) = pad, dy.shape[2:]
    hp, wp = h + 2 * ph, wd + 2 * pw
    dy_wide = place(dy.reshape(n, groups, f // groups, oh, ow).transpose(1, 2, 0, 3, 4),
                    np.empty((groups, f // groups, n, hp, wp), dtype=dy.dtype), 0, 0).reshape(groups, f // groups, -1)
    w_u_t = np.ascontiguousarray(  # (KH, G, C/G*KW, F/G): W_u^T, rows (c, v)
        w.reshape(groups, f // groups, cg, kh, kw).transpose(3, 0, 2, 4, 1).reshape(kh, groups, cg * kw, f // groups))
    dz = np.empty((groups, cg * kw, n * hp * wp), dtype=dy.dtype)
    columns = (n - 1) * hp * wp + oh * wp
    product = blas.gemm(dy.dtype)
    depth = cg * kw

    def rows(r):  # rows (g, c, v) of dZ: every u adds into them, so the workers split rows, not columns
        for g in range(r.start // depth, (r.stop - 1) // depth + 1):
            own = slice(max(r.start - g * depth, 0), min(r.stop - g * depth, depth))
            dz[g, own, columns:] = 0  # reached by u >= 1 only
            for u in range(kh):
                product(w_u_t[u, g, own], dy_wide[g, :, :columns], dz[g, own, u * wp:u * wp + columns],
                        1.0 if u else 0.0)

    for_blas_blocks(rows, groups * depth, dz[..., :columns].size * (f // groups) * kh)
    return _crop(_unshift(dz.reshape(c, kw, n * hp * wp)).reshape(c, n, hp, wp), pad, (h, wd))


def shifted_copies(x, pad, kw):
    """Z (C, KW, N*Hp*Wp): Z[c, v] is the zero-padded x[:, c], flat, moved left by v (zeros shifted in)."""
    n, c, h, wd = x.shape
    (ph, pw) = pad
    hp, wp = h + 2 * ph, wd + 2 * pw
    z = np.empty((c, kw, n * hp * wp), dtype=x.dtype)
    images = z.reshape(c, kw, n, hp, wp)

    def channels(cs):
        place(x[:, cs].transpose(1, 0, 2, 3), images[cs, 0], ph, pw)
        for v in range(1, kw):
            z[cs, v, :-v], z[cs, v, -v:] = z[cs, 0, v:], 0

    for_blocks(channels, c, z.size)
    return z


def _unshift(dz):
    """The adjoint of shifted_copies before its padding: dxflat[c, t] = sum_v dZ[c, v, t - v]."""
    c, kw, length = dz.shape
    dx_flat = np.empty((c, length), dtype=dz.dtype)

    def channels(cs):
        dx_flat[cs] = dz[cs, 0]
        for v in range(1, kw):
            dx_flat[cs, v:] += dz[cs, v, :-v]

    for_blocks(channels, c, dz.size)
    return dx_flat


def _crop(wide, start, size, b=None):
    """(C, N, Hp, Wp) -> its (N, C, *size) window from `start`, contiguous, plus b (C,) when given."""
    (r, s), (h, w) = start, size
    window = wide[:, :, r:r + h, s:s + w].transpose(1, 0, 2, 3)
    if b is None:
        return np.ascontiguousarray(window)
    return np.add(window, b.reshape(1, -1, 1, 1), out=np.empty(window.shape, dtype=wide.dtype))


def forward_naive(x, w, pad):
    """The textbook version, one group: every tap (u, v) is one product of w[:, :, u, v] with xflat moved by
    u*Wp + v; y is read off the padded width."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    (ph, pw) = pad
    hp, wp = h + 2 * ph, wd + 2 * pw
    oh, ow = hp - kh + 1, wp - kw + 1
    x_flat = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))).reshape(n, c, hp * wp)
    y_wide = np.zeros((n, f, oh * wp), dtype=x.dtype)
    for u in range(kh):
        for v in range(kw):
            shift = u * wp + v
            taps = x_flat[:, :, shift:shift + oh * wp]  # reads past the image only for thrown-away columns
            y_wide[:, :, :taps.shape[-1]] += np.einsum("fc,nct->nft", w[:, :, u, v], taps)
    return y_wide.reshape(n, f, oh, wp)[..., :ow]
