"""The fast engine's plain ReLU, y = max(x, 0) (the op: ops/relu.py).

A large contiguous array (VGG's 640x480 layers: 20 M values) is split over the cores in flat ranges, and backward
walks each range in cache-sized pieces so that its mask never leaves the cache (one pass, not two).
"""
import numpy as np

from minidream.engine.speed.parallel import cache_pieces, for_blocks

MIN_SPLIT = 1 << 19  # values: below this, handing ranges to threads costs more than the one pass (docs/speed.md)


def forward(x, out=None):
    """max(x, 0) into out (a new array when None); returns it."""
    y = np.empty_like(x) if out is None else out
    if x.size >= MIN_SPLIT and x.flags.c_contiguous and y.flags.c_contiguous:
        x_flat, y_flat = x.reshape(-1), y.reshape(-1)
        for_blocks(lambda r: np.maximum(x_flat[r], 0, out=y_flat[r]), x.size, x.size, MIN_SPLIT)
    else:
        np.maximum(x, 0, out=y)
    return y


def backward(dy, y):
    """dx = dy where y > 0, else 0."""
    if dy.size < MIN_SPLIT or not (dy.flags.c_contiguous and y.flags.c_contiguous):
        return dy * (y > 0)  # a product, not np.where: no branch on a random mask
    dx = np.empty_like(dy)
    dy_flat, y_flat, dx_flat = dy.reshape(-1), y.reshape(-1), dx.reshape(-1)

    def ranges(block):
        for r in cache_pieces(block, 1):
            np.multiply(dy_flat[r], y_flat[r] > 0, out=dx_flat[r])

    for_blocks(ranges, dy.size, dy.size, MIN_SPLIT)
    return dx
