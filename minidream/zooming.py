"""The original notebook's endless zoom: dream a frame, zoom into its centre, dream again."""
import os

import numpy as np

from PIL import Image

from minidream.dreaming import dream
from minidream.files import atomic_write
from minidream.imageio import as_kind, load_rgb
from minidream.loading import resolve_model


def zoom(image, frames=30, scale=0.05, gif=None, fps=10, **dream_kwargs):
    """Yield `frames` dreamed frames, each dreamed on the previous one zoomed in by `scale`.

    Frame k is dream(zoom_in(frame k-1)); frame 0 dreams the image itself. zoom_in crops
    the central (1 - scale) of the frame and scales it back up bilinearly, as the notebook's
    affine_transform(frame, [1-s, 1-s, 1], [h*s/2, w*s/2, 0], order=1) did. Frames come in
    the kind the image came in (PIL images for paths). gif: a path to also write all frames
    as a looping GIF at `fps`, once the last frame is made. dream_kwargs go to dream(); the
    model is loaded once, and seed (if any) seeds an independent stream per frame.
    """
    if int(frames) < 1:
        raise ValueError(f"frames must be at least 1, got {frames}")
    if not 0.0 <= scale < 1.0:
        raise ValueError(f"scale must be in [0, 1), got {scale}")
    dream_kwargs["model"] = resolve_model(dream_kwargs.get("model", "auto"), dream_kwargs.get("device", "cpu"))
    seed = dream_kwargs.pop("seed", None)
    seeds = np.random.SeedSequence(seed).spawn(frames) if seed is not None else [None] * frames
    rgb, kind = load_rgb(image)
    made = []
    for i in range(frames):
        rgb = dream(rgb, seed=seeds[i], **dream_kwargs)
        frame = as_kind(rgb, kind)
        if gif is not None:
            made.append(as_kind(rgb, "pil"))
        yield frame
        rgb = zoom_in(rgb, scale)
    if gif is not None:
        write_gif(made, gif, fps)


def zoom_in(rgb, scale):
    """rgb (H, W, 3) uint8 magnified about its centre: the central (1 - scale) part, same size."""
    h, w = rgb.shape[:2]
    box = (w * scale / 2, h * scale / 2, w * (1 - scale / 2), h * (1 - scale / 2))
    return np.asarray(Image.fromarray(rgb).resize((w, h), Image.BILINEAR, box=box))


def write_gif(frames, path, fps=10):
    """Write PIL frames as a looping animated GIF, atomically."""
    frames = list(frames)
    if not frames:
        raise ValueError("no frames to write")
    if os.path.splitext(os.fspath(path))[1].lower() != ".gif":
        raise ValueError(f"GIF path must end in .gif, got {path!r}")
    duration = int(round(1000 / fps))
    atomic_write(os.fspath(path), lambda f: frames[0].save(
        f, format="GIF", save_all=True, append_images=frames[1:], duration=duration, loop=0))
