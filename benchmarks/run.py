"""The CPU benchmark suite: one DeepDream step (forward to a layer + backward to the input), per layer and whole,
for minidream's NumPy engine (the fast engine, and the textbook one: minidream/engine/engines.py, so that the speed
machinery's gain is measured) and, when torch is importable, the same architectures in PyTorch.

    python -m benchmarks                 # full suite: 224x224 and 640x480, 1, 2, 4, ... cores vs all, the
                                         # hand-off costs (benchmarks/dispatch.py), per-layer tables, size sweep
                                         # (benchmarks/sweeps.py) and the default dream's time split
    python -m benchmarks --baseline old.json   # before/after columns against an earlier run's JSON
    python -m benchmarks --before ../old       # per-layer tables: this checkout's walks and ../old's in turns
    python -m benchmarks --rounds 3      # every step case 3 times in turns, the median run kept, paired ratios
    python -m benchmarks --quick         # 224x224 only, no dream (the channels-per-minute table at 8 steps)
    python -m benchmarks --json out.json

Each (implementation, network, size) runs in a fresh subprocess; its peak memory is how far the resident set
rises above the loaded model and input during the timed steps (Linux: the peak counter is reset after warm-up). Times are medians over --repeats steps after one warm-up step.
Achieved GFLOP/s counts the multiply-adds of convolutions and fully connected layers (2 FLOPs each) in forward and
in the input-gradient backward (a dream step needs no weight gradients); % of peak compares it with a float32
GEMM measured in the same run. The GPU issue's columns come from benchmarks/gpu.py when a CUDA device exists.
"""
import argparse
import contextlib
import json
import os
import platform
import sys
import time

from benchmarks.process import (THREADS, child_result, fewer_threads, median_run,  # first: threads, CPU
                                peak_memory_since, reset_peak_memory)

import numpy as np  # noqa: E402

from benchmarks import batch_render, dispatch, gpu, layers, sweeps  # noqa: E402
from benchmarks.cases import CASES, SIZES, add_options, input_image, per_layer, sizes, step_flops  # noqa: E402
from benchmarks.json_output import check_json_path, write_json  # noqa: E402
from minidream.engine.backend import GPUUnavailableError  # noqa: E402
from minidream.engine.engines import set_engine  # noqa: E402
from minidream.models.random_weights import random_model  # noqa: E402


def gemm_peak(n=2048, repeats=5):
    """Best float32 GEMM rate of NumPy's BLAS, in GFLOP/s."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = a.T.copy()
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


@contextlib.contextmanager
def _minidream_step(name, end, engine="fast"):
    """(net, step) with the weights frozen, as a dream's steps run (Net.frozen), on `engine`."""
    net = random_model(name)

    def step(x):
        net.backward(net.forward(x, end=end))

    with set_engine(engine), net.frozen():
        yield net, step


@contextlib.contextmanager
def _torch_step(name, end):
    import torch

    from benchmarks.torch_reference import TorchNet  # needs torch

    torch.set_num_threads(THREADS)
    net = random_model(name)
    tnet = TorchNet(net)

    def step(x):
        tx = torch.from_numpy(x).requires_grad_(True)
        out = tnet.forward(tx, [end])[end]
        out.backward(out.detach())  # the L2 objective's gradient is the activation itself

    yield net, step


def child(impl, name, end, size, repeats):
    """Runs in a subprocess: times `repeats` steps after a warm-up, reports peak memory growth."""
    makers = {"minidream": _minidream_step, "textbook": lambda *case: _minidream_step(*case, engine="textbook"),
              "torch": _torch_step}
    x = input_image(size)
    with makers[impl](name, end) as (net, step):
        step(x)
        base_kb = reset_peak_memory()
        times, cpu_times = [], []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            step(x)
            times.append(time.perf_counter() - t)
            cpu_times.append(time.process_time() - c)
    return {"impl": impl, "net": name, "end": end, "size": list(size), "threads": THREADS,
            "median_s": float(np.median(times)), "times_s": times, "cpu_s": float(np.median(cpu_times)),
            "peak_mem_mb": peak_memory_since(base_kb), "gflop": step_flops(net, end, size) / 1e9}


def run_child(impl, name, end, size, repeats, threads=None, numpy_first=False):
    """child() in a fresh process; threads: limit it to that many cores (BENCH_THREADS); numpy_first: import NumPy
    before minidream's tuning (BENCH_NUMPY_FIRST)."""
    env = dict(os.environ)
    if threads:
        env["BENCH_THREADS"] = str(threads)
    if numpy_first:
        env["BENCH_NUMPY_FIRST"] = "1"
    return child_result("benchmarks.run", [impl, name, end, f"{size[0]}x{size[1]}", repeats], env)


