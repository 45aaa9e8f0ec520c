"""Recipes in every output, --from / recipe= re-runs byte for byte, and the CLI options of issue 15."""
import json

import numpy as np
import pytest
from PIL import Image

import minidream
from minidream.cli import main
from minidream.io.images import read_params
from minidream.models.loading import load_model
from minidream.dreaming.objective_base import Sum, from_data
from minidream.dreaming.objectives import L2, Channel, ClassNeuron
from minidream.dreaming.recipes import weights_sha256

FAST = ["--model", "mini", "--octaves", "1", "--steps", "1", "--jitter", "2", "--no-progress"]


@pytest.fixture(scope="module")
def mini():
    return load_model("mini")


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recipes")
    yy, xx = np.mgrid[0:48, 0:64]
    path = folder / "photo.png"
    Image.fromarray((np.stack([xx * 3, yy * 4, xx + yy], axis=-1) % 256).astype(np.uint8)).save(path)
    return path


def test_api_image_carries_its_recipe_and_img_save_keeps_it(mini, photo, tmp_path):
    img = minidream.dream(str(photo), model=mini, layer="conv2", octaves=1, steps=1, jitter=2, progress=False)
    recipe = json.loads(img.info["minidream"])
    assert recipe["model"] == "mini" and recipe["model_sha256"] == weights_sha256(mini)
    assert recipe["input"] == str(photo) and len(recipe["input_sha256"]) == 64
    assert isinstance(recipe["seed"], int) and recipe["objective_data"] == {"type": "L2", "layer": "conv2"}
    for name in ("a.png", "a.jpg", "a.gif"):
        img.save(tmp_path / name)
        assert read_params(tmp_path / name)["seed"] == recipe["seed"]
    again = minidream.dream(recipe=img, progress=False)
    np.testing.assert_array_equal(np.asarray(again), np.asarray(img))


def test_tampered_model_hash_and_input_are_refused(mini, photo, tmp_path):
    img = minidream.dream(str(photo), model=mini, layer="conv2", octaves=1, steps=1, jitter=2, progress=False)
    recipe = json.loads(img.info["minidream"])
    with pytest.raises(ValueError, match="weights SHA-256"):
        minidream.dream(recipe=dict(recipe, model_sha256="0" * 64), progress=False)
    with pytest.raises(ValueError, match="not the image the recipe was made from"):
        minidream.dream(recipe=dict(recipe, input_sha256="0" * 64), progress=False)


def test_objectives_round_trip_as_data(mini):
    objective = (0.5 * L2("conv3") + Channel("conv5", [1, 2]) + ClassNeuron("rings")).bind(mini)
    data = objective.to_data()
    assert json.loads(json.dumps(data)) == data
    back = from_data(data)
    assert isinstance(back, Sum) and repr(back.bind(mini)) == repr(objective)


