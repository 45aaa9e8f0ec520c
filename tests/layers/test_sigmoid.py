import numpy as np

from minidream.engine.ops import sigmoid
from tests.gradcheck import numerical_gradient, rel_error


def test_sigmoid_fast_naive_and_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5)) * 3
    y, cache = sigmoid.forward(x)
    y_ref, cache_ref = sigmoid.forward_naive(x)
    assert rel_error(y, y_ref) < 1e-12 and np.allclose(y, 1 / (1 + np.exp(-x)))
    dy = rng.standard_normal(y.shape)
    dx = sigmoid.backward(dy, cache)
    assert rel_error(dx, sigmoid.backward_naive(dy, cache_ref)) < 1e-12
    assert rel_error(dx, numerical_gradient(lambda v: sigmoid.forward(v)[0], x.copy(), dy)) < 1e-7


def test_sigmoid_is_finite_for_huge_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # the tanh form never overflows
        y, _ = sigmoid.forward(np.array([-1e4, 0.0, 1e4], np.float32))
    assert list(y) == [0.0, 0.5, 1.0] and y.dtype == np.float32
