"""Transpose and ReduceMean/ReduceSum/ReduceMax: fast vs naive, finite differences (tie-free inputs for max), the
first-maximum rule, and the forward against onnxruntime."""
import numpy as np
import pytest

from minidream.engine.ops import reduce, transpose
from tests.argument_gradients import check_one_input_op
from tests.gradcheck import tie_free
from tests.onnx_single_node import run_node

PERMS = [((2, 3, 4), None), ((2, 3, 4, 5), (0, 2, 1, 3)), ((3, 4), (1, 0)), ((2, 3, 4), (-1, 0, 1)), ((5,), None)]


@pytest.mark.parametrize("shape, perm", PERMS)
def test_transpose_fast_naive_and_finite_differences(shape, perm):
    check_one_input_op(transpose, np.random.default_rng(0).standard_normal(shape), perm)


@pytest.mark.parametrize("shape, perm", PERMS)
def test_transpose_matches_onnxruntime(shape, perm):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    attributes = {} if perm is None else {"perm": [p % len(shape) for p in perm]}
    assert np.array_equal(transpose.forward(x, perm)[0], run_node("Transpose", [x], **attributes))


def test_transpose_rejects_a_non_permutation():
    with pytest.raises(ValueError, match="not a permutation"):
        transpose.forward(np.zeros((2, 3, 4)), (0, 0, 1))


REDUCTIONS = [((2, 3, 4), (-1,), True), ((2, 3, 4), (0, 2), False), ((2, 3, 4, 2), (1, -1), True),
              ((3, 4), None, False), ((2, 3, 4), (), True), ((6,), (0,), True)]


@pytest.mark.parametrize("shape, axes, keepdims", REDUCTIONS)
@pytest.mark.parametrize("kind", reduce.KINDS)
def test_reduce_fast_naive_and_finite_differences(kind, shape, axes, keepdims):
    x = tie_free(shape, np.random.default_rng(2))  # no ties: the max's gradient is defined
    check_one_input_op(reduce, x, kind, axes, keepdims)


@pytest.mark.parametrize("shape, axes, keepdims", REDUCTIONS)
@pytest.mark.parametrize("kind", reduce.KINDS)
def test_reduce_matches_onnxruntime_in_float32(kind, shape, axes, keepdims):
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    y, cache = reduce.forward(x, kind, axes, keepdims)
    axes_input = None if not axes else np.array(axes, np.int64)  # no axes (opset 18): all of them
    reference = run_node("Reduce" + kind.capitalize(), [x, axes_input], keepdims=int(keepdims))
    np.testing.assert_allclose(y, reference, rtol=1e-6, atol=1e-6)
    assert y.dtype == np.float32 and reduce.backward(np.ones_like(y), cache).dtype == np.float32


def test_reduce_max_sends_the_gradient_to_the_first_maximum():
    """Ties: the first maximum in row-major order of the reduced axes, here (0, 1) of each (2, 2) block."""
    x = np.array([[[1.0, 3.0], [3.0, 0.0]], [[2.0, 2.0], [2.0, 2.0]]])
    for forward, backward in [(reduce.forward, reduce.backward), (reduce.forward_naive, reduce.backward_naive)]:
        y, cache = forward(x, "max", (1, 2), False)
        dx = backward(np.array([10.0, 20.0]), cache)
        assert list(y) == [3.0, 2.0]
        assert dx.tolist() == [[[0.0, 10.0], [0.0, 0.0]], [[20.0, 0.0], [0.0, 0.0]]]


def test_reduce_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="mean, sum, max"):
        reduce.forward(np.zeros(3), "min")