def test_cli_from_gives_the_same_bytes_for_dream_and_zoom(photo, tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert main(["dream", str(photo), "-o", str(a), *FAST, "--layer", "conv3:0.5,conv1", "--steps", "1"]) == 0
    assert main(["dream", "--from", str(a), "-o", str(b), "--no-progress"]) == 0
    assert a.read_bytes() == b.read_bytes()
    z1, z2 = tmp_path / "z1", tmp_path / "z2"
    assert main(["zoom", str(photo), "-o", str(z1), "--frames", "2", *FAST, "--layer", "conv2"]) == 0
    assert main(["zoom", "--from", str(z1 / "0001.png"), "-o", str(z2), "--no-progress"]) == 0
    for name in ("0000.png", "0001.png"):
        assert (z1 / name).read_bytes() == (z2 / name).read_bytes()
    assert read_params(z1 / "0001.png")["frame"] == 1
    # an option given with --from overrides the recipe
    c = tmp_path / "c.png"
    assert main(["dream", "--from", str(a), "-o", str(c), "--steps", "2", "--no-progress"]) == 0
    assert read_params(c)["steps"] == 2 and read_params(c)["seed"] == read_params(a)["seed"]


def test_gif_comment_holds_the_zoom_recipe(photo, tmp_path):
    gif = tmp_path / "z.gif"
    assert main(["zoom", str(photo), "-o", str(gif), "--frames", "2", *FAST]) == 0
    recipe = read_params(gif)
    assert recipe["kind"] == "zoom" and recipe["frames"] == 2 and recipe["model"] == "mini"


def test_layers_weights_class_and_steps_are_all_used(photo, tmp_path):
    out = tmp_path / "o.png"
    assert main(["dream", str(photo), "-o", str(out), *FAST, "--layer", "conv3:0.5", "--layer", "conv5",
                 "--class", "rings", "--octaves", "2", "--steps", "1,2", "--size", "100x80"]) == 0
    p = read_params(out)
    assert p["objective"] == "0.5 * L2('conv3') + L2('conv5') + ClassNeuron('rings')"
    assert p["steps"] == [1, 2] and Image.open(out).size == (100, 80)


def test_size_keeps_aspect_channel_auto_keep_colors_and_plot(photo, tmp_path):
    out, plot = tmp_path / "o.png", tmp_path / "plot.png"
    assert main(["dream", str(photo), "-o", str(out), *FAST, "--layer", "conv2", "--channel", "auto",
                 "--size", "96", "--keep-colors", "--lapnorm", "3", "--tv", "0.1", "--plot", str(plot)]) == 0
    assert Image.open(out).size == (96, 72)
    p = read_params(out)
    assert p["objective_data"]["type"] == "Channel" and p["keep_colors"] and p["lapnorm"] == 3
    assert Image.open(plot).size[0] > 100


def test_several_inputs_write_a_folder(photo, tmp_path):
    second = tmp_path / "second.jpg"
    Image.open(photo).save(second)
    folder = tmp_path / "out"
    assert main(["dream", str(photo), str(tmp_path / "*.jpg"), "-o", str(folder), *FAST]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["photo.png", "second.png"]


@pytest.mark.parametrize("args, message", [
    (["--step-size", "-1"], "--step-size: expected a number > 0"),
    (["--steps", "1,x"], "one per octave"),
    (["--octaves", "2", "--steps", "1,2,3"], "3 entries for 2 octaves"),
    (["--size", "0"], "positive size"),
    (["--decay", "1"], "[0, 1)"),
    (["--layer", "conv3:big"], "LAYER:WEIGHT"),
])
def test_bad_values_are_one_line_errors(photo, tmp_path, capsys, args, message):
    try:
        rc = main(["dream", str(photo), "-o", str(tmp_path / "x.png"), *FAST, *args])
    except SystemExit as exc:  # argparse's own errors
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_outputs_are_checked_before_the_work(photo, tmp_path, capsys):
    assert main(["zoom", str(photo), "-o", str(tmp_path / "z.mp4"), *FAST]) == 2
    assert "an animated .gif or a folder of PNG frames" in capsys.readouterr().err
    assert not (tmp_path / "z.mp4").exists()
    assert main(["dream", str(photo), "-o", str(tmp_path / "x.bmp"), *FAST]) == 2
    assert ".png, .jpg and .gif" in capsys.readouterr().err


def test_classes_lists_the_model_classes(capsys):
    assert main(["classes", "mini"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 11 and lines[1].split() == ["1", "rings"]


def test_atlas_and_compare_sheets(photo, tmp_path, mini):
    from minidream.dreaming.atlas import stage_layers
    from minidream.io.contact_sheets import PADDING

    assert stage_layers(mini) == ["conv1", "conv2", "conv4", "conv5"]
    out = tmp_path / "atlas.png"
    assert main(["atlas", str(photo), "-o", str(out), *FAST, "--layers", "conv1,conv3", "--cell-size", "64"]) == 0
    # one row of two cells (minidream.io.contact_sheets: padding around, the 64x48 picture on its caption)
    width, height = Image.open(out).size
    assert width == 2 * (64 + 2 * PADDING) and 48 + 2 * PADDING < height < 48 + 2 * PADDING + 24
    out = tmp_path / "compare.png"
    assert main(["atlas", str(photo), "-o", str(out), "--models", "mini,mini", "--cell-size", "48",
                 *FAST]) == 0
    width, height = Image.open(out).size  # two rows (one per model) of mini's four stages, 48x36 pictures
    assert width == 4 * (48 + 2 * PADDING) and 2 * (36 + 2 * PADDING) < height < 2 * (36 + 2 * PADDING + 24)


@pytest.mark.parametrize("command", ["dream", "zoom", "atlas", "classes"])
def test_readme_documents_every_option_of_the_help(command, capsys):
    import os

    from minidream.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    text = capsys.readouterr().out
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md"), encoding="utf-8").read()
    flags = {word.strip("[],|().:;") for word in text.split() if word.startswith("--")}
    missing = sorted(f for f in flags if f.split("=")[0] not in readme and f != "--help")
    assert not missing, f"README does not mention {missing}"
