import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from minidream.cli import build_parser, main
from minidream.io.images import read_params
from minidream.models.random_weights import random_model
from minidream.models.loading import save_model

FAST = ["--octaves", "1", "--steps", "1", "--no-progress"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    model = folder / "googlenet.h5"
    save_model(random_model("googlenet"), str(model))
    yy, xx = np.mgrid[0:48, 0:64]
    photo = folder / "photo.png"
    Image.fromarray((np.stack([xx * 3, yy * 4, xx + yy], axis=-1) % 256).astype(np.uint8)).save(photo)
    return {"model": str(model), "photo": str(photo), "folder": folder}


def test_dream_with_h5_model_writes_png_naming_the_layer(files, capsys):
    out = files["folder"] / "out.png"
    rc = main(["dream", files["photo"], "-o", str(out), "--model", files["model"], "--layer", "conv2/3x3",
               "--seed", "5", "--jitter", "8", *FAST])
    assert rc == 0 and "wrote" in capsys.readouterr().out
    img = Image.open(out)
    assert img.size == (64, 48)
    assert img.text["layer"] == "conv2/3x3"
    params = read_params(str(out))
    assert params["seed"] == 5 and params["jitter"] == 8 and params["octaves"] == 1
    assert params["model"] == files["model"] and params["objective"] == "L2('conv2/3x3')"
    assert "minidream_version" in params


def test_same_seed_reproduces_from_metadata(files):
    a, b = files["folder"] / "a.png", files["folder"] / "b.png"
    args = [files["photo"], "--model", files["model"], "--layer", "conv2/3x3", *FAST]
    assert main(["dream", *args, "-o", str(a)]) == 0
    seed = read_params(str(a))["seed"]  # chosen at random and recorded
    assert main(["dream", *args, "-o", str(b), "--seed", str(seed)]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b)))


def test_channel_noise_and_save_every(files):
    out = files["folder"] / "noise.jpg"
    rc = main(["dream", "-o", str(out), "--size", "40x36", "--model", files["model"], "--layer",
               "conv2/3x3", "--channel", "3,7", "--octaves", "2", "--steps", "2", "--save-every", "2",
               "--seed", "1", "--no-progress"])
    assert rc == 0 and Image.open(out).size == (40, 36)
    assert read_params(str(out))["objective"] == "Channel('conv2/3x3', [3, 7])"
    steps = sorted(p.name for p in files["folder"].glob("noise_o*"))
    assert steps == ["noise_o0_s001.jpg", "noise_o1_s001.jpg"]


def test_unknown_layer_is_one_line_exit_2(files, capsys):
    rc = main(["dream", files["photo"], "-o", str(files["folder"] / "x.png"), "--model", files["model"],
               "--layer", "inception_4x/output", *FAST])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert err.startswith("minidream: error:") and "inception_4c/output" in err
    assert "python -m minidream layers" in err


def test_unknown_class_suggests_the_classes_command(files, capsys):
    rc = main(["dream", files["photo"], "-o", str(files["folder"] / "x.png"), "--model", "mini", "--class",
               "ringz", *FAST])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "Did you mean: rings" in err
    assert "`python -m minidream classes MODEL`" in err and "--top" not in err


def test_bad_output_fails_before_dreaming(files, capsys):
    rc = main(["dream", files["photo"], "-o", str(files["folder"] / "x.unknown"), "--model", files["model"]])
    assert rc == 2 and "format" in capsys.readouterr().err


def test_missing_input_and_bad_flags(files, capsys):
    assert main(["dream", str(files["folder"] / "nope.png"), "-o", str(files["folder"] / "x.png"),
                 "--model", files["model"], *FAST]) == 2
    assert "image not found" in capsys.readouterr().err
    assert main(["dream", "-o", str(files["folder"] / "x.png"), "--model", files["model"]]) == 2
    assert "--size" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["dream", files["photo"], "-o", "x.png", "--size", "big"])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and len(err.splitlines()) == 1 and "800x600" in err


def test_help_explains_every_dream_flag(capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["dream", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for flag in ["--model", "--layer", "--channel", "--class", "--guide", "--octaves", "--octave-scale", "--steps",
                 "--step-size", "--jitter", "--no-clip", "--tile-size", "--blur", "--decay", "--seed", "--device",
                 "--save-every", "--size"]:
        assert flag in text


def test_layers_and_classify(files, capsys):
    assert main(["layers", "--model", files["model"]]) == 0
    out, err = capsys.readouterr()
    assert any(line.split() == ["inception_4c/output", "512x14x14"] for line in out.splitlines())
    assert "default dream layer: inception_4c/output" in err
    assert main(["layers", "--model", files["model"], "--size", "448x224"]) == 0
    assert any(line.split() == ["inception_4c/output", "512x14x28"] for line in capsys.readouterr().out.splitlines())
    assert main(["classify", files["photo"], "--model", files["model"], "--top", "3"]) == 0
    rows = [line.split(None, 1) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 3 and rows[0][1].startswith("class ")
    probs = [float(p) for p, _ in rows]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001


def test_zoom_to_gif(files):
    out = files["folder"] / "zoom.gif"
    rc = main(["zoom", files["photo"], "--frames", "2", "-o", str(out), "--model", files["model"],
               "--layer", "conv2/3x3", "--seed", "0", *FAST])
    assert rc == 0 and Image.open(out).n_frames == 2


def test_python_m_minidream_runs_without_traceback(files):
    result = subprocess.run([sys.executable, "-m", "minidream", "dream", files["photo"], "-o",
                             str(files["folder"] / "y.png"), "--model", files["model"], "--octaves", "0"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == ("python -m minidream dream: error: argument --octaves: expected a whole "
                                     "number >= 1, got 0 (see --help)")


def test_models_lists_the_zoo(capsys, tmp_path, monkeypatch):
    from minidream.cli import main as cli_main

    monkeypatch.setenv("MINIDREAM_HOME", str(tmp_path))
    assert cli_main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "size", "cached", "license", "default", "layer"]
    rows = {line.split()[0]: line for line in lines[1:] if line.strip() and not line.startswith("Get")}
    assert len(rows) >= 18 and "res4f" in rows["resnet50"] and " no " in rows["vgg16"]
    assert "CC BY 4.0" in rows["vgg16"] and "54 MB" in rows["googlenet"]


def _readme_training_synopsis():
    """{command: set of --flags} from the README's Training code block."""
    import pathlib
    import re

    text = (pathlib.Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = text.split("## Training", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    flags, command = {}, None
    for line in block.splitlines():
        start = re.match(r"python -m minidream (\w+)", line)
        command = start.group(1) if start else command
        flags.setdefault(command, set()).update(re.findall(r"--[a-z][a-z-]*", line.replace(" -o ", " --output ")))
    return flags


@pytest.mark.parametrize("command", ["train", "finetune", "curate"])
def test_readme_lists_exactly_the_training_commands_flags(command, capsys):
    import re

    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    in_help = set(re.findall(r"--[a-z][a-z-]*", capsys.readouterr().out)) - {"--help"}
    assert _readme_training_synopsis()[command] == in_help