def in_turns(impls, name, end, size, repeats, rounds, reference="torch"):
    """{label: run_child result} for impls {label: (impl, run_child options)}: each run `rounds` times, the
    implementations taking turns, so that a slow spell of a shared machine falls on all of them alike; the run kept
    is the one with the median time. With the reference among them and more than one round, also "paired": {label:
    the median over the rounds of that round's time over the reference's}. A machine that changes speed between
    rounds moves both runs of a round alike, while the ratio of the two kept runs can pair a fast run with a slow
    one (a 2-core cloud machine that slows minidream's memory-bound step by ~15% for minutes at a time: docs/speed.md,
    round 6)."""
    runs = {label: [] for label in impls}
    for _ in range(rounds):
        for label, (impl, options) in impls.items():
            runs[label].append(run_child(impl, name, end, size, repeats, **options))
    kept = {label: median_run(done) for label, done in runs.items()}
    if reference in runs and rounds > 1:
        kept["paired"] = {label: float(np.median([r["median_s"] / ref["median_s"]
                                                  for r, ref in zip(done, runs[reference])]))
                          for label, done in runs.items() if label != reference}
    return kept


def ratio(row, label, reference="torch"):
    """row[label]'s time over the reference's: the paired median when the rounds made one, else the kept runs'."""
    paired = row.get("paired", {}).get(label)
    return paired if paired is not None else row[label]["median_s"] / row[reference]["median_s"]


