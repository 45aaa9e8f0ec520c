"""Reliability at the boundaries (issue 12): non-finite numbers, image bombs, memory estimates, atomic writes that
respect the destination, outputs checked before the work, a cache that heals itself, Ctrl-C. The fuzz of model
files is tests/weights_tools/test_fuzz.py."""
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest
from PIL import Image

import minidream
from minidream import cli
from minidream.io import files
from minidream.dreaming.memory_estimate import check_dream_memory
from minidream.errors import ImageError, ModelFileError, NonFiniteError, TooBigError
from minidream.io.images import from_network, open_image, save_image
from weights_tools import writer as pw
from weights_tools import cache, cache_health, fetch
from minidream.models.loading import load_net, save_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDREAM_HOME", str(tmp_path / "cache"))


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    yy, xx = np.mgrid[0:72, 0:88]
    Image.fromarray((np.stack([xx * 3, yy * 4, xx + yy], -1) % 256).astype(np.uint8)).save(path)
    return path


def _overflowing_model(tmp_path):
    """mini with every weight times 1e9: finite (below limits.MAX_ABS_VALUE) but the activations overflow."""
    net = minidream.load_model("mini")
    for arrays in net.params.values():
        arrays[0] *= np.float32(1e9)
    path = tmp_path / "overflow.h5"
    save_model(net, path)
    return path


# ---------------------------------------------------------------- finite numbers
def test_a_dream_that_overflows_stops_at_the_first_step_and_writes_nothing(tmp_path, photo, capsys):
    model, out, seen = _overflowing_model(tmp_path), tmp_path / "out.png", []
    with pytest.raises(NonFiniteError, match="octave 1, step 1: the (objective|gradient)"):
        minidream.dream(photo, model=model, octaves=1, steps=3, progress=False,
                        callback=lambda *a: seen.append(a))
    assert seen == []
    code = cli.main(["dream", str(photo), "-o", str(out), "--model", str(model), "--octaves", "1", "--steps", "2",
                     "--no-progress"])
    assert code == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "error: octave 1, step 1: the objective is inf" in err or "gradient is not finite" in err


def test_classify_never_prints_nan(tmp_path, photo, capsys):
    assert cli.main(["classify", str(photo), "--model", str(_overflowing_model(tmp_path))]) == 2
    captured = capsys.readouterr()
    assert "nan" not in captured.out and "non-finite" in captured.err


def test_nothing_non_finite_becomes_an_image():
    x = np.zeros((1, 3, 4, 4), np.float32)
    x[0, 1, 2, 2] = np.nan
    with pytest.raises(NonFiniteError, match="1 non-finite"):
        from_network(x, {"mean_bgr": [0, 0, 0]})


def test_nan_mean_or_weights_in_a_model_file_are_refused(tmp_path):
    import h5py

    path = tmp_path / "m.h5"
    save_model(minidream.load_model("mini"), path)
    with h5py.File(path, "r+") as f:
        f.attrs["mean_bgr"] = np.array([np.nan, 1, 2], np.float32)
    with pytest.raises(ModelFileError, match="mean_bgr"):
        load_net(path)


