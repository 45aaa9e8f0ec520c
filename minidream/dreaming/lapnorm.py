"""Laplacian pyramid gradient normalization (the TensorFlow DeepDream tutorial's "lapnorm", Mordvintsev 2016).

The raw gradient of a deep layer is dominated by high frequencies, so plain ascent paints fine noise first.
Split the gradient g (..., H, W) into `levels` bands of a Laplacian pyramid,

    low_0 = g,  low_{k+1} = down(blur(low_k)),  band_k = low_k - up(low_{k+1}),  band_{levels-1} = low_{levels-1}

where down/up are bilinear resizes by a factor 2 (minidream.dreaming.filters), divide each band by its root mean square
(plus a small eps so a flat band stays flat), and sum the bands back up (up(...) + band, from the smallest).
Every scale then contributes equally to the step. NumPy and CuPy arrays alike.
"""
import numpy as np

from minidream.dreaming.filters import gaussian_blur, resize_bilinear
from minidream.engine.backend import get_array_module

EPS = 1e-8


def laplacian_split(g, levels):
    """[band_0 (finest), ..., band_{levels-1} (the coarse remainder)]; merging them gives g back."""
    bands, low = [], g
    for _ in range(levels - 1):
        h, w = low.shape[-2:]
        if min(h, w) < 2:
            break
        smaller = resize_bilinear(gaussian_blur(low, 1.0), ((h + 1) // 2, (w + 1) // 2))
        bands.append(low - resize_bilinear(smaller, (h, w)))
        low = smaller
    return bands + [low]


def laplacian_merge(bands):
    """The inverse of laplacian_split."""
    g = bands[-1]
    for band in reversed(bands[:-1]):
        g = resize_bilinear(g, band.shape[-2:]) + band
    return g


def laplacian_normalize(g, levels):
    """g with each of `levels` Laplacian bands scaled to unit root mean square (levels >= 1)."""
    if int(levels) < 1:
        raise ValueError(f"lapnorm levels must be at least 1, got {levels}")
    xp = get_array_module(g)
    bands = laplacian_split(g, int(levels))
    return laplacian_merge([b / (xp.sqrt(xp.mean(b * b)) + np.float32(EPS)) for b in bands])
