"""Every op's GPU branch through a fake CuPy whose kernels run in the CPU emulation, against the NumPy branch.

The ops are called as the Net calls them (minidream.engine.ops.<op>.forward with device arrays), so the dispatch, the
cache each branch records and the launch code (grid, block, C types) are all checked; only the array module is a
stand-in. Shapes are small and odd, since the emulation runs one thread after another, but each test has a case
with several blocks' worth of elements (THREADS = 256), so a grid that comes up short leaves NaN behind
(EmulatedLauncher.empty) and fails.
"""
import numpy as np
import pytest

from minidream.dreaming import ascent
from minidream.engine.backend import as_numpy, is_gpu
from minidream.engine.ops import avg_pool, conv, lrn, max_pool, relu
from minidream.engine.plans import forward_shared_input
from tests.gradcheck import tie_free
from tests.kernels import fake_cupy
from tests.kernels.helpers import CONV_CASES, POOL_CASES, assert_close

pytestmark = pytest.mark.usefixtures("emulated")


@pytest.fixture
def cp(monkeypatch):
    fake, launcher = fake_cupy.install(monkeypatch)
    fake.launcher = launcher
    return fake


def close(actual, expected):
    assert is_gpu(actual)
    assert_close(as_numpy(actual), expected)


@pytest.mark.parametrize("x_shape, f_k, stride, pad, groups", CONV_CASES)
def test_conv_forward_backward(cp, rng, x_shape, f_k, stride, pad, groups):
    f, kh, kw = f_k
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal((f, x_shape[1] // groups, kh, kw)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32)
    y, cache = conv.forward(cp.asarray(x), cp.asarray(w), cp.asarray(b), stride, pad, groups)
    y_ref, cache_ref = conv.forward(x, w, b, stride, pad, groups)
    assert cache.path == "gpu" and cache_ref.path != "gpu"
    close(y, y_ref)
    dy = rng.standard_normal(y_ref.shape).astype(np.float32)
    for got, want in zip(conv.backward(cp.asarray(dy), cache), conv.backward(dy, cache_ref)):
        close(got, want)
    if kh * kw > 1 or stride != (1, 1):
        assert {"im2col", "col2im"} <= cp.launcher.launched


def test_conv_without_bias_or_weight_grads(cp, rng):
    x = rng.standard_normal((2, 2, 5, 6)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    y, cache = conv.forward(cp.asarray(x), cp.asarray(w), None, (2, 1), (1, 0))
    y_ref, cache_ref = conv.forward(x, w, None, (2, 1), (1, 0))
    close(y, y_ref)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, db = conv.backward(cp.asarray(dy), cache, weight_grads=False)
    assert dw is None and db is None
    close(dx, conv.backward(dy, cache_ref)[0])
    assert conv.backward(cp.asarray(dy), cache)[2] is None


def test_conv_backward_takes_the_shared_pointwise_cache(cp, rng):
    # The Net runs sibling 1x1 convolutions as one product (plans.forward_shared_input); their caches come back
    # to conv.backward, which must take the GPU branch for them.
    x = rng.standard_normal((2, 5, 6, 7)).astype(np.float32)
    ws = [rng.standard_normal((f, 5, 1, 1)).astype(np.float32) for f in (3, 4)]
    for w, (y, cache) in zip(ws, forward_shared_input(cp.asarray(x), [cp.asarray(w) for w in ws], [None, None])):
        assert cache.path == "gpu"
        dy = rng.standard_normal(y.shape).astype(np.float32)
        for got, want in zip(conv.backward(cp.asarray(dy), cache), conv.backward(dy, conv.forward(x, w, None)[1])):
            assert (got is None) == (want is None)
            if want is not None:
                close(got, want)


@pytest.mark.parametrize("x_shape, kernel, stride, pad", POOL_CASES)
def test_max_pool_forward_backward(cp, rng, x_shape, kernel, stride, pad):
    x = tie_free(x_shape, rng).astype(np.float32)
    y, cache = max_pool.forward(cp.asarray(x), kernel, stride, pad)
    y_ref, cache_ref = max_pool.forward(x, kernel, stride, pad)
    assert cache.path == "gpu" and cache.winners.dtype == np.int32
    close(y, y_ref)
    dy = rng.standard_normal(y_ref.shape).astype(np.float32)
    close(max_pool.backward(cp.asarray(dy), cache), max_pool.backward(dy, cache_ref))


@pytest.mark.parametrize("x_shape, kernel, stride, pad", POOL_CASES)
def test_avg_pool_forward_backward(cp, rng, x_shape, kernel, stride, pad):
    x = rng.standard_normal(x_shape).astype(np.float32)
    y, cache = avg_pool.forward(cp.asarray(x), kernel, stride, pad)
    y_ref, cache_ref = avg_pool.forward(x, kernel, stride, pad)
    close(y, y_ref)
    dy = rng.standard_normal(y_ref.shape).astype(np.float32)
    close(avg_pool.backward(cp.asarray(dy), cache), avg_pool.backward(dy, cache_ref))


# Large alpha on purpose: with AlexNet's 1e-4 a window one channel off would still pass.
@pytest.mark.parametrize("x_shape, size, alpha, beta, k", [
    ((2, 7, 9, 11), 5, 2.0, 0.75, 1.0),
    ((1, 6, 4, 3), 3, 1.5, 0.5, 2.0),
    ((2, 3, 2, 2), 7, 1.0, 0.75, 1.0),  # window wider than the channels
    ((1, 4, 5, 5), 1, 3.0, 1.0, 1.0),
])
def test_lrn_forward_backward(cp, rng, x_shape, size, alpha, beta, k):
    x = rng.standard_normal(x_shape).astype(np.float32)
    y, cache = lrn.forward(cp.asarray(x), size, alpha, beta, k)
    y_ref, cache_ref = lrn.forward(x, size, alpha, beta, k)
    close(y, y_ref)
    close(cache.scale, cache_ref.scale)  # the scale the fused kernel computes on the way
    assert cache.scale_pow is None
    dy = rng.standard_normal(x_shape).astype(np.float32)
    close(lrn.backward(cp.asarray(dy), cache), lrn.backward(dy, cache_ref))


def test_lrn_rejects_even_window(cp):
    with pytest.raises(ValueError, match="odd"):
        lrn.forward(cp.zeros((1, 4, 2, 2), np.float32), 4)


@pytest.mark.parametrize("slope", [0.0, 0.1])
def test_relu_forward_backward(cp, rng, slope):
    x = rng.standard_normal((2, 3, 11, 13)).astype(np.float32)
    y, cache = relu.forward(cp.asarray(x), slope)
    y_ref, cache_ref = relu.forward(x, slope)
    close(y, y_ref)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    close(relu.backward(cp.asarray(dy), cache), relu.backward(dy, cache_ref))


def test_relu_in_place(cp, rng):
    x = cp.asarray(rng.standard_normal((1, 4, 3, 3)).astype(np.float32))
    expected = np.maximum(as_numpy(x), 0)
    y, _ = relu.forward(x, 0.0, out=x)
    assert y is x
    close(x, expected)


def test_relu_in_place_on_a_channel_slice(cp, rng):
    # The Net runs ReLU in place on slices of the joint output of sibling 1x1 convolutions.
    joint = cp.asarray(rng.standard_normal((2, 6, 3, 5)).astype(np.float32))
    expected = as_numpy(joint).copy()
    expected[:, 2:5] = np.where(expected[:, 2:5] > 0, expected[:, 2:5], 0.1 * expected[:, 2:5])
    part = joint[:, 2:5]
    y, cache = relu.forward(part, 0.1, out=part)
    assert y is part
    close(joint, expected)
    close(relu.backward(cp.ones(part.shape, np.float32), cache), np.where(as_numpy(part) > 0, 1, 0.1))


@pytest.mark.parametrize("shape", [(1, 3, 37, 41), (2, 3, 9, 11)])
def test_dream_update(cp, rng, shape):
    x = rng.uniform(-120, 120, shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32) * 1e-3
    lo = np.array([-104.0, -117.0, -123.0], np.float32)  # -mean_bgr
    hi = 255 + lo
    expected = x + 1.5 / np.abs(g).mean() * g
    expected = np.clip(expected, lo[:, None, None], hi[:, None, None])
    x_gpu = cp.asarray(x)
    assert ascent.update(x_gpu, cp.asarray(g), 1.5, cp.asarray(lo), cp.asarray(hi)) is None
    close(x_gpu, expected)
    assert {"abs_sum", "dream_update"} <= cp.launcher.launched


def test_dream_update_zero_gradient_only_clips(cp):
    x = cp.asarray(np.full((1, 2, 3, 4), 5.0, np.float32))
    ascent.update(x, cp.zeros(x.shape, np.float32), 1.5, -1.0, [10.0, 2.0])
    assert not np.isnan(as_numpy(x)).any()
    np.testing.assert_array_equal(as_numpy(x)[0, 0], 5.0)
    np.testing.assert_array_equal(as_numpy(x)[0, 1], 2.0)


def test_dream_update_needs_a_writable_contiguous_image(cp, rng):
    x = cp.asarray(rng.standard_normal((1, 3, 8, 8)).astype(np.float32))
    with pytest.raises(ValueError, match="in place"):
        ascent.update(x[:, :, ::2], cp.ones((1, 3, 4, 8), np.float32), 1.0, -1, 1)

