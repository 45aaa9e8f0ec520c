"""benchmarks/batch_render.py: the channels-per-minute row, and its table in `python -m benchmarks` and
benchmarks.gpu; benchmarks/render.py: the microscope's pictures against their channels."""
from benchmarks import batch_render, gpu, render, run
from minidream.models.loading import load_model


def test_the_row_times_the_same_channels_one_at_a_time_and_batched(monkeypatch):
    monkeypatch.setattr(batch_render, "QUICK_STEPS", 1)
    row = batch_render.row("cpu", quick=True)
    assert (row["model"], row["layer"], row["size"], row["channels"], row["steps"]) == ("mini", "conv5", 64, 8, 1)
    assert row["ratio"] == row["one_s"] / row["batch_s"] and row["batch_per_min"] == 60 * 8 / row["batch_s"]


def test_the_table_is_in_both_suites():
    row = {"kind": "channels", "model": "mini", "layer": "conv5", "size": 64, "steps": 32, "channels": 8,
           "device": "cpu", "one_s": 12.0, "batch_s": 6.0, "one_per_min": 40.0, "batch_per_min": 80.0, "ratio": 2.0}
    results = {"gemm_gflops": 100.0, "threads": 2, "machine": "x86_64", "steps": [], "channels": [row]}
    assert run.markdown(results).splitlines()[-1] == "| mini | conv5 | 64 | 32 | cpu | 8 | 40.0 | 80.0 | 2.00 |"
    assert gpu.markdown([dict(row, device="gpu")]).splitlines()[-1].startswith("| mini | conv5 | 64 | 32 | gpu |")


def test_the_microscopes_pictures_excite_their_own_channels():
    """Issue 30's bar: at least 7 of mini's conv5 channels 0-7 (64 px, the microscope's settings, one batch as the
    microscope renders them) are excited most by their own picture (a plain forward pass of each picture)."""
    means, wins = render.selectivity(load_model("mini"), "conv5", list(range(8)), 64)
    assert means.shape == (8, 8)
    assert wins == sum(means[i, i] >= means[:, i].max() for i in range(8)) >= 7
