import contextlib
import os
import threading
import time
import warnings

import numpy as np
import pytest
from PIL import Image

from minidream.cli import main
from minidream.errors import ImageError
from minidream.io.images import (array_to_rgb, as_kind, atomic_write, from_network, image_paths, load_rgb, output_format,
                               pil_to_rgb, read_params, save_image, to_network)

META = {"mean_bgr": [104.0, 117.0, 123.0], "channel_order": "BGR"}


def test_rgba_is_composited_onto_white():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[0, 1] = (255, 0, 0, 0)  # fully transparent
    rgba[1, 0] = (0, 0, 0, 128)  # half black
    rgb = pil_to_rgb(Image.fromarray(rgba, "RGBA"))
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 2, 3)
    assert tuple(rgb[0, 0]) == (255, 0, 0) and tuple(rgb[0, 1]) == (255, 255, 255)
    assert abs(int(rgb[1, 0, 0]) - 127) <= 1
    np.testing.assert_array_equal(array_to_rgb(rgba), rgb)


@pytest.mark.parametrize("mode", ["L", "1", "P", "CMYK", "LA", "YCbCr"])
def test_modes_become_rgb(mode):
    img = Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4) * 20, "L").convert(mode)
    rgb = pil_to_rgb(img)
    assert rgb.dtype == np.uint8 and rgb.shape == (3, 4, 3)


def test_grayscale_is_copied_to_three_channels():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    rgb = pil_to_rgb(Image.fromarray(gray, "L"))
    for c in range(3):
        np.testing.assert_array_equal(rgb[:, :, c], gray)
    np.testing.assert_array_equal(array_to_rgb(gray), rgb)


def test_sixteen_bit_is_scaled_not_clipped():
    a = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    rgb = pil_to_rgb(Image.fromarray(a))  # mode I;16
    assert list(rgb[0, :, 0]) == [0, 100, 255]
    rgb = pil_to_rgb(Image.fromarray(a.astype(np.int32)))  # mode I
    assert list(rgb[0, :, 0]) == [0, 100, 255]


def test_float_images_are_clipped():
    rgb = pil_to_rgb(Image.fromarray(np.array([[-5.0, 100.4, 300.0]], np.float32)))  # mode F
    assert list(rgb[0, :, 0]) == [0, 100, 255]


def test_palette_with_transparency():
    img = Image.fromarray(np.array([[0, 1]], np.uint8), "P")
    img.putpalette([10, 20, 30, 40, 50, 60])
    img.info["transparency"] = 0
    rgb = pil_to_rgb(img)
    assert tuple(rgb[0, 0]) == (255, 255, 255) and tuple(rgb[0, 1]) == (40, 50, 60)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.fromarray(np.zeros((20, 30, 3), np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif)
    rgb, kind = load_rgb(str(path))
    assert rgb.shape == (30, 20, 3) and kind == "pil"


def test_kinds():
    a = np.zeros((4, 5, 3), np.uint8)
    assert load_rgb(a)[1] == "array" and load_rgb(Image.fromarray(a))[1] == "pil"
    assert as_kind(a, "array") is a and as_kind(a, "pil").size == (5, 4)
    with pytest.raises(TypeError, match="path, a PIL.Image"):
        load_rgb([[1, 2]])
    with pytest.raises(ValueError, match="uint8"):
        array_to_rgb(np.zeros((4, 5, 3)))
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        array_to_rgb(np.zeros((4, 5, 2), np.uint8))


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="image not found"):
        load_rgb(str(tmp_path / "nope.png"))
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match="not an image"):
        load_rgb(str(bad))


