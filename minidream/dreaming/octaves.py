"""The pixel parameterization (param="pixel"): DeepDream's gradient ascent on the image, over octaves, with jitter
(Mordvintsev et al. 2015).

The original notebook's algorithm, made explicit. x is the image in network input space
(1, 3, H, W) (see minidream.io.images). The octave pyramid shrinks x by octave_scale each
time; from the smallest octave up, the accumulated detail (dreamed - base) is upscaled
bilinearly onto the next base and `steps` steps of

    sy, sx ~ U{-jitter..jitter}
    g = d objective(net(window)) / dx   window: x shifted by (sy, sx) inside odd-mirrored context; the objective
                                        counts the units that see x (image_region), tile by tile for big octaves
    x <- x + step_size / mean(|g|) * g  (nothing when g = 0), then clip to what 0..255 is in network space

are taken. The shift moves the network's stride grid over the image so its pattern does not print into the
dream; the context is a reflection of the image, never the image wrapped around, so the edges get neither a
seam nor the net's zero padding (minidream.dreaming.jitter). Before the update, blur, lapnorm and tv reshape g
and decay shrinks x. Every setting, its default and the values it takes: minidream.dreaming.settings.
"""
import math
import warnings

import numpy as np
from tqdm.auto import tqdm

from minidream.dreaming.ascent import update
from minidream.dreaming.batch import reported
from minidream.dreaming.filters import gaussian_blur, normalized, octave_size, resize_bilinear, tv_gradient
from minidream.dreaming.fourier import warp, warp_indices, warp_transpose
from minidream.dreaming.jitter import context_settings, gradient, min_input_side, window_settings
from minidream.dreaming.lapnorm import laplacian_normalize
from minidream.engine.backend import as_numpy, get_array_module, is_gpu, to_device
from minidream.errors import NonFiniteError
from minidream.io.images import from_network, input_mean, input_scale


def pyramid_sizes(size, octaves, octave_scale):
    """Octave sizes (H, W), largest first: each round(previous / octave_scale)."""
    sizes = [tuple(size)]
    for _ in range(octaves - 1):
        sizes.append(octave_size(sizes[-1], octave_scale))
    return sizes


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


def run_octaves(net, objective, x, rng, settings, progress=True, callback=None, history=None):
    """The octave loop on a network-space image x (1, 3, H, W), or a batch (K, 3, H, W); returns the dreamed x.

    objective must be bound to net (objective.bind(net)); settings: a DreamSettings. When small octaves are
    dropped, their entries of a per-octave steps list go with them. history: a list that gets (octave, step,
    objective value) after every step (reported: a batch's per-picture values).
    """
    side = min_input_side(net, objective)
    sizes = usable_octaves(objective, side, x.shape[-2:], settings.octaves, settings.octave_scale)
    per_octave = settings.steps_per_octave()[settings.octaves - len(sizes):]
    tile = window_settings(net, objective, settings, side)[2]
    lo, hi = _clip_bounds(net, x, settings.clip)
    bases = [x]
    for s in sizes[1:]:
        bases.append(resize_bilinear(bases[-1], s))
    detail = None
    for octave, count in enumerate(per_octave):
        base = bases.pop()  # smallest first; an octave's base and detail go once used (peak memory, docs/speed.md)
        h, w = base.shape[-2:]
        if detail is None:
            x = base.copy()
        else:
            x = resize_bilinear(detail, (h, w))
            x += base
            detail = None
        bar = tqdm(range(count), desc=f"octave {octave + 1}/{len(per_octave)} {w}x{h}", disable=not progress,
                   leave=False)
        for step in bar:
            try:
                value = make_step(net, objective, x, rng, settings, tile, lo, hi)
            except NonFiniteError as exc:
                raise NonFiniteError(f"octave {octave + 1}, step {step + 1}: {exc}") from None
            if history is not None:
                history.append((octave, step, reported(objective, value)))
            if callback is not None:
                callback(octave, step, pictures(x, net.meta))
        if bases:  # what this octave dreamed, for the next one to add
            detail = x - base
    return x


def _clip_bounds(net, x, clip):
    """Per-channel (lo, hi) of network space, ((0 - mean) * scale, (255 - mean) * scale); +-inf when not clipping."""
    mean = input_mean(net.meta)  # one value per input channel
    if not clip:
        lo, hi = np.full(mean.shape, -np.inf, np.float32), np.full(mean.shape, np.inf, np.float32)
    else:
        lo, hi = -mean * input_scale(net.meta), (255.0 - mean) * input_scale(net.meta)
    if is_gpu(x):
        return to_device(lo, "gpu"), to_device(hi, "gpu")
    return lo.reshape(1, -1, 1, 1), hi.reshape(1, -1, 1, 1)


def pictures(x, meta):
    """The RGB uint8 (H, W, 3) image of x (1, 3, H, W); a list of them for a batch (K, 3, H, W)."""
    return from_network(x, meta) if len(x) == 1 else [from_network(x[k:k + 1], meta) for k in range(len(x))]


def make_step(net, objective, x, rng, settings, tile, lo=None, hi=None):
    """One jittered gradient-ascent step on x (1, 3, H, W), in place; returns the objective value before it.

    A batch x (K, 3, H, W) is seen in one window batch (one shift), and each picture's gradient is shaped and
    normalized on its own, as if it were dreamed alone.

    settings: a DreamSettings (step_size, jitter, margin, transforms, blur, lapnorm, tv and decay are read).
    tile: the largest window (minidream.dreaming.jitter.checked_tile). lo, hi: per-channel clip bounds from _clip_bounds
    (None: no clipping, NumPy only). tv weighs the total-variation penalty against the gradient scaled to
    mean |g| = 1.
    """
    margin, jitter = context_settings(net, objective, settings)  # mirrored context kept around the image, shift
    ox, oy = (int(v) for v in rng.integers(-jitter, jitter + 1, size=2))
    index = warp_indices(*x.shape[-2:], rng) if settings.warps() else None  # a random scale and rotation
    value, g = gradient(net, objective, warp(x, index), tile, rng, (oy, ox), jitter, margin)
    if index is not None:
        g = to_device(warp_transpose(as_numpy(g), index), net.device)
    if not math.isfinite(float(value)):
        raise NonFiniteError(f"the objective is {float(value)}; the model's weights overflow on this image: "
                             "check the model file, or lower --step-size")
    if not bool(get_array_module(g).isfinite(g).all()):
        raise NonFiniteError("the gradient is not finite (NaN or infinity); the model's weights overflow on this "
                             "image: check the model file, or lower --step-size")
    for k in range(len(x)):  # x[k:k + 1] is a view: the update lands in x
        _picture_update(net, x[k:k + 1], g[k:k + 1], settings, lo, hi)
    return value


def _picture_update(net, x, g, settings, lo, hi):
    """One picture's update from its gradient g, both (1, 3, H, W), x in place (make_step)."""
    g = gaussian_blur(g, settings.blur)
    if settings.lapnorm:
        g = laplacian_normalize(g, settings.lapnorm)
    if settings.tv:
        g = normalized(g) - np.float32(settings.tv) * tv_gradient(x)
    if settings.decay:
        x *= 1.0 - settings.decay
    update(x, g, settings.step_size, lo, hi, pixel_unit(net.meta))


def pixel_unit(meta):
    """Network units per pixel level, per channel, for a model whose input is scaled; None for 1 (Caffe's)."""
    unit = input_scale(meta)
    return None if (unit == 1.0).all() else unit
