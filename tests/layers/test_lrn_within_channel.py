import numpy as np
import pytest

from minidream.engine.ops import avg_pool, lrn_within_channel as lrn
from tests.gradcheck import numerical_gradient, rel_error

# alpha near 1: a window one pixel short, or a divisor that skips the padding, changes y by far more than 1e-7
HYPER = [(3, 1.0, 0.75), (5, 1.5, 0.5), (1, 2.0, 0.75), (7, 0.9, 1.2)]


@pytest.mark.parametrize("local_size, alpha, beta", HYPER)
def test_fast_matches_naive(local_size, alpha, beta):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 5))
    y, cache = lrn.forward(x, local_size, alpha, beta)
    y_ref, cache_ref = lrn.forward_naive(x, local_size, alpha, beta)
    assert rel_error(y, y_ref) < 1e-12
    dy = rng.standard_normal(y.shape)
    assert rel_error(lrn.backward(dy, cache), lrn.backward_naive(dy, cache_ref)) < 1e-12


@pytest.mark.parametrize("local_size, alpha, beta", HYPER)
def test_gradient_matches_finite_differences(local_size, alpha, beta):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 5, 4))
    y, cache = lrn.forward(x, local_size, alpha, beta)
    dy = rng.standard_normal(y.shape)
    num = numerical_gradient(lambda v: lrn.forward(v, local_size, alpha, beta)[0], x.copy(), dy)
    assert rel_error(lrn.backward(dy, cache), num) < 1e-7


@pytest.mark.parametrize("local_size, alpha, beta", HYPER)
def test_equals_caffes_composition_of_square_ave_pool_and_power(local_size, alpha, beta):
    # Caffe's own construction: Power(2) -> Pooling AVE (n, stride 1, pad (n-1)/2) -> Power(-beta, alpha, 1) -> PROD
    x = np.random.default_rng(2).standard_normal((1, 2, 7, 6))
    half = (local_size - 1) // 2
    pooled, _ = avg_pool.forward(x * x, (local_size, local_size), (1, 1), (half, half))
    y, _ = lrn.forward(x, local_size, alpha, beta)
    assert rel_error(y, x * (1 + alpha * pooled) ** -beta) < 1e-12


def test_corner_divides_by_n_squared_and_the_shift_is_1():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0], x[0, 0, 0, 1], x[0, 0, 1, 0] = 2.0, 1.0, 3.0
    y, _ = lrn.forward(x, local_size=3, alpha=9.0, beta=1.0)
    # the corner's window holds 4 real pixels, but Caffe divides by 3*3 = 9: s = 1 + 9 * (4 + 1 + 9) / 9 = 15
    assert np.isclose(y[0, 0, 0, 0], 2.0 / 15.0)
    assert np.isclose(y[0, 0, 0, 1], 1.0 / 15.0)  # its window holds the same three non-zero pixels


def test_bad_parameters_say_so():
    with pytest.raises(ValueError, match="odd"):
        lrn.forward(np.zeros((1, 1, 3, 3)), local_size=4)
    with pytest.raises(ValueError, match="4-D"):
        lrn.forward(np.zeros((1, 3, 3)), local_size=3)
