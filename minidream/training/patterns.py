"""Procedurally generated pattern images: the data set the built-in "mini" model learns.

Every class is a *signed distance field* f over rotated, scaled, shifted coordinates
(u, v), measured in periods of the pattern: f > 0 inside the foreground, |f| about the
distance to the nearest edge. Multiplying by the period in pixels gives pixels, so

    mask = clip(0.5 + f * period_px, 0, 1)                         (1-pixel antialiasing)
    image = background * (1 - mask) + foreground * mask + lighting + noise

with two random colours per image. One class is one formula over whole (N, H, W)
arrays, so thousands of images take seconds. Everything is drawn from one
``numpy.random.Generator``: the same ``seed`` gives the same images.

    python -m minidream.training.patterns OUT_DIR --per-class 50    # an image folder to train on
"""
import argparse
import os

import numpy as np

from minidream.architectures.mini import CLASS_NAMES


def _frac_dist(t):
    """Distance from t to the nearest integer, in [0, 0.5]."""
    return np.abs(t - np.round(t))


def _band(t, duty):
    """Signed distance of a band of width ``duty`` (periods) centred on each integer t."""
    return duty / 2 - _frac_dist(t)


def stripes(u, v, p):
    return _band(u, p["duty"])


def rings(u, v, p):
    return _band(np.hypot(u, v), p["duty"])


def checkerboard(u, v, p):
    # Cells are unit squares; the sign alternates with the parity of the cell index.
    sign = np.where((np.floor(u) + np.floor(v)) % 2 == 0, 1.0, -1.0)
    return sign * np.minimum(_frac_dist(u), _frac_dist(v))


def grid(u, v, p):
    return p["width"] / 2 - np.minimum(_frac_dist(u), _frac_dist(v))


def polka_dots(u, v, p):
    # Every other row is shifted by ``stagger`` cells: square or hexagonal dot lattices.
    u = u + p["stagger"] * (np.floor(v + 0.5) % 2)
    return p["radius"] - np.hypot(u - np.round(u), v - np.round(v))


def spiral(u, v, p):
    # Archimedean spiral with ``arms`` arms: phase grows with radius and angle.
    phase = np.hypot(u, v) + p["arms"] * np.arctan2(v, u) / (2 * np.pi)
    return _band(phase, p["duty"])


def rays(u, v, p):
    # Angular bands: the distance along the arc is the angular distance times 2*pi*r/k.
    r = np.hypot(u, v)
    t = p["rays"] * np.arctan2(v, u) / (2 * np.pi)
    return _band(t, p["duty"]) * (2 * np.pi * r / p["rays"])


def waves(u, v, p):
    slope = p["amplitude"] * 2 * np.pi / p["wavelength"]
    shift = p["amplitude"] * np.sin(2 * np.pi * v / p["wavelength"])
    return _band(u + shift, p["duty"]) / np.sqrt(1 + slope**2)


def zigzag(u, v, p):
    slope = 4 * p["amplitude"] / p["wavelength"]
    triangle = 2 * _frac_dist(v / p["wavelength"]) * 2 - 1  # in [-1, 1], period = wavelength
    return _band(u + p["amplitude"] * triangle, p["duty"]) / np.sqrt(1 + slope**2)


def bricks(u, v, p):
    # Rows one unit high, bricks two units long, every other row shifted by one unit.
    shifted = u + (np.floor(v) % 2)
    mortar = np.minimum(_frac_dist(v), 2 * _frac_dist(shifted / 2))
    return mortar - p["width"] / 2


def hexagons(u, v, p):
    # Honeycomb walls: cell centres form a hexagonal lattice with unit neighbour distance
    # (two rectangular sub-lattices); inside a cell the distance to its wall is
    # 1/2 - max_k |d . n_k| over the three neighbour directions n_k.
    h = np.sqrt(3.0)
    da_u, da_v = u - np.round(u), v - h * np.round(v / h)
    ub, vb = u - 0.5, v - h / 2
    db_u, db_v = ub - np.round(ub), vb - h * np.round(vb / h)
    nearer_a = da_u**2 + da_v**2 <= db_u**2 + db_v**2
    du, dv = np.where(nearer_a, da_u, db_u), np.where(nearer_a, da_v, db_v)
    c, s = 0.5, h / 2
    reach = np.maximum(np.abs(du), np.maximum(np.abs(c * du + s * dv), np.abs(c * du - s * dv)))
    return p["width"] / 2 - (0.5 - reach)


