"""Pooling geometry, shared by max_pool and avg_pool: Caffe's rule, and ONNX's (PyTorch's) floor and ceil modes.

Along each spatial axis a pool has a size, kernel, stride, pad — an int (both sides alike, as in Caffe) or a
(begin, end) pair (ONNX's pads) — and a dilation d: a window reads `extent = (kernel - 1)*d + 1` cells (only max
pooling dilates). `rounding` says how the output size is rounded:

"caffe" (the default; caffe/src/caffe/layers/pooling_layer.cpp, PoolingLayer::Reshape). Caffe rounds pooling
outputs *up* (unlike convolution), so the last window may hang over the bottom/right edge:
    out = ceil((size + 2*pad - kernel) / stride) + 1
and then, when padding is used, drops a last window that would start inside the padding alone:
    if pad > 0 and (out - 1) * stride >= size + pad: out -= 1
"ceil" (ONNX ceil_mode=1, PyTorch ceil_mode=True; aten/src/ATen/native/Pool.h, pooling_output_shape): the same
with (begin, end) pads and the extent, and the drop applied with or without padding — the last window must start
inside the input or the left padding:
    out = ceil((size + begin + end - extent) / stride) + 1;  if (out - 1) * stride >= size + begin: out -= 1
"floor" (ONNX ceil_mode=0): out = floor((size + begin + end - extent) / stride) + 1.
Under the ONNX modes a window lying in the padding alone is an error: it would pool nothing.

Both pools read their windows from the input padded wide enough for every window (`padded`: pad before, and
after as far as the last window reaches), one strided view per window tap (im2col.tap); backward adds into a
padded dx tap by tap and cuts the border off (`unpadded`).
"""
from minidream.engine.backend import get_array_module

ROUNDINGS = ("caffe", "floor", "ceil")


def pad_pair(pad):
    """(begin, end) of one axis's pad: an int pads both sides alike."""
    return tuple(pad) if isinstance(pad, (tuple, list)) else (pad, pad)


def normalized_pad(pad):
    """pad per axis as an int where both sides agree — what Caffe's paths and the GPU kernels take — else the
    (begin, end) pair."""
    return tuple(begin if begin == end else (begin, end) for begin, end in map(pad_pair, pad))


def output_size(size, kernel, stride, pad, rounding="caffe", dilation=1):
    """The output length along one axis (the rules above)."""
    if rounding not in ROUNDINGS:
        raise ValueError(f"unknown pooling rounding {rounding!r}; choose one of {', '.join(ROUNDINGS)}")
    begin, end = pad_pair(pad)
    extent = (kernel - 1) * dilation + 1
    span = size + begin + end - extent
    out = (span // stride if rounding == "floor" else -(-span // stride)) + 1
    if rounding != "floor" and (rounding == "ceil" or begin > 0) and (out - 1) * stride >= size + begin:
        out -= 1
    if out < 1:
        raise ValueError(
            f"pooling window {kernel} (stride {stride}, pad {pad}) does not fit an input of size {size}; "
            "use a larger image"
        )
    if rounding != "caffe" and (begin >= extent or (out - 1) * stride - begin >= size):
        raise ValueError(f"pooling window {kernel} (stride {stride}, pad {pad}, dilation {dilation}) has windows in "
                         f"the padding alone of an input of size {size}")
    return out


def output_hw(x_shape, kernel, stride, pad, rounding="caffe", dilation=(1, 1)):
    """(OH, OW) of pooling x (N, C, H, W)."""
    return tuple(output_size(x_shape[2 + a], kernel[a], stride[a], pad[a], rounding, dilation[a]) for a in (0, 1))


def geometry(x_shape, kernel, stride, pad, rounding="caffe"):
    """The ints the pooling kernels take: NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW. The kernels clip windows to
    [-PH, H + PH), so `pad` must be symmetric; OH and OW carry the rounding."""
    n, c, h, w = x_shape
    return (n * c, h, w, *kernel, *stride, *pad, *output_hw(x_shape, kernel, stride, pad, rounding))


def padded_extent(size, kernel, stride, pad, rounding="caffe", dilation=1):
    """(out, cells before, cells after) of the padded axis every window reads: the pad before, enough after for
    the last window."""
    out = output_size(size, kernel, stride, pad, rounding, dilation)
    begin = pad_pair(pad)[0]
    return out, begin, max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size - begin)


def _extents(x_shape, kernel, stride, pad, rounding, dilation):
    return [padded_extent(x_shape[2 + a], kernel[a], stride[a], pad[a], rounding, dilation[a]) for a in (0, 1)]


def padded_shape(x_shape, kernel, stride, pad, rounding="caffe", dilation=(1, 1)):
    """(H, W) of the padded input that every window reads."""
    (_, top, bottom), (_, left, right) = _extents(x_shape, kernel, stride, pad, rounding, dilation)
    return x_shape[2] + top + bottom, x_shape[3] + left + right


def padded(x, kernel, stride, pad, fill, rounding="caffe", dilation=(1, 1)):
    """x (N, C, H, W) inside a border of `fill` wide enough for every window (padded_shape)."""
    (_, top, bottom), (_, left, right) = _extents(x.shape, kernel, stride, pad, rounding, dilation)
    return get_array_module(x).pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)


def unpadded(padded_array, x_shape, kernel, stride, pad, rounding="caffe", dilation=(1, 1)):
    """The part of a padded array (padded's shape) over the real image (N, C, H, W): the adjoint of padded."""
    (_, top, _), (_, left, _) = _extents(x_shape, kernel, stride, pad, rounding, dilation)
    return padded_array[:, :, top:top + x_shape[2], left:left + x_shape[3]]


def is_caffe_window(x_shape, kernel, stride, pad, rounding, dilation):
    """True when the windows are those of Caffe's geometry — symmetric pads (normalized_pad), no dilation, Caffe's
    output size — so the paths written for Caffe's pooling (the fast engine's) serve the pool unchanged."""
    return (all(not isinstance(p, tuple) for p in pad) and tuple(dilation) == (1, 1)
            and (rounding == "caffe" or output_hw(x_shape, kernel, stride, pad, rounding) == output_hw(
                x_shape, kernel, stride, pad)))
