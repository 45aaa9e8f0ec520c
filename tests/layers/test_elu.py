import numpy as np
import pytest

from minidream.engine.ops import elu
from tests.gradcheck import numerical_gradient, rel_error


@pytest.mark.parametrize("alpha", [1.0, 0.3, 2.5])
def test_elu_fast_naive_and_finite_differences(alpha):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5)) * 2
    y, cache = elu.forward(x, alpha)
    y_ref, cache_ref = elu.forward_naive(x, alpha)
    assert rel_error(y, y_ref) < 1e-12
    dy = rng.standard_normal(y.shape)
    dx = elu.backward(dy, cache)
    assert rel_error(dx, elu.backward_naive(dy, cache_ref)) < 1e-12
    assert rel_error(dx, numerical_gradient(lambda v: elu.forward(v, alpha)[0], x.copy(), dy)) < 1e-7


def test_elu_by_hand():
    y, cache = elu.forward(np.array([-1.0, 0.0, 2.0]), alpha=2.0)
    assert np.allclose(y, [2.0 * (np.exp(-1) - 1), 0.0, 2.0])
    # at x = 0 Caffe takes the x <= 0 branch: slope alpha + y = alpha
    assert np.allclose(elu.backward(np.ones(3), cache), [2.0 * np.exp(-1), 2.0, 1.0])
