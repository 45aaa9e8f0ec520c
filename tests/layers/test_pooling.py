import numpy as np
import pytest

from minidream.engine.ops import avg_pool, max_pool, pool_shape
from tests.gradcheck import numerical_gradient, rel_error, tie_free

CASES = [  # (N, C, H, W, kernel, stride, pad)
    (2, 3, 7, 7, (3, 3), (2, 2), (0, 0)),     # ceil mode: the last window hangs over
    (1, 2, 8, 9, (3, 3), (2, 2), (1, 1)),
    (2, 2, 6, 5, (3, 3), (1, 1), (1, 1)),     # inception's pool
    (1, 3, 14, 14, (5, 5), (3, 3), (0, 0)),   # GoogLeNet's auxiliary avg pool
    (1, 2, 7, 7, (7, 7), (1, 1), (0, 0)),     # pool5/7x7_s1
    (3, 1, 10, 7, (2, 3), (3, 2), (1, 2)),
    (1, 2, 5, 5, (2, 2), (2, 2), (1, 1)),     # clip rule drops a window starting in the padding
]


@pytest.mark.parametrize("op", [max_pool, avg_pool], ids=["max", "ave"])
@pytest.mark.parametrize("case", CASES)
def test_fast_matches_naive(op, case):
    n, c, h, w, kernel, stride, pad = case
    rng = np.random.default_rng(0)
    x = tie_free((n, c, h, w), rng).astype(np.float32)
    y, cache = op.forward(x, kernel, stride, pad)
    y_ref, cache_ref = op.forward_naive(x, kernel, stride, pad)
    assert y.shape == y_ref.shape
    assert rel_error(y, y_ref) < 1e-6
    dy = rng.standard_normal(y.shape).astype(np.float32)
    assert rel_error(op.backward(dy, cache), op.backward_naive(dy, cache_ref)) < 1e-6


@pytest.mark.parametrize("op", [max_pool, avg_pool], ids=["max", "ave"])
@pytest.mark.parametrize("case", CASES[:4] + CASES[5:])
def test_gradients_match_finite_differences(op, case):
    n, c, h, w, kernel, stride, pad = case
    rng = np.random.default_rng(3)
    x = tie_free((n, c, h, w), rng)  # tie-free, spacing >> h, so the argmax never flips
    y, cache = op.forward(x, kernel, stride, pad)
    dy = rng.standard_normal(y.shape)
    num = numerical_gradient(lambda v: op.forward(v, kernel, stride, pad)[0], x, dy, h=1e-6)
    assert rel_error(op.backward(dy, cache), num) < 1e-7


def test_caffe_output_sizes():
    # GoogLeNet at 224: conv1 112 -> pool1 56 -> pool2 28 -> pool3 14 -> pool4 7 (3x3, stride 2, ceil mode)
    sizes = [112]
    for _ in range(4):
        sizes.append(pool_shape.output_size(sizes[-1], 3, 2, 0))
    assert sizes == [112, 56, 28, 14, 7]
    # AlexNet at 227: conv1 55 -> 27 -> 13 -> 6
    assert [pool_shape.output_size(s, 3, 2, 0) for s in (55, 27, 13)] == [27, 13, 6]
    assert pool_shape.output_size(14, 5, 3, 0) == 4       # ceil((14-5)/3)+1
    assert pool_shape.output_size(5, 2, 2, 1) == 3        # 4 by ceil, then the clip rule drops one
    assert pool_shape.output_size(28, 3, 1, 1) == 28


def test_max_padding_never_wins():
    x = -np.ones((1, 1, 3, 3), np.float32) * 5  # all negative: a zero pad would win if it counted
    y, _ = max_pool.forward(x, (3, 3), (1, 1), (1, 1))
    assert np.all(y == -5)


def test_avg_divisor_counts_padding_but_not_overhang():
    x = np.ones((1, 1, 4, 4), np.float32)
    y, _ = avg_pool.forward(x, (3, 3), (2, 2), (1, 1))
    assert y.shape == (1, 1, 3, 3)  # ceil((4 + 2 - 3) / 2) + 1
    # Rows [-1, 2): divisor 3 (the padded row counts), real pixels 2.
    assert np.isclose(y[0, 0, 0, 0], 4 / 9)
    assert np.isclose(y[0, 0, 0, 1], 2 / 3)
    assert np.isclose(y[0, 0, 1, 1], 1.0)
    # Rows [3, 6) overhang the padded border [-1, 5): divisor 2, not 3; real pixels 1.
    assert np.isclose(y[0, 0, 2, 2], 1 / 4)


def test_ties_go_to_the_first_maximum():
    x = np.zeros((1, 1, 2, 2), np.float32)
    y, cache = max_pool.forward(x, (2, 2), (2, 2), (0, 0))
    dx = max_pool.backward(np.ones_like(y), cache)
    assert dx[0, 0, 0, 0] == 1 and dx.sum() == 1


def test_window_too_large_raises():
    with pytest.raises(ValueError, match="does not fit"):
        pool_shape.output_size(2, 5, 1, 0)
