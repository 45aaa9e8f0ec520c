import numpy as np

from minidream.engine.ops import absval
from tests.gradcheck import numerical_gradient, rel_error


def test_absval_fast_naive_and_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5))
    x[np.abs(x) < 1e-3] = 0.5  # keep finite differences away from the kink
    y, cache = absval.forward(x)
    y_ref, cache_ref = absval.forward_naive(x)
    assert np.array_equal(y, y_ref) and np.array_equal(y, np.abs(x))
    dy = rng.standard_normal(y.shape)
    dx = absval.backward(dy, cache)
    assert np.array_equal(dx, absval.backward_naive(dy, cache_ref))
    assert rel_error(dx, numerical_gradient(lambda v: absval.forward(v)[0], x.copy(), dy)) < 1e-7


def test_absval_zero_input_passes_no_gradient():
    # Caffe's caffe_cpu_sign(0) = 0
    _, cache = absval.forward(np.array([-2.0, 0.0, 3.0]))
    assert list(absval.backward(np.array([5.0, 5.0, 5.0]), cache)) == [-5.0, 0.0, 5.0]
