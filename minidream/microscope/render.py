"""The microscope's pictures: a dream from noise per channel, and per diverse variant, each saved with its recipe.

A picture's recipe is the dream's own (minidream.dreaming.recipes), so `minidream dream --from SITE/conv5/3.png`
makes it again. It is made before any rendering, so a rerun skips the pictures whose file already holds it
(minidream.jobs.cluster.is_done), and the picture is rendered from it (recipes.dream_kwargs): what is rendered
is what the recipe says, in this process or on a Dask worker.
"""
import dataclasses
import importlib.util
import itertools
import os

from tqdm.auto import tqdm

from minidream.dreaming.deepdream import dream
from minidream.dreaming.jitter import min_input_side
from minidream.dreaming.objectives import Channel
from minidream.dreaming.recipes import dream_kwargs, make_recipe
from minidream.dreaming.settings import DreamSettings
from minidream.io.images import save_image
from minidream.jobs.cluster import Task, is_done, run
from minidream.microscope.plan import DIVERSITY, PARAM, STEP_SIZE, STEPS

SMALL_JOB = 8  # pictures to render; so few render in this process, as a local cluster takes longer to start


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

    Variant v of a channel is the same objective from seed + v: minidream has no diversity objective yet, and
    the channel page says so.
    """
    settings = dataclasses.asdict(DreamSettings(size=(size, size), octaves=1, steps=steps, step_size=step_size,
                                                param=PARAM))
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
        for channel in plan.channels:
            bound = Channel(plan.name, channel).bind(net)
            for variant in range(diversity + 1):
                recipe = dict(template, layer=plan.name, objective=repr(bound),
                              objective_data=bound.to_data(), seed=seed + variant)
                path = os.path.join(site, plan.slug, picture_file(channel, variant))
                pictures.append(Picture(plan.name, channel, variant, path, recipe))
    return pictures


def render(net, pictures, device="cpu"):
    """The pictures' images (PIL, each carrying its recipe), in order, each dreamed from noise as its recipe
    says. The one place that dreams them: a batch of channels becomes one dream() call here once dream()
    takes batches."""
    return [dream(None, model=net, device=device, progress=False, **_picture_kwargs(p)) for p in pictures]


def _picture_kwargs(picture):
    kwargs = dream_kwargs(picture.recipe)
    del kwargs["model"]  # the caller's Net, or the worker's own
    return kwargs


def render_all(net, model, pictures, device="cpu", workers=None, scheduler=None, progress=True):
    """Render and save the pictures not already on disk with their recipe; returns (written, skipped, failed).

    Where: a Dask cluster (`scheduler`, or a local one of `workers` processes) as `minidream batch` runs, or
    this process for workers=0; by default a local cluster of one worker per core, except for SMALL_JOB
    pictures or fewer, one core, or no Dask installed. failed: (picture, error) pairs from the workers.
    """
    todo = [p for p in pictures if not is_done(p.path, p.recipe)]
    skipped = len(pictures) - len(todo)
    for folder in sorted({os.path.dirname(p.path) for p in todo}):
        os.makedirs(folder, exist_ok=True)
    if _on_dask(workers, scheduler, len(todo)):
        # No source: the worker's dream(None, ...) starts from noise, of the recipe's size.
        tasks = [Task(f"{p.layer} channel {p.channel}", None, p.path, p.recipe, _picture_kwargs(p)) for p in todo]
        report = run(tasks, model, {"device": device}, scheduler=scheduler, workers=workers, progress=progress)
        return len(report.written), skipped, report.failed
    with tqdm(total=len(todo), desc="microscope", unit="picture", disable=not progress) as bar:
        # A channel's picture and its variants go together: the batch a diversity objective will dream at once.
        for _, group in itertools.groupby(todo, key=lambda p: (p.layer, p.channel)):
            group = list(group)
            for picture, image in zip(group, render(net, group, device)):
                save_image(image, picture.path, picture.recipe)
                bar.update()
    return len(todo), skipped, []


def _on_dask(workers, scheduler, count):
    if scheduler is not None or (workers or 0) >= 1:
        return True
    if workers == 0 or count <= SMALL_JOB or importlib.util.find_spec("distributed") is None:
        return False
    return len(os.sched_getaffinity(0)) > 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) > 1
