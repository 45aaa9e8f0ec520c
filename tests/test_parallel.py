"""The threaded paths of minidream.layers.parallel.for_blocks: inputs large enough to be split over the cores give
what the naive loop versions give."""
import numpy as np
import pytest

from minidream.layers import conv, lrn, max_pool, parallel
from tests.gradcheck import rel_error, tie_free


@pytest.fixture
def split(monkeypatch):
    """Force 3 worker blocks (even on a 1-core machine) and count the calls that really ran in blocks."""
    monkeypatch.setattr(parallel, "WORKERS", 3)
    monkeypatch.setattr(parallel, "_executor", None)
    calls = []
    original = parallel.for_blocks

    def counting(work, length, elements):
        calls.append(min(parallel.WORKERS, length) >= 2 and elements >= parallel.MIN_ELEMENTS)
        return original(work, length, elements)

    for module in (conv, lrn, max_pool):
        monkeypatch.setattr(module, "for_blocks", counting)
    return calls


def test_max_pool_in_blocks_matches_naive(split):
    rng = np.random.default_rng(0)
    x = tie_free((2, 9, 45, 47), rng)  # 38,070 elements, 9 channels over 3 blocks; stride 1: dy as large
    y, cache = max_pool.forward(x, (3, 3), (1, 1), (1, 1))
    y_ref, cache_ref = max_pool.forward_naive(x, (3, 3), (1, 1), (1, 1))
    dy = rng.standard_normal(y.shape)
    assert rel_error(y, y_ref) == 0 and rel_error(max_pool.backward(dy, cache), max_pool.backward_naive(dy, cache_ref)) < 1e-12
    assert all(split) and len(split) == 2


def test_lrn_in_blocks_matches_naive(split):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 10, 61, 63))
    y, cache = lrn.forward(x, 5, 1.0, 0.75, 2.0)
    y_ref, cache_ref = lrn.forward_naive(x, 5, 1.0, 0.75, 2.0)
    dy = rng.standard_normal(y.shape)
    assert rel_error(y, y_ref) < 1e-12 and rel_error(lrn.backward(dy, cache), lrn.backward_naive(dy, cache_ref)) < 1e-12
    assert all(split) and len(split) == 2


def test_conv_im2col_and_col2im_in_blocks_match_naive(split):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 6, 33, 35))
    w = rng.standard_normal((3, 6, 3, 3))
    b = rng.standard_normal(3)
    y, cache = conv.forward(x, w, b, (1, 1), (1, 1))  # col: 62,370 elements
    y_ref, cache_ref = conv.forward_naive(x, w, b, (1, 1), (1, 1))
    dy = rng.standard_normal(y.shape)
    assert rel_error(y, y_ref) < 1e-12
    for fast, naive in zip(conv.backward(dy, cache), conv.backward_naive(dy, cache_ref)):
        assert rel_error(fast, naive) < 1e-12
    assert all(split) and len(split) == 3  # im2col (forward), col2im and im2col again (dw)
