"""The dream's settings in one place: each option's default, the values it accepts, its help and its flag.

DreamSettings holds what a dream does besides its model, input, objective and seed (recipes record those on their
own). A field's name is dream()'s keyword argument and the recipe's key alike, as in every recipe written so far;
its metadata holds

    kind    the values it takes (a Kind): dream() and the command line check them with the same call, so a bad
            value gets the same one-line message from both, "expected a number > 0, got -1.0"
    flag    the command-line flag (None: no such option; dream and atlas read --size N|WxH and resolve it per image)
    help    what the option does, as the command line's --help says it (which adds the default; a switch's help
            says what its flag does)
    metavar the command line's name for the value, where the flag's own would mislead

dream(), the octave loop, the step, the Fourier path, zoom, recipes and the command line read them from here.
Defaults of None mean "decided by the dream" (tile_size: AUTO_TILE; size: the input's own).
"""
from __future__ import annotations

import dataclasses
import numbers
from typing import Callable

PARAMS = ("pixel", "fft")
TRANSFORMS = ("shift", "warp")
AUTO_TILE = 1024  # tile_size=None: windows up to this many pixels a side run whole; larger images in tiles
# The defaults of the jobs made of dreams, read by their functions and by the CLI (which must not import them to
# build its parser): zoom's frames, zoom per frame and GIF rate; a sheet's cell size; video's temporal coherence.
ZOOM_FRAMES, ZOOM_SCALE, ZOOM_FPS = 30, 0.05, 10
CELL_SIZE = 256
VIDEO_BLEND, VIDEO_STEPS_PER_FRAME, VIDEO_FLOW = 0.8, 3, "dis"


@dataclasses.dataclass(frozen=True)
class Kind:
    """The values an option takes: `accepts(value)`, said in words (`wanted`); `convert` reads command-line text."""

    wanted: str
    accepts: Callable
    convert: Callable = str

    def check(self, value, name=None):
        """value, when accepted; else ValueError "name: expected WANTED, got VALUE"."""
        if not self.accepts(value):
            raise ValueError(f"{name + ': ' if name else ''}expected {self.wanted}, got {value!r}")
        return value

    def parse(self, text):
        """The value of command-line text, checked as check() does (text that does not convert: the same form)."""
        try:
            value = self.convert(text)
        except ValueError:
            raise ValueError(f"expected {self.wanted}, got {text!r}") from None
        return self.check(value)


