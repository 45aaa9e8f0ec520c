import numpy as np

from minidream.engine.ops import tanh
from tests.gradcheck import numerical_gradient, rel_error


def test_tanh_fast_naive_and_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5)) * 2
    y, cache = tanh.forward(x)
    y_ref, cache_ref = tanh.forward_naive(x)
    assert rel_error(y, y_ref) < 1e-12 and np.allclose(y, np.tanh(x))
    dy = rng.standard_normal(y.shape)
    dx = tanh.backward(dy, cache)
    assert rel_error(dx, tanh.backward_naive(dy, cache_ref)) < 1e-12
    assert rel_error(dx, numerical_gradient(lambda v: tanh.forward(v)[0], x.copy(), dy)) < 1e-7


def test_tanh_saturates_without_overflow():
    y, cache = tanh.forward(np.array([-1e4, 1e4], np.float32))
    assert list(y) == [-1.0, 1.0] and list(tanh.backward(np.ones(2, np.float32), cache)) == [0.0, 0.0]
