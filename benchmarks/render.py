"""Feature visualization: does each channel's picture excite its own channel most? (issue 30, part 2)

    python -m benchmarks.render                 # mini conv5 channels 0-7 at 64 px, random GoogLeNet inception_4c

Each channel's picture is a dream from noise with Channel(layer, c) and the microscope's settings (one octave of
Fourier steps in a small mirrored margin, minidream.microscope.plan.dream_settings), rendered in one batch as
`minidream microscope` renders them; the table gives every picture's mean of every channel (a plain forward pass at
the picture's size). A channel is won when its own picture excites it more than any other channel's picture does.
"""
import argparse

import numpy as np

import minidream
from minidream.engine.backend import as_numpy
from minidream.io.images import to_network
from minidream.microscope.plan import dream_settings
from minidream.models.loading import load_model
from minidream.models.random_weights import random_model
from minidream.objectives import Channel


def selectivity(net, layer, channels, size, seed=0, **settings):
    """(means (pictures x channels), wins): means[i, k] = channel k's mean on channel i's picture. settings: dream()
    settings that replace the microscope's."""
    means = np.zeros((len(channels), len(channels)))
    settings = dict(dream_settings(size), **settings)
    images = minidream.dream(None, model=net, objective=[Channel(layer, c) for c in channels], seed=seed,
                             progress=False, **settings)  # one batch, as the microscope renders them
    for i, img in enumerate(images):
        a = as_numpy(net.forward(to_network(np.asarray(img), net.meta), end=layer))[0]
        means[i] = [float(a[k].mean()) for k in channels]
    wins = int(sum(means[i, i] >= means[:, i].max() for i in range(len(channels))))
    return means, wins


def markdown(title, channels, means, wins):
    lines = [f"{title}: {wins} of {len(channels)} channels won by their own picture", "",
             "| picture \\ channel | " + " | ".join(str(c) for c in channels) + " |",
             "|---|" + "---|" * len(channels)]
    for i, c in enumerate(channels):
        cells = [f"**{v:.2f}**" if k == i else f"{v:.2f}" for k, v in enumerate(means[i])]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.render", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    channels = list(range(8))
    for title, net, layer, size in (("mini conv5, 64 px", load_model("mini"), "conv5", 64),
                                    ("random GoogLeNet inception_4c/output, 128 px", random_model("googlenet"),
                                     "inception_4c/output", 128)):
        means, wins = selectivity(net, layer, channels, size)
        print(markdown(title, channels, means, wins) + "\n")


if __name__ == "__main__":
    main()
