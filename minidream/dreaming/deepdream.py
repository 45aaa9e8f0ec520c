"""dream(): one entry point for every dream, from an image or from noise, one picture or a batch, or a recipe again.

dream() checks its settings (minidream.dreaming.settings) and its objective before any work, loads the model,
starts from the image or from near-grey noise, and hands the network-space image to the parameterization's
loop: minidream.dreaming.octaves for "pixel" (DeepDream's ascent over octaves), minidream.dreaming.fourier for
"fft". A batch (batch=K) is K pictures from noise in one loop (minidream.dreaming.batch); a recipe
(minidream.dreaming.recipes) is a dream's settings, objective and seed, dreamed again.
"""
import dataclasses
import os
import secrets

import numpy as np
from PIL import Image

from minidream.dreaming.batch import PerPicture, batch_refusal, comparing, noise_seeds, picture_recipes, split
from minidream.dreaming.fourier import run_fourier
from minidream.dreaming.memory_estimate import check_dream
from minidream.dreaming.objectives import L2
from minidream.dreaming.octaves import run_octaves
from minidream.dreaming.recipes import check_input, check_model
from minidream.dreaming.recipes import dream_kwargs as recipe_kwargs
from minidream.dreaming.recipes import make_recipe, read_recipe
from minidream.dreaming.settings import AT_LEAST_ONE, DEFAULT, DreamSettings, settings_of
from minidream.engine.backend import check_device, to_device
from minidream.engine.tuning import tune_cpu
from minidream.io.images import as_kind, attach_params, from_network, load_rgb, to_network
from minidream.models.loading import resolve_model


def dream(image=None, model="auto", layer=None, objective=None, octaves=DEFAULT.octaves,
          octave_scale=DEFAULT.octave_scale, steps=DEFAULT.steps, step_size=DEFAULT.step_size, jitter=DEFAULT.jitter,
          margin=DEFAULT.margin, clip=DEFAULT.clip, tile_size=DEFAULT.tile_size, blur=DEFAULT.blur,
          decay=DEFAULT.decay, lapnorm=DEFAULT.lapnorm, param=DEFAULT.param, transforms=DEFAULT.transforms,
          tv=DEFAULT.tv, keep_colors=DEFAULT.keep_colors, size=DEFAULT.size, seed=None, device="cpu", progress=True,
          callback=None, history=None, recipe=None, batch=None, noise_seed=None):
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
    margin: the most mirrored context kept around the image, in pixels (never more than the objective's
        layers see); less is faster, more guides the edges.
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
                             jitter=jitter, margin=margin, clip=clip, tile_size=tile_size, blur=blur, decay=decay,
                             lapnorm=lapnorm, param=param, transforms=transforms, tv=tv, keep_colors=keep_colors,
                             size=size)
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
    bound = (objective if objective is not None else L2(layer)).bind(net)
    rng = np.random.default_rng(seed)
    rgb, kind, original = _start_image(image, size, rng, fits=lambda hw: check_dream(net, bound, hw, settings))
    if noise_seed is not None:  # the seed's own noise is drawn all the same: the transformations' stream goes on alike
        rgb = _start_image(None, size, np.random.default_rng(noise_seed))[0]
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


def _start_image(image, size, rng, fits=None):
    """(RGB image (H, W, 3), kind, the input as given or None): the input, resized to `size`, or noise.
    fits((H, W)), when given, sees the dream's size before anything of that size is made (memory_estimate)."""
    if image is None:
        if size is None:
            raise ValueError("give an image, or image=None with size=(width, height) to dream from noise")
        w, h = (int(v) for v in size)
        if fits is not None:
            fits((h, w))
        # Near-grey noise: the patterns that grow from it are the network's own.
        return 128.0 + rng.uniform(-16.0, 16.0, size=(h, w, 3)), "pil", None
    original, kind = load_rgb(image)
    h, w = original.shape[:2] if size is None else (int(size[1]), int(size[0]))
    if fits is not None:
        fits((h, w))
    rgb = original if size is None else np.asarray(Image.fromarray(original).resize((w, h), Image.LANCZOS))
    return rgb, kind, original


def dream_batch(net, objective, seed, seeds, settings, device="cpu", progress=True, callback=None, history=None):
    """The batch's PIL images, each with its recipe: objective is a PerPicture (unbound), seed the transforms'
    stream, seeds each picture's noise_seed (None: the seed's own first noise). The caller froze nothing: done
    here. settings: a DreamSettings with size set."""
    if settings.size is None:
        raise ValueError("a batch dreams from noise: give size=(width, height) (--size)")
    if settings.keep_colors:
        raise ValueError("keep_colors keeps an input's colours; a batch dreams from noise, which has none")
    bound = objective.bind(net)
    refusal = batch_refusal(net, bound.layers, len(seeds))  # a model that takes one picture at a time
    if refusal:
        raise refusal
    check_dream(net, bound, (int(settings.size[1]), int(settings.size[0])), settings, pictures=len(seeds))
    rng = np.random.default_rng(seed)
    first = _start_image(None, settings.size, rng)[0]
    starts = [first if s is None else _start_image(None, settings.size, np.random.default_rng(s))[0] for s in seeds]
    x = to_device(np.concatenate([to_network(rgb, net.meta) for rgb in starts]), device)
    with net.frozen():
        run = run_fourier if settings.param == "fft" else run_octaves
        x = run(net, bound, x, rng, settings, progress, callback, history)
    template = make_recipe("dream", net, bound.objectives[0], None, None, seed, dataclasses.asdict(settings))
    return [attach_params(as_kind(from_network(x[k:k + 1], net.meta), "pil"), recipe)
            for k, recipe in enumerate(picture_recipes(template, bound, seeds))]


def dream_batch_recipe(recipe, net, device, progress, callback, history):
    """The picture a batch recipe (recipe["batch"]) describes: its whole batch dreamed again, picture index kept."""
    kwargs = recipe_kwargs(recipe)
    batch = recipe["batch"]
    objective = PerPicture.from_data(batch["objective_data"])
    images = dream_batch(net, objective, kwargs["seed"], batch["noise_seeds"], settings_of(kwargs), device,
                         progress, callback, history)
    return images[batch["index"]]
