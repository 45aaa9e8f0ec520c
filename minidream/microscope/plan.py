"""What a microscope run makes, checked before any work: its layers, their channels, the site folder, the images.

Every refusal is one line naming the problem and the fix, raised before a folder is created or a picture is
rendered: an unknown layer (with the closest names), a channel range beyond a layer's channels, a layer without
a spatial map (a fully connected layer's units are neurons), a site that cannot be written, an images folder
without images.
"""
import dataclasses
import os
import re

from minidream.engine.layer_types import type_of
from minidream.io.images import IMAGE_EXTENSIONS, image_files

PARAM = "fft"  # from noise the Fourier image, with its scale and rotation jitter, gives the clearest pictures
STEPS = 32
# At dream()'s 1.5, 32 Fourier steps leave mini's conv5 pictures a low-contrast grey; 4 brings out the pattern
# without saturating (8 starts to).
STEP_SIZE = 4.0
# Lucid's transforms pad 12 px and jitter 8. With dream()'s context (as far as the layer sees, up to 64 px, and 32 of
# jitter) a 64-px picture of mini's conv5 is dreamed in a 232-px window (256 for deeper layers), mostly mirror; 16
# and 8 make it 112 px, about twice the channels per minute, and batches of them pay off (docs/speed.md, "Microscope
# pictures").
JITTER, MARGIN = 8, 16
DIVERSITY = 2  # variants per channel besides its picture
# Diversity's weight for a channel's variants: 4 lowers the variants' mean Gram similarity at mini's conv5 while
# their channel stays excited; 8 and more push some channels' own activation below zero (docs/speed.md).
DIVERSITY_WEIGHT = 4.0
MAX_SIZE = 128  # the default picture side: the model's input side, capped here (a picture per channel adds up)
# Names a layer's folder must not take: the site's own files beside the folders.
RESERVED = {"index.html", "style.css", "microscope.json"}


def dream_settings(size, steps=STEPS, step_size=STEP_SIZE):
    """dream()'s settings for a microscope picture of size x size pixels: one octave from noise."""
    return dict(size=(size, size), octaves=1, steps=steps, step_size=step_size, param=PARAM, jitter=JITTER,
                margin=MARGIN)


@dataclasses.dataclass
class LayerPlan:
    name: str  # the model's name for it ("inception_4c/output", an ONNX tensor "/layer4/Relu_output_0")
    slug: str  # its folder in the site: a safe file name, unique in the site
    count: int  # how many channels the layer has
    channels: list  # the ones pictured


def parse_channels(text):
    """'0-63' or '0-7,12,20-23' -> sorted channel numbers, each once."""
    channels = set()
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise ValueError(f"expected channels such as 0-63 or 0-7,12, got {text!r}")
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first:
            raise ValueError(f"channel range {part.strip()!r} runs backwards: write {last}-{first}")
        channels.update(range(first, last + 1))
    return sorted(channels)


def picture_layers(net):
    """The layers a microscope shows by default: every convolution and concat output with a spatial map."""
    shapes = net.output_shapes()
    return [spec["name"] for spec in net.specs
            if type_of(spec).role in ("convolution", "concat") and len(shapes.get(spec["name"], ())) == 4]


def plan_layers(net, layers=None, channels=None):
    """LayerPlans for the named layers (default: picture_layers) and channels (default: all of each layer)."""
    names = list(dict.fromkeys(layers or picture_layers(net)))
    if channels is not None and not len(channels):
        raise ValueError("no channels to picture: give some (--channels 0-7), or none for all of them")
    if not names:
        raise ValueError("the model has no convolutional layer to picture: name layers with --layers")
    plans = []
    for name, slug in zip(names, slugs(names)):
        net.layer_index(name)  # an unknown name raises, listing the closest names
        shape = net.output_shape(name)
        if len(shape) != 4:
            spatial = ", ".join(picture_layers(net)[-3:]) or "a convolutional layer"
            if len(shape) == 2:
                raise ValueError(f"layer {name!r} has no spatial channels: its {shape[-1]} units are neurons of a "
                                 f"fully connected layer, with no picture per channel; choose a convolutional layer "
                                 f"({spatial}), or use `minidream dream --class` for the classifier's units")
            raise ValueError(f"layer {name!r} has no spatial channels: its output is {tuple(shape)}, not (batch, "
                             f"channels, height, width), with no picture per channel; choose a convolutional layer "
                             f"({spatial})")
        count = shape[1]
        wanted = list(range(count)) if channels is None else list(channels)
        if wanted and wanted[-1] >= count:
            raise ValueError(f"layer {name!r} has {count} channels (0-{count - 1}); --channels asks for channel "
                             f"{wanted[-1]}: give --channels 0-{count - 1} or less")
        plans.append(LayerPlan(name, slug, count, wanted))
    return plans


def slugs(names):
    """A folder name per layer name: letters, digits, '.', '_' and '-' kept, the rest '_'; unique (case ignored,
    for case-insensitive file systems) and never one of the site's own files."""
    taken, result = set(), []
    for name in names:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "layer"
        slug, n = base, 1
        while slug.lower() in taken or slug in RESERVED:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug.lower())
        result.append(slug)
    return result


def default_size(net):
    """The picture side for a model: its input's shorter side, at most MAX_SIZE (mini: 64)."""
    return min(min(int(v) for v in net.meta["input_size"]), MAX_SIZE)


def check_site(site):
    """Raise one line unless the site folder exists and is writable, or can be created; creates nothing."""
    site = os.path.abspath(os.fspath(site))
    existing = site
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise NotADirectoryError(f"site {site}: {existing} is a file, not a folder; give a folder for the site "
                                 "(it is created if missing)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"site {site}: cannot write in {existing} (permission denied); choose another folder")
    return site


def check_images(folder):
    """The image files of the --images folder; one line when it is not a folder or holds none."""
    if not os.path.isdir(folder):
        raise NotADirectoryError(f"--images {folder}: not a folder; give a folder of images (PNG, JPEG, ...)")
    found = image_files(folder)
    if not found:
        raise ValueError(f"--images {folder} holds no images ({', '.join(IMAGE_EXTENSIONS)}); give a folder of "
                         "images to find each channel's top-activating crops in")
    return found
