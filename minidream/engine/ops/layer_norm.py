"""Layer normalization (ONNX "LayerNormalization", opset 17; Ba, Kiros & Hinton, "Layer Normalization", 2016): a
ViT normalizes each token over its width.

Shapes: x (d_0, ..., d_{r-1}); the normalized axes are [axis, r) (a negative axis counts from the end); scale and
bias (or None) broadcast to x's shape over them, typically x.shape[axis:]; y x's shape.
Formula, over the normalized axes (D elements per row):
  μ = mean(x),  σ² = mean((x - μ)²),  x̂ = (x - μ) / √(σ² + ε),  y = scale · x̂ + bias
Backward (the batch-norm derivation, per row instead of per channel):
  dx̂ = dy · scale,  dx = (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)) / √(σ² + ε)
  dscale = Σ dy · x̂,  dbias = Σ dy, summed over every axis scale and bias were broadcast along.
Cache: (x̂, 1/√(σ² + ε), scale, the normalized axes, scale's and bias's shapes).
"""
import numpy as np

from minidream.engine.backend import get_array_module
from minidream.engine.ops.axes import canonical_axis
from minidream.engine.ops.elementwise import source_index, unbroadcast


def forward(x, scale, bias=None, axis=-1, epsilon=1e-5):
    """Inputs: x (any rank), scale, bias (or None), axis, epsilon. Returns (y (x's shape), cache)."""
    xp = get_array_module(x)
    axes = tuple(range(canonical_axis(axis, x.ndim), x.ndim))
    centered = x - x.mean(axis=axes, keepdims=True)
    inv_std = 1 / xp.sqrt((centered * centered).mean(axis=axes, keepdims=True) + float(epsilon))
    x_hat = centered * inv_std
    y = x_hat * scale if bias is None else x_hat * scale + bias
    return y, (x_hat, inv_std, scale, axes, None if bias is None else np.shape(bias))


def backward(dy, cache):
    """Inputs: dy (x's shape), the cache of forward. Returns (dx, dscale, dbias); dbias None without a bias."""
    x_hat, inv_std, scale, axes, bias_shape = cache
    dx_hat = dy * scale
    dx = (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
          - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)) * inv_std
    dscale = unbroadcast(dy * x_hat, np.shape(scale))
    return dx, dscale, (None if bias_shape is None else unbroadcast(dy, bias_shape))


def _rows(x, axis):
    """The rows the normalization runs over: x reshaped to (the other elements, D)."""
    start = canonical_axis(axis, x.ndim)
    return x.reshape(int(np.prod(x.shape[:start])), -1)


def forward_naive(x, scale, bias=None, axis=-1, epsilon=1e-5):
    rows = _rows(x, axis)
    d = rows.shape[1]
    x_hat, inv_std = np.empty_like(rows), np.empty(rows.shape[0])
    for r, row in enumerate(rows):
        mean = sum(row) / d
        inv_std[r] = 1 / np.sqrt(sum((v - mean) ** 2 for v in row) / d + epsilon)
        x_hat[r] = [(v - mean) * inv_std[r] for v in row]
    x_hat = x_hat.reshape(x.shape)
    y = np.empty_like(x)
    for index in np.ndindex(x.shape):
        y[index] = x_hat[index] * scale[source_index(index, np.shape(scale))]
        if bias is not None:
            y[index] += bias[source_index(index, np.shape(bias))]
    return y, (x_hat, inv_std, scale, axis, None if bias is None else np.shape(bias))


def backward_naive(dy, cache):
    x_hat, inv_std, scale, axis, bias_shape = cache
    dscale, dbias = np.zeros(np.shape(scale)), (None if bias_shape is None else np.zeros(bias_shape))
    dx_hat = np.empty_like(dy)
    for index in np.ndindex(dy.shape):
        dx_hat[index] = dy[index] * scale[source_index(index, np.shape(scale))]
        dscale[source_index(index, np.shape(scale))] += dy[index] * x_hat[index]
        if dbias is not None:
            dbias[source_index(index, bias_shape)] += dy[index]
    dx_rows, x_hat_rows = _rows(dx_hat, axis), _rows(x_hat, axis)
    d = dx_rows.shape[1]
    dx = np.empty_like(dx_rows)
    for r in range(dx_rows.shape[0]):
        g, h = dx_rows[r], x_hat_rows[r]
        mean_g, mean_gh = sum(g) / d, sum(g[j] * h[j] for j in range(d)) / d
        dx[r] = [(g[j] - mean_g - h[j] * mean_gh) * inv_std[r] for j in range(d)]
    return dx.reshape(dy.shape), dscale, dbias
