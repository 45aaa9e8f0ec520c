"""dream(None, batch=K): K pictures in one batched forward and backward per step (minidream.dreaming.batch), each
the picture its own recipe makes alone; per-picture history; refusals; the command line's --batch."""
import json

import numpy as np
import pytest
from PIL import Image

import minidream
from minidream.cli import main
from minidream.dreaming.plot import COLORS
from minidream.dreaming.batch import PerPicture
from minidream.dreaming.jitter import gradient
from minidream.io.images import to_network
from minidream.objectives import L2, Channel, Diversity

SMALL = dict(size=(64, 64), octaves=1, steps=3, seed=7, progress=False)


@pytest.fixture(scope="module")
def net():
    return minidream.load_model("mini")


@pytest.mark.parametrize("param, octaves", [("fft", 1), ("pixel", 2)])
def test_each_picture_is_the_one_its_recipe_makes_alone(net, param, octaves):
    objectives = [Channel("conv5", c) for c in (0, 3, 5)]
    history = []
    images = minidream.dream(None, model=net, objective=objectives, **dict(SMALL, param=param, octaves=octaves),
                             history=history)
    assert len(images) == 3 and len(history) == 3 * octaves
    for k, image in enumerate(images):
        recipe = json.loads(image.info["minidream"])
        assert recipe["objective_data"] == objectives[k].to_data() and recipe["seed"] == 7
        assert recipe.get("noise_seed") == (None if k == 0 else 7 + k) and "batch" not in recipe
        alone_history = []
        alone = minidream.dream(recipe=recipe, model=net, progress=False, history=alone_history)
        np.testing.assert_array_equal(np.asarray(alone), np.asarray(image))  # measured bit-identical (batch.py)
        assert [v for _, _, v in alone_history] == [values[k] for _, _, values in history]


def test_picture_zero_is_the_plain_dream_of_the_seed_and_batch_one_is_a_plain_dream(net):
    batch = minidream.dream(None, model=net, objective=Channel("conv5", 1), batch=2, param="fft", **SMALL)
    plain = minidream.dream(None, model=net, objective=Channel("conv5", 1), param="fft", **SMALL)
    one = minidream.dream(None, model=net, objective=Channel("conv5", 1), batch=1, param="fft", **SMALL)
    assert not isinstance(one, list) and one.info["minidream"] == plain.info["minidream"]
    np.testing.assert_array_equal(np.asarray(one), np.asarray(plain))
    np.testing.assert_array_equal(np.asarray(batch[0]), np.asarray(plain))
    assert json.loads(batch[0].info["minidream"]) == json.loads(plain.info["minidream"])
    assert not np.array_equal(np.asarray(batch[1]), np.asarray(plain))  # its own noise


def test_a_diverse_batchs_picture_is_remade_by_dreaming_its_batch_again(net):
    images = minidream.dream(None, model=net, objective=Channel("conv5", 2) + Diversity("conv5", 2.0), batch=3,
                             param="fft", **SMALL)
    recipe = json.loads(images[2].info["minidream"])
    assert recipe["batch"]["index"] == 2 and recipe["batch"]["noise_seeds"] == [None, 8, 9]
    assert recipe["objective"] == "Channel('conv5', 2) + Diversity('conv5', weight=2) (picture 2 of a batch of 3)"
    np.testing.assert_array_equal(np.asarray(minidream.dream(recipe=recipe, model=net, progress=False)),
                                  np.asarray(images[2]))


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch=0), "batch: expected a whole number >= 1, got 0"),
    (dict(batch=2, objective=[Channel("conv5", 0)] * 3), "batch=2 but 3 objectives"),
    (dict(batch=2, image=np.zeros((64, 64, 3), np.uint8)), "a batch dreams from noise"),
    (dict(batch=2, size=None), "a batch dreams from noise: give size"),
    (dict(batch=2, noise_seed=3), "noise_seed is one picture's"),
    (dict(objective=[Channel("conv5", 0) + Diversity("conv5")] * 2), "a list gives each picture its own objective"),
])
def test_bad_batches_are_refused_before_any_work(net, kwargs, message):
    kwargs = dict(dict(SMALL, objective=Channel("conv5", 0)), **kwargs)
    with pytest.raises(ValueError, match=message):
        minidream.dream(kwargs.pop("image", None), model=net, **kwargs)


