"""DeepDream: gradient ascent on the input image, over octaves, with jitter (Mordvintsev et al. 2015).

The original notebook's algorithm, made explicit. x is the image in network input space
(1, 3, H, W) (see minidream.io.images). The octave pyramid shrinks x by octave_scale each
time; from the smallest octave up, the accumulated detail (dreamed - base) is upscaled
bilinearly onto the next base and `steps` steps of

    sy, sx ~ U{-jitter..jitter}
    g = d objective(net(window)) / dx   window: x shifted by (sy, sx) inside odd-mirrored context,
                                        the gradient cropped back to x (tile by tile for big octaves)
    x <- x + step_size / mean(|g|) * g  (nothing when g = 0), then clip to what 0..255 is in network space

are taken. The shift moves the network's stride grid over the image so its pattern does not print into the
dream; the context is a reflection of the image, never the image wrapped around, so the edges get neither a
seam nor the net's zero padding (minidream.dreaming.jitter). Before the update, blur, lapnorm and tv reshape g
and decay shrinks x. Every setting, its default and the values it takes: minidream.dreaming.settings.
"""
import dataclasses
import math
import os
import secrets
import warnings

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from minidream.dreaming.ascent import update
from minidream.dreaming.batch import comparing, dream_batch, dream_batch_recipe, noise_seeds, reported, split
from minidream.dreaming.filters import gaussian_blur, normalized, octave_size, resize_bilinear, tv_gradient
from minidream.dreaming.fourier import run_fourier, warp, warp_indices, warp_transpose
from minidream.dreaming.jitter import checked_tile, context, gradient, margin_for, min_input_side, usable_jitter
from minidream.dreaming.lapnorm import laplacian_normalize
from minidream.dreaming.memory_estimate import check_dream_memory
from minidream.dreaming.objectives import L2
from minidream.dreaming.recipes import check_input, check_model
from minidream.dreaming.recipes import dream_kwargs as recipe_kwargs
from minidream.dreaming.recipes import make_recipe, read_recipe
from minidream.dreaming.settings import AT_LEAST_ONE, DEFAULT, DreamSettings
from minidream.engine.backend import as_numpy, check_device, get_array_module, is_gpu, to_device
from minidream.engine.tuning import tune_cpu
from minidream.errors import NonFiniteError
from minidream.io.images import as_kind, attach_params, from_network, input_mean, input_scale, load_rgb, to_network
from minidream.models.loading import resolve_model


