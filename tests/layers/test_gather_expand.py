"""Gather and Expand: fast vs naive, finite differences (repeated indices add up), integer inputs, and the forward
against onnxruntime."""
import sys
import types

import numpy as np
import pytest

from minidream.engine.ops import expand, gather
from tests.argument_gradients import check_one_input_op
from tests.onnx_single_node import run_node

GATHERS = [  # (x's shape, indices, axis)
    ((5, 3), [0, 4, -1, 2], 0),  # a negative index; 4 and -1 are the same row: its gradient adds up
    ((2, 6, 3), 0, 1),  # a ViT's class token: a 0-d index removes the axis
    ((2, 4, 3), [[1, 1], [3, -4]], 1),  # 2-D indices, repeats
    ((2, 3, 4), [3, 0], -1),
]


@pytest.mark.parametrize("shape, indices, axis", GATHERS)
def test_gather_fast_naive_and_finite_differences(shape, indices, axis):
    x, indices = np.random.default_rng(0).standard_normal(shape), np.array(indices)
    y = check_one_input_op(gather, x, indices, axis)
    assert y.shape == np.take(x, indices, axis=axis).shape


@pytest.mark.parametrize("shape, indices, axis", GATHERS)
def test_gather_matches_onnxruntime(shape, indices, axis):
    x, indices = np.random.default_rng(1).standard_normal(shape).astype(np.float32), np.array(indices, np.int64)
    assert np.array_equal(gather.forward(x, indices, axis)[0], run_node("Gather", [x, indices], axis=axis))


def test_gather_on_integers_has_no_gradient():
    shape_of_x = np.array([8, 197, 768], np.int64)
    y, cache = gather.forward(shape_of_x, np.array(-1), 0)
    assert y == 768 and y.dtype == np.int64 and gather.backward(np.ones(()), cache) is None
    assert gather.backward_naive(np.ones(()), gather.forward_naive(shape_of_x, np.array(-1))[1]) is None


def test_gather_names_indices_out_of_range():
    with pytest.raises(ValueError, match=r"gather indices \[-5, 4\] are out of range for axis 0 of size 4"):
        gather.forward(np.zeros((4, 2)), np.array([0, 4, -5, 4]))


def test_gather_scatters_through_cupyx_on_device(fake_device, monkeypatch):
    """On CuPy arrays the scatter-add is cupyx.scatter_add's (a stand-in here with numpy.add.at's meaning)."""
    monkeypatch.setitem(sys.modules, "cupyx", types.SimpleNamespace(scatter_add=np.add.at))
    x = fake_device.asarray(np.arange(12.0).reshape(3, 4))
    y, cache = gather.forward(x, np.array([[2, 0], [2, 2]]), 0)
    dx = gather.backward(fake_device.asarray(np.ones(y.shape)), cache)
    assert isinstance(dx, fake_device.ndarray) and np.asarray(dx).tolist() == [[1.0] * 4, [0.0] * 4, [3.0] * 4]


EXPANSIONS = [((3, 1), (2, 3, 4)), ((4,), (3, 1)), ((2, 3), (1, 3)), ((1, 1, 5), (2, 1, 1)), ((), (2, 2))]


@pytest.mark.parametrize("shape, target", EXPANSIONS)
def test_expand_fast_naive_and_finite_differences(shape, target):
    y = check_one_input_op(expand, np.asarray(np.random.default_rng(2).standard_normal(shape)), target)
    assert y.shape == np.broadcast_shapes(shape, target) and y.flags.writeable


@pytest.mark.parametrize("shape, target", EXPANSIONS)
def test_expand_matches_onnxruntime(shape, target):
    x = np.asarray(np.random.default_rng(3).standard_normal(shape), np.float32)
    expected = run_node("Expand", [x, np.array(target, np.int64)])
    assert np.array_equal(expand.forward(x, np.array(target, np.int64))[0], expected)


def test_expand_on_integers_has_no_gradient():
    y, cache = expand.forward(np.array([1, 2]), [3, 2])
    assert y.tolist() == [[1, 2]] * 3 and expand.backward(np.ones((3, 2)), cache) is None
