"""Channels that stay constant: a dead channel's picture is its starting noise, and its pages say so.

A channel whose output is one number at every position of its own picture gave its dream no gradient to follow:
its kernel is zero, or every input it reads is cut off (a ReLU before it at zero everywhere on the noise). The
dream leaves such a picture as the noise it started from, which on a page looks like any weak channel's picture.
Each pictured channel's picture goes through the net once more, to its layer, after rendering (so a rerun that
rendered nothing, or pictures from Dask workers, are judged alike), and the channels whose map is flat are
marked on the layer's grid and on their own page with the value they hold.
"""
import os

import numpy as np

from minidream.dreaming.image_region import image_part, unit_grids
from minidream.dreaming.jitter import window
from minidream.engine.backend import as_numpy, to_device
from minidream.io.images import load_rgb, to_network
from minidream.microscope.render import at_once
from minidream.models.metadata import fixed_input_size

FLAT = 1e-6  # a map is flat when max - min is at most FLAT * max(1, |mean|): float32 rounding of a constant sum


def constant_channels(net, layer_plans, pictures, device="cpu"):
    """{layer name: {channel: the value its map holds}} for the pictured channels whose output is the same at every
    position of their own picture (variant 0; a picture not on disk is left out)."""
    found = {}
    for plan in layer_plans:
        own = [p for p in pictures if p.layer == plan.name and p.variant == 0 and os.path.isfile(p.path)]
        step = at_once(net, plan.name)
        found[plan.name] = {}
        for i in range(0, len(own), step):
            group = own[i:i + step]
            x = np.concatenate([to_network(load_rgb(p.path)[0], net.meta) for p in group])
            parts = [as_numpy(m) for m in _maps(net, plan.name, to_device(x, device))]
            for k, picture in enumerate(group):
                value = flat_value([m[k, picture.channel] for m in parts])
                if value is not None:
                    found[plan.name][picture.channel] = value
    return found


def _maps(net, layer, x):
    """The layer's maps of pictures x (N, 3, H, W), network space: one plain forward pass; for a net that runs at
    one input size only, each part of the picture that fits it seen in mirrored context of that size, as its
    dream saw it, cut to the units that see the part."""
    fixed = fixed_input_size(net.meta)
    if not fixed:
        return [net.forward(x, end=layer)]
    h, w = x.shape[-2:]
    maps = []
    for r0 in range(0, h, fixed[0]):
        for c0 in range(0, w, fixed[1]):
            rows, cols = (r0, min(r0 + fixed[0], h)), (c0, min(c0 + fixed[1], w))
            py, px = (_around(end - start, size) for (start, end), size in zip((rows, cols), fixed))
            a = net.forward(window(x, max(*py, *px), rows, cols, py, px), end=layer)
            part = ((py[0], rows[1] - rows[0]), (px[0], cols[1] - cols[0]))
            index, _ = image_part(unit_grids(net)[layer], a, part)
            maps.append(a[index])
    return maps


def _around(part, size):
    """(before, after): the context pixels that make a part of `part` pixels a window of `size`."""
    return (size - part) // 2, size - part - (size - part) // 2


def flat_value(channel_maps):
    """The value a channel's maps (each (h, w): the parts of one picture) hold everywhere, or None where they vary."""
    low, high = min(float(m.min()) for m in channel_maps), max(float(m.max()) for m in channel_maps)
    mean = float(np.mean([m.mean() for m in channel_maps]))
    return mean if is_flat(low, high, mean) else None


def is_flat(low, high, mean):
    """Whether a map running from low to high about its mean holds one value (numbers or arrays alike)."""
    return high - low <= FLAT * np.maximum(1.0, np.abs(mean))
