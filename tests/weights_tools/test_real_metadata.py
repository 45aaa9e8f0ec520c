"""What the converter records about the real files' inputs, and what it says it assumed (../shared/real_caffemodels)."""
import numpy as np
import pytest
from PIL import Image

import minidream
from weights_tools import writer as pw
from tests.weights_tools.test_real_models import REAL, needs_files
from weights_tools.__main__ import main
from weights_tools.convert import Options, load_caffemodel

# CIFAR-10's training-set channel means in R, G, B order (convert_cifar_data.cpp writes the R, G, B planes as the
# dataset stores them, so the nets were trained on RGB): what examples/cifar10/mean.binaryproto averages to.
CIFAR10_MEAN_RGB = [125.3, 122.95, 113.87]


def cifar_mean_file(path):
    image = np.stack([np.full((32, 32), m, np.float32) for m in CIFAR10_MEAN_RGB])[None]
    path.write_bytes(pw.blob(image, legacy=True))  # compute_image_mean writes legacy 1x3x32x32 dims
    return path


@needs_files
@pytest.mark.parametrize("stem", ["cifar10_quick_iter_5000_2014", "cifar10_full_iter_70000_2014"])
def test_cifar10_is_rgb_with_its_mean_when_told(stem, tmp_path, capsys):
    src = REAL / f"{stem}.caffemodel"
    _, _, meta = load_caffemodel(src)  # the file names examples/cifar10/mean.binaryproto but cannot hold it
    assumed = meta["extra"]["assumed"]
    assert "examples/cifar10/mean.binaryproto" in assumed["mean"] and "channel_order" in assumed
    mean_file = cifar_mean_file(tmp_path / "mean.binaryproto")
    dst = tmp_path / "cifar.h5"
    assert main(["convert", str(src), str(dst), "--mean-file", str(mean_file), "--channel-order", "RGB"]) == 0
    err = capsys.readouterr().err
    assert "assumed mean" not in err and "assumed channel_order" not in err
    assert "dropped training-only layers: loss (SoftmaxWithLoss" in err
    meta = minidream.load_model(dst).meta
    assert meta["channel_order"] == "RGB" and "assumed" not in meta["extra"] or "mean" not in meta["extra"]["assumed"]
    np.testing.assert_allclose(meta["mean_bgr"], CIFAR10_MEAN_RGB, rtol=1e-6)  # network order: R, G, B


@needs_files
def test_alphabet62_has_no_mean_and_scale_one_256th():
    _, _, meta = load_caffemodel(REAL / "alphabet62_iter_50000.caffemodel")
    assert meta["mean_bgr"] == [0.0, 0.0, 0.0] and meta["extra"]["input_scale"] == 1 / 256
    assert "mean" not in meta["extra"]["assumed"] and "scale" not in meta["extra"]["assumed"]
    _, _, meta = load_caffemodel(REAL / "alphabet62_iter_50000.caffemodel",
                                 options=Options(prototxt=REAL / "alphabet62_deploy.prototxt"))
    assert meta["mean_bgr"] == [0.0, 0.0, 0.0] and meta["extra"]["input_scale"] == 1 / 256  # from the caffemodel


@needs_files
def test_options_override_the_file():
    _, _, meta = load_caffemodel(REAL / "resnet20_cifar10_iter_53500.caffemodel",
                                 options=Options(mean=[1, 2, 3], scale=0.5, channel_order="RGB", input_size=(40, 40)))
    assert meta["mean_bgr"] == [1, 2, 3] and meta["extra"]["input_scale"] == 0.5
    assert meta["channel_order"] == "RGB" and meta["input_size"] == (40, 40)
    _, _, meta = load_caffemodel(REAL / "resnet20_cifar10_iter_53500.caffemodel")
    np.testing.assert_allclose(meta["mean_bgr"], [125.3, 122.9, 113.8], rtol=1e-6)  # its Data layer's mean_value


@needs_files
def test_mtcnn_loss_layers_are_dropped_with_a_one_line_message(tmp_path, capsys):
    assert main(["convert", str(REAL / "mtcnn_det1_jfda.caffemodel"), str(tmp_path / "p.h5")]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("dropped")]
    assert lines == ["dropped training-only layers: loss (JfdaLoss: a loss/metric layer)"]
    assert main(["convert", str(REAL / "mtcnn_det4_jfda.caffemodel"), str(tmp_path / "o.h5")]) == 0
    line = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("dropped"))
    assert "target_slice (Slice: reads the training blob 'target')" in line and "loss_5 (EuclideanLoss" in line
    net = minidream.load_model(tmp_path / "o.h5")
    assert net.layer_names[-2:] == ["landmark", "landmark_slice"] and net.meta["input_channels"] == 15


@needs_files
def test_lenet_dreams_on_a_grayscale_image(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDREAM_HOME", str(tmp_path))
    net = minidream.load_model(REAL / "lenet_iter_10000_2017.caffemodel")
    assert net.meta["input_channels"] == 1 and net.meta["mean_bgr"] == [0.0]
    rng = np.random.default_rng(0)
    grey = Image.fromarray((rng.random((56, 56)) * 255).astype(np.uint8), "L")
    out = minidream.dream(grey, model=net, layer="conv2", octaves=1, steps=3, jitter=2, seed=0, progress=False)
    a = np.asarray(out)
    assert a.shape == (56, 56, 3) and (a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all()
    assert np.abs(a[..., 0].astype(int) - np.asarray(grey.convert("RGB"))[..., 0]).mean() > 1.0


@needs_files
def test_inspect_and_layers_list_a_slices_tops(tmp_path, capsys):
    from minidream.models.classification import layer_table

    src = REAL / "mtcnn_det4_jfda.caffemodel"
    assert main(["inspect", str(src)]) == 0
    assert "landmark_slice  Slice        landmark_1 2, landmark_2 2" in capsys.readouterr().out
    dst = tmp_path / "onet.h5"
    assert main(["convert", str(src), str(dst), "--prototxt", str(REAL / "mtcnn_det4_jfda_deploy.prototxt")]) == 0
    assert layer_table(dst)[-5:] == [(f"landmark_{k}", (2,)) for k in range(1, 6)]
