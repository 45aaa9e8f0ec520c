"""Batch normalization (Caffe "BatchNorm"), from Ioffe & Szegedy (2015), as Caffe splits it: this layer only
normalizes; the learned gamma and beta are a Scale layer with bias_term after it (layers/scale.py).

Shapes (src/caffe/layers/batch_norm_layer.cpp): x, y (N, C) or (N, C, H, W) (any (N, C, ...)); statistics are per
channel (axis 1), over the m = N*H*W values of that channel.
Blobs, all three kept by Caffe and all three needed to read a model:
    mean (C,), variance (C,) — running SUMS, not averages — and the moving-average factor s, shape (1,).
Formula, use_global_stats (inference; Caffe's default in the TEST phase):
    factor = 0 if s == 0 else 1/s;   mu = factor * mean,   var = factor * variance
    y = (x - mu) / sqrt(var + eps)                            (eps default 1e-5)
Formula, training (use_global_stats false): mu, var are the batch mean and the BIASED batch variance
    (1/m) sum (x - mu)^2 per channel, y as above; and the blobs are updated in place, as Caffe's forward does:
    s = s * maf + 1;   mean = mean * maf + mu;   variance = variance * maf + m/(m-1) * var   (m/(m-1) -> 1 if m == 1)
    with maf = moving_average_fraction (default 0.999). So mean/s is a decayed average of batch means.
Backward (gradients go to x only: Caffe forces lr_mult 0 on the three blobs, they are statistics):
    global stats:  dx = dy / sqrt(var + eps)           (mu, var are constants)
    training:      dx = (dy - mean(dy) - mean(dy * y) * y) / sqrt(var + eps)   (means per channel over N, H, W)
    — the training form also differentiates through the batch mu and var.
Cache: (y, std (C,) = sqrt(var + eps), use_global_stats).
"""
import numpy as np

from minidream.engine.backend import get_array_module


def _layout(x):
    """(axes the statistics run over, shape a per-channel vector broadcasts as)."""
    return (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _check(x, mean, variance):
    if x.ndim < 2:
        raise ValueError(f"BatchNorm needs an input with at least 2 axes (N, C, ...), got shape {x.shape}")
    c = x.shape[1]
    if mean.shape != (c,) or variance.shape != (c,):
        raise ValueError(
            f"BatchNorm blobs have shapes {mean.shape} and {variance.shape} but the input has {c} channels; "
            f"mean and variance must both be ({c},)"
        )
    return c


def _global_stats(mean, variance, scale_factor):
    s = float(scale_factor.reshape(-1)[0]) if hasattr(scale_factor, "reshape") else float(scale_factor)
    factor = 0.0 if s == 0 else 1.0 / s  # Caffe's rule: a zero factor gives zero statistics
    return mean * factor, variance * factor


def _update_running(mean, variance, scale_factor, mu, var, m, maf):
    if not hasattr(scale_factor, "shape"):
        raise TypeError("training BatchNorm updates its blobs in place: pass scale_factor as an array of shape (1,)")
    scale_factor *= maf
    scale_factor += 1
    mean *= maf
    mean += mu
    variance *= maf
    variance += var * (m / (m - 1) if m > 1 else 1.0)  # the running variance is unbiased


def affine(mean, variance, scale_factor, eps=1e-5):
    """The global-statistics form as y = x * k + shift per channel: k = 1/std, shift = -mu/std (for folding it into
    the convolution before it: minidream/engine/plans.py)."""
    mu, var = _global_stats(mean, variance, scale_factor)
    k = 1 / np.sqrt(var.astype(np.float64) + eps)
    return k, -mu * k


def forward(x, mean, variance, scale_factor, eps=1e-5, use_global_stats=True, moving_average_fraction=0.999):
    xp = get_array_module(x)
    _check(x, mean, variance)
    axes, shape = _layout(x)
    if use_global_stats:
        mu, var = _global_stats(mean, variance, scale_factor)
        centered = x - mu.reshape(shape)
    else:
        mu = x.mean(axis=axes)
        centered = x - mu.reshape(shape)
        var = (centered * centered).mean(axis=axes)
        _update_running(mean, variance, scale_factor, mu, var, x.size // x.shape[1], moving_average_fraction)
    std = xp.sqrt(var + eps).astype(x.dtype)
    y = centered / std.reshape(shape)
    return y, (y, std, use_global_stats)


def backward(dy, cache):
    y, std, use_global_stats = cache
    axes, shape = _layout(y)
    if use_global_stats:
        return dy / std.reshape(shape)
    dx = dy - dy.mean(axis=axes, keepdims=True) - (dy * y).mean(axis=axes, keepdims=True) * y
    return dx / std.reshape(shape)


def forward_naive(x, mean, variance, scale_factor, eps=1e-5, use_global_stats=True, moving_average_fraction=0.999):
    c = _check(x, mean, variance)
    y, std = np.empty_like(x), np.empty(c, dtype=x.dtype)
    mus, variances = np.empty(c, dtype=x.dtype), np.empty(c, dtype=x.dtype)
    for ch in range(c):
        values = x[:, ch].reshape(-1)
        m = len(values)
        if use_global_stats:
            s = float(np.asarray(scale_factor).reshape(-1)[0])
            mu, var = (mean[ch] / s, variance[ch] / s) if s != 0 else (0.0, 0.0)
        else:
            mu = sum(values) / m
            var = sum((v - mu) ** 2 for v in values) / m
        mus[ch], variances[ch] = mu, var
        std[ch] = (var + eps) ** 0.5
        y[:, ch] = (x[:, ch] - mu) / std[ch]
    if not use_global_stats:
        m = x.size // c
        _update_running(mean, variance, scale_factor, mus, variances, m, moving_average_fraction)
    return y, (x, y, std, use_global_stats)


def backward_naive(dy, cache):
    """The chain rule written out through mu and var: dx = dy/s - mean(dy)/s - (x - mu) mean(dy (x - mu)) / s^3."""
    x, _, std, use_global_stats = cache
    dx = np.empty_like(dy)
    for ch in range(x.shape[1]):
        g, xc, s = dy[:, ch], x[:, ch], std[ch]
        if use_global_stats:
            dx[:, ch] = g / s
            continue
        centered = xc - xc.mean()
        dx[:, ch] = g / s - g.mean() / s - centered * (g * centered).mean() / s**3
    return dx
