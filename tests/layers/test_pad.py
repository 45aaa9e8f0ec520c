"""ops/pad.py (ONNX Pad): against the naive loops, float64 finite differences and onnxruntime, every mode, negative
pads (crops), ranks 2 to 4, and on CuPy arrays through the fake CuPy."""
import numpy as np
import pytest

from minidream.engine.backend import as_numpy, is_gpu
from minidream.engine.ops import pad
from tests.gradcheck import numerical_gradient, rel_error
from tests.onnx_single_node import run_node

CASES = [  # (shape, pads in ONNX's order)
    ((2, 3, 5, 6), [0, 0, 1, 2, 0, 0, 2, 1]),      # a spatial border
    ((2, 3, 5, 6), [0, 1, 0, 3, 0, 0, 4, 0]),      # channels too, one side only
    ((3, 7), [1, -1, -1, 3]),                      # crops and pads together
    ((4, 5, 6), [-1, 0, 2, 0, -2, -3]),
]


def _cases():
    for shape, pads in CASES:
        for mode in pad.MODES:
            yield shape, pads, mode


@pytest.mark.parametrize("shape, pads, mode", list(_cases()))
def test_matches_naive_and_finite_differences(shape, pads, mode):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    y, cache = pad.forward(x, pads, mode, 0.5)
    y_ref, cache_ref = pad.forward_naive(x, pads, mode, 0.5)
    assert np.array_equal(y, y_ref)
    dy = rng.standard_normal(y.shape)
    dx = pad.backward(dy, cache)
    assert rel_error(dx, pad.backward_naive(dy, cache_ref)) < 1e-14
    assert rel_error(dx, numerical_gradient(lambda v: pad.forward(v, pads, mode, 0.5)[0], x, dy)) < 1e-8


@pytest.mark.parametrize("shape, pads, mode", list(_cases()))
def test_matches_onnxruntime(shape, pads, mode):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    expected = run_node("Pad", [x, np.array(pads, np.int64), np.array(0.5, np.float32)], mode=mode)
    assert np.array_equal(pad.forward(x, pads, mode, 0.5)[0], expected)


def test_on_cupy_arrays(fake_device):
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5)).astype(np.float32)
    y, cache = pad.forward(fake_device.asarray(x), [0, 0, 2, 1, 0, 0, 1, 3], "reflect")
    assert is_gpu(y) and np.array_equal(as_numpy(y), pad.forward(x, [0, 0, 2, 1, 0, 0, 1, 3], "reflect")[0])
    dx = pad.backward(fake_device.ones(y.shape, np.float32), cache)
    assert is_gpu(dx) and dx.shape == x.shape


def test_rejects_what_onnx_rejects():
    with pytest.raises(ValueError, match="choose one of constant, reflect, edge"):
        pad.forward(np.zeros((2, 2)), [0, 0, 0, 0], "wrap")
    with pytest.raises(ValueError, match="rank 2 needs 4"):
        pad.forward(np.zeros((2, 2)), [1, 1])
    with pytest.raises(ValueError, match="do not fit"):
        pad.forward(np.zeros((2, 3)), [0, 3, 0, 0], "reflect")  # a mirror needs more cells than the pad
