import numpy as np

from minidream.dreaming.filters import gaussian_blur, gaussian_kernel, octave_size, resize_bilinear


def test_resize_aligns_corners_like_scipy_zoom_order_1():
    x = np.array([0.0, 1.0, 2.0], np.float32).reshape(1, 3)
    np.testing.assert_allclose(resize_bilinear(x, (1, 5)), [[0.0, 0.5, 1.0, 1.5, 2.0]])
    np.testing.assert_allclose(resize_bilinear(x, (1, 2)), [[0.0, 2.0]])
    np.testing.assert_allclose(resize_bilinear(x, (1, 1)), [[0.0]])


def test_resize_is_separable_and_keeps_shape_prefix():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 3, 7, 9)).astype(np.float32)
    y = resize_bilinear(x, (4, 13))
    assert y.shape == (1, 3, 4, 13) and y.dtype == np.float32
    np.testing.assert_allclose(y[..., 0, 0], x[..., 0, 0], rtol=1e-6)
    np.testing.assert_allclose(y[..., -1, -1], x[..., -1, -1], rtol=1e-6)
    np.testing.assert_array_equal(resize_bilinear(x, (7, 9)), x)
    # a linear ramp stays a linear ramp
    ramp = np.tile(np.arange(9, dtype=np.float32), (7, 1))
    np.testing.assert_allclose(resize_bilinear(ramp, (3, 17)), np.tile(np.linspace(0, 8, 17), (3, 1)), atol=1e-5)


def test_octave_size_rounds_like_scipy():
    assert octave_size((480, 640), 1.4) == (343, 457)
    assert octave_size((1, 1), 1.4) == (1, 1)


def test_gaussian_kernel_is_normalized_and_symmetric():
    k = gaussian_kernel(1.5)
    assert len(k) == 2 * 5 + 1
    np.testing.assert_allclose(k.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(k, k[::-1])


def test_blur_keeps_constants_and_mass_spreads():
    x = np.full((1, 3, 8, 9), 2.5, np.float32)
    np.testing.assert_allclose(gaussian_blur(x, 2.0), x, rtol=1e-6)
    spike = np.zeros((15, 15), np.float32)
    spike[7, 7] = 1.0
    blurred = gaussian_blur(spike, 1.0)
    np.testing.assert_allclose(blurred.sum(), 1.0, rtol=1e-5)  # reflected edges are far away
    assert blurred[7, 7] < 0.2 and blurred[7, 8] == blurred[8, 7] == blurred[7, 6]
    assert gaussian_blur(spike, 0.0) is spike


def test_blur_of_a_one_pixel_axis():
    x = np.arange(5, dtype=np.float32).reshape(1, 5)
    assert gaussian_blur(x, 1.0).shape == (1, 5)