def dream(image=None, model="auto", layer=None, objective=None, octaves=DEFAULT.octaves,
          octave_scale=DEFAULT.octave_scale, steps=DEFAULT.steps, step_size=DEFAULT.step_size, jitter=DEFAULT.jitter,
          clip=DEFAULT.clip, tile_size=DEFAULT.tile_size, blur=DEFAULT.blur, decay=DEFAULT.decay,
          lapnorm=DEFAULT.lapnorm, param=DEFAULT.param, transforms=DEFAULT.transforms, tv=DEFAULT.tv,
          keep_colors=DEFAULT.keep_colors, size=DEFAULT.size, seed=None, device="cpu", progress=True, callback=None,
          history=None, recipe=None, batch=None, noise_seed=None):
    """Dream on an image; returns the result in the kind given, at the same size.

    image: a path or PIL image (any mode; EXIF orientation applied) -> PIL.Image; a uint8
        (H, W[, 3|4]) array -> uint8 (H, W, 3) array; None -> dream from noise of `size`
        (returns a PIL.Image). Returned PIL images carry their recipe (minidream.dreaming.recipes):
        img.info["minidream"], and img.save() writes it (PNG text, JPEG/GIF comment).
    model: a name ("googlenet", "alexnet", "mini", "auto"), a .h5 path or a Net.
    layer: the layer for the default L2 objective. None = the model's default layer:
        meta["extra"]["default_layer"] when the model names one, else "inception_4c/output".
    objective: a minidream.dreaming.objectives objective (L2, Channel, ClassNeuron, Guide, sums);
        None -> L2(layer). Objectives name their own layers, so give layer or objective. With batch: one
        objective for every picture, or a list of one per picture.
    octaves ... size: the dream's settings (minidream.dreaming.settings.DreamSettings: each one's
        default, the values it takes and what it does), checked before any work:
    octaves, octave_scale: octave count and size ratio between octaves (the smallest is
        the image scaled by octave_scale^-(octaves-1)); fewer octaves are used, with a
        warning, when the small ones would be below the layer's minimum input size.
    steps: gradient steps per octave: a number, or a list with one per octave, smallest first.
    step_size, jitter, clip: normalized step length, maximum random shift in pixels (the image
        is seen shifted inside mirrored context, minidream.dreaming.jitter: no seams at its
        edges), and whether to keep pixels within 0..255.
    tile_size: compute gradients in windows of at most this many pixels a side (each tile plus
        its context; a fresh random offset of the tile grid every step, so no seams stay put);
        None -> settings.AUTO_TILE, so memory stays bounded for any image size.
    blur: sigma (pixels) of a Gaussian blur of each update (0 = none).
    decay: x <- (1 - decay) x each step, an L2 pull toward the mean colour (0 = none).
    lapnorm: normalize each update over this many Laplacian pyramid levels (0 = none).
    param: "pixel" (the notebook's ascent on pixels, in octaves) or "fft" (ascent on a decorrelated-colour
        Fourier image with random scale/rotation jitter, minidream.dreaming.fourier; best from noise).
    transforms: what each step sees the image through: "shift" (the jitter shift in mirrored context) or "warp"
        (a random scale in 0.9..1.1 and rotation in -10..10 degrees first, the gradient taken back through it);
        None: warp for param="fft", shift for "pixel".
    tv: weight of a total-variation penalty (smooths; 0 = none).
    keep_colors: keep the input's colours, taking only the dream's luminance.
    size: (width, height): the noise size for image=None, else the image is resized to it.
    seed: seed of the one numpy Generator for jitter, tile offsets and noise; the same
        seed gives bit-for-bit the same result on the same device, machine and libraries (the ascent
        amplifies rounding: CPU and GPU, or two BLAS builds, drift apart over many steps, README's
        Recipes). None: a random seed, recorded in the recipe.
    device: "cpu" or "gpu" (CuPy; the net is moved there).
    progress: show a tqdm bar per octave.
    callback: callback(octave, step, image) after every step; octave counts from 0 (the
        smallest), image is the current octave as an RGB uint8 (h, w, 3) array (a batch: a list of them).
    history: a list that gets (octave, step, objective value) after every step (a batch: a list of each
        picture's value, minidream.dreaming.batch).
    recipe: a recipe dict, a PIL image carrying one, or a file minidream wrote: run that dream
        again with every setting from it (change a setting by editing the dict). image, when
        given, replaces the recipe's input; device, progress, callback and history apply; model, when a
        Net, is used instead of loading the recipe's (its weights are checked against the recipe's).
    batch: K pictures from noise (image=None, size given) in one batched forward and backward per step,
        returned as a list of K PIL images, each with its own recipe (minidream.dreaming.batch: the
        pictures' noise, what a remade picture matches); None or 1 with one objective: one dream.
    noise_seed: start from the noise of this seed instead of the seed's own (what a batch's picture k > 0
        does, seed + k; recorded in the recipe); the transformations still draw from seed.
    """
    if recipe is not None:
        return _dream_recipe(recipe, image, device, progress, callback, history, model)
    settings = DreamSettings(octaves=octaves, octave_scale=octave_scale, steps=steps, step_size=step_size,
                             jitter=jitter, clip=clip, tile_size=tile_size, blur=blur, decay=decay, lapnorm=lapnorm,
                             param=param, transforms=transforms, tv=tv, keep_colors=keep_colors, size=size)
    tune_cpu(blas_kernels=False)  # the allocator setting (minidream/engine/tuning.py); a no-op after the first call
    if objective is not None and layer is not None:
        raise ValueError("give either layer or objective, not both (objectives name their own layers)")
    count = _batch_count(batch, objective, image, noise_seed)
    if noise_seed is not None and image is not None:
        raise ValueError("noise_seed chooses the noise a dream starts from: give image=None and size=(width, height)")
    device = check_device(device)
    net = resolve_model(model, device)
    if seed is None:
        seed = secrets.randbits(31)
    if count is not None:
        per_picture = split(objective if objective is not None else L2(layer), count)
        return dream_batch(net, per_picture, seed, noise_seeds(seed, count), settings, device, progress, callback,
                           history)
    rng = np.random.default_rng(seed)
    rgb, kind, original = _start_image(image, size, rng)
    if noise_seed is not None:  # the seed's own noise is drawn all the same: the transformations' stream goes on alike
        rgb = _start_image(None, size, np.random.default_rng(noise_seed))[0]
    bound = (objective if objective is not None else L2(layer)).bind(net)
    x = to_device(to_network(rgb, net.meta), device)
    with net.frozen():  # the weights stay as they are for the whole dream
        run = run_fourier if param == "fft" else run_octaves
        x = run(net, bound, x, rng, settings, progress, callback, history)
    out = from_network(x, net.meta)
    if keep_colors:
        out = keep_luminance_only(rgb, out)
    if kind != "pil" or not isinstance(seed, (int, np.integer)):
        return as_kind(out, kind)
    name = os.path.abspath(image) if isinstance(image, (str, os.PathLike)) else None
    made = make_recipe("dream", net, bound, name, original, seed, dataclasses.asdict(settings))
    if noise_seed is not None:
        made["noise_seed"] = int(noise_seed)
    return attach_params(as_kind(out, "pil"), made)


