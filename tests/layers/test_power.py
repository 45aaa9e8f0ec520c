import numpy as np
import pytest

from minidream.engine.ops import power
from tests.gradcheck import numerical_gradient, rel_error

# (power, scale, shift): the general case, Caffe's special cases 0, 1 and 2, shift 0, and scale 0
CASES = [(1.7, 0.6, 2.5), (-0.75, 1.3, 3.0), (2.0, -1.5, 0.5), (1.0, 2.5, -1.0), (3.0, 0.8, 0.0),
         (0.0, 2.0, 1.0), (2.5, 0.0, 1.5)]


@pytest.mark.parametrize("p, scale, shift", CASES)
def test_power_fast_naive_and_finite_differences(p, scale, shift):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 1.5, (2, 3, 4, 5))  # shift + scale * x stays positive for fractional powers
    y, cache = power.forward(x, p, scale, shift)
    y_ref, cache_ref = power.forward_naive(x, p, scale, shift)
    assert rel_error(y, y_ref) < 1e-12
    dy = rng.standard_normal(y.shape)
    dx = power.backward(dy, cache)
    assert rel_error(dx, power.backward_naive(dy, cache_ref)) < 1e-12
    num = numerical_gradient(lambda v: power.forward(v, p, scale, shift)[0], x.copy(), dy)
    assert np.allclose(dx, num, atol=1e-7, rtol=1e-6)


def test_power_formula_by_hand():
    x = np.array([1.0, 2.0])
    y, _ = power.forward(x, power=3.0, scale=2.0, shift=1.0)
    assert np.allclose(y, [27.0, 125.0])  # (1 + 2x)^3


def test_power_caffe_constant_cases():
    x = np.array([-3.0, 0.0, 4.0])
    y, cache = power.forward(x, power=0.0, scale=5.0, shift=0.0)  # power 0: 1 everywhere, even at base 0
    assert list(y) == [1.0, 1.0, 1.0] and list(power.backward(np.ones(3), cache)) == [0.0, 0.0, 0.0]
    y, cache = power.forward(x, power=2.0, scale=0.0, shift=3.0)  # scale 0: shift^power, input ignored
    assert list(y) == [9.0, 9.0, 9.0] and list(power.backward(np.ones(3), cache)) == [0.0, 0.0, 0.0]


def test_power_zero_base_gives_the_limit_not_nan():
    # Caffe's power * y / x would be 0/0 here; the true derivative of (2x)^3 at 0 is 0
    _, cache = power.forward(np.array([0.0, 1.0]), power=3.0, scale=2.0, shift=0.0)
    assert list(power.backward(np.ones(2), cache)) == [0.0, 24.0]


def test_power_keeps_float32():
    y, cache = power.forward(np.ones(3, np.float32), power=1.5, scale=2.0, shift=1.0)
    assert y.dtype == np.float32 and power.backward(np.ones(3, np.float32), cache).dtype == np.float32
