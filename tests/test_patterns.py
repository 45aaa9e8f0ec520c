import os

import numpy as np
import pytest

from minidream.training import patterns


def test_generate_shapes_and_balanced_labels():
    images, labels = patterns.generate(44, size=24, seed=1)
    assert images.shape == (44, 24, 24, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    assert np.bincount(labels, minlength=len(patterns.CLASS_NAMES)).tolist() == [4] * len(patterns.CLASS_NAMES)


def test_same_seed_same_images_other_seed_other_images():
    a, la = patterns.generate(22, size=20, seed=7)
    b, lb = patterns.generate(22, size=20, seed=7)
    c, _ = patterns.generate(22, size=20, seed=8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", patterns.CLASS_NAMES)
def test_every_class_shows_a_two_colour_pattern(name):
    images = patterns.render(name, 8, 48, np.random.default_rng(0)).astype(np.float64)
    # A pattern, not a flat image: strong contrast inside every image...
    assert (images.std(axis=(1, 2)).max(axis=1) > 25).all()
    # ...and both colours cover a real share of it (the foreground mask is neither empty nor full).
    grey = images.mean(axis=3)
    lo, hi = grey.min(axis=(1, 2), keepdims=True), grey.max(axis=(1, 2), keepdims=True)
    share = ((grey - lo) > (hi - lo) / 2).mean(axis=(1, 2))
    assert ((share > 0.05) & (share < 0.95)).all(), share


def test_checkerboard_covers_half_the_image():
    # The signed distance of a checkerboard is positive on exactly half the cells.
    grid = np.linspace(0, 8, 400, endpoint=False) + 0.01  # off the cell edges, where f = 0
    u, v = np.meshgrid(grid, grid)
    assert (patterns.checkerboard(u[None], v[None], {}) > 0).mean() == pytest.approx(0.5, abs=0.01)


def test_stripes_duty_is_the_foreground_share():
    u = np.linspace(0, 10, 10000, endpoint=False)[None, None]
    assert (patterns.stripes(u, u * 0, {"duty": 0.3}) > 0).mean() == pytest.approx(0.3, abs=0.01)


def test_unknown_class_names_the_choices():
    with pytest.raises(ValueError, match="stripes"):
        patterns.render("stars", 1, 16, np.random.default_rng(0))


def test_save_folder_writes_the_training_layout(tmp_path):
    patterns.save_folder(tmp_path, per_class=2, size=16, seed=0, classes=("rings", "grid"))
    assert sorted(os.listdir(tmp_path)) == ["grid", "rings"]
    assert sorted(os.listdir(tmp_path / "rings")) == ["00000.png", "00001.png"]
