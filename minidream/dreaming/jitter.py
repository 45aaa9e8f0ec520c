"""Jitter without seams: the net sees the image shifted inside a reflected border, never wrapped around.

The notebook rolled the image by a random (oy, ox) before each step, so the net's stride grid landed at a
different phase every time. A roll glues the left edge to the right and the top to the bottom: the net sees a
seam there (on a ramp, a step from the darkest to the brightest grey) and dreams a frame around the picture.
Its own zero padding at the image's edge adds a second, fixed seam.

Here each step draws the same shift (sy, sx) in -jitter..jitter, and the net sees a window of the image
extended by odd reflection about its edge pixels, x[-i] = 2 x[0] - x[i]. An odd mirror continues a slope (a
plain mirror folds a ramp into a crease, and conv1's line detectors draw a line along it; the three borders'
measured frames: docs/speed.md). The window has

    rows above the image: margin + jitter + sy        rows below: margin + jitter - sy      (columns alike)

around the image, so the grid phase still changes every step, the window's size never changes (the classifier
head and the step plans see few shapes), and every pixel of the image keeps at least `margin` pixels of
mirrored context: as far as the objective layer can see (its receptive radius, at most the margin setting), the
net's zero padding lies outside the image. The objective counts the units that see the image, each by its field's share
on the image (minidream.dreaming.image_region), so the value is the picture's; its gradient is taken with the
context held as it is: the mirrored context guides the edge pixels but is not folded back onto them (that would
count each edge pixel twice and grow a frame again). The step scales the gradient up near the edges, where half
the units that see a pixel are mostly context (image_region.edge_gain), so the edges are dreamed as much as the
middle: a positive scale per pixel, so the step still climbs the same objective.

Tiles (gradient, below) do the same per tile: the tile's window is the tile plus the same
context, read from its neighbours inside the image and from the reflection outside it.
"""
import math

import numpy as np

from minidream.dreaming.image_region import edge_gain, image_part, part_units, unit_grids
from minidream.dreaming.objective_base import check_tileable
from minidream.dreaming.settings import AUTO_TILE, DEFAULT
from minidream.engine import engines
from minidream.engine.backend import get_array_module
from minidream.models.metadata import fixed_input_size


def receptive_radius(net, layers):
    """How many input pixels beyond its own position a unit of the given layers can see (the largest): the walk of
    minidream.dreaming.image_region (each window of kernel k at cumulative stride j adds (k - 1) * j: the whole
    kernel on one side, since unpadded pooling windows reach one way only). Fully connected layers and global
    pooling see everything (infinite)."""
    grids = unit_grids(net)
    return max(grids[layer].radius for layer in layers)


