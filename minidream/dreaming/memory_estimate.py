"""A dream's peak memory, estimated before its start image is made, and the refusal when it cannot fit.

    peak ~ K * IMAGE_COPIES * 3*H*W*4 bytes          the image, the octave it dreams, its gradient, the update's
                                                     temporaries (float32; the pyramid's smaller octaves go as used)
           (param="fft": K * FOURIER_BYTES * H*W)    the spectrum, Adam's two moments, the sigmoid and the float64
                                                     and complex temporaries of a Fourier step (dreaming/fourier.py)
         + K * NET_FACTOR * sum(blob sizes) * 4 bytes    one window's activations, caches, columns and gradients

with K the pictures (a batch walks K windows at once), H, W the largest octave and the blobs those the Net's walk
makes for the layers the objective needs (not the outputs of in-place ReLUs or of BatchNorm and Scale layers folded
into a convolution, minidream.engine.plans), at the size of one window (its part of the image plus the dream's
context, at most the tile; shape arithmetic, nothing allocated). The factors keep the estimate above the measured
peak with room to spare, for every model measured (`python -m benchmarks.memory`: growth of the peak RSS over the
loaded model; the ratios, docs/speed.md). When the estimate exceeds the memory available (Linux MemAvailable), the
dream stops with the number and the fix: a smaller --size, or a smaller --tile-size when the tiles dominate (or fewer
pictures in a batch).
"""
import math

from minidream.dreaming.jitter import context, min_input_side, window_settings
from minidream.engine.plans import affine_chains, in_place_layers
from minidream.errors import TooBigError
from minidream.io.limits import available_memory
from minidream.models.metadata import fixed_input_size

IMAGE_COPIES = 6
FOURIER_BYTES = 400  # per pixel of a Fourier dream, above its measured growth (docs/speed.md, "Fourier and batched")
NET_FACTOR = 3.5


def dream_bytes(net, layers, size, tile, context=0, pictures=1, param="pixel"):
    """(image bytes, network bytes) estimated for a dream of `pictures` pictures on an octave of `size` (H, W) in
    tiles of `tile`, each window seeing `context` more pixels along each axis than its part of the image
    (minidream.dreaming.jitter.context), in the parameterization `param`."""
    h, w = size
    image = pictures * h * w * (FOURIER_BYTES if param == "fft" else IMAGE_COPIES * 3 * 4)
    graph = net.graph
    slots = [graph.slot(layer) for layer in layers]
    order = graph.ancestors(slots)
    window = graph.input_shape(fixed_input_size(net.meta) or (min(h + context, tile), min(w + context, tile)))
    shapes = graph.shapes(window, only=set(order))
    # The blobs the Net's walk really makes (minidream.engine.plans): an in-place ReLU writes over its input, and the
    # BatchNorm and Scale layers folded into a convolution make none of their own.
    made_by_others = in_place_layers(graph, order, slots) | {i for chain in affine_chains(graph, order, slots)
                                                              for i in chain[1:]}
    blobs = sum(math.prod(shape) for (i, _), shape in shapes.items() if i not in made_by_others)
    return image, pictures * NET_FACTOR * 4 * blobs


def _amount(count):
    return f"{count / 1e9:.1f} GB" if count >= 1e9 else f"{count / 1e6:.0f} MB"


def check_dream_memory(net, layers, size, tile, context=0, available=None, pictures=1, param="pixel"):
    """Raise TooBigError when the estimate for the largest octave exceeds the available memory."""
    available = available_memory() if available is None else available
    if available is None:
        return
    image, network = dream_bytes(net, layers, size, tile, context, pictures, param)
    if image + network <= available:
        return
    h, w = size
    shrink = math.sqrt(available / (image + network) / 2)
    fits = None if network > image else (int(w * shrink), int(h * shrink))
    fix = (f"--tile-size {max(tile // 2, 1)} (tile_size=...)" if fits is None else
           f"--size {fits[0]}x{fits[1]} (size=...)")
    if pictures > 1:
        fix += f", or fewer pictures than {pictures} at once"
    kind = " fft" if param == "fft" else ""
    what = f"a {w}x{h}{kind} dream" if pictures == 1 else f"a batch of {pictures} {w}x{h}{kind} dreams"
    estimate = (f"about {_amount(image + network)} (image {_amount(image)}, network {_amount(network)}) but "
                f"{_amount(available)} is available")
    raise TooBigError(f"{what} in {tile}-pixel tiles needs {estimate}: use {fix}", estimate, fits)


def check_dream(net, objective, size, settings, pictures=1):
    """check_dream_memory for `pictures` pictures of size (H, W) dreamed with this bound objective and these
    DreamSettings, in the context and tiles their steps use: before the start image is made at that size."""
    margin, jitter, tile = window_settings(net, objective, settings, min_input_side(net, objective))
    check_dream_memory(net, objective.layers, size, tile, context(margin, jitter), pictures=pictures,
                       param=settings.param)
