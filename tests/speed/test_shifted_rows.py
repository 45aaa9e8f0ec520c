"""Stride-1 convolutions as products over shifted copies (minidream/engine/speed/shifted_rows.py): in worker blocks, which
convolutions take it, OpenBLAS's gemm it stands on. Against the direct loops and through conv.forward/backward:
test_stride1_methods.py."""
import numpy as np
import pytest

from minidream.engine.speed import blas, parallel, shifted_rows
from minidream.engine.speed import conv as fast_conv
from tests.conv_methods import inputs
from tests.gradcheck import rel_error


def test_in_worker_blocks(monkeypatch):
    """Split over 3 workers (columns forward; rows of dZ backward, one block across the groups' boundary): the same
    numbers as on one thread, up to the order of the BLAS's sums (smaller products may take its small-matrix
    kernels)."""
    x, w, pad, groups = inputs((2, 10, 17, 19, 12, 5, 5, (2, 2), 2), seed=4)
    dy = np.random.default_rng(5).standard_normal((2, 12, 17, 19))
    whole = shifted_rows.forward(x, w, pad, groups), shifted_rows.backward_dx(dy, w, x.shape, pad, groups)
    monkeypatch.setattr(parallel, "WORKERS", 3)
    monkeypatch.setattr(parallel, "MIN_PRODUCT", 0)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    split = shifted_rows.forward(x, w, pad, groups), shifted_rows.backward_dx(dy, w, x.shape, pad, groups)
    assert all(rel_error(a, b) < 1e-14 for a, b in zip(split, whole))


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
    assert fast_conv.method((16, 16, 5, 5), (1, 1), (2, 2), 1, (20, 20), np.float32) is None
    assert fast_conv.method((16, 16, 3, 3), (1, 1), (1, 1), 1, (20, 20), np.float32) == "winograd"


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
    assert np.allclose(out[:, 2:13], a.astype(np.float64) @ b + 1)
    assert (out[:, :2] == 1).all() and (out[:, 13:] == 1).all()
    product(a, b, out[:, 2:13], 0.0)
    assert np.allclose(out[:, 2:13], a.astype(np.float64) @ b)
    with pytest.raises(ValueError, match="unit steps"):
        product(a, wide[:, ::2], np.empty((5, 10), dtype=dtype), 0.0)  # columns 2 apart: BLAS cannot read them
    with pytest.raises(ValueError, match="one dtype"):
        product(a.astype(np.float16), b, out[:, 2:13], 0.0)