# ---------------------------------------------------------------- image bombs
def _png_header(path, width, height):
    """A PNG that declares width x height and holds almost nothing: what a bomb's header looks like."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("side", [9000, 12000])
def test_image_bomb_is_refused_from_its_header(tmp_path, side, capsys):
    bomb = _png_header(tmp_path / "bomb.png", side, side)
    start = time.perf_counter()
    code = cli.main(["dream", str(bomb), "-o", str(tmp_path / "o.png"), "--model", "mini", "--no-progress"])
    assert code == 2 and time.perf_counter() - start < 1.0
    err = capsys.readouterr().err
    assert f"{side}x{side} = {side * side / 1e6:.0f} megapixels" in err and "--max-pixels" in err


def test_raising_the_ceiling_then_decoding_names_the_file(tmp_path):
    bomb = _png_header(tmp_path / "bomb.png", 9000, 9000)
    with pytest.raises(ImageError, match="bomb.png cannot be decoded"):
        open_image(bomb, max_pixels=10**8)


def test_truncated_jpeg_names_the_file(tmp_path, photo):
    jpeg = tmp_path / "cut.jpg"
    Image.open(photo).save(jpeg, quality=90)
    jpeg.write_bytes(jpeg.read_bytes()[:400])
    with pytest.raises(ImageError, match="cut.jpg"):
        open_image(jpeg)


def test_dream_memory_is_estimated_before_the_first_step(photo):
    net = minidream.load_model("mini")
    with pytest.raises(TooBigError, match=r"needs about .* available: use --(size|tile-size)"):
        check_dream_memory(net, ["conv2"] if "conv2" in net.layer_names else net.layer_names[2:3],
                           (4000, 4000), 1024, available=10**8)
    seen = []
    from minidream.dreaming import memory_estimate as budget

    original = budget.available_memory
    budget.available_memory = lambda: 10**6
    try:
        with pytest.raises(TooBigError, match=r"88x72 dream .* but 1 MB is available: use --"):
            minidream.dream(photo, model=net, octaves=1, steps=1, progress=False, callback=lambda *a: seen.append(a))
    finally:
        budget.available_memory = original
    assert seen == []


@pytest.mark.parametrize("kwargs, what", [
    (dict(size=(100000, 100000)), "a 100000x100000 dream"),
    (dict(size=(100000, 100000), param="fft"), "a 100000x100000 fft dream"),
    (dict(size=(20000, 20000), batch=4), "a batch of 4 20000x20000 dreams"),
])
def test_a_dream_from_noise_too_big_for_the_memory_is_refused_before_its_noise_is_made(kwargs, what, monkeypatch):
    from minidream.dreaming import memory_estimate as budget
    monkeypatch.setattr(budget, "available_memory", lambda: 24 * 10**9)  # the size of machine this refusal is for
    start = time.perf_counter()
    with pytest.raises(TooBigError, match=f"^{what} in 1024-pixel tiles needs about .* but 24.0 GB is available: "
                                          "use --size"):
        minidream.dream(None, model="mini", steps=1, progress=False, **kwargs)
    assert time.perf_counter() - start < 5  # the noise alone would be 240 GB of float64, 1.9 TB for the batch


def test_a_photo_resized_past_the_memory_is_refused_before_the_resize(photo, monkeypatch):
    from minidream.dreaming import memory_estimate as budget
    monkeypatch.setattr(budget, "available_memory", lambda: 24 * 10**9)
    with pytest.raises(TooBigError, match="a 88000x72000 dream .* use --size"):
        minidream.dream(str(photo), model="mini", size=(88000, 72000), steps=1, progress=False)


def test_fourier_and_batch_dreams_are_estimated_per_picture_with_their_own_arrays():
    from minidream.dreaming.memory_estimate import FOURIER_BYTES, IMAGE_COPIES, dream_bytes
    net = minidream.load_model("mini")
    pixel = dream_bytes(net, ["conv3"], (256, 256), 1024, 64)
    assert pixel[0] == IMAGE_COPIES * 3 * 4 * 256 * 256
    assert dream_bytes(net, ["conv3"], (256, 256), 1024, 64, pictures=4) == (4 * pixel[0], 4 * pixel[1])
    fourier = dream_bytes(net, ["conv3"], (256, 256), 1024, 64, param="fft")
    assert fourier == (FOURIER_BYTES * 256 * 256, pixel[1])


def test_dream_memory_counts_the_blobs_the_walk_makes():
    """An in-place ReLU makes no blob of its own (budget.dream_bytes follows minidream.engine.plans), unless its input must
    stay (an end of the forward): then it counts, as large as the convolution's."""
    from minidream.dreaming.memory_estimate import dream_bytes
    from minidream.models.random_weights import random_model

    net = random_model("mini")
    conv, relu = [s["name"] for s in net.specs if s["type"] in ("Convolution", "ReLU")][:2]
    assert net.bottom_layers(relu) == [conv]
    _, through_relu = dream_bytes(net, [relu], (64, 64), 1024)
    _, conv_only = dream_bytes(net, [conv], (64, 64), 1024)
    _, both_kept = dream_bytes(net, [conv, relu], (64, 64), 1024)
    assert through_relu == conv_only and both_kept == 2 * conv_only - dream_bytes(net, [], (64, 64), 1024)[1]


