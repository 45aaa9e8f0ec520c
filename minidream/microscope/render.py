"""The microscope's pictures: a dream from noise per channel, and per diverse variant, each saved with its recipe.

A picture's recipe is the dream's own (minidream.dreaming.recipes), so `minidream dream --from SITE/conv5/3.png`
makes it again. It is made before any rendering, so a rerun skips the pictures whose file already holds it
(minidream.jobs.cluster.is_done), and the picture is rendered from it (recipes.dream_kwargs): what is rendered
is what the recipe says, in this process or on a Dask worker.

Pictures render in batches (minidream.dreaming.batch): up to BATCH channel pictures of the same settings in one
batched dream, and a channel's diverse variants as one batch with a Diversity term. A batched picture is the one
its recipe makes alone, so batching changes no recipe; a diverse variant's recipe holds its batch. A model that
takes one picture at a time (an ONNX export with a fixed batch of 1) renders its channels one by one, and has no
diverse variants (refused before any work).
"""
import dataclasses
import importlib.util
import json
import os

from tqdm.auto import tqdm

from minidream.dreaming.batch import PerPicture, batch_refusal, picture_recipes
from minidream.dreaming.deepdream import dream_batch
from minidream.dreaming.diversity import Diversity
from minidream.dreaming.jitter import min_input_side
from minidream.dreaming.memory_estimate import check_dream
from minidream.dreaming.objective_base import from_data
from minidream.dreaming.objectives import Channel
from minidream.dreaming.recipes import dream_kwargs, make_recipe
from minidream.dreaming.settings import DreamSettings, settings_of
from minidream.errors import TooBigError
from minidream.io.images import save_image
from minidream.jobs.cluster import Task, cores, is_done, run
from minidream.microscope.plan import DIVERSITY, DIVERSITY_WEIGHT, STEP_SIZE, STEPS, dream_settings

SMALL_JOB = 8  # pictures to render; so few render in this process, as a local cluster takes longer to start
BATCH = 8  # channel pictures per batched dream
# What differs between the recipes of a batch's pictures (the layer does not: it sets the window's context).
OWN = ("objective", "objective_data", "noise_seed", "batch")


@dataclasses.dataclass
class Picture:
    layer: str
    channel: int
    variant: int  # 0: the channel's picture; 1..K: its variants
    path: str
    recipe: dict


def picture_file(channel, variant):
    """The picture's file name in its layer's folder: 3.png, and 3_1.png, 3_2.png for the variants."""
    return f"{channel}.png" if variant == 0 else f"{channel}_{variant}.png"


def plan_pictures(net, site, layer_plans, size, steps=STEPS, step_size=STEP_SIZE, seed=0, diversity=DIVERSITY):
    """Every picture of the site, in page order, with its recipe.

    A channel's picture is Channel(layer, c) from seed. Its variants 1..K (diversity = K) are one batch from seed + 1
    with a Diversity term of DIVERSITY_WEIGHT (variant v starts from the noise of seed + v); a single variant
    (K = 1) cannot be pushed away from anything: it is the channel's objective from seed + 1.
    """
    checked = DreamSettings(**dream_settings(size, steps, step_size))
    settings = dataclasses.asdict(checked)
    first = layer_plans[0]
    # One recipe made the dream's way (weights hashed once, not once per picture); each picture changes only
    # the fields that are its own.
    template = make_recipe("dream", net, Channel(first.name, first.channels[0]).bind(net), None, None, seed,
                           settings)
    pictures = []
    for plan in layer_plans:
        side = min_input_side(net, Channel(plan.name, 0).bind(net))
        if size < side:
            raise ValueError(f"pictures of {size} px are too small for layer {plan.name!r}, which needs at least "
                             f"{side}x{side} pixels: give --size {side} or more")
        refusal = batch_refusal(net, [plan.name], diversity) if diversity >= 2 else None
        if refusal:
            raise ValueError(f"the model takes one picture at a time (layer {refusal.layer!r}: {refusal.detail}), "
                             f"and a channel's {diversity} diverse variants are one batch: give --diversity 1 or 0")
        _check_memory(net, plan.name, size, checked)
        for channel in plan.channels:
            bound = Channel(plan.name, channel).bind(net)
            recipes = [dict(template, layer=plan.name, objective=repr(bound), objective_data=bound.to_data(),
                            seed=seed + variant) for variant in range(1 if diversity >= 2 else diversity + 1)]
            if diversity >= 2:
                batch = PerPicture([Channel(plan.name, channel)] * diversity,
                                   Diversity(plan.name, DIVERSITY_WEIGHT)).bind(net)
                recipes += picture_recipes(dict(template, seed=seed + 1), batch,
                                           [None] + [seed + v for v in range(2, diversity + 1)])
            for variant, recipe in enumerate(recipes):
                path = os.path.join(site, plan.slug, picture_file(channel, variant))
                pictures.append(Picture(plan.name, channel, variant, path, recipe))
    return pictures


