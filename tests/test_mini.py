import os

import numpy as np
import pytest

from minidream.formats import h5format
from minidream.training import image_folder, patterns
from minidream.architectures import mini
from minidream import train_mini
from minidream.engine.net import Net
from minidream.models.loading import load_net

MB = 1024 * 1024


@pytest.fixture(scope="module")
def bundled():
    return load_net(train_mini.BUNDLED)


def test_architecture_shapes_and_names():
    specs, meta = mini.architecture()
    net = Net(specs, meta=meta)
    shapes = net.output_shapes()
    assert shapes["conv1"] == (1, 16, 64, 64)
    assert shapes["pool5"] == (1, 64, 4, 4)
    assert shapes["prob"] == (1, len(patterns.CLASS_NAMES))
    assert meta["class_names"] == list(patterns.CLASS_NAMES)
    assert meta["extra"]["default_layer"] in net.layer_names
    assert {s["type"] for s in specs} >= {"Convolution", "ReLU", "LRN", "Pooling", "InnerProduct", "Dropout"}
    n_bytes = 4 * sum(int(np.prod(a.shape)) for arrays in net.params.values() for a in arrays)
    assert 2 * MB < n_bytes < 5 * MB


def test_bundled_file_is_small_and_complete(bundled):
    assert os.path.getsize(train_mini.BUNDLED) < 10 * MB
    specs, _, meta = h5format.load(train_mini.BUNDLED)
    assert [s["name"] for s in specs] == [s["name"] for s in mini.architecture()[0]]
    assert meta["name"] == "mini"
    assert meta["class_names"] == list(patterns.CLASS_NAMES)
    assert meta["extra"]["default_layer"] == mini.DEFAULT_LAYER
    assert tuple(meta["input_size"]) == mini.INPUT_SIZE


def test_bundled_model_classifies_fresh_patterns(bundled):
    # Seed 3 was used neither for training (0), validation (1) nor the recorded test (2).
    assert train_mini.held_out_accuracy(bundled, n=220, seed=3) >= 0.95


def test_bundled_model_dreams_grow_its_patterns(bundled):
    # A few plain gradient-ascent steps on the default layer's L2 (what dream does, minus
    # octaves and jitter) must raise the objective a lot, starting from a flat grey image.
    layer = bundled.meta["extra"]["default_layer"]
    x = np.random.default_rng(0).normal(0, 8, (1, 3, 64, 64)).astype(np.float32)
    energy = []
    for _ in range(10):
        y = bundled.forward(x, end=layer)
        energy.append(float((y**2).sum() / 2))
        g = bundled.backward(y)
        x += 1.5 / (np.abs(g).mean() + 1e-8) * g
    assert energy[-1] > 3 * energy[0]


def test_load_model_mini_works_offline(monkeypatch, tmp_path):
    loading = pytest.importorskip("minidream.models.loading")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    net = loading.load_model("mini")
    assert net.meta["class_names"] == list(patterns.CLASS_NAMES)
    x = image_folder.to_input(image_folder.center_crops(patterns.generate(11, 72, seed=4)[0], 64),
                              net.meta["mean_bgr"])
    assert net.forward(x, end="prob").shape == (11, len(patterns.CLASS_NAMES))
