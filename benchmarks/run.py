"""The CPU benchmark suite: one DeepDream step (forward to a layer + backward to the input), per layer and whole,
for minidream's NumPy engine and, when torch is importable, the same architectures in PyTorch.

    python -m benchmarks                 # full suite: 224x224 and 640x480, per-layer table, default dream
    python -m benchmarks --quick         # 224x224 only, no dream
    python -m benchmarks --json out.json

Each (implementation, network, size) runs in a fresh subprocess; its peak memory is how far the resident set
rises above the loaded model and input during the timed steps (Linux: the peak counter is reset after warm-up). Times are medians over --repeats steps after one warm-up step.
Achieved GFLOP/s counts the multiply-adds of convolutions and fully connected layers (2 FLOPs each) in forward and
in the input-gradient backward (a dream step needs no weight gradients); % of peak compares it with a float32
GEMM measured in the same run. The GPU issue's columns come from benchmarks/gpu.py when a CUDA device exists.
"""
import argparse
import ctypes
import json
import os
import platform
import subprocess
import sys
import time

from minidream.tuning import tune_cpu

tune_cpu()  # before NumPy loads, as `python -m minidream` does (minidream/tuning.py)

import numpy as np  # noqa: E402

import minidream  # noqa: E402
from benchmarks import gpu  # noqa: E402
from benchmarks.cases import CASES, SIZES, add_options, input_image, per_layer, sizes, step_flops  # noqa: E402
from minidream.backend import GPUUnavailableError  # noqa: E402
from minidream.models import random_model  # noqa: E402


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


def _minidream_step(name, end):
    net = random_model(name)

    def step(x):
        net.backward(net.forward(x, end=end))

    return net, step


def _torch_step(name, end):
    import torch

    from benchmarks.torch_reference import TorchNet  # needs torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", os.cpu_count())))
    net = random_model(name)
    tnet = TorchNet(net)

    def step(x):
        tx = torch.from_numpy(x).requires_grad_(True)
        out = tnet.forward(tx, [end])[end]
        out.backward(out.detach())  # the L2 objective's gradient is the activation itself

    return net, step


def child(impl, name, end, size, repeats):
    """Runs in a subprocess: times `repeats` steps after a warm-up, reports peak memory growth."""
    make = _minidream_step if impl == "minidream" else _torch_step
    net, step = make(name, end)
    x = input_image(size)
    step(x)
    base_kb = _reset_peak_memory()
    times = [_timed(lambda: step(x)) for _ in range(repeats)]
    peak_kb = _status_kb("VmHWM")
    return {"impl": impl, "net": name, "end": end, "size": list(size), "median_s": float(np.median(times)),
            "times_s": times, "peak_mem_mb": (peak_kb - base_kb) / 1024, "gflop": step_flops(net, end, size) / 1e9}


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak_memory():
    """Give freed heap memory back to the OS and restart the peak-RSS counter; returns the RSS now (kB).

    What the next steps add on top of this (the model and the input already count here) is their peak memory.
    Linux only: /proc/self/clear_refs "5" resets VmHWM.
    """
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_kb("VmRSS")


def run_child(impl, name, end, size, repeats):
    cmd = [sys.executable, "-m", "benchmarks.run", "--child", impl, name, end, f"{size[0]}x{size[1]}",
           str(repeats)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child {' '.join(cmd[3:])} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def default_dream_time(size):
    """Seconds for minidream.dream with the defaults (4 octaves x 10 steps) on random-weight GoogLeNet."""
    image = (np.random.default_rng(0).random(tuple(size) + (3,)) * 255).astype(np.uint8)
    net = random_model("googlenet")
    return _timed(lambda: minidream.dream(image, model=net, seed=0, progress=False))


def _torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def markdown(results):
    lines = [f"GEMM peak (float32, NumPy BLAS): {results['gemm_gflops']:.0f} GFLOP/s; "
             f"{results['threads']} threads; {results['machine']}", "",
             "| network | size | GFLOP | minidream ms | GFLOP/s | % peak | mem MB | PyTorch ms | mem MB | ratio |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in results["steps"]:
        ours, ref = row["minidream"], row.get("torch")
        rate = ours["gflop"] / ours["median_s"]
        torch_cols = (f"{1000 * ref['median_s']:.0f} | {ref['peak_mem_mb']:.0f} | "
                      f"{ours['median_s'] / ref['median_s']:.2f}") if ref else "– | – | –"
        lines.append(f"| {row['net']}→{row['end']} | {row['size'][1]}×{row['size'][0]} | {ours['gflop']:.1f} | "
                     f"{1000 * ours['median_s']:.0f} | {rate:.0f} | {100 * rate / results['gemm_gflops']:.0f}% | "
                     f"{ours['peak_mem_mb']:.0f} | {torch_cols} |")
    for key, table in results.get("layers", {}).items():
        lines += ["", f"Per layer, {key} (ms):", "", "| layer | forward | backward |", "|---|---|---|"]
        lines += [f"| {layer} | {f:.1f} | {b:.1f} |" for layer, (f, b) in table.items()]
    if results.get("dream_s") is not None:
        lines += ["", f"Default dream (4 octaves × 10 steps, random GoogLeNet) at 640×480: {results['dream_s']:.1f} s"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    parser.add_argument("--json", default="benchmarks/results.json", help="where to write the JSON results")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        impl, name, end, size, repeats = args.child
        h, w = (int(v) for v in size.split("x"))
        print(json.dumps(child(impl, name, end, (h, w), int(repeats))))
        return
    use_torch = _torch_available() and not args.no_torch
    results = {"gemm_gflops": gemm_peak(), "threads": os.cpu_count(), "steps": [], "layers": {},
               "machine": f"{platform.machine()} {platform.processor() or ''}".strip()}
    for name, end in CASES:
        for size in sizes(args.quick):
            row = {"net": name, "end": end, "size": list(size),
                   "minidream": run_child("minidream", name, end, size, args.repeats)}
            if use_torch:
                row["torch"] = run_child("torch", name, end, size, args.repeats)
            results["steps"].append(row)
            print(f"  {name} {size[1]}x{size[0]}: {1000 * row['minidream']['median_s']:.0f} ms", file=sys.stderr)
    if not args.quick:
        for name, end in CASES:
            results["layers"][f"{name}→{end} 640×480"] = per_layer(name, end, SIZES[1])
        results["dream_s"] = default_dream_time(SIZES[1])
    try:
        results["gpu"] = gpu.rows(quick=args.quick, repeats=args.repeats, torch=use_torch)
    except GPUUnavailableError as exc:
        results["gpu_unavailable"] = str(exc)
    print(markdown(results))
    print("\n" + (gpu.markdown(results["gpu"]) if "gpu" in results else f"GPU columns: none ({results['gpu_unavailable']})"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
        print(f"\nwrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
