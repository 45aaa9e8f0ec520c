"""Batches on dask.distributed: a LocalCluster with a corrupt image, resuming, and a real scheduler + worker
started as subprocesses on 127.0.0.1, one of them killed mid-run."""
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("distributed")

from minidream.jobs.batches import batch  # noqa: E402
from minidream.io.images import image_paths  # noqa: E402
from minidream.cli import main  # noqa: E402
from minidream.io.images import read_params  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = ["--model", "mini", "--octaves", "2", "--steps", "4", "--no-progress"]


def make_images(folder, count, size=(64, 48)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        small = rng.uniform(0, 255, size=(size[1] // 4, size[0] // 4, 3)).astype(np.uint8)
        Image.fromarray(small).resize(size, Image.BICUBIC).save(folder / f"img{i}.png")
    return sorted(folder.iterdir())


def test_local_cluster_reports_the_bad_image_and_a_rerun_skips_the_rest(tmp_path, capsys):
    make_images(tmp_path / "in", 5)
    (tmp_path / "in" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    out = tmp_path / "out"
    assert main(["batch", str(tmp_path / "in"), "-o", str(out), "--workers", "2", *OPTIONS]) == 1
    captured = capsys.readouterr()
    assert "5 written, 0 already done, 1 failed" in captured.out
    assert "broken.png" in captured.err and "not an image" in captured.err
    written = sorted(p.name for p in out.iterdir())
    assert written == [f"img{i}.png" for i in range(5)]
    params = read_params(out / "img3.png")
    assert params["input"] == "img3.png" and "conv5" in params["objective"] and params["seed"] == 0
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}

    assert main(["batch", str(tmp_path / "in" / "*.png"), "-o", str(out), "--workers", "2", *OPTIONS]) == 1
    assert "0 written, 5 already done, 1 failed" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps
    # Another recipe is another job, and the dream options reach the workers.
    guide = str(tmp_path / "in" / "img0.png")
    assert main(["batch", str(tmp_path / "in"), "-o", str(out), "--workers", "2", "--format", "jpg",
                 "--layer", "conv3", "--channel", "3", "--guide", guide, "--jitter", "4", "--blur", "0.5",
                 "--decay", "0.01", "--seed", "7", *OPTIONS]) == 1
    assert "5 written" in capsys.readouterr().out
    params = read_params(out / "img2.jpg")
    assert params["objective"] == f"Channel('conv3', 3) + Guide({guide!r}, 'conv3')"
    assert (params["jitter"], params["blur"], params["decay"], params["seed"]) == (4, 0.5, 0.01, 7)
    assert np.abs(np.asarray(Image.open(out / "img2.jpg"), float) - np.asarray(Image.open(out / "img2.png"))).mean() > 1


def test_inputs_are_files_folders_and_globs(tmp_path):
    images = make_images(tmp_path / "a", 3)
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    found = image_paths([str(images[0]), str(tmp_path / "a"), str(tmp_path / "a" / "img[12].png")])
    assert found == [str(p) for p in images]  # each once, in order given
    with pytest.raises(FileNotFoundError, match="no file matches"):
        image_paths([str(tmp_path / "nothing*.png")])
    make_images(tmp_path / "b", 1)
    with pytest.raises(ValueError, match="several inputs would be written to"):
        batch([str(tmp_path / "a"), str(tmp_path / "b")], str(tmp_path / "out"), model="mini")
    with pytest.raises(TypeError, match="by name or path"):
        batch([str(tmp_path / "a")], str(tmp_path / "out"), model=object())


def _start(args, log):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log, stderr=subprocess.STDOUT,
                            env=env, cwd=str(ROOT))


def _wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_existing_cluster_finishes_after_its_worker_is_killed(tmp_path, monkeypatch):
    batch_module = sys.modules["minidream.jobs.cluster"]
    make_images(tmp_path / "in", 8, size=(160, 120))
    out = tmp_path / "out"
    out.mkdir()
    address_file = tmp_path / "scheduler.json"
    log = open(tmp_path / "dask.log", "wb")
    worker_args = ["worker", "--scheduler-file", str(address_file), "--host", "127.0.0.1", "--nthreads", "1",
                   "--no-nanny", "--no-dashboard"]
    processes = []
    saved = []
    real_save = batch_module.save_image
    monkeypatch.setattr(batch_module, "save_image", lambda img, path, params: (saved.append(path),
                                                                               real_save(img, path, params)))
    try:
        processes.append(_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                 "--scheduler-file", str(address_file)], log))
        _wait_for(address_file.exists, 30, "the scheduler")
        address = json.loads(address_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        processes.append(_start(worker_args, log))
        result = {}
        job = threading.Thread(target=lambda: result.update(code=main(
            ["batch", str(tmp_path / "in"), "-o", str(out), "--scheduler", address, "--model", "mini",
             "--octaves", "2", "--steps", "10", "--no-progress"])))
        job.start()
        _wait_for(lambda: saved, 60, "the first image")
        processes[1].kill()  # mid-run: the worker dies with a task in hand
        processes[1].wait(10)
        assert len(saved) < 8
        processes.append(_start(worker_args, log))
        job.join(120)
        assert not job.is_alive(), "the batch did not finish"
        assert result["code"] == 0
    finally:
        for p in reversed(processes):
            p.kill()
            p.wait(10)
        log.close()
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"img{i}.png" for i in range(8)]  # no temp files left behind
    assert sorted(saved) == sorted(str(out / n) for n in names)  # each written exactly once
    for name in names:
        assert read_params(out / name)["input"] == name  # complete files with their recipe


def test_a_worker_task_makes_an_atlas_sheet_when_asked(tmp_path):
    # `batch --atlas`: each image becomes a sheet of it dreamed at each layer (on a worker: cluster.dream_task).
    from minidream.jobs.cluster import dream_task

    path = make_images(tmp_path, 1)[0]
    kwargs = dict(octaves=1, steps=1, jitter=2, seed=0, objective=None, atlas=["conv1", "conv3"])
    sheet, error = dream_task(path.read_bytes(), "mini", kwargs)
    assert error is None and sheet.dtype == np.uint8 and sheet.shape[1] > 2 * sheet.shape[0] / 2
    single, error = dream_task(path.read_bytes(), "mini", dict(kwargs, atlas=None, objective=None))
    assert error is None and single.shape[:2] == np.asarray(Image.open(path)).shape[:2]
    bad, error = dream_task(path.read_bytes(), "mini", dict(kwargs, atlas=["nope"]))
    assert bad is None and "nope" in error
