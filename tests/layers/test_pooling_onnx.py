"""ONNX's pooling (rounding "floor" / "ceil", pads per side, max-pool dilation, count_include_pad): against the naive
loops, float64 finite differences and onnxruntime (float32, 1e-6), on the CPU and through the fake CuPy; and which
path each geometry takes. Caffe's pooling: test_pooling.py."""
import shutil

import numpy as np
import pytest

from minidream.engine.backend import as_numpy, is_gpu
from minidream.engine.ops import avg_pool, max_pool, pool_shape
from tests.gradcheck import numerical_gradient, rel_error, tie_free
from tests.kernels import fake_cupy
from tests.onnx_single_node import run_node

# (N, C, H, W, kernel, stride, pad ((top, bottom), (left, right)), ONNX's ceil_mode)
ONNX_CASES = [
    (1, 2, 8, 8, (3, 3), (2, 2), ((0, 0), (0, 0)), True),    # googlenet/inception/squeezenet: 3x3/s2, ceil_mode=1
    (1, 2, 9, 9, (3, 3), (2, 2), ((0, 0), (0, 0)), True),    # the same where ceil equals floor (the fast engine's)
    (2, 2, 10, 9, (3, 3), (2, 2), ((1, 1), (1, 1)), False),  # resnet's max pool: 3x3/s2/p1, floor
    (1, 2, 9, 8, (3, 3), (2, 2), ((1, 1), (1, 1)), True),    # ceil with padding
    (1, 3, 6, 5, (3, 3), (1, 1), ((1, 1), (1, 1)), False),   # inception_v3's avg pool: 3x3/s1/p1
    (1, 2, 7, 9, (3, 3), (2, 3), ((0, 1), (2, 0)), False),   # pads of two sizes
    (1, 2, 7, 8, (3, 3), (2, 2), ((1, 2), (0, 1)), True),
    (1, 1, 6, 6, (1, 1), (4, 4), ((0, 0), (0, 0)), True),    # ceil's drop rule without padding (Caffe keeps it)
    (1, 2, 4, 4, (3, 3), (2, 2), ((1, 1), (1, 1)), True),    # a ceil window past the padding
]
MAX_DILATIONS = [(1, 1), (2, 2), (2, 1)]
ROUNDING = {True: "ceil", False: "floor"}


def _onnx_pads(pad):
    (top, bottom), (left, right) = pad
    return [top, left, bottom, right]


def _max(x, case, dilation, naive=False):
    *_, kernel, stride, pad, ceil = case
    return (max_pool.forward_naive if naive else max_pool.forward)(x, kernel, stride, pad, ROUNDING[ceil], dilation)


def _avg(x, case, count_include_pad, naive=False):
    *_, kernel, stride, pad, ceil = case
    return (avg_pool.forward_naive if naive else avg_pool.forward)(x, kernel, stride, pad, ROUNDING[ceil],
                                                                   count_include_pad)


def _pool_settings():
    return ([("max", d) for d in MAX_DILATIONS] + [("ave", True), ("ave", False)])


def _pool(x, case, setting, naive=False):
    kind, option = setting
    if kind == "max":
        try:
            return _max(x, case, option, naive)
        except ValueError:
            return None  # a dilated window past the input: the case does not apply
    return _avg(x, case, option, naive)


@pytest.mark.parametrize("setting", _pool_settings(), ids=str)
@pytest.mark.parametrize("case", ONNX_CASES)
def test_onnx_modes_match_naive_and_finite_differences(case, setting):
    n, c, h, w = case[:4]
    rng = np.random.default_rng(4)
    x = tie_free((n, c, h, w), rng)
    result = _pool(x, case, setting)
    if result is None:
        pytest.skip("the dilated window does not fit")
    y, cache = result
    y_ref, cache_ref = _pool(x, case, setting, naive=True)
    assert y.shape == y_ref.shape and rel_error(y, y_ref) < 1e-12
    dy = rng.standard_normal(y.shape)
    op = max_pool if setting[0] == "max" else avg_pool
    dx = op.backward(dy, cache)
    assert rel_error(dx, op.backward_naive(dy, cache_ref)) < 1e-12
    num = numerical_gradient(lambda v: _pool(v, case, setting)[0], x, dy, h=1e-6)
    assert rel_error(dx, num) < 1e-7


