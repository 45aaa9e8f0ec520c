import numpy as np
import pytest

from minidream.engine.ops import conv, deconvolution
from tests.gradcheck import numerical_gradient, rel_error

CASES = [  # (N, C_in, H, W, C_out, KH, KW, stride, pad, groups)
    (2, 3, 4, 5, 4, 3, 3, (1, 1), (1, 1), 1),
    (1, 4, 3, 4, 6, 4, 4, (2, 2), (1, 1), 2),   # FCN-style 2x upsampling, grouped
    (2, 2, 3, 3, 2, 2, 3, (3, 2), (0, 1), 1),   # stride wider than the kernel: gaps in the output
    (1, 6, 3, 2, 3, 1, 1, (1, 1), (0, 0), 3),   # 1x1, one channel per group
    (1, 2, 2, 3, 2, 5, 5, (2, 2), (2, 1), 2),
]


def _inputs(case, dtype=np.float64, seed=0):
    n, c_in, h, w, c_out, kh, kw, stride, pad, groups = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, h, w)).astype(dtype)
    wt = rng.standard_normal((c_in, c_out // groups, kh, kw)).astype(dtype)  # Caffe's (C_in, C_out/G, KH, KW)
    b = rng.standard_normal(c_out).astype(dtype)
    return x, wt, b, stride, pad, groups


@pytest.mark.parametrize("case", CASES)
def test_fast_matches_naive(case):
    x, w, b, stride, pad, groups = _inputs(case, np.float32)
    y, cache = deconvolution.forward(x, w, b, stride, pad, groups)
    y_ref, cache_ref = deconvolution.forward_naive(x, w, b, stride, pad, groups)
    assert y.shape == y_ref.shape == deconvolution.output_shape(x.shape, w.shape, stride, pad, groups)
    assert y.dtype == np.float32 and rel_error(y, y_ref) < 1e-5
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    for fast, ref in zip(deconvolution.backward(dy, cache), deconvolution.backward_naive(dy, cache_ref)):
        assert fast.shape == ref.shape and rel_error(fast, ref) < 1e-5
    dx, dw, db = deconvolution.backward(dy, cache, weight_grads=False)
    assert dw is None and db is None and rel_error(dx, deconvolution.backward_naive(dy, cache_ref)[0]) < 1e-5


@pytest.mark.parametrize("case", CASES[:4])
def test_gradients_match_finite_differences(case):
    x, w, b, stride, pad, groups = _inputs(case)
    y, cache = deconvolution.forward(x, w, b, stride, pad, groups)
    dy = np.random.default_rng(2).standard_normal(y.shape)
    dx, dw, db = deconvolution.backward(dy, cache)

    def f(xv=x, wv=w, bv=b):
        return deconvolution.forward(xv, wv, bv, stride, pad, groups)[0]

    assert rel_error(dx, numerical_gradient(lambda v: f(xv=v), x.copy(), dy)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: f(wv=v), w.copy(), dy)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda v: f(bv=v), b.copy(), dy)) < 1e-7


@pytest.mark.parametrize("case", CASES)
def test_is_the_adjoint_of_convolution(case):
    # <conv(z; w), x> == <z, deconv(x; w)>: the same w, read by conv as (F = C_in, C/G = C_out/G, KH, KW)
    x, w, _, stride, pad, groups = _inputs(case)
    y, _ = deconvolution.forward(x, w, None, stride, pad, groups)
    z = np.random.default_rng(3).standard_normal(y.shape)
    conv_z, _ = conv.forward(z, w, None, stride, pad, groups)
    assert conv_z.shape == x.shape
    assert np.isclose(np.sum(conv_z * x), np.sum(z * y))


def test_upsampling_by_hand():
    # stride 2, 2x2 kernel of ones, one channel: every input pixel becomes a 2x2 block
    x = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    y, _ = deconvolution.forward(x, np.ones((1, 1, 2, 2)), None, (2, 2), (0, 0))
    assert y[0, 0].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]


def test_output_shape_follows_caffe():
    # FCN-32s upscore: 64x64 kernel, stride 32, on a 16x16 score map with 21 classes (group 21)
    assert deconvolution.output_shape((1, 21, 16, 16), (21, 1, 64, 64), (32, 32), (0, 0), 21) == (1, 21, 544, 544)
    assert deconvolution.output_size(7, 3, 2, 1) == 13
    with pytest.raises(ValueError, match="input has 3 channels"):
        deconvolution.output_shape((1, 3, 4, 4), (4, 2, 3, 3))
    with pytest.raises(ValueError, match="reduce the padding"):
        deconvolution.output_shape((1, 1, 1, 1), (1, 1, 1, 1), pad=(1, 1))
