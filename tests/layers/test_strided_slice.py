"""ops/strided_slice.py (ONNX Slice): ONNX's clamping (negative and out-of-range bounds, the exporters' INT_MAX and
INT_MIN sentinels, negative steps) against the naive loops, onnxruntime and hand-worked answers; integer inputs (no
gradient); backward against the loops and finite differences; CuPy arrays through the fake CuPy."""
import numpy as np
import pytest

from minidream.engine.backend import as_numpy, is_gpu
from minidream.engine.ops import strided_slice
from tests.gradcheck import numerical_gradient, rel_error
from tests.onnx_single_node import run_node

INT_MAX, INT_MIN = 2 ** 63 - 1, -2 ** 63
CASES = [  # (starts, ends, axes, steps)
    ([1], [INT_MAX], [1], None),                  # x[:, 1:]
    ([0], [-1], [-1], [1]),                        # x[..., :-1]
    ([-1], [INT_MIN], [2], [-1]),                  # reversed: the whole axis
    ([INT_MAX], [INT_MIN], [1], [-2]),             # from the last cell, every other one, backwards
    ([10, -20], [-10, 20], [0, 3], [1, 2]),        # out of range both ways: an empty axis 0, axis 3 clamped
    ([2, 3], [0, 1], [1, 2], [-1, -1]),
    ([0, 0, 1], [3, 4, 5], None, [2, 3, 2]),
]
SHAPE = (3, 4, 5, 6)


@pytest.mark.parametrize("starts, ends, axes, steps", CASES)
def test_matches_naive_onnxruntime_and_finite_differences(starts, ends, axes, steps):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE)
    y, cache = strided_slice.forward(x, starts, ends, axes, steps)
    y_ref, cache_ref = strided_slice.forward_naive(x, starts, ends, axes, steps)
    assert np.array_equal(y, y_ref)
    inputs = [x.astype(np.float32)] + [None if v is None else np.array(v, np.int64) for v in (starts, ends, axes,
                                                                                                 steps)]
    if axes is None and steps is not None:
        inputs[3] = np.arange(len(starts), dtype=np.int64)
    assert np.array_equal(y.astype(np.float32), run_node("Slice", inputs))
    dy = rng.standard_normal(y.shape)
    dx = strided_slice.backward(dy, cache)
    assert np.array_equal(dx, strided_slice.backward_naive(dy, cache_ref))
    num = numerical_gradient(lambda v: strided_slice.forward(v, starts, ends, axes, steps)[0], x, dy)
    assert rel_error(dx, num) < 1e-8 if dy.size else not dx.any()


def test_hand_worked_bounds():
    x = np.arange(6)
    assert strided_slice.forward(x, [INT_MAX], [INT_MIN], steps=[-1])[0].tolist() == [5, 4, 3, 2, 1, 0]
    assert strided_slice.forward(x, [-2], [INT_MAX])[0].tolist() == [4, 5]
    assert strided_slice.forward(x, [4], [-1], steps=[-1])[0].tolist() == []  # end -1 + 6 = 5: above the start
    assert strided_slice.forward(x, [100], [-100], steps=[-3])[0].tolist() == [5, 2]


def test_integer_input_is_shape_arithmetic_without_gradient():
    shape = np.array([1, 3, 224, 224], np.int64)
    y, cache = strided_slice.forward(shape, [2], [INT_MAX])
    assert y.dtype == np.int64 and y.tolist() == [224, 224]
    assert strided_slice.backward(np.ones(2), cache) is None
    assert strided_slice.backward_naive(np.ones(2), strided_slice.forward_naive(shape, [2], [INT_MAX])[1]) is None


def test_on_cupy_arrays(fake_device):
    x = np.random.default_rng(1).standard_normal(SHAPE).astype(np.float32)
    y, cache = strided_slice.forward(fake_device.asarray(x), [-1], [INT_MIN], [1], [-2])
    assert is_gpu(y) and np.array_equal(as_numpy(y), x[:, ::-2])
    dx = strided_slice.backward(fake_device.ones(y.shape, np.float32), cache)
    assert is_gpu(dx) and as_numpy(dx).sum() == y.size


def test_rejects_a_zero_step_and_a_missing_axis():
    with pytest.raises(ValueError, match="step 0"):
        strided_slice.forward(np.zeros(3), [0], [1], steps=[0])
    with pytest.raises(ValueError, match="axis 4 of a rank-4 input"):
        strided_slice.forward(np.zeros(SHAPE), [0], [1], axes=[4])
