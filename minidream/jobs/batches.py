"""`minidream batch`: dream many images (files, folders, globs) into a folder, on Dask (minidream.jobs.cluster)."""
import collections
import json
import os

from minidream.io.images import image_paths, output_format
from minidream.jobs.cluster import Task, run


def batch(inputs, output, model="auto", scheduler=None, workers=None, progress=True, ext=".png", recipe=None,
          **dream_kwargs):
    """Dream every image of `inputs` into the folder `output`; returns a Report.

    inputs: paths of images or folders (their images, not recursively) or glob patterns
        ("shots/*.jpg", "data/**/*.png"); output files are OUTPUT/<input stem><ext>.
    model: a model name or a .h5/.caffemodel path the workers can read (each worker loads it once).
    scheduler: "tcp://HOST:PORT" of a running Dask scheduler; None starts a LocalCluster of
        `workers` processes (default: one per core), one thread each.
    recipe: the parameters stored in every output (default: the dream settings); the
        input's file name is added. dream_kwargs go to minidream.dream (layer, objective,
        octaves, steps, seed, ...); the same seed is used for every image.
    """
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError("batch ships the model to its workers by name or path: give model='mini', 'googlenet' "
                        f"or a file, not a {type(model).__name__}")
    os.makedirs(output, exist_ok=True)
    output_format(os.path.join(output, "name" + ext))  # a bad extension fails now, not once per image
    recipe = dict(default_recipe(model, dream_kwargs) if recipe is None else recipe)
    tasks = []
    for path in image_paths(inputs):
        name = os.path.splitext(os.path.basename(path))[0] + ext
        tasks.append(Task(path, path, os.path.join(output, name), dict(recipe, input=os.path.basename(path))))
    clashes = _duplicates([t.output for t in tasks])
    if clashes:
        raise ValueError(f"several inputs would be written to {clashes[0]}: rename them or run separate batches")
    return run(tasks, model, dream_kwargs, scheduler=scheduler, workers=workers, progress=progress)


def default_recipe(model, dream_kwargs):
    """The dream settings as stored (JSON; the objective and anything else not JSON-able as its repr)."""
    settings = {k: v for k, v in dream_kwargs.items() if k != "progress" and v is not None}
    return json.loads(json.dumps(dict(settings, model=os.fspath(model)), default=repr))


def _duplicates(names):
    return [name for name, count in collections.Counter(names).items() if count > 1]
