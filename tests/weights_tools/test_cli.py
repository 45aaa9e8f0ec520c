"""python -m weights_tools: help, inspect, list, and one-line errors with exit code 2."""
import subprocess
import sys

import pytest

from weights_tools import writer as pw
from tests.weights_tools.conftest import small_model
from weights_tools.__main__ import main


@pytest.fixture
def small_file(tmp_path):
    specs, blobs, _ = small_model()
    path = tmp_path / "small.caffemodel"
    path.write_bytes(pw.snapshot(specs, blobs, "V1", name="Small", crop=13))
    return path


def test_help_explains_the_commands():
    out = subprocess.run([sys.executable, "-m", "weights_tools", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for word in ("convert", "fetch", "inspect", "list", "MINIDREAM_HOME", "Split"):
        assert word in out.stdout


def test_inspect_caffemodel_and_h5_agree(small_file, tmp_path, capsys):
    assert main(["inspect", str(small_file)]) == 0
    from_caffe = capsys.readouterr().out
    assert main(["convert", str(small_file), str(tmp_path / "small.h5")]) == 0
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "small.h5")]) == 0
    from_h5 = capsys.readouterr().out
    table = lambda text: text[text.index("  #"):]  # noqa: E731
    assert table(from_caffe) == table(from_h5)
    assert "13 layers" in from_caffe and "dropped (training only): data, loss, top-1" in from_caffe
    row = next(line for line in from_caffe.splitlines() if " fc " in line)
    assert row.split()[2:] == ["InnerProduct", "5", "455"]  # 10 channels x 3 x 3 inputs: 5 x 90 + 5
    assert "4x6x6" in next(line for line in from_caffe.splitlines() if " conv1 " in line)


def test_list_shows_cached_models(small_file, capsys):
    from weights_tools import cache
    from weights_tools.convert import convert

    assert main(["list"]) == 0
    assert "(empty)" in capsys.readouterr().out
    convert(small_file, cache.model_path("googlenet"))
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "model" in out and "googlenet" in out and "small.caffemodel" in out


@pytest.mark.parametrize("args, message", [
    (["convert", "missing.caffemodel", "out.h5"], "cannot read missing.caffemodel"),
    (["inspect", "missing.h5"], "not found"),
])
def test_errors_are_one_line_with_exit_code_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_unsupported_layer_via_cli(tmp_path, capsys):
    specs, blobs, _ = small_model()
    specs = specs[:-1] + [{"name": "squash", "type": "Threshold", "bottoms": ["out"], "tops": ["squash"],
                           "params": {}}]
    src = tmp_path / "sig.caffemodel"
    src.write_bytes(pw.snapshot(specs, blobs, "current", crop=13))
    assert main(["convert", str(src), str(tmp_path / "a.h5")]) == 2
    assert "'Threshold'" in capsys.readouterr().err and not (tmp_path / "a.h5").exists()
    assert main(["convert", str(src), str(tmp_path / "a.h5"), "--skip-unsupported"]) == 0
    assert "warning: skipping unsupported layer 'squash' (Threshold)" in capsys.readouterr().err


def test_convert_options_override_and_the_output_name_defaults(small_file, tmp_path, capsys):
    from minidream.formats import h5format

    classes = tmp_path / "classes.txt"
    classes.write_text("/a/alpha 0\n/b/beta 1\n/g/gamma/outdoor 2\n")
    assert main(["convert", str(small_file), "--mean", "1,2,3", "--scale", "0.5", "--channel-order", "rgb",
                 "--input-size", "13x13", "--classes", str(classes)]) == 0
    out = capsys.readouterr()
    assert "wrote " + str(small_file.with_suffix(".h5")) in out.out and "assumed" not in out.err
    _, _, meta = h5format.load(small_file.with_suffix(".h5"))
    assert meta["mean_bgr"] == [1.0, 2.0, 3.0] and meta["extra"]["input_scale"] == 0.5
    assert meta["channel_order"] == "RGB" and meta["class_names"] == ["alpha", "beta", "gamma/outdoor"]
    assert main(["convert", str(small_file), str(tmp_path / "x.h5"), "--mean-file", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("error: ") and not (tmp_path / "x.h5").exists()