def test_the_command_line_writes_k_numbered_files_each_with_its_recipe(tmp_path, capsys):
    out = tmp_path / "d.png"
    argv = ["dream", "--model", "mini", "--size", "64", "--layer", "conv5", "--channel", "4", "--octaves", "1",
            "--steps", "2", "--param", "fft", "--seed", "1", "--no-progress", "-o", str(out)]
    assert main([*argv, "--batch", "3", "--diversity", "1"]) == 0
    files = [tmp_path / f"d_{k}.png" for k in range(3)]
    assert all(f.exists() for f in files) and not out.exists()
    assert json.loads(Image.open(files[1]).info["minidream"])["batch"]["index"] == 1
    assert main(["dream", "--from", str(files[1]), "-o", str(tmp_path / "again.png"), "--no-progress"]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "again.png")), np.asarray(Image.open(files[1])))
    capsys.readouterr()
    for extra, message in [(["--batch", "0"], "--batch: expected a whole number >= 1, got 0"),
                           (["--batch", "1", "--diversity", "1"], "give --batch 2 or more, got 1"),
                           (["--diversity", "1"], "give --batch K (K >= 2) too"),
                           (["--batch", "2", "--plot", str(tmp_path / "p.txt")], "p.txt")]:
        try:
            code = main([*argv, *extra])
        except SystemExit as exc:
            code = exc.code
        assert code == 2 and message in capsys.readouterr().err


def test_a_batch_saves_every_pictures_snapshots_and_plots_a_line_per_picture(tmp_path, capsys):
    out = tmp_path / "d.png"
    assert main(["dream", "--model", "mini", "--size", "48", "--layer", "conv5", "--octaves", "2", "--steps", "3",
                 "--seed", "2", "--no-progress", "--batch", "3", "--save-every", "2", "--plot",
                 str(tmp_path / "plot.png"), "-o", str(out)]) == 0
    # 6 steps in all: snapshots after the 2nd (octave 0, step 1) and the 4th and 6th (octave 1, steps 0 and 2)
    snapshots = sorted(p.name for p in tmp_path.glob("d_*_o*"))
    assert snapshots == sorted(f"d_{k}_o{o}_s{s:03d}.png" for k in range(3) for o, s in ((0, 1), (1, 0), (1, 2)))
    last = np.asarray(Image.open(tmp_path / "d_1_o1_s002.png"))
    np.testing.assert_array_equal(last, np.asarray(Image.open(tmp_path / "d_1.png")))  # the last step's picture
    plot = np.asarray(Image.open(tmp_path / "plot.png").convert("RGB")).reshape(-1, 3)
    colours = {tuple(c) for c in plot}
    assert all(COLORS[k] in colours for k in range(3)) and COLORS[3] not in colours
    assert main(["dream", "--model", "mini", "--size", "32", "--octaves", "1", "--steps", "1", "--no-progress",
                 "--batch", "1", "-o", str(tmp_path / "one.png")]) == 0  # K = 1 is one dream, still out_0
    assert (tmp_path / "one_0.png").exists() and not (tmp_path / "one.png").exists()


def test_a_batch_goes_in_tiles_as_each_picture_would(net):
    """Each picture's objective takes its part of every tile ("mean": by the tile's share of units), so the tiled
    batch's gradient and each picture's value are the untiled ones (conv1 sees 2 px: 4 px of context suffice)."""
    rng = np.random.default_rng(0)
    x = np.concatenate([to_network(rng.integers(0, 256, size=(50, 70, 3)).astype(np.uint8), net.meta)
                        for _ in range(2)])
    objective = PerPicture([Channel("conv1", [3, 5]), L2("conv1")]).bind(net)
    value, whole = gradient(net, objective, x, 1024, rng, (2, -1), jitter=3, margin=4)
    values = list(objective.picture_values)
    tiled_value, tiled = gradient(net, objective, x, 30, rng, (2, -1), jitter=3, margin=4)
    np.testing.assert_allclose(tiled, whole, rtol=1e-4, atol=1e-4 * np.abs(whole).max())
    np.testing.assert_allclose(objective.picture_values, values, rtol=1e-4)
    assert tiled_value == pytest.approx(value, rel=1e-4)
    with pytest.raises(ValueError, match="needs the whole image in one window"):  # Diversity compares whole pictures
        gradient(net, PerPicture([L2("conv1")] * 2, Diversity("conv1")).bind(net), x, 30, rng, (0, 0), 3, 4)
