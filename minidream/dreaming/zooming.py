"""The original notebook's endless zoom: dream a frame, zoom into its centre, dream again."""
import dataclasses
import os
import secrets

import numpy as np
from PIL import Image

from minidream.dreaming.deepdream import dream
from minidream.dreaming.objectives import L2
from minidream.dreaming.recipes import check_input, check_model
from minidream.dreaming.recipes import dream_kwargs as recipe_kwargs
from minidream.dreaming.recipes import make_recipe, read_recipe
from minidream.dreaming.settings import (AT_LEAST_ONE, BELOW_ONE, POSITIVE, ZOOM_FPS, ZOOM_FRAMES, ZOOM_SCALE,
                                         settings_of)
from minidream.io.images import as_kind, attach_params, load_rgb, write_gif
from minidream.models.loading import resolve_model


def zoom(image=None, frames=ZOOM_FRAMES, scale=ZOOM_SCALE, gif=None, fps=ZOOM_FPS, recipe=None, **dream_kwargs):
    """Yield `frames` dreamed frames, each dreamed on the previous one zoomed in by `scale`.

    Frame k is dream(zoom_in(frame k-1)); frame 0 dreams the image itself. zoom_in crops
    the central (1 - scale) of the frame and scales it back up bilinearly, as the notebook's
    affine_transform(frame, [1-s, 1-s, 1], [h*s/2, w*s/2, 0], order=1) did. Frames come in
    the kind the image came in (PIL images for paths, carrying the zoom's recipe and their
    frame number). gif: a path to also write all frames as a looping GIF at `fps` (its
    comment holds the recipe), once the last frame is made. dream_kwargs go to dream(); the
    model is loaded once, and the seed (random when not given, recorded) seeds an independent
    stream per frame. recipe: a zoom recipe (see minidream.dreaming.recipes) to run again; image, when
    given, replaces its input, dream_kwargs may set device, progress and callback.
    """
    if recipe is not None:
        image, frames, scale, fps, dream_kwargs = _from_recipe(recipe, image, dream_kwargs)
    AT_LEAST_ONE.check(frames, "frames")
    BELOW_ONE.check(scale, "scale")
    POSITIVE.check(fps, "fps")
    if dream_kwargs.get("recipe") is not None:
        raise ValueError("give the recipe to zoom(recipe=...), not to the frames' dreams")
    net = resolve_model(dream_kwargs.get("model", "auto"), dream_kwargs.get("device", "cpu"))
    dream_kwargs["model"] = net
    seed = dream_kwargs.pop("seed", None)
    seed = secrets.randbits(31) if seed is None else seed
    seeds = np.random.SeedSequence(seed).spawn(frames)
    rgb, kind = load_rgb(image)
    made_recipe = _recipe(net, image, rgb, seed, frames, scale, fps, dream_kwargs)
    made = []
    for i in range(frames):
        rgb = dream(rgb, seed=seeds[i], **dream_kwargs)
        if gif is not None:
            made.append(as_kind(rgb, "pil"))
        yield attach_params(as_kind(rgb, "pil"), dict(made_recipe, frame=i)) if kind == "pil" else rgb
        rgb = zoom_in(rgb, scale)
    if gif is not None:
        write_gif(made, gif, fps, made_recipe)


def _recipe(net, image, rgb, seed, frames, scale, fps, dream_kwargs):
    """The zoom's recipe: the dream settings (checked, defaults filled in), frames, scale and fps."""
    params = dict(dataclasses.asdict(settings_of(dream_kwargs)), frames=int(frames), scale=float(scale),
                  fps=float(fps))
    objective = dream_kwargs.get("objective") or L2(dream_kwargs.get("layer"))
    name = os.path.abspath(image) if isinstance(image, (str, os.PathLike)) else None
    return make_recipe("zoom", net, objective.bind(net), name, rgb, seed, params)


def _from_recipe(source, image, dream_kwargs):
    """(image, frames, scale, fps, dream kwargs) of a zoom recipe; the model and input hashes are checked."""
    recipe = read_recipe(source)
    if recipe.get("kind") != "zoom":
        raise ValueError(f"this is a {recipe.get('kind', 'dream')} recipe: run it with minidream.dream(recipe=...)")
    kwargs = dict(recipe_kwargs(recipe), **dream_kwargs)
    kwargs["model"] = resolve_model(kwargs["model"], kwargs.get("device", "cpu"))
    check_model(recipe, kwargs["model"])
    if image is None:
        if recipe.get("input") is None:
            raise ValueError("the recipe's input was an image in memory, not a file: pass it as image=")
        image = recipe["input"]
        check_input(recipe, load_rgb(image)[0])
    return image, recipe["frames"], recipe["scale"], recipe["fps"], kwargs


def zoom_in(rgb, scale):
    """rgb (H, W, 3) uint8 magnified about its centre: the central (1 - scale) part, same size."""
    h, w = rgb.shape[:2]
    box = (w * scale / 2, h * scale / 2, w * (1 - scale / 2), h * (1 - scale / 2))
    return np.asarray(Image.fromarray(rgb).resize((w, h), Image.BILINEAR, box=box))
