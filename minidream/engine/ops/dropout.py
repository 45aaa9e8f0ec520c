"""Dropout (Caffe "Dropout"), inverted: scaled at training time so inference is the identity.

Shapes: x, y any shape.
Formula (training): mask ~ Bernoulli(1 - ratio);  y = x * mask / (1 - ratio)
                    (inference): y = x
Backward: dx = dy * mask / (1 - ratio)  (training), dx = dy (inference).
"""
import numpy as np

from minidream.engine.backend import get_array_module


def forward(x, ratio=0.5, train=False, rng=None):
    """Inputs: x (any shape), the drop ratio, train, rng (a numpy Generator for the mask). Returns (y, cache);
    cache = mask / (1 - ratio) (x's shape) when training, None at inference (y is x itself then)."""
    if not train or ratio == 0.0:
        return x, None
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"dropout ratio must be in [0, 1), got {ratio}")
    xp = get_array_module(x)
    rng = rng if rng is not None else np.random.default_rng()
    keep = xp.asarray(rng.random(x.shape, dtype=np.float32) >= ratio)
    scaled_mask = keep.astype(x.dtype) / np.float32(1.0 - ratio)
    return x * scaled_mask, scaled_mask


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx."""
    return dy if cache is None else dy * cache


def forward_naive(x, ratio=0.5, train=False, rng=None):
    if not train or ratio == 0.0:
        return x, None
    rng = rng if rng is not None else np.random.default_rng()
    draws = rng.random(x.shape, dtype=np.float32)
    scaled_mask = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        if draws[i] >= ratio:
            scaled_mask[i] = 1.0 / (1.0 - ratio)
    return x * scaled_mask, scaled_mask


def backward_naive(dy, cache):
    if cache is None:
        return dy
    dx = np.empty_like(dy)
    for i in np.ndindex(dy.shape):
        dx[i] = dy[i] * cache[i]
    return dx
