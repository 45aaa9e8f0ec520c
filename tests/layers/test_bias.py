import numpy as np
import pytest

from minidream.engine.ops import bias
from tests.gradcheck import numerical_gradient, rel_error

# (x shape, axis, b shape): per channel, two axes from 1, a negative axis, axis 0, a scalar, a 2-D input
CASES = [((2, 3, 4, 5), 1, (3,)), ((2, 3, 4, 5), 1, (3, 4)), ((2, 3, 4, 5), -2, (4, 5)),
         ((2, 3, 4, 5), 0, (2,)), ((2, 3, 4, 5), 1, ()), ((4, 6), 1, (6,))]


@pytest.mark.parametrize("x_shape, axis, b_shape", CASES)
def test_bias_fast_naive_and_finite_differences(x_shape, axis, b_shape):
    rng = np.random.default_rng(0)
    x, b = rng.standard_normal(x_shape), rng.standard_normal(b_shape)
    y, cache = bias.forward(x, b, axis)
    y_ref, cache_ref = bias.forward_naive(x, b, axis)
    assert rel_error(y, y_ref) < 1e-12
    dy = rng.standard_normal(y.shape)
    dx, db = bias.backward(dy, cache)
    dx_ref, db_ref = bias.backward_naive(dy, cache_ref)
    assert np.array_equal(dx, dx_ref) and rel_error(db, db_ref) < 1e-12 and db.shape == b.shape
    assert rel_error(dx, numerical_gradient(lambda v: bias.forward(v, b, axis)[0], x.copy(), dy)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda v: bias.forward(x, v, axis)[0], b.copy(), dy)) < 1e-7


def test_bias_is_per_channel_by_default():
    y, _ = bias.forward(np.zeros((1, 3, 2, 2)), np.array([1.0, 2.0, 3.0]))
    assert np.array_equal(y[0, :, 1, 1], [1.0, 2.0, 3.0])


def test_param_shape_follows_caffe():
    assert bias.param_shape((2, 3, 4, 5)) == (3,)
    assert bias.param_shape((2, 3, 4, 5), axis=1, num_axes=-1) == (3, 4, 5)
    assert bias.param_shape((2, 3, 4, 5), axis=-1, num_axes=1) == (5,)
    assert bias.param_shape((2, 3, 4, 5), axis=2, num_axes=0) == ()
    with pytest.raises(ValueError, match="goes past"):
        bias.param_shape((2, 3), axis=1, num_axes=2)


def test_bias_shape_mismatch_says_so():
    with pytest.raises(ValueError, match=r"must equal the input's axes 1..1, \(3,\)"):
        bias.forward(np.zeros((2, 3, 4, 4)), np.zeros(4))
