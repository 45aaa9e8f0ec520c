"""Caffe's pooling geometry, shared by max_pool and avg_pool.

Caffe rounds pooling outputs *up* (unlike convolution), so the last window may hang over the
bottom/right edge:
    out = ceil((size + 2*pad - kernel) / stride) + 1
and then, when padding is used, drops a last window that would start inside the padding alone:
    if pad > 0 and (out - 1) * stride >= size + pad: out -= 1
(caffe/src/caffe/layers/pooling_layer.cpp, PoolingLayer::Reshape).
"""
import numpy as np


def output_size(size, kernel, stride, pad):
    out = -(-(size + 2 * pad - kernel) // stride) + 1
    if pad > 0 and (out - 1) * stride >= size + pad:
        out -= 1
    if out < 1:
        raise ValueError(
            f"pooling window {kernel} (stride {stride}, pad {pad}) does not fit an input of size {size}; "
            "use a larger image"
        )
    return out


def geometry(x_shape, kernel, stride, pad):
    """The ints the pooling kernels take: NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW."""
    n, c, h, w = x_shape
    oh, ow = output_size(h, kernel[0], stride[0], pad[0]), output_size(w, kernel[1], stride[1], pad[1])
    return (n * c, h, w, *kernel, *stride, *pad, oh, ow)


def padded_extent(size, kernel, stride, pad):
    """Length of the padded axis every window reads: `pad` before, enough after for ceil mode."""
    out = output_size(size, kernel, stride, pad)
    return out, pad, max(0, (out - 1) * stride + kernel - size - pad)


def tap_view(a, axis, tap, stride, count):
    """The view of `a` that window tap `tap` reads along `axis`: a[..., tap::stride][:count] on that axis."""
    index = [slice(None)] * a.ndim
    index[axis] = slice(tap, tap + (count - 1) * stride + 1, stride)
    return a[tuple(index)]


def tap_views(a, axis, taps, stride, count):
    """[tap_view(a, axis, t, stride, count) for t < taps], each contiguous along the last axis.

    Along the last axis a stride > 1 view makes NumPy's inner loops strided, and those run without SIMD: a max of
    two stride-2 views of 2.5 M floats took 8.1 ms, the same max over contiguous arrays 0.3 ms plus 0.9 ms to copy
    one phase. So for that case the taps come from contiguous copies of a's `stride` phases (every stride-th
    element, from offset p): tap t is phase t % stride, shifted by t // stride.
    """
    if axis != a.ndim - 1 or stride == 1:
        return [tap_view(a, axis, t, stride, count) for t in range(taps)]
    phases = [np.ascontiguousarray(a[..., p::stride]) for p in range(min(stride, taps))]
    return [phases[t % stride][..., t // stride:t // stride + count] for t in range(taps)]


def add_taps(shape, axis, stride, parts, dtype):
    """The adjoint of tap_views: an array of `shape`, zero but for parts[t] added to its tap t view, in tap order
    (so every element's sum is taken in the same order as with tap_view). parts: an iterable, made one at a time.

    Along the last axis with a stride, the sums build up in contiguous phases written into place once at the end.
    """
    if axis != len(shape) - 1 or stride == 1:
        out = np.zeros(shape, dtype=dtype)
        for t, part in enumerate(parts):
            tap_view(out, axis, t, stride, part.shape[axis])[...] += part
        return out
    out = np.empty(shape, dtype=dtype)
    phases = [np.zeros(out[..., p::stride].shape, dtype=dtype) for p in range(stride)]
    for t, part in enumerate(parts):
        phases[t % stride][..., t // stride:t // stride + part.shape[-1]] += part
    for p, phase in enumerate(phases):
        out[..., p::stride] = phase
    return out


def padded_shape(x_shape, kernel, stride, pad):
    """(H, W) of the padded input that every window reads."""
    _, top, bottom = padded_extent(x_shape[2], kernel[0], stride[0], pad[0])
    _, left, right = padded_extent(x_shape[3], kernel[1], stride[1], pad[1])
    return x_shape[2] + top + bottom, x_shape[3] + left + right


def padded(x, kernel, stride, pad, fill):
    """x (N, C, H, W) inside a border of `fill` wide enough for every window; returns (xpad, OH, OW)."""
    n, c, h, w = x.shape
    oh, top, bottom = padded_extent(h, kernel[0], stride[0], pad[0])
    ow, left, right = padded_extent(w, kernel[1], stride[1], pad[1])
    xpad = np.empty((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
    xpad[:, :, :top], xpad[:, :, top + h:] = fill, fill
    xpad[:, :, top:top + h, :left], xpad[:, :, top:top + h, left + w:] = fill, fill
    xpad[:, :, top:top + h, left:left + w] = x
    return xpad, oh, ow


def unpad(xpad, x_shape, kernel, stride, pad):
    """The inverse of `padded` for gradients: the part of xpad over the real image."""
    h, w = x_shape[2:]
    _, top, _ = padded_extent(h, kernel[0], stride[0], pad[0])
    _, left, _ = padded_extent(w, kernel[1], stride[1], pad[1])
    return xpad[:, :, top:top + h, left:left + w]
