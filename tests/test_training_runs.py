"""Whole training runs on generated patterns: accuracy, reports, resuming, the train command's options."""
import csv

import numpy as np
import pytest
from PIL import Image

from minidream.training import patterns, reports, loop as training
from minidream.architectures import builtin
from minidream.cli import main
from minidream.engine.net import Net
from tests.tiny_nets import pattern_set, tiny_arch
from minidream.models.loading import load_net, save_model


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(builtin.ARCHITECTURES, "tiny", tiny_arch)
    return "tiny"


def weights(net):
    return {name: [np.array(a) for a in arrays] for name, arrays in net.params.items()}


def test_two_epochs_beat_chance_and_write_the_reports(tiny, tmp_path):
    out = tmp_path / "model.h5"
    result = training.train(pattern_set(480, seed=0), tiny, out, val=pattern_set(90, seed=1), epochs=2,
                            batch_size=16, lr=0.02, progress=False)
    accuracy = [h["val_accuracy"] for h in result.history]
    assert accuracy[-1] >= 0.8  # chance is 0.5 (measured: 0.889, then 0.933)
    assert result.history[-1]["val_top5"] == 1.0  # two classes: both are always in the top 5
    paths = reports.report_paths(out)
    with open(paths["history_csv"]) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and list(rows[0]) == list(reports.COLUMNS)
    assert float(rows[1]["val_accuracy"]) == pytest.approx(accuracy[-1])
    assert float(rows[1]["val_loss"]) == pytest.approx(result.history[-1]["val_loss"])
    with open(paths["confusion_csv"]) as f:
        table = list(csv.reader(f))
    assert table[0] == ["true \\ predicted", "rings", "checkerboard"]
    counts = np.array([[int(v) for v in row[1:]] for row in table[1:]])
    np.testing.assert_array_equal(counts, result.confusion)
    assert counts.sum() == 90 and np.trace(counts) / 90 == pytest.approx(accuracy[-1])
    for key in ("history_png", "confusion_png"):
        with Image.open(paths[key]) as im:
            assert im.format == "PNG" and im.width > 100
            assert len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)) > 3  # something is drawn


def test_a_resumed_run_ends_with_the_same_weights(tiny, tmp_path, monkeypatch):
    data, val = pattern_set(48, seed=0), pattern_set(16, seed=1)
    options = dict(val=val, epochs=3, batch_size=16, lr=0.02, optimizer="nesterov", augment="rotate,noise",
                   seed=7, progress=False)
    whole = training.train(data, tiny, tmp_path / "whole.h5", **options)

    real_write = training.write_reports

    def write_then_stop(*args):
        real_write(*args)
        raise KeyboardInterrupt  # as if Ctrl-C came right after the first epoch's checkpoint

    monkeypatch.setattr(training, "write_reports", write_then_stop)
    with pytest.raises(KeyboardInterrupt):
        training.train(data, tiny, tmp_path / "part.h5", **options)
    monkeypatch.setattr(training, "write_reports", real_write)
    assert [h["epoch"] for h in load_net(tmp_path / "part.h5").meta["extra"]["history"]] == [1]

    resumed = training.train(data, tiny, tmp_path / "part.h5", resume=tmp_path / "part.h5", **options)
    assert resumed.history == whole.history
    for name, arrays in weights(whole.net).items():
        for a, b in zip(arrays, weights(resumed.net)[name]):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="lr=0.02.*lr=0.05"):
        training.train(data, tiny, tmp_path / "x.h5", resume=tmp_path / "part.h5", **dict(options, lr=0.05))


def test_resume_needs_a_train_checkpoint(tiny, tmp_path):
    net = Net(*tiny_arch())
    save_model(net, tmp_path / "plain.h5")
    with pytest.raises(ValueError, match="no training state"):
        training.train(pattern_set(16, seed=0), tiny, resume=tmp_path / "plain.h5", epochs=1, progress=False)


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.02), ("nesterov", 0.02), ("adagrad", 0.02), ("adam", 0.003)])
def test_every_optimizer_lowers_the_loss(tiny, optimizer, lr):
    result = training.train(pattern_set(128, seed=0), tiny, val=pattern_set(16, seed=1), epochs=3, batch_size=16,
                            lr=lr, optimizer=optimizer, progress=False)
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_train_command_options_and_augmentation_preview(tiny, tmp_path, capsys, monkeypatch):
    patterns.save_folder(tmp_path / "data", per_class=6, size=36, seed=0, classes=("rings", "stripes", "grid"))
    out = tmp_path / "m.h5"
    assert main(["train", str(tmp_path / "data"), "--arch", tiny, "--epochs", "1", "--batch-size", "8",
                 "--optimizer", "adam", "--lr", "0.001", "--augment", "rotate,zoom,color,noise", "--input-size", "28",
                 "-o", str(out), "--no-progress"]) == 0
    assert "top-5 1.000" in capsys.readouterr().out
    net = load_net(out)
    assert net.meta["input_size"] == (28, 28) and net.meta["extra"]["options"]["optimizer"] == "adam"
    assert net.meta["extra"]["options"]["augment"] == ["rotate", "zoom", "color", "noise"]
    assert (tmp_path / "m.optimizer.npz").exists() and (tmp_path / "m.history.png").exists()
    assert main(["train", str(tmp_path / "data"), "--arch", tiny, "--epochs", "2", "--batch-size", "8",
                 "--optimizer", "adam", "--lr", "0.001", "--augment", "rotate,zoom,color,noise", "--input-size", "28",
                 "-o", str(out), "--resume", str(out), "--no-progress"]) == 0
    assert [h["epoch"] for h in load_net(out).meta["extra"]["history"]] == [1, 2]

    monkeypatch.chdir(tmp_path)
    assert main(["train", str(tmp_path / "data"), "--arch", tiny, "--preview-augment", str(tmp_path / "prev"),
                 "--augment", "rotate,noise", "--no-progress"]) == 0
    with Image.open(tmp_path / "prev" / "augment.png") as sheet:
        assert sheet.width == 4 * (96 + 8)  # original, rotate, noise, all
        assert sheet.height > 3 * (96 + 8)  # one row for each of the three classes
    assert not (tmp_path / "model.h5").exists()  # a preview trains nothing

    with pytest.raises(SystemExit) as info:
        main(["train", str(tmp_path / "data"), "--augment", "shear"])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and len(err.splitlines()) == 1 and "rotate, zoom, color, noise" in err