def _batch_count(batch, objective, image, noise_seed):
    """K for a batch dream (a list of objectives counts), None for one dream; checked before any work."""
    listed = isinstance(objective, (list, tuple))
    if (batch is None or batch == 1) and not listed and objective is not None and comparing(objective):
        raise ValueError(f"{objective!r} compares the pictures of a batch: give batch=K with K >= 2 (--batch K)")
    if batch is None and not listed:
        return None
    count = AT_LEAST_ONE.check(batch if batch is not None else len(objective), "batch")
    if count == 1 and not listed:
        return None
    if image is not None:
        raise ValueError("a batch dreams from noise: give image=None and size=(width, height)")
    if noise_seed is not None:
        raise ValueError("noise_seed is one picture's; a batch's pictures take seed + k (minidream.dreaming.batch)")
    return count


def _dream_recipe(source, image, device, progress, callback, history, model="auto"):
    """dream() with every setting from a recipe (see minidream.dreaming.recipes); image replaces its input."""
    recipe = read_recipe(source)
    if recipe.get("kind", "dream") != "dream":
        raise ValueError(f"this is a {recipe['kind']} recipe: run it with minidream.{recipe['kind']}(recipe=...)")
    kwargs = recipe_kwargs(recipe)
    name = kwargs.pop("model")
    net = resolve_model(name if isinstance(model, (str, os.PathLike)) else model, device)
    if recipe.get("model_sha256"):
        check_model(recipe, net)
    if recipe.get("batch") is not None:
        return dream_batch_recipe(recipe, net, device, progress, callback, history)
    if image is None and recipe.get("input") is not None:
        image = recipe["input"]
        check_input(recipe, load_rgb(image)[0])
    elif image is None and recipe.get("input_sha256") and recipe.get("size") is None:
        raise ValueError("the recipe's input was an image in memory, not a file: pass it as image=")
    return dream(image, model=net, device=device, progress=progress, callback=callback, history=history,
                 **kwargs)


def keep_luminance_only(original, dreamed):
    """The dream's luminance (Rec. 601 luma) on the original's colours: original + (Y_dream - Y_original)."""
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    delta = dreamed.astype(np.float32) @ luma - original.astype(np.float32) @ luma
    return np.clip(np.rint(original + delta[..., None]), 0, 255).astype(np.uint8)


def _start_image(image, size, rng):
    """(RGB image (H, W, 3), kind, the input as given or None): the input, resized to `size`, or noise."""
    if image is None:
        if size is None:
            raise ValueError("give an image, or image=None with size=(width, height) to dream from noise")
        w, h = (int(v) for v in size)
        # Near-grey noise: the patterns that grow from it are the network's own.
        return 128.0 + rng.uniform(-16.0, 16.0, size=(h, w, 3)), "pil", None
    original, kind = load_rgb(image)
    rgb = original
    if size is not None:
        w, h = (int(v) for v in size)
        rgb = np.asarray(Image.fromarray(rgb).resize((w, h), Image.LANCZOS))
    return rgb, kind, original


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
    margin = margin_for(net, objective.layers)
    tile = checked_tile(settings.tile_size, side, margin, settings.jitter, objective)
    check_dream_memory(net, objective.layers, sizes[0], tile, context(margin, settings.jitter))
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
                value = make_step(net, objective, x, rng, settings, tile, margin, lo, hi)
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


def make_step(net, objective, x, rng, settings, tile, margin=0, lo=None, hi=None):
    """One jittered gradient-ascent step on x (1, 3, H, W), in place; returns the objective value before it.

    A batch x (K, 3, H, W) is seen in one window batch (one shift), and each picture's gradient is shaped and
    normalized on its own, as if it were dreamed alone.

    settings: a DreamSettings (step_size, jitter, transforms, blur, lapnorm, tv and decay are read). tile: the
    largest window (minidream.dreaming.jitter.checked_tile). margin: mirrored context kept around the image
    (minidream.dreaming.jitter.margin_for). lo, hi: per-channel clip bounds from _clip_bounds (None: no
    clipping, NumPy only). tv weighs the total-variation penalty against the gradient scaled to mean |g| = 1.
    """
    jitter = usable_jitter(net, settings.jitter, margin)
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
