"""The dream settings live in one place (minidream.dreaming.settings): dream(), the loops, zoom, recipes and every
dreaming subcommand read each default, check and help from it, and a bad value reads the same everywhere."""
import dataclasses
import inspect
import json

import numpy as np
import pytest

import minidream
from minidream.cli import build_parser
from minidream.dreaming import atlas, fourier, octaves, zooming
from minidream.dreaming.recipes import weights_sha256
from minidream.dreaming.settings import DEFAULT, FIELDS, NAMES, DreamSettings
from minidream.jobs import batches, videos
from minidream.models.loading import load_model

# a value out of range for each setting that has a flag, as typed
BAD = {"octaves": "0", "octave_scale": "1", "steps": "-1", "step_size": "0", "jitter": "-1", "margin": "-1",
       "tile_size": "0",
       "blur": "-0.5", "decay": "1", "lapnorm": "-2", "param": "rgb", "transforms": "rotate", "tv": "-1"}
COMMANDS = ("dream", "zoom", "atlas", "video", "batch")
FLAGGED = [field for field in FIELDS if field.metadata["flag"] is not None]


def _actions(command):
    """{dest: argparse action} of a subcommand."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return {action.dest: action for action in sub.choices[command]._actions}


def test_dream_signature_defaults_are_the_settings_defaults():
    parameters = inspect.signature(minidream.dream).parameters
    assert all(parameters[field.name].default == field.default for field in FIELDS)


def test_no_other_function_writes_a_setting_default():
    """The loops take the settings object; zoom, video, batch and atlas pass settings through to dream()."""
    for function in (octaves.run_octaves, octaves.make_step, fourier.run_fourier, zooming.zoom, videos.video,
                     videos.render, batches.batch, atlas.atlas, atlas.compare):
        assert not set(inspect.signature(function).parameters) & set(NAMES), function.__name__


@pytest.mark.parametrize("command, function, options", [
    ("zoom", zooming.zoom, ("frames", "scale", "fps")),
    ("atlas", atlas.atlas, ("cell_size",)),
    ("video", videos.video, ("blend", "steps_per_frame", "flow")),
    ("video", videos.render, ("blend", "steps_per_frame", "flow")),
])
def test_the_jobs_defaults_are_the_same_for_python_and_the_command_line(command, function, options):
    """zoom's, atlas's and video's own options: one constant in settings.py, read by the function and the parser."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    by_flag = {flag: action for action in sub._actions for flag in action.option_strings}
    parameters = inspect.signature(function).parameters
    for name in options:
        action = by_flag["--" + name.replace("_", "-")]
        assert action.default == sub.get_default(name) == parameters[name].default, (command, name)
        shown = action.help % vars(action)  # as --help prints it
        assert f"default: {parameters[name].default}" in shown, shown


@pytest.mark.parametrize("command", COMMANDS)
def test_every_dreaming_command_takes_each_setting_from_its_field(command):
    actions = _actions(command)
    for field in FLAGGED:
        action = actions[field.name]
        assert action.option_strings == [field.metadata["flag"]] and action.help.startswith(field.metadata["help"])
        assert action.default == field.default
        if field.default is not None and not isinstance(field.default, bool):
            assert action.help.endswith(f"(default: {field.default})")


def test_every_flagged_setting_has_an_out_of_range_example():
    assert set(BAD) == {field.name for field in FLAGGED if not isinstance(field.default, bool)}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_value_gets_the_same_message_from_python_and_the_command_line(name, capsys):
    field = next(f for f in FIELDS if f.name == name)
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["dream", "in.png", "-o", "out.png", field.metadata["flag"], BAD[name]])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and len(err.splitlines()) == 1
    cli = err.split(f"argument {field.metadata['flag']}: ", 1)[1].removesuffix(" (see --help)")
    with pytest.raises(ValueError) as python:
        minidream.dream(np.zeros((8, 8, 3), np.uint8), model="no such model", **{name: field.metadata["kind"]
                                                                                 .convert(BAD[name])})
    assert str(python.value) == f"{name}: {cli}" and cli.startswith("expected ")


def test_settings_check_python_values_the_command_line_never_makes():
    for kwargs, message in [(dict(clip="yes"), "clip: expected True or False"), (dict(size=(0, 5)), "size:"),
                            (dict(steps=[1, 2]), "2 entries for 4 octaves"), (dict(octaves=2.5), "whole number"),
                            (dict(steps=[3, -1], octaves=2), "steps: expected")]:
        with pytest.raises(ValueError, match=message):
            DreamSettings(**kwargs)
    assert DreamSettings(steps=(5, 10), octaves=2).steps_per_octave() == [5, 10]
    assert DreamSettings(tile_size=None, size=None) == DEFAULT


def test_zoom_recipe_records_every_setting_with_its_default(tmp_path):
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.fromarray(np.full((40, 48, 3), 128, np.uint8)).save(path)
    frame = next(zooming.zoom(str(path), frames=1, model="mini", layer="conv1", octaves=1, steps=1, seed=0,
                              progress=False))
    recipe = json.loads(frame.info["minidream"])
    expected = json.loads(json.dumps(dataclasses.asdict(dataclasses.replace(DEFAULT, octaves=1, steps=1))))
    assert {name: recipe[name] for name in NAMES} == expected


def test_a_recipe_written_before_the_settings_object_still_runs():
    """The JSON an older minidream wrote: every key by the same name, some settings missing (their defaults)."""
    mini = load_model("mini")
    old = {"kind": "dream", "model": "mini", "model_sha256": weights_sha256(mini), "input": None,
           "input_sha256": None, "objective": "L2('conv2')", "objective_data": {"type": "L2", "layer": "conv2"},
           "seed": 3, "minidream_version": "0.1.0", "layer": "conv2", "octaves": 2, "octave_scale": 1.4,
           "steps": [1, 2], "step_size": 1.5, "jitter": 2, "clip": True, "tile_size": None, "blur": 0.0,
           "decay": 0.0, "size": [48, 40]}
    again = minidream.dream(recipe=old, progress=False)
    direct = minidream.dream(None, size=(48, 40), model=mini, layer="conv2", octaves=2, steps=[1, 2], jitter=2,
                             seed=3, progress=False)
    np.testing.assert_array_equal(np.asarray(again), np.asarray(direct))
