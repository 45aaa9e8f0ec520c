"""Images in and out: any PIL mode to RGB uint8, network input space, metadata, atomic saves.

Network input space is what Caffe models were trained on: channels in the model's order
(BGR for the Caffe zoo), the per-channel mean subtracted, then Caffe's data-layer scale
(transform_param.scale, recorded as meta["extra"]["input_scale"]; 1 for the BVLC nets,
1/256 for LeNet-style nets trained on 0..1 pixels):

    x[0, c, i, j] = (pixel[i, j, order[c]] - mean[c]) * scale        x: (1, 3, H, W) float32
"""
import glob
import json
import os
import stat
import struct

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from minidream.engine.backend import as_numpy
from minidream.errors import ImageError, NonFiniteError
from minidream.io import limits
from minidream.io.files import atomic_write, check_writable

METADATA_KEY = "minidream"
# What counts as an image file in a folder: the dream's, the batch's, a video's frames and a training set's.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ppm")
SAVE_FORMATS = ("PNG", "JPEG", "GIF")  # the formats whose metadata save_image writes


def load_rgb(image):
    """(RGB uint8 array (H, W, 3), kind) from a path, a PIL image or an array.

    kind is "pil" for paths and PIL images, "array" for arrays, so results can be handed
    back in the form they came in (see `as_kind`). Arrays must be uint8, (H, W), (H, W, 3)
    or (H, W, 4); alpha is composited onto white.
    """
    if isinstance(image, (str, os.PathLike)):
        return pil_to_rgb(open_image(image), os.fspath(image)), "pil"
    if isinstance(image, Image.Image):
        return pil_to_rgb(image), "pil"
    if isinstance(image, np.ndarray):
        return array_to_rgb(image), "array"
    raise TypeError(
        f"image must be a path, a PIL.Image or a uint8 numpy array, not {type(image).__name__}"
    )


# What a path that is not a regular file is, by stat's file type.
_NOT_A_FILE = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a character device",
               stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


def check_image_file(path):
    """Raise unless path (symlinks followed) is a regular file: FileNotFoundError when nothing is there, ImageError
    naming what it is otherwise. Checked from stat, before any open: opening a FIFO waits for a writer forever,
    and a device such as /dev/zero never ends."""
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"image not found: {path}") from None
    if stat.S_ISREG(mode):
        return
    what = _NOT_A_FILE.get(stat.S_IFMT(mode), "not a regular file")
    link = f" (a link to {os.path.realpath(path)})" if os.path.islink(path) else ""
    raise ImageError(f"{path}{link} is {what}, not an image file: give the path of an image file (PNG, JPEG, ...)")


def image_files(folder):
    """The image files of a folder (IMAGE_EXTENSIONS, hidden files left out), sorted by name."""
    return [os.path.join(folder, n) for n in sorted(os.listdir(folder))
            if os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS and not n.startswith(".")]


def image_paths(items):
    """Image paths from files, folders (their image files) and glob patterns, in the order given, each once.

    A folder without images and a pattern that matches nothing are errors; so is a path that is not a regular file
    (check_image_file), said here, before any work."""
    paths = []
    for item in [items] if isinstance(items, (str, os.PathLike)) else items:
        item = os.fspath(item)
        if os.path.isdir(item):
            found = image_files(item)
            if not found:
                raise ValueError(f"folder {item} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        elif glob.has_magic(item) and not os.path.lexists(item):
            found = sorted(m for m in glob.glob(item, recursive=True) if os.path.isfile(m))
            if not found:
                raise FileNotFoundError(f"no file matches the pattern {item!r}")
        else:
            check_image_file(item)
            found = [item]
        paths += found
    return list(dict.fromkeys(paths))


def open_image(path, max_pixels=None):
    """Open an image file fully (the file is closed afterwards), with a clear error.

    The pixel count is checked from the header before anything is decoded (minidream.io.limits.check_pixels:
    max_pixels, default $MINIDREAM_MAX_PIXELS or 50 megapixels). FileNotFoundError when nothing is there,
    ImageError for anything unreadable, a folder, a FIFO or a device included (check_image_file)."""
    path = os.fspath(path)
    check_image_file(path)
    limit = limits.max_pixels() if max_pixels is None else int(max_pixels)
    Image.MAX_IMAGE_PIXELS = max(limit, Image.MAX_IMAGE_PIXELS or 0)  # our ceiling decides, not Pillow's
    try:
        with Image.open(path) as img:
            problem = limits.check_pixels(*img.size, path, limit)
            if problem:
                raise ImageError(problem)
            img.load()
            return img
    except UnidentifiedImageError:
        raise ImageError(f"{path} is not an image Pillow can read (PNG, JPEG, GIF, TIFF, ...)") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, Image.DecompressionBombError) as exc:
        if isinstance(exc, (ImageError, FileNotFoundError, PermissionError)):
            raise
        raise ImageError(f"{path} cannot be decoded ({' '.join(str(exc).split()) or type(exc).__name__}); "
                         "it is damaged or truncated: use another copy") from None


