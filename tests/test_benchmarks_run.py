"""benchmarks/run.py (the thread sweep, the step table's textbook column, the files it refuses before running) and
benchmarks/dispatch.py."""
import pytest

from benchmarks import dispatch, run
from benchmarks.process import fewer_threads
from minidream.engine import engines


def test_the_thread_sweep_runs_powers_of_two_below_the_main_runs_threads():
    assert [fewer_threads(k) for k in (1, 2, 3, 6, 8, 16)] == [[], [1], [1, 2], [1, 2, 4], [1, 2, 4], [1, 2, 4, 8]]


def test_the_thread_table_has_a_row_per_swept_count_with_the_ratio_to_pytorch():
    def timed(k, ms):
        return {"threads": k, "median_s": ms / 1000, "cpu_s": k * ms / 1000}

    results = {"gemm_gflops": 100.0, "threads": 8, "machine": "x86_64", "steps": [],
               "thread_sweep": [{"net": "googlenet", "end": "inception_4c/output", "size": [480, 640],
                                 "minidream": timed(k, 300 / k), "torch": timed(k, 600 / k)} for k in (1, 2, 4)]}
    text = run.markdown(results)
    assert "the steps above ran on 8" in text
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| googlenet→inception_4c/output |")]
    assert [(r[1], r[2], r[4], r[6]) for r in rows] == [("1", "300", "600", "0.50"), ("2", "150", "300", "0.50"),
                                                        ("4", "75", "150", "0.50")]


def test_the_step_table_gives_the_textbook_engines_time_and_its_ratio_to_the_fast_engines():
    def timed(ms):
        return {"median_s": ms / 1000, "gflop": 3.0, "peak_mem_mb": 100.0}

    results = {"gemm_gflops": 100.0, "threads": 2, "machine": "x86_64",
               "steps": [{"net": "googlenet", "end": "inception_4c/output", "size": [224, 224],
                          "minidream": timed(100), "textbook": timed(250)}]}
    header, _, row = run.markdown(results).splitlines()[2:5]
    assert header.split(" | ")[7:9] == ["textbook ms", "÷ fast"] and row.split(" | ")[7:9] == ["250", "2.50"]


def test_a_textbook_step_runs_under_the_textbook_engine_and_puts_the_fast_one_back():
    with run._minidream_step("googlenet", "conv1/7x7_s2", engine="textbook") as (net, step):
        assert engines.engine() == "textbook"
    assert engines.engine() == "fast"


def test_dispatch_refuses_an_unwritable_json_before_it_runs(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        dispatch.main(["--json", str(tmp_path / "missing" / "d.json")])
    assert exit_info.value.code == 2 and "folder does not exist" in capsys.readouterr().err


def test_dispatch_times_each_kind_of_slice_on_this_processes_threads():
    row = dispatch.child()
    assert row["threads"] >= 1 and all(row[key] > 0 for key in ("empty_us", "short_calls_us", "pass_64mb_ms"))
    assert dispatch.markdown([row]).splitlines()[-1].startswith(f"| {row['threads']} | ")


@pytest.mark.parametrize("argv, message", [
    (["--json", "{tmp}/missing/results.json"], "--json folder does not exist"),
    (["--baseline", "{tmp}/old.json", "--json", "{tmp}/results.json"], "not an earlier run's JSON"),
])
def test_the_suite_refuses_its_files_before_it_runs(tmp_path, capsys, argv, message):
    (tmp_path / "old.json").write_text("{not json")
    with pytest.raises(SystemExit) as exit_info:
        run.main([arg.format(tmp=tmp_path) for arg in argv])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "results.json").exists()
