import numpy as np
import pytest

from minidream.training import augment, patterns


def images():
    return patterns.generate(4, size=24, seed=0)[0]


@pytest.mark.parametrize("name", sorted(augment.AUGMENTATIONS))
def test_each_augmentation_is_seeded_and_keeps_shape(name):
    x = images()
    a = augment.AUGMENTATIONS[name](x, np.random.default_rng(3))
    b = augment.AUGMENTATIONS[name](x, np.random.default_rng(3))
    c = augment.AUGMENTATIONS[name](x, np.random.default_rng(4))
    assert a.shape == x.shape and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, x)


def test_warp_identity_and_quarter_turn():
    x = images()
    np.testing.assert_array_equal(augment.warp(x, np.zeros(4), np.ones(4)), x)
    # A quarter turn about the centre of a square image moves pixels exactly (up to float rounding).
    turned = augment.warp(x, np.full(4, np.pi / 2), np.ones(4)).astype(int)
    rotated = [np.abs(turned - np.rot90(x, k, axes=(1, 2))).max() for k in (1, 3)]
    assert min(rotated) <= 1


def test_zoom_magnifies_about_the_centre():
    x = np.zeros((1, 9, 9, 3), np.uint8)
    x[0, 3:6, 3:6] = 255  # a 3x3 white square in the middle
    big = augment.warp(x, np.zeros(1), np.full(1, 2.0))
    assert big[0, 4, 4, 0] == 255 and big[0, 2, 4, 0] == 255 and big[0, 0, 4, 0] == 0


def test_zero_strength_color_and_noise_change_nothing():
    x = images()
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(augment.color(x, rng, strength=0.0), x)
    np.testing.assert_array_equal(augment.noise(x, rng, max_sigma=0.0), x)


def test_color_jitter_keeps_gray_gray_and_noise_has_the_drawn_spread():
    gray = np.full((2, 8, 8, 3), 100, np.uint8)
    jittered = augment.color(gray, np.random.default_rng(1))
    assert (jittered == jittered[..., :1]).all()  # saturation of a gray image stays zero
    noisy = augment.noise(np.full((1, 64, 64, 3), 128, np.uint8), np.random.default_rng(2), max_sigma=10.0)
    assert 0 < (noisy.astype(float) - 128).std() <= 10.5


def test_parse_orders_and_checks_names():
    assert augment.parse("noise, rotate") == ("rotate", "noise")
    assert augment.parse("") == () and augment.parse(None) == ()
    with pytest.raises(ValueError, match="rotate, zoom, color, noise"):
        augment.parse("rotate,shear")


def test_apply_without_augmentations_draws_nothing():
    rng = np.random.default_rng(5)
    x = images()
    assert augment.apply(x, (), rng) is x
    assert rng.random() == np.random.default_rng(5).random()


def test_preview_sheet_has_a_row_per_image_and_a_column_per_augmentation():
    sheet = augment.preview(images()[:2], ("rotate", "noise"), cell_size=32)
    cells = 1 + 2 + 1  # original, rotate, noise, all
    assert sheet.width == cells * (32 + 8) and sheet.height > 2 * (32 + 8)
