import numpy as np
import pytest

from minidream.engine.ops import flatten
from tests.gradcheck import numerical_gradient, rel_error


@pytest.mark.parametrize("axis, end_axis, expected", [(1, -1, (2, 60)), (0, -1, (120,)), (1, 2, (2, 12, 5)),
                                                     (2, 3, (2, 3, 20)), (-3, -2, (2, 12, 5)), (2, 1, (2, 3, 1, 4, 5))])
def test_flatten_shapes_and_order(axis, end_axis, expected):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    assert flatten.output_shape(x.shape, axis, end_axis) == expected
    y, cache = flatten.forward(x, axis, end_axis)
    y_ref, cache_ref = flatten.forward_naive(x, axis, end_axis)
    assert y.shape == expected and np.array_equal(y, y_ref)
    dy = np.random.default_rng(1).standard_normal(expected)
    dx = flatten.backward(dy, cache)
    assert dx.shape == x.shape and np.array_equal(dx, flatten.backward_naive(dy, cache_ref))
    assert np.array_equal(flatten.backward(y, cache), x)  # a pure relabelling: backward undoes forward


def test_flatten_keeps_chw_order():
    x = np.arange(12.0).reshape(1, 3, 2, 2)
    y, _ = flatten.forward(x)
    assert y[0, 5] == x[0, 1, 0, 1]


def test_flatten_bad_axes_say_so():
    with pytest.raises(ValueError, match="out of range"):
        flatten.output_shape((2, 3), axis=2)
    with pytest.raises(ValueError, match="comes before"):
        flatten.output_shape((2, 3, 4, 5), axis=3, end_axis=1)


def test_flatten_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 2, 2))
    y, cache = flatten.forward(x, 1, 2)
    dy = rng.standard_normal(y.shape)
    num = numerical_gradient(lambda v: flatten.forward(v, 1, 2)[0], x, dy)
    assert rel_error(flatten.backward(dy, cache), num) < 1e-9
