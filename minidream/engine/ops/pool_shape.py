"""Caffe's pooling geometry, shared by max_pool and avg_pool.

Caffe rounds pooling outputs *up* (unlike convolution), so the last window may hang over the
bottom/right edge:
    out = ceil((size + 2*pad - kernel) / stride) + 1
and then, when padding is used, drops a last window that would start inside the padding alone:
    if pad > 0 and (out - 1) * stride >= size + pad: out -= 1
(caffe/src/caffe/layers/pooling_layer.cpp, PoolingLayer::Reshape).

Both pools read their windows from the input padded wide enough for every window (`padded`: pad before, and
after as far as ceil mode reaches), one strided view per window tap (im2col.tap); backward adds into a padded dx
tap by tap and cuts the border off (`unpadded`).
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


def output_hw(x_shape, kernel, stride, pad):
    """(OH, OW) of pooling x (N, C, H, W)."""
    return tuple(output_size(x_shape[2 + a], kernel[a], stride[a], pad[a]) for a in (0, 1))


def geometry(x_shape, kernel, stride, pad):
    """The ints the pooling kernels take: NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW."""
    n, c, h, w = x_shape
    return (n * c, h, w, *kernel, *stride, *pad, *output_hw(x_shape, kernel, stride, pad))


def padded_extent(size, kernel, stride, pad):
    """Length of the padded axis every window reads: `pad` before, enough after for ceil mode."""
    out = output_size(size, kernel, stride, pad)
    return out, pad, max(0, (out - 1) * stride + kernel - size - pad)


def padded_shape(x_shape, kernel, stride, pad):
    """(H, W) of the padded input that every window reads."""
    _, top, bottom = padded_extent(x_shape[2], kernel[0], stride[0], pad[0])
    _, left, right = padded_extent(x_shape[3], kernel[1], stride[1], pad[1])
    return x_shape[2] + top + bottom, x_shape[3] + left + right


def padded(x, kernel, stride, pad, fill):
    """x (N, C, H, W) inside a border of `fill` wide enough for every window (padded_shape)."""
    (_, top, bottom), (_, left, right) = (padded_extent(x.shape[2 + a], kernel[a], stride[a], pad[a]) for a in (0, 1))
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)


def unpadded(padded_array, x_shape, kernel, stride, pad):
    """The part of a padded array (padded's shape) over the real image (N, C, H, W): the adjoint of padded."""
    (_, top, _), (_, left, _) = (padded_extent(x_shape[2 + a], kernel[a], stride[a], pad[a]) for a in (0, 1))
    return padded_array[:, :, top:top + x_shape[2], left:left + x_shape[3]]
