"""Dead channels in the microscope: a channel that holds one value on its picture is marked on its pages, with
the value, and gets no top-activating crops; no live channel is marked; on the real ShuffleNet export, the marked
channels are the ones onnxruntime finds constant."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from minidream.dreaming.deepdream import _start_image
from minidream.io.images import load_rgb
from minidream.microscope import microscope
from minidream.microscope.constant import flat_value
from minidream.models.loading import load_model

REAL_ONNX = Path(__file__).resolve().parents[1] / ".." / "shared" / "real_onnx"


def mini_with_a_dead_channel(channel, value):
    """mini whose conv5 channel has a zero kernel and the bias `value`: it outputs value wherever it looks."""
    net = load_model("mini")
    w, b = net.params["conv5"]
    w[channel] = 0.0
    b[channel] = value
    return net


def test_a_dead_channel_is_marked_with_its_value_and_its_picture_is_its_starting_noise(tmp_path):
    net = mini_with_a_dead_channel(3, 0.5)
    site = tmp_path / "site"
    images = tmp_path / "images"
    images.mkdir()
    for i in range(2):
        noise = np.random.default_rng(i).uniform(0, 255, size=(12, 16, 3)).astype(np.uint8)
        Image.fromarray(noise).resize((80, 60), Image.BICUBIC).save(images / f"img{i}.png")
    report = microscope(net, site, layers=["conv5"], channels=[2, 3, 4], steps=3, diversity=0, images=str(images),
                        workers=0, progress=False)
    assert report.constant == {"conv5": {3: pytest.approx(0.5)}}
    folder = site / "conv5"
    dead = (folder / "3.html").read_text()
    assert "This channel is 0.5 at every position of its picture" in dead and "starting noise" in dead
    assert "No image made this channel respond." in dead  # no place holds more of it than another: no crop
    for live in (2, 4):
        page = (folder / f"{live}.html").read_text()
        assert "at every position" not in page and "crops/" in page and "No image made" not in page
    grid = (folder / "index.html").read_text()
    assert "Constant on their pictures: 3 (1 of 3)" in grid and grid.count("· constant") == 1
    assert "conv5</a></td><td>64</td><td>2–4 (1 constant)" in (site / "index.html").read_text()
    # What the page says of the picture: no gradient, so the dream left its start (the noise of its seed) as it was.
    start = _start_image(None, (64, 64), np.random.default_rng(0))[0]
    picture = load_rgb(str(folder / "3.png"))[0]
    assert np.abs(picture.astype(int) - start.astype(int)).max() <= 1
    assert np.abs(load_rgb(str(folder / "2.png"))[0].astype(int) - start.astype(int)).max() > 20


def test_flat_means_the_same_value_in_every_part_of_the_picture():
    assert flat_value([np.full((3, 4), 0.25, np.float32)]) == 0.25
    assert flat_value([np.full((3, 4), 0.25, np.float32), np.full((2, 2), 0.25, np.float32)]) == 0.25
    assert flat_value([np.full((3, 4), 0.25, np.float32), np.full((2, 2), 0.26, np.float32)]) is None
    varied = np.full((3, 4), 1000.0, np.float32)
    varied[1, 2] = 1000.01  # a hundredth on a thousand: not rounding
    assert flat_value([varied]) is None


@pytest.mark.skipif(not REAL_ONNX.is_dir(), reason=f"{REAL_ONNX} (real ONNX exports) is absent")
def test_the_real_shufflenet_exports_dead_channels_are_the_ones_onnxruntime_finds_constant(tmp_path):
    path = REAL_ONNX / "shufflenet_v2_x0_5.onnx"
    layer = "/stage3/stage3.0/branch1/branch1.0/Conv_output_0"
    report = microscope(str(path), tmp_path / "site", layers=[layer], channels=range(8), steps=2, diversity=0,
                        workers=0, progress=False)
    folder = tmp_path / "site" / "stage3_stage3.0_branch1_branch1.0_Conv_output_0"
    marked = [c for c in range(8) if "at every position" in (folder / f"{c}.html").read_text()]
    assert report.written == 8 and marked
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = onnx.load(str(path))
    model.graph.output.append(onnx.helper.make_tensor_value_info(layer, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString())
    x = np.random.default_rng(1).normal(size=(1, 3, 224, 224)).astype(np.float32)
    maps = session.run([layer], {session.get_inputs()[0].name: x})[0][0, :8]
    assert marked == [c for c in range(8) if np.ptp(maps[c]) == 0.0]
