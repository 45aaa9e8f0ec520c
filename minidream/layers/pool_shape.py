"""Caffe's pooling geometry, shared by max_pool and avg_pool.

Caffe rounds pooling outputs *up* (unlike convolution), so the last window may hang over the
bottom/right edge:
    out = ceil((size + 2*pad - kernel) / stride) + 1
and then, when padding is used, drops a last window that would start inside the padding alone:
    if pad > 0 and (out - 1) * stride >= size + pad: out -= 1
(caffe/src/caffe/layers/pooling_layer.cpp, PoolingLayer::Reshape).
"""


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


def padded_extent(size, kernel, stride, pad):
    """Length of the padded axis every window reads: `pad` before, enough after for ceil mode."""
    out = output_size(size, kernel, stride, pad)
    return out, pad, max(0, (out - 1) * stride + kernel - size - pad)
