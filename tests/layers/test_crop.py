import numpy as np
import pytest

from minidream.engine.ops import crop
from tests.gradcheck import numerical_gradient, rel_error

CASES = [  # (x shape, ref shape, axis, offset)
    ((2, 3, 9, 8), (1, 1, 5, 4), 2, ()), ((2, 3, 9, 8), (1, 1, 5, 4), 2, (3,)),
    ((2, 3, 9, 8), (1, 1, 5, 4), 2, (4, 1)), ((2, 3, 9, 8), (2, 2, 5, 4), 1, (1, 2, 3)),
    ((2, 3, 9, 8), (1, 1, 9, 2), -1, (6,)), ((4, 3, 9, 8), (2, 2, 5, 4), 0, (1,)),
]


@pytest.mark.parametrize("x_shape, ref_shape, axis, offset", CASES)
def test_crop_fast_naive_and_backward(x_shape, ref_shape, axis, offset):
    rng = np.random.default_rng(0)
    x, ref = rng.standard_normal(x_shape), rng.standard_normal(ref_shape)
    expected = crop.output_shape(x_shape, ref_shape, axis, offset)
    y, cache = crop.forward(x, ref, axis, offset)
    y_ref, cache_ref = crop.forward_naive(x, ref, axis, offset)
    assert y.shape == expected and np.array_equal(y, y_ref)
    dy = rng.standard_normal(expected)
    dx, dref = crop.backward(dy, cache)
    dx_ref, dref_ref = crop.backward_naive(dy, cache_ref)
    assert np.array_equal(dx, dx_ref) and dx.shape == x_shape
    assert dref.shape == ref_shape and not dref.any() and not dref_ref.any()
    assert np.isclose(np.sum(dx * x), np.sum(dy * y))  # backward is the adjoint of the crop


def test_crop_offsets_by_hand():
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    y, _ = crop.forward(x, np.zeros((1, 1, 2, 3)), axis=2, offset=(1, 2))
    assert y[0, 0].tolist() == [[8, 9, 10], [14, 15, 16]]
    y, _ = crop.forward(x, np.zeros((1, 1, 2, 3)), axis=2, offset=(3,))  # one offset for every cropped axis
    assert y[0, 0].tolist() == [[21, 22, 23], [27, 28, 29]]
    y, _ = crop.forward(x, np.zeros((1, 1, 2, 3)), axis=2)  # no offset: 0
    assert y[0, 0].tolist() == [[0, 1, 2], [6, 7, 8]]


@pytest.mark.parametrize("ref_shape, axis, offset, message", [
    ((1, 1, 5, 5), 2, (2,), "out of bounds"), ((1, 1, 2, 2), 2, (1, 2, 3), "takes 1 offset or 2"),
    ((1, 1, 2), 2, (), "same number of axes"), ((1, 1, 2, 2), 4, (), "out of range")])
def test_crop_bad_parameters_say_so(ref_shape, axis, offset, message):
    with pytest.raises(ValueError, match=message):
        crop.output_shape((1, 1, 6, 6), ref_shape, axis, offset)


def test_crop_gradients_match_finite_differences():
    rng = np.random.default_rng(2)
    x, ref = rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((1, 1, 3, 2))
    y, cache = crop.forward(x, ref, 2, (1, 2))
    dy = rng.standard_normal(y.shape)
    dx, dref = crop.backward(dy, cache)
    assert rel_error(dx, numerical_gradient(lambda v: crop.forward(v, ref, 2, (1, 2))[0], x, dy)) < 1e-9
    # y does not depend on ref's values at all: its numerical gradient is exactly zero, like dref
    assert np.array_equal(dref, numerical_gradient(lambda v: crop.forward(x, v, 2, (1, 2))[0], ref, dy))
