"""Local response normalization within a channel (Caffe "LRN" with norm_region: WITHIN_CHANNEL).

Caffe builds this mode out of other layers (src/caffe/layers/lrn_layer.cpp, LRNLayer::LayerSetUp): a Power layer
squares x, an AVE Pooling layer (kernel n x n, stride 1, pad (n-1)/2) averages the squares over a spatial window,
a Power layer with power -beta, scale alpha, shift 1 turns that into a factor, and an Eltwise PROD multiplies it
into x. Written out, with n = local_size (odd, Caffe's check) and W(i, j) the n x n window centred on (i, j):

    s[i, j] = 1 + (alpha / n^2) * sum_{(p, q) in W(i, j), inside the image} x[p, q]^2
    y = x * s^(-beta)

Two Caffe facts are in that formula: k is NOT used (the Power layer's shift is the constant 1), and the average
always divides by n^2: Caffe's AVE pooling counts the zero padding in its divisor, and with stride 1 and pad
(n-1)/2 no window ever reaches past the padded border, so even a corner pixel's sum of (n+1)^2/4 real squares is
divided by n^2.

Shapes: x, y (N, C, H, W).
Backward: y_ij depends on x_pq (p, q in W(i, j)) through s_ij, with ds_ij/dx_pq = (2 alpha / n^2) x_pq, so
    dx_pq = dy_pq s_pq^(-beta) - (2 alpha beta / n^2) x_pq * sum_{(i, j): (p, q) in W(i, j)} dy_ij y_ij / s_ij
and because the window is symmetric, {(i, j): (p, q) in W(i, j)} = W(p, q): the second sum is the same
zero-padded n x n box sum, applied to dy * y / s.
Fast path: the box sum is separable (n shifted slices down the rows, then n across the columns) and plain
array code, so one body serves NumPy and CuPy.
Cache: (x, y, s, s^-beta, n, alpha, beta).
"""
import numpy as np

from minidream.engine.backend import get_array_module


def _check(x, local_size):
    if local_size < 1 or local_size % 2 == 0:
        raise ValueError(f"LRN local_size must be a positive odd number (Caffe's rule), got {local_size}")
    if x.ndim != 4:
        raise ValueError(f"LRN needs a 4-D input (N, C, H, W), got shape {x.shape}")


def box_sum(a, size):
    """sum of a over the size x size window centred on each pixel, zeros outside the image; same shape as a."""
    xp = get_array_module(a)
    half = (size - 1) // 2
    n, c, h, w = a.shape
    padded = xp.zeros((n, c, h + 2 * half, w + 2 * half), dtype=a.dtype)
    padded[:, :, half:half + h, half:half + w] = a
    rows = padded[:, :, 0:h].copy()
    for shift in range(1, size):
        rows += padded[:, :, shift:shift + h]
    total = rows[:, :, :, 0:w].copy()
    for shift in range(1, size):
        total += rows[:, :, :, shift:shift + w]
    return total


def forward(x, local_size=5, alpha=1.0, beta=0.75):
    """alpha, beta, local_size default as in caffe.proto's LRNParameter; its k is not used by this mode."""
    _check(x, local_size)
    scale = box_sum(x * x, local_size)
    scale *= alpha / local_size**2
    scale += 1
    scale_pow = scale ** -beta
    y = x * scale_pow
    return y, (x, y, scale, scale_pow, local_size, alpha, beta)


def backward(dy, cache):
    x, y, scale, scale_pow, local_size, alpha, beta = cache
    spread = box_sum(dy * y / scale, local_size)
    spread *= x
    spread *= 2.0 * alpha * beta / local_size**2
    return dy * scale_pow - spread


def _caffe_window(i, size, pad, extent):
    """Caffe's AVE pooling window along one axis (stride 1): the rows summed and the divisor's factor."""
    start = i - pad
    end = min(start + size, extent + pad)  # clipped to the padded border only, so padding counts
    return max(start, 0), min(end, extent), end - start


def forward_naive(x, local_size=5, alpha=1.0, beta=0.75):
    _check(x, local_size)
    n, c, h, w = x.shape
    pad = (local_size - 1) // 2
    scale = np.empty_like(x)
    for i in range(h):
        r0, r1, rows = _caffe_window(i, local_size, pad, h)
        for j in range(w):
            c0, c1, cols = _caffe_window(j, local_size, pad, w)
            average = (x[:, :, r0:r1, c0:c1] ** 2).sum(axis=(2, 3)) / (rows * cols)
            scale[:, :, i, j] = 1 + alpha * average
    y = x * scale ** -beta
    return y, (x, y, scale, scale ** -beta, local_size, alpha, beta)


def backward_naive(dy, cache):
    """Every output (i, j) sends dy back to each input (p, q) of its window through dy_ij/dx_pq."""
    x, _, scale, _, local_size, alpha, beta = cache
    _, _, h, w = x.shape
    pad = (local_size - 1) // 2
    dx = dy * scale ** -beta
    for i in range(h):
        r0, r1, rows = _caffe_window(i, local_size, pad, h)
        for j in range(w):
            c0, c1, cols = _caffe_window(j, local_size, pad, w)
            s = scale[:, :, i, j]
            through_s = dy[:, :, i, j] * x[:, :, i, j] * -beta * s ** (-beta - 1) * alpha * 2 / (rows * cols)
            dx[:, :, r0:r1, c0:c1] += through_s[:, :, None, None] * x[:, :, r0:r1, c0:c1]
    return dx
