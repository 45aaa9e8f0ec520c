"""Winograd F(2x2, 3x3) (minidream/layers/winograd.py), the CPU path of 3x3 stride-1 convolutions: against the
direct loop convolution in float64, tile by tile, in pieces and blocks, and through conv.forward/backward."""
import numpy as np
import pytest

from minidream.layers import conv, parallel, winograd
from tests.gradcheck import numerical_gradient, rel_error

CASES = [  # (N, C, H, W, F, pad, groups)
    (2, 8, 7, 9, 8, (1, 1), 1),     # odd output: the last tiles stick out
    (1, 16, 6, 5, 24, (0, 0), 2),   # valid convolution, two groups; backward pads by 2
    (1, 8, 3, 3, 16, (2, 2), 1),    # padding 2: a 5x5 output from a 3x3 image
    (1, 8, 4, 11, 8, (2, 0), 1),    # different padding down and across
    (1, 12, 1, 1, 8, (1, 1), 1),    # a 1x1 image
]


def _inputs(case, dtype=np.float64, seed=0):
    n, c, h, w, f, pad, groups = case
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, c, h, w)).astype(dtype), rng.standard_normal((f, c // groups, 3, 3)).astype(dtype),
            pad, groups)


@pytest.mark.parametrize("case", CASES)
def test_forward_and_dx_match_the_direct_loops(case):
    x, w, pad, groups = _inputs(case)
    b = np.random.default_rng(8).standard_normal(w.shape[0])
    y_ref, cache = conv.forward_naive(x, w, b, (1, 1), pad, groups)
    y = winograd.forward(x, w, pad, groups, b)
    assert y.shape == y_ref.shape and rel_error(y, y_ref) < 1e-13
    dy = np.random.default_rng(1).standard_normal(y.shape)
    dx = winograd.backward_dx(dy, w, x.shape, pad, groups)
    assert dx.shape == x.shape and rel_error(dx, conv.backward_naive(dy, cache, weight_grads=False)[0]) < 1e-13


@pytest.mark.parametrize("case", [c for c in CASES if c[-1] == 1])
def test_the_tile_by_tile_textbook_version_matches_the_direct_loops(case):
    x, w, pad, _ = _inputs(case)
    assert rel_error(winograd.forward_naive(x, w, pad), conv.forward_naive(x, w, None, (1, 1), pad)[0]) < 1e-13


def test_dx_matches_finite_differences():
    x, w, pad, groups = _inputs((1, 8, 4, 5, 8, (1, 1), 2), seed=2)
    dy = np.random.default_rng(3).standard_normal((1, 8, 4, 5))
    numeric = numerical_gradient(lambda v: winograd.forward(v, w, pad, groups), x, dy)
    assert rel_error(winograd.backward_dx(dy, w, x.shape, pad, groups), numeric) < 1e-8


def test_in_pieces_and_worker_blocks(monkeypatch):
    """Transforms split over 3 workers and into pieces of a few channels (as a large image is) change nothing."""
    x, w, pad, groups = _inputs((1, 10, 40, 50, 12, (1, 1), 1), seed=4)
    whole = winograd.forward(x, w, pad, groups)
    monkeypatch.setattr(parallel, "WORKERS", 3)
    monkeypatch.setattr(parallel, "_executor", None)
    monkeypatch.setattr(parallel, "PIECE_ELEMENTS", 2000)  # 1-2 channels per piece
    monkeypatch.setattr(winograd, "MIN_THREADED", 0)
    assert np.array_equal(winograd.forward(x, w, pad, groups), whole)


def test_conv_runs_3x3_stride_1_through_winograd_with_bias_and_weight_gradients(monkeypatch):
    x, w, pad, groups = _inputs((2, 16, 20, 21, 16, (1, 1), 2), dtype=np.float32, seed=5)
    b = np.random.default_rng(6).standard_normal(16).astype(np.float32)
    calls = []
    for name in ("forward", "backward_dx"):
        original = getattr(winograd, name)
        monkeypatch.setattr(winograd, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    y, cache = conv.forward(x, w, b, (1, 1), pad, groups)
    y_ref, cache_ref = conv.forward_naive(x.astype(np.float64), w.astype(np.float64), b, (1, 1), pad, groups)
    assert y.dtype == np.float32 and rel_error(y, y_ref) < 1e-6
    dy = np.random.default_rng(7).standard_normal(y.shape).astype(np.float32)
    for fast, ref in zip(conv.backward(dy, cache), conv.backward_naive(dy.astype(np.float64), cache_ref)):
        assert fast.dtype == np.float32 and rel_error(fast, ref) < 1e-6
    assert calls == ["forward", "backward_dx"]  # dw from im2col's columns


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
    x, w, _, groups = _inputs((1, 8, 11, 7, 8, pad, 1), seed=9)
    b = np.random.default_rng(10).standard_normal(8)
    whole = winograd.forward(x, w, pad, groups, b)
    for elements in (16 * 8 * 5, 16 * 8 * 5 * 2):  # tw = 4 or 5 tiles across: one or two tile rows per band
        monkeypatch.setattr(winograd, "BAND_ELEMENTS", elements)
        assert np.array_equal(winograd.forward(x, w, pad, groups, b), whole)
