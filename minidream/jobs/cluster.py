"""The Dask machinery of batches and --no-flow videos: one task per image, the model loaded once per worker.

The client reads each input file and ships its bytes (or a frame's array) to a worker;
the worker decodes it, dreams with its cached Net (the model goes over the wire as a name
or path, never as a pickled Net) and sends the RGB result back; the client writes it
atomically with its recipe. So workers need minidream and the model, but no shared
filesystem, and a worker that dies mid-task leaves nothing behind: Dask runs the task
again elsewhere and the client writes the result once. An output that already holds the
same recipe is skipped, so an interrupted job resumes where it stopped. A task that
fails (a corrupt image) is reported with its error; the others go on.
"""
import contextlib
import dataclasses
import io
import json
import os

import numpy as np

from minidream.io.images import read_params, save_image

# Worker processes compute one image each with one BLAS thread: processes, not threads, scale a NumPy engine.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
WAIT_FOR_WORKERS = 60  # seconds an existing scheduler may take to have a worker
_NETS = {}  # in each worker: (model, device) -> Net, loaded by the first task that needs it


@dataclasses.dataclass
class Task:
    name: str  # what the report calls it: the input path, or "frame 12"
    source: object  # an image path (read by the client), or an RGB uint8 array
    output: str
    params: dict  # the recipe stored in the output; an output holding the same one is skipped
    dream_kwargs: dict = dataclasses.field(default_factory=dict)  # this task's own settings (a frame's seed)


@dataclasses.dataclass
class Report:
    written: list = dataclasses.field(default_factory=list)  # output paths
    skipped: list = dataclasses.field(default_factory=list)  # output paths already done
    failed: list = dataclasses.field(default_factory=list)  # (name, error message)

    def summary(self):
        return f"{len(self.written)} written, {len(self.skipped)} already done, {len(self.failed)} failed"


def run(tasks, model, dream_kwargs, scheduler=None, workers=None, progress=True, total=None, unit="image"):
    """Dream an iterable of Tasks on a Dask cluster (see batch); returns a Report.

    Tasks are taken from the iterable only as workers free up, so a long video's frames
    are never all in memory; total (default len(tasks)) sizes the progress bar.
    """
    from tqdm.auto import tqdm

    report = Report()
    total = len(tasks) if total is None and hasattr(tasks, "__len__") else total
    with tqdm(total=total, desc="batch" if unit == "image" else "video", unit=unit, disable=not progress) as bar:
        with _client(scheduler, workers) as client:
            _submit_all(client, iter(tasks), os.fspath(model), dream_kwargs, report, bar)
    return report


def is_done(path, params):
    """Whether `path` exists and holds exactly this recipe (read back through JSON, as stored)."""
    if not os.path.exists(path):
        return False
    try:
        return read_params(path) == json.loads(json.dumps(params, sort_keys=True))
    except (OSError, ValueError):
        return False  # a file we cannot read is redone


def _submit_all(client, pending, model, dream_kwargs, report, bar):
    """Keep a bounded number of tasks in flight (inputs are read only as they are sent); skip finished ones."""
    from distributed import as_completed

    window = 2 * max(1, sum(client.nthreads().values()))
    futures = as_completed()
    owner = {}

    def send():
        for task in pending:
            if is_done(task.output, task.params):
                report.skipped.append(task.output)
                bar.update()
                continue
            try:
                source = _read(task.source)
            except OSError as exc:
                report.failed.append((task.name, str(exc)))
                bar.update()
                continue
            future = client.submit(dream_task, source, model, dict(dream_kwargs, **task.dream_kwargs), pure=False)
            owner[future.key] = task
            futures.add(future)
            return

    for _ in range(window):
        send()
    for future in futures:
        task = owner.pop(future.key)
        try:
            rgb, error = future.result()
            if error is None:
                save_image(rgb, task.output, task.params)
                report.written.append(task.output)
        except Exception as exc:  # Dask gave up on the task (its workers kept dying), or the save failed
            error = " ".join(str(exc).split()) or type(exc).__name__
        if error is not None:
            report.failed.append((task.name, error))
        future.release()
        bar.update()
        send()


def _read(source):
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            return f.read()
    return source


def dream_task(source, model, dream_kwargs):
    """On a worker: (RGB result, None) for one image (file bytes or RGB array), or (None, error message).

    The worker's Net is cached per (model, device). Errors come back as values, so a bad
    image is not logged as a crash by every worker; a worker that dies is Dask's business.
    """
    from minidream.dreaming.atlas import atlas
    from minidream.dreaming.deepdream import dream
    from minidream.models.loading import load_model

    try:
        device = dream_kwargs.get("device", "cpu")
        if (model, device) not in _NETS:
            _NETS[(model, device)] = load_model(model, device=device)
        rgb = _decode(source) if isinstance(source, bytes) else source
        kwargs = dict(dream_kwargs, progress=False)
        layers = kwargs.pop("atlas", None)
        if layers is not None:  # a sheet of the image dreamed at each layer (minidream.dreaming.atlas)
            kwargs.pop("objective", None)
            return np.asarray(atlas(rgb, _NETS[(model, device)], layers, **kwargs).convert("RGB")), None
        return dream(rgb, model=_NETS[(model, device)], **kwargs), None
    except Exception as exc:
        return None, " ".join(str(exc).split()) or type(exc).__name__


def _decode(data):
    from PIL import Image, UnidentifiedImageError

    from minidream.io.images import pil_to_rgb

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return pil_to_rgb(img)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        detail = "" if isinstance(exc, UnidentifiedImageError) else f" ({exc})"
        raise ValueError(f"not an image Pillow can read (PNG, JPEG, GIF, TIFF, ...){detail}") from None


@contextlib.contextmanager
def _client(scheduler, workers):
    """A dask.distributed Client on the given scheduler, or on a new LocalCluster closed afterwards."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("batches run on Dask: pip install 'minidream[dask]' (or 'dask[distributed]')") from None
    if scheduler is not None:
        if workers is not None:
            raise ValueError("workers sizes a local cluster; a scheduler's cluster has the workers it has")
        with Client(scheduler, timeout=30) as client:
            try:
                client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
            except TimeoutError:
                raise RuntimeError(f"no worker joined {scheduler} within {WAIT_FOR_WORKERS} s: start some with "
                                   f"`dask worker {scheduler}`") from None
            yield client
        return
    n = int(workers) if workers is not None else cores()
    if n < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, env=WORKER_ENV) as cluster, Client(cluster) as client:
        yield client


def cores():
    """How many CPUs this process may use (its affinity where the OS says, else the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
