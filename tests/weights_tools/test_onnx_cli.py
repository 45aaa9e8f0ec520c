"""`python -m weights_tools convert MODEL.onnx`, `--model MODEL.onnx` and load_model on a real export: the
options, the refusals, the cache, and the preprocessing recorded."""
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import minidream
from minidream.objectives import ClassNeuron
from minidream.io.images import to_network
from weights_tools.__main__ import main

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "real_onnx"
SQUEEZENET = REAL / "squeezenet1_1.onnx"
pytestmark = pytest.mark.skipif(not SQUEEZENET.exists(), reason="the real ONNX files are not beside the checkout")


def test_convert_records_torchvisions_preprocessing_and_says_it_assumed_it(tmp_path, capsys):
    dst = tmp_path / "squeezenet.h5"
    assert main(["convert", str(SQUEEZENET), str(dst)]) == 0
    err = capsys.readouterr().err
    assert "assumed mean: (0.485, 0.456, 0.406)" in err and "assumed std" in err
    net = minidream.load_model(dst)
    assert net.meta["channel_order"] == "RGB" and len(net.meta["class_names"]) == 1000
    white = np.full((4, 4, 3), 255.0)
    expected = (1.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    assert np.allclose(to_network(white, net.meta)[0, :, 0, 0], expected, rtol=1e-5)  # (1 - mean) / std


def test_stated_preprocessing_wins_and_caffe_options_are_refused(tmp_path, capsys):
    dst = tmp_path / "keras_style.h5"
    assert main(["convert", str(SQUEEZENET), str(dst), "--mean", "127.5", "--std", "127.5", "--input-range",
                 "255"]) == 0
    assert "assumed mean" not in capsys.readouterr().err
    net = minidream.load_model(dst)
    assert np.allclose(to_network(np.zeros((2, 2, 3)), net.meta), -1.0) and np.allclose(
        to_network(np.full((2, 2, 3), 255.0), net.meta), 1.0)
    assert main(["convert", str(SQUEEZENET), str(tmp_path / "x.h5"), "--prototxt", "deploy.prototxt"]) == 2
    assert "only .caffemodel files take --prototxt" in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()


def test_load_model_converts_once_into_the_cache_and_matches_onnxruntime(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDREAM_HOME", str(tmp_path / "cache"))
    net = minidream.load_model(str(SQUEEZENET))
    assert len(list((tmp_path / "cache" / "converted").glob("*.h5"))) == 1
    again = minidream.load_model(str(SQUEEZENET))
    assert len(list((tmp_path / "cache" / "converted").glob("*.h5"))) == 1
    assert again.source == os.path.abspath(SQUEEZENET)
    ref = np.load(REAL / "squeezenet1_1.ref.npz")
    y = again.forward(ref["x"], end="logits")
    assert np.abs(y - ref["out/logits"]).max() / np.abs(ref["out/logits"]).max() < 1e-5
    assert net.output_shape("logits") == (1, 1000)


@pytest.mark.parametrize("name, default", [
    ("squeezenet1_1", "/features/features.12/Concat_output_0"),  # before the convolutional classifier, 13x13
    ("mobilenet_v3_small", "hardswish_11"),  # 14x14 at 224: 1/16
    ("vit_tiny", "/encoder/ln/LayerNormalization_output_0"),  # tokens: the deepest
])
def test_the_default_dream_layer_is_the_deepest_at_a_sixteenth_before_the_classifier(name, default, tmp_path):
    from weights_tools.onnx.convert import load_onnx

    _, _, meta = load_onnx(REAL / f"{name}.onnx")
    assert meta["extra"]["default_layer"] == default


def test_a_class_dream_slides_the_dynamo_exporters_head(tmp_path, monkeypatch):
    """MobileNet v3 from the dynamo exporter ends in ReduceMean, Reshape, Gemm, HardSwish, Gemm: as global pooling,
    Flatten and a head of pointwise layers, which ClassNeuron slides over the map of a larger image."""
    monkeypatch.setenv("MINIDREAM_HOME", str(tmp_path / "cache"))
    net = minidream.load_model(str(REAL / "mobilenet_v3_small.onnx"))
    head = net.graph.classifier_head()
    assert head.pool == "mean_9" and head.layers == ["linear", "hardswish_18", "logits"]
    image = np.asarray(Image.open(Path(__file__).resolve().parents[2] / "examples" / "chelsea.jpg").convert("RGB")
                       .resize((256, 192)))
    out = minidream.dream(image, model=net, objective=ClassNeuron("goldfish"), octaves=1, steps=2, seed=0)
    assert out.shape == image.shape and np.abs(out.astype(int) - image).mean() > 0.5
