"""Dreaming a video: each frame starts from the previous frame's dream, carried along the optical flow.

Frame 0 is dreamed with the full `steps`. For every later frame t the previous frame's
dream detail (output - input) is warped onto frame t along the optical flow between the
two input frames, blended in with weight `blend` (none where the flow finds an
occlusion; zero-mean, so no brightness builds up: see minidream.jobs.flow.carry_detail), and
`steps_per_frame` steps dream on from there. The dream then follows the moving scene
instead of flickering. Without flow every frame is dreamed on its own.

Every frame gets its own random stream, SeedSequence(seed, spawn_key=(t,)), so a frame
comes out the same whether it is dreamed in order, alone after a resume, or on a worker.
"""
import os
import shutil
import warnings

import numpy as np

from minidream.dreaming.deepdream import dream
from minidream.dreaming.settings import UNIT, VIDEO_BLEND, VIDEO_FLOW, VIDEO_STEPS_PER_FRAME, WHOLE
from minidream.io.images import as_kind, load_rgb, save_image
from minidream.io.video import kind_of, probe, read_frames, write_video
from minidream.jobs.cluster import Task, is_done, run
from minidream.jobs.flow import carry_detail
from minidream.models.loading import resolve_model


def frame_seed(seed, t):
    """Frame t's seed (None stays None: random)."""
    return None if seed is None else np.random.SeedSequence(seed, spawn_key=(t,))


def video(source, blend=VIDEO_BLEND, steps_per_frame=VIDEO_STEPS_PER_FRAME, flow=VIDEO_FLOW, seed=0, made=None,
          **dream_kwargs):
    """Yield the dreamed frames of a video, one per input frame (see the module doc).

    source: a video file (.mp4, .mkv, .mov, ...; needs PyAV), an animated .gif, a folder
        of frame images (sorted by name), or an iterable of frames (uint8 arrays or PIL
        images). Frames come back as PIL images for paths, else in the kind given.
    blend: weight in [0, 1] of the previous frame's warped detail (0: none carried over).
    steps_per_frame: steps per octave for every frame after the first, which carries
        most of its dream over (the first frame gets dream_kwargs' `steps`).
    flow: optical flow method, "dis" or "farneback"; None dreams every frame on its own.
    made: made(t) -> frame t's output (RGB uint8) when it exists already, else None; such
        frames are not dreamed again (resuming), but still carry their detail over.
    dream_kwargs go to minidream.dream (model, layer or objective, octaves, steps, ...).
    """
    UNIT.check(blend, "blend")
    WHOLE.check(steps_per_frame, "steps_per_frame")
    dream_kwargs["model"] = resolve_model(dream_kwargs.get("model", "auto"), dream_kwargs.get("device", "cpu"))
    kind = "pil" if isinstance(source, (str, os.PathLike)) else None
    previous = None  # (input, output) of frame t - 1
    for t, frame in enumerate(_frames(source)):
        rgb, frame_kind = load_rgb(frame)
        out = made(t) if made is not None else None
        if out is None:
            if flow is None or previous is None:
                out = dream(rgb, seed=frame_seed(seed, t), **dream_kwargs)
            else:
                start, _ = carry_detail(*previous, rgb, blend, flow)
                out = dream(start, seed=frame_seed(seed, t), **dict(dream_kwargs, steps=steps_per_frame))
        previous = (rgb, out)
        yield as_kind(out, kind or frame_kind)


def _frames(source):
    if isinstance(source, (str, os.PathLike)):
        return read_frames(source)
    return source


def render(source, output, recipe, blend=VIDEO_BLEND, steps_per_frame=VIDEO_STEPS_PER_FRAME, flow=VIDEO_FLOW, seed=0,
           fps=None, keep_frames=False, progress=True, scheduler=None, workers=None, **dream_kwargs):
    """Dream a video file, GIF or frame folder into `output` (.mp4 etc., .gif or a folder); resumable.

    Frames are written as PNGs with recipe + {"frame": t} into the output folder, or, for
    a file output, into OUTPUT.frames/ (removed after encoding unless keep_frames); frames
    found there with the same recipe are not dreamed again. flow=None dreams the frames as
    a batch on Dask (scheduler, workers: see minidream.batch); the model must then be a
    name or path. The input's frame rate (fps overrides it for folders) and audio (video
    files to video files only) are kept. Returns the number of frames.
    """
    from tqdm.auto import tqdm

    clip = probe(source, fps)
    out_kind = kind_of(output)
    frames_dir = output if out_kind == "folder" else os.fspath(output) + ".frames"
    os.makedirs(frames_dir, exist_ok=True)
    recipe = dict(recipe, fps=str(clip.fps), blend=blend, steps_per_frame=steps_per_frame, flow=flow or "none")
    frames = _FrameFiles(frames_dir, recipe)
    if flow is None:
        count = _render_independent(source, frames, seed, scheduler, workers, progress, clip, dream_kwargs)
    else:
        count = 0
        with tqdm(total=clip.count, desc="video", unit="frame", disable=not progress) as bar:
            dreamed = video(source, blend, steps_per_frame, flow, seed, frames.made,
                            **dict(dream_kwargs, progress=False))
            for t, frame in enumerate(dreamed):
                if not frames.done(t):
                    save_image(frame, frames.path(t), frames.params(t))
                count += 1
                bar.update()
    if out_kind == "folder":
        if clip.audio:
            warnings.warn("the input's audio is not carried into a folder of frames: write a video file to keep it")
        return count
    if clip.audio and out_kind != "video":
        warnings.warn("the input's audio is not carried into a GIF: write a video file (.mp4) to keep it")
    audio_from = source if clip.audio and out_kind == "video" else None
    write_video((load_rgb(frames.path(t))[0] for t in range(count)), output, clip.fps, audio_from=audio_from)
    if not keep_frames:
        shutil.rmtree(frames_dir)
    return count


class _FrameFiles:
    """Frame t's PNG in the frames folder, and its recipe: recipe + {"frame": t}."""

    def __init__(self, folder, recipe):
        self.folder, self.recipe = folder, recipe

    def path(self, t):
        return os.path.join(self.folder, f"{t:06d}.png")

    def params(self, t):
        return dict(self.recipe, frame=t)

    def done(self, t):
        return is_done(self.path(t), self.params(t))

    def made(self, t):
        return load_rgb(self.path(t))[0] if self.done(t) else None


def _render_independent(source, frames, seed, scheduler, workers, progress, clip, dream_kwargs):
    """flow=None: every frame is one task of a Dask batch; returns the frame count."""
    kwargs = dict(dream_kwargs)
    model = kwargs.pop("model", "auto")
    tasks = (Task(f"frame {t}", rgb, frames.path(t), frames.params(t), {"seed": frame_seed(seed, t)})
             for t, rgb in enumerate(read_frames(source)))
    report = run(tasks, model, kwargs, scheduler=scheduler, workers=workers, progress=progress, total=clip.count,
                 unit="frame")
    if report.failed:
        name, error = report.failed[0]
        raise RuntimeError(f"{len(report.failed)} frames failed, {name} first: {error}")
    return len(report.written) + len(report.skipped)
