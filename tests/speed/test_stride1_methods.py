"""The fast engine's methods of stride-1 convolutions, Winograd (speed/winograd.py, 3x3) and shifted rows
(speed/shifted_rows.py, any filter), against the direct loop convolution in float64: forward with a bias, dx, the
textbook versions, and dx against finite differences; and conv.forward/backward running through each."""
import numpy as np
import pytest

from minidream.engine.ops import conv
from minidream.engine.speed import shifted_rows, winograd
from tests.conv_methods import (assert_dx_matches_finite_differences, assert_matches_direct_loops,
                                assert_textbook_matches_direct_loops, inputs)
from tests.gradcheck import rel_error

WINOGRAD_CASES = [  # (N, C, H, W, F, KH, KW, pad, groups)
    (2, 8, 7, 9, 8, 3, 3, (1, 1), 1),     # odd output: the last tiles stick out
    (1, 16, 6, 5, 24, 3, 3, (0, 0), 2),   # valid convolution, two groups; backward pads by 2
    (1, 8, 3, 3, 16, 3, 3, (2, 2), 1),    # padding 2: a 5x5 output from a 3x3 image
    (1, 8, 4, 11, 8, 3, 3, (2, 0), 1),    # different padding down and across
    (1, 12, 1, 1, 8, 3, 3, (1, 1), 1),    # a 1x1 image
]
SHIFTED_ROWS_CASES = [
    (2, 6, 7, 9, 8, 5, 5, (2, 2), 1),    # a batch: images laid end to end, the rows between them thrown away
    (1, 8, 6, 7, 12, 5, 5, (0, 0), 2),   # valid convolution, two groups
    (1, 4, 4, 11, 6, 3, 7, (1, 3), 1),   # a filter wider than tall, different padding down and across
    (2, 3, 5, 6, 4, 2, 2, (0, 1), 1),    # an even filter
    (1, 4, 3, 3, 4, 3, 3, (3, 3), 1),    # padding beyond the filter: the output is larger than the image
    (1, 5, 1, 1, 3, 5, 5, (2, 2), 1),    # a 1x1 image
    (1, 6, 5, 8, 9, 1, 5, (0, 2), 3),    # one filter row, three groups
]
CASES = [(winograd, case) for case in WINOGRAD_CASES] + [(shifted_rows, case) for case in SHIFTED_ROWS_CASES]
NAMES = [f"{method.__name__.rsplit('.', 1)[-1]}-{i}" for i, (method, _) in enumerate(CASES)]


@pytest.mark.parametrize("method, case", CASES, ids=NAMES)
def test_forward_and_dx_match_the_direct_loops(method, case):
    assert_matches_direct_loops(method, *inputs(case))


@pytest.mark.parametrize("method, case", [(m, c) for m, c in CASES if c[-1] == 1],
                         ids=[n for n, (_, c) in zip(NAMES, CASES) if c[-1] == 1])
def test_the_textbook_versions_match_the_direct_loops(method, case):
    assert_textbook_matches_direct_loops(method, *inputs(case)[:3])


@pytest.mark.parametrize("method, case", [(winograd, (1, 8, 4, 5, 8, 3, 3, (1, 1), 2)),
                                          (shifted_rows, (2, 4, 5, 6, 4, 3, 5, (1, 2), 2))])
def test_dx_matches_finite_differences(method, case):
    assert_dx_matches_finite_differences(method, *inputs(case, seed=2))


@pytest.mark.parametrize("method, case", [(winograd, (2, 16, 20, 21, 16, 3, 3, (1, 1), 2)),
                                          (shifted_rows, (2, 32, 20, 21, 16, 5, 5, (2, 2), 2))])
def test_conv_runs_through_the_method_with_bias_and_weight_gradients(monkeypatch, method, case):
    x, w, pad, groups = inputs(case, dtype=np.float32, seed=5)
    b = np.random.default_rng(6).standard_normal(w.shape[0]).astype(np.float32)
    calls = []
    for name in ("forward", "backward_dx"):
        original = getattr(method, name)
        monkeypatch.setattr(method, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    y, cache = conv.forward(x, w, b, (1, 1), pad, groups)
    y_ref, cache_ref = conv.forward_naive(x.astype(np.float64), w.astype(np.float64), b, (1, 1), pad, groups)
    assert y.dtype == np.float32 and rel_error(y, y_ref) < 1e-6
    dy = np.random.default_rng(7).standard_normal(y.shape).astype(np.float32)
    for fast, ref in zip(conv.backward(dy, cache), conv.backward_naive(dy.astype(np.float64), cache_ref)):
        assert fast.dtype == np.float32 and rel_error(fast, ref) < 1e-6
    assert calls == ["forward", "backward_dx"]  # dw from im2col's columns
