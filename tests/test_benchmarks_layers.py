"""benchmarks/layers.py: per-layer walks of two checkouts in turns, combined round by round."""
import os
import subprocess
import sys

import pytest

from benchmarks import layers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_summary_takes_medians_over_rounds_and_the_median_of_each_rounds_ratio():
    # Round 2 is a slow spell for both sides. conv's ratio is 0.5 in every round; the ratio of the sides' medians
    # would read (1 + 1) / (3 + 2) = 0.4.
    before = [{"conv": [2.0, 2.0], "pool": [1.0, 1.0]}, {"conv": [8.0, 8.0], "pool": [1.0, 3.0]},
              {"conv": [3.0, 1.0], "pool": [1.0, 1.0]}]
    now = [{"conv": [1.0, 1.0], "relu+conv": [0.5, 0.5]}, {"conv": [4.0, 4.0], "relu+conv": [0.5, 0.5]},
           {"conv": [1.0, 1.0], "relu+conv": [0.5, 0.5]}]
    rows = {label: (old, new, ratio) for label, old, new, ratio in layers.summary(before, now)}
    assert list(rows) == ["conv", "relu+conv", "pool", "total"]
    assert rows["conv"] == ((3.0, 2.0), (1.0, 1.0), 0.5)
    assert rows["relu+conv"] == (None, (0.5, 0.5), None)
    assert rows["pool"] == ((1.0, 1.0), None, None)
    # totals per round: before 6, 20, 6; now 3, 9, 3 -> ratios 0.5, 0.45, 0.5
    assert rows["total"] == ((4.0, 3.0), (1.5, 1.5), 0.5)


def test_markdown_marks_what_one_side_lacks():
    rows = [("conv", (3.0, 2.0), (1.0, 1.0), 0.5), ("pool", (1.0, 1.0), None, None)]
    text = layers.markdown("net→end 640×480", rows, rounds=3)
    assert "| conv | 3.0 | 2.0 | 1.0 | 1.0 | 0.50 |" in text
    assert "| pool | 1.0 | 1.0 | – | – | – |" in text


def test_a_folder_that_is_no_checkout_is_refused_before_any_walk(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        layers.main(["--before", str(tmp_path)])
    assert exc.value.code == 2
    assert "no benchmarks/cases.py there" in capsys.readouterr().err


def test_a_failed_walk_names_the_checkout(tmp_path):
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "cases.py").write_text("raise ImportError('broken checkout')\n")
    with pytest.raises(RuntimeError, match=f"(?s)walk of alexnet in {tmp_path} failed.*broken checkout"):
        layers.walk(str(tmp_path), "alexnet", "conv5", (32, 32), 1)


def test_the_suite_refuses_a_before_folder_that_is_no_checkout(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--before", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no benchmarks/cases.py there" in proc.stderr, proc.stderr


def test_a_group_one_side_fuses_is_compared_with_the_sum_of_its_parts():
    before = [{"conv": [2.0, 2.0], "bn": [1.0, 1.0], "scale": [1.0, 2.0], "relu": [1.0, 1.0]}]
    now = [{"conv + bn + scale": [2.0, 3.0], "relu": [1.0, 1.0]}]
    rows = {label: (old, new, ratio) for label, old, new, ratio in layers.summary(before, now)}
    assert list(rows) == ["conv + bn + scale", "relu", "total"]
    assert rows["conv + bn + scale"] == ((4.0, 5.0), (2.0, 3.0), 5.0 / 9.0)
    # and the other way round: fused before, apart now
    rows = {label: (old, new, ratio) for label, old, new, ratio in layers.summary(now, before)}
    assert list(rows) == ["conv + bn + scale", "relu", "total"]
    assert rows["conv + bn + scale"] == ((2.0, 3.0), (4.0, 5.0), 9.0 / 5.0)


def test_layers_grouped_across_each_other_share_one_row():
    # ResNet before: sibling 1x1 convolutions stacked, BatchNorm and Scale apart; now: each folded, not stacked.
    before = [{"a + b": [4.0, 4.0], "bn_a": [1.0, 1.0], "bn_b": [1.0, 1.0], "relu": [1.0, 1.0]}]
    now = [{"a + bn_a": [2.0, 2.0], "relu": [1.0, 1.0], "b + bn_b": [1.0, 1.0]}]
    rows = [(label, old, new) for label, old, new, _ in layers.summary(before, now)]
    assert rows == [("a + bn_a + b + bn_b", (6.0, 6.0), (3.0, 3.0)), ("relu", (1.0, 1.0), (1.0, 1.0)),
                    ("total", (7.0, 7.0), (4.0, 4.0))]


def test_by_kind_counts_a_group_as_the_kind_of_its_first_layer_on_both_sides():
    before = [{"a + b": [4.0, 4.0], "bn_a": [1.0, 1.0], "bn_b": [1.0, 1.0], "pool": [2.0, 2.0]}]
    now = [{"a + bn_a": [2.0, 2.0], "pool": [1.0, 1.0], "b + bn_b": [1.0, 1.0]}]
    types = {"a": "Convolution", "b": "Convolution", "bn_a": "BatchNorm", "bn_b": "BatchNorm", "pool": "Pooling"}
    rows = [(label, old, new) for label, old, new, _ in layers.by_kind(before, now, types)]
    assert rows == [("Convolution", (6.0, 6.0), (3.0, 3.0)), ("Pooling", (2.0, 2.0), (1.0, 1.0)),
                    ("total", (8.0, 8.0), (4.0, 4.0))]


def test_a_json_path_that_cannot_be_written_is_refused_before_any_walk(tmp_path, capsys):
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "cases.py").write_text("")
    with pytest.raises(SystemExit) as exc:
        layers.main(["--before", str(tmp_path), "--json", str(tmp_path / "missing" / "out.json")])
    assert exc.value.code == 2
    assert "--json folder does not exist" in capsys.readouterr().err
