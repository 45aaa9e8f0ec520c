"""The microscope without a browser: refusals, recipes, reruns, crops, links (tests/test_microscope_browser.py opens
the site in Chromium)."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import minidream
from minidream.cli import main
from minidream.io.images import read_params
from minidream.microscope import microscope
from minidream.microscope.plan import parse_channels, plan_layers, slugs
from minidream.microscope.render import plan_pictures, render

# Small and quick: two layers, two channels, one variant each, a few steps, rendered in this process.
BASE = ["--model", "mini", "--layers", "conv3,conv5", "--channels", "0-1", "--diversity", "1", "--workers", "0",
        "--no-progress"]
SMALL = [*BASE, "--steps", "2"]


def run(argv):
    """main's exit status, argparse's own refusals (SystemExit) included."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def make_images(folder, count=2):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        small = rng.uniform(0, 255, size=(12, 16, 3)).astype(np.uint8)
        Image.fromarray(small).resize((80, 60), Image.BICUBIC).save(folder / f"img{i}.png")
    return folder


@pytest.mark.parametrize("options, message", [
    (["--layers", "conv9"], "unknown layer 'conv9'. Did you mean: conv5"),
    (["--layers", "conv1,conv5", "--channels", "0-63"], "layer 'conv1' has 16 channels (0-15)"),
    (["--layers", "fc6"], "its 512 units are neurons"),
    (["--layers", "conv5", "--size", "2"], "give --size"),
    (["--layers", "conv5", "--size", "100000"], "pictures of 100000 px of layer 'conv5', 8 at a time, need about"),
    (["--layers", "conv5", "--channels", "7-3"], "runs backwards"),
    (["--layers", "conv5", "--workers", "1", "--scheduler", "tcp://127.0.0.1:1"], "give one"),
])
def test_bad_input_is_refused_in_one_line_before_any_work(tmp_path, capsys, options, message):
    site = tmp_path / "site"
    assert run(["microscope", "--model", "mini", "-o", str(site), *options]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not site.exists()


def test_a_site_that_cannot_be_written_and_images_that_are_not_there_are_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    cases = [(["-o", str(tmp_path / "file" / "site")], "is a file, not a folder"),
             (["-o", str(tmp_path / "file")], "is a file, not a folder"),
             (["-o", str(tmp_path / "site"), "--images", str(tmp_path / "empty")], "holds no images"),
             (["-o", str(tmp_path / "site"), "--images", str(tmp_path / "file")], "not a folder")]
    if os.geteuid() != 0:  # root writes anywhere
        (tmp_path / "locked").mkdir(mode=0o555)
        cases.append((["-o", str(tmp_path / "locked" / "site")], "permission denied"))
    for options, message in cases:
        assert main(["microscope", "--model", "mini", "--layers", "conv5", *options]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["file", "empty"] + ["locked"] * (os.geteuid() != 0))


def test_channels_and_slugs(tmp_path):
    assert parse_channels("0-3,7, 5") == [0, 1, 2, 3, 5, 7]
    with pytest.raises(ValueError, match="such as 0-63"):
        parse_channels("a-b")
    with pytest.raises(ValueError, match="no channels to picture"):
        microscope("mini", tmp_path / "site", layers=["conv5"], channels=[])
    assert not (tmp_path / "site").exists()
    # ONNX tensor names hold '/'; folders are unique even on case-insensitive file systems, never the site's files.
    assert slugs(["/layer4/Relu_output_0", "layer4/Relu_output_0", "A", "a", "index.html", "..", "x y"]) == [
        "layer4_Relu_output_0", "layer4_Relu_output_0-2", "A", "a-2", "index.html-2", "layer", "x_y"]


def test_a_picture_is_the_dream_its_recipe_describes(tmp_path):
    net = minidream.load_model("mini")
    picture = plan_pictures(net, str(tmp_path), plan_layers(net, ["conv5"], [3]), 32, steps=2, seed=5,
                            diversity=0)[0]
    image = render(net, [picture])[0]
    assert json.loads(image.info["minidream"]) == picture.recipe  # what a rerun compares is dream()'s own recipe
    assert picture.recipe["objective"] == "Channel('conv5', 3)" and picture.recipe["seed"] == 5


def test_site_recipes_rerun_and_relative_links(tmp_path, capsys):
    site = tmp_path / "site"
    images = make_images(tmp_path / "photos")
    assert main(["microscope", "-o", str(site), "--images", str(images), *SMALL]) == 0
    assert "8 pictures rendered" in capsys.readouterr().out
    pngs = sorted(site.glob("conv*/*.png"))
    assert [p.relative_to(site).as_posix() for p in pngs] == [
        f"{layer}/{name}.png" for layer in ("conv3", "conv5") for name in ("0", "0_1", "1", "1_1")]
    for png in pngs:
        recipe = read_params(png)
        assert recipe["objective"] == f"Channel('{png.parent.name}', {png.stem[0]})"
        assert recipe["seed"] == (1 if "_1" in png.stem else 0) and recipe["steps"] == 2
    again = minidream.dream(recipe=str(site / "conv5" / "1.png"), progress=False)  # `dream --from` makes it again
    assert np.array_equal(np.asarray(again), np.asarray(Image.open(site / "conv5" / "1.png").convert("RGB")))

    channel_page = (site / "conv5" / "1.html").read_text(encoding="utf-8")
    assert "crops/1_0.png" in channel_page and "crops/1_1.png" in channel_page and "img1.png" in channel_page
    stamps = {p: p.stat().st_mtime_ns for p in site.rglob("*.png")}
    assert main(["microscope", "-o", str(site), "--images", str(images), *SMALL]) == 0
    out = capsys.readouterr().out
    assert "skipped 8 pictures already rendered with the same recipe" in out and "0 pictures rendered" in out
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*.png")} == stamps  # crops came from their cache too
    assert main(["microscope", "-o", str(site), *BASE, "--steps", "3"]) == 0
    assert "8 pictures rendered" in capsys.readouterr().out  # another recipe is another picture

    assert "Top-activating crops" not in (site / "conv5" / "1.html").read_text(encoding="utf-8")
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 1 + 2 * (1 + 2)
    for page in pages:
        for link in re.findall(r'(?:href|src)="([^"]+)"', page.read_text(encoding="utf-8")):
            assert not re.match(r"[a-z]+:|/", link), (page, link)  # relative: the site works from file://
            assert (page.parent / link).resolve().is_file(), (page, link)
    assert json.loads((site / "microscope.json").read_text())["layers"][1] == {
        "name": "conv5", "folder": "conv5", "channels": 64, "pictured": [0, 1]}


def test_top_crops_find_the_image_a_channel_responds_to(tmp_path):
    """One crop per image, strongest first; the crop is conv1's receptive field (radius 2) clipped to the 64x64
    input."""
    images = make_images(tmp_path / "photos", 1)
    Image.new("RGB", (64, 64), (128, 128, 128)).save(images / "grey.png")
    site = tmp_path / "site"
    microscope("mini", site, layers=["conv1"], channels=[0, 1], steps=1, diversity=0, images=images, workers=0,
               progress=False)
    index = json.loads((site / "conv1" / "crops" / "crops.json").read_text())
    for channel in ("0", "1"):
        crops = index["channels"][channel]
        assert len(crops) == 2 and crops[0]["activation"] >= crops[1]["activation"]
        left, top, right, bottom = crops[0]["box"]
        assert 0 <= left < right <= 64 and 0 <= top < bottom <= 64 and right - left <= 2 * 2 + 1  # radius 2
        assert Image.open(site / "conv1" / crops[0]["file"]).size == (right - left, bottom - top)


def test_pictures_render_on_dask_workers_with_the_same_recipes(tmp_path, capsys):
    pytest.importorskip("distributed")
    local, remote = tmp_path / "local", tmp_path / "dask"
    options = ["--model", "mini", "--layers", "conv5", "--channels", "2", "--steps", "2", "--diversity", "1",
               "--no-progress"]
    assert main(["microscope", "-o", str(local), *options, "--workers", "0"]) == 0
    assert main(["microscope", "-o", str(remote), *options, "--workers", "1"]) == 0
    assert "2 pictures rendered" in capsys.readouterr().out
    for name in ("2.png", "2_1.png"):
        assert read_params(remote / "conv5" / name) == read_params(local / "conv5" / name)


def test_serve_serves_the_site_over_http(tmp_path):
    with socket.socket() as s:  # a port free now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "minidream", "microscope", "--model", "mini", "-o", str(tmp_path / "site"),
               "--layers", "conv5", "--channels", "0", "--steps", "1", "--diversity", "0", "--workers", "0",
               "--no-progress", "--serve", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/conv5/0.html", timeout=5) as response:
                    assert response.status == 200 and b"conv5 \xc2\xb7 channel 0" in response.read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.communicate()
                time.sleep(0.2)
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_readme_documents_every_option_of_the_help(capsys):
    from minidream.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["microscope", "--help"])
    flags = {word.strip("[],|().:;") for word in capsys.readouterr().out.split() if word.startswith("--")}
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert sorted(f for f in flags if f not in readme and f != "--help") == []


def test_a_layer_of_another_rank_is_refused_by_its_shape_not_called_fully_connected():
    from minidream.engine.layer_types.specs import conv, layer
    from minidream.microscope.plan import plan_layers
    specs = [conv("conv1", "data", 8, 3, pad=1), layer("tokens", "Reshape", "conv1", shape={"dim": [0, 0, -1]})]
    net = minidream.Net(specs, meta={"input_size": (32, 32)})
    with pytest.raises(ValueError, match=r"'tokens' has no spatial channels: its output is \(1, 8, 1024\), not "
                                         r"\(batch, channels, height, width\).*\(conv1\)$"):
        plan_layers(net, ["tokens"])
