import numpy as np
import pytest

from minidream.engine.ops import eltwise
from tests.gradcheck import numerical_gradient, rel_error, tie_free

SHAPE = (2, 3, 4, 3)


def _inputs(k, rng):
    # MAX: tie-free values, so every gradient is defined; one permutation split k ways
    values = tie_free((k,) + SHAPE, rng)
    return [values[i] for i in range(k)]


def _check_gradients(xs, dy, dxs, **params):
    for i in range(len(xs)):
        def f(v):
            return eltwise.forward(xs[:i] + [v] + xs[i + 1:], **params)[0]

        assert rel_error(dxs[i], numerical_gradient(f, xs[i].copy(), dy)) < 1e-7


@pytest.mark.parametrize("operation, coeffs", [("SUM", None), ("SUM", [0.5, -2.0, 3.0]), ("PROD", None),
                                               ("MAX", None)])
@pytest.mark.parametrize("k", [2, 3])
def test_eltwise_fast_naive_and_finite_differences(operation, coeffs, k):
    if coeffs is not None and len(coeffs) != k:
        coeffs = coeffs[:k]
    rng = np.random.default_rng(k)
    xs = _inputs(k, rng)
    y, cache = eltwise.forward(xs, operation, coeffs)
    y_ref, cache_ref = eltwise.forward_naive(xs, operation, coeffs)
    assert rel_error(y, y_ref) < 1e-12
    dy = rng.standard_normal(SHAPE)
    dxs = eltwise.backward(dy, cache)
    assert len(dxs) == k
    for fast, ref in zip(dxs, eltwise.backward_naive(dy, cache_ref)):
        assert rel_error(fast, ref) < 1e-12
    _check_gradients(xs, dy, dxs, operation=operation, coeffs=coeffs)


def test_sum_coefficients_by_hand():
    a, b = np.array([1.0, 2.0]), np.array([10.0, 20.0])
    y, cache = eltwise.forward([a, b], "SUM", [2.0, -1.0])
    assert list(y) == [-8.0, -16.0]
    assert [list(d) for d in eltwise.backward(np.ones(2), cache)] == [[2.0, 2.0], [-1.0, -1.0]]


def test_max_ties_follow_caffe_cpu():
    # position 0: x0 == x1 (bottom 1 wins: `a > b ? 0 : 1`); position 1: x1 == x2 after x1 won (x1 keeps it,
    # later bottoms need strictly greater); position 2: x0 == x2 after x0 won (x0 keeps it); position 3: all equal
    x0 = np.array([5.0, 1.0, 7.0, 3.0])
    x1 = np.array([5.0, 6.0, 2.0, 3.0])
    x2 = np.array([1.0, 6.0, 7.0, 3.0])
    y, cache = eltwise.forward([x0, x1, x2], "MAX")
    assert list(y) == [5.0, 6.0, 7.0, 3.0]
    assert list(cache[1]) == [1, 1, 0, 1]
    dx0, dx1, dx2 = eltwise.backward(np.ones(4), cache)
    assert list(dx0) == [0, 0, 1, 0] and list(dx1) == [1, 1, 0, 1] and list(dx2) == [0, 0, 0, 0]
    _, cache_ref = eltwise.forward_naive([x0, x1, x2], "MAX")
    assert np.array_equal(cache_ref[1], cache[1])


def test_max_gives_every_input_a_gradient_even_one_that_never_wins():
    dxs = eltwise.backward(np.ones(2), eltwise.forward([np.ones(2), np.zeros(2), np.zeros(2)], "MAX")[1])
    assert len(dxs) == 3 and not dxs[2].any()


def test_prod_gradient_with_a_zero_input():
    a, b, c = np.array([0.0, 2.0]), np.array([3.0, 4.0]), np.array([5.0, 6.0])
    _, cache = eltwise.forward([a, b, c], "PROD")
    assert list(eltwise.backward(np.ones(2), cache)[0]) == [15.0, 24.0]  # stable: product of the others
    _, cache = eltwise.forward([a, b, c], "PROD", stable_prod_grad=False)
    with np.errstate(invalid="ignore"):
        assert np.isnan(eltwise.backward(np.ones(2), cache)[0][0])  # Caffe's y / x_i is 0/0 there


def test_eltwise_bad_parameters_say_so():
    xs = [np.ones(2), np.ones(2)]
    with pytest.raises(ValueError, match="one coefficient per input"):
        eltwise.forward(xs, "SUM", [1.0])
    with pytest.raises(ValueError, match="only for SUM"):
        eltwise.forward(xs, "PROD", [1.0, 1.0])
    with pytest.raises(ValueError, match="share one shape"):
        eltwise.forward([np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match="unknown Eltwise operation"):
        eltwise.forward(xs, "MEAN")
