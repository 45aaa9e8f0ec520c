import numpy as np
import pytest

from minidream.engine.backend import as_numpy, is_gpu
from minidream.engine.ops import conv, im2col
from tests.gradcheck import numerical_gradient, rel_error
from tests.onnx_single_node import run_node

CASES = [  # (N, C, H, W, F, KH, KW, stride, pad, groups)
    (2, 3, 7, 9, 4, 3, 3, (1, 1), (1, 1), 1),
    (1, 4, 8, 7, 6, 3, 2, (2, 1), (1, 0), 2),
    (3, 6, 9, 10, 4, 5, 5, (3, 2), (2, 2), 2),
    (2, 4, 5, 6, 8, 1, 1, (1, 1), (0, 0), 4),
    (1, 3, 11, 11, 2, 11, 11, (4, 4), (0, 0), 1),
    (2, 2, 6, 5, 3, 1, 1, (2, 2), (1, 0), 1),
    (1, 2, 3, 3, 2, 3, 3, (1, 1), (3, 3), 1),  # padding wider than the image
]


def _inputs(case, dtype, seed=0):
    n, c, h, w, f, kh, kw, stride, pad, groups = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((f, c // groups, kh, kw)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    return x, wt, b, stride, pad, groups


@pytest.mark.parametrize("case", CASES)
def test_fast_matches_naive(case):
    x, w, b, stride, pad, groups = _inputs(case, np.float32)
    y, cache = conv.forward(x, w, b, stride, pad, groups)
    y_ref, cache_ref = conv.forward_naive(x, w, b, stride, pad, groups)
    assert y.shape == y_ref.shape and y.dtype == np.float32
    assert rel_error(y, y_ref) < 1e-5
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    for fast, ref in zip(conv.backward(dy, cache), conv.backward_naive(dy, cache_ref)):
        assert fast.shape == ref.shape
        assert rel_error(fast, ref) < 1e-5


@pytest.mark.parametrize("case", CASES[:4])
def test_gradients_match_finite_differences(case):
    x, w, b, stride, pad, groups = _inputs(case, np.float64)
    y, cache = conv.forward(x, w, b, stride, pad, groups)
    dy = np.random.default_rng(2).standard_normal(y.shape)
    dx, dw, db = conv.backward(dy, cache)
    assert rel_error(dx, numerical_gradient(lambda v: conv.forward(v, w, b, stride, pad, groups)[0], x, dy)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: conv.forward(x, v, b, stride, pad, groups)[0], w, dy)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda v: conv.forward(x, w, v, stride, pad, groups)[0], b, dy)) < 1e-7


def test_groups_keep_channels_apart():
    # Group 1's filters must not see group 0's input channels.
    x, w, b, stride, pad, groups = _inputs(CASES[1], np.float32)
    y, _ = conv.forward(x, w, b, stride, pad, groups)
    x2 = x.copy()
    x2[:, :2] += 100.0  # group 0's channels
    y2, _ = conv.forward(x2, w, b, stride, pad, groups)
    assert np.array_equal(y[:, 3:], y2[:, 3:])
    assert not np.allclose(y[:, :3], y2[:, :3])


def test_output_size_is_floor():
    assert im2col.output_size(227, 11, 4, 0) == 55
    assert im2col.output_size(224, 7, 2, 3) == 112
    assert im2col.output_size(10, 3, 2, 0) == 4


def test_without_weight_grads_and_bias():
    x, w, _, stride, pad, groups = _inputs(CASES[0], np.float32)
    y, cache = conv.forward(x, w, None, stride, pad, groups)
    dx, dw, db = conv.backward(np.ones_like(y), cache, weight_grads=False)
    assert dx.shape == x.shape and dw is None and db is None


def test_mismatched_channels_raise_clearly():
    x = np.zeros((1, 3, 5, 5), np.float32)
    with pytest.raises(ValueError, match="channels"):
        conv.forward(x, np.zeros((4, 2, 3, 3), np.float32), None, groups=1)


DILATED = [  # (N, C, H, W, F, KH, KW, stride, pad, groups, dilation)
    (2, 3, 9, 10, 4, 3, 3, (1, 1), (2, 2), 1, (2, 2)),   # DeepLab-style atrous 3x3
    (1, 4, 11, 9, 6, 3, 2, (2, 1), (1, 0), 2, (3, 2)),
    (2, 2, 7, 8, 2, 2, 3, (1, 2), (0, 1), 1, (1, 2)),
]


@pytest.mark.parametrize("case", DILATED)
def test_dilation_matches_naive_finite_differences_and_onnxruntime(case):
    *rest, dilation = case
    x, w, b, stride, pad, groups = _inputs(tuple(rest), np.float64)
    y, cache = conv.forward(x, w, b, stride, pad, groups, dilation)
    y_ref, cache_ref = conv.forward_naive(x, w, b, stride, pad, groups, dilation)
    assert cache.path == "textbook" and rel_error(y, y_ref) < 1e-12
    dy = np.random.default_rng(2).standard_normal(y.shape)
    grads = conv.backward(dy, cache)
    for fast, ref in zip(grads, conv.backward_naive(dy, cache_ref)):
        assert rel_error(fast, ref) < 1e-12
    for k, arg in enumerate((x, w, b)):
        def f(v, k=k):
            args = [v if j == k else a for j, a in enumerate((x, w, b))]
            return conv.forward(*args, stride, pad, groups, dilation)[0]
        assert rel_error(grads[k], numerical_gradient(f, arg, dy)) < 1e-7
    x32, w32, b32 = (a.astype(np.float32) for a in (x, w, b))
    expected = run_node("Conv", [x32, w32, b32], dilations=list(dilation), strides=list(stride),
                        pads=[pad[0], pad[1], pad[0], pad[1]], group=groups)
    assert rel_error(conv.forward(x32, w32, b32, stride, pad, groups, dilation)[0], expected) < 1e-6


def test_dilation_on_cupy_arrays_runs_the_textbook_copies(fake_device):
    *rest, dilation = DILATED[1]
    x, w, b, stride, pad, groups = _inputs(tuple(rest), np.float32)
    y, cache = conv.forward(*map(fake_device.asarray, (x, w, b)), stride, pad, groups, dilation)
    y_cpu, cache_cpu = conv.forward(x, w, b, stride, pad, groups, dilation)
    assert is_gpu(y) and cache.path == "textbook" and rel_error(as_numpy(y), y_cpu) < 1e-6
    dy = np.ones(y.shape, np.float32)
    for device, cpu in zip(conv.backward(fake_device.asarray(dy), cache), conv.backward(dy, cache_cpu)):
        assert is_gpu(device) and rel_error(as_numpy(device), cpu) < 1e-6


def test_dilated_output_size():
    assert im2col.output_size(9, 3, 1, 2, dilation=2) == 9  # atrous 3x3, pad = dilation: size kept
    assert im2col.output_size(10, 3, 2, 0, dilation=3) == 2
