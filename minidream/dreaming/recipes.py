"""Recipes: everything needed to make a dream again, stored with every output and given back to dream().

A recipe is a JSON-able dict:

    kind            "dream" or "zoom"
    model           the model actually used: "googlenet", "alexnet", "mini" or a file path ("auto" resolved)
    model_sha256    SHA-256 of its weights (minidream.dreaming.recipes.weights_sha256)
    input           the input's path (None: noise, or an image given as a PIL image or array)
    input_sha256    SHA-256 of the input's RGB pixels as decoded (so a PIL image or array has one too)
    objective       the objective as people read it, repr(objective); objective_data: as data (Objective.to_data)
    seed            always an int (a random one is drawn and recorded when none is given)
    noise_seed      only for a dream from noise that starts from another seed's noise (a batch's picture k > 0)
    batch           only for a picture whose batch compares its pictures (Diversity): the batch's objective
                    (PerPicture), noise seeds and the picture's index; dream() dreams the batch again to make it
    minidream_version, and every dream setting by its name (octaves, steps, step_size, ...: the fields of
                    minidream.dreaming.settings.DreamSettings, the names dream() takes)

`dream(recipe=...)` and `python -m minidream dream --from OUT.png` run it again and give the same bytes on the
same machine and version; a model or input whose hash differs is refused (a different model is a different
dream), unless the caller overrides it explicitly.
"""
import hashlib
import json

import numpy as np
from PIL import Image

from minidream import __version__
# imported for their objectives, which join KINDS (objective_base.from_data)
from minidream.dreaming import batch, diversity, feature_objectives, objectives  # noqa: F401
from minidream.dreaming.objective_base import from_data
from minidream.dreaming.settings import NAMES
from minidream.engine.backend import as_numpy
from minidream.io.images import METADATA_KEY, read_params


def weights_sha256(net):
    """SHA-256 over every parameter array (layer name, shape and float32 bytes, in graph order)."""
    digest = hashlib.sha256()
    for name in net.layer_names:
        for array in net.params.get(name, []):
            a = np.ascontiguousarray(as_numpy(array), dtype=np.float32)
            digest.update(f"{name}:{a.shape}".encode())
            digest.update(a.tobytes())
    return digest.hexdigest()


def pixels_sha256(rgb):
    """SHA-256 of an RGB uint8 (H, W, 3) image's shape and pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    return hashlib.sha256(f"{rgb.shape}".encode() + rgb.tobytes()).hexdigest()


def model_name(net):
    """The name or path load_model resolved for net (what a recipe can load again), else its meta name."""
    return getattr(net, "source", None) or net.meta.get("name")


def make_recipe(kind, net, bound_objective, input_name, rgb, seed, params):
    """The recipe of a dream or zoom (params: the dream settings by name, plus frames/scale/fps for a zoom)."""
    layers = list(bound_objective.layers)
    recipe = dict(params, kind=kind, model=model_name(net), model_sha256=weights_sha256(net),
                  input=input_name, input_sha256=pixels_sha256(rgb) if rgb is not None else None,
                  objective=repr(bound_objective), objective_data=bound_objective.to_data(),
                  seed=int(seed), minidream_version=__version__)
    if len(layers) == 1:
        recipe["layer"] = layers[0]
    return json.loads(json.dumps(recipe))  # tuples -> lists, exactly what a file gives back


def read_recipe(source):
    """A recipe from a dict, a PIL image that carries one, or an image file written by minidream."""
    if isinstance(source, dict):
        recipe = source
    elif isinstance(source, Image.Image):
        recipe = json.loads(source.info.get(METADATA_KEY, "{}"))
    else:
        recipe = read_params(source)
    if not recipe.get("model_sha256") or "seed" not in recipe:
        raise ValueError(f"{source if not isinstance(source, dict) else 'the recipe'} carries no minidream "
                         "recipe (made by an older minidream, or saved without its metadata)")
    if recipe.get("objective_data") is None:
        raise ValueError("the recipe's objective cannot be rebuilt (a guide given as an image, not a path): "
                         "give the objective again")
    return recipe


def check_model(recipe, net):
    """Refuse a model whose weights differ from the recipe's."""
    got = weights_sha256(net)
    if got != recipe["model_sha256"]:
        raise ValueError(f"model {model_name(net)!r} has weights SHA-256 {got[:16]}..., but the recipe was made "
                         f"with {recipe['model_sha256'][:16]}...: the result would differ. Use the recipe's "
                         "model file, or name another model explicitly (--model) to make a new dream")


def check_input(recipe, rgb):
    """Refuse an input whose pixels differ from the recipe's."""
    if recipe.get("input_sha256") and pixels_sha256(rgb) != recipe["input_sha256"]:
        raise ValueError(f"the input {recipe.get('input')!r} is not the image the recipe was made from (its "
                         "pixels' SHA-256 differs); give the input explicitly to dream on another image")


def dream_kwargs(recipe):
    """dream()'s keyword arguments from a recipe (model by name, objective rebuilt, no input); settings a recipe
    does not hold take dream()'s defaults."""
    kwargs = {k: recipe[k] for k in NAMES if k in recipe}
    if kwargs.get("size") is not None:
        kwargs["size"] = tuple(kwargs["size"])
    kwargs.update(model=recipe["model"], objective=from_data(recipe["objective_data"]),
                  seed=recipe["seed"])
    if recipe.get("noise_seed") is not None:
        kwargs["noise_seed"] = recipe["noise_seed"]
    return kwargs
