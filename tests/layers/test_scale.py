import numpy as np
import pytest

from minidream.engine.ops import scale
from tests.gradcheck import numerical_gradient, rel_error

CASES = [((2, 3, 4, 5), 1, (3,)), ((2, 3, 4, 5), 1, (3, 4)), ((2, 3, 4, 5), -1, (5,)),
         ((2, 3, 4, 5), 0, ()), ((4, 6), 1, (6,)), ((2, 3, 4, 5), 0, (2, 3, 4, 5))]


@pytest.mark.parametrize("x_shape, axis, g_shape", CASES)
@pytest.mark.parametrize("with_bias", [False, True])
def test_scale_fast_naive_and_finite_differences(x_shape, axis, g_shape, with_bias):
    rng = np.random.default_rng(0)
    x, gamma = rng.standard_normal(x_shape), rng.standard_normal(g_shape)
    beta = rng.standard_normal(g_shape) if with_bias else None
    y, cache = scale.forward(x, gamma, beta, axis)
    y_ref, cache_ref = scale.forward_naive(x, gamma, beta, axis)
    assert rel_error(y, y_ref) < 1e-12
    dy = rng.standard_normal(y.shape)
    dx, dgamma, dbeta = scale.backward(dy, cache)
    dx_ref, dgamma_ref, dbeta_ref = scale.backward_naive(dy, cache_ref)
    assert rel_error(dx, dx_ref) < 1e-12 and rel_error(dgamma, dgamma_ref) < 1e-12 and dgamma.shape == g_shape
    assert (dbeta is None) == (dbeta_ref is None) == (not with_bias)
    if with_bias:
        assert rel_error(dbeta, dbeta_ref) < 1e-12 and dbeta.shape == g_shape

    def f(xv=x, gv=gamma, bv=beta):
        return scale.forward(xv, gv, bv, axis)[0]

    assert rel_error(dx, numerical_gradient(lambda v: f(xv=v), x.copy(), dy)) < 1e-7
    # dgamma is also the gradient to bottom[1] in the two-bottom form: the same function of a second input
    assert rel_error(dgamma, numerical_gradient(lambda v: f(gv=v), gamma.copy(), dy)) < 1e-7
    if with_bias:
        assert rel_error(dbeta, numerical_gradient(lambda v: f(bv=v), beta.copy(), dy)) < 1e-7


def test_scale_by_hand():
    x = np.ones((1, 2, 1, 2))
    y, _ = scale.forward(x, np.array([2.0, 3.0]), np.array([10.0, 20.0]))
    assert np.array_equal(y[0, :, 0, 0], [12.0, 23.0])


def test_scale_bias_shape_must_match():
    with pytest.raises(ValueError, match="must match"):
        scale.forward(np.ones((1, 2, 2, 2)), np.ones(2), np.ones(3))
    assert scale.param_shape((2, 3, 4, 5)) == (3,)
