import os
import shutil

import pytest
from PIL import Image

import minidream
from minidream.training import patterns
from minidream.cli import main
from minidream.training.curation import curate, default_layers
from minidream.models.loading import load_model


@pytest.fixture(scope="module")
def mini():
    return load_model("mini")


@pytest.fixture
def folder(tmp_path):
    """Three of mini's pattern classes, 5 images each, with one ring image filed under stripes."""
    data = tmp_path / "data"
    patterns.save_folder(data, per_class=5, size=72, seed=5, classes=("rings", "stripes", "checkerboard"))
    shutil.move(data / "rings" / "00002.png", data / "stripes" / "zz_mislabeled.png")
    return data


def test_the_mislabeled_image_is_the_first_suspect(mini, folder, tmp_path):
    report = curate(folder, mini, tmp_path / "report", layers=["conv4"], per_class=3, steps=2, progress=False)
    first = report.suspects["stripes"][0]
    assert os.path.basename(first.path) == "zz_mislabeled.png"
    assert first.p_label < 0.05 and first.predicted != "stripes"
    assert all(s.p_label > 0.5 for s in report.suspects["stripes"][1:])  # the real stripes are recognised
    assert default_layers(mini) == ["conv2", "conv4", "conv5"]
    page = open(report.path, encoding="utf-8").read()
    assert "zz_mislabeled.png" in page and page.count("class=wrong") >= 1
    for k in range(3):
        for kind in ("dreams", "suspects"):
            with Image.open(tmp_path / "report" / f"{k:03d}_{kind}.png") as sheet:
                assert sheet.width > 96
                assert f"{k:03d}_{kind}.png" in page


def test_curate_command_and_python_function(folder, tmp_path, capsys):
    assert minidream.curate is curate
    assert main(["curate", str(folder), "--model", "mini", "-o", str(tmp_path / "r"), "--layers", "conv3",
                 "--steps", "1", "--per-class", "2", "--no-progress"]) == 0
    assert "index.html" in capsys.readouterr().out
    assert "Dreams at conv3." in (tmp_path / "r" / "index.html").read_text()


def test_classes_the_model_does_not_know_are_named(mini, tmp_path):
    patterns.save_folder(tmp_path / "data", per_class=2, size=72, seed=0, classes=("rings", "stripes"))
    os.rename(tmp_path / "data" / "stripes", tmp_path / "data" / "bicycles")
    with pytest.raises(ValueError, match=r"\['bicycles'\]"):
        curate(tmp_path / "data", mini, tmp_path / "report", progress=False)