def margin_for(net, layers, most=DEFAULT.margin):
    """The mirrored context every image pixel keeps: the layers' receptive radius, at most `most` (the margin
    setting) and an eighth of the window for a net of one input size, whose windows must keep room for their tile."""
    fixed = fixed_input_size(net.meta)
    limit = min(most, min(fixed) // 8) if fixed else most
    return int(math.ceil(min(receptive_radius(net, layers), limit)))


def usable_jitter(net, jitter, margin):
    """The jitter a net leaves room for: all of it, except in windows of one size (fixed_input_size), where the
    context (margin and jitter, both sides) takes at most half of the window."""
    fixed = fixed_input_size(net.meta)
    return jitter if not fixed else max(0, min(jitter, min(fixed) // 4 - margin))


def window_pads(shift, jitter, margin):
    """(before, after): context pixels on each side of an axis for a shift in -jitter..jitter."""
    return margin + jitter + shift, margin + jitter - shift


def extend(x, pad):
    """x (..., H, W) with `pad` pixels of odd reflection on every side (any pad: reflected again past the far
    edge)."""
    xp = get_array_module(x)
    widths = [(0, 0)] * (x.ndim - 2) + [(pad, pad), (pad, pad)]
    if min(x.shape[-2:]) == 1:  # reflect needs two pixels; a 1-pixel axis is constant anyway
        return xp.pad(x, widths, mode="edge")
    return xp.pad(x, widths, mode="reflect", reflect_type="odd")


def window(x, pad, rows, cols, pads_y, pads_x):
    """The window around image rows [r0, r1) and columns [c0, c1) with pads_y / pads_x pixels of context on each
    side, as a new array: what extend(x, pad) holds there. Only the window's part of the image is copied and
    reflected, not the whole image's extension (memory: docs/speed.md); where a side needs more reflection than
    that part has pixels (an image smaller than the context), it is cut from extend(x, pad) itself."""
    h, w = x.shape[-2:]
    (r0, r1), (c0, c1) = rows, cols
    top, bottom, left, right = r0 - pads_y[0], r1 + pads_y[1], c0 - pads_x[0], c1 + pads_x[1]
    inside = x[..., max(top, 0):min(bottom, h), max(left, 0):min(right, w)]
    widths = [(max(-top, 0), max(bottom - h, 0)), (max(-left, 0), max(right - w, 0))]
    if min(h, w) > 1 and all(max(before, after) < n for (before, after), n in zip(widths, inside.shape[-2:])):
        # One odd reflection about the image's edge pixel, which is the part's edge pixel wherever a side is padded.
        return get_array_module(x).pad(inside, [(0, 0)] * (x.ndim - 2) + widths, mode="reflect", reflect_type="odd")
    return extend(x, pad)[..., pad + top:pad + bottom, pad + left:pad + right].copy()


def gradient(net, objective, x, tile, rng, shift=(0, 0), jitter=0, margin=0):
    """(objective value, d objective / dx) for x (N, 3, H, W), seen shifted by `shift` inside mirrored context.

    The objective reads only the units that see the image, weighed by their share (minidream.dreaming.image_region):
    the value is the objective of the picture, and the gradient is its gradient with the context held as it is,
    then multiplied per pixel by image_region.edge_gain (>= 1, larger toward the image's edges). Each window's
    gradient goes to every image pixel it holds, its own part and what it sees of its neighbours as context.
    When the window (image plus 2 * (margin + jitter) of context) is larger than tile, the image is cut into tiles,
    each seen with the same context from its neighbours (and the mirror at the image's edge); the tile grid moves by
    a fresh random offset every step, so no seam stays put. Each tile's objective reads its own part's units, and
    the tiles' values add up to the whole image's objective: a mean over positions weighs each tile by its share of
    the units (Objective.on_tile). A net that runs at one input size only (fixed_input_size) sees every window at
    exactly that size: tiles of at most that size less the context, each padded with more mirrored context where
    it is smaller.
    """
    fixed = fixed_input_size(net.meta)
    pads_y, pads_x = window_pads(shift[0], jitter, margin), window_pads(shift[1], jitter, margin)
    rows, cols = tile_grid(x.shape[-2:], tile, margin, jitter, rng, fixed)
    grids = unit_grids(net)
    tiles = []
    for r0, r1 in rows:
        for c0, c1 in cols:
            py, px = pads_y, pads_x
            if fixed:
                py, px = _grown(pads_y, r1 - r0, fixed[0]), _grown(pads_x, c1 - c0, fixed[1])
            tiles.append(((r0, r1), (c0, c1), py, px, ((py[0], r1 - r0), (px[0], c1 - c0))))
    if len(tiles) > 1:
        check_tileable(objective, x.shape[-2:], tile)
        totals = {layer: sum(part_units(grids[layer], t[-1]) for t in tiles) for layer in objective.layers}
    xp = get_array_module(x)
    g, total, pictures = xp.zeros_like(x), 0.0, 0.0
    h, w = x.shape[-2:]
    for (r0, r1), (c0, c1), py, px, part in tiles:
        shares = None if len(tiles) == 1 else {
            layer: part_units(grids[layer], part) / totals[layer] for layer in objective.layers}
        pad = max(margin + 2 * jitter, *py, *px)
        value, gw = _gradient_part(net, objective, window(x, pad, (r0, r1), (c0, c1), py, px), grids, part, shares)
        # the window's image pixels, its part and the neighbours' pixels it sees as context (not the mirror)
        top, left = max(r0 - py[0], 0), max(c0 - px[0], 0)
        bottom, right = min(r1 + py[1], h), min(c1 + px[1], w)
        wy, wx = top - (r0 - py[0]), left - (c0 - px[0])
        g[..., top:bottom, left:right] += gw[..., wy:wy + bottom - top, wx:wx + right - left]
        total += value
        if len(tiles) > 1 and hasattr(objective, "picture_values"):  # a batch's pictures' own values add up alike
            pictures = pictures + np.asarray(objective.picture_values)
    if len(tiles) > 1 and hasattr(objective, "picture_values"):
        objective.picture_values = [float(v) for v in pictures]
    gain = _edge_gain(grids, objective.layers, (h, w), tiles[0])
    if gain is not None:
        g *= xp.asarray(gain, dtype=g.dtype)
    return total, g


def _edge_gain(grids, layers, size, first_tile):
    """The step's per-pixel scale (image_region.edge_gain, averaged over the layers) as (H, W), or None."""
    (r0, _), (c0, _), py, px, _ = first_tile
    gains = [np.outer(edge_gain(grids[layer], py[0] - r0, size[0]), edge_gain(grids[layer], px[0] - c0, size[1]))
             for layer in layers if not math.isinf(grids[layer].radius)]
    return np.mean(gains, axis=0) if gains else None


def _gradient_part(net, objective, x, grids, part, shares):
    """(value, d value / dx) of the objective on the units of window x that see the image part, each weighed by its
    field's share on the part (minidream.dreaming.image_region). A batch's pictures may be walked in parts, a part
    per core, with the same numbers (minidream.engine.speed.picture_parts; the fast engine only)."""
    parts = engines.fast("picture_parts")
    net = parts.walker(net, len(x)) if parts else net
    acts = net.forward(x, end=list(objective.layers))
    crops, weights = {}, {}
    for layer, a in acts.items():
        crops[layer], weights[layer] = image_part(grids[layer], a, part)
    seen = {layer: a[crops[layer]] for layer, a in acts.items()}
    value, grads = objective(seen, weights) if shares is None else objective.on_tile(seen, weights, shares)
    full = {}
    for layer, d in grads.items():
        full[layer] = get_array_module(d).zeros_like(acts[layer])
        full[layer][crops[layer]] = d
    return value, net.backward(full)


def _grown(pads, part, size):
    """The pads (before, after) grown alike so that part + pads is exactly size."""
    extra = size - part - sum(pads)
    return pads[0] + extra // 2, pads[1] + extra - extra // 2


def context(margin, jitter):
    """The pixels a window adds to its part of the image along each axis, both sides together (window_pads)."""
    return 2 * (margin + jitter)


def tile_grid(size, tile, margin, jitter, rng, fixed=None):
    """([(r0, r1)], [(c0, c1)]): the image rows and columns of the tiles `gradient` cuts an image of size (H, W)
    into, each seen with context(margin, jitter) pixels of context; one tile when the whole window fits `tile`.
    fixed: the (H, W) every window has (fixed_input_size), which then bounds the tiles instead of `tile`."""
    h, w = size
    extra = context(margin, jitter)
    if fixed:
        return tuple([(0, n)] if n + extra <= side else _offset_splits(n, side - extra, rng)
                     for n, side in zip((h, w), fixed))
    if h + extra <= tile and w + extra <= tile:
        return [(0, h)], [(0, w)]
    return _offset_splits(h, tile - extra, rng), _offset_splits(w, tile - extra, rng)


def _offset_splits(n, core, rng):
    """Tiles of n pixels, each at most core: the fewest nearly equal pieces that leave every cut room to move by an
    eighth of a piece (pieces of at most 8/9 core), all inner cuts moved by one random offset within that room, up
    to a quarter of a piece. Every window carries the same context, so the fewest, largest pieces compute the fewest
    pixels per image pixel (a 2000-pixel side with a core of 832: 3 pieces, where a fixed quarter-piece offset
    needed 4). Every piece is between core / 4 and core: at least two pieces means each is over 4/9 core, and the
    end pieces lose at most a quarter of that."""
    pieces = _splits(n, max(1, 8 * core // 9))
    if len(pieces) == 1:
        return pieces
    lengths = [stop - start for start, stop in pieces]
    room = min(core - max(lengths), min(lengths) // 4)
    offset = int(rng.integers(-room, room + 1))
    edges = [0] + [start + offset for start, _ in pieces[1:]] + [n]
    return list(zip(edges[:-1], edges[1:]))


def _splits(n, tile):
    """[(start, stop)] cutting n pixels into ceil(n / tile) nearly equal pieces of at most tile."""
    k = math.ceil(n / tile)
    edges = [round(i * n / k) for i in range(k + 1)]
    return list(zip(edges[:-1], edges[1:]))


def min_input_side(net, objective):
    """The smallest square input side for which every layer the objective reads has an output; for a net of one
    input size, a quarter of it (a smaller image would be mostly mirrored context in its window)."""
    fixed = fixed_input_size(net.meta)
    if fixed:
        return max(1, min(fixed) // 4)
    return max(net.min_input_size(layer) for layer in objective.layers)


def context_settings(net, objective, settings):
    """(margin, jitter) of a dream's steps with these DreamSettings: the mirrored context every pixel keeps
    (margin_for) and the shift its windows leave room for (usable_jitter)."""
    margin = margin_for(net, objective.layers, settings.margin)
    return margin, usable_jitter(net, settings.jitter, margin)


def window_settings(net, objective, settings, side):
    """(margin, jitter, tile): context_settings and the largest window (checked_tile); side: min_input_side."""
    margin, jitter = context_settings(net, objective, settings)
    return margin, jitter, checked_tile(settings.tile_size, side, margin, jitter, objective)


def checked_tile(tile_size, side, margin, jitter, objective):
    """The tile size to use (None -> AUTO_TILE), checked to leave room for tiles plus their context."""
    tile = AUTO_TILE if tile_size is None else int(tile_size)
    extra = context(margin, jitter)
    least = extra + max(1, 4 * (side - extra))  # tiles are at least core / 4 plus the context (_offset_splits)
    if tile < least:
        raise ValueError(f"tile_size must be at least {least} for {', '.join(objective.layers)} with jitter "
                         f"{jitter} (each tile carries {extra} pixels of context), got {tile}")
    return tile
