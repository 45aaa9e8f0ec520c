"""DeepDream: gradient ascent on the input image, over octaves, with jitter (Mordvintsev et al. 2015).

The original notebook's algorithm, made explicit. x is the image in network input space
(1, 3, H, W) (see minidream.imageio). The octave pyramid shrinks x by octave_scale each
time; from the smallest octave up, the accumulated detail (dreamed - base) is upscaled
bilinearly onto the next base and `steps` steps of

    ox, oy ~ U{-jitter..jitter}         x <- roll(x, (oy, ox))
    g = d objective(net(x)) / dx        (tile by tile for big octaves)
    x <- x + step_size / mean(|g|) * g  (nothing when g = 0)
    x <- roll(x, (-oy, -ox)),  then clip to [-mean, 255 - mean] per channel

are taken. The roll (np.roll semantics, wrapping around) moves the network's grid over
the image so its stride pattern does not print into the dream.
"""
import math
import warnings

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from minidream.ascent import roll, update
from minidream.backend import check_device, get_array_module, is_gpu, to_device
from minidream.filters import gaussian_blur, octave_size, resize_bilinear
from minidream.imageio import as_kind, from_network, input_scale, load_rgb, to_network
from minidream.loading import resolve_model
from minidream.objectives import L2
from minidream.tuning import tune_cpu

AUTO_TILE = 1024  # tile_size=None: octaves up to 1024 px a side run whole; larger ones in tiles


def dream(image=None, model="auto", layer=None, objective=None, octaves=4, octave_scale=1.4, steps=10,
          step_size=1.5, jitter=32, clip=True, tile_size=None, blur=0.0, decay=0.0, size=None, seed=None,
          device="cpu", progress=True, callback=None):
    """Dream on an image; returns the result in the kind given, at the same size.

    image: a path or PIL image (any mode; EXIF orientation applied) -> PIL.Image; a uint8
        (H, W[, 3|4]) array -> uint8 (H, W, 3) array; None -> dream from noise of `size`
        (returns a PIL.Image).
    model: a name ("googlenet", "alexnet", "mini", "auto"), a .h5 path or a Net.
    layer: the layer for the default L2 objective. None = the model's default layer:
        meta["extra"]["default_layer"] when the model names one, else "inception_4c/output".
    objective: a minidream.objectives objective (L2, Channel, ClassNeuron, Guide, sums);
        None -> L2(layer). Objectives name their own layers, so give layer or objective.
    octaves, octave_scale: octave count and size ratio between octaves (the smallest is
        the image scaled by octave_scale^-(octaves-1)); fewer octaves are used, with a
        warning, when the small ones would be below the layer's minimum input size.
    steps, step_size, jitter, clip: per-octave gradient steps, normalized step length,
        maximum random roll in pixels, and whether to keep pixels within 0..255.
    tile_size: compute gradients in tiles of at most this many pixels a side (with a
        fresh random roll of the tile grid every step, so no seams stay put);
        None -> 1024, so memory stays bounded for any image size.
    blur: sigma (pixels) of a Gaussian blur of each update (0 = none).
    decay: x <- (1 - decay) x each step, an L2 pull toward the mean colour (0 = none).
    size: (width, height): the noise size for image=None, else the image is resized to it.
    seed: seed of the one numpy Generator for jitter, tile rolls and noise; the same
        seed gives bit-for-bit the same result.
    device: "cpu" or "gpu" (CuPy; the net is moved there).
    progress: show a tqdm bar per octave.
    callback: callback(octave, step, image) after every step; octave counts from 0 (the
        smallest), image is the current octave as an RGB uint8 (h, w, 3) array.
    """
    _check_numbers(octaves, octave_scale, steps, jitter, tile_size, blur, decay)
    tune_cpu()  # the allocator setting (see minidream/tuning.py); a no-op after the first call
    if objective is not None and layer is not None:
        raise ValueError("give either layer or objective, not both (objectives name their own layers)")
    device = check_device(device)
    net = resolve_model(model, device)
    rng = np.random.default_rng(seed)
    rgb, kind = _start_image(image, size, rng)
    bound = (objective if objective is not None else L2(layer)).bind(net)
    x = to_device(to_network(rgb, net.meta), device)
    x = run_octaves(net, bound, x, rng, octaves=octaves, octave_scale=octave_scale, steps=steps,
                    step_size=step_size, jitter=jitter, clip=clip, tile_size=tile_size, blur=blur,
                    decay=decay, progress=progress, callback=callback)
    return as_kind(from_network(x, net.meta), kind)


