"""The microscope's batches: channel pictures dreamed up to 8 at a time, a channel's variants as one diverse batch;
recipes, reruns and the channel page's words stay true."""
import json

import numpy as np

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