@pytest.mark.parametrize("setting", _pool_settings(), ids=str)
@pytest.mark.parametrize("case", ONNX_CASES)
def test_onnx_modes_match_onnxruntime(case, setting):
    n, c, h, w, kernel, stride, pad, ceil = case
    x = tie_free((n, c, h, w), np.random.default_rng(5)).astype(np.float32)
    result = _pool(x, case, setting)
    if result is None:
        pytest.skip("the dilated window does not fit")
    kind, option = setting
    attributes = dict(kernel_shape=list(kernel), strides=list(stride), pads=_onnx_pads(pad), ceil_mode=int(ceil))
    if kind == "max":
        expected = run_node("MaxPool", [x], dilations=list(option), **attributes)
    else:
        expected = run_node("AveragePool", [x], count_include_pad=int(option), **attributes)
    assert result[0].shape == expected.shape and rel_error(result[0], expected) < 1e-6


def test_caffe_and_onnx_ceil_differ_only_in_the_drop_rule():
    assert pool_shape.output_size(6, 1, 4, 0) == 3            # Caffe drops only with padding
    assert pool_shape.output_size(6, 1, 4, 0, "ceil") == 2    # ONNX/PyTorch: the last window starts inside
    assert pool_shape.output_size(112, 3, 2, 1) == 57         # Caffe's ResNet pool
    assert pool_shape.output_size(112, 3, 2, 1, "floor") == 56  # torchvision's
    assert pool_shape.output_size(112, 3, 2, (1, 1), "ceil") == 57


def test_onnx_rules_reject_windows_in_the_padding_alone_and_unknown_roundings():
    with pytest.raises(ValueError, match="padding alone"):
        pool_shape.output_size(5, 3, 2, (0, 4), "floor")
    with pytest.raises(ValueError, match="unknown pooling rounding 'round'"):
        pool_shape.output_size(5, 3, 2, 0, "round")


def test_caffe_equivalent_windows_take_the_fast_path_and_others_the_textbook(engine):
    x = tie_free((1, 2, 10, 10), np.random.default_rng(0)).astype(np.float32)
    fast = "fast" if engine == "fast" else "textbook"
    assert max_pool.forward(x, (3, 3), (2, 2), (0, 0), "ceil")[1].path == fast         # Caffe's windows
    assert max_pool.forward(x, (3, 3), (2, 2), (1, 1), "floor")[1].path == "textbook"  # one window fewer
    assert max_pool.forward(x, (3, 3), (1, 1), (0, 0), "floor", (2, 2))[1].path == "textbook"
    assert avg_pool.forward(x, (3, 3), (1, 1), (1, 1), "floor")[1].path == fast
    assert avg_pool.forward(x, (3, 3), (1, 1), (1, 1), "floor", False)[1].path == "textbook"
    assert avg_pool.forward(x, (3, 3), (1, 1), ((1, 1), (1, 1)))[1].path == fast      # symmetric pairs are ints


@pytest.mark.parametrize("case", ONNX_CASES[2:7])
def test_onnx_modes_on_the_gpu_paths(monkeypatch, case):
    """Through the fake CuPy: the kernels (emulated) for symmetric pads and Caffe's divisor, xp code otherwise."""
    if shutil.which("g++") is None:
        pytest.skip("emulating the kernels needs g++ on the PATH")
    cp, launcher = fake_cupy.install(monkeypatch)
    n, c, h, w = case[:4]
    x = tie_free((n, c, h, w), np.random.default_rng(6)).astype(np.float32)
    for setting in _pool_settings():
        result = _pool(x, case, setting)
        if result is None:
            continue
        op = max_pool if setting[0] == "max" else avg_pool
        y, cache = _pool(cp.asarray(x), case, setting)
        kernel_path = all(a == b for a, b in case[6]) and setting in (("max", (1, 1)), ("ave", True))
        assert is_gpu(y) and cache.path == ("gpu" if kernel_path else "textbook")
        assert rel_error(as_numpy(y), result[0]) < 1e-6
        dy = np.random.default_rng(7).standard_normal(y.shape).astype(np.float32)
        dx = op.backward(cp.asarray(dy), cache)
        assert is_gpu(dx) and rel_error(as_numpy(dx), op.backward(dy, result[1])) < 1e-6