def _check_numbers(octaves, octave_scale, steps, jitter, tile_size, blur, decay):
    if int(octaves) < 1:
        raise ValueError(f"octaves must be at least 1, got {octaves}")
    if not octave_scale > 1.0:
        raise ValueError(f"octave_scale must be greater than 1, got {octave_scale}")
    if int(steps) < 0 or int(jitter) < 0:
        raise ValueError(f"steps and jitter must be >= 0, got steps={steps}, jitter={jitter}")
    if tile_size is not None and int(tile_size) < 1:
        raise ValueError(f"tile_size must be a positive number of pixels, got {tile_size}")
    if blur < 0 or not 0 <= decay < 1:
        raise ValueError(f"blur must be >= 0 and decay in [0, 1), got blur={blur}, decay={decay}")


def _start_image(image, size, rng):
    """(RGB image (H, W, 3), kind): the input, resized to `size` when given, or noise."""
    if image is None:
        if size is None:
            raise ValueError("give an image, or image=None with size=(width, height) to dream from noise")
        w, h = (int(v) for v in size)
        # Near-grey noise: the patterns that grow from it are the network's own.
        return 128.0 + rng.uniform(-16.0, 16.0, size=(h, w, 3)), "pil"
    rgb, kind = load_rgb(image)
    if size is not None:
        w, h = (int(v) for v in size)
        rgb = np.asarray(Image.fromarray(rgb).resize((w, h), Image.LANCZOS))
    return rgb, kind


def pyramid_sizes(size, octaves, octave_scale):
    """Octave sizes (H, W), largest first: each round(previous / octave_scale)."""
    sizes = [tuple(size)]
    for _ in range(octaves - 1):
        sizes.append(octave_size(sizes[-1], octave_scale))
    return sizes


def min_input_side(net, objective):
    """The smallest square input side for which every layer the objective reads has an output."""
    return max(net.min_input_size(layer) for layer in objective.layers)


def usable_octaves(objective, side, size, octaves, octave_scale):
    """The octave sizes to run, largest first; drops (and warns about) ones smaller than side."""
    if min(size) < side:
        raise ValueError(
            f"the image is {size[1]}x{size[0]} but {', '.join(objective.layers)} needs at least "
            f"{side}x{side} pixels: use a larger image (size=... resizes it), or a layer nearer the input"
        )
    sizes = [s for s in pyramid_sizes(size, octaves, octave_scale) if min(s) >= side]
    if len(sizes) < octaves:
        warnings.warn(
            f"a {size[1]}x{size[0]} image is too small for {octaves} octaves at {', '.join(objective.layers)} "
            f"(each octave needs at least {side}x{side} pixels): using {len(sizes)}",
            stacklevel=3,
        )
    return sizes


