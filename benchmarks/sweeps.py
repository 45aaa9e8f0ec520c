"""How the CPU step scales: with image size (tiled, per megapixel, with peak memory) and where a default dream's
time goes (the network steps against everything else).

    python -m benchmarks.sweeps              # size sweep 0.3 / 1 / 3 / 12 MP and the dream's time split
    python -m benchmarks.sweeps --quick      # 0.3 and 1 MP only
    python -m benchmarks.sweeps --rounds 3   # the sizes take turns 3 times, each size's median run kept

A size point is one gradient of the default dream objective (L2 of inception_4c/output on random-weight GoogLeNet)
over the whole image, tile by tile with the default tile size, as minidream.dream computes it every step; each
size runs in a fresh subprocess (benchmarks/run.py measures peak memory the same way). The thread count follows the
CPUs the process may use (BENCH_THREADS=k limits it to k, see benchmarks/run.py). Every window carries the same
context, so the windows of a size and the pixels they compute per image pixel are shown beside its time: they set
how far from flat the cost per megapixel can be.
"""
import argparse
import json
import time

from benchmarks.process import child_result, median_run, peak_memory_since, reset_peak_memory  # first: threads, CPU

import numpy as np  # noqa: E402

import minidream  # noqa: E402
from benchmarks.cases import DREAM_JITTER  # noqa: E402
from minidream.dreaming.jitter import AUTO_TILE, context, gradient, margin_for, tile_grid  # noqa: E402
from minidream.models.random_weights import random_model  # noqa: E402
from minidream.dreaming.objectives import L2  # noqa: E402

LAYER = "inception_4c/output"
SWEEP = [(480, 640), (866, 1155), (1500, 2000), (3000, 4000)]  # (H, W): 0.3, 1, 3 and 12 megapixels


WARM_UP = 2  # gradients before the timed ones: the first two of a new size page in fresh memory (measured at
#             640x480 on one core: 1084, 1083, then 759, 754, 727 ms; at 12 MP the 35 windows of one gradient
#             amortize it), and a dream runs many steps at each size


def size_child(size, repeats):
    """Runs in a subprocess: seconds per tiled gradient of an image of `size` (median after WARM_UP gradients),
    and the peak memory it adds."""
    net = random_model("googlenet")
    objective = L2(LAYER).bind(net)
    x = (np.random.default_rng(0).standard_normal((1, 3) + tuple(size)) * 50).astype(np.float32)
    rng = np.random.default_rng(1)
    margin = margin_for(net, objective.layers)  # the dream's own mirrored context
    for _ in range(WARM_UP):
        gradient(net, objective, x, AUTO_TILE, rng, (0, 0), DREAM_JITTER, margin)
    base_kb = reset_peak_memory()
    times, cpu_times = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        gradient(net, objective, x, AUTO_TILE, rng, (0, 0), DREAM_JITTER, margin)
        times.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - c)
    megapixels = size[0] * size[1] / 1e6
    rows, cols = tile_grid(size, AUTO_TILE, margin, DREAM_JITTER, rng)
    extra = context(margin, DREAM_JITTER)  # every window's context: the offsets of the grid cancel out in the sum
    computed = (size[0] + len(rows) * extra) * (size[1] + len(cols) * extra) / (size[0] * size[1])
    return {"size": list(size), "megapixels": megapixels, "windows": [len(rows), len(cols)], "computed": computed,
            "median_s": float(np.median(times)),
            "s_per_mp": float(np.median(times)) / megapixels, "cpu_s_per_mp": float(np.median(cpu_times)) / megapixels,
            "peak_mem_mb": peak_memory_since(base_kb)}


def dream_split(size=(480, 640)):
    """(CPU seconds of a default dream, CPU seconds of it inside net.forward / net.backward) on random GoogLeNet.

    CPU time, not wall time: on a machine shared with other work, waiting for a core inflates the threaded network
    steps far more than the single-threaded rest, and would flatter the split."""
    image = (np.random.default_rng(0).random(tuple(size) + (3,)) * 255).astype(np.uint8)
    net = random_model("googlenet")
    inside = [0.0]

    def timed(method):
        def run(*args, **kwargs):
            t = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                inside[0] += time.process_time() - t
        return run

    net.forward, net.backward = timed(net.forward), timed(net.backward)
    t = time.process_time()
    minidream.dream(image, model=net, seed=0, progress=False)
    return time.process_time() - t, inside[0]


def size_rows(quick=False, repeats=3, rounds=1):
    """One row per size; with rounds > 1 the sizes take turns that many times (a slow spell of a shared machine
    then falls on all of them alike) and each size keeps its median run."""
    runs = {tuple(size): [] for size in (SWEEP[:2] if quick else SWEEP)}
    for _ in range(rounds):
        for (h, w), done in runs.items():
            done.append(child_result("benchmarks.sweeps", ["size", h, w, repeats]))
    return [median_run(done) for done in runs.values()]


def split_row(size=(480, 640)):
    return child_result("benchmarks.sweeps", ["split", *size])


def markdown(sizes, split=None):
    lines = [f"Cost against size: one tiled gradient ({LAYER}, tile {AUTO_TILE}), GoogLeNet", "",
             "| image | MP | windows | pixels computed per image pixel | s | s per MP | vs 0.3 MP | CPU s per MP | "
             "vs 0.3 MP | peak mem MB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in sizes:
        lines.append(f"| {row['size'][1]}×{row['size'][0]} | {row['megapixels']:.1f} | "
                     f"{row['windows'][0]}×{row['windows'][1]} | {row['computed']:.2f} | {row['median_s']:.2f} | "
                     f"{row['s_per_mp']:.2f} | {row['s_per_mp'] / sizes[0]['s_per_mp']:.2f} | "
                     f"{row['cpu_s_per_mp']:.2f} | {row['cpu_s_per_mp'] / sizes[0]['cpu_s_per_mp']:.2f} | "
                     f"{row['peak_mem_mb']:.0f} |")
    lines += ["", "Largest over smallest cost per MP: " + ", ".join(
        f"{max(r[key] for r in sizes) / min(r[key] for r in sizes):.2f} ({label})"
        for key, label in (("s_per_mp", "wall"), ("cpu_s_per_mp", "CPU")))]
    if split:
        lines += ["", f"Default dream at {split['size'][1]}×{split['size'][0]} (4 octaves × 10 steps, random GoogLeNet):"
                  f" {split['total_s']:.1f} CPU s, of which {split['steps_s']:.1f} s in the network's forward and backward"
                  f" ({100 * split['steps_s'] / split['total_s']:.0f}%)"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sweeps", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="0.3 and 1 MP only, no dream")
    parser.add_argument("--repeats", type=int, default=3, help="timed gradients per size, after two warm-up "
                        "gradients (default 3)")
    parser.add_argument("--rounds", type=int, default=1, help="run the sizes this many times in turns and keep "
                        "each size's median run (default 1; 3 or more on a machine shared with other work)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    if args.child:
        kind, *rest = args.child
        if kind == "size":
            h, w, repeats = (int(v) for v in rest)
            print(json.dumps(size_child((h, w), repeats)))
        else:
            h, w = (int(v) for v in rest)
            total, steps = dream_split((h, w))
            print(json.dumps({"size": [h, w], "total_s": total, "steps_s": steps}))
        return
    print(markdown(size_rows(args.quick, args.repeats, args.rounds), None if args.quick else split_row()))


if __name__ == "__main__":
    main()