def _check_memory(net, layer, size, settings):
    """Refuse in one line pictures whose batches would not fit in the memory available."""
    count = at_once(net, layer)
    try:
        check_dream(net, Channel(layer, 0).bind(net), (size, size), settings, pictures=count)
    except TooBigError as exc:
        fix = f"--size {min(exc.fits)} or less" if exc.fits else "a smaller --size"
        raise TooBigError(f"pictures of {size} px of layer {layer!r}, {count} at a time, need {exc.estimate}: give "
                          f"{fix}") from None


def at_once(net, layer):
    """How many of a layer's pictures go through the net together: BATCH, or one by one for a model that takes
    one picture at a time."""
    return 1 if batch_refusal(net, [layer]) else BATCH


def render(net, pictures, device="cpu"):
    """The pictures' images (PIL, each carrying its recipe), in order, each dreamed from noise as its recipe
    says (render_batches)."""
    made = {id(p): image for group, images in render_batches(net, pictures, device) for p, image in zip(group, images)}
    return [made[id(p)] for p in pictures]


def render_batches(net, pictures, device="cpu"):
    """(pictures, their images) for each batched dream, in order: the one place that dreams the pictures. Pictures
    next to each other whose recipes differ only in their own fields (OWN) go in one batch of up to BATCH; a
    diverse variant goes with the rest of its batch (its recipe's "batch") among the pictures given."""
    pictures, i, most = list(pictures), 0, {}
    while i < len(pictures):
        key = _batch_key(pictures[i].recipe)
        group, layer = [pictures[i]], pictures[i].layer
        if layer not in most:
            most[layer] = at_once(net, layer)
        while i + len(group) < len(pictures) and _batch_key(pictures[i + len(group)].recipe) == key and (
                "batch" in pictures[i].recipe or len(group) < most[layer]):
            group.append(pictures[i + len(group)])
        i += len(group)
        yield group, _dream_group(net, group, device)


def _batch_key(recipe):
    batch = recipe.get("batch")
    shared = {k: v for k, v in recipe.items() if k not in OWN}
    return json.dumps([shared, batch and {k: v for k, v in batch.items() if k != "index"}], sort_keys=True)


def _dream_group(net, group, device):
    first = group[0].recipe
    kwargs = dream_kwargs(first)
    settings = settings_of(kwargs)
    if first.get("batch") is not None:  # the variants' whole batch, the ones asked for kept
        batch = first["batch"]
        images = dream_batch(net, PerPicture.from_data(batch["objective_data"]), kwargs["seed"],
                             batch["noise_seeds"], settings, device, progress=False)
        return [images[p.recipe["batch"]["index"]] for p in group]
    objective = PerPicture([from_data(p.recipe["objective_data"]) for p in group])
    return dream_batch(net, objective, kwargs["seed"], [p.recipe.get("noise_seed") for p in group], settings,
                       device, progress=False)


def _picture_kwargs(picture):
    """A Dask worker's dream() arguments for the picture: its recipe's (a diverse variant: the recipe itself, whose
    batch the worker dreams again for it)."""
    if picture.recipe.get("batch") is not None:
        return {"recipe": picture.recipe}
    kwargs = dream_kwargs(picture.recipe)
    del kwargs["model"]  # the caller's Net, or the worker's own
    return kwargs


def render_all(net, model, pictures, device="cpu", workers=None, scheduler=None, progress=True):
    """Render and save the pictures not already on disk with their recipe; returns (written, skipped, failed).

    Where: a Dask cluster (`scheduler`, or a local one of `workers` processes) as `minidream batch` runs, or
    this process for workers=0; by default this process, in batches of BATCH whose pictures walk a part per core
    (minidream.engine.speed.picture_parts), unless the machine has more cores than a batch has pictures, Dask is
    installed, there are more than SMALL_JOB pictures and they render on the CPU: then a local cluster of one worker
    per core (the two measured against each other: docs/speed.md). On the GPU the default stays in this process: a worker per core would be as many processes
    sharing the one card, each with its own CUDA context and copy of the model.
    failed: (picture, error) pairs from the workers.
    """
    todo = [p for p in pictures if not is_done(p.path, p.recipe)]
    skipped = len(pictures) - len(todo)
    for folder in sorted({os.path.dirname(p.path) for p in todo}):
        os.makedirs(folder, exist_ok=True)
    if _on_dask(workers, scheduler, len(todo), device):
        # No source: the worker's dream(None, ...) starts from noise, of the recipe's size.
        tasks = [Task(f"{p.layer} channel {p.channel}", None, p.path, p.recipe, _picture_kwargs(p)) for p in todo]
        report = run(tasks, model, {"device": device}, scheduler=scheduler, workers=workers, progress=progress)
        return len(report.written), skipped, report.failed
    # Channel pictures first, so that a layer's channels batch together; a channel's variants after them.
    order = sorted(todo, key=lambda p: p.variant > 0)
    with tqdm(total=len(todo), desc="microscope", unit="picture", disable=not progress) as bar:
        for group, images in render_batches(net, order, device):
            for picture, image in zip(group, images):
                save_image(image, picture.path, picture.recipe)
                bar.update()
    return len(todo), skipped, []


def _on_dask(workers, scheduler, count, device="cpu"):
    if scheduler is not None or (workers or 0) >= 1:
        return True
    if workers == 0 or device != "cpu" or count <= SMALL_JOB or importlib.util.find_spec("distributed") is None:
        return False
    return cores() > BATCH
