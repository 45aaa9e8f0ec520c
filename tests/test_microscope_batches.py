"""The microscope's batches: channel pictures dreamed up to 8 at a time, a channel's variants as one diverse batch;
recipes, reruns and the channel page's words stay true."""
import json

import numpy as np
import pytest

import minidream
from minidream.cli import main
from minidream.io.images import read_params
from minidream.microscope import render as render_module
from minidream.microscope.plan import plan_layers
from minidream.microscope.render import plan_pictures, render


def test_a_layers_channels_render_in_one_batch_and_each_is_its_recipes_picture(tmp_path, monkeypatch):
    net = minidream.load_model("mini")
    pictures = plan_pictures(net, str(tmp_path), plan_layers(net, ["conv5"], list(range(10))), 64, steps=2,
                             diversity=0)
    sizes = []
    real = render_module.dream_batch
    monkeypatch.setattr(render_module, "dream_batch", lambda net, objective, *a, **k: (
        sizes.append(len(objective.objectives)), real(net, objective, *a, **k))[1])
    images = render(net, pictures)
    assert sizes == [8, 2]
    for picture, image in zip(pictures, images):
        assert json.loads(image.info["minidream"]) == picture.recipe
    alone = minidream.dream(recipe=pictures[9].recipe, model=net, progress=False)
    np.testing.assert_array_equal(np.asarray(alone), np.asarray(images[9]))


def test_variants_are_a_diverse_batch_and_the_page_says_so(tmp_path, capsys):
    site = tmp_path / "site"
    argv = ["microscope", "--model", "mini", "--layers", "conv5", "--channels", "3", "--diversity", "3",
            "--steps", "2", "--workers", "0", "--no-progress", "-o", str(site)]
    assert main(argv) == 0
    recipes = [read_params(site / "conv5" / f"3_{v}.png") for v in (1, 2, 3)]
    assert [r["batch"]["index"] for r in recipes] == [0, 1, 2]
    assert recipes[0]["batch"]["noise_seeds"] == [None, 2, 3] and recipes[0]["seed"] == 1
    assert recipes[0]["batch"]["objective_data"]["shared"]["type"] == "Diversity"
    assert "batch" not in read_params(site / "conv5" / "3.png")
    again = minidream.dream(recipe=str(site / "conv5" / "3_2.png"), progress=False)
    np.testing.assert_array_equal(np.asarray(again), np.asarray(minidream.io.images.open_image(
        str(site / "conv5" / "3_2.png")).convert("RGB")))
    page = (site / "conv5" / "3.html").read_text(encoding="utf-8")
    assert "A diverse batch" in page and "no diversity objective" not in page and "noise of seed 3" in page
    capsys.readouterr()
    assert main(argv) == 0
    assert "skipped 4 pictures" in capsys.readouterr().out


def test_a_single_variant_says_it_differs_only_by_its_noise(tmp_path):
    site = tmp_path / "site"
    assert main(["microscope", "--model", "mini", "--layers", "conv5", "--channels", "0", "--diversity", "1",
                 "--steps", "1", "--workers", "0", "--no-progress", "-o", str(site)]) == 0
    page = (site / "conv5" / "0.html").read_text(encoding="utf-8")
    assert "differs only by its starting noise" in page and "noise of seed 1" in page


def _one_picture_net():
    """A net whose Reshape fixes its batch at 1 (dims 0 copy the input's), as ONNX exports that reshape to
    (1, ...) do (torchvision's ShuffleNet)."""
    from minidream.engine.layer_types.specs import conv, layer, relu
    from minidream.models.random_weights import he_init
    specs = [conv("conv1", "data", 8, 3, pad=1), relu("relu1", "conv1"),
             layer("batch_of_one", "Reshape", "conv1", shape={"dim": [1, 0, 0, 0]}),
             conv("conv2", "batch_of_one", 8, 3, pad=1)]
    return he_init(minidream.Net(specs, meta={"name": "one-at-a-time", "input_size": (32, 32)}), seed=0)


def test_a_model_that_takes_one_picture_at_a_time_renders_its_channels_one_by_one(tmp_path, monkeypatch):
    from minidream.engine.graph import FixedBatchError
    net = _one_picture_net()
    with pytest.raises(FixedBatchError, match="'batch_of_one' takes one picture at a time, not a batch of 2"):
        minidream.dream(None, model=net, objective=[minidream.objectives.Channel("conv2", c) for c in (0, 1)],
                        size=(24, 24), octaves=1, steps=1, progress=False)
    with pytest.raises(ValueError, match="one picture at a time .*'batch_of_one'.* give --diversity 1 or 0"):
        plan_pictures(net, str(tmp_path), plan_layers(net, ["conv2"], [0, 1]), 24, steps=2, diversity=2)
    pictures = plan_pictures(net, str(tmp_path), plan_layers(net, ["conv2"], [0, 1, 2]), 24, steps=2, diversity=1)
    sizes = []
    real = render_module.dream_batch
    monkeypatch.setattr(render_module, "dream_batch", lambda net, objective, *a, **k: (
        sizes.append(len(objective.objectives)), real(net, objective, *a, **k))[1])
    images = render(net, pictures)
    assert sizes == [1] * 6 and len(images) == 6  # 3 channels and a variant each, one dream per picture
    alone = minidream.dream(recipe=pictures[2].recipe, model=net, progress=False)
    np.testing.assert_array_equal(np.asarray(alone), np.asarray(images[2]))


def test_by_default_pictures_render_here_unless_the_machine_has_more_cores_than_a_batch(monkeypatch):
    pytest.importorskip("distributed")
    on_dask = render_module._on_dask
    for cores, many, device, expected in [(2, 48, "cpu", False), (8, 48, "cpu", False), (16, 48, "cpu", True),
                                          (16, 8, "cpu", False), (16, 48, "gpu", False)]:
        monkeypatch.setattr(render_module.os, "sched_getaffinity", lambda pid, n=cores: set(range(n)), raising=False)
        assert on_dask(None, None, many, device) is expected, (cores, many, device)
    assert on_dask(2, None, 48) and not on_dask(0, None, 48) and on_dask(None, "tcp://127.0.0.1:8786", 1)
