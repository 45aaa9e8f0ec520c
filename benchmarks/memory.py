"""The dream's memory estimate (minidream/dreaming/memory_estimate.py) against the peak it is meant to stay above.

    python -m benchmarks.memory

A dream is refused before its first step when budget.dream_bytes says it needs more than the memory available; the
estimate must stay above the real peak (or a dream runs out of memory half way) and not far above it (or a dream
that fits is refused). Each case dreams the default 4 octaves, one step each (every step peaks alike), of the
default L2 objective with a random-weight model on a random image, in a fresh subprocess: the measured peak is how
far the resident set rose above the loaded model and image (benchmarks/process.py), the estimate
budget.dream_bytes for the same dream (the image part, the network part). The Fourier (fft) and batch rows dream
from noise, one octave of one step (a batch of K: K pictures at once). The ratio measured / estimate should stay
below 1 in every row.
"""
import argparse
import json

from benchmarks.process import child_result, peak_memory_since, reset_peak_memory  # first: threads, CPU tuning

import numpy as np  # noqa: E402

import minidream  # noqa: E402
from minidream.dreaming.memory_estimate import dream_bytes  # noqa: E402
from benchmarks.cases import DREAM_JITTER  # noqa: E402
from minidream.dreaming.jitter import AUTO_TILE, context, margin_for  # noqa: E402
from minidream.models.random_weights import random_model  # noqa: E402

# (net, layer, (H, W), param, pictures)
CASES = [("mini", "conv3", (2048, 2048), "pixel", 1), ("googlenet", "inception_4c/output", (600, 600), "pixel", 1),
         ("googlenet", "inception_4c/output", (1500, 2000), "pixel", 1),
         ("googlenet", "inception_4c/output", (3000, 4000), "pixel", 1), ("alexnet", "conv5", (480, 640), "pixel", 1),
         ("vgg16", "conv4_3", (480, 640), "pixel", 1), ("resnet50", "res4f", (480, 640), "pixel", 1),
         ("mini", "conv3", (2048, 2048), "fft", 1), ("mini", "conv3", (4096, 4096), "fft", 1),
         ("mini", "conv3", (2048, 2048), "fft", 4), ("mini", "conv3", (2048, 2048), "pixel", 4),
         ("googlenet", "inception_4c/output", (224, 224), "fft", 8)]


def case_child(name, layer, size, param="pixel", pictures=1):
    """Runs in a subprocess: {measured MB, image MB, network MB} of one small dream (from noise for fft or a
    batch)."""
    net = random_model(name)
    image_bytes, network_bytes = dream_bytes(net, [layer], size, AUTO_TILE,
                                             context(margin_for(net, [layer]), DREAM_JITTER), pictures, param)
    if param == "pixel" and pictures == 1:
        image = (np.random.default_rng(0).random(tuple(size) + (3,)) * 255).astype(np.uint8)
        base_kb = reset_peak_memory()
        minidream.dream(image, model=net, layer=layer, steps=1, seed=0, progress=False)
    else:
        base_kb = reset_peak_memory()
        minidream.dream(None, size=(size[1], size[0]), model=net, layer=layer, octaves=1, steps=1, seed=0,
                        param=param, batch=pictures, progress=False)
    return {"net": name, "layer": layer, "size": list(size), "param": param, "pictures": pictures,
            "measured_mb": peak_memory_since(base_kb), "image_mb": image_bytes / 2**20,
            "network_mb": network_bytes / 2**20}


def rows():
    return [child_result("benchmarks.memory", [name, layer, h, w, param, pictures])
            for name, layer, (h, w), param, pictures in CASES]


def markdown(results):
    lines = ["Dream memory, estimated (minidream/dreaming/memory_estimate.py) and measured (pixel: 4 octaves x 1 "
             f"step; fft and batches: 1 step from noise; tile {AUTO_TILE})", "",
             "| net → layer | image | param | pictures | measured MB | estimate MB (image + network) | "
             "measured / estimate |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        estimate = r["image_mb"] + r["network_mb"]
        lines.append(f"| {r['net']} → {r['layer']} | {r['size'][1]}×{r['size'][0]} | {r['param']} | "
                     f"{r['pictures']} | {r['measured_mb']:.0f} | "
                     f"{estimate:.0f} ({r['image_mb']:.0f} + {r['network_mb']:.0f}) | "
                     f"{r['measured_mb'] / estimate:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        name, layer, h, w, param, pictures = args.child
        print(json.dumps(case_child(name, layer, (int(h), int(w)), param, int(pictures))))
        return
    print(markdown(rows()))


if __name__ == "__main__":
    main()
