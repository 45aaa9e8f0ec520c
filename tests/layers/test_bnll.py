import numpy as np

from minidream.engine.ops import bnll
from tests.gradcheck import numerical_gradient, rel_error


def test_bnll_fast_naive_and_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5)) * 4
    y, cache = bnll.forward(x)
    y_ref, cache_ref = bnll.forward_naive(x)
    assert rel_error(y, y_ref) < 1e-12 and np.allclose(y, np.log(1 + np.exp(x)))
    dy = rng.standard_normal(y.shape)
    dx = bnll.backward(dy, cache)
    assert rel_error(dx, bnll.backward_naive(dy, cache_ref)) < 1e-12
    assert rel_error(dx, numerical_gradient(lambda v: bnll.forward(v)[0], x.copy(), dy)) < 1e-7


def test_bnll_threshold_keeps_large_inputs_finite():
    x = np.array([-1000.0, 0.0, 60.0, 1000.0], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y, cache = bnll.forward(x)
        dx = bnll.backward(np.ones_like(x), cache)
    assert np.allclose(y, [0.0, np.log(2.0), 60.0, 1000.0])
    # exp(min(x, 50)) caps the exponent: e/(e+1) is exactly 1 in float32 past the threshold, never inf/inf
    assert dx[0] == 0.0 and dx[1] == 0.5 and dx[2] == 1.0 and dx[3] == 1.0