def pil_to_rgb(img, name="the image"):
    """RGB uint8 (H, W, 3) from a PIL image in any mode, EXIF orientation applied.

    Alpha (RGBA, LA, P with transparency) is composited onto white, 16- and 32-bit integer
    grayscale is scaled from 0..65535 to 0..255 (Pillow's own convert would clip it), and
    float images are clipped to 0..255; a float image holding NaN or infinity is an ImageError
    naming `name` (no value of 0..255 stands for them).
    """
    img = ImageOps.exif_transpose(img)
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode.startswith("I") or img.mode == "F":
        a = np.asarray(img, dtype=np.float64)
        bad = np.count_nonzero(~np.isfinite(a))
        if bad:
            raise ImageError(f"{name} holds {bad} NaN or infinite pixel values (a float image); minidream reads "
                             "finite values, clipped to 0..255: replace them (numpy.nan_to_num) and save it again")
        if img.mode != "F" and a.max(initial=0) > 255:
            a = a / 257.0  # 65535 -> 255
        return array_to_rgb(np.clip(np.rint(a), 0, 255).astype(np.uint8))
    if "A" in img.mode:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.array(img.convert("RGB"), dtype=np.uint8)


def array_to_rgb(a):
    """RGB uint8 (H, W, 3) from a uint8 array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)."""
    if a.dtype != np.uint8:
        raise ValueError(
            f"image arrays must be uint8 with values 0..255, got {a.dtype}; "
            "convert with np.clip(a, 0, 255).astype(np.uint8)"
        )
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ValueError(f"image arrays must be (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    if a.shape[2] == 1:
        return np.repeat(a, 3, axis=2)
    if a.shape[2] == 4:
        alpha = a[:, :, 3:].astype(np.float32) / 255.0
        rgb = a[:, :, :3] * alpha + 255.0 * (1.0 - alpha)
        return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def as_kind(rgb, kind):
    """rgb uint8 (H, W, 3) as a PIL image (kind "pil") or as the array itself ("array")."""
    if kind == "array":
        return rgb
    return Image.fromarray(rgb, "RGB")


def _channel_order(meta):
    order = str(meta.get("channel_order", "BGR")).upper()
    if order not in ("BGR", "RGB"):
        raise ValueError(f"unsupported channel_order {order!r} in model metadata (BGR or RGB)")
    return order


def input_scale(meta):
    """The factor after the mean, one per input channel in the network's order (meta["extra"]["input_scale"]):
    Caffe's data-layer scale, one number for every channel (1 for the BVLC nets), or torchvision's 1 / (255 std)
    per channel; default 1."""
    scale = np.asarray((meta.get("extra") or {}).get("input_scale", 1.0), np.float32)
    return np.broadcast_to(scale, (int(meta.get("input_channels", 3)),)).copy()


# ITU-R BT.601 luma, what PIL's convert("L") uses: a 1-channel net (LeNet) sees an image's luminance.
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def input_mean(meta):
    """The per-channel mean in the network's channel order (meta["mean_bgr"], one value per input channel)."""
    return np.asarray(meta.get("mean_bgr", (0.0,) * int(meta.get("input_channels", 3))), np.float32)


def to_network(rgb, meta):
    """(1, C, H, W) float32 network input from an RGB (H, W, 3) image (uint8 or float); C = 1: luminance."""
    a = np.asarray(rgb, dtype=np.float32)
    if int(meta.get("input_channels", 3)) == 1:
        a = (a @ LUMA)[:, :, None]
    elif _channel_order(meta) == "BGR":
        a = a[:, :, ::-1]
    x = (a.transpose(2, 0, 1) - input_mean(meta)[:, None, None]) * input_scale(meta)[:, None, None]
    return np.ascontiguousarray(x[None])


def from_network(x, meta):
    """RGB uint8 (H, W, 3) from a network input (1, C, H, W) or (C, H, W); rounds and clips; C = 1: grey."""
    a = as_numpy(x).reshape(-1, x.shape[-2], x.shape[-1]) / input_scale(meta)[:, None, None]
    a = (a + input_mean(meta)[:, None, None]).transpose(1, 2, 0)
    if not np.isfinite(a).all():  # casting NaN to uint8 gives black or garbage: never write that as a result
        raise NonFiniteError(f"the image holds {np.count_nonzero(~np.isfinite(a))} non-finite values (NaN or "
                             "infinity): the model's weights or the dream's settings make the numbers overflow")
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif _channel_order(meta) == "BGR":
        a = a[:, :, ::-1]
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def save_image(image, path, params=None):
    """Write an image atomically (temp file beside it, then rename), with its parameters.

    image: PIL image or uint8 array. params (a JSON-able dict, e.g. the dream's recipe; default: the recipe
    a PIL image from dream() carries) go into PNG text chunks, one per key plus the whole dict as JSON under
    "minidream", or into the JPEG or GIF comment as JSON. The format follows the extension.
    """
    path = os.fspath(path)
    if isinstance(image, Image.Image):
        if params is None:
            params = json.loads(image.info.get(METADATA_KEY, "null"))
        img = image.copy()  # no encoderinfo of its own (attach_params): the params given here win
    else:
        img = Image.fromarray(array_to_rgb(image), "RGB")
    fmt = output_format(path)
    kwargs = _encoder_params(params, fmt)
    if fmt == "JPEG":
        kwargs["quality"] = 95
        img = img.convert("RGB")
    atomic_write(path, lambda f: img.save(f, format=fmt, **kwargs))


def _encoder_params(params, fmt=None):
    """Pillow save() keywords carrying params: pnginfo (PNG text) and comment (JPEG, GIF); {} for none."""
    if not params:
        return {}
    text = json.dumps(params, sort_keys=True)
    kwargs = {}
    if fmt in (None, "PNG"):
        info = PngImagePlugin.PngInfo()
        info.add_text(METADATA_KEY, text)
        for key, value in sorted(params.items()):
            info.add_text(key, value if isinstance(value, str) else json.dumps(value))
        kwargs["pnginfo"] = info
    if fmt in (None, "JPEG", "GIF"):
        kwargs["comment"] = text
    return kwargs


def attach_params(img, params):
    """img (PIL) carrying params: in img.info["minidream"], and written by a plain img.save() (Pillow keeps
    an image's own encoderinfo: PNG text, JPEG/GIF comment)."""
    img.info[METADATA_KEY] = json.dumps(params, sort_keys=True)
    img.encoderinfo = _encoder_params(params)
    return img


def output_format(path):
    """Pillow's format name for an output path, from its extension; checks the folder is writable.

    Cheap, so callers can reject a bad output path before any long computation.
    """
    path = os.fspath(path)
    fmt = Image.registered_extensions().get(os.path.splitext(path)[1].lower())
    if fmt is None or fmt not in SAVE_FORMATS:
        raise ValueError(f"minidream writes .png, .jpg and .gif images, not {path!r} (the extension picks the "
                         "format); for a zoom, give a .gif or a folder")
    check_writable(path)  # folder exists and is writable, the file is not read-only
    return fmt


def read_params(path):
    """The parameters `save_image` stored in a PNG, JPEG or GIF, as a dict ({} when none)."""
    img = open_image(path)
    text = img.info.get(METADATA_KEY)
    if text is None and "comment" in img.info:
        text = img.info["comment"]
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    try:
        return json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}


def write_gif(frames, path, fps=10, params=None):
    """Write PIL frames as a looping animated GIF, atomically; params (JSON-able) go into its comment."""
    frames = list(frames)
    if not frames:
        raise ValueError("no frames to write")
    if os.path.splitext(os.fspath(path))[1].lower() != ".gif":
        raise ValueError(f"GIF path must end in .gif, got {path!r}")
    duration = int(round(1000 / fps))
    extra = {"comment": json.dumps(params, sort_keys=True)} if params else {}
    atomic_write(os.fspath(path), lambda f: frames[0].save(
        f, format="GIF", save_all=True, append_images=frames[1:], duration=duration, loop=0, **extra))
