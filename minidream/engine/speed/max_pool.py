"""The fast engine's max pooling (the op, its formula and textbook path: ops/max_pool.py).

A 2-D max is a max of row maxima, so the window is done in two 1-D passes — first along each row
(KW views of the padded input's column phases, each phase one contiguous copy: pool_phases.padded_phases), then
down the columns of those row maxima (KH views) — remembering in small int8 arrays which tap won each pass.
Channels go in L2-sized pieces, so the ten or so passes over a piece read the cache, not main memory. Keeping the
first winner in each pass keeps Caffe's row-major tie rule. Backward retraces the two passes in reverse with KH + KW
adds (pool_phases.spread_rows, spread_columns) — no window tensor, no np.add.at — and writes the column phases
straight into dx (unpad_phases).
"""
import numpy as np

from minidream.engine.ops.pool_shape import output_size, padded_shape
from minidream.engine.speed.parallel import cache_pieces, for_blocks
from minidream.engine.speed.pool_phases import (column_taps, padded_phases, row_taps, spread_columns, spread_rows,
                                                unpad_phases)


def _running_max(views, best, winner):
    """Max over the tap views into `best`, and into `winner` the first view reaching it (ties: the earlier tap)."""
    if len(views) == 1:
        best[...], winner[...] = views[0], 0
        return
    np.greater(views[1], views[0], out=winner.view(np.bool_))  # tap 1 wins only where strictly greater: 1, else 0
    np.maximum(views[0], views[1], out=best)
    for t, candidate in enumerate(views[2:], 2):
        # winner = t where candidate > best, else unchanged. Taps only grow, so a max does it — arithmetic
        # instead of a masked copy, whose branches on a random mask cost far more (docs/speed.md).
        np.maximum(winner, (candidate > best) * np.int8(t), out=winner)
        np.maximum(best, candidate, out=best)


def forward(x, kernel, stride, pad):
    """x (N, C, H, W) -> (y (N, C, OH, OW), winners): winners = (row_winner (N, C, OH, OW), col_winner (N, C, Hpad,
    OW)), the int8 tap indices of the two passes."""
    (kh, kw), (sh, sw) = kernel, stride
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, sh, pad[0]), output_size(w, kw, sw, pad[1])
    pad_h, _ = padded_shape(x.shape, kernel, stride, pad)
    y = np.empty((n, c, oh, ow), dtype=x.dtype)
    row_winner = np.empty((n, c, oh, ow), dtype=np.int8)
    col_winner = np.empty((n, c, pad_h, ow), dtype=np.int8)

    def channels(block):
        for ch in cache_pieces(block, n * h * w):
            phases, _, _ = padded_phases(x[:, ch], kernel, stride, pad, -np.inf)
            row_max = np.empty(phases[0].shape[:3] + (ow,), dtype=x.dtype)
            _running_max(column_taps(phases, sw, kw, ow), row_max, col_winner[:, ch])  # along rows: (N, C, Hpad, OW)
            _running_max(row_taps(row_max, kh, sh, oh), y[:, ch], row_winner[:, ch])   # then down the columns

    for_blocks(channels, c, x.size)
    return y, (row_winner, col_winner)


def backward(dy, cache):
    """dy (N, C, OH, OW), a max_pool.MaxPoolCache of path "fast" -> dx (N, C, H, W)."""
    x_shape, kernel, stride, pad = cache.x_shape, cache.kernel, cache.stride, cache.pad
    row_winner, col_winner = cache.winners
    (kh, kw), (sh, sw) = kernel, stride
    pad_h, pad_w = padded_shape(x_shape, kernel, stride, pad)
    ow = dy.shape[3]
    dx = np.empty(x_shape, dtype=dy.dtype)

    def channels(block):  # the two passes of forward in reverse: each gradient goes to the tap that won
        for ch in cache_pieces(block, x_shape[0] * x_shape[2] * x_shape[3]):
            d_row, winner = dy[:, ch], row_winner[:, ch]
            d_row_max = spread_rows(d_row.shape[:2] + (pad_h, ow), sh, (d_row * (winner == t) for t in range(kh)),
                                    dy.dtype)
            winner = col_winner[:, ch]
            d_phases = spread_columns(d_row_max.shape[:3] + (pad_w,), sw, kw,
                                      (d_row_max * (winner == t) for t in range(kw)), dy.dtype)
            unpad_phases(d_phases, x_shape, kernel, stride, pad, dx[:, ch])

    for_blocks(channels, x_shape[1], dy.size)
    return dx