def run_octaves(net, objective, x, rng, octaves=4, octave_scale=1.4, steps=10, step_size=1.5, jitter=32,
                clip=True, tile_size=None, blur=0.0, decay=0.0, progress=True, callback=None):
    """The octave loop on a network-space image x (1, 3, H, W); returns the dreamed x.

    objective must be bound to net (objective.bind(net)).
    """
    side = min_input_side(net, objective)
    sizes = usable_octaves(objective, side, x.shape[-2:], octaves, octave_scale)
    tile = AUTO_TILE if tile_size is None else int(tile_size)
    if tile < 2 * side:  # tiles can be as small as half the tile size (see _splits)
        raise ValueError(f"tile_size must be at least {2 * side} for {', '.join(objective.layers)} "
                         f"(twice the {side} pixels it needs), got {tile}")
    lo, hi = _clip_bounds(net, x, clip)
    bases = [x]
    for s in sizes[1:]:
        bases.append(resize_bilinear(bases[-1], s))
    detail = None
    for octave, base in enumerate(reversed(bases)):
        h, w = base.shape[-2:]
        x = base.copy() if detail is None else base + resize_bilinear(detail, (h, w))
        bar = tqdm(range(steps), desc=f"octave {octave + 1}/{len(bases)} {w}x{h}", disable=not progress,
                   leave=False)
        for step in bar:
            x = make_step(net, objective, x, rng, step_size, jitter, lo, hi, tile, blur, decay)
            if callback is not None:
                callback(octave, step, from_network(x, net.meta))
        detail = x - base
    return x


def _clip_bounds(net, x, clip):
    """Per-channel (lo, hi) of network space, ((0 - mean) * scale, (255 - mean) * scale); +-inf when not clipping."""
    mean = np.asarray(net.meta.get("mean_bgr", (0.0, 0.0, 0.0)), np.float32)
    if not clip:
        lo, hi = np.full(3, -np.inf, np.float32), np.full(3, np.inf, np.float32)
    else:
        lo, hi = -mean * input_scale(net.meta), (255.0 - mean) * input_scale(net.meta)
    if is_gpu(x):
        return to_device(lo, "gpu"), to_device(hi, "gpu")
    return lo.reshape(1, 3, 1, 1), hi.reshape(1, 3, 1, 1)


def make_step(net, objective, x, rng, step_size=1.5, jitter=32, lo=None, hi=None, tile=AUTO_TILE, blur=0.0,
              decay=0.0):
    """One jittered gradient-ascent step on x (1, 3, H, W); returns the new x.

    lo, hi: per-channel clip bounds from _clip_bounds (None: no clipping, NumPy only).
    """
    ox, oy = (int(v) for v in rng.integers(-jitter, jitter + 1, size=2))
    x = roll(x, oy, ox)
    g = gaussian_blur(gradient(net, objective, x, tile, rng), blur)
    if decay:
        x *= 1.0 - decay
    update(x, g, step_size, lo, hi)
    return roll(x, -oy, -ox)


def gradient(net, objective, x, tile, rng):
    """d objective / dx for x (1, 3, H, W), tile by tile when x is larger than tile.

    Tiles get no context from their neighbours, so the tile grid is rolled by a fresh
    random offset every step: seams land somewhere else each time and average out.
    The tiles of the rolled image are read from x (and their gradients written to g) through
    wrapped row and column indices, so no rolled copy of the image is ever made: memory beyond
    x is g and one tile's work, whatever the image size.
    """
    h, w = x.shape[-2:]
    if h <= tile and w <= tile:
        return _gradient_whole(net, objective, x)
    sy, sx = (int(v) for v in rng.integers(0, tile, size=2))
    xp = get_array_module(x)
    g = xp.empty_like(x)
    for y0, y1 in _splits(h, tile):
        rows = (xp.arange(y0, y1) - sy)[:, None] % h  # tile row i of roll(x, sy, sx) is row i - sy of x
        for x0, x1 in _splits(w, tile):
            cols = (xp.arange(x0, x1) - sx) % w
            g[..., rows, cols] = _gradient_whole(net, objective, x[..., rows, cols])
    return g


def _gradient_whole(net, objective, x):
    acts = net.forward(x, end=list(objective.layers))
    _, grads = objective(acts)
    return net.backward(grads)


def _splits(n, tile):
    """[(start, stop)] cutting n pixels into ceil(n / tile) nearly equal pieces of at most tile."""
    k = math.ceil(n / tile)
    edges = [round(i * n / k) for i in range(k + 1)]
    return list(zip(edges[:-1], edges[1:]))
