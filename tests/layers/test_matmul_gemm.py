"""MatMul (numpy.matmul's rules: 1-D promotion, batch broadcasting) and Gemm: fast vs naive, finite differences,
and the forward against onnxruntime."""
import numpy as np
import pytest

from minidream.engine.ops import gemm, matmul
from tests.argument_gradients import check_argument_gradients
from tests.gradcheck import rel_error
from tests.onnx_single_node import run_node

MATMUL_SHAPES = [
    ((3, 4), (4, 2)),  # plain matrices
    ((2, 5, 4), (4, 3)),  # a ViT's tokens @ a weight
    ((2, 3, 5, 4), (2, 3, 4, 5)),  # attention: heads batched
    ((2, 1, 3, 4), (5, 4, 2)),  # both batch shapes broadcast
    ((4,), (2, 4, 3)),  # 1-D a: a row
    ((2, 3, 4), (4,)),  # 1-D b: a column
    ((4,), (4,)),  # a dot product, y 0-d
]


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES)
def test_matmul_fast_naive_and_finite_differences(a_shape, b_shape):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    y, cache = matmul.forward(a, b)
    y_ref, cache_ref = matmul.forward_naive(a, b)
    assert y.shape == np.matmul(a, b).shape == y_ref.shape and rel_error(y, y_ref) < 1e-13
    dy = np.asarray(rng.standard_normal(y.shape))
    check_argument_gradients(matmul.forward, (a, b), matmul.backward(dy, cache), matmul.backward_naive(dy, cache_ref),
                             dy)


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES)
def test_matmul_matches_onnxruntime_in_float32(a_shape, b_shape):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(a_shape).astype(np.float32), rng.standard_normal(b_shape).astype(np.float32)
    y, cache = matmul.forward(a, b)
    np.testing.assert_allclose(y, run_node("MatMul", [a, b]), rtol=1e-6, atol=1e-6)
    assert y.dtype == np.float32 and all(g.dtype == np.float32 for g in matmul.backward(np.ones_like(y), cache))


def test_matmul_on_integers_has_no_gradient():
    a, b = np.arange(6).reshape(2, 3), np.arange(3)
    y, cache = matmul.forward(a, b)
    assert list(y) == [5, 14] and matmul.backward(np.ones(2), cache) == (None, None)


GEMM_CASES = [  # (a's shape, b's shape, c's shape or None, alpha, beta, trans_a, trans_b)
    ((3, 4), (4, 5), None, 1.0, 1.0, False, False),
    ((3, 4), (5, 4), (5,), 1.0, 1.0, False, True),  # torchvision's classifier: x · Wᵀ + b
    ((4, 3), (4, 5), (3, 1), 0.5, 2.0, True, False),
    ((4, 3), (5, 4), (3, 5), 1.5, -0.5, True, True),
    ((3, 4), (4, 5), (), 1.0, 3.0, False, False),
]


@pytest.mark.parametrize("a_shape, b_shape, c_shape, alpha, beta, trans_a, trans_b", GEMM_CASES)
def test_gemm_fast_naive_and_finite_differences(a_shape, b_shape, c_shape, alpha, beta, trans_a, trans_b):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    c = None if c_shape is None else np.asarray(rng.standard_normal(c_shape))
    attributes = dict(alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
    y, cache = gemm.forward(a, b, c, **attributes)
    y_ref, cache_ref = gemm.forward_naive(a, b, c, **attributes)
    assert y.shape == (3, 5) and rel_error(y, y_ref) < 1e-13
    dy = rng.standard_normal(y.shape)
    check_argument_gradients(gemm.forward, (a, b, c), gemm.backward(dy, cache), gemm.backward_naive(dy, cache_ref),
                             dy, **attributes)


@pytest.mark.parametrize("a_shape, b_shape, c_shape, alpha, beta, trans_a, trans_b", GEMM_CASES)
def test_gemm_matches_onnxruntime_in_float32(a_shape, b_shape, c_shape, alpha, beta, trans_a, trans_b):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(a_shape).astype(np.float32), rng.standard_normal(b_shape).astype(np.float32)
    c = None if c_shape is None else np.asarray(rng.standard_normal(c_shape), np.float32)
    y, _ = gemm.forward(a, b, c, np.float64(alpha), beta, trans_a, trans_b)
    reference = run_node("Gemm", [a, b, c], alpha=alpha, beta=beta, transA=int(trans_a), transB=int(trans_b))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, reference, rtol=1e-6, atol=1e-6)


def test_gemm_c_must_not_grow_y():
    with pytest.raises(ValueError, match=r"does not broadcast to y's \(3, 5\)"):
        gemm.forward(np.ones((3, 4)), np.ones((4, 5)), np.ones((2, 3, 5)))
