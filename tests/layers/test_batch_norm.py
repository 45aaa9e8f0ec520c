import numpy as np
import pytest

from minidream.engine.ops import batch_norm
from tests.gradcheck import numerical_gradient, rel_error


def _blobs(c, rng, s=3.0):
    # Caffe keeps running sums: mean/s and variance/s are the statistics
    return rng.standard_normal(c) * s, rng.uniform(0.5, 2.0, c) * s, np.array([s])


@pytest.mark.parametrize("shape", [(3, 4, 5, 2), (6, 3)])
def test_global_stats_fast_naive_and_finite_differences(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 2 + 1
    mean, var, s = _blobs(shape[1], rng)
    y, cache = batch_norm.forward(x, mean, var, s, eps=1e-3)
    y_ref, cache_ref = batch_norm.forward_naive(x, mean, var, s, eps=1e-3)
    assert rel_error(y, y_ref) < 1e-12
    expected = (x - (mean / 3.0).reshape((1, -1) + (1,) * (x.ndim - 2))) / np.sqrt(var / 3.0 + 1e-3).reshape(
        (1, -1) + (1,) * (x.ndim - 2))
    assert rel_error(y, expected) < 1e-12
    dy = rng.standard_normal(shape)
    dx = batch_norm.backward(dy, cache)
    assert rel_error(dx, batch_norm.backward_naive(dy, cache_ref)) < 1e-12
    f = lambda v: batch_norm.forward(v, mean, var, s, eps=1e-3)[0]  # noqa: E731
    assert rel_error(dx, numerical_gradient(f, x.copy(), dy)) < 1e-7


@pytest.mark.parametrize("shape", [(3, 4, 5, 2), (6, 3)])
def test_training_fast_naive_and_finite_differences(shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 2 + 1
    blobs = _blobs(shape[1], rng)
    fast_blobs = [b.copy() for b in blobs]
    naive_blobs = [b.copy() for b in blobs]
    y, cache = batch_norm.forward(x, *fast_blobs, use_global_stats=False)
    y_ref, cache_ref = batch_norm.forward_naive(x, *naive_blobs, use_global_stats=False)
    assert rel_error(y, y_ref) < 1e-12
    for fast, naive in zip(fast_blobs, naive_blobs):
        assert rel_error(fast, naive) < 1e-12
    dy = rng.standard_normal(shape)
    dx = batch_norm.backward(dy, cache)
    assert rel_error(dx, batch_norm.backward_naive(dy, cache_ref)) < 1e-10

    def f(v):  # fresh blobs every call: training mutates them, though y does not depend on them
        return batch_norm.forward(v, *[b.copy() for b in blobs], use_global_stats=False)[0]

    assert rel_error(dx, numerical_gradient(f, x.copy(), dy)) < 1e-6


def test_training_uses_biased_variance_and_updates_blobs_like_caffe():
    x = np.array([1.0, 2.0, 3.0, 6.0]).reshape(2, 1, 2)  # one channel, m = 4 values
    mean, var, s = np.array([10.0]), np.array([20.0]), np.array([2.0])
    y, _ = batch_norm.forward(x, mean, var, s, eps=0.0, use_global_stats=False, moving_average_fraction=0.5)
    mu, biased = 3.0, np.mean((np.array([1.0, 2.0, 3.0, 6.0]) - 3.0) ** 2)  # 3.5
    assert np.allclose(y.ravel(), (np.array([1.0, 2.0, 3.0, 6.0]) - mu) / np.sqrt(biased))
    assert s[0] == 2.0 * 0.5 + 1  # the third blob: s = s * maf + 1
    assert mean[0] == 10.0 * 0.5 + mu
    assert np.isclose(var[0], 20.0 * 0.5 + biased * 4 / 3)  # running variance is unbiased: m/(m-1)


def test_global_stats_divide_by_the_third_blob_and_zero_means_zero():
    x = np.full((1, 2, 1, 1), 4.0)
    y, _ = batch_norm.forward(x, np.array([2.0, 8.0]), np.array([6.0, 6.0]), np.array([2.0]), eps=1.0)
    assert np.allclose(y.ravel(), [(4 - 1) / 2.0, (4 - 4) / 2.0])  # mean/s = 1, 4; var/s = 3
    y, _ = batch_norm.forward(x, np.array([2.0, 8.0]), np.array([6.0, 6.0]), np.array([0.0]), eps=4.0)
    assert np.allclose(y.ravel(), [2.0, 2.0])  # s == 0: statistics are 0, y = x / sqrt(eps)


def test_float32_stays_float32():
    x = np.ones((2, 3, 2, 2), np.float32)
    blobs = [np.ones(3, np.float32), np.ones(3, np.float32), np.ones(1, np.float32)]
    y, cache = batch_norm.forward(x, *blobs, use_global_stats=False)
    assert y.dtype == np.float32 and batch_norm.backward(y, cache).dtype == np.float32
    assert all(b.dtype == np.float32 for b in blobs)


def test_blob_shapes_are_checked():
    with pytest.raises(ValueError, match=r"must both be \(3,\)"):
        batch_norm.forward(np.ones((1, 3, 2, 2)), np.ones(4), np.ones(4), np.ones(1))
