"""Bounds checked before anything is allocated, and the finite-numbers rule.

Model files (converted .caffemodel, .h5): the declared input is at most MAX_INPUT_SIDE pixels a side and
MAX_CHANNELS channels, every blob of the graph at the nominal input has at most MAX_BLOB_ELEMENTS values, layer
and blob names are at most MAX_NAME_LENGTH characters with no NUL, and every weight, mean and float parameter is
finite with magnitude at most MAX_ABS_VALUE (real weights are below 1e4; 1e38 overflows the first product).

Images: at most MAX_PIXELS pixels (default 50 megapixels, e.g. 8660x5773; a 48-megapixel
phone photo passes), checked from the header before
decoding; raise it with MINIDREAM_MAX_PIXELS or `--max-pixels`. A dream estimates its peak memory from the
octave and tile sizes and refuses (TooBigError) when it exceeds the memory available.
"""
import math
import os

import numpy as np

MAX_INPUT_SIDE = 8192
MAX_CHANNELS = 1 << 16
MAX_BLOB_ELEMENTS = 1 << 31  # 8 GiB of float32 for one blob at the model's nominal input
MAX_NAME_LENGTH = 1024
MAX_ABS_VALUE = 1e15
MAX_PIXELS = 50_000_000
MAX_GEOMETRY = 2 * MAX_INPUT_SIDE  # kernel_size, pad, stride (and their _h/_w forms)
MAX_INT_PARAM = 1 << 24  # num_output, group, axis, local_size ...: beyond any real net
GEOMETRY = ("kernel", "pad", "stride")


def max_pixels():
    """The image pixel ceiling: $MINIDREAM_MAX_PIXELS when set, else MAX_PIXELS."""
    text = os.environ.get("MINIDREAM_MAX_PIXELS")
    if not text:
        return MAX_PIXELS
    try:
        return int(float(text))
    except ValueError:
        raise ValueError(f"MINIDREAM_MAX_PIXELS must be a number of pixels, got {text!r}") from None


def check_pixels(width, height, where, limit=None):
    """ValueError text (None when fine) for an image of width x height against the ceiling."""
    limit = max_pixels() if limit is None else int(limit)
    if width * height > limit:
        return (f"{where} is {width}x{height} = {width * height / 1e6:.0f} megapixels, above the "
                f"{limit / 1e6:.0f}-megapixel ceiling; shrink it, or raise the ceiling with --max-pixels "
                f"{width * height} (MINIDREAM_MAX_PIXELS)")
    return None


def name_problem(name):
    """Why a layer or blob name is unusable, or None."""
    if not isinstance(name, str):
        return f"name {name!r} is not a string"
    if "\0" in name:
        return f"name {name!r} contains a NUL byte"
    if len(name) > MAX_NAME_LENGTH:
        return f"name {name[:40]!r}... is {len(name)} characters long (at most {MAX_NAME_LENGTH})"
    return None


def input_problem(size, channels):
    """Why a declared input (H, W) with `channels` channels is out of bounds, or None."""
    h, w = size
    if not (0 < h <= MAX_INPUT_SIDE and 0 < w <= MAX_INPUT_SIDE):
        return f"the declared input {h}x{w} is outside 1..{MAX_INPUT_SIDE} pixels a side"
    if not 0 < channels <= MAX_CHANNELS:
        return f"the input has {channels} channels (1..{MAX_CHANNELS})"
    return None


def shape_problem(graph, size):
    """Why the graph's blobs at input (H, W) are out of bounds (too large, or no output), or None.

    Shape arithmetic only: nothing is allocated."""
    try:
        shapes = graph.shapes(graph.input_shape(size))
    except (ValueError, ArithmeticError, IndexError) as exc:
        return str(exc)
    for slot, shape in shapes.items():
        count = math.prod(shape)
        if count > MAX_BLOB_ELEMENTS or min(shape, default=1) < 0:
            name = graph.slot_name(slot) or graph.input_blob
            return f"layer {name!r} would output {'x'.join(map(str, shape))} values, more than {MAX_BLOB_ELEMENTS:,}"
    return None


def value_problem(array):
    """Why an array of weights is not usable (NaN, infinity, |value| > MAX_ABS_VALUE), or None.

    Works in pieces, so checking a view into a file's bytes allocates a fraction of it."""
    flat = np.asarray(array).reshape(-1)
    for start in range(0, flat.size, 1 << 20):
        piece = flat[start:start + (1 << 20)]
        if not np.isfinite(piece).all():
            bad = piece[~np.isfinite(piece)][0]
            return f"holds {bad} at index {start + int(np.flatnonzero(~np.isfinite(piece))[0])}"
        if piece.size and float(np.abs(piece).max()) > MAX_ABS_VALUE:
            return f"holds {float(np.abs(piece).max()):.3g}, beyond the sane magnitude {MAX_ABS_VALUE:.0e}"
    return None


def spec_problem(spec):
    """(problem, about_a_name) for the first bound a layer spec breaks, or (None, False): an out-of-bounds parameter
    ("parameter ...", about_a_name False) or an unusable layer or blob name (about_a_name True: the message must
    not print that name as the layer's)."""
    problem = params_problem(spec["params"])
    if problem:
        return f"parameter {problem}", False
    for name in [spec["name"], *spec["bottoms"], *spec["tops"]]:
        problem = name_problem(name)
        if problem:
            return problem, True
    return None, False


def params_problem(params):
    """The first out-of-bounds value in a layer's params (nested lists/dicts), as 'field value is ...', or None:
    non-finite floats, geometry (kernel, pad, stride) beyond MAX_GEOMETRY, other integers beyond MAX_INT_PARAM."""
    for key, value in params.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        bound = MAX_GEOMETRY if key.startswith(GEOMETRY) else MAX_INT_PARAM
        for v in values:
            if isinstance(v, dict):
                found = params_problem(v)
                if found:
                    return f"{key}.{found}"
            elif isinstance(v, float) and not math.isfinite(v):
                return f"{key} {v} is not a finite number"
            elif isinstance(v, int) and not isinstance(v, bool) and abs(v) > bound:
                return f"{key} {v} is beyond {bound}"
    return None


def weights_problem(specs, blobs):
    """(layer, text) of the first layer whose params or weight blobs are not finite, or None."""
    for spec in specs:
        found = params_problem(spec.get("params") or {})
        if found:
            return spec["name"], f"parameter {found}"
        for k, blob in enumerate(blobs.get(spec["name"], [])):
            found = value_problem(blob)
            if found:
                return spec["name"], f"weight blob {k} {found}"
    return None


def available_memory():
    """Bytes of memory this process may still use: MemAvailable (Linux), else None (unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