def _torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def markdown(results, baseline=None):
    """The tables; baseline: the results of an earlier run (--baseline) for before/after columns."""
    before = _steps_by_key(baseline)
    paired = any("paired" in row for row in results["steps"])
    lines = [f"GEMM peak (float32, NumPy BLAS): {results['gemm_gflops']:.0f} GFLOP/s; "
             f"{results['threads']} threads; {results['machine']}", "",
             *(["Ratios: the median over the rounds of each round's time over PyTorch's in the same round (paired).",
                ""] if paired else []),
             "| network | size | GFLOP | minidream ms | GFLOP/s | % peak | mem MB | textbook ms | ÷ fast "
             "| PyTorch ms | mem MB | ratio | NumPy first ms | ratio |" + (" before ms | before ratio |" if before else ""),
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if before else "")]
    for row in results["steps"]:
        ours, ref = row["minidream"], row.get("torch")
        rate = ours["gflop"] / ours["median_s"]
        torch_cols = (f"{1000 * ref['median_s']:.0f} | {ref['peak_mem_mb']:.0f} | "
                      f"{ratio(row, 'minidream'):.2f}") if ref else "– | – | –"
        book = row.get("textbook")
        book_cols = f"{1000 * book['median_s']:.0f} | {book['median_s'] / ours['median_s']:.2f}" if book else "– | –"
        first = row.get("numpy_first")
        first_cols = (f"{1000 * first['median_s']:.0f} | "
                      + (f"{ratio(row, 'numpy_first'):.2f}" if ref else "–")) if first else "– | –"
        line = (f"| {row['net']}→{row['end']} | {row['size'][1]}×{row['size'][0]} | {ours['gflop']:.1f} | "
                f"{1000 * ours['median_s']:.0f} | {rate:.0f} | {100 * rate / results['gemm_gflops']:.0f}% | "
                f"{ours['peak_mem_mb']:.0f} | {book_cols} | {torch_cols} | {first_cols} |")
        old = before.get(_step_key(row))
        if before:
            line += (f" {1000 * old['minidream']['median_s']:.0f} | " + (
                f"{ratio(old, 'minidream'):.2f} |" if "torch" in old else "– |")
                if old else " – | – |")
        lines.append(line)
    if results.get("thread_sweep"):
        lines += ["", f"Threads (640×480, ms; the process limited to the first k CPUs; the steps above ran on "
                  f"{results['threads']}). On one core the CPU time is the step's cost even when other processes "
                  "share the machine:", "",
                  "| network | k | minidream | CPU ms | PyTorch | CPU ms | ratio | CPU ratio |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in results["thread_sweep"]:
            ours, ref = row["minidream"], row.get("torch")
            lines.append(f"| {row['net']}→{row['end']} | {ours['threads']} | {1000 * ours['median_s']:.0f} | "
                         f"{1000 * ours['cpu_s']:.0f} | " + (
                             f"{1000 * ref['median_s']:.0f} | {1000 * ref['cpu_s']:.0f} | "
                             f"{ratio(row, 'minidream'):.2f} | {ours['cpu_s'] / ref['cpu_s']:.2f} |"
                             if ref else "– | – | – | – |"))
    if results.get("dispatch"):
        lines += ["", "Handing work to the threads (`python -m benchmarks.dispatch`: one slice per thread):", "",
                  dispatch.markdown(results["dispatch"])]
    for key, walks in results.get("layers_in_turns", {}).items():
        lines += ["", layers.tables(key, key.split("→")[0], walks)]
    old_layers = (baseline or {}).get("layers", {})
    for key, table in results.get("layers", {}).items():
        old = old_layers.get(key, {})
        lines += ["", f"Per layer, {key} (ms):", "",
                  "| layer | forward | backward |" + (" before fwd | before bwd |" if old else ""),
                  "|---|---|---|" + ("---|---|" if old else "")]
        for layer, (f, b) in table.items():
            extra = (" {:.1f} | {:.1f} |".format(*old[layer]) if layer in old else " – | – |") if old else ""
            lines.append(f"| {layer} | {f:.1f} | {b:.1f} |{extra}")
        if old:
            lines.append(f"| total | {sum(f for f, _ in table.values()):.1f} | {sum(b for _, b in table.values()):.1f} "
                         f"| {sum(f for f, _ in old.values()):.1f} | {sum(b for _, b in old.values()):.1f} |")
    if results.get("sizes"):
        lines += ["", sweeps.markdown(results["sizes"], results.get("dream_split"))]
    if results.get("channels"):
        lines += ["", batch_render.markdown(results["channels"])]
    return "\n".join(lines)


def _step_key(row):
    return row["net"], row["end"], tuple(row["size"])


def _steps_by_key(results):
    return {_step_key(row): row for row in (results or {}).get("steps", [])}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    parser.add_argument("--json", default="benchmarks/results.json", help="where to write the JSON results")
    parser.add_argument("--baseline", help="the JSON of an earlier run: adds before columns to the tables")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every step case this many times, the implementations taking turns, keep the "
                             "median run, and give the ratios to PyTorch as the median of each round's ratio "
                             "(default 1; 3 or more on a machine shared with other work)")
    parser.add_argument("--before", help="another checkout's folder (git worktree add ../old <commit>): the per-layer "
                             "tables run its walks and this checkout's in turns, --rounds of each (at least 3), "
                             "instead of this checkout's once (benchmarks/layers.py)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    if args.before:
        args.before = layers.checked_checkout(parser, args.before)
    if args.child:
        impl, name, end, size, repeats = args.child
        h, w = (int(v) for v in size.split("x"))
        print(json.dumps(child(impl, name, end, (h, w), int(repeats))))
        return
    check_json_path(parser, args.json)
    baseline = None
    if args.baseline:
        try:
            with open(args.baseline) as f:
                baseline = json.load(f)
        except (OSError, ValueError) as exc:
            parser.error(f"--baseline {args.baseline}: not an earlier run's JSON ({exc})")
    use_torch = _torch_available() and not args.no_torch
    results = {"gemm_gflops": gemm_peak(), "threads": THREADS, "steps": [], "layers": {},
               "machine": f"{platform.machine()} {platform.processor() or ''}".strip()}
    impls = {"minidream": ("minidream", {}), "textbook": ("textbook", {}),
             "numpy_first": ("minidream", {"numpy_first": True}), **({"torch": ("torch", {})} if use_torch else {})}
    for name, end in CASES:
        for size in sizes(args.quick):
            row = {"net": name, "end": end, "size": list(size),
                   **in_turns(impls, name, end, size, args.repeats, args.rounds)}
            results["steps"].append(row)
            print(f"  {name} {size[1]}x{size[0]}: {1000 * row['minidream']['median_s']:.0f} ms", file=sys.stderr)
    if not args.quick:
        results["thread_sweep"] = [{"net": name, "end": end, "size": list(SIZES[1]),
                                    **in_turns({label: (impl, {"threads": k}) for label, (impl, _) in impls.items()
                                                if label not in ("numpy_first", "textbook")}, name, end, SIZES[1],
                                               args.repeats, args.rounds)}
                                   for name, end in CASES for k in fewer_threads(THREADS)]
        for name, end in CASES:
            key = f"{name}→{end} 640×480"
            if args.before:
                results.setdefault("layers_in_turns", {})[key] = layers.in_turns(
                    {"before": args.before, "now": layers.HERE}, name, end, SIZES[1], 3, max(3, args.rounds))
            else:
                results["layers"][key] = per_layer(name, end, SIZES[1])
        results["dispatch"] = dispatch.rows()
        results["sizes"] = sweeps.size_rows(rounds=args.rounds)
        results["dream_split"] = sweeps.split_row(SIZES[1])
    results["channels"] = [batch_render.row("cpu", quick=args.quick)]
    print(f"  channels per minute: batch / one at a time {results['channels'][0]['ratio']:.2f}", file=sys.stderr)
    try:
        results["gpu"] = gpu.rows(quick=args.quick, repeats=args.repeats, torch=use_torch)
    except GPUUnavailableError as exc:
        results["gpu_unavailable"] = str(exc)
    print(markdown(results, baseline))
    print("\n" + (gpu.markdown(results["gpu"]) if "gpu" in results else f"GPU columns: none ({results['gpu_unavailable']})"))
    if args.json:
        write_json(args.json, results, indent=1)
        print(f"\nwrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
