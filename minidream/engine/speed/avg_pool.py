"""The fast engine's average pooling (the op, its formula and textbook path: ops/avg_pool.py).

The window sum is separable: sum KW views along the rows of the zero-padded input's column phases
(pool_phases.padded_phases), then KH views down the columns of those row sums. Backward spreads dy / divisor back
through the same two passes in reverse (pool_phases.spread_rows, spread_columns, unpad_phases).
"""
import numpy as np

from minidream.engine.ops.avg_pool import window_divisor
from minidream.engine.ops.pool_shape import padded_shape
from minidream.engine.speed.pool_phases import (column_taps, padded_phases, row_taps, spread_columns, spread_rows,
                                                unpad_phases)


def forward(x, kernel, stride, pad):
    """x (N, C, H, W) -> y (N, C, OH, OW)."""
    (kh, kw), (sh, sw) = kernel, stride
    phases, oh, ow = padded_phases(x, kernel, stride, pad, 0.0)
    row_sum = _tap_sum(column_taps(phases, sw, kw, ow))   # (N, C, Hpad, OW)
    y = _tap_sum(row_taps(row_sum, kh, sh, oh))           # (N, C, OH, OW)
    y /= window_divisor(x.shape, kernel, stride, pad, oh, ow, x.dtype)
    return y


def backward(dy, cache):
    """dy (N, C, OH, OW), an avg_pool.AvgPoolCache of path "fast" -> dx (N, C, H, W)."""
    x_shape, (kh, kw), (sh, sw), pad = cache.x_shape, cache.kernel, cache.stride, cache.pad
    oh, ow = dy.shape[2:]
    pad_h, pad_w = padded_shape(x_shape, cache.kernel, cache.stride, pad)
    share = dy / window_divisor(x_shape, (kh, kw), (sh, sw), pad, oh, ow, dy.dtype)
    # The adjoint of the two sums, in reverse: every tap of a window receives the window's gradient.
    d_row_sum = spread_rows(share.shape[:2] + (pad_h, ow), sh, (share for _ in range(kh)), dy.dtype)
    d_phases = spread_columns(d_row_sum.shape[:3] + (pad_w,), sw, kw, (d_row_sum for _ in range(kw)), dy.dtype)
    return unpad_phases(d_phases, x_shape, cache.kernel, cache.stride, pad, np.empty(x_shape, dtype=dy.dtype))


def _tap_sum(views):
    total = views[0].copy()
    for view in views[1:]:
        total += view
    return total