def _unblock_a_reader_of(fifo, after):
    """Opens the FIFO for writing after `after` seconds unless the test is done: a regression then fails
    instead of hanging the suite."""
    done = threading.Event()

    def writer():
        if not done.wait(after):
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    threading.Thread(target=writer, daemon=True).start()
    return done


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_before_it_is_opened(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    done = _unblock_a_reader_of(fifo, after=10)
    start = time.monotonic()
    with pytest.raises(ImageError, match=r"pipe.png is a named pipe \(FIFO\), not an image file"):
        load_rgb(str(fifo))
    done.set()
    assert time.monotonic() - start < 5


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_the_dream_and_batch_commands_name_a_fifo_input(tmp_path, capsys):
    """Their inputs go through image_paths, which says what the path is (before: "image not found")."""
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    done = _unblock_a_reader_of(fifo, after=10)
    for command in (["dream", str(fifo), "-o", str(tmp_path / "out.png")],
                    ["batch", str(fifo), "-o", str(tmp_path / "out")]):
        assert main([*command, "--model", "mini"]) == 2
        assert "pipe.png is a named pipe (FIFO), not an image file" in capsys.readouterr().err
    done.set()
    assert not (tmp_path / "out.png").exists()


def test_image_paths_expand_folders_and_patterns_and_name_what_is_missing(tmp_path):
    for name in ("b.png", "a.jpg", ".hidden.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert image_paths([str(tmp_path), str(tmp_path / "*.png")]) == [str(tmp_path / "a.jpg"), str(tmp_path / "b.png")]
    with pytest.raises(FileNotFoundError, match="image not found"):
        image_paths(str(tmp_path / "missing.png"))
    with pytest.raises(FileNotFoundError, match="no file matches the pattern"):
        image_paths(str(tmp_path / "*.gif"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        image_paths(str(tmp_path / "empty"))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_link_to_a_device_and_a_folder_are_refused_naming_what_they_are(tmp_path):
    link = tmp_path / "zero.jpg"
    link.symlink_to("/dev/zero")
    with pytest.raises(ImageError, match=r"zero.jpg \(a link to /dev/zero\) is a character device, not an image"):
        load_rgb(link)
    with pytest.raises(ImageError, match="is a folder, not an image file"):
        load_rgb(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="image not found"):
        load_rgb(tmp_path / "dangling.png")
    (tmp_path / "dangling.png").symlink_to(tmp_path / "gone.png")
    with pytest.raises(FileNotFoundError, match="image not found"):
        load_rgb(tmp_path / "dangling.png")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_float_tiff_holding_nan_or_infinity_is_refused_naming_the_file(tmp_path, value):
    path = tmp_path / "float.tif"
    Image.fromarray(np.array([[10.0, value, 300.0]], np.float32), "F").save(path)
    with Image.open(path) as img:
        assert img.mode == "F"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no bare NumPy cast warning either
        with pytest.raises(ImageError, match=r"float.tif holds 1 NaN or infinite pixel values"):
            load_rgb(str(path))
    with pytest.raises(ImageError, match=r"^the image holds 1 NaN"):
        pil_to_rgb(Image.fromarray(np.array([[value]], np.float32), "F"))


def test_network_space_is_bgr_minus_mean_and_back():
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[1, 2] = (200, 100, 50)
    x = to_network(rgb, META)
    assert x.shape == (1, 3, 2, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, 1, 2], [50 - 104, 100 - 117, 200 - 123])
    np.testing.assert_allclose(x[0, :, 0, 0], [-104, -117, -123])
    np.testing.assert_array_equal(from_network(x, META), rgb)
    rgb_model = dict(META, channel_order="RGB")
    np.testing.assert_allclose(to_network(rgb, rgb_model)[0, :, 1, 2], [200 - 104, 100 - 117, 50 - 123])


def test_from_network_rounds_and_clips():
    x = np.array([-200.0, 0.6, 400.0], np.float32).reshape(1, 3, 1, 1)
    assert list(from_network(x, {"mean_bgr": [0, 0, 0]})[0, 0]) == [255, 1, 0]  # BGR -> RGB


def test_png_metadata_round_trip(tmp_path):
    path = tmp_path / "out.png"
    params = {"layer": "inception_4c/output", "octaves": 4, "seed": 3, "clip": True}
    save_image(np.zeros((4, 5, 3), np.uint8), str(path), params)
    img = Image.open(path)
    assert img.text["layer"] == "inception_4c/output" and img.text["octaves"] == "4"
    assert read_params(str(path)) == params


def test_jpeg_comment_round_trip(tmp_path):
    path = tmp_path / "out.jpg"
    params = {"layer": "conv4", "step_size": 1.5}
    save_image(Image.new("RGB", (8, 8)), str(path), params)
    assert read_params(str(path)) == params


def test_no_params_no_metadata(tmp_path):
    path = tmp_path / "plain.png"
    save_image(np.zeros((4, 5, 3), np.uint8), str(path))
    assert read_params(str(path)) == {}


def test_save_checks_path(tmp_path):
    with pytest.raises(ValueError, match="format"):
        save_image(np.zeros((2, 2, 3), np.uint8), str(tmp_path / "out.xyz"))
    with pytest.raises(FileNotFoundError, match="folder"):
        output_format(str(tmp_path / "missing" / "out.png"))
    assert output_format(str(tmp_path / "a.JPG")) == "JPEG"


def test_atomic_write_leaves_no_half_file(tmp_path):
    path = tmp_path / "out.png"
    path.write_bytes(b"old")

    def broken(f):
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(str(path), broken)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.png"]


def test_input_scale_from_the_metadata_is_applied_both_ways():
    # Caffe's data-layer scale (LeNet-style nets train on pixels / 256): x = (pixel - mean) * scale.
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    meta = {"mean_bgr": [10.0, 20.0, 30.0], "channel_order": "BGR", "extra": {"input_scale": 0.00390625}}
    x = to_network(rgb, meta)
    expected = (rgb[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) - np.float32([10, 20, 30])[:, None, None]) / 256
    np.testing.assert_allclose(x[0], expected, rtol=1e-6)
    np.testing.assert_array_equal(from_network(x, meta), rgb)
    assert np.abs(to_network(rgb, dict(meta, extra={}))).max() > 100  # without it: plain pixel units


def test_one_channel_models_see_luminance_and_give_back_grey():
    from minidream.io.images import from_network, to_network

    meta = {"input_channels": 1, "mean_bgr": [10.0], "extra": {"input_scale": 0.5}}
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [100, 100, 100]]], np.uint8)
    x = to_network(rgb, meta)
    assert x.shape == (1, 1, 1, 4)
    np.testing.assert_allclose(x[0, 0, 0], (np.array([0.299, 0.587, 0.114, 1.0]) * [255, 255, 255, 100] - 10) * 0.5,
                               rtol=1e-5)
    grey = from_network(x, meta)
    assert grey.shape == (1, 4, 3) and (grey[..., 0] == grey[..., 2]).all() and grey[0, 3, 1] == 100


def test_a_one_channel_net_dreams_in_grey():
    import minidream
    from minidream.models.random_weights import he_init
    from minidream.engine.net import Net
    from minidream.engine.layer_types.specs import conv, relu

    net = he_init(Net([conv("c1", "data", 4, 3, pad=1), relu("r1", "c1")],
                      meta={"input_channels": 1, "input_size": (16, 16), "mean_bgr": [128.0]}), seed=0)
    rng = np.random.default_rng(0)
    out = minidream.dream((rng.random((20, 24, 3)) * 255).astype(np.uint8), model=net, layer="r1", octaves=2,
                          steps=2, jitter=2, seed=0, progress=False)
    assert out.shape == (20, 24, 3) and (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
