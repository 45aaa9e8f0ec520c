import numpy as np
import pytest

from minidream.engine.ops import reshape
from tests.gradcheck import numerical_gradient, rel_error

# caffe.proto's own examples for a 2 x 8 input, and a few more
CASES = [((2, 8), (2, 2, 4), 0, -1, (2, 2, 4)), ((2, 8), (0, 2, 4), 0, -1, (2, 2, 4)),
         ((2, 8), (0, 2, -1), 0, -1, (2, 2, 4)), ((2, 8), (0, -1, 4), 0, -1, (2, 2, 4)),
         ((2, 8), (2, 4), 1, -1, (2, 2, 4)), ((2, 8), (2, 4), -2, -1, (2, 2, 4)),
         ((2, 8), (1, 2), 0, 1, (1, 2, 8)), ((2, 8), (1,), 0, 0, (1, 2, 8)), ((2, 8), (1,), 1, 0, (2, 1, 8)),
         ((2, 3, 4, 5), (0, -1), 0, -1, (2, 60)), ((2, 3, 4, 5), (0, -1), 1, -1, (2, 3, 20)),
         ((2, 3, 4, 5), (-1, 0, 0), 1, -1, (2, 3, 4, 5)),
         ((2, 3, 4, 5), (6,), 0, 2, (6, 4, 5)), ((2, 3, 4, 5), (1, 1), -1, 0, (2, 3, 4, 5, 1, 1))]


@pytest.mark.parametrize("in_shape, shape, axis, num_axes, expected", CASES)
def test_reshape_follows_caffe(in_shape, shape, axis, num_axes, expected):
    assert reshape.output_shape(in_shape, shape, axis, num_axes) == expected
    x = np.random.default_rng(0).standard_normal(in_shape)
    y, cache = reshape.forward(x, shape, axis, num_axes)
    y_ref, cache_ref = reshape.forward_naive(x, shape, axis, num_axes)
    assert y.shape == expected and np.array_equal(y, y_ref)
    dy = np.random.default_rng(1).standard_normal(expected)
    dx = reshape.backward(dy, cache)
    assert np.array_equal(dx, reshape.backward_naive(dy, cache_ref)) and dx.shape == tuple(in_shape)


@pytest.mark.parametrize("shape, axis, num_axes, message", [
    ((-1, -1), 0, -1, "at most one -1"), ((3, -1), 0, -1, "do not divide"), ((5, 5), 0, -1, "element count"),
    ((0, 0, 0), 0, -1, "no axis 2 to copy"), ((2,), 3, -1, "out of range"), ((2,), 1, 2, "goes past"),
    ((-2, 8), 0, -1, "at most one -1"), ((16,), 0, -2, "num_axes must be")])
def test_reshape_impossible_shapes_say_why(shape, axis, num_axes, message):
    with pytest.raises(ValueError, match=message):
        reshape.output_shape((2, 8), shape, axis, num_axes)


def test_reshape_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4))
    y, cache = reshape.forward(x, (0, -1, 2), 1)
    dy = rng.standard_normal(y.shape)
    num = numerical_gradient(lambda v: reshape.forward(v, (0, -1, 2), 1)[0], x, dy)
    assert y.shape == (2, 3, 2, 2) and rel_error(reshape.backward(dy, cache), num) < 1e-9
