"""Command-line values turned into dream() arguments: weighted layers, sizes, objectives.

Each parser raises ValueError with the accepted form in the message, so argparse (or any caller) reports one
clear line.
"""
import numpy as np

from minidream.dreaming.objectives import L2, Channel, ClassNeuron, Guide
from minidream.engine.backend import as_numpy, to_device
from minidream.io.images import to_network
from minidream.models.metadata import default_layer


def parse_layers(texts):
    """[(layer, weight)] from ["a:0.5", "b", "c,d:2"]: repeated or comma-separated, weight 1 by default."""
    layers = []
    for text in texts or []:
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, weight = item.partition(":")
            try:
                layers.append((name, float(weight) if weight else 1.0))
            except ValueError:
                raise ValueError(f"expected LAYER or LAYER:WEIGHT such as conv3:0.5, got {item!r}") from None
    return layers


def parse_size(text):
    """'800' -> 800 (the longer side; the other keeps the aspect ratio); '800x600' -> (800, 600), forced."""
    parts = str(text).lower().split("x")
    try:
        values = [int(v) for v in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values) < 1:
        raise ValueError(f"expected a positive size such as 800 (keeps the aspect ratio) or 800x600, got {text!r}")
    return values[0] if len(values) == 1 else tuple(values)


def resolve_size(size, shape):
    """(width, height) for an image of shape (H, W, ...): a number sets the longer side, a pair is kept."""
    if size is None or isinstance(size, tuple):
        return size
    h, w = shape[:2]
    if w >= h:
        return size, max(1, round(size * h / w))
    return max(1, round(size * w / h)), size


def strongest_channel(net, layer, rgb):
    """The channel of `layer` with the largest mean activation on the image rgb (H, W, 3)."""
    a = net.forward(to_device(to_network(rgb, net.meta), net.device), end=layer)
    return int(np.argmax(as_numpy(a)[0].reshape(a.shape[1], -1).mean(axis=1)))


def build_objective(net, layers=(), channels=None, cls=None, guide=None, rgb=None):
    """The objective the options describe: weighted L2 layers, + Channel / Guide, + ClassNeuron; all summed.

    layers: [(name, weight)] (none: the model's default layer). channels: a list or "auto" (needs rgb), on
    the single layer given; guide: an image path, on that layer; cls: a class name or index. Every option
    given counts: --class with --layer is L2(layer) + ClassNeuron(class).
    """
    layers = list(layers) or ([] if cls is not None and not (channels or guide) else
                              [(default_layer(net.meta), 1.0)])
    terms = []
    if channels or guide:
        if len(layers) != 1:
            raise ValueError("--channel and --guide work on one --layer; give exactly one")
        (layer, weight), layers = layers[0], []
        if channels == "auto":
            if rgb is None:
                raise ValueError("--channel auto picks the strongest channel on the input image; give one")
            channels = [strongest_channel(net, layer, rgb)]
        if channels:
            terms.append(_weighted(weight, Channel(layer, channels)))
        if guide:
            terms.append(_weighted(weight, Guide(guide, layer)))
    terms += [_weighted(weight, L2(layer)) for layer, weight in layers]
    if cls is not None:
        terms.append(ClassNeuron(cls))
    return terms[0] if len(terms) == 1 else sum(terms[1:], terms[0])


def _weighted(weight, objective):
    return objective if weight == 1.0 else weight * objective
