"""Stride-1 convolutions as products over shifted copies (minidream/layers/shifted_rows.py): against the direct loop
convolution in float64, in worker blocks, and through conv.forward/backward; OpenBLAS's gemm it stands on."""
import numpy as np
import pytest

from minidream.layers import blas, conv, parallel, shifted_rows
from tests.gradcheck import numerical_gradient, rel_error

CASES = [  # (N, C, H, W, F, KH, KW, pad, groups)
    (2, 6, 7, 9, 8, 5, 5, (2, 2), 1),    # a batch: images laid end to end, the rows between them thrown away
    (1, 8, 6, 7, 12, 5, 5, (0, 0), 2),   # valid convolution, two groups
    (1, 4, 4, 11, 6, 3, 7, (1, 3), 1),   # a filter wider than tall, different padding down and across
    (2, 3, 5, 6, 4, 2, 2, (0, 1), 1),    # an even filter
    (1, 4, 3, 3, 4, 3, 3, (3, 3), 1),    # padding beyond the filter: the output is larger than the image
    (1, 5, 1, 1, 3, 5, 5, (2, 2), 1),    # a 1x1 image
    (1, 6, 5, 8, 9, 1, 5, (0, 2), 3),    # one filter row, three groups
]


def _inputs(case, dtype=np.float64, seed=0):
    n, c, h, w, f, kh, kw, pad, groups = case
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, c, h, w)).astype(dtype),
            rng.standard_normal((f, c // groups, kh, kw)).astype(dtype), pad, groups)


@pytest.mark.parametrize("case", CASES)
def test_forward_and_dx_match_the_direct_loops(case):
    x, w, pad, groups = _inputs(case)
    b = np.random.default_rng(8).standard_normal(w.shape[0])
    y_ref, cache = conv.forward_naive(x, w, b, (1, 1), pad, groups)
    y = shifted_rows.forward(x, w, pad, groups, b)
    assert y.shape == y_ref.shape and y.flags.c_contiguous and rel_error(y, y_ref) < 1e-13
    dy = np.random.default_rng(1).standard_normal(y.shape)
    dx = shifted_rows.backward_dx(dy, w, x.shape, pad, groups)
    assert dx.shape == x.shape and rel_error(dx, conv.backward_naive(dy, cache, weight_grads=False)[0]) < 1e-13


@pytest.mark.parametrize("case", [c for c in CASES if c[-1] == 1])
def test_the_textbook_version_matches_the_direct_loops(case):
    x, w, pad, _ = _inputs(case)
    assert rel_error(shifted_rows.forward_naive(x, w, pad), conv.forward_naive(x, w, None, (1, 1), pad)[0]) < 1e-13


def test_dx_matches_finite_differences():
    x, w, pad, groups = _inputs((2, 4, 5, 6, 4, 3, 5, (1, 2), 2), seed=2)
    dy = np.random.default_rng(3).standard_normal((2, 4, 5, 6))
    numeric = numerical_gradient(lambda v: shifted_rows.forward(v, w, pad, groups), x, dy)
    assert rel_error(shifted_rows.backward_dx(dy, w, x.shape, pad, groups), numeric) < 1e-8


def test_in_worker_blocks(monkeypatch):
    """Split over 3 workers (columns forward; rows of dZ backward, one block across the groups' boundary): the same
    numbers as on one thread, up to the order of the BLAS's sums (smaller products may take its small-matrix
    kernels)."""
    x, w, pad, groups = _inputs((2, 10, 17, 19, 12, 5, 5, (2, 2), 2), seed=4)
    dy = np.random.default_rng(5).standard_normal((2, 12, 17, 19))
    whole = shifted_rows.forward(x, w, pad, groups), shifted_rows.backward_dx(dy, w, x.shape, pad, groups)
    monkeypatch.setattr(parallel, "WORKERS", 3)
    monkeypatch.setattr(parallel, "_executor", None)
    monkeypatch.setattr(parallel, "MIN_PRODUCT", 0)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    split = shifted_rows.forward(x, w, pad, groups), shifted_rows.backward_dx(dy, w, x.shape, pad, groups)
    assert all(rel_error(a, b) < 1e-14 for a, b in zip(split, whole))


def test_conv_runs_5x5_stride_1_through_it_with_bias_and_weight_gradients(monkeypatch):
    x, w, pad, groups = _inputs((2, 32, 20, 21, 16, 5, 5, (2, 2), 2), dtype=np.float32, seed=5)
    b = np.random.default_rng(6).standard_normal(16).astype(np.float32)
    calls = []
    for name in ("forward", "backward_dx"):
        original = getattr(shifted_rows, name)
        monkeypatch.setattr(shifted_rows, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    y, cache = conv.forward(x, w, b, (1, 1), pad, groups)
    y_ref, cache_ref = conv.forward_naive(x.astype(np.float64), w.astype(np.float64), b, (1, 1), pad, groups)
    assert y.dtype == np.float32 and rel_error(y, y_ref) < 1e-6
    dy = np.random.default_rng(7).standard_normal(y.shape).astype(np.float32)
    for fast, ref in zip(conv.backward(dy, cache), conv.backward_naive(dy.astype(np.float64), cache_ref)):
        assert fast.dtype == np.float32 and rel_error(fast, ref) < 1e-6
    assert calls == ["forward", "backward_dx"]  # dw still from im2col's columns


@pytest.mark.parametrize("w_shape, stride, dtype, out_size, expected", [
    ((16, 16, 5, 5), (1, 1), np.float32, (20, 20), True),    # GoogLeNet's 5x5 branches: depth 16 * 5
    ((16, 16, 5, 5), (1, 1), np.float64, (20, 20), True),
    ((16, 16, 5, 5), (1, 1), np.float32, (19, 20), False),   # a small output: im2col
    ((16, 16, 5, 5), (2, 2), np.float32, (20, 20), False),   # stride 2: im2col
    ((16, 16, 1, 1), (1, 1), np.float32, (20, 20), False),   # 1x1: its columns are the pixels
    ((32, 1, 5, 5), (1, 1), np.float32, (20, 20), False),    # depthwise: products of depth 5
    ((16, 3, 7, 7), (1, 1), np.float32, (20, 20), False),    # an RGB input: depth 21
    ((16, 16, 5, 5), (1, 1), np.float16, (20, 20), False),   # no BLAS product for half floats
])
def test_which_convolutions_take_shifted_rows(w_shape, stride, dtype, out_size, expected):
    assert shifted_rows.applies(w_shape, stride, dtype, out_size) is expected


def test_without_a_blas_gemm_convolutions_stay_with_im2col(monkeypatch):
    monkeypatch.setattr(blas, "_gemms", {"sgemm": None, "dgemm": None})
    assert not shifted_rows.applies((16, 16, 5, 5), (1, 1), np.float32, (20, 20))
    assert conv.cpu_method((16, 16, 5, 5), (1, 1), (2, 2), 1, (20, 20), np.float32) is None
    assert conv.cpu_method((16, 16, 3, 3), (1, 1), (1, 1), 1, (20, 20), np.float32) is not None  # Winograd


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_adds_into_strided_windows(dtype):
    product = blas.gemm(np.dtype(dtype))
    if product is None:
        pytest.skip("this NumPy's BLAS is not an OpenBLAS")
    rng = np.random.default_rng(9)
    a = rng.standard_normal((5, 7)).astype(dtype)
    wide = rng.standard_normal((7, 20)).astype(dtype)
    b = wide[:, 3:14]  # a window of columns: row stride 20
    out = np.ones((5, 30), dtype=dtype)
    product(a, b, out[:, 2:13], 1.0)
    assert np.allclose(out[:, 2:13], a.astype(np.float64) @ b + 1) and (out[:, :2] == 1).all() and (out[:, 13:] == 1).all()
    product(a, b, out[:, 2:13], 0.0)
    assert np.allclose(out[:, 2:13], a.astype(np.float64) @ b)
    with pytest.raises(ValueError, match="unit steps"):
        product(a, wide[:, ::2], np.empty((5, 10), dtype=dtype), 0.0)  # columns 2 apart: BLAS cannot read them
    with pytest.raises(ValueError, match="one dtype"):
        product(a.astype(np.float16), b, out[:, 2:13], 0.0)
