"""Augmentations beyond crop and flip: random rotation, zoom, colour jitter and Gaussian noise.

Each takes a batch of uint8 RGB images (N, H, W, 3) and a numpy Generator and returns a new batch of
the same shape, drawing one set of random factors per image, so the same seed gives the same images.
Training applies the chosen ones (``--augment rotate,zoom,color,noise``) in that order to the stored
images, before the random crop and flip (minidream.training.image_folder), so the crop cuts away most of the
corners a rotation fills in. The rotations and zooms of the paper's VGG-BN net (Keras'
RandomRotation/RandomZoom, reflect fill) with milder defaults:

    rotate  angle ~ U(-MAX_DEGREES, MAX_DEGREES) about the centre
    zoom    scale ~ U(1 - MAX_ZOOM, 1 + MAX_ZOOM) about the centre (> 1 magnifies)
    color   x <- gray + saturation * (x - gray); x <- mean + contrast * (x - mean); x <- brightness * x,
            each factor ~ U(1 - COLOR_STRENGTH, 1 + COLOR_STRENGTH)
    noise   x <- x + N(0, sigma^2) per pixel and channel, sigma ~ U(0, NOISE_SIGMA)

Geometric ones sample bilinearly, reflecting at the border; every result is rounded and clipped to 0..255.
"""
import numpy as np

from minidream.io.contact_sheets import contact_sheet

MAX_DEGREES = 15.0
MAX_ZOOM = 0.15
COLOR_STRENGTH = 0.25
NOISE_SIGMA = 12.0
# Rec. 601 luma weights for R, G, B.
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _reflect(t, n):
    """Coordinates t folded into [0, n - 1] by mirroring at the edges (n >= 2)."""
    period = 2 * (n - 1)
    t = np.mod(t, period)
    return np.where(t > n - 1, period - t, t)


def warp(images, angle, scale):
    """images (N, H, W, 3) rotated by angle[i] radians and scaled by scale[i] about their centres.

    Each output pixel p samples the input at centre + R(-angle) (p - centre) / scale, bilinearly.
    """
    n, h, w = images.shape[:3]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    cos, sin = (np.cos(angle) / scale)[:, None, None], (np.sin(angle) / scale)[:, None, None]
    src_x = _reflect(cx + cos * (xs - cx) + sin * (ys - cy), w)
    src_y = _reflect(cy - sin * (xs - cx) + cos * (ys - cy), h)
    x0 = np.minimum(np.floor(src_x).astype(np.int64), w - 2)
    y0 = np.minimum(np.floor(src_y).astype(np.int64), h - 2)
    fx, fy = (src_x - x0)[..., None], (src_y - y0)[..., None]
    batch = np.arange(n)[:, None, None]
    pixels = images.astype(np.float32)
    top = pixels[batch, y0, x0] * (1 - fx) + pixels[batch, y0, x0 + 1] * fx
    bottom = pixels[batch, y0 + 1, x0] * (1 - fx) + pixels[batch, y0 + 1, x0 + 1] * fx
    return _to_uint8(top * (1 - fy) + bottom * fy)


def _to_uint8(x):
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def rotate(images, rng, max_degrees=MAX_DEGREES):
    """Random rotations by up to max_degrees either way."""
    angle = np.radians(rng.uniform(-max_degrees, max_degrees, len(images)))
    return warp(images, angle, np.ones(len(images)))


def zoom(images, rng, max_zoom=MAX_ZOOM):
    """Random magnification by a factor in [1 - max_zoom, 1 + max_zoom]."""
    return warp(images, np.zeros(len(images)), rng.uniform(1 - max_zoom, 1 + max_zoom, len(images)))


def color(images, rng, strength=COLOR_STRENGTH):
    """Random saturation, contrast and brightness, each a factor in [1 - strength, 1 + strength]."""
    saturation, contrast, brightness = (rng.uniform(1 - strength, 1 + strength, (3, len(images), 1, 1, 1))
                                        .astype(np.float32))
    x = images.astype(np.float32)
    gray = x @ LUMA
    x = gray[..., None] + saturation * (x - gray[..., None])
    x = x.mean(axis=(1, 2, 3), keepdims=True) + contrast * (x - x.mean(axis=(1, 2, 3), keepdims=True))
    return _to_uint8(brightness * x)


def noise(images, rng, max_sigma=NOISE_SIGMA):
    """Gaussian noise with a standard deviation drawn in [0, max_sigma] for each image."""
    sigma = rng.uniform(0, max_sigma, (len(images), 1, 1, 1)).astype(np.float32)
    return _to_uint8(images + sigma * rng.standard_normal(images.shape, dtype=np.float32))


AUGMENTATIONS = {"rotate": rotate, "zoom": zoom, "color": color, "noise": noise}


def parse(text):
    """'rotate,zoom' (or a list of names) -> ('rotate', 'zoom') in the order they are applied."""
    names = [n.strip() for n in text.split(",") if n.strip()] if isinstance(text, str) else list(text or ())
    unknown = [n for n in names if n not in AUGMENTATIONS]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown[0]!r}; choose from {', '.join(AUGMENTATIONS)} "
                         "(crop and flip are always on)")
    return tuple(n for n in AUGMENTATIONS if n in names)


def apply(images, names, rng):
    """images with the augmentations ``names`` applied in the order of AUGMENTATIONS."""
    for name in parse(names):
        images = AUGMENTATIONS[name](images, rng)
    return images


def preview(images, names=tuple(AUGMENTATIONS), seed=0, cell_size=96):
    """A contact sheet: one row per image, showing it as stored, under each augmentation alone, then all
    of ``names`` together (each cell a fresh draw from ``seed``)."""
    names = parse(names) or tuple(AUGMENTATIONS)
    rng = np.random.default_rng(seed)
    columns = [("original", ())] + [(n, (n,)) for n in names] + [("all", names)] * (len(names) > 1)
    cells, labels = [], []
    for image in images:
        for label, chosen in columns:
            cells.append(apply(image[None], chosen, rng)[0])
            labels.append(label)
    return contact_sheet(cells, labels, columns=len(columns), cell_size=cell_size)
