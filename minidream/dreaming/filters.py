"""Resampling and smoothing for the dream loop; NumPy and CuPy arrays alike.

Both work on the last two axes of an array shaped (..., H, W), so one call handles a
(1, 3, H, W) network input or an (H, W) plane.
"""
import math

import numpy as np

from minidream.engine.backend import get_array_module


def octave_size(size, scale):
    """The size of the next smaller octave: round(H / scale), round(W / scale), at least 1.

    Python's round, because scipy.ndimage.zoom (which the original notebook used) sizes
    its output the same way.
    """
    return tuple(max(1, int(round(s / scale))) for s in size)


def resize_bilinear(x, size):
    """Linear interpolation of x (..., H, W) to (..., h, w), corners aligned.

    Output pixel i samples input coordinate i * (H - 1) / (h - 1) (0 when h == 1): the
    mapping of scipy.ndimage.zoom(order=1), which the original DeepDream notebook used for
    both the octave pyramid and upscaling the detail. No antialiasing, as there.
    """
    h, w = size
    return _lerp_axis(_lerp_axis(x, h, x.ndim - 2), w, x.ndim - 1)


def _lerp_axis(x, n, axis):
    m = x.shape[axis]
    if n == m:
        return x
    xp = get_array_module(x)
    pos = np.linspace(0.0, m - 1, n) if n > 1 else np.zeros(1)
    i0 = np.minimum(np.floor(pos).astype(np.int64), max(m - 2, 0))
    i1 = np.minimum(i0 + 1, m - 1)
    frac = (pos - i0).astype(x.dtype)
    shape = [1] * x.ndim
    shape[axis] = n
    frac = xp.asarray(frac).reshape(shape)
    a = xp.take(x, xp.asarray(i0), axis=axis)
    d = xp.take(x, xp.asarray(i1), axis=axis)
    d -= a  # a + (b - a) * frac in place: two output-sized arrays, not five (peak memory: docs/speed.md)
    d *= frac
    a += d
    return a


def gaussian_kernel(sigma):
    """Normalized 1-D Gaussian taps exp(-t^2 / (2 sigma^2)), t = -r..r with r = ceil(3 sigma)."""
    radius = max(1, int(math.ceil(3.0 * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def gaussian_blur(x, sigma):
    """Separable Gaussian blur of x (..., H, W) with std sigma pixels; edges reflected.

    sigma <= 0 returns x unchanged. Written as a sum of shifted slices so the same code
    runs on CuPy without a kernel of its own.
    """
    if sigma <= 0:
        return x
    taps = gaussian_kernel(sigma)
    for axis in (x.ndim - 2, x.ndim - 1):
        x = _convolve_axis(x, taps, axis)
    return x


def _convolve_axis(x, taps, axis):
    xp = get_array_module(x)
    radius = len(taps) // 2
    pad = [(0, 0)] * x.ndim
    pad[axis] = (radius, radius)
    # reflect needs at least 2 samples; a 1-pixel axis is constant anyway
    padded = xp.pad(x, pad, mode="reflect" if x.shape[axis] > 1 else "edge")
    n = x.shape[axis]
    out = xp.zeros_like(x)
    index = [slice(None)] * x.ndim
    for i, t in enumerate(taps):
        index[axis] = slice(i, i + n)
        out += float(t) * padded[tuple(index)]
    return out


def normalized(g):
    """g / mean(|g|) (g itself when it is all zeros): the scale the dream's update step uses."""
    xp = get_array_module(g)
    mean = xp.abs(g).mean()
    return g / mean if float(mean) > 0 else g


def tv_gradient(x):
    """Gradient of the anisotropic total variation sum |x[i+1, j] - x[i, j]| + |x[i, j+1] - x[i, j]| over
    the last two axes: sign(x - previous) - sign(next - x) along each axis (0 past the edges)."""
    xp = get_array_module(x)
    g = xp.zeros_like(x)
    for axis in (x.ndim - 2, x.ndim - 1):
        d = xp.sign(xp.diff(x, axis=axis))
        pad = [(0, 0)] * x.ndim
        g += xp.pad(d, [(1, 0) if i == axis else p for i, p in enumerate(pad)])
        g -= xp.pad(d, [(0, 1) if i == axis else p for i, p in enumerate(pad)])
    return g
