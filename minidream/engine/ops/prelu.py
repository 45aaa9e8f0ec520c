"""Parametric ReLU (Caffe "PReLU"), from He et al., "Delving Deep into Rectifiers" (2015).

Shapes (src/caffe/layers/prelu_layer.cpp): x, y (N, C, ...) with at least 2 axes; channels are axis 1.
    slope (C,) — one slope per channel — or, with channel_shared (prelu_param.channel_shared), one slope for all
    channels: Caffe stores it as a 0-d blob (count 1); shape () or (1,) are both accepted. Caffe checks the blob's
    count against the setting ("Negative slope size is inconsistent with prototxt config"); so do we.
Formula:  y = max(x, 0) + slope[c] * min(x, 0)
Backward: dx = dy where x > 0, slope[c] * dy where x <= 0
          dslope[c] = sum over N and the spatial axes of dy * x * [x <= 0]  (shared: summed over all of x)
Cache: (x, slope, channel_shared).
"""
import numpy as np

from minidream.engine.backend import get_array_module


def _slope_view(x, slope, channel_shared):
    if x.ndim < 2:
        raise ValueError(f"PReLU needs an input with at least 2 axes (N, C, ...), got shape {x.shape}")
    c = x.shape[1]
    if channel_shared:
        if slope.size != 1:
            raise ValueError(f"PReLU with channel_shared takes one slope, got {slope.size}")
        return slope.reshape(())
    if slope.size != c:
        raise ValueError(
            f"PReLU has {slope.size} slopes for {c} channels; give one per channel or set channel_shared"
        )
    return slope.reshape((1, c) + (1,) * (x.ndim - 2))


def forward(x, slope, channel_shared=False):
    xp = get_array_module(x)
    a = _slope_view(x, slope, channel_shared)
    y = xp.maximum(x, 0) + a * xp.minimum(x, 0)
    return y, (x, slope, channel_shared)


def backward(dy, cache):
    """Returns (dx, dslope); dslope has slope's shape."""
    x, slope, channel_shared = cache
    xp = get_array_module(dy)
    a = _slope_view(x, slope, channel_shared)
    negative = x <= 0
    dx = xp.where(negative, a * dy, dy)
    contribution = dy * x * negative
    if channel_shared:
        dslope = contribution.sum().reshape(slope.shape)
    else:
        dslope = contribution.sum(axis=(0,) + tuple(range(2, x.ndim))).reshape(slope.shape)
    return dx, dslope


def forward_naive(x, slope, channel_shared=False):
    _slope_view(x, slope, channel_shared)
    flat = slope.reshape(-1)
    y = np.empty_like(x)
    for i in np.ndindex(x.shape):
        a = flat[0] if channel_shared else flat[i[1]]
        y[i] = x[i] if x[i] > 0 else a * x[i]
    return y, (x, slope, channel_shared)


def backward_naive(dy, cache):
    x, slope, channel_shared = cache
    flat = slope.reshape(-1)
    dx = np.empty_like(dy)
    dslope = np.zeros(flat.shape, dtype=dy.dtype)
    for i in np.ndindex(dy.shape):
        c = 0 if channel_shared else i[1]
        dx[i] = dy[i] if x[i] > 0 else flat[c] * dy[i]
        if x[i] <= 0:
            dslope[c] += dy[i] * x[i]
    return dx, dslope.reshape(slope.shape)
