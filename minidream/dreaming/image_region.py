"""The part of a layer's output that belongs to the image: what a dream's objective is measured on.

A dream shows the net a window: the image (or a tile of it) inside mirrored context (minidream.dreaming.jitter).
The context is there so the edge pixels are seen as the middle ones are; it is not part of the picture, so the
objective counts each unit of a layer by the share of its receptive field that lies on the image: 1 for a unit
that sees only image pixels, 0 for one that sees only context, a share between for the units that straddle the
image's edge. Along each axis the units' centres form a grid, first + step * i in window pixels, and each sees
radius + 1 pixels around its centre; both come from a walk of the graph from the input (LayerType.window: kernel
k, stride s, padding p before the first pixel):

    first' = first + step * ((k - 1) / 2 - p)    step' = step * s    radius' = radius + (k - 1) * step
                                                                    (the input: first 0, step 1, radius 0)

Pixel centres are the integers, so the image part that starts at window pixel `before` and is `length` pixels long
covers [before - 1/2, before + length - 1/2), and unit i's weight along an axis is the overlap of that with its
field [c - (radius + 1) / 2, c + (radius + 1) / 2] over radius + 1; a unit's weight is the product of its two axes'.
A weighed share, not a hard cut, because a cut frames a picture: on a smooth image the full kernels of the middle
cancel, and the edge pixels, seen by a cut's partial kernels only, get the whole gradient (docs/objectives.md).
Layers without a spatial map (a fully connected layer, a ViT's tokens) and layers after a window that sees the
whole input have no grid: all of their output counts, weight 1.
"""
import collections
import functools
import math
import weakref

import numpy as np

from minidream.engine.backend import get_array_module
from minidream.engine.layer_types import type_of

Grid = collections.namedtuple("Grid", "first step radius")  # radius inf: the unit sees the whole input


def unit_grids(net):
    """{layer: Grid} of every layer's unit centres (first, step) and receptive radius, in input pixels; walked once
    per graph (a dream asks at every step), the same dict after that: read it, do not change it."""
    if net.graph not in _grids:
        _grids[net.graph] = _walk(net)
    return _grids[net.graph]


_grids = weakref.WeakKeyDictionary()  # a net's graph -> its unit_grids


def _walk(net):
    state = {net.meta.get("input_blob", "data"): Grid(0.0, 1, 0.0)}
    grids = {}
    for spec in net.specs:
        known = [state[b] for b in spec["bottoms"] if b in state]
        grid = Grid(known[0].first, max(g.step for g in known), max(g.radius for g in known)) if known \
            else Grid(0.0, 1, 0.0)
        window = type_of(spec).window(spec["params"])
        if window is not None:
            kernel, stride, pad = window
            grid = Grid(grid.first + grid.step * ((kernel - 1) / 2.0 - pad), grid.step * stride,
                        grid.radius + (kernel - 1) * grid.step)
        for top in spec["tops"]:
            state[top] = grid
        grids[spec["name"]] = grid
    return grids


def _field_shares(centres, field, lo, hi):
    """The share of each unit's field (field pixels about its centre) that lies on the pixels [lo, hi)."""
    return np.clip(np.minimum(centres + field / 2, hi) - np.maximum(centres - field / 2, lo), 0, None) / field


def axis_weights(grid, units, before, length):
    """(i0, weights): the units along one axis whose fields overlap the part's pixels, from unit i0 on, and each
    one's share of its field on the part (float64, at least one unit: the nearest to the part's middle)."""
    lo, hi = before - 0.5, before + length - 0.5
    centres = grid.first + grid.step * np.arange(units)
    shares = _field_shares(centres, grid.radius + 1.0, lo, hi)
    inside = np.nonzero(shares > 0)[0]
    if inside.size == 0:
        nearest = int(np.argmin(np.abs(centres - (lo + hi) / 2)))
        return nearest, np.ones(1)
    return int(inside[0]), shares[inside[0]:inside[-1] + 1]


def image_part(grid, a, part):
    """(index, weights) of activation a (N, C, H, W) for the image part ((before_y, length_y), (before_x,
    length_x)) in window pixels: the units that count and their weights (h, w) as a's array type and dtype;
    (everything, None) for a layer without a grid or a spatial map."""
    if grid is None or math.isinf(grid.radius) or a.ndim != 4:
        return (slice(None),) * a.ndim, None
    (y0, wy), (x0, wx) = (axis_weights(grid, units, *axis) for units, axis in zip(a.shape[2:], part))
    weights = get_array_module(a).asarray(np.outer(wy, wx), dtype=a.dtype)
    return (slice(None), slice(None), slice(y0, y0 + len(wy)), slice(x0, x0 + len(wx))), weights


def part_units(grid, part):
    """The weight of the units an image part holds (its pixel count, for a layer without a grid): a tile's share
    of the whole image is this over the sum of all tiles'."""
    if grid is None or math.isinf(grid.radius):
        return part[0][1] * part[1][1]
    return (part[0][1] / grid.step) * (part[1][1] / grid.step)


def edge_gain(grid, before, length, least=0.25):
    """Per pixel of an image axis of `length` pixels (at window pixel `before`): coverage ** -3/4, coverage being the
    mean weight of the units whose fields cover the pixel (at least `least`). 1 in the middle; more toward the edges,
    where half the units that see a pixel lie mostly on context. The step multiplies the gradient by it (a positive
    scale per pixel keeps the step an ascent of the same objective) so the edges are dreamed about as much as the
    middle. The power 3/4, not 1: the first layers' edge pixels, seen by partial kernels that do not cancel on a
    smooth image, already get more than their share (a ramp's border change, docs/objectives.md)."""
    return _gain(grid, (grid.first - before) % grid.step, length, least)


@functools.lru_cache(maxsize=256)
def _gain(grid, phase, length, least):
    """edge_gain for the grid's centres at phase + step * i image pixels (a step sees a few phases and lengths: the
    result is kept, read-only)."""
    field = grid.radius + 1.0
    centres = phase + grid.step * np.arange(math.floor(-field / grid.step) - 1, math.ceil((length + field) /
                                                                                         grid.step) + 2)
    weights = _field_shares(centres, field, -0.5, length - 0.5)
    pixels = np.arange(length)[:, None]
    sees = np.abs(centres[None, :] - pixels) <= field / 2
    coverage = (sees * weights).sum(axis=1) / np.maximum(sees.sum(axis=1), 1)
    gain = np.maximum(coverage, least) ** -0.75
    gain.flags.writeable = False
    return gain
