"""A dream's peak memory, estimated before the first step, and the refusal when it cannot fit.

    peak ~ IMAGE_COPIES * 3*H*W*4 bytes              the octave pyramid, detail, gradient, rolled copies (float32)
         + NET_FACTOR * sum(blob sizes) * 4 bytes    one tile's forward outputs, caches, im2col and gradients

with H, W the largest octave and the blob sizes those of the layers the objective needs, at the tile's size
(shape arithmetic, nothing allocated). The factors keep the estimate above the measured peak (growth of the
peak RSS over the loaded model, 2 octaves, 2 steps): mini at 2048x2048 to conv3, 1250 MB measured, 1728 MB
estimated; GoogLeNet at 600x600 to inception_4c/output, 519 MB measured, 1020 MB estimated. When the estimate exceeds the memory available (Linux MemAvailable), the dream
stops with the number and the fix: a smaller --size, or a smaller --tile-size when the tiles dominate.
"""
import math

from minidream.errors import TooBigError
from minidream.limits import available_memory

IMAGE_COPIES = 12
NET_FACTOR = 4


def dream_bytes(net, layers, size, tile, context=0):
    """(image bytes, network bytes) estimated for a dream on an octave of `size` (H, W) in tiles of `tile`, each
    window seeing `context` more pixels a side than its part of the image (minidream.jitter: 2 * (margin + jitter))."""
    h, w = size
    image = IMAGE_COPIES * 3 * h * w * 4
    slots = [net.graph.slot(layer) for layer in layers]
    tile_shape = net.graph.input_shape((min(h + context, tile), min(w + context, tile)))
    shapes = net.graph.shapes(tile_shape, only=set(net.graph.ancestors(slots)))
    return image, NET_FACTOR * 4 * sum(math.prod(s) for s in shapes.values())


def _amount(count):
    return f"{count / 1e9:.1f} GB" if count >= 1e9 else f"{count / 1e6:.0f} MB"


def check_dream_memory(net, layers, size, tile, context=0, available=None):
    """Raise TooBigError when the estimate for the largest octave exceeds the available memory."""
    available = available_memory() if available is None else available
    if available is None:
        return
    image, network = dream_bytes(net, layers, size, tile, context)
    if image + network <= available:
        return
    h, w = size
    fix = (f"--tile-size {max(tile // 2, 1)} (tile_size=...)" if network > image else
           f"--size {int(w * math.sqrt(available / (image + network) / 2))}x"
           f"{int(h * math.sqrt(available / (image + network) / 2))} (size=...)")
    raise TooBigError(f"a {w}x{h} dream in {tile}-pixel tiles needs about {_amount(image + network)} "
                      f"(image {_amount(image)}, network {_amount(network)}) but {_amount(available)} "
                      f"is available: use {fix}")
