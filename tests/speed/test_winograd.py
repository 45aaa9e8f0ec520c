"""Winograd F(2x2, 3x3) (minidream/engine/speed/winograd.py), the CPU path of 3x3 stride-1 convolutions: in pieces and
blocks, in bands of tile rows, which convolutions take it. Against the direct loops (tile by tile too) and through
conv.forward/backward: test_stride1_methods.py."""
import numpy as np
import pytest

from minidream.engine.speed import parallel, winograd
from tests.conv_methods import inputs


def test_in_pieces_and_worker_blocks(monkeypatch):
    """Transforms split over 3 workers and into pieces of a few channels (as a large image is) change nothing."""
    x, w, pad, groups = inputs((1, 10, 40, 50, 12, 3, 3, (1, 1), 1), seed=4)
    whole = winograd.forward(x, w, pad, groups)
    monkeypatch.setattr(parallel, "WORKERS", 3)
    monkeypatch.setattr(parallel, "PIECE_ELEMENTS", 2000)  # 1-2 channels per piece
    monkeypatch.setattr(winograd, "MIN_THREADED", 0)
    assert np.array_equal(winograd.forward(x, w, pad, groups), whole)


@pytest.mark.parametrize("w_shape, stride, pad, groups, out_size, expected", [
    ((16, 8, 3, 3), (1, 1), (1, 1), 1, (20, 20), True),
    ((16, 8, 3, 3), (2, 2), (1, 1), 1, (20, 20), False),   # stride 2: im2col
    ((16, 8, 5, 5), (1, 1), (2, 2), 1, (20, 20), False),   # 5x5
    ((16, 8, 3, 3), (1, 1), (3, 3), 1, (20, 20), False),   # backward would need a negative padding
    ((32, 1, 3, 3), (1, 1), (1, 1), 32, (20, 20), False),  # depthwise: 16 products of one channel each
    ((4, 8, 3, 3), (1, 1), (1, 1), 1, (20, 20), False),    # 4 filters: too thin
    ((16, 8, 3, 3), (1, 1), (1, 1), 1, (9, 11), False),    # a small output: the filter transform would not pay
])
def test_which_convolutions_take_winograd(w_shape, stride, pad, groups, out_size, expected):
    assert winograd.applies(w_shape, stride, pad, groups, out_size) is expected


@pytest.mark.parametrize("pad", [(0, 0), (1, 1), (2, 1)])
def test_in_bands_of_tile_rows(monkeypatch, pad):
    """Bands of one or two tile rows (as a large image is cut) give what one band gives, at the edges too."""
    x, w, _, groups = inputs((1, 8, 11, 7, 8, 3, 3, pad, 1), seed=9)
    b = np.random.default_rng(10).standard_normal(8)
    whole = winograd.forward(x, w, pad, groups, b)
    for elements in (16 * 8 * 5, 16 * 8 * 5 * 2):  # tw = 4 or 5 tiles across: one or two tile rows per band
        monkeypatch.setattr(winograd, "BAND_ELEMENTS", elements)
        assert np.array_equal(winograd.forward(x, w, pad, groups, b), whole)