# ---------------------------------------------------------------- atomic writes
RGB = np.zeros((4, 4, 3), np.uint8)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755])
def test_overwriting_keeps_the_mode(tmp_path, mode):
    target = tmp_path / "out.png"
    save_image(RGB, target)
    os.chmod(target, mode)
    save_image(RGB + 1, target)
    assert os.stat(target).st_mode & 0o777 == mode


def test_new_files_get_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        save_image(RGB, tmp_path / "new.png")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "new.png").st_mode & 0o777 == 0o640


def test_read_only_destination_is_refused(tmp_path):
    target = tmp_path / "keep.png"
    save_image(RGB, target)
    os.chmod(target, 0o444)
    with pytest.raises(PermissionError, match="read-only"):
        save_image(RGB + 1, target)
    assert np.asarray(Image.open(target)).max() == 0


def test_symlinks_are_followed_and_hard_links_keep_the_old_contents(tmp_path):
    real, link, hard = tmp_path / "real.png", tmp_path / "link.png", tmp_path / "hard.png"
    save_image(RGB, real)
    link.symlink_to(real)
    os.link(real, hard)
    save_image(RGB + 7, link)
    assert link.is_symlink() and np.asarray(Image.open(real)).max() == 7
    assert np.asarray(Image.open(hard)).max() == 0  # the other name still has the old file


