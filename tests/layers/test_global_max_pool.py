"""ops/global_max_pool.py (ONNX GlobalMaxPool): ranks 3 to 5 against the naive loops, onnxruntime and float64 finite
differences (tie-free inputs), the first maximum on ties, and on CuPy arrays through the fake CuPy."""
import numpy as np
import pytest

from minidream.engine.backend import as_numpy, is_gpu
from minidream.engine.ops import global_max_pool
from tests.gradcheck import numerical_gradient, rel_error, tie_free
from tests.onnx_single_node import run_node


@pytest.mark.parametrize("shape", [(2, 3, 7), (2, 3, 5, 6), (1, 2, 3, 4, 2)])
def test_matches_naive_onnxruntime_and_finite_differences(shape):
    rng = np.random.default_rng(0)
    x = tie_free(shape, rng)
    y, cache = global_max_pool.forward(x)
    y_ref, cache_ref = global_max_pool.forward_naive(x)
    assert y.shape == shape[:2] + (1,) * (len(shape) - 2) and np.array_equal(y, y_ref)
    assert np.array_equal(y.astype(np.float32), run_node("GlobalMaxPool", [x.astype(np.float32)]))
    dy = rng.standard_normal(y.shape)
    dx = global_max_pool.backward(dy, cache)
    assert np.array_equal(dx, global_max_pool.backward_naive(dy, cache_ref))
    assert rel_error(dx, numerical_gradient(lambda v: global_max_pool.forward(v)[0], x, dy)) < 1e-8


def test_ties_go_to_the_first_maximum():
    x = np.zeros((1, 1, 2, 2), np.float32)
    y, cache = global_max_pool.forward(x)
    dx = global_max_pool.backward(np.ones_like(y), cache)
    assert dx[0, 0, 0, 0] == 1 and dx.sum() == 1


def test_on_cupy_arrays(fake_device):
    x = tie_free((2, 3, 4, 5), np.random.default_rng(1)).astype(np.float32)
    y, cache = global_max_pool.forward(fake_device.asarray(x))
    assert is_gpu(y) and np.array_equal(as_numpy(y), x.max(axis=(2, 3), keepdims=True))
    dx = global_max_pool.backward(fake_device.ones(y.shape, np.float32), cache)
    assert is_gpu(dx) and dx.dtype == np.float32 and as_numpy(dx).sum() == 6


def test_needs_spatial_axes():
    with pytest.raises(ValueError, match="spatial"):
        global_max_pool.forward(np.zeros((2, 3)))