def _whole(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _step_counts(text):
    """'10' -> 10; '5,10,20' -> [5, 10, 20]."""
    counts = [int(v) for v in str(text).split(",")]
    return counts[0] if len(counts) == 1 else counts


def _steps_ok(v):
    counts = [v] if _whole(v) else list(v) if isinstance(v, (list, tuple)) else []
    return bool(counts) and all(_whole(c) and c >= 0 for c in counts)


AT_LEAST_ONE = Kind("a whole number >= 1", lambda v: _whole(v) and v >= 1, int)
WHOLE = Kind("a whole number >= 0", lambda v: _whole(v) and v >= 0, int)
POSITIVE = Kind("a number > 0", lambda v: _number(v) and v > 0, float)
NON_NEGATIVE = Kind("a number >= 0", lambda v: _number(v) and v >= 0, float)
ABOVE_ONE = Kind("a number > 1", lambda v: _number(v) and v > 1, float)
BELOW_ONE = Kind("a number in [0, 1)", lambda v: _number(v) and 0 <= v < 1, float)
UNIT = Kind("a number in [0, 1]", lambda v: _number(v) and 0 <= v <= 1, float)
STEPS = Kind("a whole number of steps >= 0 such as 10, or one per octave, smallest first, such as 5,10,20",
             _steps_ok, _step_counts)
PARAM = Kind(" or ".join(PARAMS), lambda v: v in PARAMS)
TRANSFORM = Kind(" or ".join(TRANSFORMS), lambda v: v in TRANSFORMS)
SWITCH = Kind("True or False", lambda v: v in (True, False))
SIZE = Kind("(width, height) in pixels, each a whole number >= 1",
            lambda v: isinstance(v, (list, tuple)) and len(v) == 2 and all(AT_LEAST_ONE.accepts(s) for s in v))


def option(default, kind, help, flag, metavar=None):
    """A DreamSettings field (see the module doc)."""
    return dataclasses.field(default=default, metadata=dict(kind=kind, help=help, flag=flag, metavar=metavar))


@dataclasses.dataclass(frozen=True)
class DreamSettings:
    """A dream's settings, checked when made (ValueError naming the setting, what it takes and what it got)."""

    octaves: int = option(4, AT_LEAST_ONE, "number of scales, smallest first; fewer are used (with a note) where the "
                                           "small ones would be below the layer's minimum input size", "--octaves")
    octave_scale: float = option(1.4, ABOVE_ONE, "size ratio between octaves", "--octave-scale")
    steps: int | list = option(10, STEPS, "gradient steps per octave, or one number per octave, smallest first",
                               "--steps", "N[,N...]")
    step_size: float = option(1.5, POSITIVE, "step length, in units of the mean gradient magnitude", "--step-size")
    jitter: int = option(32, WHOLE, "maximum random shift per step in pixels; the image is seen inside mirrored "
                                    "context, so its edges stay seam-free", "--jitter")
    # Zero padding deeper than 64 input pixels from the edge is diluted by many layers; the default stops there so
    # GoogLeNet's deep layers (receptive radius ~150 px) do not triple the work of small octaves.
    margin: int = option(64, WHOLE, "the most mirrored context kept around the image, in pixels (never more than "
                                    "the objective's layers see: their receptive radius); less is faster, more "
                                    "guides the edges", "--margin", "PIXELS")
    clip: bool = option(True, SWITCH, "let pixel values leave 0..255 between steps", "--no-clip")
    tile_size: int | None = option(None, AT_LEAST_ONE, "compute gradients in windows of at most this many pixels "
                                                       "a side (each tile plus its context), bounding memory "
                                                       f"(default: {AUTO_TILE})", "--tile-size", "PIXELS")
    blur: float = option(0.0, NON_NEGATIVE, "Gaussian blur of each update, sigma in pixels; 0 = none", "--blur")
    decay: float = option(0.0, BELOW_ONE, "pull toward the mean colour each step, x <- (1 - decay) x "
                                          "(e.g. 0.01); 0 = none", "--decay")
    lapnorm: int = option(0, WHOLE, "normalize each update over N Laplacian pyramid levels (e.g. 4); 0 = off",
                          "--lapnorm", "N")
    param: str = option("pixel", PARAM, "pixel: ascent on pixels in octaves; fft: on a decorrelated-colour Fourier "
                                        "image with random scale/rotation, all steps at full size (best from noise, "
                                        "--class)", "--param", "|".join(PARAMS))
    transforms: str | None = option(None, TRANSFORM, "what each step sees the image through: shift (the random "
                                                     "--jitter shift inside mirrored context) or warp (a random scale "
                                                     "in 0.9..1.1 and rotation in -10..10 degrees, then the shift) "
                                                     "(default: warp for --param fft, shift for pixel)",
                                    "--transforms", "|".join(TRANSFORMS))
    tv: float = option(0.0, NON_NEGATIVE, "total-variation penalty weight, smooths the result (e.g. 0.05); 0 = none",
                       "--tv")
    keep_colors: bool = option(False, SWITCH, "keep the input's colours, take the dream's luminance", "--keep-colors")
    size: tuple | None = option(None, SIZE, "the noise size when there is no input, else the input is resized to it",
                                None)

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not (value is None and field.default is None):
                field.metadata["kind"].check(value, field.name)
        self.steps_per_octave()

    def warps(self):
        """Whether each step sees the image warped (transforms; None: for param fft only)."""
        return (self.transforms or ("warp" if self.param == "fft" else "shift")) == "warp"

    def steps_per_octave(self):
        """[steps for each octave, smallest first]: steps as it is when a list, else one per octave."""
        if _whole(self.steps):
            return [int(self.steps)] * int(self.octaves)
        counts = [int(v) for v in self.steps]
        if len(counts) != int(self.octaves):
            raise ValueError(f"steps has {len(counts)} entries for {self.octaves} octaves: give one per octave, "
                             "smallest first, or a single number")
        return counts


DEFAULT = DreamSettings()
FIELDS = dataclasses.fields(DreamSettings)
NAMES = tuple(field.name for field in FIELDS)


def settings_of(kwargs):
    """The DreamSettings among dream() keyword arguments (the others ignored; the ones not given: defaults)."""
    return DreamSettings(**{name: kwargs[name] for name in NAMES if name in kwargs})
