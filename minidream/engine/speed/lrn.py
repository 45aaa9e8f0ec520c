"""The fast engine's LRN across channels (the op, its formula and textbook path: ops/lrn.py).

The window sum is a sum of n shifted channel slices of x^2 (_window_sum, no padded copy); forward keeps scale and
scale^-beta in the cache so backward reuses them, and every step writes into its output array (out=, in place)
rather than into temporaries. Channel windows never cross rows, so both directions run in row bands over the cores.
"""
import numpy as np

from minidream.engine.speed.parallel import for_blocks


def _window_sum(a, local_size, out):
    """out[:, c] = sum over channels c' in [c - (n-1)/2, c + (n-1)/2] of a[:, c'], zero outside [0, C).

    The terms are added in order of c', as a sum over a zero-padded copy would add them (adding a zero changes
    nothing), but without that copy: the window sum is a third of LRN's passes over memory.
    """
    half = (local_size - 1) // 2
    c = a.shape[1]
    out[:, :half] = 0  # the first term, a[:, c - half], is outside [0, C) there
    out[:, half:] = a[:, :max(c - half, 0)]
    for shift in range(1 - half, half + 1):
        lo, hi = max(0, -shift), min(c, c - shift)
        if lo < hi:  # a window wider than the channels: shifts by C or more reach no channel at all
            out[:, lo:hi] += a[:, lo + shift:hi + shift]
    return out


def forward(x, local_size, alpha, beta, k):
    """x (N, C, H, W) -> (y, scale, scale^-beta), each (N, C, H, W)."""
    scale, scale_pow, y = np.empty_like(x), np.empty_like(x), np.empty_like(x)

    def rows(r):  # channel windows never cross rows, so rows can be done apart (and in parallel)
        xr, scale_r = x[:, :, r], scale[:, :, r]
        square = np.multiply(xr, xr, out=y[:, :, r])  # y holds x^2 until the last line
        _window_sum(square, local_size, scale_r)
        scale_r *= alpha / local_size
        scale_r += k
        np.power(scale_r, -beta, out=scale_pow[:, :, r])
        np.multiply(xr, scale_pow[:, :, r], out=y[:, :, r])

    for_blocks(rows, x.shape[2], x.size)
    return y, scale, scale_pow


def backward(dy, cache):
    """dy (N, C, H, W), an lrn.LRNCache of path "fast" -> dx (N, C, H, W)."""
    x, y, scale, local_size, alpha, beta = cache.x, cache.y, cache.scale, cache.local_size, cache.alpha, cache.beta
    scale_pow = cache.scale_pow
    dx = np.empty_like(dy)

    def rows(r):
        dy_r, dx_r = dy[:, :, r], dx[:, :, r]
        share = np.multiply(dy_r, y[:, :, r], out=dx_r)  # dx holds dy * y / scale until the last two lines
        share /= scale[:, :, r]
        ratio = _window_sum(share, local_size, np.empty(share.shape, dtype=share.dtype))
        ratio *= x[:, :, r]
        ratio *= 2.0 * alpha * beta / local_size
        np.multiply(dy_r, scale_pow[:, :, r], out=dx_r)
        dx_r -= ratio

    for_blocks(rows, dy.shape[2], dy.size)
    return dx