def test_stale_temp_files_of_dead_processes_are_cleaned(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"{files.PREFIX}{int(dead.stdout)}-abc.png"
    live = tmp_path / f"{files.PREFIX}{os.getppid()}-abc.png"
    other = tmp_path / ".tmp-someone-else.png"
    for p in (stale, live, other):
        p.write_bytes(b"x")
    save_image(RGB, tmp_path / "out.png")
    assert not stale.exists() and live.exists() and other.exists()


# ---------------------------------------------------------------- outputs checked before the work
@pytest.mark.parametrize("output, match", [("out.h5", "writes .png, .jpg and .gif"), ("out.fits", "writes .png, .jpg and .gif"),
                                           ("missing/out.png", "folder does not exist")])
def test_bad_outputs_fail_before_the_model_loads(tmp_path, photo, capsys, monkeypatch, output, match):
    monkeypatch.setattr("minidream.models.loading.load_model", lambda *a, **k: pytest.fail("the model was loaded"))
    assert cli.main(["dream", str(photo), "-o", str(tmp_path / output), "--model", "mini"]) == 2
    assert match in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_folder_fails_before_the_first_step(tmp_path, photo, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    assert cli.main(["dream", str(photo), "-o", str(folder / "o.png"), "--model", "mini"]) == 2
    assert "permission denied" in capsys.readouterr().err


def test_convert_checks_its_destination_before_reading(tmp_path):
    from weights_tools.__main__ import main

    assert main(["convert", str(tmp_path / "absent.caffemodel"), str(tmp_path / "x.fits")]) == 2


# ---------------------------------------------------------------- the cache heals itself
def test_offline_auto_with_a_damaged_googlenet_falls_back_to_mini(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(fetch, "_open", lambda *a: (_ for _ in ()).throw(OSError("network is unreachable")))
    bad = cache.model_path("googlenet")
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"junk")
    net = minidream.load_model("auto")
    assert net.meta["name"] == "mini"
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "using the built-in 'mini'" in lines[0]
    assert not bad.exists() and bad.with_suffix(".h5.damaged").exists()


def _cached_download(data):
    """Place a caffemodel as googlenet's finished download, its SHA1 registered."""
    import hashlib

    fetch.MODELS["googlenet"] = dict(fetch.MODELS["googlenet"], sha1=hashlib.sha1(data).hexdigest())
    path = cache.download_path(fetch.MODELS["googlenet"]["filename"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def small_caffemodel(monkeypatch):
    from tests.weights_tools.conftest import small_model

    monkeypatch.setitem(fetch.MODELS, "googlenet", dict(fetch.MODELS["googlenet"]))
    specs, blobs, _ = small_model()
    return pw.snapshot(specs, blobs, "V1", crop=13)


def test_fetch_verifies_the_cached_model_and_rebuilds_it(small_caffemodel, capsys, monkeypatch):
    monkeypatch.setitem(fetch.MODELS["googlenet"], "classes", None)  # the stand-in file has 3 classes, not 1000
    _cached_download(small_caffemodel)
    target = cache.model_path("googlenet")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\x89HDF\r\n\x1a\n damaged")
    assert fetch.fetch_model("googlenet", progress=False) == target
    assert cache_health.problem(target) is None and "damaged" in capsys.readouterr().err


def test_concurrent_fetches_convert_once(small_caffemodel):
    _cached_download(small_caffemodel)
    calls = []

    def slow_convert(src, dst, prototxt, info):
        calls.append(dst)
        time.sleep(0.3)
        from weights_tools.convert import convert

        convert(src, dst)

    threads = [threading.Thread(target=fetch.fetch_model, args=("googlenet",),
                                kwargs={"progress": False, "convert": slow_convert}) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and cache_health.problem(cache.model_path("googlenet")) is None


def test_downloads_are_capped(tmp_path, request):
    from tests.weights_tools.test_fetch import Server

    server = Server(b"x" * 5_000_000)
    request.addfinalizer(server.close)
    with pytest.raises(fetch.FetchError, match=f"larger than {cache_health.download_cap(100):,} bytes"):
        fetch.download(server.url, tmp_path / "f.caffemodel", size=100, progress=False)
    assert not (tmp_path / "f.caffemodel.part").exists()


# ---------------------------------------------------------------- Ctrl-C
def test_sigint_anywhere_exits_130_with_one_line(tmp_path):
    specs = [{"name": "conv", "type": "Convolution", "bottoms": ["data"], "tops": ["conv"],
              "params": {"num_output": 2, "kernel_size": [1, 1]}}]
    specs += [{"name": f"r{i}", "type": "ReLU", "bottoms": ["conv"], "tops": ["conv"], "params": {}}
              for i in range(20000)]
    src = tmp_path / "deep.caffemodel"
    src.write_bytes(pw.deploy(specs, {"conv": [np.ones((2, 3, 1, 1), np.float32), np.zeros(2, np.float32)]},
                              input_size=(8, 8)))
    env = dict(os.environ, PYTHONPATH=ROOT)
    # From about 0.2 s on an idle machine the interpreter runs our code (a signal during Python's own start-up is
    # Python's business); the first delay leaves room for a loaded machine.
    for delay in (0.4, 0.6, 1.0, 1.5):
        dst = tmp_path / f"out{delay}.h5"
        proc = subprocess.Popen([sys.executable, "-m", "weights_tools", "convert", str(src), str(dst)], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        if proc.returncode == 0:  # finished before the signal landed: then it must be complete
            assert cache_health.problem(dst) is None
            continue
        *report, last = err.splitlines() or [""]  # the conversion's report lines, if it got that far, then one
        assert proc.returncode == 130 and last == "weights_tools: interrupted", (delay, err)
        assert all(line.startswith(("assumed ", "dropped ")) for line in report), (delay, err)
        # Interrupted: no temp file, and the output is absent or whole (landing after the rename, the Ctrl-C stops
        # only the report lines; minidream.io.files promises the old file or the new one, never half of one).
        assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")], (delay, os.listdir(tmp_path))
        assert not dst.exists() or cache_health.problem(dst) is None, delay
