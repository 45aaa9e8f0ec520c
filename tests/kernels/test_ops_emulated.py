"""kernels/ops.py through the CPU emulation, against the NumPy layers, to 1e-5.

Same launch code as on the GPU (grid, block, C types), only the launcher differs. Shapes are
small and odd, since the emulation runs one thread after another, but each test has a case
with several blocks' worth of elements (THREADS = 256), so a grid that comes up short leaves
NaN behind (see EmulatedLauncher.empty) and fails.
"""
import numpy as np
import pytest

from kernels import ops
from minidream.layers import avg_pool, conv, lrn, max_pool, relu
from tests.gradcheck import tie_free
from tests.kernels.helpers import CONV_CASES, POOL_CASES, assert_close

pytestmark = pytest.mark.usefixtures("emulated")

@pytest.mark.parametrize("x_shape, f_k, stride, pad, groups", CONV_CASES)
def test_conv_forward_backward(rng, x_shape, f_k, stride, pad, groups):
    f, kh, kw = f_k
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal((f, x_shape[1] // groups, kh, kw)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32)
    y, cache = ops.conv_forward(x, w, b, stride, pad, groups)
    y_ref, cache_ref = conv.forward(x, w, b, stride, pad, groups)
    assert_close(y, y_ref)
    dy = rng.standard_normal(y_ref.shape).astype(np.float32)
    for got, want in zip(ops.conv_backward(dy, cache), conv.backward(dy, cache_ref)):
        assert_close(got, want)


def test_conv_without_bias_or_weight_grads(rng):
    x = rng.standard_normal((2, 2, 5, 6)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    y, cache = ops.conv_forward(x, w, None, (2, 1), (1, 0))
    assert_close(y, conv.forward(x, w, None, (2, 1), (1, 0))[0])
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, db = ops.conv_backward(dy, cache, weight_grads=False)
    assert dw is None and db is None
    assert_close(dx, conv.backward(dy, conv.forward(x, w, None, (2, 1), (1, 0))[1])[0])
    assert ops.conv_backward(dy, cache)[2] is None


def test_conv_backward_takes_the_shared_pointwise_cache(rng):
    # net.py runs sibling 1x1 convolutions as one product (conv.forward_shared_input); on the GPU
    # their caches, which keep col where ours keep x, come back to ops.conv_backward.
    x = rng.standard_normal((2, 5, 6, 7)).astype(np.float32)
    ws = [rng.standard_normal((f, 5, 1, 1)).astype(np.float32) for f in (3, 4)]
    for w, (y, cache) in zip(ws, conv.forward_shared_input(x, ws, [None, None])):
        dy = rng.standard_normal(y.shape).astype(np.float32)
        for got, want in zip(ops.conv_backward(dy, cache), conv.backward(dy, conv.forward(x, w, None)[1])):
            assert (got is None) == (want is None)
            if want is not None:
                assert_close(got, want)


@pytest.mark.parametrize("x_shape, kernel, stride, pad", POOL_CASES)
def test_max_pool_forward_backward(rng, x_shape, kernel, stride, pad):
    x = tie_free(x_shape, rng).astype(np.float32)
    y, cache = ops.max_pool_forward(x, kernel, stride, pad)
    y_ref, cache_ref = max_pool.forward(x, kernel, stride, pad)
    assert_close(y, y_ref)
    dy = rng.standard_normal(y_ref.shape).astype(np.float32)
    assert_close(ops.max_pool_backward(dy, cache), max_pool.backward(dy, cache_ref))


@pytest.mark.parametrize("x_shape, kernel, stride, pad", POOL_CASES)
def test_avg_pool_forward_backward(rng, x_shape, kernel, stride, pad):
    x = rng.standard_normal(x_shape).astype(np.float32)
    y, cache = ops.avg_pool_forward(x, kernel, stride, pad)
    y_ref, cache_ref = avg_pool.forward(x, kernel, stride, pad)
    assert_close(y, y_ref)
    dy = rng.standard_normal(y_ref.shape).astype(np.float32)
    assert_close(ops.avg_pool_backward(dy, cache), avg_pool.backward(dy, cache_ref))


# Large alpha on purpose: with AlexNet's 1e-4 a window one channel off would still pass.
@pytest.mark.parametrize("x_shape, size, alpha, beta, k", [
    ((2, 7, 9, 11), 5, 2.0, 0.75, 1.0),
    ((1, 6, 4, 3), 3, 1.5, 0.5, 2.0),
    ((2, 3, 2, 2), 7, 1.0, 0.75, 1.0),  # window wider than the channels
    ((1, 4, 5, 5), 1, 3.0, 1.0, 1.0),
])
def test_lrn_forward_backward(rng, x_shape, size, alpha, beta, k):
    x = rng.standard_normal(x_shape).astype(np.float32)
    y, cache = ops.lrn_forward(x, size, alpha, beta, k)
    y_ref, cache_ref = lrn.forward(x, size, alpha, beta, k)
    assert_close(y, y_ref)
    assert_close(cache[2], cache_ref[2])  # the scale the fused kernel computes on the way
    dy = rng.standard_normal(x_shape).astype(np.float32)
    assert_close(ops.lrn_backward(dy, cache), lrn.backward(dy, cache_ref))


def test_lrn_rejects_even_window(rng):
    with pytest.raises(ValueError, match="odd"):
        ops.lrn_forward(np.zeros((1, 4, 2, 2), np.float32), 4)


@pytest.mark.parametrize("slope", [0.0, 0.1])
def test_relu_forward_backward(rng, slope):
    x = rng.standard_normal((2, 3, 11, 13)).astype(np.float32)
    y, cache = ops.relu_forward(x, slope)
    y_ref, cache_ref = relu.forward(x, slope)
    assert_close(y, y_ref)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    assert_close(ops.relu_backward(dy, cache), relu.backward(dy, cache_ref))


def test_relu_in_place(rng):
    x = rng.standard_normal((1, 4, 3, 3)).astype(np.float32)
    expected = np.maximum(x, 0)
    y, _ = ops.relu_forward(x, 0.0, out=x)
    assert y is x
    assert_close(x, expected)


def test_relu_in_place_on_a_channel_slice(rng):
    # The Net runs ReLU in place on slices of the joint output of sibling 1x1 convolutions.
    joint = rng.standard_normal((2, 6, 3, 5)).astype(np.float32)
    expected = joint.copy()
    expected[:, 2:5] = np.where(joint[:, 2:5] > 0, joint[:, 2:5], 0.1 * joint[:, 2:5])
    part = joint[:, 2:5]
    y, cache = ops.relu_forward(part, 0.1, out=part)
    assert y is part
    assert_close(joint, expected)
    assert_close(ops.relu_backward(np.ones_like(part), cache), np.where(part > 0, 1, 0.1).astype(np.float32))


@pytest.mark.parametrize("shape", [(1, 3, 37, 41), (2, 3, 9, 11)])
def test_dream_update(rng, shape):
    x = rng.uniform(-120, 120, shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32) * 1e-3
    lo = np.array([-104.0, -117.0, -123.0], np.float32)  # -mean_bgr
    hi = 255 + lo
    expected = x + 1.5 / np.abs(g).mean() * g
    expected = np.clip(expected, lo[:, None, None], hi[:, None, None])
    assert ops.dream_update(x, g, 1.5, lo, hi) is None
    assert_close(x, expected)


def test_dream_update_zero_gradient_only_clips():
    x = np.full((1, 2, 3, 4), 5.0, np.float32)
    ops.dream_update(x, np.zeros_like(x), 1.5, -1.0, [10.0, 2.0])
    assert not np.isnan(x).any()
    np.testing.assert_array_equal(x[0, 0], 5.0)
    np.testing.assert_array_equal(x[0, 1], 2.0)


def test_dream_update_needs_a_writable_contiguous_image(rng):
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    with pytest.raises(ValueError, match="in place"):
        ops.dream_update(x[:, :, ::2], np.ones((1, 3, 4, 8), np.float32), 1.0, -1, 1)


@pytest.mark.parametrize("oy, ox", [(0, 0), (3, -2), (-7, 5), (40, -41), (8, 9)])
def test_roll_matches_numpy(rng, oy, ox):
    x = rng.standard_normal((2, 3, 8, 9)).astype(np.float32)
    np.testing.assert_array_equal(ops.roll(x, oy, ox), np.roll(x, (oy, ox), axis=(2, 3)))