def _params(name, rng, n):
    """Shape parameters of class ``name`` for n images, each an (n, 1, 1) array."""
    def draw(low, high):
        return rng.uniform(low, high, (n, 1, 1))

    def choice(options):
        return rng.choice(np.asarray(options, np.float64), (n, 1, 1))

    table = {
        "stripes": lambda: {"duty": draw(0.3, 0.6)},
        "rings": lambda: {"duty": draw(0.3, 0.6)},
        "checkerboard": lambda: {},
        "grid": lambda: {"width": draw(0.12, 0.3)},
        "polka_dots": lambda: {"radius": draw(0.18, 0.34), "stagger": choice([0.0, 0.5])},
        "spiral": lambda: {"duty": draw(0.35, 0.6), "arms": choice([-3, -2, -1, 1, 2, 3])},
        "rays": lambda: {"duty": draw(0.35, 0.6), "rays": choice([6, 8, 10, 12, 14])},
        "waves": lambda: {"duty": draw(0.3, 0.55), "amplitude": draw(0.25, 0.6),
                          "wavelength": draw(2.0, 4.0)},
        "zigzag": lambda: {"duty": draw(0.3, 0.55), "amplitude": draw(0.3, 0.6),
                           "wavelength": draw(1.5, 3.0)},
        "bricks": lambda: {"width": draw(0.12, 0.25)},
        "hexagons": lambda: {"width": draw(0.12, 0.25)},
    }
    return table[name]()


# One generator per class of the mini model, in its output order (minidream.architectures.mini.CLASS_NAMES).
GENERATORS = {name: globals()[name] for name in CLASS_NAMES}

# Centred patterns (rings, spirals, rays) keep their centre inside the image so the
# class stays recognisable; tiled ones may start anywhere.
_CENTRED = {"rings", "spiral", "rays"}
# Period in pixels, as a fraction of the image size.
_PERIOD = {"default": (0.09, 0.24), "rings": (0.07, 0.16), "spiral": (0.09, 0.2), "rays": (1.0, 1.0)}


# Rec. 601 luma weights for R, G, B.
_LUMA = np.array([0.299, 0.587, 0.114])


def _colours(rng, n, min_luma_gap=80):
    """Two RGB colours per image, (n, 3) each, whose brightness differs by min_luma_gap.

    Random hues teach colour invariance; the brightness gap keeps every pattern visible in
    grey (as most edges in photographs are), which is what lets a small net learn fast.
    """
    a, b = rng.uniform(0, 255, (n, 3)), rng.uniform(0, 255, (n, 3))
    close = np.abs((a - b) @ _LUMA) < min_luma_gap
    while close.any():
        a[close], b[close] = rng.uniform(0, 255, (2, int(close.sum()), 3))
        close = np.abs((a - b) @ _LUMA) < min_luma_gap
    return a, b


def render(name, n, size, rng):
    """n images of class ``name``: uint8 RGB (n, size, size, 3)."""
    if name not in GENERATORS:
        raise ValueError(f"unknown pattern class {name!r}; choose from {', '.join(CLASS_NAMES)}")
    low, high = _PERIOD.get(name, _PERIOD["default"])
    period = rng.uniform(low, high, (n, 1, 1)) * size
    spread = 0.3 if name in _CENTRED else 0.5
    centre = size / 2 + rng.uniform(-spread, spread, (n, 2, 1, 1)) * size
    angle = rng.uniform(0, 2 * np.pi, (n, 1, 1))
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    x, y = xs - centre[:, 0], ys - centre[:, 1]
    u = (np.cos(angle) * x + np.sin(angle) * y) / period
    v = (-np.sin(angle) * x + np.cos(angle) * y) / period
    field = GENERATORS[name](u, v, _params(name, rng, n))
    mask = np.clip(0.5 + field * period, 0, 1)[..., None]
    back, fore = _colours(rng, n)
    image = back[:, None, None] * (1 - mask) + fore[:, None, None] * mask
    # A soft lighting ramp and sensor noise, so colour and flatness give nothing away.
    ramp = (np.cos(angle) * x - np.sin(angle) * y) / size
    image += (rng.uniform(-40, 40, (n, 1, 1)) * ramp)[..., None]
    image += rng.normal(0, 1, image.shape) * rng.uniform(0, 10, (n, 1, 1, 1))
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def generate(n, size=72, seed=0, classes=CLASS_NAMES):
    """A balanced, shuffled set of n pattern images.

    Returns (images uint8 RGB (n, size, size, 3), labels int64 (n,)) where labels index
    ``classes``. The same (n, size, seed, classes) always gives the same arrays.
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(classes))
    images = np.empty((n, size, size, 3), np.uint8)
    for k, name in enumerate(classes):
        where = np.flatnonzero(labels == k)
        if where.size:
            images[where] = render(name, where.size, size, rng)
    return images, labels.astype(np.int64)


def save_folder(out_dir, per_class=50, size=72, seed=0, classes=CLASS_NAMES):
    """Write an image folder (OUT_DIR/<class>/<i>.png), the layout ``train`` reads."""
    from PIL import Image

    images, labels = generate(per_class * len(classes), size, seed, classes)
    for k, name in enumerate(classes):
        os.makedirs(os.path.join(out_dir, name), exist_ok=True)
        for i, index in enumerate(np.flatnonzero(labels == k)):
            Image.fromarray(images[index]).save(os.path.join(out_dir, name, f"{i:05d}.png"))
    return out_dir


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minidream.training.patterns",
                                     description="Write procedurally generated pattern images.")
    parser.add_argument("out_dir", help="folder to write, one sub-folder per class")
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--size", type=int, default=72)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    save_folder(args.out_dir, args.per_class, args.size, args.seed)
    print(f"wrote {args.per_class * len(CLASS_NAMES)} images to {args.out_dir}")


if __name__ == "__main__":
    main()
