"""The vgg-bn spec builder. Its Net-level tests (BatchNorm/Scale forward, training) come with those layer types."""
import numpy as np
import pytest

from minidream.architectures import vgg_bn
from minidream.engine.net import Net


def test_layout_is_the_papers():
    specs, meta = vgg_bn.architecture(input_size=48, num_classes=7)
    convs = [s for s in specs if s["type"] == "Convolution"]
    assert [s["params"]["num_output"] for s in convs] == [32, 32, 64, 64, 128, 128, 128, 256, 256, 256]
    assert all(s["params"]["kernel_size"] == [3, 3] and s["params"]["pad"] == [1, 1] for s in convs)
    assert not any(s["params"]["bias_term"] for s in convs)  # BatchNorm's mean subtraction cancels a bias
    by_name = {s["name"]: s for s in specs}
    for conv in convs:
        unit = conv["name"][4:]  # "1_1"
        bn, scale, relu = by_name[f"bn{unit}"], by_name[f"scale{unit}"], by_name[f"relu{unit}"]
        assert (bn["type"], bn["bottoms"]) == ("BatchNorm", [conv["name"]])
        assert (scale["type"], scale["bottoms"], scale["params"]["bias_term"]) == ("Scale", [bn["name"]], True)
        assert relu["bottoms"] == relu["tops"] == [scale["name"]]
    pools = [s for s in specs if s["type"] == "Pooling"]
    assert [s["name"] for s in pools] == ["pool1", "pool2", "pool3", "pool4"]
    assert all(s["params"]["kernel_size"] == [2, 2] and s["params"]["stride"] == [2, 2] for s in pools)
    assert [s["type"] for s in specs[-5:]] == ["InnerProduct", "ReLU", "Dropout", "InnerProduct", "Softmax"]
    assert specs[-5]["params"]["num_output"] == 512 and specs[-2]["params"]["num_output"] == 7
    assert meta["input_size"] == (48, 48) and len(meta["class_names"]) == 7
    # Every bottom is produced earlier (or is the input): the graph is in order.
    produced = {"data"}
    for s in specs:
        assert set(s["bottoms"]) <= produced, s["name"]
        produced.update(s["tops"])


def test_without_batch_norm_it_runs_in_the_net_today():
    specs, meta = vgg_bn.architecture(input_size=32, num_classes=3, batch_norm=False)
    assert not any(s["type"] in ("BatchNorm", "Scale") for s in specs)
    net = Net(specs, meta=meta)
    assert net.params["fc5"][0].shape == (512, 256 * 2 * 2)  # four pools: 32 -> 2
    assert net.forward(np.zeros((2, 3, 32, 32), np.float32)).shape == (2, 3)
    assert meta["extra"]["default_layer"] in net.layer_names


def test_too_small_inputs_are_refused():
    with pytest.raises(ValueError, match="at least 16x16"):
        vgg_bn.architecture(input_size=8)
