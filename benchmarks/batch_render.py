"""Channels per minute: the microscope's pictures dreamed one at a time vs in one batch (issue 30).

    python -m benchmarks.batch_render            # mini conv5, 64 px, the microscope's settings, 8 channels
    python -m benchmarks.batch_render --quick    # 8 steps per picture instead of the microscope's 32

Each picture is the microscope's (minidream.microscope.plan.dream_settings: one octave from noise) for
Channel("conv5", c), c = 0..7: first one dream() per channel, then dream(None, batch=8, objective=[...]), the same
pictures (each batched picture is the one its recipe makes alone, minidream.dreaming.batch). Each way is timed
ROUNDS times, in turns, after a one-step warm-up, and the table gives the medians; a dream returns host images, so a
GPU's work is done when the clock stops. `python -m benchmarks` runs it on the CPU, `python -m benchmarks.gpu` on
the GPU.
"""
import argparse
import time

import numpy as np

from minidream.dreaming.deepdream import dream
from minidream.microscope.plan import STEPS, dream_settings
from minidream.models.loading import load_model
from minidream.objectives import Channel

CASE = ("mini", "conv5", 64, 8)  # model, layer, picture side, channels
QUICK_STEPS = 8
ROUNDS = 3  # each way timed this many times, in turns; the table gives the medians


def row(device="cpu", quick=False, rounds=ROUNDS):
    """{"kind": "channels", "model", "layer", "size", "steps", "channels", "device", "one_s", "batch_s",
    "one_per_min", "batch_per_min", "ratio" (batch's channels per minute over one at a time's)}."""
    model, layer, size, channels = CASE
    steps = QUICK_STEPS if quick else STEPS
    net = load_model(model, device=device)
    kwargs = dict(dream_settings(size, steps), model=net, seed=0, progress=False, device=device)
    objectives = [Channel(layer, c) for c in range(channels)]
    warm_up = dict(kwargs, steps=1)  # kernels, plans, allocations
    dream(None, objective=objectives, **warm_up)
    dream(None, objective=objectives[0], **warm_up)
    ones, batches = [], []
    for _ in range(rounds):  # in turns, so a busy moment of the machine touches both
        start = time.perf_counter()
        for objective in objectives:
            dream(None, objective=objective, **kwargs)
        ones.append(time.perf_counter() - start)
        start = time.perf_counter()
        dream(None, objective=objectives, **kwargs)
        batches.append(time.perf_counter() - start)
    one, batched = float(np.median(ones)), float(np.median(batches))
    return {"kind": "channels", "model": model, "layer": layer, "size": size, "steps": steps, "channels": channels,
            "device": device, "one_s": one, "batch_s": batched, "one_per_min": 60 * channels / one,
            "batch_per_min": 60 * channels / batched, "ratio": one / batched}


def markdown(rows):
    lines = ["Channels per minute (the microscope's pictures, one at a time vs one batch):", "",
             "| model | layer | size | steps | device | channels | one at a time /min | batch /min | ratio |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['layer']} | {r['size']} | {r['steps']} | {r['device']} | {r['channels']} | "
              f"{r['one_per_min']:.1f} | {r['batch_per_min']:.1f} | {r['ratio']:.2f} |" for r in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch_render", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_STEPS} steps per picture")
    parser.add_argument("--device", default="cpu", choices=("cpu", "gpu"))
    args = parser.parse_args(argv)
    print(markdown([row(args.device, args.quick)]))


if __name__ == "__main__":
    main()
