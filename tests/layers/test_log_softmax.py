"""LogSoftmax, and Softmax on any rank and a negative axis (ONNX's default): fast vs naive, finite differences, and
the forward against onnxruntime."""
import numpy as np
import pytest

from minidream.engine.ops import log_softmax, softmax
from tests.argument_gradients import check_one_input_op
from tests.onnx_single_node import run_node

SHAPES_AND_AXES = [((3, 5), -1), ((2, 4, 6), -1), ((2, 4, 6), 1), ((2, 3, 2, 4), -3), ((7,), 0)]


@pytest.mark.parametrize("op", [log_softmax, softmax], ids=["log_softmax", "softmax"])
@pytest.mark.parametrize("shape, axis", SHAPES_AND_AXES)
def test_fast_naive_and_finite_differences(op, shape, axis):
    check_one_input_op(op, np.random.default_rng(0).standard_normal(shape) * 3, axis, naive_tolerance=1e-12)


@pytest.mark.parametrize("op, op_type", [(log_softmax, "LogSoftmax"), (softmax, "Softmax")])
@pytest.mark.parametrize("shape, axis", SHAPES_AND_AXES)
def test_forward_matches_onnxruntime_in_float32(op, op_type, shape, axis):
    x = (np.random.default_rng(1).standard_normal(shape) * 3).astype(np.float32)
    y, cache = op.forward(x, axis)
    # a log-softmax near 0 is a difference of numbers of x's size: x's rounding, not y's, bounds its error there
    np.testing.assert_allclose(y, run_node(op_type, [x], axis=axis), rtol=1e-6, atol=1e-7 * np.abs(x).max())
    assert y.dtype == np.float32 and op.backward(np.ones_like(y), cache).dtype == np.float32


def test_log_softmax_is_exact_for_large_logits():
    y, _ = log_softmax.forward(np.array([[1000.0, 1000.0, -1000.0]], np.float32))
    assert np.allclose(y, [[-np.log(2), -np.log(2), -2000 - np.log(2)]])
