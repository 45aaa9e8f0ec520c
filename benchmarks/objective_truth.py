"""Does the objective a dream reports move with the objective measured on its picture? (issue 30, part 1)

    python -m benchmarks.objective_truth            # 24 cases: 64/128/256 px x conv3/4/5, relu5 x pixel/fft
    python -m benchmarks.objective_truth --quick    # 64 px only
    python -m benchmarks.objective_truth --photo-only    # the 24 without the same cases from noise

The bundled mini model dreams on the example photo (its longer side resized to the size) for 1 octave x 20 steps
with a Channel objective on channel 0 (the issue's channel: not one the photo already excites). "measured" is that
channel's mean in a plain forward pass of the whole picture at its size; "reported" is what the dream's history
says. History entry k is the objective of the picture before step k, seen through that step's random shift (and
with param="fft" a random scale and rotation): one value is a noisy sample, so both are compared as trends, the
mean of the first quarter against the mean of the last quarter, over the same pictures (the start and the picture
after each step but the last, measured through the dream's callback). A case agrees when both rise (or both fall).
The table also gives the measured start and result. The same cases start from near-grey noise too.
"""
import argparse
import os

import numpy as np
from PIL import Image

import minidream
from minidream.cli.options import resolve_size
from minidream.engine.backend import as_numpy
from minidream.io.images import load_rgb, to_network
from minidream.models.loading import load_model
from minidream.objectives import Channel

PHOTO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "chelsea.jpg")
SIZES, LAYERS, PARAMS = (64, 128, 256), ("conv3", "conv4", "conv5", "relu5"), ("pixel", "fft")


def channel_mean(net, layer, channel, rgb):
    """The channel's mean over a plain forward pass of the whole picture rgb (H, W, 3)."""
    return float(as_numpy(net.forward(to_network(np.asarray(rgb), net.meta), end=layer))[0, channel].mean())


def case(net, photo, size, layer, param, steps=20, seed=0, channel=0):
    """{size, start, layer, channel, param, reported and measured: (first, last quarter's mean), result: (the start's
    measure, the result's)} for one dream.
    photo: an RGB image, or None for a square of the dream's near-grey noise."""
    if photo is None:
        start = np.random.default_rng(seed).uniform(112, 144, size=(size, size, 3)).astype(np.uint8)
    else:
        w, h = resolve_size(size, photo.shape)
        start = np.asarray(Image.fromarray(photo).resize((w, h), Image.LANCZOS))
    history, pictures = [], [channel_mean(net, layer, channel, start)]
    out = minidream.dream(start, model=net, objective=Channel(layer, channel), octaves=1, steps=steps, param=param,
                          seed=seed, progress=False, history=history,
                          callback=lambda octave, step, rgb: pictures.append(channel_mean(net, layer, channel, rgb)))
    return {"size": size, "start": "noise" if photo is None else "photo", "layer": layer, "channel": channel,
            "param": param, "reported": trend([v for _, _, v in history]), "measured": trend(pictures[:-1]),
            "result": (pictures[0], channel_mean(net, layer, channel, out))}


def trend(values):
    """(mean of the first quarter, mean of the last quarter) of a series of values (at least one value each)."""
    quarter = max(1, len(values) // 4)
    return float(np.mean(values[:quarter])), float(np.mean(values[-quarter:]))


def rows(sizes=SIZES, starts=("photo", "noise")):
    """The cases for every size, layer and param, from the photo and from noise."""
    net, photo = load_model("mini"), load_rgb(PHOTO)[0]
    return [case(net, photo if start == "photo" else None, size, layer, param)
            for start in starts for size in sizes for layer in LAYERS for param in PARAMS]


def agrees(row):
    return (row["reported"][1] > row["reported"][0]) == (row["measured"][1] > row["measured"][0])


def markdown(results):
    lines = ["| start | size | layer (channel) | param | reported first → last quarter | measured first → last "
             "quarter | agree | measured start → result |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['start']} | {r['size']} | {r['layer']} ({r['channel']}) | {r['param']} | "
                     f"{r['reported'][0]:.3f} → {r['reported'][1]:.3f} | {r['measured'][0]:.3f} → "
                     f"{r['measured'][1]:.3f} | {'yes' if agrees(r) else '**no**'} | {r['result'][0]:.3f} → "
                     f"{r['result'][1]:.3f} |")
    lines.append(f"\n{sum(agrees(r) for r in results)} of {len(results)} agree")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.objective_truth", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="64 px only")
    parser.add_argument("--photo-only", action="store_true", help="the issue's 24 cases, not the noise starts too")
    args = parser.parse_args(argv)
    print(markdown(rows(SIZES[:1] if args.quick else SIZES, ("photo",) if args.photo_only else ("photo", "noise"))))


if __name__ == "__main__":
    main()
