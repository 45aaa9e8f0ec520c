import numpy as np
import pytest

from minidream.engine.ops import slice as slice_op
from tests.gradcheck import numerical_gradient, rel_error


@pytest.mark.parametrize("num_tops, axis, points, sizes", [(3, 1, (1, 4), (1, 3, 2)), (2, 1, (), (3, 3)),
                                                           (3, 0, (), (1, 1, 1)), (2, -1, (3,), (3, 1)),
                                                           (4, 2, (1, 2, 3), (1, 1, 1, 2))])
def test_slice_fast_naive_and_backward(num_tops, axis, points, sizes):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 5, 4))
    shapes = slice_op.output_shape(x.shape, num_tops, axis, points)
    assert [s[axis] for s in shapes] == list(sizes)
    ys, cache = slice_op.forward(x, num_tops, axis, points)
    ys_ref, cache_ref = slice_op.forward_naive(x, num_tops, axis, points)
    assert [y.shape for y in ys] == shapes
    for y, y_ref in zip(ys, ys_ref):
        assert np.array_equal(y, y_ref)
    assert np.array_equal(np.concatenate(ys, axis=axis), x)
    dys = [rng.standard_normal(s) for s in shapes]
    dys[1] = None  # an output nobody used: its part of dx is zero
    dx = slice_op.backward(dys, cache)
    assert np.array_equal(dx, slice_op.backward_naive(dys, cache_ref))
    full = [np.zeros(s) if d is None else d for d, s in zip(dys, shapes)]
    assert np.array_equal(dx, np.concatenate(full, axis=axis))


def test_slice_points_by_hand():
    x = np.arange(10.0).reshape(1, 10)
    a, b, c = slice_op.forward(x, 3, axis=1, slice_point=(2, 7))[0]
    assert a.tolist() == [[0, 1]] and b.tolist() == [[2, 3, 4, 5, 6]] and c.tolist() == [[7, 8, 9]]


@pytest.mark.parametrize("num_tops, points, message", [(3, (2,), "makes 2 outputs"), (3, (4, 2), "increase strictly"),
                                                       (2, (0,), "increase strictly"), (2, (6,), "increase strictly"),
                                                       (4, (), "divide by 4")])
def test_slice_bad_points_say_so(num_tops, points, message):
    with pytest.raises(ValueError, match=message):
        slice_op.output_shape((2, 6), num_tops, 1, points)


def test_slice_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 3))
    ys, cache = slice_op.forward(x, 3, 1, (1, 3))
    dys = [rng.standard_normal(y.shape) for y in ys]

    def joined(v):  # all outputs in one array, so sum(f(x) * dy) is the loss of all of them
        return np.concatenate([y.ravel() for y in slice_op.forward(v, 3, 1, (1, 3))[0]])

    num = numerical_gradient(joined, x, np.concatenate([d.ravel() for d in dys]))
    assert rel_error(slice_op.backward(dys, cache), num) < 1e-9
