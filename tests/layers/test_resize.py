"""ops/resize.py (ONNX Resize): every mode x coordinate mode (x nearest mode) against the naive loops and
onnxruntime (float32, 1e-6), upsampling and downsampling, by sizes and by scales, backward against the loops and
float64 finite differences, and on CuPy arrays through the fake CuPy."""
import itertools

import numpy as np
import pytest

from minidream.engine.backend import as_numpy, is_gpu
from minidream.engine.ops import resize
from tests.gradcheck import numerical_gradient, rel_error
from tests.onnx_single_node import run_node

SIZES = [((5, 7), (10, 14)), ((5, 7), (8, 3)), ((4, 6), (1, 13)), ((6, 6), (3, 4))]  # (H, W) -> (OH, OW)
SETTINGS = ([("linear", c, "round_prefer_floor") for c in resize.COORDINATE_MODES]
            + [("nearest", c, n) for c, n in itertools.product(resize.COORDINATE_MODES, resize.NEAREST_MODES)])


@pytest.mark.parametrize("setting", SETTINGS, ids="-".join)
@pytest.mark.parametrize("sizes", SIZES)
def test_matches_naive_and_onnxruntime(sizes, setting):
    (h, w), out_size = sizes
    x = np.random.default_rng(0).standard_normal((2, 3, h, w)).astype(np.float32)
    y, cache = resize.forward(x, out_size, *setting)
    y_ref, cache_ref = resize.forward_naive(x, out_size, *setting)
    assert y.shape == (2, 3) + out_size and rel_error(y, y_ref) < 1e-6
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    assert rel_error(resize.backward(dy, cache), resize.backward_naive(dy, cache_ref)) < 1e-6
    mode, coordinates, nearest = setting
    expected = run_node("Resize", [x, None, None, np.array((2, 3) + out_size, np.int64)], mode=mode,
                        coordinate_transformation_mode=coordinates, nearest_mode=nearest)
    assert rel_error(y, expected) < 1e-6


@pytest.mark.parametrize("setting", SETTINGS, ids="-".join)
def test_scales_given_set_the_coordinates_as_onnxruntime_reads_them(setting):
    """floor(5 * 1.5) = 7 rows and floor(7 * 0.6) = 4 columns, read at scales 1.5 and 0.6, not 7/5 and 4/7."""
    x = np.random.default_rng(4).standard_normal((1, 2, 5, 7)).astype(np.float32)
    y, _ = resize.forward(x, (7, 4), *setting, scales=(1.5, 0.6))
    assert rel_error(y, resize.forward_naive(x, (7, 4), *setting, scales=(1.5, 0.6))[0]) < 1e-6
    mode, coordinates, nearest = setting
    expected = run_node("Resize", [x, None, np.array([1, 1, 1.5, 0.6], np.float32)], mode=mode,
                        coordinate_transformation_mode=coordinates, nearest_mode=nearest)
    assert rel_error(y, expected) < 1e-6


@pytest.mark.parametrize("setting", SETTINGS[:4] + SETTINGS[4::4], ids="-".join)
def test_gradient_matches_finite_differences(setting):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 2, 4, 5))
    y, cache = resize.forward(x, (7, 3), *setting)
    dy = rng.standard_normal(y.shape)
    num = numerical_gradient(lambda v: resize.forward(v, (7, 3), *setting)[0], x, dy)
    assert rel_error(resize.backward(dy, cache), num) < 1e-8


def test_on_cupy_arrays(fake_device):
    x = np.random.default_rng(3).standard_normal((1, 2, 4, 5)).astype(np.float32)
    y, cache = resize.forward(fake_device.asarray(x), (8, 10), "linear")
    assert is_gpu(y) and rel_error(as_numpy(y), resize.forward(x, (8, 10), "linear")[0]) < 1e-7
    assert is_gpu(resize.backward(fake_device.ones(y.shape, np.float32), cache))


def test_unknown_modes_name_the_choices():
    with pytest.raises(ValueError, match="mode 'cubic'; choose one of nearest, linear"):
        resize.forward(np.zeros((1, 1, 2, 2)), (4, 4), "cubic")
    with pytest.raises(ValueError, match="tf_crop_and_resize"):
        resize.forward(np.zeros((1, 1, 2, 2)), (4, 4), coordinate_transformation_mode="tf_crop_and_resize")
