import numpy as np
import pytest

from minidream.models.classification import _crop_to_aspect, classify, layer_table
from minidream.io.images import to_network
from minidream.models.random_weights import random_model


@pytest.fixture(scope="module")
def mini():
    net = random_model("mini", seed=2)
    net.params["fc8"][0] *= 3e-3  # random logits are huge; smaller ones give distinct probabilities
    return net


def test_classify_returns_named_sorted_probabilities(mini):
    img = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    top = classify(img, mini, top=3)
    assert len(top) == 3
    names = mini.meta["class_names"]
    probs = mini.forward(to_network(img, mini.meta))[0]  # mini ends in Softmax
    best = np.argsort(-probs)[:3]
    assert [name for name, _ in top] == [names[i] for i in best]
    np.testing.assert_allclose([p for _, p in top], probs[best], rtol=1e-5)


def test_classify_resizes_any_image(mini):
    top = classify(np.zeros((30, 100, 3), np.uint8), mini, top=len(mini.meta["class_names"]))
    assert sum(p for _, p in top) == pytest.approx(1.0, rel=1e-4)
    with pytest.raises(ValueError, match="top"):
        classify(np.zeros((8, 8, 3), np.uint8), mini, top=0)


def test_crop_to_aspect_is_centred():
    rgb = np.arange(4 * 10).reshape(4, 10, 1).repeat(3, axis=2)
    crop = _crop_to_aspect(rgb, 1.0)
    assert crop.shape == (4, 4, 3) and crop[0, 0, 0] == 3
    assert _crop_to_aspect(rgb.transpose(1, 0, 2), 1.0).shape == (4, 4, 3)


def test_layers_lists_names_with_shapes():
    net = random_model("googlenet")
    rows = dict(layer_table(net))
    assert rows["inception_4c/output"] == (512, 14, 14) and rows["loss3/classifier"] == (1000,)
    assert list(rows)[0] == "conv1/7x7_s2"
    small = dict(layer_table(net, input_size=(64, 96)))
    assert small["inception_4c/output"] == (512, 4, 6)
    assert "pool5/7x7_s1" not in small  # the input is too small for its 7x7 window
