import sys

import numpy as np
import pytest
from PIL import Image

from minidream.models.random_weights import random_model
from minidream.dreaming.zooming import zoom, zoom_in
from minidream.io.images import write_gif

DREAM = dict(layer="conv2/3x3", octaves=1, steps=1, progress=False)


@pytest.fixture(scope="module")
def net():
    return random_model("googlenet")


@pytest.fixture(scope="module")
def photo():
    yy, xx = np.mgrid[0:40, 0:48]
    return (np.stack([xx * 5, yy * 6, xx + yy], axis=-1) % 256).astype(np.uint8)


def test_frames_keep_kind_and_size_and_gif_is_written(net, photo, tmp_path):
    gif = tmp_path / "zoom.gif"
    frames = list(zoom(photo, frames=3, gif=str(gif), model=net, seed=1, **DREAM))
    assert len(frames) == 3 and all(f.shape == photo.shape and f.dtype == np.uint8 for f in frames)
    assert not np.array_equal(frames[0], frames[1])
    with Image.open(gif) as img:
        assert img.n_frames == 3 and img.size == (48, 40)
    pil_frames = list(zoom(Image.fromarray(photo), frames=1, model=net, **DREAM))
    assert isinstance(pil_frames[0], Image.Image)


def test_seeded_zoom_is_reproducible(net, photo):
    a = list(zoom(photo, frames=2, model=net, seed=3, **DREAM))
    b = list(zoom(photo, frames=2, model=net, seed=3, **DREAM))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_each_frame_dreams_the_zoomed_previous_one(net, photo, monkeypatch):
    zoom_module = sys.modules["minidream.dreaming.zooming"]
    seen = []
    monkeypatch.setattr(zoom_module, "dream", lambda rgb, **kwargs: (seen.append(rgb), rgb + 1)[1])
    frames = list(zoom(photo, frames=3, scale=0.1, model=net))
    np.testing.assert_array_equal(seen[0], photo)
    np.testing.assert_array_equal(seen[1], zoom_in(photo + 1, 0.1))
    np.testing.assert_array_equal(frames[1], seen[1] + 1)


def test_zoom_in_magnifies_the_centre():
    rgb = np.zeros((40, 40, 3), np.uint8)
    rgb[18:22, 18:22] = 255  # a 4-pixel square in the middle
    assert (zoom_in(rgb, 0.0) == rgb).all()
    bigger = zoom_in(rgb, 0.5)  # twice as large
    assert bigger.shape == rgb.shape
    assert 6 <= (bigger[:, 20, 0] > 127).sum() <= 10
    assert bigger[20, 20, 0] == 255 and bigger[0, 0, 0] == 0


def test_bad_arguments(net, photo, tmp_path):
    with pytest.raises(ValueError, match="frames"):
        next(zoom(photo, frames=0, model=net))
    with pytest.raises(ValueError, match="scale"):
        next(zoom(photo, scale=1.5, model=net))
    with pytest.raises(ValueError, match=".gif"):
        write_gif([Image.fromarray(photo)], str(tmp_path / "x.png"))
