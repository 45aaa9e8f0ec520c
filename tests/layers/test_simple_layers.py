"""ReLU, inner product, concat, dropout, softmax: fast vs naive, and finite differences."""
import numpy as np
import pytest

from minidream.engine.ops import concat, dropout, inner_product, relu, softmax
from tests.gradcheck import numerical_gradient, rel_error


@pytest.mark.parametrize("slope", [0.0, 0.1])
def test_relu(slope):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5))
    y, cache = relu.forward(x, slope)
    y_ref, cache_ref = relu.forward_naive(x, slope)
    assert np.array_equal(y, y_ref)
    dy = rng.standard_normal(y.shape)
    dx = relu.backward(dy, cache)
    assert np.array_equal(dx, relu.backward_naive(dy, cache_ref))
    assert rel_error(dx, numerical_gradient(lambda v: relu.forward(v, slope)[0], x.copy(), dy)) < 1e-7


def test_relu_in_place():
    x = np.array([-1.0, 2.0], np.float32)
    y, _ = relu.forward(x, out=x)
    assert y is x and list(x) == [0.0, 2.0]


@pytest.mark.parametrize("shape", [(3, 2, 3, 4), (2, 7)])
def test_inner_product(shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    k = int(np.prod(shape[1:]))
    w, b = rng.standard_normal((5, k)), rng.standard_normal(5)
    y, cache = inner_product.forward(x, w, b)
    y_ref, cache_ref = inner_product.forward_naive(x, w, b)
    assert rel_error(y, y_ref) < 1e-12
    dy = rng.standard_normal(y.shape)
    grads = inner_product.backward(dy, cache)
    for fast, ref in zip(grads, inner_product.backward_naive(dy, cache_ref)):
        assert rel_error(fast, ref) < 1e-12
    dx, dw, db = grads
    assert rel_error(dx, numerical_gradient(lambda v: inner_product.forward(v, w, b)[0], x, dy)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: inner_product.forward(x, v, b)[0], w, dy)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda v: inner_product.forward(x, w, v)[0], b, dy)) < 1e-7


def test_inner_product_flattens_chw():
    x = np.arange(12, dtype=np.float64).reshape(1, 3, 2, 2)
    w = np.zeros((1, 12))
    w[0, 5] = 1.0  # channel 1, row 0, col 1
    y, _ = inner_product.forward(x, w, None)
    assert y[0, 0] == x[0, 1, 0, 1]


def test_inner_product_wrong_size_says_so():
    with pytest.raises(ValueError, match="nominal input size"):
        inner_product.forward(np.zeros((1, 3, 4, 4)), np.zeros((2, 10)), None)


def test_concat():
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((2, c, 3, 3)) for c in (1, 4, 2)]
    y, cache = concat.forward(xs)
    y_ref, cache_ref = concat.forward_naive(xs)
    assert np.array_equal(y, y_ref) and y.shape == (2, 7, 3, 3)
    assert np.array_equal(y[:, 1:5], xs[1])
    dy = rng.standard_normal(y.shape)
    for fast, ref, x in zip(concat.backward(dy, cache), concat.backward_naive(dy, cache_ref), xs):
        assert np.array_equal(fast, ref) and fast.shape == x.shape


def test_dropout():
    x = np.ones((4, 1000), np.float32)
    y, cache = dropout.forward(x, 0.5, train=False)
    assert y is x and np.array_equal(dropout.backward(x, cache), x)
    y, cache = dropout.forward(x, 0.4, train=True, rng=np.random.default_rng(0))
    kept = y != 0
    assert abs(kept.mean() - 0.6) < 0.02
    assert np.allclose(y[kept], 1 / 0.6)
    y_ref, cache_ref = dropout.forward_naive(x, 0.4, train=True, rng=np.random.default_rng(0))
    assert np.array_equal(y, y_ref)
    dy = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    assert np.allclose(dropout.backward(dy, cache), dropout.backward_naive(dy, cache_ref))


@pytest.mark.parametrize("shape", [(3, 5), (2, 4, 2, 3)])
def test_softmax(shape):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape) * 3
    y, cache = softmax.forward(x)
    y_ref, cache_ref = softmax.forward_naive(x)
    assert rel_error(y, y_ref) < 1e-12
    assert np.allclose(y.sum(axis=1), 1.0)
    dy = rng.standard_normal(shape)
    dx = softmax.backward(dy, cache)
    assert rel_error(dx, softmax.backward_naive(dy, cache_ref)) < 1e-10
    assert rel_error(dx, numerical_gradient(lambda v: softmax.forward(v)[0], x, dy)) < 1e-7


def test_softmax_is_stable_for_large_logits():
    y, _ = softmax.forward(np.array([[1000.0, 1000.0, -1000.0]], np.float32))
    assert np.all(np.isfinite(y)) and np.allclose(y, [[0.5, 0.5, 0.0]])
