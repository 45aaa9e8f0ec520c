"""LayerNormalization: fast vs naive, finite differences for x, scale and bias, and the forward against
onnxruntime."""
import numpy as np
import pytest

from minidream.engine.ops import layer_norm
from tests.argument_gradients import check_argument_gradients
from tests.gradcheck import rel_error
from tests.onnx_single_node import run_node

CASES = [  # (x's shape, axis, scale's shape, bias's shape or None)
    ((2, 5, 6), -1, (6,), (6,)),  # a ViT's tokens, normalized over the width
    ((2, 5, 6), 1, (5, 6), (6,)),  # over the last two axes; a bias broadcast along one of them
    ((3, 4), 0, (3, 4), None),  # over everything, no bias
    ((2, 3, 2, 2), -3, (3, 1, 1), (3, 2, 2)),  # a per-channel scale broadcast over the normalized axes
]


@pytest.mark.parametrize("shape, axis, scale_shape, bias_shape", CASES)
def test_fast_naive_and_finite_differences(shape, axis, scale_shape, bias_shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 2 + 1
    scale = rng.standard_normal(scale_shape)
    bias = None if bias_shape is None else rng.standard_normal(bias_shape)
    epsilon = 0.1  # large, so that a wrong epsilon shows
    y, cache = layer_norm.forward(x, scale, bias, axis, epsilon)
    y_ref, cache_ref = layer_norm.forward_naive(x, scale, bias, axis, epsilon)
    assert rel_error(y, y_ref) < 1e-13
    dy = rng.standard_normal(shape)
    check_argument_gradients(layer_norm.forward, (x, scale, bias), layer_norm.backward(dy, cache),
                             layer_norm.backward_naive(dy, cache_ref), dy, axis=axis, epsilon=epsilon)


@pytest.mark.parametrize("shape, axis, scale_shape, bias_shape", CASES)
def test_forward_matches_onnxruntime_in_float32(shape, axis, scale_shape, bias_shape):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    scale = rng.standard_normal(scale_shape).astype(np.float32)
    bias = None if bias_shape is None else rng.standard_normal(bias_shape).astype(np.float32)
    y, cache = layer_norm.forward(x, scale, bias, axis, 1e-3)
    np.testing.assert_allclose(y, run_node("LayerNormalization", [x, scale, bias], axis=axis, epsilon=1e-3),
                               rtol=1e-6, atol=1e-6)
    assert y.dtype == np.float32
    assert all(g is None or g.dtype == np.float32 for g in layer_norm.backward(np.ones_like(y), cache))


def test_rows_come_out_normalized():
    x = np.random.default_rng(2).standard_normal((4, 7, 16)) * 5 + 3
    y, _ = layer_norm.forward(x, np.ones(16), None, -1, 0.0)
    assert np.allclose(y.mean(axis=-1), 0) and np.allclose(y.std(axis=-1), 1)
